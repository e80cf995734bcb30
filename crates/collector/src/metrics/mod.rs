//! Prometheus metrics (OpenMetrics text on `/metrics`): faultline's own under the
//! `faultline_` prefix (every counter ends in `_total`), plus `process_*` ([`process`]).
//!
//! State series use one value per state, worst last: 0 up, 1 degraded, 2 unknown, 3 down
//! (`faultline_service_state{service,tier}`, `faultline_component_state{id,kind}`), so that
//! `faultline_service_state >= 3` is an alert rule.

mod cluster;
mod process;
mod text;

pub use cluster::{ClusterMetrics, PollerCounts, PollerStatsSource};

pub(crate) use text::{OPENMETRICS_TEXT, PROMETHEUS_TEXT, to_prometheus_text, wants_openmetrics};

use std::sync::OnceLock;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use faultline_engine::Engine;
use faultline_graph::State;
use faultline_incident::IncidentTransition;
use faultline_notify::NotifyStats;
use faultline_observe::PollFailure;
use faultline_store::StoreHealth;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PollFailureLabel {
    device: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabel {
    service: String,
    tier: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabel {
    id: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabel {
    version: String,
    commit: String,
}

/// The commit the binary was built from, set once by the program (`faultline` knows it from
/// its build script); "unknown" until then.
static BUILD_COMMIT: OnceLock<String> = OnceLock::new();

/// Record the commit shown by `faultline_build_info` (the first call wins).
pub fn set_build_commit(commit: &str) {
    let _ = BUILD_COMMIT.set(commit.to_string());
}

/// A state as a series value: worse is higher.
fn state_value(s: State) -> i64 {
    match s {
        State::Up => 0,
        State::Degraded => 1,
        State::Unknown => 2,
        State::Down => 3,
    }
}

/// Bring a counter up to a running total kept elsewhere (the notifier's and the store's own
/// counts): counters only go up, so a total that went down (never expected) is ignored.
fn sync_counter(c: &Counter, total: u64) {
    let now = c.get();
    if total > now {
        c.inc_by(total - now);
    }
}

/// The pager's delivery series, copied from the notifier's own running counts when scraped.
struct NotifySeries {
    stats: Arc<NotifyStats>,
    delivered: Counter,
    retries: Counter,
    dead: Counter,
    pending: Gauge<u64, AtomicU64>,
}

impl NotifySeries {
    fn register(registry: &mut Registry, stats: Arc<NotifyStats>) -> NotifySeries {
        let delivered = Counter::default();
        registry.register(
            "notify_delivered",
            "Deliveries accepted by receivers since start",
            delivered.clone(),
        );
        let retries = Counter::default();
        registry.register(
            "notify_retries",
            "Failed delivery attempts that will be retried",
            retries.clone(),
        );
        let dead = Counter::default();
        registry.register(
            "notify_dead_lettered",
            "Deliveries moved to the dead letters",
            dead.clone(),
        );
        let pending = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "notify_pending",
            "Deliveries waiting in the outbox",
            pending.clone(),
        );
        NotifySeries {
            stats,
            delivered,
            retries,
            dead,
            pending,
        }
    }

    /// Bring the series up to the notifier's counts.
    fn sync(&self) {
        let s = self.stats.snapshot();
        sync_counter(&self.delivered, s.delivered);
        sync_counter(&self.retries, s.retries);
        sync_counter(&self.dead, s.dead_lettered);
        self.pending.set(s.pending);
    }
}

/// The store's health series, and the observations the engine holds back while it fails.
struct StoreSeries {
    healthy: Gauge,
    failures: Counter,
    reopens: Counter,
    journal_pending: Gauge<u64, AtomicU64>,
    journal_thinned: Counter,
}

impl StoreSeries {
    fn register(registry: &mut Registry) -> StoreSeries {
        let healthy = Gauge::default();
        registry.register(
            "store_healthy",
            "1 while the store accepts writes, 0 while it fails (disk full, I/O error)",
            healthy.clone(),
        );
        let failures = Counter::default();
        registry.register(
            "store_failed_operations",
            "Failed store operations since start (alert on its increase)",
            failures.clone(),
        );
        let reopens = Counter::default();
        registry.register(
            "store_reopens",
            "Re-opens of the store's database after an I/O error since start",
            reopens.clone(),
        );
        let journal_pending = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "journal_pending_observations",
            "Observations held back because the journal cannot be written (the engine waits)",
            journal_pending.clone(),
        );
        let journal_thinned = Counter::default();
        registry.register(
            "journal_observations_thinned",
            "Observations that changed nothing, held back before the journal and the engine",
            journal_thinned.clone(),
        );
        StoreSeries {
            healthy,
            failures,
            reopens,
            journal_pending,
            journal_thinned,
        }
    }
}

pub struct Metrics {
    registry: Registry,
    observations: Counter,
    poll_seconds: Histogram,
    poll_failures: Family<PollFailureLabel, Counter>,
    components: Family<StateLabel, Gauge>,
    incidents_open: Gauge,
    transitions: Family<ActionLabel, Counter>,
    engine_seq: Gauge,
    repolls_dropped: Counter,
    trap_repeats_dropped: Counter,
    notify: NotifySeries,
    store_health: StoreSeries,
    service_state: Family<ServiceLabel, Gauge>,
    component_state: Family<ComponentLabel, Gauge>,
    process: process::ProcessMetrics,
    cluster: cluster::ClusterSeries,
}

impl Metrics {
    /// The series of a collector whose pager counts are `notify`, with the distributed
    /// shape's series `cluster` asks for.
    pub fn new(notify: Arc<NotifyStats>, cluster: ClusterMetrics) -> Metrics {
        let mut root = Registry::default();
        let process = process::ProcessMetrics::register(&mut root);
        let registry = root.sub_registry_with_prefix("faultline");
        let observations = Counter::default();
        registry.register(
            "observations",
            "Observations journaled and fed to the engine",
            observations.clone(),
        );
        let poll_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register(
            "poll_duration_seconds",
            "SNMP poll duration per device",
            poll_seconds.clone(),
        );
        let poll_failures = Family::<PollFailureLabel, Counter>::default();
        registry.register(
            "poll_failures",
            "Failed SNMP polls by device and reason",
            poll_failures.clone(),
        );
        let components = Family::<StateLabel, Gauge>::default();
        registry.register(
            "components",
            "Components by kind and state",
            components.clone(),
        );
        let incidents_open = Gauge::default();
        registry.register("incidents_open", "Open incidents", incidents_open.clone());
        let transitions = Family::<ActionLabel, Counter>::default();
        registry.register(
            "incident_transitions",
            "Incident transitions by action",
            transitions.clone(),
        );
        let engine_seq = Gauge::default();
        registry.register(
            "engine_seq",
            "Last incident transition sequence number",
            engine_seq.clone(),
        );
        let repolls_dropped = Counter::default();
        registry.register(
            "repolls_dropped",
            "Device re-polls dropped because the re-poll queue was full",
            repolls_dropped.clone(),
        );
        let trap_repeats_dropped = Counter::default();
        registry.register(
            "trap_repeats_dropped",
            "Trap observations not journaled because they repeated one forwarded moments ago",
            trap_repeats_dropped.clone(),
        );
        let notify = NotifySeries::register(registry, notify);
        let store_health = StoreSeries::register(registry);
        let service_state = Family::<ServiceLabel, Gauge>::default();
        registry.register(
            "service_state",
            "Each service's state: 0 up, 1 degraded, 2 unknown, 3 down",
            service_state.clone(),
        );
        let component_state = Family::<ComponentLabel, Gauge>::default();
        registry.register(
            "component_state",
            "Each component's state (device, link, group, service): 0 up, 1 degraded, 2 \
             unknown, 3 down",
            component_state.clone(),
        );
        let build_info = Family::<BuildLabel, Gauge>::default();
        registry.register(
            "build_info",
            "The running faultline's version and commit (always 1)",
            build_info.clone(),
        );
        build_info
            .get_or_create(&BuildLabel {
                version: env!("CARGO_PKG_VERSION").to_string(),
                commit: BUILD_COMMIT
                    .get()
                    .cloned()
                    .unwrap_or_else(|| "unknown".into()),
            })
            .set(1);
        let cluster = cluster::ClusterSeries::register(registry, cluster);
        Metrics {
            cluster,
            registry: root,
            service_state,
            component_state,
            process,
            store_health,
            observations,
            poll_seconds,
            poll_failures,
            components,
            incidents_open,
            transitions,
            engine_seq,
            repolls_dropped,
            trap_repeats_dropped,
            notify,
        }
    }

    pub fn observations(&self, n: usize) {
        self.observations.inc_by(n as u64);
    }

    /// One poll of `device` took `took`; `failure` says why it failed, if it did.
    pub fn poll_done(&self, took: Duration, device: &str, failure: Option<PollFailure>) {
        self.poll_seconds.observe(took.as_secs_f64());
        if let Some(reason) = failure {
            self.poll_failures
                .get_or_create(&PollFailureLabel {
                    device: device.to_string(),
                    reason: format!("{reason:?}").to_lowercase(),
                })
                .inc();
        }
    }

    /// Re-polls of `devices` devices were dropped (queue full).
    pub fn repoll_dropped(&self, devices: usize) {
        self.repolls_dropped.inc_by(devices as u64);
    }

    /// `n` repeated trap observations were dropped before the journal.
    pub fn trap_repeats_dropped(&self, n: usize) {
        self.trap_repeats_dropped.inc_by(n as u64);
    }

    pub fn transitions(&self, ts: &[IncidentTransition]) {
        for t in ts {
            self.transitions
                .get_or_create(&ActionLabel {
                    action: format!("{:?}", t.action).to_lowercase(),
                })
                .inc();
        }
    }

    /// `n` observations that changed nothing were held back (thinning, before the journal).
    pub fn journal_thinned(&self, n: usize) {
        self.store_health.journal_thinned.inc_by(n as u64);
    }

    /// Observations held back, waiting for the journal (0 once written).
    pub fn journal_pending(&self, n: usize) {
        self.store_health.journal_pending.set(n as u64);
    }

    /// How many observations wait for the journal now.
    pub fn journal_pending_now(&self) -> u64 {
        self.store_health.journal_pending.get()
    }

    /// Set the store gauges from its health (at scrape time).
    pub fn store(&self, h: &StoreHealth) {
        let series = &self.store_health;
        series.healthy.set(i64::from(h.is_ok()));
        sync_counter(&series.failures, h.failures_total);
        sync_counter(&series.reopens, h.reopens_total);
    }

    /// Recompute the state gauges from the engine. Called when /metrics is scraped, not per
    /// engine step: the gauges only need to be right when someone reads them.
    pub fn refresh(&self, engine: &Engine) {
        let counts = engine.state_counts();
        for kind in ["device", "link", "group", "service"] {
            for state in [State::Up, State::Degraded, State::Down, State::Unknown] {
                let n = counts.get(&(kind, state)).copied().unwrap_or(0) as i64;
                self.components
                    .get_or_create(&StateLabel {
                        kind: kind.into(),
                        state: state.as_str().into(),
                    })
                    .set(n);
            }
        }
        for c in engine.components() {
            let label = ComponentLabel {
                id: c.id,
                kind: c.kind.to_string(),
            };
            self.component_state
                .get_or_create(&label)
                .set(state_value(c.state));
        }
        for s in engine.services() {
            let label = ServiceLabel {
                service: s.id,
                tier: s.tier.to_string(),
            };
            self.service_state
                .get_or_create(&label)
                .set(state_value(s.state));
        }
        self.process.refresh();
        self.incidents_open
            .set(engine.open_incidents().len() as i64);
        self.engine_seq.set(engine.seq() as i64);
    }

    /// A correlator received a batch of `observations` from `zone`'s poller.
    pub fn batch_received(&self, zone: &str, observations: usize) {
        self.cluster.received(zone, observations);
    }

    pub fn encode(&self) -> String {
        self.notify.sync();
        self.cluster.sync();
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The series in /metrics, in registration order (grouping the notify and store series in
    /// their own structs kept the order and the help texts). Labelled families without a
    /// series yet (poll failures, states, transitions) print nothing.
    #[test]
    fn faultline_series_in_registration_order() {
        let m = Metrics::new(Arc::new(NotifyStats::default()), ClusterMetrics::None);
        let text = m.encode();
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# HELP faultline_"))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(
            names,
            [
                "observations",
                "poll_duration_seconds",
                "incidents_open",
                "engine_seq",
                "repolls_dropped",
                "trap_repeats_dropped",
                "notify_delivered",
                "notify_retries",
                "notify_dead_lettered",
                "notify_pending",
                "store_healthy",
                "store_failed_operations",
                "store_reopens",
                "journal_pending_observations",
                "journal_observations_thinned",
                "build_info",
            ]
        );
        assert!(text.contains(
            "# HELP faultline_store_healthy 1 while the store accepts writes, 0 while it fails \
             (disk full, I/O error)."
        ));
    }
}
