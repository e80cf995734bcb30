//! Where the collector's observations come from and go: the single process (its own pollers
//! feed its own engine, the default), a poller (its pollers feed a sink, no engine), or a
//! correlator (an external feed drives the engine; no pollers of its own). The NATS side of the
//! last two is `faultline-cluster`, wired by the CLI: this crate only sees channels.

use std::sync::Arc;

use faultline_notify::{Notifier, PageGate};
use faultline_observe::Observation;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::metrics::{ClusterMetrics, PollerStatsSource};

/// One batch from an external feed (the correlator's stream consumer).
pub struct FeedBatch {
    /// The zone whose poller published it (counted per zone in `/metrics`).
    pub zone: Option<String>,
    /// The observations, with their own (poll) times.
    pub observations: Vec<Observation>,
    /// Told once the batch is in the journal: the feed may then acknowledge it upstream.
    pub journaled: Option<oneshot::Sender<()>>,
}

/// What a correlator shares with the other correlators following the same stream: all of them
/// feed their engines and fill their outboxes alike, only the leader delivers.
pub struct Leadership {
    /// `true` while this process holds the lease.
    pub leading: watch::Receiver<bool>,
    /// What the notifier shares with the other correlators (what they already paged).
    pub gate: Arc<dyn PageGate>,
    /// Where operators' actions (acknowledge, maintenance) go instead of straight to this
    /// engine: the stream, so that every correlator applies them at the same place in it (their
    /// engines, and so their transitions' sequence numbers, stay alike). `None`: to this engine.
    pub actions: Option<mpsc::Sender<Vec<Observation>>>,
}

/// The operators' actions the engine task takes: `actions` itself, or, when they are to go
/// through the stream (`to`), nothing, while a task forwards them there.
pub(crate) fn route_actions(
    tasks: &mut tokio::task::JoinSet<()>,
    mut actions: mpsc::Receiver<Vec<Observation>>,
    to: Option<mpsc::Sender<Vec<Observation>>>,
) -> mpsc::Receiver<Vec<Observation>> {
    let Some(to) = to else {
        return actions;
    };
    tasks.spawn(async move {
        while let Some(a) = actions.recv().await {
            if to.send(a).await.is_err() {
                warn!("operators' actions cannot reach the stream any more");
                return;
            }
        }
    });
    mpsc::channel(1).1
}

/// The collector's shape.
#[derive(Default)]
pub enum Shape {
    /// Pollers, probes and the trap receiver feed this process's engine.
    #[default]
    Single,
    /// `faultline poller`: watch only the devices and services of `zone` and send every
    /// observation batch to `sink`; the engine is not fed.
    Poller {
        zone: String,
        sink: mpsc::Sender<Vec<Observation>>,
        /// The publisher's counts, for `/metrics` (`faultline_poller_*{zone}`).
        stats: PollerStatsSource,
    },
    /// A correlator: the engine is fed from `feed` in its order, each batch confirmed once
    /// journaled; the engine's time follows the observations' times, not the wall clock (a
    /// zone's buffered batches arriving late keep their poll times). No local pollers. With a
    /// `leadership`, the outbox is delivered only while leading.
    Correlator {
        feed: mpsc::Receiver<FeedBatch>,
        leadership: Option<Leadership>,
    },
}

impl Shape {
    /// The distributed shape's `/metrics` series this shape has.
    pub(crate) fn metrics(&self) -> ClusterMetrics {
        match self {
            Shape::Single => ClusterMetrics::None,
            Shape::Poller { zone, stats, .. } => ClusterMetrics::Poller {
                zone: zone.clone(),
                stats: stats.clone(),
            },
            Shape::Correlator { .. } => ClusterMetrics::Correlator,
        }
    }

    /// Whether this process runs pollers for `zone` (a device's or service's `zone:`).
    pub(crate) fn watches(&self, zone: Option<&str>) -> bool {
        match self {
            Shape::Single => true,
            Shape::Poller { zone: mine, .. } => zone == Some(mine.as_str()),
            Shape::Correlator { .. } => false,
        }
    }

    /// The zone this process probes from, stamped on its probe results: a poller's zone;
    /// `None` for the single process (its own single vantage) and a correlator.
    pub(crate) fn vantage(&self) -> Option<&str> {
        match self {
            Shape::Poller { zone, .. } => Some(zone),
            Shape::Single | Shape::Correlator { .. } => None,
        }
    }
}

/// Spawn the outbox delivery: always, or with a `leadership` only while leading.
pub(crate) fn spawn_notifier(
    tasks: &mut tokio::task::JoinSet<()>,
    notifier: Notifier,
    leadership: Option<Leadership>,
    stop: CancellationToken,
) {
    match leadership {
        None => tasks.spawn(async move { notifier.run(stop.cancelled_owned()).await }),
        Some(l) => {
            notifier.set_gate(l.gate);
            tasks.spawn(page_while_leading(notifier, l.leading, stop))
        }
    };
}

/// Deliver the outbox while `leading` says so: the delivery loop starts when this process
/// gains the lease and stops at once when it loses it (requests on the wire are let finish
/// briefly), until `stop`.
async fn page_while_leading(
    notifier: Notifier,
    mut leading: watch::Receiver<bool>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            gained = leading.wait_for(|l| *l) => if gained.is_err() { return },
        }
        info!("leading: delivering the outbox");
        let mut demoted = leading.clone();
        let stopping = stop.clone();
        notifier
            .run(async move {
                tokio::select! {
                    _ = stopping.cancelled() => {}
                    _ = demoted.wait_for(|l| !*l) => {}
                }
            })
            .await;
        if stop.is_cancelled() {
            return;
        }
        warn!("no longer leading: outbox delivery stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_watches_its_own() {
        let (sink, _rx) = mpsc::channel(1);
        let poller = Shape::Poller {
            zone: "dmz".into(),
            sink,
            stats: std::sync::Arc::new(Default::default),
        };
        assert!(poller.watches(Some("dmz")));
        assert!(!poller.watches(Some("lan")) && !poller.watches(None));
        assert!(Shape::Single.watches(None) && Shape::Single.watches(Some("dmz")));
        assert_eq!(poller.vantage(), Some("dmz"));
        assert_eq!(Shape::Single.vantage(), None);
        let (_tx, feed) = mpsc::channel(1);
        let correlator = Shape::Correlator {
            feed,
            leadership: None,
        };
        assert!(!correlator.watches(None));
    }
}
