//! The distributed shape's series, registered only in that shape (the single process's
//! `/metrics` is unchanged):
//!
//! - a poller (`faultline poller`): `faultline_poller_batches_published_total{zone}`,
//!   `..._observations_published_total`, `..._heartbeats_total`, `..._publish_errors_total`,
//!   `..._dropped_total` (batches the bounded disk buffer let go), and the gauges
//!   `faultline_poller_buffered_batches` / `..._buffered_bytes` (what waits on disk for NATS),
//!   copied from the publisher's own counts ([`PollerCounts`]) when scraped;
//! - a correlator: per zone, what arrived from the stream,
//!   `faultline_cluster_batches_received_total{zone}`,
//!   `faultline_cluster_observations_received_total{zone}` and
//!   `faultline_cluster_last_batch_age_seconds{zone}` (since the last batch, at scrape time).

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::sync_counter;

/// A poller's publisher counts at one instant (the CLI copies them from
/// `faultline_cluster::StatsSnapshot`; the collector does not know NATS).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollerCounts {
    /// Batches JetStream acknowledged (heartbeats included).
    pub batches_published: u64,
    /// Observations in them.
    pub observations_published: u64,
    /// Heartbeats published.
    pub heartbeats: u64,
    /// Publish attempts JetStream did not acknowledge.
    pub publish_errors: u64,
    /// Batches waiting in the disk buffer now.
    pub buffered_batches: u64,
    /// Their bytes on disk.
    pub buffered_bytes: u64,
    /// Batches dropped because the buffer was full (or unwritable).
    pub dropped: u64,
}

/// Where a poller's counts are read when `/metrics` is scraped.
pub type PollerStatsSource = Arc<dyn Fn() -> PollerCounts + Send + Sync>;

/// Which cluster series a collector registers.
#[derive(Clone, Default)]
pub enum ClusterMetrics {
    /// The single process: none.
    #[default]
    None,
    /// A poller of `zone`, its counts read from `stats`.
    Poller {
        zone: String,
        stats: PollerStatsSource,
    },
    /// A correlator: what it received per zone.
    Correlator,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ZoneLabel {
    zone: String,
}

/// A poller's series.
pub(super) struct PollerSeries {
    label: ZoneLabel,
    stats: PollerStatsSource,
    batches: Family<ZoneLabel, Counter>,
    observations: Family<ZoneLabel, Counter>,
    heartbeats: Family<ZoneLabel, Counter>,
    errors: Family<ZoneLabel, Counter>,
    dropped: Family<ZoneLabel, Counter>,
    buffered_batches: Family<ZoneLabel, Gauge<u64, AtomicU64>>,
    buffered_bytes: Family<ZoneLabel, Gauge<u64, AtomicU64>>,
}

/// A correlator's series, and when each zone's last batch arrived.
pub(super) struct ReceivedSeries {
    batches: Family<ZoneLabel, Counter>,
    observations: Family<ZoneLabel, Counter>,
    age: Family<ZoneLabel, Gauge<f64, AtomicU64>>,
    last: Mutex<BTreeMap<String, Instant>>,
}

/// The cluster series of one collector.
pub(super) enum ClusterSeries {
    None,
    Poller(Box<PollerSeries>),
    Correlator(ReceivedSeries),
}

fn counter(r: &mut Registry, name: &str, help: &str) -> Family<ZoneLabel, Counter> {
    let f = Family::<ZoneLabel, Counter>::default();
    r.register(name, help, f.clone());
    f
}

impl ClusterSeries {
    /// Register the series `which` asks for under `registry` (the `faultline_` prefix).
    pub(super) fn register(registry: &mut Registry, which: ClusterMetrics) -> ClusterSeries {
        match which {
            ClusterMetrics::None => ClusterSeries::None,
            ClusterMetrics::Poller { zone, stats } => {
                let r = registry;
                let batches = counter(
                    r,
                    "poller_batches_published",
                    "Observation batches the poller published and JetStream acknowledged",
                );
                let observations = counter(
                    r,
                    "poller_observations_published",
                    "Observations in the batches JetStream acknowledged",
                );
                let heartbeats = counter(r, "poller_heartbeats", "Heartbeats published");
                let errors = counter(
                    r,
                    "poller_publish_errors",
                    "Publish attempts JetStream did not acknowledge (the batch waits on disk)",
                );
                let dropped = counter(
                    r,
                    "poller_dropped",
                    "Batches dropped because the disk buffer was full (its bound) or unwritable",
                );
                let buffered_batches = Family::<ZoneLabel, Gauge<u64, AtomicU64>>::default();
                r.register(
                    "poller_buffered_batches",
                    "Batches waiting in the disk buffer for NATS",
                    buffered_batches.clone(),
                );
                let buffered_bytes = Family::<ZoneLabel, Gauge<u64, AtomicU64>>::default();
                r.register(
                    "poller_buffered_bytes",
                    "Bytes on disk of the batches waiting for NATS",
                    buffered_bytes.clone(),
                );
                ClusterSeries::Poller(Box::new(PollerSeries {
                    label: ZoneLabel { zone },
                    stats,
                    batches,
                    observations,
                    heartbeats,
                    errors,
                    dropped,
                    buffered_batches,
                    buffered_bytes,
                }))
            }
            ClusterMetrics::Correlator => {
                let r = registry;
                let batches = counter(
                    r,
                    "cluster_batches_received",
                    "Observation batches received from the stream, by the zone that published them",
                );
                let observations = counter(
                    r,
                    "cluster_observations_received",
                    "Observations received from the stream, by zone",
                );
                let age = Family::<ZoneLabel, Gauge<f64, AtomicU64>>::default();
                r.register(
                    "cluster_last_batch_age_seconds",
                    "Seconds since the last batch from each zone arrived",
                    age.clone(),
                );
                ClusterSeries::Correlator(ReceivedSeries {
                    batches,
                    observations,
                    age,
                    last: Mutex::new(BTreeMap::new()),
                })
            }
        }
    }

    /// A batch of `observations` observations from `zone` arrived (a correlator).
    pub(super) fn received(&self, zone: &str, observations: usize) {
        let ClusterSeries::Correlator(r) = self else {
            return;
        };
        let label = ZoneLabel { zone: zone.into() };
        r.batches.get_or_create(&label).inc();
        r.observations
            .get_or_create(&label)
            .inc_by(observations as u64);
        let mut last = r.last.lock().unwrap_or_else(|e| e.into_inner());
        last.insert(zone.to_owned(), Instant::now());
    }

    /// Bring the series up to date (at scrape time).
    pub(super) fn sync(&self) {
        match self {
            ClusterSeries::None => {}
            ClusterSeries::Poller(p) => {
                let c = (p.stats)();
                let l = &p.label;
                sync_counter(&p.batches.get_or_create(l), c.batches_published);
                sync_counter(&p.observations.get_or_create(l), c.observations_published);
                sync_counter(&p.heartbeats.get_or_create(l), c.heartbeats);
                sync_counter(&p.errors.get_or_create(l), c.publish_errors);
                sync_counter(&p.dropped.get_or_create(l), c.dropped);
                p.buffered_batches.get_or_create(l).set(c.buffered_batches);
                p.buffered_bytes.get_or_create(l).set(c.buffered_bytes);
            }
            ClusterSeries::Correlator(r) => {
                let last = r.last.lock().unwrap_or_else(|e| e.into_inner());
                for (zone, at) in last.iter() {
                    let label = ZoneLabel { zone: zone.clone() };
                    r.age.get_or_create(&label).set(at.elapsed().as_secs_f64());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pollers_series_follow_its_counts_and_a_correlators_its_zones() {
        let counts = Arc::new(Mutex::new(PollerCounts::default()));
        let source = counts.clone();
        let mut r = Registry::default();
        let series = ClusterSeries::register(
            &mut r,
            ClusterMetrics::Poller {
                zone: "dmz".into(),
                stats: Arc::new(move || *source.lock().unwrap()),
            },
        );
        *counts.lock().unwrap() = PollerCounts {
            batches_published: 7,
            observations_published: 70,
            heartbeats: 2,
            publish_errors: 3,
            buffered_batches: 4,
            buffered_bytes: 400,
            dropped: 1,
        };
        series.sync();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &r).unwrap();
        for line in [
            "poller_batches_published_total{zone=\"dmz\"} 7",
            "poller_observations_published_total{zone=\"dmz\"} 70",
            "poller_publish_errors_total{zone=\"dmz\"} 3",
            "poller_dropped_total{zone=\"dmz\"} 1",
            "poller_buffered_batches{zone=\"dmz\"} 4",
            "poller_buffered_bytes{zone=\"dmz\"} 400",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }

        let mut r = Registry::default();
        let series = ClusterSeries::register(&mut r, ClusterMetrics::Correlator);
        series.received("dmz", 5);
        series.received("dmz", 6);
        series.received("lan", 1);
        series.sync();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &r).unwrap();
        assert!(text.contains("cluster_batches_received_total{zone=\"dmz\"} 2"));
        assert!(text.contains("cluster_observations_received_total{zone=\"dmz\"} 11"));
        assert!(text.contains("cluster_last_batch_age_seconds{zone=\"lan\"}"));
    }
}
