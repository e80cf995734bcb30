//! The distributed shape's glue between the collector (channels) and NATS JetStream
//! (`faultline-cluster`): the correlator's feed from the stream, and `faultline cluster status`.

use std::time::Duration;

use faultline_cluster::{Consumer, Delivery, NatsOptions, connect, jetstream};
use faultline_collector::FeedBatch;
use faultline_collector::config::ClusterSettings;
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

/// Batches handed to the engine task and not yet journaled: the depth of the pipeline between
/// the stream and the journal (each is acknowledged upstream once journaled, in order).
const FEED_QUEUE: usize = 1_024;

/// Wait before binding the consumer again after the stream or the connection failed.
const REBIND_WAIT: Duration = Duration::from_secs(1);

/// Pause after a consumer error (a leader election, a lost connection) before asking again.
const CONSUMER_ERROR_WAIT: Duration = Duration::from_millis(100);

/// The NATS options of a `[cluster]` section.
pub fn nats_options(c: &ClusterSettings) -> NatsOptions {
    NatsOptions {
        servers: c.nats.clone(),
        replicas: c.replicas.get() as usize,
    }
}

/// A correlator's feed, created with the collector and started once the collector runs (so that
/// a reload never has two feeds pulling from the durable consumer at once).
pub struct Feed {
    sender: mpsc::Sender<FeedBatch>,
    options: NatsOptions,
}

/// The feed's two ends: the receiver goes to the collector's `Shape::Correlator`.
pub fn feed(c: &ClusterSettings) -> (Feed, mpsc::Receiver<FeedBatch>) {
    let (sender, receiver) = mpsc::channel(FEED_QUEUE);
    (
        Feed {
            sender,
            options: nats_options(c),
        },
        receiver,
    )
}

impl Feed {
    /// Pull the stream into the collector until the collector stops (its receiver is dropped).
    pub fn start(self) {
        tokio::spawn(self.run());
    }

    async fn run(self) {
        let client = match connect(&self.options).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "correlator cannot reach NATS; no observations will arrive");
                return;
            }
        };
        let js = jetstream(client);
        while !self.sender.is_closed() {
            match Consumer::bind(&js, self.options.replicas).await {
                Ok(consumer) => {
                    tracing::debug!("correlator consuming the observation stream");
                    if self.pump(consumer).await.is_err() {
                        return;
                    }
                }
                Err(e) => warn!(error = %e, "cannot bind the stream consumer; retrying"),
            }
            tokio::time::sleep(REBIND_WAIT).await;
        }
    }

    /// Hand each delivery to the engine task and acknowledge it once journaled, in order.
    /// `Err` when the collector is gone; `Ok` when the subscription ended (bind again).
    async fn pump(&self, mut consumer: Consumer) -> Result<(), ()> {
        let (acks, pending) = mpsc::channel(FEED_QUEUE);
        let acker = tokio::spawn(ack_in_order(pending));
        let outcome = loop {
            // An error (missed heartbeats: the connection or the cluster was lost) or the end of
            // the subscription: bind again.
            let mut d = match consumer.next().await {
                Some(Ok(d)) => d,
                Some(Err(e)) => {
                    warn!(error = %e, "stream consumer error; binding again");
                    tokio::time::sleep(CONSUMER_ERROR_WAIT).await;
                    break Ok(());
                }
                None => break Ok(()),
            };
            let (done, journaled) = oneshot::channel();
            let batch = FeedBatch {
                zone: Some(d.batch.zone.to_string()),
                observations: std::mem::take(&mut d.batch.observations),
                journaled: Some(done),
            };
            if self.sender.send(batch).await.is_err() || acks.send((d, journaled)).await.is_err() {
                break Err(());
            }
        };
        drop(acks);
        let _ = acker.await;
        outcome
    }
}

/// Acknowledge each delivery once the engine task has journaled it. A batch that is never
/// journaled (the collector stopped) is not acknowledged: the stream delivers it again.
async fn ack_in_order(mut pending: mpsc::Receiver<(Delivery, oneshot::Receiver<()>)>) {
    while let Some((d, journaled)) = pending.recv().await {
        if journaled.await.is_err() {
            return;
        }
        if let Err(e) = d.ack().await {
            warn!(error = %e, "acknowledging a journaled batch failed (it may come again)");
        }
    }
}
