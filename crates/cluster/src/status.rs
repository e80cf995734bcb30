//! `faultline cluster status`: what the cluster itself says, read from JetStream (no protocol of
//! our own): the leader lease, the observation stream (size, replicas, which node leads it),
//! each correlator's consumer lag, and per zone subject the last batch (when, from which poller).

use async_nats::jetstream::Context;
use async_nats::jetstream::stream::Stream;
use futures::StreamExt;
use serde::Serialize;

use crate::lease::{LeaseRecord, current_leader};
use crate::wire::WireBatch;
use crate::{ClusterError, STREAM, SUBJECTS, stream_exists};

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    /// The correlators' leader lease, if held.
    pub leader: Option<LeaderStatus>,
    /// The observation stream, if it exists yet.
    pub stream: Option<StreamStatus>,
    /// Each consumer of the stream (one per correlator).
    pub consumers: Vec<ConsumerStatus>,
    /// Each zone that published, by subject.
    pub zones: Vec<ZoneStatus>,
}

/// Who leads and for how long yet.
#[derive(Debug, Clone, Serialize)]
pub struct LeaderStatus {
    /// The holding correlator's name.
    pub holder: String,
    /// Since when it holds the lease (ms since the epoch).
    pub since: u64,
    /// Milliseconds before the lease expires unless renewed.
    pub lease_left_ms: u64,
    /// The lease's time to live (ms).
    pub ttl_ms: u64,
}

/// The observation stream.
#[derive(Debug, Clone, Serialize)]
pub struct StreamStatus {
    pub name: String,
    pub messages: u64,
    pub bytes: u64,
    pub last_seq: u64,
    /// The node leading the stream's replicas (`None` during an election).
    pub leader: Option<String>,
    /// Every replica: the leader first, then each follower with its state.
    pub replicas: Vec<ReplicaStatus>,
}

/// One replica of the stream.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaStatus {
    pub node: String,
    /// Whether it is up to date with the leader.
    pub current: bool,
    pub offline: bool,
    /// Operations behind the leader, when known.
    pub lag: Option<u64>,
}

/// One consumer of the stream.
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerStatus {
    pub name: String,
    /// Messages not yet delivered to it: its lag.
    pub num_pending: u64,
    /// Delivered, not yet acknowledged (journaled).
    pub ack_pending: usize,
    /// The last stream sequence number delivered to it.
    pub delivered_seq: u64,
}

/// A zone's subject and its last batch.
#[derive(Debug, Clone, Serialize)]
pub struct ZoneStatus {
    pub subject: String,
    /// Messages the stream holds on it.
    pub messages: u64,
    /// When the last batch was stored (ms since the epoch).
    pub last_at: Option<u64>,
    /// The poller that published it.
    pub poller: Option<String>,
    /// Its zone, as the batch names it.
    pub zone: Option<String>,
}

fn millis(t: async_nats::jetstream::message::StreamMessage) -> u64 {
    u64::try_from(t.time.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

fn stream_error(e: impl std::fmt::Display) -> ClusterError {
    ClusterError::Stream(e.to_string())
}

/// Read the cluster's status.
pub async fn cluster_status(js: &Context) -> Result<ClusterStatus, ClusterError> {
    let leader = current_leader(js)
        .await?
        .map(|r: LeaseRecord| LeaderStatus {
            lease_left_ms: r.left_ms(faultline_observe::time::now_ms()),
            holder: r.holder,
            since: r.since,
            ttl_ms: r.ttl_ms,
        });
    let mut status = ClusterStatus {
        leader,
        stream: None,
        consumers: Vec::new(),
        zones: Vec::new(),
    };
    if !stream_exists(js, STREAM).await? {
        return Ok(status);
    }
    let mut stream = js.get_stream(STREAM).await.map_err(stream_error)?;
    let info = stream.info().await.map_err(stream_error)?.clone();
    let cluster = info.cluster.clone();
    let leader = cluster.as_ref().and_then(|c| c.leader.clone());
    let mut replicas: Vec<ReplicaStatus> = leader
        .iter()
        .map(|l| ReplicaStatus {
            node: l.clone(),
            current: true,
            offline: false,
            lag: Some(0),
        })
        .collect();
    for p in cluster.map(|c| c.replicas).unwrap_or_default() {
        replicas.push(ReplicaStatus {
            node: p.name,
            current: p.current,
            offline: p.offline,
            lag: p.lag,
        });
    }
    status.stream = Some(StreamStatus {
        name: STREAM.to_string(),
        messages: info.state.messages,
        bytes: info.state.bytes,
        last_seq: info.state.last_sequence,
        leader,
        replicas,
    });
    status.consumers = consumers(&stream).await?;
    status.zones = zones(&stream).await?;
    Ok(status)
}

async fn consumers(stream: &Stream) -> Result<Vec<ConsumerStatus>, ClusterError> {
    let mut list = stream.consumers();
    let mut out = Vec::new();
    while let Some(c) = list.next().await {
        let c = c.map_err(|e| ClusterError::Consumer(e.to_string()))?;
        out.push(ConsumerStatus {
            name: c.name,
            num_pending: c.num_pending,
            ack_pending: c.num_ack_pending,
            delivered_seq: c.delivered.stream_sequence,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

async fn zones(stream: &Stream) -> Result<Vec<ZoneStatus>, ClusterError> {
    let mut subjects = stream
        .info_with_subjects(SUBJECTS)
        .await
        .map_err(stream_error)?;
    let mut counts = Vec::new();
    while let Some(s) = subjects.next().await {
        counts.push(s.map_err(stream_error)?);
    }
    counts.sort();
    let mut out = Vec::new();
    for (subject, messages) in counts {
        let last = stream.get_last_raw_message_by_subject(&subject).await.ok();
        let batch = last
            .as_ref()
            .and_then(|m| WireBatch::decode(&m.payload).ok());
        out.push(ZoneStatus {
            messages: messages as u64,
            last_at: last.map(millis),
            poller: batch.as_ref().map(|b| b.id.poller.clone()),
            zone: batch.map(|b| b.zone.to_string()),
            subject,
        });
    }
    Ok(out)
}
