//! Prometheus metrics (OpenMetrics text on `/metrics`).

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
    notify: Arc<NotifyStats>,
    notify_delivered: Gauge<u64, AtomicU64>,
    notify_retries: Gauge<u64, AtomicU64>,
    notify_dead: Gauge<u64, AtomicU64>,
    notify_pending: Gauge<u64, AtomicU64>,
    store_healthy: Gauge,
    store_failures: Gauge<u64, AtomicU64>,
    store_reopens: Gauge<u64, AtomicU64>,
    journal_pending: Gauge<u64, AtomicU64>,
}

impl Metrics {
    pub fn new(notify: Arc<NotifyStats>) -> Metrics {
        let mut registry = Registry::with_prefix("faultline");
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
        let notify_delivered = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "notify_delivered",
            "Deliveries accepted by receivers since start",
            notify_delivered.clone(),
        );
        let notify_retries = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "notify_retries",
            "Failed delivery attempts that will be retried",
            notify_retries.clone(),
        );
        let notify_dead = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "notify_dead_lettered",
            "Deliveries moved to the dead letters",
            notify_dead.clone(),
        );
        let notify_pending = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "notify_pending",
            "Deliveries waiting in the outbox",
            notify_pending.clone(),
        );
        let store_healthy = Gauge::default();
        registry.register(
            "store_healthy",
            "1 while the store accepts writes, 0 while it fails (disk full, I/O error)",
            store_healthy.clone(),
        );
        let store_failures = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "store_failed_operations",
            "Failed store operations since start (a counter; alert on its increase)",
            store_failures.clone(),
        );
        let store_reopens = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "store_reopens",
            "Re-opens of the store's database after an I/O error since start",
            store_reopens.clone(),
        );
        let journal_pending = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "journal_pending_observations",
            "Observations held back because the journal cannot be written (the engine waits)",
            journal_pending.clone(),
        );
        Metrics {
            registry,
            store_healthy,
            store_failures,
            store_reopens,
            journal_pending,
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
            notify_delivered,
            notify_retries,
            notify_dead,
            notify_pending,
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

    /// Observations held back, waiting for the journal (0 once written).
    pub fn journal_pending(&self, n: usize) {
        self.journal_pending.set(n as u64);
    }

    /// How many observations wait for the journal now.
    pub fn journal_pending_now(&self) -> u64 {
        self.journal_pending.get()
    }

    /// Set the store gauges from its health (at scrape time).
    pub fn store(&self, h: &StoreHealth) {
        self.store_healthy.set(i64::from(h.is_ok()));
        self.store_failures.set(h.failures_total);
        self.store_reopens.set(h.reopens_total);
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
        self.incidents_open
            .set(engine.open_incidents().len() as i64);
        self.engine_seq.set(engine.seq() as i64);
    }

    pub fn encode(&self) -> String {
        let s = self.notify.snapshot();
        self.notify_delivered.set(s.delivered);
        self.notify_retries.set(s.retries);
        self.notify_dead.set(s.dead_lettered);
        self.notify_pending.set(s.pending);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
