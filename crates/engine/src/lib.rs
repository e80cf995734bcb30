//! faultline's correlation engine: a pure, deterministic state machine.
//!
//! Observations and time go in; component states, service states, re-poll requests and
//! incident transitions come out. Nothing here reads a clock or a socket: time is the `at` of
//! each observation, and deadlines (hold-downs, staleness) fire at their exact instants when time
//! is advanced, so a recorded stream replays to the same outputs regardless of how often the
//! shell called [`Engine::advance`].
//!
//! # Example
//!
//! A firewall pair in front of a portal. One firewall stops answering: redundancy is lost (one
//! incident, a warning); then the portal's probe fails too although the spare should carry it,
//! and the same incident becomes "failover ineffective".
//!
//! ```
//! use std::sync::Arc;
//! use faultline_engine::{Engine, EngineConfig, Output};
//! use faultline_graph::{DependencyGraph, State};
//! use faultline_incident::{IncidentKind, ServiceState, TransitionAction};
//! use faultline_model::Topology;
//! use faultline_observe::{Observation, Signal, Subject};
//!
//! let topo = Topology::from_yaml_str(r#"
//! name: demo
//! devices:
//!   - {id: fw-a, kind: firewall}
//!   - {id: fw-b, kind: firewall}
//! groups:
//!   - {id: fw-pair, mode: any, members: [fw-a, fw-b]}
//! services:
//!   - {id: portal, tier: critical, requires: [fw-pair]}
//! "#, "demo.yaml").unwrap();
//! let graph = Arc::new(DependencyGraph::new(topo));
//! // No hold-downs, so that every observation takes effect at once.
//! let mut engine = Engine::new(graph, EngineConfig::immediate());
//!
//! let reach = |at, dev: &str, ok: bool| Observation::new(at, Subject::device(dev),
//!     Signal::Reachability { ok, rtt_ms: None, loss: if ok { 0.0 } else { 1.0 } });
//! let probe = |at, ok: bool| Observation::new(at, Subject::service("portal"),
//!     Signal::Probe { ok, status: Some(if ok { 200 } else { 404 }), latency_ms: 5.0, detail: None, zone: None });
//!
//! engine.observe_batch(&[reach(1_000, "fw-a", true), reach(1_000, "fw-b", true), probe(1_000, true)]);
//! let out = engine.observe_batch(&[reach(11_000, "fw-a", false), reach(11_000, "fw-b", true)]);
//! let opened: Vec<_> = out.iter().filter_map(|o| match o {
//!     Output::Transition(t) if t.action == TransitionAction::Trigger => Some(&t.incident),
//!     _ => None,
//! }).collect();
//! assert_eq!(opened.len(), 1);
//! assert_eq!(opened[0].kind, IncidentKind::RedundancyLost);
//! assert_eq!(opened[0].root_causes, vec!["fw-a".to_string()]);
//!
//! engine.observe(&probe(12_000, false));
//! let incident = engine.open_incidents()[0];
//! assert_eq!(incident.kind, IncidentKind::FailoverIneffective);
//! assert_eq!(incident.affected_services[0].state, ServiceState::Down);
//! let portal = engine.services().into_iter().find(|s| s.id == "portal").unwrap();
//! assert_eq!((portal.expected, portal.observed), (State::Degraded, State::Down));
//! ```
//!
//! # Inside
//!
//! Each concern is a module that owns its part of the engine's state; a snapshot is that state
//! serialized whole.
//!
//! | module | concern |
//! |---|---|
//! | `signals` | what each observation says; the raw state of devices, links and services |
//! | `feed`, `track` | hold-downs, flap damping, staleness: raw states become declared ones |
//! | `reach` | which devices are merely behind a failure (unknown, never root causes) |
//! | `ha` | active-standby invariants: split brain and no active member |
//! | `readiness` | can each standby take over? checks (facts, HA role, interface parity) judged, held down, declared |
//! | `vantage` | a service probed from several zones: per-zone results, partial outages |
//! | `pollers` | each zone's poller by its heartbeats: a silent one makes its zone unknown |
//! | `incidents` | root causes, merged services, titles, severity, suspects; the diff |
//! | `evidence` | the words: per-component events and the timeline |
//! | `status` | queries: components, services, why, counts, incidents |
//! | `thin` | observations that change nothing are held back (and why the engine needs no repetitions) |
//! | `snapshot` | save and restore the whole state |
//!
//! # See also
//!
//! - [`faultline_observe`]: the observations that go in.
//! - [`faultline_incident`]: the incidents and transitions that come out.
//! - [`faultline_graph`]: the dependency graph and its incremental evaluation.
//! - `ARCHITECTURE.md` at the repository root: the dependency semantics and invariants.

#![warn(missing_docs)]

pub mod config;
mod drift;
mod evidence;
mod feed;
mod fnv;
mod ha;
mod ids;
mod incidents;
mod operator;
mod pollers;
mod reach;
mod readiness;
mod signals;
mod snapshot;
mod status;
mod steady;
mod thin;
mod track;
mod vantage;
mod why;

use std::collections::BTreeSet;
use std::sync::Arc;

use faultline_graph::{CompId, DependencyGraph, Evaluation, State};
use faultline_incident::IncidentTransition;
use faultline_model::GroupMode;
use faultline_observe::{Observation, Signal, UnixMillis};
use serde::{Deserialize, Serialize};

pub use config::{EngineConfig, Hold, Maintenance};
pub use evidence::TimelineEntry;
pub use operator::RuntimeWindow;
pub use pollers::POLLER_PREFIX;
pub use readiness::{
    CheckResult, CheckValue, GroupReadiness, HA_ROLE_CHECK, INTERFACE_CHECK, StandbyReadiness,
    Verdict,
};
pub use snapshot::SnapshotError;
pub use status::{ComponentStatus, ServiceStatus};

use evidence::EvidenceLog;
use feed::Deadlines;
use ha::HaState;
use ids::{Comp, GroupIdx, Idx, IdxVec, ServiceIdx, TypedComponents};
use incidents::Incidents;
use operator::OperatorState;
use reach::{Neighbourhood, Reachability};
use readiness::{Members, ReadinessState};
use signals::Signals;
use track::Track;

/// What the engine asks of the shell or reports to it.
// Transitions are most of the outputs and are moved on whole into the outbox: boxing them would
// add an allocation each for a few bytes saved on the rarer variants.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// An incident opened, changed or resolved. Persist, then deliver.
    Transition(IncidentTransition),
    /// Poll these devices now (a device looks failed: confirm it and its upstream neighbours
    /// before deciding, so a child polled before its parent never pages as a root cause).
    Repoll(Vec<String>),
    /// A component's effective state changed.
    StateChanged {
        /// When it changed.
        at: UnixMillis,
        /// Topology id of the component.
        id: String,
        /// State before.
        from: State,
        /// State now.
        to: State,
    },
}

/// The own state of every component as last handed to the graph's evaluation, and which of
/// them are down (the root-cause candidates, so finding roots is linear in the failures) or
/// degraded (among them services in a partial outage, `vantage.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OwnStates {
    own: IdxVec<CompId, State>,
    down: BTreeSet<CompId>,
    degraded: BTreeSet<CompId>,
}

impl OwnStates {
    fn new(components: usize) -> Self {
        OwnStates {
            own: IdxVec::filled(components, State::Up),
            down: BTreeSet::new(),
            degraded: BTreeSet::new(),
        }
    }

    fn get(&self, c: CompId) -> State {
        self.own[c]
    }

    fn set(&mut self, c: CompId, s: State) {
        self.own[c] = s;
        for (set, state) in [
            (&mut self.down, State::Down),
            (&mut self.degraded, State::Degraded),
        ] {
            if s == state {
                set.insert(c);
            } else {
                set.remove(&c);
            }
        }
    }

    /// Every component's own state, in id order.
    fn iter(&self) -> impl Iterator<Item = (CompId, State)> + '_ {
        self.own.iter_enumerated().map(|(c, s)| (c, *s))
    }

    /// Components covered (for checking a restored snapshot against its graph).
    fn components(&self) -> usize {
        self.own.len()
    }

    /// Components whose own state is down, in id order.
    pub(crate) fn down(&self) -> impl Iterator<Item = CompId> + '_ {
        self.down.iter().copied()
    }

    /// Components whose own state is degraded, in id order.
    pub(crate) fn degraded(&self) -> impl Iterator<Item = CompId> + '_ {
        self.degraded.iter().copied()
    }
}

/// Everything the engine has learnt: the snapshot is this, serialized whole (see
/// `snapshot.rs`). What the engine derives from the graph alone ([`Layout`]) and the graph's
/// evaluation (rebuilt from `own`) live beside it in [`Engine`], not in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EngineState {
    /// The engine's clock: the latest instant it has been advanced to.
    now: UnixMillis,
    /// Something changed since the last correlation.
    dirty: bool,
    /// Components whose own state in the graph must be recomputed at the next correlation.
    touched: Vec<CompId>,
    /// Own states given to the graph's evaluation.
    own: OwnStates,
    /// Hold-down and flap state per component.
    tracks: IdxVec<CompId, Track>,
    deadlines: Deadlines,
    signals: Signals,
    reach: Reachability,
    ha: HaState,
    /// Standby readiness: facts of group members, hold-downs, standbys declared not ready.
    readiness: ReadinessState,
    /// Cabling drift as the LLDP/CDP watch reports it (`drift.rs`).
    #[serde(default)]
    cabling: drift::Cabling,
    evidence: EvidenceLog,
    incidents: Incidents,
    /// Operators' actions: run-time maintenance windows.
    #[serde(default)]
    operator: OperatorState,
    /// Thinning: the last observation taken per (subject, signal kind) (`thin.rs`).
    #[serde(default)]
    thin: thin::Thinner,
    /// Each zone's poller as its heartbeats tell it (`pollers.rs`).
    #[serde(default)]
    pollers: pollers::Pollers,
}

impl EngineState {
    /// The state of an engine that has seen nothing yet.
    fn new(graph: &DependencyGraph, cfg: &EngineConfig) -> Self {
        let t = graph.topology();
        let n = graph.component_count();
        let mut tracks = IdxVec::filled(n, Track::new(false));
        for id in &cfg.monitored {
            if let Ok(c) = graph.lookup(id) {
                tracks[c] = Track::new(true);
            }
        }
        let mut own = OwnStates::new(n);
        for (c, tr) in tracks.iter_enumerated() {
            if tr.effective != State::Up {
                own.set(c, tr.effective);
            }
        }
        EngineState {
            now: 0,
            dirty: true,
            touched: (0..n).map(CompId::from_index).collect(),
            own,
            tracks,
            deadlines: Deadlines::default(),
            signals: Signals::new(t),
            reach: Reachability::new(t.devices.len()),
            ha: HaState::default(),
            readiness: ReadinessState::default(),
            cabling: drift::Cabling::default(),
            evidence: EvidenceLog::new(n),
            incidents: Incidents::default(),
            operator: OperatorState::default(),
            thin: thin::Thinner::default(),
            pollers: pollers::Pollers::default(),
        }
    }
}

/// What the engine derives from the graph alone, once: never serialized, rebuilt on restore.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    neighbourhood: Neighbourhood,
    /// Components in each service's dependency closure.
    closures: IdxVec<ServiceIdx, Vec<CompId>>,
    /// Active-standby groups (their own state follows the HA invariants).
    ha_groups: Vec<GroupIdx>,
    /// Which devices are members of active-standby groups (whose readiness facts are kept).
    members: Members,
}

impl Layout {
    fn new(graph: &DependencyGraph) -> Self {
        let t = graph.topology();
        Layout {
            neighbourhood: Neighbourhood::new(t),
            closures: IdxVec::from_fn(t.services.len(), |s: ServiceIdx| {
                graph.owners(&graph.descendants(graph.service_node(s.0)))
            }),
            ha_groups: (0..t.groups.len())
                .filter(|g| t.groups[*g].mode == GroupMode::ActiveStandby)
                .map(GroupIdx)
                .collect(),
            members: Members::new(graph),
        }
    }
}

/// Reusable buffers (a visited stamp per gate): no state, kept only to spare allocations.
#[derive(Debug, Default)]
struct Scratch {
    stamp: Vec<u32>,
    epoch: u32,
}

/// A batch after [`Engine::thin`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thinned {
    /// What the engine takes, in order: what to journal and ingest.
    pub kept: Vec<Observation>,
    /// Repetitions held back.
    pub held: usize,
}

/// The correlation engine. See the crate docs.
pub struct Engine {
    graph: Arc<DependencyGraph>,
    cfg: EngineConfig,
    layout: Layout,
    /// The graph evaluated with the own states in `state.own`.
    eval: Evaluation<Arc<DependencyGraph>>,
    state: EngineState,
    scratch: Scratch,
}

impl Engine {
    /// An engine for this graph and configuration that has seen nothing yet.
    pub fn new(graph: Arc<DependencyGraph>, cfg: EngineConfig) -> Engine {
        let state = EngineState::new(&graph, &cfg);
        Engine::with_state(graph, cfg, state)
    }

    /// An engine with the given state: the layout and the evaluation are rebuilt from the
    /// graph and the state's own states.
    fn with_state(graph: Arc<DependencyGraph>, cfg: EngineConfig, state: EngineState) -> Engine {
        let mut eval = Evaluation::new(graph.clone());
        for (c, s) in state.own.iter() {
            eval.set_own(c, s);
        }
        eval.settle();
        Engine {
            layout: Layout::new(&graph),
            eval,
            state,
            scratch: Scratch::default(),
            cfg,
            graph,
        }
    }

    /// The dependency graph the engine correlates over.
    pub fn graph(&self) -> &Arc<DependencyGraph> {
        &self.graph
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// The engine's clock: the latest instant it has seen or been advanced to.
    pub fn now(&self) -> UnixMillis {
        self.state.now
    }

    /// Last transition sequence number issued.
    pub fn seq(&self) -> u64 {
        self.state.incidents.seq()
    }

    /// Feed one observation (advancing time to its `at` first).
    pub fn observe(&mut self, obs: &Observation) -> Vec<Output> {
        self.observe_batch(std::slice::from_ref(obs))
    }

    /// Feed a batch (e.g. one poll cycle, or a storm) and correlate once at the end.
    pub fn observe_batch(&mut self, batch: &[Observation]) -> Vec<Output> {
        let mut out = self.ingest(batch);
        self.correlate(&mut out);
        out
    }

    /// Feed observations without a final correlation: correlation then happens only when time
    /// moves forward (and at [`advance`](Self::advance)), so the outputs depend on the stream
    /// alone, not on how the shell happened to batch it. The collector uses this, and replay
    /// reproduces it exactly.
    pub fn ingest(&mut self, batch: &[Observation]) -> Vec<Output> {
        let mut out = Vec::new();
        let steps = self.state.thin.take(batch, thin::Rules::of(&self.cfg));
        for (obs, step) in batch.iter().zip(steps) {
            debug_assert!(!step.steady, "taking a batch makes no Steady");
            if step.pass {
                self.take(obs, &mut out);
            } else {
                // A repetition that changes nothing (`thin.rs`): only time moves, which is
                // output-neutral, so the full and the thinned stream give the same outputs.
                self.advance_to(obs.at, &mut out);
            }
        }
        out
    }

    /// Take one observation that thinning passed.
    fn take(&mut self, obs: &Observation, out: &mut Vec<Output>) {
        match obs.signal {
            Signal::CollectorStarted => {
                self.resume(obs.at);
                return;
            }
            Signal::Cabling { ref findings } => {
                self.advance_to(obs.at, out);
                self.record_cabling(findings, obs.at);
                return;
            }
            Signal::PollerHeartbeat {
                ref zone,
                ref poller,
            } => {
                self.advance_to(obs.at, out);
                self.poller_heartbeat(zone, poller, obs.at, out);
                return;
            }
            // Exactly what `advance` did live at this instant.
            Signal::ClockAdvance => {
                self.advance_to(obs.at, out);
                self.correlate(out);
                return;
            }
            _ => {}
        }
        // An observation older than the clock (a poller's buffered batch after a partition)
        // is taken at its own time: time does not move back.
        self.advance_to(obs.at, out);
        self.zone_heard(obs, out);
        if obs.signal.is_operator_action() {
            self.apply_operator(obs.at, &obs.signal, out);
            return;
        }
        self.apply(obs, out);
    }

    /// Thin a batch as received, before it is journaled (see `thin.rs` in the crate's
    /// source): the observations to journal and take, in order, and how many repetitions that
    /// change nothing were held back. A device seen whole in the batch is stood for by a
    /// [`Signal::Steady`] in `kept`. Does not change the
    /// engine: ingesting `kept` takes all of it.
    pub fn thin(&self, batch: Vec<Observation>) -> Thinned {
        let steps = self
            .state
            .thin
            .would_pass(&batch, thin::Rules::of(&self.cfg));
        let held = steps.iter().filter(|s| !s.pass).count();
        let mut kept = Vec::with_capacity(batch.len() - held);
        for (obs, step) in batch.into_iter().zip(steps) {
            let steady = step.steady.then(|| thin::steady_after(&obs));
            if step.pass {
                kept.push(obs);
            }
            kept.extend(steady);
        }
        Thinned { kept, held }
    }

    /// Advance time with no new observations: fires hold-downs and staleness due by `now`.
    pub fn advance(&mut self, now: UnixMillis) -> Vec<Output> {
        let mut out = Vec::new();
        self.advance_to(now, &mut out);
        self.correlate(&mut out);
        out
    }

    /// The collector was down until `at`: that silence is not the devices' fault. Everything
    /// last seen before `at` counts as seen at `at`, so staleness restarts from now instead of
    /// turning every device unknown (and resolving every incident) at the first tick.
    fn resume(&mut self, at: UnixMillis) {
        for tr in self.state.tracks.iter_mut() {
            if let Some(seen) = tr.last_seen
                && seen < at
            {
                tr.last_seen = Some(at);
            }
        }
        self.state.signals.resume(at);
        self.state.readiness.resume(at);
        self.state.pollers.resume(at);
        if at > self.state.now {
            self.state.now = at;
        }
    }

    /// Settle what changed: reachability, the HA invariants, the components' own states in the
    /// graph, then incidents. Only components whose inputs changed are revisited (those
    /// committed since the last correlation, devices whose reachability flipped, and the
    /// active-standby groups), which keeps a quiet correlation O(changes).
    fn correlate(&mut self, out: &mut Vec<Output>) {
        if !self.state.dirty {
            return;
        }
        self.state.dirty = false;
        let state = &mut self.state;
        state.reach.update(
            &self.layout.neighbourhood,
            &self.graph,
            &state.tracks,
            &mut state.touched,
        );
        let split = self.update_ha_invariants();
        self.update_readiness();
        let mut touched = std::mem::take(&mut self.state.touched);
        touched.extend(self.layout.ha_groups.iter().map(|g| g.comp(&self.graph)));
        touched.sort_unstable();
        touched.dedup();
        for c in touched {
            let s = self.graph_own(c);
            if self.state.own.get(c) != s {
                self.state.own.set(c, s);
                self.eval.set_own(c, s);
            }
        }
        self.eval.settle();
        self.reconcile_incidents(split, out);
    }

    /// Own state of component `c` as the graph should see it: its track's state, unknown for
    /// an unreachable device that is not up, unknown for what only a silent poller sees, and the
    /// HA invariant for groups.
    fn graph_own(&self, c: CompId) -> State {
        let tr = &self.state.tracks[c];
        match self.graph.comp(c) {
            // Only a silent poller could see it (`pollers.rs`): unknown, never down.
            Comp::Device(d) if self.device_blind(d) => State::Unknown,
            Comp::Link(l) if self.link_blind(l) => State::Unknown,
            Comp::Device(d) if self.state.reach.is_unreachable(d) && tr.effective != State::Up => {
                State::Unknown
            }
            Comp::Group(g) => self.group_ha_state(g),
            _ => tr.effective,
        }
    }
}
