//! faultline's distributed shape: pollers in several zones publish observation batches to NATS
//! JetStream, one correlator consumes them in stream order and feeds its engine.
//!
//! ```text
//!  poller (zone inside)  ─┐  faultline.obs.inside    ┌──────────────┐
//!  poller (zone outside) ─┼─► faultline.obs.outside ─► FAULTLINE_OBS ─► durable pull consumer
//!   (disk buffer while    │                          │  (3 replicas) │   ─► correlator's engine
//!    NATS is unreachable) ┘                          └──────────────┘      task (journal, ack)
//! ```
//!
//! The engine is a deterministic function of its observation stream, so the stream is the
//! journal's source: every batch carries a message id (`Nats-Msg-Id`) so that a retried publish is
//! stored once, and the observations keep their poll times.
//!
//! This crate knows nothing of the collector: [`Publisher`] takes observation batches from a
//! channel, [`Consumer`] hands out [`Delivery`]s to be acknowledged once journaled.
//!
//! Several correlators may follow the stream (each its own durable consumer, so each engine
//! sees every batch in order and opens the same incidents under the same ids); one holds the
//! [`Lease`] and pages, and records each delivery in the [`PagedLog`], so that a standby taking
//! over sends what the old leader did not, and nothing it did. [`status`] answers
//! `faultline cluster status`.

mod buffer;
mod consume;
mod kv;
mod lease;
mod paged;
mod publish;
pub mod status;
mod wire;

use std::time::Duration;

pub use buffer::{BufferBound, DiskBuffer};
pub use consume::{Consumer, Delivery, durable_for};
pub use lease::{LEASE_BUCKET, Lease, LeaseRecord, LeaseSettings, current_leader};
pub use paged::{PAGED_BUCKET, PagedLog};
pub use publish::{Publisher, PublisherStats, StatsSnapshot};
pub use wire::{BatchId, WireBatch, ZoneName, subject_for};

/// The JetStream stream holding every zone's observations.
pub const STREAM: &str = "FAULTLINE_OBS";

/// The subjects of [`STREAM`]: `faultline.obs.<zone>`.
pub const SUBJECTS: &str = "faultline.obs.>";

/// The prefix of each correlator's durable consumer: `faultline-correlator-<name>`.
pub const DURABLE: &str = "faultline-correlator";

/// How long a JetStream request (publish acknowledgement, stream lookup) may take before the
/// publisher counts NATS as unreachable and buffers on disk. Short: a poll round must not wait.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// How often the client pings its server. Two unanswered pings end the connection and the
/// client reconnects: a poller whose link went down (no reset, packets just lost) notices
/// within seconds, and after the link returns it reconnects at once instead of waiting out
/// TCP's retransmission back-off on the dead connection (minutes after a long outage).
pub const PING_INTERVAL: Duration = Duration::from_secs(5);

/// Why a cluster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("NATS connect to {servers}: {source}")]
    Connect {
        servers: String,
        source: async_nats::ConnectError,
    },
    #[error("JetStream stream {STREAM}: {0}")]
    Stream(String),
    #[error("JetStream consumer: {0}")]
    Consumer(String),
    #[error("leader lease ({LEASE_BUCKET}): {0}")]
    Lease(String),
    #[error("paged record ({PAGED_BUCKET}): {0}")]
    Paged(String),
    #[error("publish: {0}")]
    Publish(String),
    #[error("disk buffer {path}: {source}")]
    Buffer {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("batch encoding: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Where and how to reach the cluster.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// Server URLs (`nats://127.0.0.1:4222`); the client reconnects to any of them.
    pub servers: Vec<String>,
    /// Replicas of the stream when it is created (1 to 5; 3 survives the loss of one node).
    pub replicas: usize,
}

/// Connect to the cluster. The connection is retried in the background when no server answers
/// yet (a poller starts and buffers while NATS is down).
pub async fn connect(opts: &NatsOptions) -> Result<async_nats::Client, ClusterError> {
    let servers = opts.servers.join(",");
    async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(REQUEST_TIMEOUT)
        .ping_interval(PING_INTERVAL)
        .max_reconnects(None)
        .connect(opts.servers.as_slice())
        .await
        .map_err(|source| ClusterError::Connect { servers, source })
}

/// Connect once, failing when no server answers within [`REQUEST_TIMEOUT`] (a command such as
/// `cluster status`, which must say NATS is unreachable rather than wait).
pub async fn connect_now(opts: &NatsOptions) -> Result<async_nats::Client, ClusterError> {
    let servers = opts.servers.join(",");
    async_nats::ConnectOptions::new()
        .connection_timeout(REQUEST_TIMEOUT)
        .connect(opts.servers.as_slice())
        .await
        .map_err(|source| ClusterError::Connect { servers, source })
}

/// A JetStream context whose requests time out after [`REQUEST_TIMEOUT`].
pub fn jetstream(client: async_nats::Client) -> async_nats::jetstream::Context {
    let mut js = async_nats::jetstream::new(client);
    js.set_timeout(REQUEST_TIMEOUT);
    js
}

/// Create [`STREAM`] if missing (file storage, `replicas` copies, de-duplication by message id
/// within the default two-minute window).
pub async fn ensure_stream(
    js: &async_nats::jetstream::Context,
    replicas: usize,
) -> Result<async_nats::jetstream::stream::Stream, ClusterError> {
    js.get_or_create_stream(async_nats::jetstream::stream::Config {
        name: STREAM.to_string(),
        subjects: vec![SUBJECTS.to_string()],
        num_replicas: replicas,
        storage: async_nats::jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| ClusterError::Stream(e.to_string()))
}

/// Whether stream `name` exists (`false` only when JetStream says it is not found).
pub async fn stream_exists(
    js: &async_nats::jetstream::Context,
    name: &str,
) -> Result<bool, ClusterError> {
    use async_nats::jetstream::ErrorCode;
    use async_nats::jetstream::context::GetStreamErrorKind;
    match js.get_stream(name).await {
        Ok(_) => Ok(true),
        Err(e) => match e.kind() {
            GetStreamErrorKind::JetStream(j) if j.error_code() == ErrorCode::STREAM_NOT_FOUND => {
                Ok(false)
            }
            _ => Err(ClusterError::Stream(format!("{name}: {e}"))),
        },
    }
}
