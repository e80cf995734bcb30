//! Queries: what the engine knows now, for the API, metrics and the CLI. Nothing here changes
//! the engine.

use std::collections::BTreeMap;

use faultline_graph::{CompId, State, UnknownComponent, WhyNode};
use faultline_incident::{AffectedService, Incident, ServiceState};
use faultline_observe::{HaRole, UnixMillis};
use serde::Serialize;

use crate::ids::{Comp, Idx, ServiceIdx, TypedComponents};
use crate::{Engine, TimelineEntry};

/// A component as the engine sees it now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentStatus {
    /// Topology id.
    pub id: String,
    /// `device`, `link`, `group`, `service` or `poller`.
    pub kind: &'static str,
    /// State in the graph (own state and dependencies).
    pub state: State,
    /// Its own state after hold-down and reachability (`unknown` when unreachable or stale).
    pub own: State,
    /// Observed at least once, or listed as monitored in the configuration.
    pub monitored: bool,
    /// Flapping: recovery is held until it settles.
    pub flapping: bool,
    /// Behind a failure: no live path from the collector that polls it (its zone's, else the
    /// default one) reaches it.
    pub unreachable: bool,
    /// When the last observation about it arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<UnixMillis>,
    /// Its HA role as last reported (devices in redundancy groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha_role: Option<HaRole>,
}

/// A service: what the graph expects and what its probe observes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceStatus {
    /// Topology id.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// Tier from the topology (`critical`, `high`, `normal`, `low`).
    pub tier: &'static str,
    /// Overall state (observed probe AND dependencies).
    pub state: State,
    /// What the dependency graph says the service should be.
    pub expected: State,
    /// What the service probe says (unknown when there is no probe or no fresh result).
    pub observed: State,
    /// Id of the open incident that affects it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

impl Engine {
    /// Open incidents by key (root cause id, or `split-brain:GROUP`), for the shell to restore
    /// nothing twice after a restart: the ids are deterministic functions of the journal.
    pub fn incident_keys(&self) -> Vec<String> {
        self.state.incidents.keys().cloned().collect()
    }

    /// Open incidents, ordered by key.
    pub fn open_incidents(&self) -> Vec<&Incident> {
        self.state.incidents.open().collect()
    }

    /// Recently resolved incidents (the last thousand), most recent first.
    pub fn recent_resolved(&self) -> impl Iterator<Item = &Incident> {
        self.state.incidents.recent_resolved()
    }

    /// The timeline of events, oldest first (bounded by `timeline_capacity`).
    pub fn timeline(&self) -> impl Iterator<Item = &TimelineEntry> {
        self.state.evidence.timeline()
    }

    /// How many components of each kind are in each state: for metrics and status, without
    /// building a [`ComponentStatus`] (and its id string) per component.
    pub fn state_counts(&self) -> BTreeMap<(&'static str, State), usize> {
        let g = &self.graph;
        let mut counts = BTreeMap::new();
        for i in 0..g.component_count() {
            let c = CompId::from_index(i);
            *counts
                .entry((g.comp_ref(c).kind_name(), self.eval.component(c)))
                .or_default() += 1;
        }
        counts
    }

    /// Every component, in graph order (devices, links, groups, services), then each zone's
    /// poller heard from (`poller:<zone>`, kind `poller`).
    pub fn components(&self) -> Vec<ComponentStatus> {
        let g = &self.graph;
        (0..g.component_count())
            .map(|i| {
                let c = CompId::from_index(i);
                let tr = &self.state.tracks[c];
                let device = match g.comp(c) {
                    Comp::Device(d) => Some(d),
                    _ => None,
                };
                ComponentStatus {
                    id: g.id_of(c).to_string(),
                    kind: g.comp_ref(c).kind_name(),
                    state: self.eval.component(c),
                    own: self.eval.own(c),
                    monitored: tr.monitored,
                    flapping: tr.flapping,
                    unreachable: device.is_some_and(|d| self.state.reach.is_unreachable(d)),
                    last_seen: tr.last_seen,
                    ha_role: device
                        .and_then(|d| self.state.signals.devices[d].ha)
                        .map(|h| h.value.role),
                }
            })
            .chain(self.poller_components())
            .collect()
    }

    /// Every service, in topology order.
    pub fn services(&self) -> Vec<ServiceStatus> {
        let g = &self.graph;
        g.topology()
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let si = ServiceIdx(i);
                let c = si.comp(g);
                let observed = if self.state.signals.probes[si].is_empty() {
                    State::Unknown
                } else {
                    self.state.tracks[c].effective
                };
                let incident = self
                    .state
                    .incidents
                    .open()
                    .find(|inc| {
                        let hurt = |a: &&AffectedService| a.state != ServiceState::Up;
                        inc.affected_services
                            .iter()
                            .filter(hurt)
                            .any(|a| a.id == s.id)
                    })
                    .map(|inc| inc.id.clone());
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

    /// The live why-tree of a component: its state and, recursively, what it depends on.
    pub fn why(&self, id: &str) -> Result<WhyNode, UnknownComponent> {
        if let Some(poller) = self.poller_why(id) {
            return Ok(poller);
        }
        let c = self.graph.lookup(id)?;
        let mut tree = self.graph.why(&self.eval, c);
        self.show_takeovers(&mut tree);
        self.show_drift(&mut tree);
        self.show_vantages(&mut tree);
        self.show_stale_pollers(&mut tree);
        Ok(tree)
    }
}
