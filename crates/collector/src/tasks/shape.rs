//! Where the collector's observations come from and go: the single process (its own pollers
//! feed its own engine, the default), a poller (its pollers feed a sink, no engine), or a
//! correlator (an external feed drives the engine; no pollers of its own). The NATS side of the
//! last two is `faultline-cluster`, wired by the CLI: this crate only sees channels.

use faultline_observe::Observation;
use tokio::sync::{mpsc, oneshot};

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
    /// zone's buffered batches arriving late keep their poll times). No local pollers.
    Correlator { feed: mpsc::Receiver<FeedBatch> },
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
        assert!(!Shape::Correlator { feed }.watches(None));
    }
}
