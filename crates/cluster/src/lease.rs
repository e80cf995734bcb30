//! The correlators' leader lease: one key in a JetStream key-value bucket whose `max_age` is the
//! lease's time to live. A correlator takes the lease by creating the key (which succeeds only
//! when it is absent: never held, released, or expired because its holder stopped renewing) and
//! keeps it by updating it with the revision it last wrote, every third of the TTL. A renewal
//! that fails or does not answer within a third of the TTL demotes the holder at once, well
//! before the key can expire and let another correlator in, so two never page together.

use std::time::Duration;

use async_nats::jetstream::Context;
use async_nats::jetstream::kv::{Store, UpdateErrorKind};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use faultline_observe::time::now_ms;

use crate::ClusterError;

/// The bucket holding the lease.
pub const LEASE_BUCKET: &str = "faultline_leader";

/// The lease's key.
const LEASE_KEY: &str = "correlator";

/// What the lease key holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// The holding correlator's name (`[cluster] name`).
    pub holder: String,
    /// This holding's token: the holder's name and process start, so that a restarted process
    /// of the same name never mistakes an older holding for its own.
    pub token: String,
    /// When the holder took the lease (ms since the epoch).
    pub since: u64,
    /// When it last renewed it (ms since the epoch, the holder's clock).
    pub renewed: u64,
    /// The lease's time to live (ms): it ends at `renewed + ttl_ms` unless renewed.
    pub ttl_ms: u64,
}

impl LeaseRecord {
    /// Milliseconds left at `now` before the lease expires unless renewed (0 when past).
    pub fn left_ms(&self, now: u64) -> u64 {
        // Saturating: the record is read back from the KV store, whatever wrote it.
        self.renewed.saturating_add(self.ttl_ms).saturating_sub(now)
    }
}

/// Who competes for the lease and how long it lasts.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// This correlator's name.
    pub name: String,
    /// The lease's time to live.
    pub ttl: Duration,
    /// Replicas of the bucket when it is created.
    pub replicas: usize,
}

impl LeaseSettings {
    /// How often the holder renews: a third of the TTL.
    pub fn renew_every(&self) -> Duration {
        self.ttl / 3
    }

    /// How often a follower tries to take the lease: a tenth of the TTL (at least 100 ms), so
    /// that a lease left to expire is taken within about one TTL.
    pub fn follow_every(&self) -> Duration {
        (self.ttl / 10).max(Duration::from_millis(100))
    }
}

/// The lease bucket, created if missing with `max_age` = the TTL (an existing bucket with
/// another TTL is updated to this one).
pub async fn lease_bucket(js: &Context, settings: &LeaseSettings) -> Result<Store, ClusterError> {
    crate::kv::bucket(
        js,
        LEASE_BUCKET,
        "faultline correlators' leader lease",
        settings.ttl,
        settings.replicas,
    )
    .await
    .map_err(lease_error)
}

fn lease_error(e: impl std::fmt::Display) -> ClusterError {
    ClusterError::Lease(e.to_string())
}

/// The current holder, if any (`cluster status`).
pub async fn current_leader(js: &Context) -> Result<Option<LeaseRecord>, ClusterError> {
    if !crate::stream_exists(js, &format!("KV_{LEASE_BUCKET}")).await? {
        return Ok(None);
    }
    let kv = js.get_key_value(LEASE_BUCKET).await.map_err(lease_error)?;
    let value = kv.get(LEASE_KEY).await.map_err(lease_error)?;
    Ok(value.and_then(|v| serde_json::from_slice(&v).ok()))
}

/// One correlator's side of the lease.
pub struct Lease {
    kv: Store,
    settings: LeaseSettings,
    token: String,
    /// The revision this process last wrote, while it holds the lease.
    revision: Option<u64>,
    since: u64,
}

impl Lease {
    /// Open (creating if missing) the lease bucket for `settings.name`.
    pub async fn open(js: &Context, settings: LeaseSettings) -> Result<Lease, ClusterError> {
        let kv = lease_bucket(js, &settings).await?;
        let token = format!("{}-{}", settings.name, now_ms());
        Ok(Lease {
            kv,
            settings,
            token,
            revision: None,
            since: 0,
        })
    }

    /// Whether this process holds the lease (as far as its last write knows).
    pub fn held(&self) -> bool {
        self.revision.is_some()
    }

    fn record(&self, now: u64) -> Result<bytes::Bytes, ClusterError> {
        let r = LeaseRecord {
            holder: self.settings.name.clone(),
            token: self.token.clone(),
            since: self.since,
            renewed: now,
            ttl_ms: u64::try_from(self.settings.ttl.as_millis()).unwrap_or(u64::MAX),
        };
        Ok(bytes::Bytes::from(serde_json::to_vec(&r)?))
    }

    /// Take the lease if nobody holds it (or this very holding does, after a renewal whose
    /// answer was lost). `Ok(true)` when held.
    pub async fn try_acquire(&mut self, now: u64) -> Result<bool, ClusterError> {
        self.since = now;
        let value = self.record(now)?;
        let timeout = self.settings.renew_every();
        let created = tokio::time::timeout(timeout, self.kv.create(LEASE_KEY, value.clone()))
            .await
            .map_err(|_| lease_error("create timed out"))?;
        if let Ok(revision) = created {
            self.revision = Some(revision);
            return Ok(true);
        }
        let entry = tokio::time::timeout(timeout, self.kv.entry(LEASE_KEY))
            .await
            .map_err(|_| lease_error("read timed out"))?
            .map_err(lease_error)?;
        let mine = entry.as_ref().and_then(|e| {
            let r: LeaseRecord = serde_json::from_slice(&e.value).ok()?;
            (r.token == self.token).then_some(e.revision)
        });
        let Some(revision) = mine else {
            return Ok(false);
        };
        let updated = tokio::time::timeout(timeout, self.kv.update(LEASE_KEY, value, revision))
            .await
            .map_err(|_| lease_error("update timed out"))?;
        self.revision = updated.ok();
        Ok(self.revision.is_some())
    }

    /// Renew the held lease. Any failure (another holder, no answer within a third of the TTL)
    /// gives it up: `Ok(false)` or an error, and [`held`](Self::held) is then false.
    pub async fn renew(&mut self, now: u64) -> Result<bool, ClusterError> {
        let Some(revision) = self.revision.take() else {
            return Ok(false);
        };
        let value = self.record(now)?;
        let updated = tokio::time::timeout(
            self.settings.renew_every(),
            self.kv.update(LEASE_KEY, value, revision),
        )
        .await
        .map_err(|_| lease_error("renewal timed out"))?;
        match updated {
            Ok(revision) => {
                self.revision = Some(revision);
                Ok(true)
            }
            Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => Ok(false),
            Err(e) => Err(lease_error(e)),
        }
    }

    /// Give the lease up (a graceful stop), so that a standby takes it at once.
    pub async fn release(&mut self) {
        if let Some(revision) = self.revision.take() {
            let deleted = self
                .kv
                .delete_expect_revision(LEASE_KEY, Some(revision))
                .await;
            if let Err(e) = deleted {
                warn!(error = %e, "releasing the leader lease failed; it expires by itself");
            }
        }
    }

    /// Compete for the lease until `stop`: `leading` turns true once held and `gained`
    /// succeeded (the new leader's preparation: what the old one paged), false at once when a
    /// renewal fails. Released at `stop`.
    pub async fn run<F, Fut>(
        mut self,
        leading: watch::Sender<bool>,
        stop: CancellationToken,
        mut gained: F,
    ) where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let name = self.settings.name.clone();
        loop {
            let wait = if self.held() {
                self.settings.renew_every()
            } else {
                self.settings.follow_every()
            };
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
            }
            let now = now_ms();
            if self.held() {
                let lost = match self.renew(now).await {
                    Ok(true) => None,
                    Ok(false) => Some("taken by another correlator".to_string()),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(why) = lost {
                    leading.send_replace(false);
                    warn!(correlator = %name, error = %why, "leader lease lost: no longer paging");
                }
                continue;
            }
            match self.try_acquire(now).await {
                // Renewed once more after the preparation, which may have taken a while: the
                // lease is surely still this process's when paging starts.
                Ok(true) if gained().await && self.renew(now_ms()).await.unwrap_or(false) => {
                    info!(correlator = %name, "took the leader lease: paging");
                    leading.send_replace(true);
                }
                Ok(true) => {
                    warn!(correlator = %name, "took the lease but could not prepare (read what was paged) in time; giving it back");
                    self.release().await;
                }
                Ok(false) => {}
                Err(e) => warn!(correlator = %name, error = %e, "leader lease unreachable"),
            }
        }
        leading.send_replace(false);
        self.release().await;
    }
}
