//! What travels on the stream: one JSON batch of observations per message, with the id that
//! de-duplicates it.

use faultline_observe::Observation;
use serde::{Deserialize, Serialize};

/// Longest zone name: it is a subject token and a label in every page.
const MAX_ZONE_LEN: usize = 64;

/// A zone's name: a NATS subject token (letters, digits, `-`, `_`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ZoneName(String);

impl ZoneName {
    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ZoneName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= MAX_ZONE_LEN
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(ZoneName(s))
        } else {
            Err(format!(
                "zone `{s}`: 1 to {MAX_ZONE_LEN} letters, digits, `-` or `_`"
            ))
        }
    }
}

impl From<ZoneName> for String {
    fn from(z: ZoneName) -> String {
        z.0
    }
}

impl std::fmt::Display for ZoneName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The subject a zone's pollers publish to.
pub fn subject_for(zone: &ZoneName) -> String {
    format!("faultline.obs.{zone}")
}

/// A batch's message id: the poller, the instant it started (so a restarted poller never reuses
/// an id inside the de-duplication window) and its sequence number there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchId {
    /// The publishing poller's name.
    pub poller: String,
    /// When that poller process started (ms since the epoch).
    pub boot: u64,
    /// The batch's number since then.
    pub seq: u64,
}

impl BatchId {
    /// The `Nats-Msg-Id` header value.
    pub fn msg_id(&self) -> String {
        format!("{}-{}-{}", self.poller, self.boot, self.seq)
    }
}

/// One published batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireBatch {
    pub id: BatchId,
    pub zone: ZoneName,
    /// When the batch was handed to the publisher (ms): the poll→engine latency starts here.
    pub sent: u64,
    pub observations: Vec<Observation>,
}

impl WireBatch {
    /// The JSON payload.
    pub fn encode(&self) -> Result<bytes::Bytes, serde_json::Error> {
        serde_json::to_vec(self).map(bytes::Bytes::from)
    }

    /// A payload back; an undecodable one is an error, never a panic.
    pub fn decode(payload: &[u8]) -> Result<WireBatch, serde_json::Error> {
        serde_json::from_slice(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_observe::{Signal, Subject};

    #[test]
    fn zone_names_are_subject_tokens() {
        assert!(ZoneName::try_from("dmz-1".to_string()).is_ok());
        for bad in ["", "a.b", "a*", ">", "a b"] {
            assert!(ZoneName::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_batch_round_trips_and_garbage_is_an_error() {
        let b = WireBatch {
            id: BatchId {
                poller: "p1".into(),
                boot: 7,
                seq: 3,
            },
            zone: ZoneName::try_from("outside".to_string()).unwrap(),
            sent: 10,
            observations: vec![Observation::new(
                5,
                Subject::device("fw-a"),
                Signal::CollectorStarted,
            )],
        };
        assert_eq!(WireBatch::decode(&b.encode().unwrap()).unwrap(), b);
        assert_eq!(b.id.msg_id(), "p1-7-3");
        assert_eq!(subject_for(&b.zone), "faultline.obs.outside");
        assert!(WireBatch::decode(b"{not json").is_err());
    }
}
