//! The records of the outbox, dead-letter and paged tables.

use std::collections::BTreeMap;

use faultline_incident::{Incident, IncidentTransition};
use faultline_observe::UnixMillis;
use serde::{Deserialize, Serialize};

/// One pending delivery of one transition to one receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Outbox sequence: global enqueue order, never reused.
    pub id: u64,
    /// Receiver name (from the notify config).
    pub receiver: String,
    /// What to deliver: the incident as it was at this transition.
    pub transition: IncidentTransition,
    /// When it was enqueued.
    pub enqueued_at: UnixMillis,
    /// Failed delivery attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// The last failure, for the operator (`faultline outbox`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Identity labels pinned when the incident was first paged at this receiver (Alertmanager
    /// identifies an alert by its label set, so update and resolve must reuse them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// A delivery the receiver refused permanently, with its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The entry as it stood at the last attempt.
    pub entry: OutboxEntry,
    /// HTTP status of the refusal, if there was one.
    pub status: Option<u16>,
    /// The receiver's answer (body, truncated by the caller).
    pub answer: String,
    /// When it was given up on.
    pub at: UnixMillis,
}

/// An incident currently open ("paged") at a receiver: a trigger was enqueued there and no
/// resolve yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PagedRecord {
    /// Receiver name.
    pub receiver: String,
    /// The latest snapshot sent (or queued) to the receiver.
    pub incident: Incident,
    /// Identity labels pinned at the first trigger.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When the first trigger was enqueued.
    pub since: UnixMillis,
}
