//! Incidents: from the settled graph to the incidents that should be open, and from those to
//! transitions (trigger, update, resolve) against the ones that are.
//!
//! - `mod.rs` (here): the open and resolved incidents, reconciliation and the diff.
//! - [`build`]: one incident from one root cause: affected services, kind, title, severity,
//!   evidence, maintenance.
//! - [`suspects`]: what may have made a failover ineffective, ranked.

mod build;
mod ready;
mod settle;
mod story;
mod suspects;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use faultline_graph::CompId;
use faultline_incident::{
    Evidence, Incident, IncidentKind, IncidentStatus, IncidentTransition, ServiceState, Severity,
    TransitionAction,
};
use faultline_observe::UnixMillis;
use serde::{Deserialize, Serialize};

use crate::feed::DeadlineKind;
use crate::ha::SplitBrain;
use crate::ids::{Comp, DeviceIdx, ServiceIdx, TypedComponents};
use crate::{Engine, Output};

/// Resolved incidents kept in memory for the API (the store keeps all of them).
const RESOLVED_KEPT: usize = 1000;

/// What makes an incident worth an Update: kind, severity, who is affected and how, the
/// suspects, suppression. Evidence alone does not re-page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Fingerprint {
    kind: IncidentKind,
    severity: Severity,
    affected: Vec<(String, ServiceState)>,
    suspects: Vec<String>,
    suppressed: bool,
}

impl Fingerprint {
    fn of(i: &Incident) -> Self {
        Fingerprint {
            kind: i.kind,
            severity: i.severity,
            affected: i
                .affected_services
                .iter()
                .map(|a| (a.id.clone(), a.state))
                .collect(),
            suspects: i.suspects.iter().map(|s| s.component.clone()).collect(),
            suppressed: i.suppressed,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenIncident {
    incident: Incident,
    fingerprint: Fingerprint,
    /// Not paged yet: its first page waits until this instant for the classification to
    /// settle (a critical verdict pages at once), so the first page does not undersell.
    #[serde(default)]
    held_until: Option<UnixMillis>,
}

/// The incidents the engine has opened and recently resolved, and the transition counter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Incidents {
    /// Open incidents by key (root cause id, or `split-brain:GROUP`).
    open: BTreeMap<String, OpenIncident>,
    /// The last [`RESOLVED_KEPT`] resolved incidents, oldest first.
    resolved: VecDeque<Incident>,
    /// Last transition sequence number issued.
    seq: u64,
    /// The incident key each failing service was last merged into.
    service_host: BTreeMap<ServiceIdx, String>,
    /// Root causes whose incident waits for their dependencies' verdict (see `settle`).
    #[serde(default)]
    deferred: BTreeSet<CompId>,
}

/// An incident to open or keep open: its root and the failing services merged into it.
#[derive(Debug, Clone)]
struct Desired {
    root: CompId,
    failed_services: Vec<ServiceIdx>,
}

/// Which services stand above each root cause, and which roots stand below each service.
#[derive(Debug, Default)]
struct Cones {
    above: BTreeMap<CompId, Vec<ServiceIdx>>,
    below: HashMap<ServiceIdx, Vec<CompId>>,
}

impl Incidents {
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &String> {
        self.open.keys()
    }

    pub(crate) fn open(&self) -> impl Iterator<Item = &Incident> {
        self.open.values().map(|o| &o.incident)
    }

    /// Resolved incidents, most recent first.
    pub(crate) fn recent_resolved(&self) -> impl Iterator<Item = &Incident> {
        self.resolved.iter().rev()
    }

    /// Services (by index) mentioned (for checking a restored snapshot against its graph).
    pub(crate) fn services(&self) -> impl Iterator<Item = ServiceIdx> + '_ {
        self.service_host.keys().copied()
    }

    /// The open incident with this id, and whether it has been paged (its first page is not
    /// held back any more).
    pub(crate) fn open_by_id_mut(&mut self, id: &str) -> Option<(bool, &mut Incident)> {
        self.open
            .values_mut()
            .find(|o| o.incident.id == id)
            .map(|o| (o.held_until.is_none(), &mut o.incident))
    }

    /// Emit an `action` transition of the open incident with this id, as it is now.
    pub(crate) fn emit(
        &mut self,
        id: &str,
        action: TransitionAction,
        at: UnixMillis,
        out: &mut Vec<Output>,
    ) {
        let seq = self.seq + 1;
        if let Some(o) = self.open.values().find(|o| o.incident.id == id) {
            out.push(transition(seq, action, at, &o.incident));
            self.seq = seq;
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Make the open incidents what `next` says: resolve the ones it lacks, open the new ones,
    /// update the ones whose fingerprint changed. Transitions go to `out`.
    /// `takeovers` holds, per key, the latest takeover below the incident's failing service.
    fn publish(
        &mut self,
        next: BTreeMap<String, Incident>,
        takeovers: &BTreeMap<String, UnixMillis>,
        now: UnixMillis,
        out: &mut Outbox,
    ) {
        let closing: Vec<String> = self
            .open
            .keys()
            .filter(|k| !next.contains_key(*k))
            .cloned()
            .collect();
        for key in closing {
            self.resolve(&key, now, out);
        }
        for (key, inc) in next {
            let takeover_at = takeovers.get(&key).copied();
            self.open_or_update(key, inc, takeover_at, now, out);
        }
    }

    fn resolve(&mut self, key: &str, now: UnixMillis, out: &mut Outbox) {
        let Some(OpenIncident {
            mut incident,
            held_until,
            ..
        }) = self.open.remove(key)
        else {
            return;
        };
        if held_until.is_some() {
            // Never paged: it settled into nothing (or into another incident).
            return;
        }
        let out = &mut *out.transitions;
        incident.status = IncidentStatus::Resolved;
        incident.resolved_at = Some(now);
        story::close_outages(&mut incident, now);
        incident.updated_at = now;
        incident.evidence.push(Evidence {
            at: now,
            subject: incident.root_causes.join(","),
            text: "recovered: incident resolved".into(),
        });
        let seq = self.next_seq();
        out.push(transition(seq, TransitionAction::Resolve, now, &incident));
        if self.resolved.len() >= RESOLVED_KEPT {
            self.resolved.pop_front();
        }
        self.resolved.push_back(incident);
    }

    fn open_or_update(
        &mut self,
        key: String,
        mut inc: Incident,
        takeover_at: Option<UnixMillis>,
        now: UnixMillis,
        out: &mut Outbox,
    ) {
        if let Some(o) = self.open.get(&key) {
            inc.acknowledged = o.incident.acknowledged.clone();
            story::keep_story(&o.incident, &mut inc, takeover_at);
            story::keep_outages(&o.incident, &mut inc, now);
        }
        let fingerprint = Fingerprint::of(&inc);
        let settled =
            |inc: &Incident, until: UnixMillis| now >= until || inc.severity >= Severity::Critical;
        match self.open.get_mut(&key) {
            None => {
                // Now, or earlier for a failure whose samples came late (`opening_time`).
                let opened = inc.opened_at.min(now);
                inc.opened_at = opened;
                inc.updated_at = now;
                inc.id = format!("{key}@{opened}");
                let until = now.saturating_add(out.settle_ms);
                let held_until = if settled(&inc, until) {
                    self.seq += 1;
                    let t = transition(self.seq, TransitionAction::Trigger, now, &inc);
                    out.transitions.push(t);
                    None
                } else {
                    out.rechecks.push(until);
                    Some(until)
                };
                let open = OpenIncident {
                    incident: inc,
                    fingerprint,
                    held_until,
                };
                self.open.insert(key, open);
            }
            Some(o) if o.held_until.is_some() => {
                inc.id = o.incident.id.clone();
                inc.opened_at = o.incident.opened_at;
                inc.updated_at = now;
                o.incident = inc;
                o.fingerprint = fingerprint;
                if o.held_until
                    .is_some_and(|until| settled(&o.incident, until))
                {
                    o.held_until = None;
                    self.seq += 1;
                    let t = transition(self.seq, TransitionAction::Trigger, now, &o.incident);
                    out.transitions.push(t);
                }
            }
            Some(o) => {
                let out = &mut *out.transitions;
                inc.id = o.incident.id.clone();
                inc.opened_at = o.incident.opened_at;
                let changed = o.fingerprint != fingerprint;
                inc.updated_at = if changed { now } else { o.incident.updated_at };
                o.incident = inc;
                if changed {
                    o.fingerprint = fingerprint;
                    self.seq += 1;
                    out.push(transition(
                        self.seq,
                        TransitionAction::Update,
                        now,
                        &o.incident,
                    ));
                }
            }
        }
    }
}

/// Where publishing puts its results: the transitions, and the instants at which a held
/// first page must be looked at again.
struct Outbox<'a> {
    transitions: &'a mut Vec<Output>,
    rechecks: Vec<UnixMillis>,
    /// How long a first page may wait for the classification to settle.
    settle_ms: UnixMillis,
}

fn transition(seq: u64, action: TransitionAction, at: UnixMillis, inc: &Incident) -> Output {
    Output::Transition(IncidentTransition {
        seq,
        action,
        at,
        incident: inc.clone(),
    })
}

impl Engine {
    /// The latest takeover below incident `d`'s failing service by a device that is not part
    /// of its root cause: a spare taking the traffic, not the failed member taking it back.
    fn takeover_away_from(&self, d: &Desired) -> Option<UnixMillis> {
        let s = *d.failed_services.first()?;
        let t = self.graph.topology();
        let involved = |device: DeviceIdx| match self.graph.comp(d.root) {
            Comp::Device(root) => root == device,
            Comp::Link(link) => {
                let l = &t.links[link.0];
                [l.a_device, l.b_device].contains(&(device.0 as u32))
            }
            Comp::Group(_) | Comp::Service(_) => false,
        };
        self.recent_role_changes(s)
            .into_iter()
            .find(|took| !involved(took.device))
            .map(|took| took.at)
    }

    /// Work out which incidents should be open now (one per root cause, failing services merged
    /// into the failure below them, plus the split brains) and emit the transitions.
    pub(crate) fn reconcile_incidents(&mut self, split: Vec<SplitBrain>, out: &mut Vec<Output>) {
        let mut roots = self.root_causes();
        // After the down ones: a service down comes first in the incident it joins.
        roots.extend(self.partial_outages());
        let mut waiting = Vec::new();
        let roots = self.settled_roots(roots, None, &mut waiting);
        let cones = self.service_cones(&roots);
        let roots = self.settled_roots(roots, Some(&cones), &mut waiting);
        self.arm_settle_rechecks(waiting);
        let (desired, hosts) = self.desired_incidents(&roots, &cones);
        self.state.incidents.service_host = hosts;
        let mut next: BTreeMap<String, Incident> = BTreeMap::new();
        let mut takeovers: BTreeMap<String, UnixMillis> = BTreeMap::new();
        for (key, d) in &desired {
            let above = cones.above.get(&d.root).map(Vec::as_slice).unwrap_or(&[]);
            let inc = self.build_incident(key, d.root, &d.failed_services, above);
            next.insert(key.clone(), inc);
            if let Some(at) = self.takeover_away_from(d) {
                takeovers.insert(key.clone(), at);
            }
        }
        for sb in split {
            let (key, inc) = self.build_split_brain(&sb);
            next.insert(key, inc);
        }
        // Standby readiness (issue #10): see `ready.rs`.
        let merged = self.readiness_incidents(&mut next);
        // Cabling drift (issue #12): see `drift.rs`.
        self.drift_incidents(&mut next);
        let now = self.state.now;
        let mut outbox = Outbox {
            transitions: out,
            rechecks: Vec::new(),
            settle_ms: self.cfg.settle_ms,
        };
        self.state
            .incidents
            .publish(next, &takeovers, now, &mut outbox);
        for at in outbox.rechecks {
            // A recheck only re-runs correlation; the component it names is not used.
            self.state
                .deadlines
                .push(at, DeadlineKind::Recheck, CompId(0));
        }
        self.resolve_merged(merged, now, outbox.transitions);
    }

    /// Root causes: components whose own state is down while their dependencies are
    /// available. Only the components down in the graph are candidates, so this is linear in
    /// the failures, not in the topology.
    fn root_causes(&self) -> Vec<CompId> {
        self.state
            .own
            .down()
            .filter(|c| {
                let deps = self.eval.dependencies_state(self.graph.canonical(*c));
                deps.is_available()
            })
            .collect()
    }

    /// Services above each non-service root; and, per service, the roots below it.
    fn service_cones(&mut self, roots: &[CompId]) -> Cones {
        let mut cones = Cones::default();
        let mut buf = Vec::new();
        for &r in roots {
            if matches!(self.graph.comp(r), Comp::Service(_)) {
                continue;
            }
            let above = self.services_above(r, &mut buf);
            for &s in &above {
                cones.below.entry(s).or_default().push(r);
            }
            cones.above.insert(r, above);
        }
        cones
    }

    /// Services whose dependency closure contains `c`, in topology order.
    pub(crate) fn services_above(&mut self, c: CompId, buf: &mut Vec<usize>) -> Vec<ServiceIdx> {
        let scratch = &mut self.scratch;
        self.graph
            .services_above_with(&[c], &mut scratch.stamp, &mut scratch.epoch, buf);
        buf.iter().map(|s| ServiceIdx(*s)).collect()
    }

    /// The incidents that should be open, by key, and the incident each failing service joins.
    fn desired_incidents(
        &self,
        roots: &[CompId],
        cones: &Cones,
    ) -> (BTreeMap<String, Desired>, BTreeMap<ServiceIdx, String>) {
        let g = &self.graph;
        let mut hosts = BTreeMap::new();
        let mut desired: BTreeMap<String, Desired> = BTreeMap::new();
        for &r in roots {
            let (key_root, service) = match g.comp(r) {
                Comp::Service(s) => (self.service_host_root(s, r, cones), Some(s)),
                _ => (r, None),
            };
            let key = g.id_of(key_root).to_string();
            let entry = desired.entry(key.clone()).or_insert(Desired {
                root: key_root,
                failed_services: Vec::new(),
            });
            if let Some(s) = service {
                entry.failed_services.push(s);
                hosts.insert(s, key);
            }
        }
        (desired, hosts)
    }

    /// The root whose incident failing service `s` (itself root `r`) joins. A service that
    /// fails while its dependencies are only degraded is merged into the incident of the failed
    /// component below it (the most recent): the firewall alarm and the portal alarm are one
    /// page. Sticky: once merged, a service stays with that incident while it is still
    /// failing, even if the component below recovered first (recovery holds end at different
    /// instants): no second page for one outage.
    fn service_host_root(&self, s: ServiceIdx, r: CompId, cones: &Cones) -> CompId {
        let below = cones.below.get(&s).and_then(|rs| {
            rs.iter()
                .copied()
                .max_by_key(|c| (self.state.tracks[*c].changed_at, Reverse(c.0)))
        });
        let sticky = || {
            let key = self.state.incidents.service_host.get(&s)?;
            if !self.state.incidents.open.contains_key(key) {
                return None;
            }
            self.graph.lookup(key).ok()
        };
        below.or_else(sticky).unwrap_or(r)
    }
}
