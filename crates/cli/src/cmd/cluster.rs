//! The distributed shape's glue between the collector (channels) and NATS JetStream
//! (`faultline-cluster`): a correlator's feed from the stream, and its leadership among the
//! correlators following the same stream (the lease, and the record of what the leader paged).
//! `faultline cluster status` is `cluster_status.rs`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use faultline_cluster::{
    BufferBound, Consumer, Delivery, DiskBuffer, Lease, LeaseSettings, NatsOptions, PagedLog,
    Publisher, ZoneName, connect, durable_for, jetstream,
};
use faultline_collector::config::ClusterSettings;
use faultline_collector::{FeedBatch, Leadership};
use faultline_notify::{PageGate, Recorded};
use faultline_observe::Observation;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Batches handed to the engine task and not yet journaled: the depth of the pipeline between
/// the stream and the journal (each is acknowledged upstream once journaled, in order).
const FEED_QUEUE: usize = 1_024;

/// Wait before binding the consumer again after the stream or the connection failed.
const REBIND_WAIT: Duration = Duration::from_secs(1);

/// The zone name under which correlators publish operators' actions (acknowledge, maintenance)
/// to the stream, `faultline.obs.operators`, so that every correlator applies them in order.
const OPERATORS: &str = "operators";

/// Operators' actions kept on disk while NATS is unreachable.
const ACTIONS_BUFFER: BufferBound = BufferBound(10_000);

/// Pause after a consumer error (a leader election, a lost connection) before asking again.
const CONSUMER_ERROR_WAIT: Duration = Duration::from_millis(100);

/// The NATS options of a `[cluster]` section.
pub fn nats_options(c: &ClusterSettings) -> NatsOptions {
    NatsOptions {
        servers: c.nats.clone(),
        replicas: c.replicas.get() as usize,
    }
}

/// This correlator's name: `[cluster] name`, else the host name (its characters outside
/// letters, digits, `-` and `_` made `-`). It names the lease holder and the stream consumer.
pub fn correlator_name(c: &ClusterSettings) -> Result<ZoneName, String> {
    let name = match &c.name {
        Some(n) => n.clone(),
        None => host_name()
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                    ch
                } else {
                    '-'
                }
            })
            .collect(),
    };
    ZoneName::try_from(name).map_err(|e| format!("[cluster] name: {}", e.replace("zone", "name")))
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "correlator".to_string())
}

/// A correlator's feed and leadership, created with the collector and started once the
/// collector runs (so that a reload never has two feeds pulling from the durable consumer at
/// once, nor two leases).
pub struct Feed {
    sender: mpsc::Sender<FeedBatch>,
    options: NatsOptions,
    durable: String,
    lease: LeaseSettings,
    leading: watch::Sender<bool>,
    gate: Arc<Gate>,
    /// The last stream sequence number handed to the engine: a redelivery of an earlier one
    /// (its acknowledgement was lost) is acknowledged, not fed twice.
    fed_seq: u64,
    /// Operators' actions from the API, to publish to the stream.
    actions: mpsc::Receiver<Vec<Observation>>,
    /// Where they wait while NATS is unreachable (`<store path>.actions`).
    actions_dir: PathBuf,
}

/// The feed's two ends and the leadership: they go to the collector's `Shape::Correlator`.
/// Nothing is opened or created before [`Feed::start`] (`run --check` comes through here).
pub fn feed(
    c: &ClusterSettings,
    store: &Path,
) -> Result<(Feed, mpsc::Receiver<FeedBatch>, Leadership), String> {
    let name = correlator_name(c)?;
    let (sender, receiver) = mpsc::channel(FEED_QUEUE);
    let (actions_to, actions) = mpsc::channel(FEED_QUEUE);
    let (leading, watching) = watch::channel(false);
    let gate = Arc::new(Gate::default());
    let options = nats_options(c);
    let lease = LeaseSettings {
        name: name.to_string(),
        ttl: c.lease_ms.get(),
        replicas: options.replicas,
    };
    let feed = Feed {
        sender,
        durable: durable_for(name.as_str()),
        options,
        lease,
        leading,
        gate: gate.clone(),
        fed_seq: 0,
        actions,
        actions_dir: store.with_extension("actions"),
    };
    let leadership = Leadership {
        leading: watching,
        gate,
        actions: Some(actions_to),
    };
    Ok((feed, receiver, leadership))
}

impl Feed {
    /// Pull the stream into the collector until the collector stops (its receiver is dropped),
    /// and compete for the lease until `stop`.
    pub fn start(self, stop: CancellationToken) {
        tokio::spawn(self.run(stop));
    }

    async fn run(mut self, stop: CancellationToken) {
        let client = match connect(&self.options).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "correlator cannot reach NATS; no observations will arrive");
                return;
            }
        };
        let js = jetstream(client);
        self.publish_actions(&js, stop.clone());
        tokio::spawn(lead(
            js.clone(),
            self.lease.clone(),
            self.gate.clone(),
            self.leading.clone(),
            stop,
        ));
        while !self.sender.is_closed() {
            match Consumer::bind(&js, self.options.replicas, &self.durable).await {
                Ok(consumer) => {
                    tracing::debug!(consumer = %self.durable, "correlator consuming the observation stream");
                    if self.pump(consumer).await.is_err() {
                        return;
                    }
                }
                Err(e) => warn!(error = %e, "cannot bind the stream consumer; retrying"),
            }
            tokio::time::sleep(REBIND_WAIT).await;
        }
    }

    /// Publish operators' actions to the stream (`faultline.obs.operators`, message ids by
    /// this correlator's name), buffered on disk while NATS is unreachable.
    fn publish_actions(&mut self, js: &async_nats::jetstream::Context, stop: CancellationToken) {
        let (_, actions) = mpsc::channel(1);
        let actions = std::mem::replace(&mut self.actions, actions);
        let buffer = match DiskBuffer::open(&self.actions_dir, ACTIONS_BUFFER) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "operators' actions cannot be published (acknowledgements and maintenance windows will not be taken)");
                return;
            }
        };
        let Ok(zone) = ZoneName::try_from(OPERATORS.to_string()) else {
            return;
        };
        let publisher = Publisher::new(
            js.clone(),
            zone,
            self.lease.name.clone(),
            buffer,
            self.options.replicas,
        );
        tokio::spawn(publisher.run(actions, stop));
    }

    /// Hand each delivery to the engine task and acknowledge it once journaled, in order.
    /// `Err` when the collector is gone; `Ok` when the subscription ended (bind again).
    async fn pump(&mut self, mut consumer: Consumer) -> Result<(), ()> {
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
            if d.stream_seq != 0 && d.stream_seq <= self.fed_seq {
                // Fed already: acknowledged once everything handed over before it is journaled.
                let _ = done.send(());
                if acks.send((d, journaled)).await.is_err() {
                    break Err(());
                }
                continue;
            }
            self.fed_seq = d.stream_seq;
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

/// Wait before opening the lease and the paged record again after NATS refused.
const LEAD_RETRY: Duration = Duration::from_secs(1);

/// Compete for the leader lease until `stop`. Before leading, the whole record of what was
/// paged is read, so that nothing an earlier leader delivered goes out again.
async fn lead(
    js: async_nats::jetstream::Context,
    settings: LeaseSettings,
    gate: Arc<Gate>,
    leading: watch::Sender<bool>,
    stop: CancellationToken,
) {
    let replicas = settings.replicas;
    let (lease, log) = loop {
        match (
            Lease::open(&js, settings.clone()).await,
            PagedLog::open(&js, replicas).await,
        ) {
            (Ok(l), Ok(p)) => break (l, Arc::new(p)),
            (Err(e), _) | (_, Err(e)) => {
                warn!(error = %e, "cannot open the leader lease; retrying")
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(LEAD_RETRY) => {}
        }
    };
    let _ = gate.log.set(log.clone());
    lease
        .run(leading, stop, || {
            let log = log.clone();
            async move {
                match log.load().await {
                    Ok(pairs) => {
                        info!(pairs, "read what earlier leaders paged");
                        true
                    }
                    Err(e) => {
                        warn!(error = %e, "cannot read what earlier leaders paged");
                        false
                    }
                }
            }
        })
        .await;
}

/// The notifier's side of the hand-over: what any leader paged, from the [`PagedLog`] (set once
/// NATS answered; no process leads before).
#[derive(Default)]
struct Gate {
    log: OnceLock<Arc<PagedLog>>,
}

impl PageGate for Gate {
    fn already_paged(&self, receiver: &str, incident: &str, seq: u64) -> bool {
        self.log
            .get()
            .is_some_and(|l| l.already_paged(receiver, incident, seq))
    }

    fn delivered<'a>(&'a self, receiver: &'a str, incident: &'a str, seq: u64) -> Recorded<'a> {
        Box::pin(async move {
            if let Some(l) = self.log.get()
                && let Err(e) = l.record(receiver, incident, seq).await
            {
                warn!(error = %e, incident, receiver, "cannot record a delivery for the standby (it may page it again on takeover)");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(extra: &str) -> ClusterSettings {
        toml::from_str(&format!("nats = []\n{extra}")).unwrap()
    }

    #[test]
    fn a_correlator_is_named_by_its_section_or_its_host() {
        let named = correlator_name(&settings("name = \"corr-b\"")).unwrap();
        assert_eq!(named.as_str(), "corr-b");
        let e = correlator_name(&settings("name = \"a.b\"")).unwrap_err();
        assert!(e.starts_with("[cluster] name: name `a.b`"), "{e}");
        let host = correlator_name(&settings("")).unwrap();
        assert!(!host.as_str().is_empty() && !host.as_str().contains('.'));
        assert_eq!(durable_for(named.as_str()), "faultline-correlator-corr-b");
    }
}
