//! Poller health: in the distributed shape each zone's poller sends a heartbeat
//! ([`Signal::PollerHeartbeat`](faultline_observe::Signal::PollerHeartbeat)) every few seconds.
//! A zone whose poller has been heard from is watched: when its last heartbeat is older than
//! [`EngineConfig::poller_stale_after_ms`](crate::EngineConfig::poller_stale_after_ms), the
//! poller is **stale** (shown as the synthetic component `poller:<zone>`, down), and what only
//! it could see is **unknown**, never down: the zone's devices (so none is a root cause and no
//! device incident opens for them), links between them, and services' probe results from that
//! zone (a service probed from another zone too is judged on that zone's results alone).
//!
//! Staleness is judged in engine time at the exact instant the bound passes (the deadline is
//! interleaved with the others in `advance_to`), so a recorded stream replays to the same
//! verdicts; the state is part of the snapshot. A zone never heard from is not watched: the
//! single process, which has no pollers, is unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;

use faultline_graph::{State, WhyNode};
use faultline_observe::time::format_utc;
use faultline_observe::{Observation, Signal, Subject, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::ids::{Comp, DeviceIdx, LinkIdx, ServiceIdx, TypedComponents};
use crate::status::ComponentStatus;
use crate::vantage::vantage_raw;
use crate::{Engine, Output};

/// The prefix of a poller's synthetic component id: `poller:<zone>`.
pub const POLLER_PREFIX: &str = "poller:";

/// One zone's poller as the heartbeats tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PollerState {
    /// The poller's name from its last heartbeat.
    pub name: String,
    /// Its last heartbeat.
    pub last_seen: UnixMillis,
    /// Judged silent since this instant (`None`: alive).
    pub stale_since: Option<UnixMillis>,
}

/// Every zone's poller heard from, by zone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Pollers {
    zones: BTreeMap<String, PollerState>,
}

impl Pollers {
    /// Whether the poller of `zone` is judged silent (false for a zone never heard from).
    pub(crate) fn is_stale(&self, zone: &str) -> bool {
        self.zones
            .get(zone)
            .is_some_and(|p| p.stale_since.is_some())
    }

    /// The correlator was down until `at`: that silence is not the pollers' fault.
    /// A poller already judged silent stays so, with its last heartbeat as it was.
    pub(crate) fn resume(&mut self, at: UnixMillis) {
        for p in self.zones.values_mut().filter(|p| p.stale_since.is_none()) {
            p.last_seen = p.last_seen.max(at);
        }
    }

    /// Whether any poller is judged silent.
    fn any_stale(&self) -> bool {
        self.zones.values().any(|p| p.stale_since.is_some())
    }

    /// The earliest instant at or before `now` when a live poller goes stale, and its zone.
    pub(crate) fn due(&self, now: UnixMillis, bound: u64) -> Option<(UnixMillis, String)> {
        self.zones
            .iter()
            .filter(|(_, p)| p.stale_since.is_none())
            .map(|(z, p)| (p.last_seen.saturating_add(bound), z))
            .filter(|(at, _)| *at <= now)
            .min()
            .map(|(at, z)| (at, z.clone()))
    }
}

impl Engine {
    /// A heartbeat from `zone`'s poller at `at`: the zone is watched from now on; a stale
    /// poller is alive again and its zone's components are judged on their own data again.
    pub(crate) fn poller_heartbeat(
        &mut self,
        zone: &str,
        poller: &str,
        at: UnixMillis,
        out: &mut Vec<Output>,
    ) {
        let entry = self.state.pollers.zones.entry(zone.to_owned());
        let p = entry.or_insert_with(|| PollerState {
            name: poller.to_owned(),
            last_seen: at,
            stale_since: None,
        });
        p.last_seen = p.last_seen.max(at);
        if p.name != poller {
            p.name = poller.to_owned();
        }
        if p.stale_since.take().is_some() {
            out.push(Output::StateChanged {
                at,
                id: format!("{POLLER_PREFIX}{zone}"),
                from: State::Down,
                to: State::Up,
            });
            self.rejudge_zone(zone, at, out);
        }
    }

    /// An observation from a zone whose poller is judged silent: the poller is alive after all
    /// (its buffered batches arrive after a partition), as of the engine's clock.
    pub(crate) fn zone_heard(&mut self, obs: &Observation, out: &mut Vec<Output>) {
        if !self.state.pollers.any_stale() {
            return;
        }
        // The graph is shared: holding it keeps the zone borrowed while the state changes.
        let graph = Arc::clone(&self.graph);
        let zone = match (&obs.subject, &obs.signal) {
            (_, Signal::Probe { zone, .. }) => zone.as_deref(),
            (Subject::Device { device } | Subject::Interface { device, .. }, _) => {
                match graph.resolve_comp(device) {
                    Some(Comp::Device(d)) => graph.topology().devices[d.0].zone.as_deref(),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some(zone) = zone else {
            return;
        };
        let Some(name) = self
            .state
            .pollers
            .zones
            .get(zone)
            .filter(|p| p.stale_since.is_some())
            .map(|p| p.name.clone())
        else {
            return;
        };
        self.poller_heartbeat(zone, &name, self.state.now, out);
    }

    /// `zone`'s poller went without a heartbeat for the bound, at `at`.
    pub(crate) fn poller_silent(&mut self, zone: &str, at: UnixMillis, out: &mut Vec<Output>) {
        let Some(p) = self.state.pollers.zones.get_mut(zone) else {
            return;
        };
        if p.stale_since.is_some() {
            return;
        }
        p.stale_since = Some(at);
        out.push(Output::StateChanged {
            at,
            id: format!("{POLLER_PREFIX}{zone}"),
            from: State::Up,
            to: State::Down,
        });
        self.rejudge_zone(zone, at, out);
    }

    /// The zone's poller changed between alive and stale: its devices and links are looked at
    /// again at the next correlation, and the services it probes are fed the raw state their
    /// vantages give now.
    fn rejudge_zone(&mut self, zone: &str, at: UnixMillis, out: &mut Vec<Output>) {
        let t = self.graph.topology();
        let devices: Vec<_> = (0..t.devices.len())
            .filter(|d| t.devices[*d].zone.as_deref() == Some(zone))
            .map(|d| DeviceIdx(d).comp(&self.graph))
            .collect();
        let links: Vec<_> = (0..t.links.len())
            .filter(|l| {
                let link = &t.links[*l];
                [link.a_device, link.b_device]
                    .iter()
                    .any(|d| t.devices[*d as usize].zone.as_deref() == Some(zone))
            })
            .map(|l| LinkIdx(l).comp(&self.graph))
            .collect();
        let services: Vec<ServiceIdx> = (0..t.services.len())
            .map(ServiceIdx)
            .filter(|s| self.state.signals.probes[*s].contains_key(zone))
            .collect();
        self.state.touched.extend(devices);
        self.state.touched.extend(links);
        self.state.dirty = true;
        for s in services {
            let raw = vantage_raw(
                &self.state.signals.probes[s],
                self.freshness(),
                &self.state.pollers,
            );
            self.feed(s.comp(&self.graph), raw, at, out);
        }
    }

    /// Whether device `d` is only seen by a poller judged silent.
    pub(crate) fn device_blind(&self, d: DeviceIdx) -> bool {
        self.state.pollers.any_stale()
            && (self.graph.topology().devices[d.0].zone.as_deref())
                .is_some_and(|z| self.state.pollers.is_stale(z))
    }

    /// Whether link `l` is only seen by pollers judged silent (every end's device is).
    pub(crate) fn link_blind(&self, l: LinkIdx) -> bool {
        if !self.state.pollers.any_stale() {
            return false;
        }
        let link = &self.graph.topology().links[l.0];
        [link.a_device, link.b_device]
            .iter()
            .all(|d| self.device_blind(DeviceIdx(*d as usize)))
    }

    /// The synthetic components `poller:<zone>` of every zone heard from, in zone order.
    pub(crate) fn poller_components(&self) -> Vec<ComponentStatus> {
        (self.state.pollers.zones.iter())
            .map(|(zone, p)| {
                let state = if p.stale_since.is_some() {
                    State::Down
                } else {
                    State::Up
                };
                ComponentStatus {
                    id: format!("{POLLER_PREFIX}{zone}"),
                    kind: "poller",
                    state,
                    own: state,
                    monitored: true,
                    flapping: false,
                    unreachable: false,
                    last_seen: Some(p.last_seen),
                    ha_role: None,
                }
            })
            .collect()
    }

    /// `poller:<zone>` as a why-tree of its own (`None` for a zone never heard from).
    pub(crate) fn poller_why(&self, id: &str) -> Option<WhyNode> {
        let zone = id.strip_prefix(POLLER_PREFIX)?;
        let p = self.state.pollers.zones.get(zone)?;
        let (state, detail) = match p.stale_since {
            Some(since) => (
                State::Down,
                format!(
                    "poller {} of zone {zone}: no heartbeat since {} (stale since {}): its \
                     zone's devices and probe results are unknown",
                    p.name,
                    format_utc(p.last_seen),
                    format_utc(since)
                ),
            ),
            None => (
                State::Up,
                format!(
                    "poller {} of zone {zone}: last heartbeat {}",
                    p.name,
                    format_utc(p.last_seen)
                ),
            ),
        };
        Some(WhyNode {
            id: id.to_owned(),
            kind: "poller".into(),
            state,
            path: None,
            detail,
            failed_itself: state == State::Down,
            repeated: false,
            children: Vec::new(),
        })
    }

    /// Under every device node of `tree` whose zone's poller is stale, say so.
    pub(crate) fn show_stale_pollers(&self, node: &mut WhyNode) {
        if !self.state.pollers.any_stale() {
            return;
        }
        for child in &mut node.children {
            self.show_stale_pollers(child);
        }
        if node.kind != "device" {
            return;
        }
        let Some(Comp::Device(d)) = self.graph.resolve_comp(&node.id) else {
            return;
        };
        let Some(zone) = self.graph.topology().devices[d.0].zone.as_deref() else {
            return;
        };
        let Some(p) = self.state.pollers.zones.get(zone) else {
            return;
        };
        if p.stale_since.is_none() {
            return;
        }
        let note = format!(
            "unknown: {POLLER_PREFIX}{zone} silent since {}",
            format_utc(p.last_seen)
        );
        node.detail = if node.detail.is_empty() {
            note
        } else {
            format!("{}; {note}", node.detail)
        };
    }
}
