//! What the leading correlator paged, shared with its standbys: one key per receiver and
//! incident in the JetStream key-value bucket `faultline_paged`, holding the highest transition
//! sequence number delivered there. Delivery is ordered per incident and receiver, so that one
//! number says every earlier transition was settled too.
//!
//! The leader writes it after each delivery (before recording the delivery in its own store);
//! a correlator taking over reads the whole bucket before it delivers anything, and then skips
//! every outbox entry at or below its receiver's and incident's number. A leader killed between
//! a receiver's answer and this write leaves one page to be sent again: receivers de-duplicate
//! by incident id (the PagerDuty `dedup_key`, the Alertmanager alert's labels, the webhook's
//! `incident.id`).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_nats::jetstream::Context;
use async_nats::jetstream::kv::{Operation, Store};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::ClusterError;

/// The bucket of delivered transitions.
pub const PAGED_BUCKET: &str = "faultline_paged";

/// Compare-and-set attempts of one record before giving up (only a demoted leader's late write
/// races with the new leader's).
const RECORD_ATTEMPTS: usize = 3;

/// One key's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PagedEntry {
    receiver: String,
    incident: String,
    seq: u64,
}

/// A key for `receiver` and `incident`: both hex-encoded (incident ids hold `@`, receiver names
/// anything; keys allow letters, digits, `-_=./` only).
fn key(receiver: &str, incident: &str) -> String {
    let hex = |s: &str| faultline_observe::octets::hex(s.as_bytes(), "");
    format!("{}.{}", hex(receiver), hex(incident))
}

fn paged_error(e: impl std::fmt::Display) -> ClusterError {
    ClusterError::Paged(e.to_string())
}

/// The bucket, and what this process knows of it: every (receiver, incident) pair's highest
/// delivered sequence number.
pub struct PagedLog {
    kv: Store,
    known: Mutex<HashMap<(String, String), u64>>,
}

impl PagedLog {
    /// Open (creating if missing) the bucket.
    pub async fn open(js: &Context, replicas: usize) -> Result<PagedLog, ClusterError> {
        let kv = crate::kv::bucket(
            js,
            PAGED_BUCKET,
            "faultline: transitions the leading correlator delivered",
            std::time::Duration::ZERO,
            replicas,
        )
        .await
        .map_err(paged_error)?;
        Ok(PagedLog {
            kv,
            known: Mutex::new(HashMap::new()),
        })
    }

    fn known(&self) -> MutexGuard<'_, HashMap<(String, String), u64>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn learn(&self, e: PagedEntry) {
        let mut known = self.known();
        let seq = known.entry((e.receiver, e.incident)).or_insert(0);
        *seq = (*seq).max(e.seq);
    }

    /// Read the whole bucket (a correlator about to lead). Returns the number of pairs known.
    pub async fn load(&self) -> Result<usize, ClusterError> {
        let mut keys = self.kv.keys().await.map_err(paged_error)?;
        let mut names = Vec::new();
        while let Some(k) = keys.next().await {
            names.push(k.map_err(paged_error)?);
        }
        for k in names {
            if let Some(v) = self.kv.get(&k).await.map_err(paged_error)?
                && let Ok(e) = serde_json::from_slice::<PagedEntry>(&v)
            {
                self.learn(e);
            }
        }
        Ok(self.known().len())
    }

    /// Whether transition `seq` of `incident` was delivered to `receiver`, as far as known.
    pub fn already_paged(&self, receiver: &str, incident: &str, seq: u64) -> bool {
        self.known()
            .get(&(receiver.to_string(), incident.to_string()))
            .is_some_and(|&have| have >= seq)
    }

    /// Record the delivery of transition `seq` of `incident` to `receiver`: kept at once in
    /// memory, and in the bucket unless it already holds as much.
    pub async fn record(
        &self,
        receiver: &str,
        incident: &str,
        seq: u64,
    ) -> Result<(), ClusterError> {
        let entry = PagedEntry {
            receiver: receiver.to_string(),
            incident: incident.to_string(),
            seq,
        };
        self.learn(entry.clone());
        let k = key(receiver, incident);
        let value = bytes::Bytes::from(serde_json::to_vec(&entry)?);
        let mut last = String::new();
        for _ in 0..RECORD_ATTEMPTS {
            let current = self.kv.entry(k.as_str()).await.map_err(paged_error)?;
            // Tried again after losing a race (another writer got in between) and after any
            // other error too: a record missing at a takeover is a page sent twice, and a
            // NATS error while a node is lost is usually gone on the next try.
            let failure = match current.filter(|e| e.operation == Operation::Put) {
                Some(e) => {
                    let have = serde_json::from_slice::<PagedEntry>(&e.value).map(|h| h.seq);
                    if have.is_ok_and(|h| h >= seq) {
                        return Ok(());
                    }
                    match self.kv.update(&k, value.clone(), e.revision).await {
                        Ok(_) => return Ok(()),
                        Err(e) => e.to_string(),
                    }
                }
                None => match self.kv.create(&k, value.clone()).await {
                    Ok(_) => return Ok(()),
                    Err(e) => e.to_string(),
                },
            };
            last = failure;
        }
        Err(paged_error(format!(
            "{incident} at {receiver}: not recorded after {RECORD_ATTEMPTS} tries: {last}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_and_distinct() {
        let a = key("oncall", "portal@1700000000000");
        let b = key("oncal", "lportal@1700000000000");
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'));
    }
}
