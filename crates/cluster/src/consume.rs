//! A correlator's consumer: a durable pull consumer on [`STREAM`](crate::STREAM), one per
//! correlator ([`durable_for`]), that hands out batches in stream order; each is acknowledged
//! by the caller once journaled.

use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::{Context, Message};
use futures::StreamExt;

use crate::wire::WireBatch;
use crate::{ClusterError, DURABLE, ensure_stream};

/// Messages delivered and not yet acknowledged: the correlator's journal writes in between.
/// Enough to keep the pipe full at one journal fsync per few batches.
const MAX_ACK_PENDING: i64 = 4_096;

/// Messages asked for per pull request.
const PULL_BATCH: usize = 512;

/// A pull request's life on the server. Short: after a lost connection (a whole cluster
/// restarted) a stale request stops capturing messages within this, and a consumer bound again
/// gets them.
const PULL_EXPIRES: Duration = Duration::from_secs(5);

/// The server's idle heartbeat on a pull request; two missed ones end the subscription with an
/// error, and the correlator binds again.
const PULL_HEARTBEAT: Duration = Duration::from_secs(1);

/// How long a delivered, unacknowledged batch waits before JetStream delivers it again (the
/// correlator died before journaling it, or it went to a subscription lost in an outage).
const ACK_WAIT: Duration = Duration::from_secs(10);

/// The durable consumer of the correlator named `name`: each correlator (the leader and its
/// standbys) reads the whole stream through its own, so that each engine sees every batch in
/// stream order, and a restarted one resumes after what it acknowledged (journaled).
pub fn durable_for(name: &str) -> String {
    format!("{DURABLE}-{name}")
}

/// One batch from the stream with what acknowledges it.
pub struct Delivery {
    /// The batch.
    pub batch: WireBatch,
    /// The stream sequence number of its message.
    pub stream_seq: u64,
    message: Message,
}

impl Delivery {
    /// Tell JetStream the batch is safe (journaled): it is not delivered again.
    pub async fn ack(self) -> Result<(), ClusterError> {
        self.message
            .ack()
            .await
            .map_err(|e| ClusterError::Consumer(e.to_string()))
    }
}

/// Reads the stream through the durable consumer `DURABLE`.
pub struct Consumer {
    messages: pull::Stream,
}

impl Consumer {
    /// Bind (creating if missing) the stream and the durable consumer `durable`
    /// ([`durable_for`]), delivering from the first message it has not had acknowledged.
    pub async fn bind(
        js: &Context,
        replicas: usize,
        durable: &str,
    ) -> Result<Consumer, ClusterError> {
        let stream = ensure_stream(js, replicas).await?;
        let consumer: async_nats::jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                durable,
                pull::Config {
                    durable_name: Some(durable.to_string()),
                    ack_policy: AckPolicy::Explicit,
                    deliver_policy: DeliverPolicy::All,
                    max_ack_pending: MAX_ACK_PENDING,
                    ack_wait: ACK_WAIT,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| ClusterError::Consumer(e.to_string()))?;
        let messages = consumer
            .stream()
            .max_messages_per_batch(PULL_BATCH)
            .expires(PULL_EXPIRES)
            .heartbeat(PULL_HEARTBEAT)
            .messages()
            .await
            .map_err(|e| ClusterError::Consumer(e.to_string()))?;
        Ok(Consumer { messages })
    }

    /// The next batch in stream order. An undecodable message is acknowledged (it would come
    /// back forever) and skipped with a warning. `None` when the subscription ended.
    pub async fn next(&mut self) -> Option<Result<Delivery, ClusterError>> {
        loop {
            let message = match self.messages.next().await? {
                Ok(m) => m,
                Err(e) => return Some(Err(ClusterError::Consumer(e.to_string()))),
            };
            let stream_seq = message.info().map(|i| i.stream_sequence).unwrap_or(0);
            match WireBatch::decode(&message.payload) {
                Ok(batch) => {
                    return Some(Ok(Delivery {
                        batch,
                        stream_seq,
                        message,
                    }));
                }
                Err(e) => {
                    tracing::warn!(stream_seq, error = %e, "undecodable batch skipped");
                    let _ = message.ack().await;
                }
            }
        }
    }
}
