//! faultline's correlation engine: a pure, deterministic state machine.
//!
//! Observations and time go in; component states, service states, re-poll requests and
//! incident transitions come out. Nothing here reads a clock or a socket: time is the `at` of
//! each observation, and deadlines (hold-downs, staleness) fire at their exact instants when time
//! is advanced, so a recorded stream replays to the same outputs regardless of how often the
//! shell called [`Engine::advance`].
//!
//! ```
//! use std::sync::Arc;
//! use faultline_engine::{Engine, EngineConfig, Output};
//! use faultline_graph::DependencyGraph;
//! use faultline_model::Topology;
//! use faultline_observe::{Observation, Signal, Subject};
//!
//! let topo = Topology::from_yaml_str(r#"
//! name: demo
//! devices:
//!   - {id: fw-a, kind: firewall}
//!   - {id: fw-b, kind: firewall}
//! groups:
//!   - {id: fw-pair, mode: active-standby, members: [fw-a, fw-b]}
//! services:
//!   - {id: portal, tier: critical, requires: [fw-pair]}
//! "#, "demo.yaml").unwrap();
//! let mut engine = Engine::new(Arc::new(DependencyGraph::new(topo)), EngineConfig::immediate());
//! let down = Signal::Reachability { ok: false, rtt_ms: None, loss: 1.0 };
//! let out = engine.observe(&Observation::new(1_000, Subject::device("fw-a"), down));
//! let opened: Vec<_> = out.iter().filter_map(|o| match o { Output::Transition(t) => Some(t), _ => None }).collect();
//! assert_eq!(opened.len(), 1);
//! assert_eq!(opened[0].incident.root_causes, vec!["fw-a".to_string()]);
//! ```

pub mod config;
mod snapshot;
mod track;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use faultline_graph::{CompId, DependencyGraph, Evaluation, State};
use faultline_incident::{
    AffectedService, Evidence, Incident, IncidentKind, IncidentStatus, IncidentTransition,
    Severity, Suspect, TransitionAction,
};
use faultline_model::{ComponentRef, GroupMode, Tier};
use faultline_observe::{HaRole, IfStatus, Observation, PollFailure, Signal, Subject, UnixMillis};
use serde::Serialize;

pub use config::{EngineConfig, Hold, Maintenance};
pub use snapshot::SnapshotError;
use track::{Fed, Track};

/// What the engine asks of the shell or reports to it.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// An incident opened, changed or resolved. Persist, then deliver.
    Transition(IncidentTransition),
    /// Poll these devices now (a device looks failed: confirm it and its upstream neighbours
    /// before deciding, so a child polled before its parent never pages as a root cause).
    Repoll(Vec<String>),
    /// A component's effective state changed.
    StateChanged {
        at: UnixMillis,
        id: String,
        from: State,
        to: State,
    },
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TimelineEntry {
    pub at: UnixMillis,
    pub subject: String,
    pub text: String,
}

/// A component as the engine sees it now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentStatus {
    pub id: String,
    pub kind: &'static str,
    /// State in the graph (own state and dependencies).
    pub state: State,
    /// Its own state after hold-down and reachability (`unknown` when unreachable or stale).
    pub own: State,
    pub monitored: bool,
    pub flapping: bool,
    pub unreachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<UnixMillis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha_role: Option<HaRole>,
}

/// A service: what the graph expects and what its probe observes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceStatus {
    pub id: String,
    pub name: String,
    pub tier: &'static str,
    /// Overall state (observed probe AND dependencies).
    pub state: State,
    /// What the dependency graph says the service should be.
    pub expected: State,
    /// What the service probe says (unknown when there is no probe or no fresh result).
    pub observed: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

/// Last probe result of a service: ok, HTTP status, detail, when.
type ProbeObs = (bool, Option<u16>, Option<String>, UnixMillis);

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
struct HaObs {
    role: HaRole,
    peer: Option<HaRole>,
    in_sync: Option<bool>,
    at: UnixMillis,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
struct DeviceSignals {
    reach: Option<(bool, UnixMillis)>,
    agent: Option<(bool, UnixMillis)>,
    auth_failure: bool,
    ha: Option<HaObs>,
    /// (from, to, at) of the last role change.
    role_change: Option<(HaRole, HaRole, UnixMillis)>,
    interfaces: BTreeMap<String, (IfStatus, IfStatus, UnixMillis)>,
    traffic: BTreeMap<String, (f64, f64, UnixMillis)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
enum DeadlineKind {
    Hold,
    Stale,
    /// Re-run correlation at this instant (a time-based rule such as split-brain hold).
    Recheck,
}

#[derive(Debug, Clone)]
struct OpenIncident {
    incident: Incident,
    fingerprint: String,
}

const EVENTS_PER_COMPONENT: usize = 24;

/// The correlation engine. See the crate docs.
pub struct Engine {
    graph: Arc<DependencyGraph>,
    cfg: EngineConfig,
    eval: Evaluation<Arc<DependencyGraph>>,
    now: UnixMillis,
    tracks: Vec<Track>,
    devices: Vec<DeviceSignals>,
    /// Per link: fresh oper status of end a and end b (true = up).
    link_ends: Vec<[Option<(bool, UnixMillis)>; 2]>,
    probes: Vec<Option<ProbeObs>>,
    deadlines: BinaryHeap<Reverse<(UnixMillis, DeadlineKind, u32)>>,
    /// Recent events per component (for evidence).
    events: Vec<VecDeque<Evidence>>,
    timeline: VecDeque<TimelineEntry>,
    open: BTreeMap<String, OpenIncident>,
    resolved: VecDeque<Incident>,
    seq: u64,
    /// Device → neighbour devices over links (static).
    neighbours: Vec<Vec<u32>>,
    /// Hop distance from the collector over links (static), u32::MAX when not connected.
    distance: Vec<u32>,
    collector: Option<u32>,
    unreachable: Vec<bool>,
    /// Components in each service's dependency closure.
    closures: Vec<Vec<CompId>>,
    stamp: Vec<u32>,
    epoch: u32,
    dirty: bool,
    split_since: BTreeMap<usize, UnixMillis>,
    no_active_since: BTreeMap<usize, UnixMillis>,
    /// The incident key each failing service was last merged into.
    service_host: HashMap<usize, String>,
    /// Components whose graph-own state must be recomputed at the next correlation.
    touched: Vec<CompId>,
    /// Active-standby groups (their own state follows the HA invariants).
    ha_groups: Vec<CompId>,
    /// Components whose own state in the graph is down (root-cause candidates).
    own_down: BTreeSet<CompId>,
}

fn comp_kind(c: ComponentRef) -> &'static str {
    c.kind_name()
}

fn tier_severity(t: Tier) -> Severity {
    match t {
        Tier::Critical | Tier::High => Severity::Critical,
        Tier::Normal => Severity::Error,
        Tier::Low => Severity::Warning,
    }
}

fn fmt_time(ms: UnixMillis) -> String {
    // Seconds since the epoch, UTC, as HH:MM:SS within the day: enough for a timeline.
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

impl Engine {
    pub fn new(graph: Arc<DependencyGraph>, cfg: EngineConfig) -> Engine {
        let t = graph.topology();
        let n = graph.component_count();
        let mut tracks: Vec<Track> = (0..n).map(|_| Track::new(false)).collect();
        for id in &cfg.monitored {
            if let Ok(c) = graph.lookup(id) {
                tracks[c.0 as usize] = Track::new(true);
            }
        }
        let mut neighbours = vec![Vec::new(); t.devices.len()];
        for l in &t.links {
            neighbours[l.a_device as usize].push(l.b_device);
            neighbours[l.b_device as usize].push(l.a_device);
        }
        let collector = t.collector.as_deref().and_then(|c| match t.resolve(c) {
            Some(ComponentRef::Device(i)) => Some(i as u32),
            _ => None,
        });
        let mut distance = vec![u32::MAX; t.devices.len()];
        if let Some(c) = collector {
            let mut q = VecDeque::from([c]);
            distance[c as usize] = 0;
            while let Some(d) = q.pop_front() {
                for &nb in &neighbours[d as usize] {
                    if distance[nb as usize] == u32::MAX {
                        distance[nb as usize] = distance[d as usize] + 1;
                        q.push_back(nb);
                    }
                }
            }
        }
        let closures = (0..t.services.len())
            .map(|i| graph.owners(&graph.descendants(graph.service_node(i))))
            .collect();
        let mut eval = Evaluation::new(graph.clone());
        for (i, tr) in tracks.iter().enumerate() {
            if tr.effective != State::Up {
                eval.set_own(CompId(i as u32), tr.effective);
            }
        }
        eval.settle();
        Engine {
            eval,
            cfg,
            now: 0,
            devices: vec![DeviceSignals::default(); t.devices.len()],
            link_ends: vec![[None, None]; t.links.len()],
            probes: vec![None; t.services.len()],
            deadlines: BinaryHeap::new(),
            events: vec![VecDeque::new(); n],
            timeline: VecDeque::new(),
            open: BTreeMap::new(),
            resolved: VecDeque::new(),
            seq: 0,
            unreachable: vec![false; t.devices.len()],
            neighbours,
            distance,
            collector,
            closures,
            stamp: Vec::new(),
            epoch: 0,
            dirty: true,
            split_since: BTreeMap::new(),
            no_active_since: BTreeMap::new(),
            touched: (0..n as u32).map(CompId).collect(),
            ha_groups: t
                .groups
                .iter()
                .enumerate()
                .filter(|(_, g)| g.mode == GroupMode::ActiveStandby)
                .map(|(i, _)| graph.comp_id(ComponentRef::Group(i)))
                .collect(),
            own_down: BTreeSet::new(),
            service_host: HashMap::new(),
            tracks,
            graph,
        }
    }

    pub fn graph(&self) -> &Arc<DependencyGraph> {
        &self.graph
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    pub fn now(&self) -> UnixMillis {
        self.now
    }

    /// Last transition sequence number issued.
    pub fn seq(&self) -> u64 {
        self.seq
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
        for obs in batch {
            if matches!(obs.signal, Signal::CollectorStarted) {
                self.resume(obs.at);
                continue;
            }
            self.advance_to(obs.at, &mut out);
            self.apply(obs, &mut out);
        }
        out
    }

    /// The collector was down until `at`: that silence is not the devices' fault. Everything
    /// last seen before `at` counts as seen at `at`, so staleness restarts from now instead of
    /// turning every device unknown (and resolving every incident) at the first tick.
    fn resume(&mut self, at: UnixMillis) {
        for tr in &mut self.tracks {
            if let Some(seen) = tr.last_seen
                && seen < at
            {
                tr.last_seen = Some(at);
            }
        }
        for d in &mut self.devices {
            for v in [&mut d.reach, &mut d.agent].into_iter().flatten() {
                v.1 = v.1.max(at);
            }
            if let Some(h) = &mut d.ha {
                h.at = h.at.max(at);
            }
        }
        for e in self.link_ends.iter_mut().flatten().flatten() {
            e.1 = e.1.max(at);
        }
        if at > self.now {
            self.now = at;
        }
    }

    /// Advance time with no new observations: fires hold-downs and staleness due by `now`.
    pub fn advance(&mut self, now: UnixMillis) -> Vec<Output> {
        let mut out = Vec::new();
        self.advance_to(now, &mut out);
        self.correlate(&mut out);
        out
    }

    /// Open incidents by key (root cause id, or `split-brain:GROUP`), for the shell to restore
    /// nothing twice after a restart: the ids are deterministic functions of the journal.
    pub fn incident_keys(&self) -> Vec<String> {
        self.open.keys().cloned().collect()
    }

    fn hold_for(&self, c: CompId) -> Hold {
        match self.graph.comp_ref(c) {
            ComponentRef::Link(_) => self.cfg.link,
            ComponentRef::Service(_) => self.cfg.probe,
            _ => self.cfg.device,
        }
    }

    fn advance_to(&mut self, now: UnixMillis, out: &mut Vec<Output>) {
        while let Some(&Reverse((at, kind, c))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            // Correlate at every instant where something is due, so that transitions carry
            // the exact time they became true.
            if at > self.now {
                self.correlate(out);
                self.now = at;
            }
            let cid = CompId(c);
            let fed = match kind {
                DeadlineKind::Recheck => {
                    self.dirty = true;
                    Fed::Nothing
                }
                DeadlineKind::Hold => {
                    let hold = self.hold_for(cid);
                    self.tracks[c as usize].expire(at, hold)
                }
                DeadlineKind::Stale => {
                    self.tracks[c as usize].stale_armed = false;
                    let tr = &self.tracks[c as usize];
                    match tr.last_seen {
                        Some(seen) if seen + self.cfg.stale_after_ms <= at => {
                            self.note(
                                cid,
                                at,
                                format!("no data since {}: unknown", fmt_time(seen)),
                            );
                            // Device signals are stale too: forget them so they cannot vote.
                            if let ComponentRef::Device(d) = self.graph.comp_ref(cid) {
                                let s = &mut self.devices[d];
                                s.reach = None;
                                s.agent = None;
                            }
                            self.tracks[c as usize].go_stale(at)
                        }
                        Some(seen) => {
                            self.tracks[c as usize].stale_armed = true;
                            self.deadlines.push(Reverse((
                                seen + self.cfg.stale_after_ms,
                                DeadlineKind::Stale,
                                c,
                            )));
                            Fed::Nothing
                        }
                        None => Fed::Nothing,
                    }
                }
            };
            self.after_feed(cid, fed, at, out);
        }
        if now > self.now {
            self.correlate(out);
            self.now = now;
        }
    }

    fn after_feed(&mut self, c: CompId, fed: Fed, at: UnixMillis, out: &mut Vec<Output>) {
        match fed {
            Fed::Nothing => {}
            Fed::Pending(deadline) => {
                self.deadlines
                    .push(Reverse((deadline, DeadlineKind::Hold, c.0)))
            }
            Fed::Committed { from, to } => {
                self.touched.push(c);
                let id = self.graph.id_of(c).to_string();
                let flap = if self.tracks[c.0 as usize].flapping {
                    " (flapping)"
                } else {
                    ""
                };
                // First sightings (unknown -> up) are not news.
                if !(from == State::Unknown && to == State::Up) {
                    self.note(c, at, format!("{} -> {}{flap}", from.as_str(), to.as_str()));
                }
                out.push(Output::StateChanged { at, id, from, to });
                self.dirty = true;
            }
        }
    }

    fn note(&mut self, c: CompId, at: UnixMillis, text: String) {
        let subject = self.graph.id_of(c).to_string();
        let ev = &mut self.events[c.0 as usize];
        if ev.len() == EVENTS_PER_COMPONENT {
            ev.pop_front();
        }
        ev.push_back(Evidence {
            at,
            subject: subject.clone(),
            text: text.clone(),
        });
        if self.timeline.len() >= self.cfg.timeline_capacity.max(1) {
            self.timeline.pop_front();
        }
        self.timeline.push_back(TimelineEntry { at, subject, text });
    }

    fn feed(&mut self, c: CompId, raw: State, at: UnixMillis, out: &mut Vec<Output>) {
        let hold = self.hold_for(c);
        let flap = (self.cfg.flap_samples, self.cfg.flap_high, self.cfg.flap_low);
        let was_raw = self.tracks[c.0 as usize].raw;
        let was_flapping = self.tracks[c.0 as usize].flapping;
        let fed = self.tracks[c.0 as usize].feed(raw, at, hold, flap);
        match (was_flapping, self.tracks[c.0 as usize].flapping) {
            (false, true) => self.note(
                c,
                at,
                "started flapping: recovery held until it settles".into(),
            ),
            (true, false) => self.note(c, at, "stopped flapping".into()),
            _ => {}
        }
        // One staleness deadline per component at a time; it re-arms itself when it fires
        // early (data kept arriving), so the queue stays bounded by the component count.
        if !self.tracks[c.0 as usize].stale_armed {
            self.tracks[c.0 as usize].stale_armed = true;
            self.deadlines.push(Reverse((
                at + self.cfg.stale_after_ms,
                DeadlineKind::Stale,
                c.0,
            )));
        }
        if raw != was_raw {
            // A raw change may unblock or block reachability even before it is committed.
            self.dirty = true;
            if raw == State::Down
                && let ComponentRef::Device(d) = self.graph.comp_ref(c)
            {
                out.push(Output::Repoll(self.repoll_set(d as u32)));
            }
        }
        self.after_feed(c, fed, at, out);
    }

    /// The device and its neighbours one hop closer to the collector.
    fn repoll_set(&self, d: u32) -> Vec<String> {
        let t = self.graph.topology();
        let mut ids = vec![t.devices[d as usize].id.clone()];
        let my = self.distance[d as usize];
        let mut up: Vec<&u32> = self.neighbours[d as usize]
            .iter()
            .filter(|n| self.distance[**n as usize] < my)
            .collect();
        up.sort_unstable();
        up.dedup();
        ids.extend(up.into_iter().map(|n| t.devices[*n as usize].id.clone()));
        ids
    }

    fn fresh(&self, at: UnixMillis) -> bool {
        at + self.cfg.stale_after_ms > self.now
    }

    fn device_raw(&self, d: usize) -> State {
        let s = &self.devices[d];
        if let Some(h) = s.ha
            && h.role == HaRole::Failed
            && self.fresh(h.at)
        {
            return State::Down;
        }
        let votes = [s.reach, s.agent];
        let fresh: Vec<bool> = votes
            .iter()
            .flatten()
            .filter(|(_, at)| self.fresh(*at))
            .map(|(ok, _)| *ok)
            .collect();
        if fresh.iter().any(|ok| *ok) {
            State::Up
        } else if !fresh.is_empty() {
            State::Down
        } else if s
            .ha
            .is_some_and(|h| self.fresh(h.at) && h.role != HaRole::Unknown)
        {
            // The HA MIB answered, so the device's management plane is alive.
            State::Up
        } else {
            State::Unknown
        }
    }

    fn apply(&mut self, obs: &Observation, out: &mut Vec<Output>) {
        let at = obs.at;
        let g = self.graph.clone();
        let t = g.topology();
        match (&obs.subject, &obs.signal) {
            (Subject::Device { device }, signal) => {
                let Some(ComponentRef::Device(d)) = t.resolve(device) else {
                    return;
                };
                let c = g.comp_id(ComponentRef::Device(d));
                match signal {
                    Signal::Reachability { ok, loss, .. } => {
                        if !ok && self.devices[d].reach.is_none_or(|(was, _)| was) {
                            self.note(c, at, format!("ICMP: {:.0}% loss", loss * 100.0));
                        }
                        self.devices[d].reach = Some((*ok, at));
                    }
                    Signal::AgentUp => {
                        self.devices[d].agent = Some((true, at));
                        self.devices[d].auth_failure = false;
                    }
                    Signal::AgentDown { reason } => match reason {
                        // Wrong credentials say nothing about the device being down.
                        PollFailure::AuthFailure => {
                            if !self.devices[d].auth_failure {
                                self.note(
                                    c,
                                    at,
                                    "SNMP authentication failure (credentials, not the device)"
                                        .into(),
                                );
                            }
                            self.devices[d].auth_failure = true;
                            return;
                        }
                        PollFailure::Local => return,
                        r => {
                            if self.devices[d].agent.is_none_or(|(ok, _)| ok) {
                                self.note(c, at, format!("SNMP poll failed: {r:?}").to_lowercase());
                            }
                            self.devices[d].agent = Some((false, at));
                        }
                    },
                    Signal::Rebooted { cold } => {
                        self.note(
                            c,
                            at,
                            if *cold {
                                "rebooted (cold start)".into()
                            } else {
                                "agent restarted (warm start)".into()
                            },
                        );
                        return;
                    }
                    Signal::HaRole {
                        role,
                        peer,
                        in_sync,
                    } => {
                        let prev = self.devices[d].ha.map(|h| h.role);
                        if let Some(p) = prev
                            && p != *role
                        {
                            self.devices[d].role_change = Some((p, *role, at));
                            self.note(c, at, format!("HA role {p:?} -> {role:?}").to_lowercase());
                        }
                        if *in_sync == Some(false)
                            && self.devices[d].ha.and_then(|h| h.in_sync) != Some(false)
                        {
                            self.note(c, at, "HA configuration out of sync with peer".into());
                        }
                        self.devices[d].ha = Some(HaObs {
                            role: *role,
                            peer: *peer,
                            in_sync: *in_sync,
                            at,
                        });
                        self.dirty = true;
                    }
                    Signal::Traffic { in_bps, out_bps } => {
                        self.devices[d]
                            .traffic
                            .insert(String::new(), (*in_bps, *out_bps, at));
                        return;
                    }
                    Signal::RawTrap { trap_oid, .. } => {
                        self.note(c, at, format!("trap {trap_oid}"));
                        return;
                    }
                    Signal::Uptime { .. }
                    | Signal::Interface { .. }
                    | Signal::Probe { .. }
                    | Signal::CollectorStarted
                    | Signal::Readiness { .. } => {
                        return;
                    }
                }
                let raw = self.device_raw(d);
                self.feed(c, raw, at, out);
            }
            (Subject::Interface { device, interface }, signal) => {
                let Some(ComponentRef::Device(d)) = t.resolve(device) else {
                    return;
                };
                match signal {
                    Signal::Interface { oper, admin, .. } => {
                        let prev = self.devices[d]
                            .interfaces
                            .insert(interface.clone(), (*oper, *admin, at));
                        let changed = prev.map(|p| p.0) != Some(*oper);
                        let name = format!("{device}:{interface}");
                        if let Some(ComponentRef::Link(l)) = t.resolve(&name) {
                            let link = &t.links[l];
                            let end = usize::from(link.a_device as usize != d);
                            let up = *oper == IfStatus::Up;
                            self.link_ends[l][end] = Some((up, at));
                            let lc = g.comp_id(ComponentRef::Link(l));
                            if changed && prev.is_some() {
                                self.note(lc, at, format!("{name} oper {oper:?}").to_lowercase());
                            }
                            let raw = self.link_raw(l);
                            self.feed(lc, raw, at, out);
                        } else if changed && prev.is_some() {
                            let c = g.comp_id(ComponentRef::Device(d));
                            self.note(
                                c,
                                at,
                                format!("interface {interface} oper {oper:?}").to_lowercase(),
                            );
                        }
                    }
                    Signal::Traffic { in_bps, out_bps } => {
                        self.devices[d]
                            .traffic
                            .insert(interface.clone(), (*in_bps, *out_bps, at));
                    }
                    _ => {}
                }
            }
            (
                Subject::Service { service },
                Signal::Probe {
                    ok, status, detail, ..
                },
            ) => {
                let Some(ComponentRef::Service(s)) = t.resolve(service) else {
                    return;
                };
                let c = g.comp_id(ComponentRef::Service(s));
                let prev_ok = self.probes[s].as_ref().map(|p| p.0);
                // The first answer is not news unless it is a failure.
                if prev_ok.is_some_and(|p| p != *ok) || (prev_ok.is_none() && !ok) {
                    let what = match (status, detail) {
                        (Some(st), _) => format!("HTTP {st}"),
                        (None, Some(d)) => d.clone(),
                        _ => String::new(),
                    };
                    self.note(
                        c,
                        at,
                        format!("probe {} {what}", if *ok { "ok" } else { "FAILED" })
                            .trim_end()
                            .to_string(),
                    );
                }
                self.probes[s] = Some((*ok, *status, detail.clone(), at));
                self.feed(c, if *ok { State::Up } else { State::Down }, at, out);
            }
            _ => {}
        }
    }

    fn link_raw(&self, l: usize) -> State {
        let ends: Vec<bool> = self.link_ends[l]
            .iter()
            .flatten()
            .filter(|(_, at)| self.fresh(*at))
            .map(|(up, _)| *up)
            .collect();
        if ends.iter().any(|up| !up) {
            State::Down
        } else if ends.is_empty() {
            State::Unknown
        } else {
            State::Up
        }
    }

    /// Which failed devices cannot be told apart from "behind a failure": BFS from the collector
    /// over links, through devices and links that are neither failed nor pending failure. A
    /// failed device adjacent to the reachable region is really down; one that is not is
    /// unreachable. Redundant paths count: one live uplink is enough.
    fn compute_reachability(&mut self) {
        let Some(col) = self.collector else { return };
        let t = self.graph.topology();
        let n = t.devices.len();
        let dev_bad = |tr: &Track| tr.effective == State::Down || tr.raw == State::Down;
        let blocked: Vec<bool> = (0..n).map(|d| dev_bad(&self.tracks[d])).collect();
        // Usable links between device pairs.
        let link_ok = |l: usize| {
            let tr = &self.tracks[n + l];
            !(tr.effective == State::Down || tr.raw == State::Down)
        };
        let mut adj_ok: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, l) in t.links.iter().enumerate() {
            if link_ok(i) {
                adj_ok[l.a_device as usize].push(l.b_device);
                adj_ok[l.b_device as usize].push(l.a_device);
            }
        }
        let mut reach = vec![false; n];
        if !blocked[col as usize] {
            reach[col as usize] = true;
            let mut q = VecDeque::from([col]);
            while let Some(d) = q.pop_front() {
                for &nb in &adj_ok[d as usize] {
                    if !reach[nb as usize] && !blocked[nb as usize] {
                        reach[nb as usize] = true;
                        q.push_back(nb);
                    }
                }
            }
        }
        for d in 0..n {
            // Devices with no links at all cannot be placed: judge them on their own data.
            let placed = !self.neighbours[d].is_empty();
            let un = placed
                && d as u32 != col
                && !reach[d]
                && !adj_ok[d].iter().any(|nb| reach[*nb as usize]);
            if un != self.unreachable[d] {
                self.unreachable[d] = un;
                self.touched.push(CompId(d as u32));
            }
        }
    }

    /// Own state as the graph should see it.
    fn graph_own(&self, c: CompId) -> State {
        let tr = &self.tracks[c.0 as usize];
        match self.graph.comp_ref(c) {
            ComponentRef::Device(d) if self.unreachable[d] && tr.effective != State::Up => {
                State::Unknown
            }
            ComponentRef::Group(gi) => self.group_ha_state(gi),
            _ => tr.effective,
        }
    }

    /// Active-standby invariant: with every member's role fresh and known, no active member
    /// means the group is down, whatever the members' liveness says. Like split brain, the
    /// condition must last the device hold-down: during a normal failover there is a moment
    /// when the old active is dead and the spare not yet promoted.
    fn update_ha_invariants(&mut self) {
        let t = self.graph.clone();
        let t = t.topology();
        for (gi, g) in t.groups.iter().enumerate() {
            if g.mode != GroupMode::ActiveStandby {
                continue;
            }
            let roles = self.member_roles(gi);
            let none_active = roles.len() == g.members.len()
                && !roles.is_empty()
                && !roles.iter().any(|(_, r)| *r == HaRole::Active);
            if !none_active {
                self.no_active_since.remove(&gi);
                continue;
            }
            let since = *self.no_active_since.entry(gi).or_insert(self.now);
            if since + self.cfg.device.down_ms > self.now {
                let gid = self.graph.comp_id(ComponentRef::Group(gi));
                self.deadlines.push(Reverse((
                    since + self.cfg.device.down_ms,
                    DeadlineKind::Recheck,
                    gid.0,
                )));
            }
        }
    }

    fn group_ha_state(&self, gi: usize) -> State {
        match self.no_active_since.get(&gi) {
            Some(since) if since + self.cfg.device.down_ms <= self.now => State::Down,
            _ => State::Up,
        }
    }

    /// Known roles of an active-standby group's members. A member that looks dead (failing or
    /// pending failure) is `Failed` whatever it last said: a dead box's last "active" is history.
    fn member_roles(&self, gi: usize) -> Vec<(usize, HaRole)> {
        let t = self.graph.topology();
        t.groups[gi]
            .members
            .iter()
            .filter_map(|m| match t.resolve(m) {
                Some(ComponentRef::Device(d)) => {
                    let tr = &self.tracks[d];
                    // Answering now (raw up) means its role report is current, even while the
                    // recovery hold keeps it down in the graph.
                    if tr.raw == State::Down || (tr.effective == State::Down && tr.raw != State::Up)
                    {
                        return Some((d, HaRole::Failed));
                    }
                    self.devices[d]
                        .ha
                        .filter(|h| self.fresh(h.at) && h.role != HaRole::Unknown)
                        .map(|h| (d, h.role))
                }
                _ => None,
            })
            .collect()
    }

    fn correlate(&mut self, out: &mut Vec<Output>) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        self.compute_reachability();
        self.update_ha_invariants();
        // Only components whose inputs changed can change their own state in the graph: those
        // committed since the last correlation, devices whose reachability flipped, and the
        // active-standby groups (HA invariants). This keeps a quiet correlation O(changes).
        let mut touched = std::mem::take(&mut self.touched);
        touched.extend(self.ha_groups.iter().copied());
        touched.sort_unstable();
        touched.dedup();
        for c in touched {
            let s = self.graph_own(c);
            if self.eval.own(c) != s {
                self.eval.set_own(c, s);
                if s == State::Down {
                    self.own_down.insert(c);
                } else {
                    self.own_down.remove(&c);
                }
            }
        }
        self.eval.settle();
        self.reconcile_incidents(out);
    }

    fn in_maintenance(&self, id: &str) -> bool {
        self.cfg
            .maintenance
            .iter()
            .any(|m| m.from <= self.now && self.now < m.to && m.components.iter().any(|c| c == id))
    }

    fn reconcile_incidents(&mut self, out: &mut Vec<Output>) {
        let g = self.graph.clone();
        let t = g.topology();
        let now = self.now;
        // Root causes: own state down, dependencies available.
        let mut roots: Vec<CompId> = Vec::new();
        for i in 0..g.component_count() {
            let c = CompId(i as u32);
            if self.eval.own(c) == State::Down
                && self.eval.dependencies_state(g.canonical(c)).is_available()
            {
                roots.push(c);
            }
        }
        // Services above each non-service root; and, per service, the roots below it.
        let mut above: BTreeMap<CompId, Vec<usize>> = BTreeMap::new();
        let mut below: HashMap<usize, Vec<CompId>> = HashMap::new();
        let mut buf = Vec::new();
        for &r in &roots {
            if matches!(g.comp_ref(r), ComponentRef::Service(_)) {
                continue;
            }
            g.services_above_with(&[r], &mut self.stamp, &mut self.epoch, &mut buf);
            for &s in &buf {
                below.entry(s).or_default().push(r);
            }
            above.insert(r, buf.clone());
        }
        // Desired incidents: key → (root, merged failed services).
        let mut hosts: HashMap<usize, String> = HashMap::new();
        let mut desired: BTreeMap<String, (CompId, Vec<usize>)> = BTreeMap::new();
        for &r in &roots {
            match g.comp_ref(r) {
                ComponentRef::Service(s) => {
                    // A service that fails while its dependencies are only degraded is merged
                    // into the incident of the failed component below it (the most recent):
                    // the firewall alarm and the portal alarm are one page.
                    let host = below.get(&s).and_then(|rs| {
                        rs.iter()
                            .copied()
                            .max_by_key(|c| (self.tracks[c.0 as usize].changed_at, Reverse(c.0)))
                    });
                    // Sticky: once merged, a service stays with that incident while it is
                    // still failing, even if the component below recovered first (recovery
                    // holds end at different instants): no second page for one outage.
                    let sticky = || {
                        let key = self.service_host.get(&s)?;
                        if !self.open.contains_key(key) {
                            return None;
                        }
                        g.lookup(key).ok()
                    };
                    let key_root = host.or_else(sticky).unwrap_or(r);
                    hosts.insert(s, g.id_of(key_root).to_string());
                    desired
                        .entry(g.id_of(key_root).to_string())
                        .or_insert((key_root, Vec::new()))
                        .1
                        .push(s);
                }
                _ => {
                    desired
                        .entry(g.id_of(r).to_string())
                        .or_insert((r, Vec::new()));
                }
            }
        }
        self.service_host = hosts;
        // Split brain: more than one active member, for longer than the device hold-down (both
        // members briefly claim the role during a normal failover).
        let mut split: Vec<(usize, Vec<usize>)> = Vec::new();
        for (gi, grp) in t.groups.iter().enumerate() {
            if grp.mode != GroupMode::ActiveStandby {
                continue;
            }
            let actives: Vec<usize> = self
                .member_roles(gi)
                .into_iter()
                .filter(|(_, r)| *r == HaRole::Active)
                .map(|(d, _)| d)
                .collect();
            if actives.len() > 1 {
                let since = *self.split_since.entry(gi).or_insert(now);
                if since + self.cfg.device.down_ms <= now {
                    split.push((gi, actives));
                } else {
                    let gid = g.comp_id(ComponentRef::Group(gi));
                    self.deadlines.push(Reverse((
                        since + self.cfg.device.down_ms,
                        DeadlineKind::Recheck,
                        gid.0,
                    )));
                }
            } else {
                self.split_since.remove(&gi);
            }
        }

        let mut next: BTreeMap<String, Incident> = BTreeMap::new();
        for (key, (root, failed_services)) in &desired {
            let inc = self.build_incident(
                key,
                *root,
                failed_services,
                above.get(root).map(Vec::as_slice).unwrap_or(&[]),
            );
            next.insert(key.clone(), inc);
        }
        for (gi, actives) in split {
            let gid = g.comp_id(ComponentRef::Group(gi));
            let key = format!("split-brain:{}", t.groups[gi].id);
            g.services_above_with(&[gid], &mut self.stamp, &mut self.epoch, &mut buf);
            let mut inc = self.build_incident(&key, gid, &[], &buf.clone());
            inc.kind = IncidentKind::SplitBrain;
            inc.severity = Severity::Critical;
            let names: Vec<&str> = actives.iter().map(|d| t.devices[*d].id.as_str()).collect();
            inc.title = format!(
                "split brain in {}: {} all active",
                t.groups[gi].id,
                names.join(" and ")
            );
            inc.suspects = names
                .iter()
                .map(|n| Suspect {
                    component: n.to_string(),
                    reason: "reports itself active".into(),
                    score: 0.9,
                })
                .collect();
            next.insert(key, inc);
        }

        // Diff against what is open: trigger, update, resolve.
        let closing: Vec<String> = self
            .open
            .keys()
            .filter(|k| !next.contains_key(*k))
            .cloned()
            .collect();
        for key in closing {
            if let Some(mut o) = self.open.remove(&key) {
                o.incident.status = IncidentStatus::Resolved;
                o.incident.resolved_at = Some(now);
                o.incident.updated_at = now;
                o.incident.evidence.push(Evidence {
                    at: now,
                    subject: o.incident.root_causes.join(","),
                    text: "recovered: incident resolved".into(),
                });
                self.seq += 1;
                out.push(Output::Transition(IncidentTransition {
                    seq: self.seq,
                    action: TransitionAction::Resolve,
                    at: now,
                    incident: o.incident.clone(),
                }));
                if self.resolved.len() >= 1000 {
                    self.resolved.pop_front();
                }
                self.resolved.push_back(o.incident);
            }
        }
        for (key, mut inc) in next {
            let fp = fingerprint(&inc);
            match self.open.get_mut(&key) {
                None => {
                    inc.opened_at = now;
                    inc.updated_at = now;
                    inc.id = format!("{key}@{now}");
                    self.seq += 1;
                    out.push(Output::Transition(IncidentTransition {
                        seq: self.seq,
                        action: TransitionAction::Trigger,
                        at: now,
                        incident: inc.clone(),
                    }));
                    self.open.insert(
                        key,
                        OpenIncident {
                            incident: inc,
                            fingerprint: fp,
                        },
                    );
                }
                Some(o) => {
                    inc.id = o.incident.id.clone();
                    inc.opened_at = o.incident.opened_at;
                    let changed = o.fingerprint != fp;
                    inc.updated_at = if changed { now } else { o.incident.updated_at };
                    o.incident = inc;
                    if changed {
                        o.fingerprint = fp;
                        self.seq += 1;
                        out.push(Output::Transition(IncidentTransition {
                            seq: self.seq,
                            action: TransitionAction::Update,
                            at: now,
                            incident: o.incident.clone(),
                        }));
                    }
                }
            }
        }
    }

    fn build_incident(
        &self,
        key: &str,
        root: CompId,
        failed_services: &[usize],
        above: &[usize],
    ) -> Incident {
        let g = &self.graph;
        let t = g.topology();
        let root_id = g.id_of(root).to_string();
        let mut services: BTreeSet<usize> = above.iter().copied().collect();
        services.extend(failed_services.iter().copied());
        let mut affected = Vec::new();
        let mut severity = Severity::Info;
        let mut any_down = false;
        for &s in &services {
            let sv = &t.services[s];
            let st = self.eval.component(g.comp_id(ComponentRef::Service(s)));
            if st == State::Up {
                continue;
            }
            let sev = match st {
                State::Down => {
                    any_down = true;
                    tier_severity(sv.tier)
                }
                _ => Severity::Warning,
            };
            severity = severity.max(sev);
            affected.push(AffectedService {
                id: sv.id.clone(),
                name: sv.name.clone(),
                tier: sv.tier.as_str().to_string(),
                state: st.as_str().to_string(),
                tags: sv.tags.clone(),
            });
        }
        let root_is_service = matches!(g.comp_ref(root), ComponentRef::Service(_));
        let mut suspects = Vec::new();
        let mut evidence: Vec<Evidence> = self.events[root.0 as usize].iter().cloned().collect();
        let kind;
        let title;
        if !failed_services.is_empty() {
            let s = failed_services[0];
            let sv = &t.services[s];
            let expected = self.eval.dependencies_state(g.service_node(s));
            let role_changes = self.recent_role_changes(s);
            let failover =
                !root_is_service || expected == State::Degraded || !role_changes.is_empty();
            suspects = self.suspects(s, root);
            for c in &self.closures[s] {
                evidence.extend(
                    self.events[c.0 as usize]
                        .iter()
                        .filter(|e| e.at + self.cfg.failover_window_ms >= self.now)
                        .cloned(),
                );
            }
            if failover {
                kind = IncidentKind::FailoverIneffective;
                title = match role_changes.first() {
                    Some((d, _)) => format!(
                        "failover ineffective: {} is down although {} took over{}",
                        sv.name,
                        t.devices[*d].id,
                        if root_is_service {
                            String::new()
                        } else {
                            format!(" from {root_id}")
                        }
                    ),
                    None => format!(
                        "failover ineffective: {} is down although redundancy should carry {root_id}'s failure",
                        sv.name
                    ),
                };
            } else {
                kind = IncidentKind::UnexplainedServiceFailure;
                title = format!("{} is down and nothing it depends on has failed", sv.name);
            }
            severity = severity.max(tier_severity(sv.tier)).max(Severity::Error);
        } else if any_down {
            kind = IncidentKind::ServiceDown;
            title = format!(
                "{root_id} failed: {} down",
                affected
                    .iter()
                    .filter(|a| a.state == "down")
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        } else {
            kind = IncidentKind::RedundancyLost;
            title = if affected.is_empty() {
                format!("{root_id} failed (no service affected)")
            } else {
                format!(
                    "{root_id} failed: redundancy lost for {}",
                    affected
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            if !affected.is_empty() {
                severity = Severity::Warning;
            }
        }
        evidence.sort_by(|a, b| (a.at, &a.subject, &a.text).cmp(&(b.at, &b.subject, &b.text)));
        evidence.dedup();
        // Maintenance (Checkmk BI rule): a component in maintenance excuses only what its own
        // failure takes down. A redundant member under maintenance does not excuse an outage.
        let suppressed = self.in_maintenance(&root_id) && {
            let maint: Vec<&str> = self
                .cfg
                .maintenance
                .iter()
                .filter(|m| m.from <= self.now && self.now < m.to)
                .flat_map(|m| m.components.iter().map(String::as_str))
                .collect();
            let excused = g.what_if(&maint).ok();
            affected.iter().filter(|a| a.state == "down").all(|a| {
                excused.as_ref().is_some_and(|r| {
                    r.services
                        .iter()
                        .any(|x| x.id == a.id && x.state == State::Down)
                })
            }) && failed_services.is_empty()
        };
        Incident {
            id: key.to_string(),
            kind,
            severity,
            title,
            root_causes: if root_is_service {
                Vec::new()
            } else {
                vec![root_id]
            },
            affected_services: affected,
            suspects,
            evidence,
            status: IncidentStatus::Open,
            opened_at: self.now,
            updated_at: self.now,
            resolved_at: None,
            suppressed,
        }
    }

    /// Devices in a service's closure that became active within the failover window.
    fn recent_role_changes(&self, s: usize) -> Vec<(usize, UnixMillis)> {
        let g = &self.graph;
        let mut out: Vec<(usize, UnixMillis)> = self.closures[s]
            .iter()
            .filter_map(|c| match g.comp_ref(*c) {
                ComponentRef::Device(d) => self.devices[d]
                    .role_change
                    .filter(|(_, to, at)| {
                        *to == HaRole::Active && at + self.cfg.failover_window_ms >= self.now
                    })
                    .map(|(_, _, at)| (d, at)),
                _ => None,
            })
            .collect();
        out.sort_by_key(|(d, at)| (Reverse(*at), *d));
        out
    }

    /// Rank what may have made a failover ineffective for service `s`.
    fn suspects(&self, s: usize, root: CompId) -> Vec<Suspect> {
        let g = &self.graph;
        let t = g.topology();
        let window = self.cfg.failover_window_ms;
        let mut out: Vec<Suspect> = Vec::new();
        let fail_at = self.tracks[g.comp_id(ComponentRef::Service(s)).0 as usize].changed_at;
        for (d, at) in self.recent_role_changes(s) {
            let dev = &t.devices[d].id;
            let delta = fail_at.saturating_sub(at) / 1000;
            out.push(Suspect { component: dev.clone(), reason: format!("became active at {} ({delta} s before the service failed): check its NAT/VIP, routes and config", fmt_time(at)), score: 0.9 });
            let sig = &self.devices[d];
            for (ifname, (oper, admin, seen)) in &sig.interfaces {
                if *oper != IfStatus::Up && *admin == IfStatus::Up && self.fresh(*seen) {
                    out.push(Suspect {
                        component: format!("{dev}:{ifname}"),
                        reason: format!("interface {oper:?} on the newly active member")
                            .to_lowercase(),
                        score: 0.85,
                    });
                }
            }
            if sig.ha.and_then(|h| h.peer) == Some(HaRole::Active) {
                out.push(Suspect {
                    component: dev.clone(),
                    reason: "sees its peer as active too (possible split brain)".into(),
                    score: 0.88,
                });
            }
            if sig.ha.and_then(|h| h.in_sync) == Some(false) {
                out.push(Suspect {
                    component: dev.clone(),
                    reason: "HA configuration not in sync with its peer".into(),
                    score: 0.8,
                });
            }
            let flat = sig
                .traffic
                .values()
                .filter(|(_, _, seen)| *seen >= at)
                .all(|(i, o, _)| i + o < 1.0);
            if flat && sig.traffic.values().any(|(_, _, seen)| *seen >= at) {
                out.push(Suspect {
                    component: dev.clone(),
                    reason: "no traffic through it since it became active".into(),
                    score: 0.7,
                });
            }
        }
        for &c in &self.closures[s] {
            let tr = &self.tracks[c.0 as usize];
            if c == root {
                continue;
            }
            match g.comp_ref(c) {
                ComponentRef::Link(_) if tr.effective == State::Down => out.push(Suspect {
                    component: g.id_of(c).to_string(),
                    reason: "link down in the service's path".into(),
                    score: 0.75,
                }),
                ComponentRef::Device(_) | ComponentRef::Link(_)
                    if tr.changed_at > 0
                        && tr.changed_at + window >= self.now
                        && tr.effective != State::Up =>
                {
                    out.push(Suspect {
                        component: g.id_of(c).to_string(),
                        reason: format!(
                            "changed to {} at {}",
                            tr.effective.as_str(),
                            fmt_time(tr.changed_at)
                        ),
                        score: 0.5,
                    })
                }
                _ => {}
            }
        }
        // Surviving members of degraded groups now carry the load alone.
        for &c in &self.closures[s] {
            if let ComponentRef::Group(gi) = g.comp_ref(c) {
                let grp = &t.groups[gi];
                let members: Vec<CompId> = grp
                    .members
                    .iter()
                    .filter_map(|m| g.lookup(m).ok())
                    .collect();
                let failed = members.iter().any(|m| self.eval.own(*m) != State::Up);
                if failed {
                    for m in members.iter().filter(|m| self.eval.own(**m) == State::Up) {
                        out.push(Suspect {
                            component: g.id_of(*m).to_string(),
                            reason: format!(
                                "surviving member of {} now carries the load alone",
                                grp.id
                            ),
                            score: 0.6,
                        });
                    }
                }
            }
        }
        if !matches!(g.comp_ref(root), ComponentRef::Service(_)) {
            out.push(Suspect {
                component: g.id_of(root).to_string(),
                reason: "the failure the redundancy should have absorbed".into(),
                score: 0.3,
            });
        }
        // One entry per component, most suspicious first, with every reason found for it.
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.component.cmp(&b.component))
        });
        let mut merged: Vec<Suspect> = Vec::new();
        for s in out {
            match merged.iter_mut().find(|m| m.component == s.component) {
                Some(m) => {
                    m.reason.push_str("; ");
                    m.reason.push_str(&s.reason);
                }
                None => merged.push(s),
            }
        }
        merged
    }

    // ---------- queries ----------

    pub fn open_incidents(&self) -> Vec<&Incident> {
        self.open.values().map(|o| &o.incident).collect()
    }

    pub fn recent_resolved(&self) -> impl Iterator<Item = &Incident> {
        self.resolved.iter().rev()
    }

    pub fn timeline(&self) -> impl Iterator<Item = &TimelineEntry> {
        self.timeline.iter()
    }

    /// How many components of each kind are in each state: for metrics and status, without
    /// building a [`ComponentStatus`] (and its id string) per component.
    pub fn state_counts(&self) -> BTreeMap<(&'static str, State), usize> {
        let g = &self.graph;
        let mut counts = BTreeMap::new();
        for i in 0..g.component_count() {
            let c = CompId(i as u32);
            *counts
                .entry((comp_kind(g.comp_ref(c)), self.eval.component(c)))
                .or_default() += 1;
        }
        counts
    }

    pub fn components(&self) -> Vec<ComponentStatus> {
        let g = &self.graph;
        (0..g.component_count())
            .map(|i| {
                let c = CompId(i as u32);
                let r = g.comp_ref(c);
                let tr = &self.tracks[i];
                ComponentStatus {
                    id: g.id_of(c).to_string(),
                    kind: comp_kind(r),
                    state: self.eval.component(c),
                    own: self.eval.own(c),
                    monitored: tr.monitored,
                    flapping: tr.flapping,
                    unreachable: matches!(r, ComponentRef::Device(d) if self.unreachable[d]),
                    last_seen: tr.last_seen,
                    ha_role: match r {
                        ComponentRef::Device(d) => self.devices[d].ha.map(|h| h.role),
                        _ => None,
                    },
                }
            })
            .collect()
    }

    pub fn services(&self) -> Vec<ServiceStatus> {
        let g = &self.graph;
        let t = g.topology();
        t.services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let c = g.comp_id(ComponentRef::Service(i));
                let observed = match &self.probes[i] {
                    Some(_) => self.tracks[c.0 as usize].effective,
                    None => State::Unknown,
                };
                let incident = self
                    .open
                    .values()
                    .find(|o| o.incident.affected_services.iter().any(|a| a.id == s.id))
                    .map(|o| o.incident.id.clone());
                ServiceStatus {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    tier: s.tier.as_str(),
                    state: self.eval.component(c),
                    expected: self.eval.dependencies_state(g.canonical(c)),
                    observed,
                    incident,
                }
            })
            .collect()
    }

    /// The live why-tree of a component.
    pub fn why(
        &self,
        id: &str,
    ) -> Result<faultline_graph::WhyNode, faultline_graph::UnknownComponent> {
        let c = self.graph.lookup(id)?;
        Ok(self.graph.why(&self.eval, c))
    }
}

/// What makes an incident worth an Update: kind, severity, who is affected and how, the
/// suspects, suppression. Evidence alone does not re-page.
fn fingerprint(i: &Incident) -> String {
    let aff: Vec<String> = i
        .affected_services
        .iter()
        .map(|a| format!("{}={}", a.id, a.state))
        .collect();
    let sus: Vec<&str> = i.suspects.iter().map(|s| s.component.as_str()).collect();
    format!(
        "{:?}|{:?}|{}|{}|{}",
        i.kind,
        i.severity,
        aff.join(","),
        sus.join(","),
        i.suppressed
    )
}
