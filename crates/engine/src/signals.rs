//! Signals: what each observation says about a device, a link end or a service, and the raw
//! state that follows from the fresh ones. Raw states are then fed to the component's
//! [`Track`](crate::track::Track) (see `feed`).

use std::collections::BTreeMap;

use faultline_graph::State;
use faultline_model::Topology;
use faultline_observe::{HaRole, IfStatus, Observation, PollFailure, Signal, Subject, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::Output;
use crate::ids::{Comp, DeviceIdx, IdxVec, LinkIdx, ServiceIdx, Timed, TypedComponents};
use crate::readiness::FactReport;
use crate::vantage::Vantages;

/// Which instants still count as current: a signal older than the staleness limit no longer
/// votes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Freshness {
    pub now: UnixMillis,
    pub stale_after_ms: u64,
}

impl Freshness {
    pub(crate) fn fresh(self, at: UnixMillis) -> bool {
        at + self.stale_after_ms > self.now
    }
}

/// A member's HA report: its role, its view of the peer and configuration sync where known.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct HaReport {
    pub role: HaRole,
    pub peer: Option<HaRole>,
    pub in_sync: Option<bool>,
}

/// A change of HA role.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct RoleChange {
    pub from: HaRole,
    pub to: HaRole,
}

/// An interface's operational and administrative status.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct IfState {
    pub oper: IfStatus,
    pub admin: IfStatus,
}

/// A traffic rate in octets per second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Rate {
    pub in_bps: f64,
    pub out_bps: f64,
}

impl Rate {
    /// Less than one octet per second in both directions together: nothing flows.
    pub(crate) fn is_flat(self) -> bool {
        self.in_bps + self.out_bps < 1.0
    }
}

/// The last result of a service probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProbeResult {
    pub ok: bool,
    /// HTTP status, for HTTP probes.
    pub status: Option<u16>,
    pub detail: Option<String>,
}

/// Everything the engine remembers about one device's signals.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct DeviceSignals {
    /// Last reachability (ICMP) verdict.
    pub reach: Option<Timed<bool>>,
    /// Last SNMP agent verdict (answered or not).
    pub agent: Option<Timed<bool>>,
    /// The agent refused our credentials (says nothing about the device).
    pub auth_failure: bool,
    pub ha: Option<Timed<HaReport>>,
    /// The last role change.
    pub role_change: Option<Timed<RoleChange>>,
    /// Per interface name.
    pub interfaces: BTreeMap<String, Timed<IfState>>,
    /// Per interface name; the device as a whole under the empty name.
    pub traffic: BTreeMap<String, Timed<Rate>>,
}

/// Oper status (true = up) of each end of a link, as last reported by its device.
pub(crate) type LinkEnds = [Option<Timed<bool>>; 2];

/// Signals of every device, link end and probed service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Signals {
    pub devices: IdxVec<DeviceIdx, DeviceSignals>,
    pub links: IdxVec<LinkIdx, LinkEnds>,
    /// Per service, the last probe result from each vantage zone (`vantage.rs`).
    pub probes: IdxVec<ServiceIdx, Vantages>,
}

impl Signals {
    pub(crate) fn new(t: &Topology) -> Self {
        Signals {
            devices: IdxVec::filled(t.devices.len(), DeviceSignals::default()),
            links: IdxVec::filled(t.links.len(), [None, None]),
            probes: IdxVec::filled(t.services.len(), Vantages::new()),
        }
    }

    /// The collector was down until `at`: signals seen before count as seen at `at`.
    pub(crate) fn resume(&mut self, at: UnixMillis) {
        for d in self.devices.iter_mut() {
            for v in [&mut d.reach, &mut d.agent].into_iter().flatten() {
                v.at = v.at.max(at);
            }
            if let Some(h) = &mut d.ha {
                h.at = h.at.max(at);
            }
            for i in d.interfaces.values_mut() {
                i.at = i.at.max(at);
            }
        }
        for end in self.links.iter_mut().flatten().flatten() {
            end.at = end.at.max(at);
        }
        for p in self.probes.iter_mut().flat_map(|v| v.values_mut()) {
            p.at = p.at.max(at);
        }
    }

    /// A device's raw state: down when its HA subsystem says failed; else up when any fresh
    /// liveness signal (ICMP, SNMP) says so, down when fresh ones all fail; else up when its HA
    /// MIB answers; else unknown.
    pub(crate) fn device_raw(&self, d: DeviceIdx, fresh: Freshness) -> State {
        let s = &self.devices[d];
        if let Some(h) = s.ha
            && h.value.role == HaRole::Failed
            && fresh.fresh(h.at)
        {
            return State::Down;
        }
        let votes: Vec<bool> = [s.reach, s.agent]
            .iter()
            .flatten()
            .filter(|v| fresh.fresh(v.at))
            .map(|v| v.value)
            .collect();
        if votes.iter().any(|ok| *ok) {
            State::Up
        } else if !votes.is_empty() {
            State::Down
        } else if s
            .ha
            .is_some_and(|h| fresh.fresh(h.at) && h.value.role != HaRole::Unknown)
        {
            // The HA MIB answered, so the device's management plane is alive.
            State::Up
        } else {
            State::Unknown
        }
    }

    /// A link's raw state: down when a fresh end is down, unknown with no fresh end, else up.
    pub(crate) fn link_raw(&self, l: LinkIdx, fresh: Freshness) -> State {
        let ends: Vec<bool> = self.links[l]
            .iter()
            .flatten()
            .filter(|e| fresh.fresh(e.at))
            .map(|e| e.value)
            .collect();
        if ends.iter().any(|up| !up) {
            State::Down
        } else if ends.is_empty() {
            State::Unknown
        } else {
            State::Up
        }
    }
}

impl Engine {
    pub(crate) fn freshness(&self) -> Freshness {
        Freshness {
            now: self.state.now,
            stale_after_ms: self.cfg.stale_after_ms,
        }
    }

    /// Take in one observation: update the signals, note what is news, feed the raw state.
    pub(crate) fn apply(&mut self, obs: &Observation, out: &mut Vec<Output>) {
        match (&obs.subject, &obs.signal) {
            (Subject::Device { device }, Signal::Steady) => {
                if let Some(Comp::Device(d)) = self.graph.resolve_comp(device) {
                    self.apply_steady(d, obs.at, out);
                }
            }
            (Subject::Device { device }, signal) => {
                if let Some(Comp::Device(d)) = self.graph.resolve_comp(device) {
                    self.apply_device(d, obs.at, signal, out);
                }
            }
            (Subject::Interface { device, interface }, signal) => {
                if let Some(Comp::Device(d)) = self.graph.resolve_comp(device) {
                    self.apply_interface(d, device, interface, obs.at, signal, out);
                }
            }
            (
                Subject::Service { service },
                Signal::Probe {
                    ok,
                    status,
                    detail,
                    zone,
                    ..
                },
            ) => {
                if let Some(Comp::Service(s)) = self.graph.resolve_comp(service) {
                    let probe = ProbeResult {
                        ok: *ok,
                        status: *status,
                        detail: detail.clone(),
                    };
                    let zone = zone.as_deref().unwrap_or_default();
                    self.apply_probe(s, zone, obs.at, probe, out);
                }
            }
            _ => {}
        }
    }

    fn apply_device(
        &mut self,
        d: DeviceIdx,
        at: UnixMillis,
        signal: &Signal,
        out: &mut Vec<Output>,
    ) {
        let c = d.comp(&self.graph);
        let feeds = self.record_device_signal(d, at, signal);
        if feeds {
            let raw = self.state.signals.device_raw(d, self.freshness());
            self.feed(c, raw, at, out);
        }
    }

    /// Update device `d`'s signals and note what is news; whether its liveness may have changed.
    fn record_device_signal(&mut self, d: DeviceIdx, at: UnixMillis, signal: &Signal) -> bool {
        let c = d.comp(&self.graph);
        let dev = &mut self.state.signals.devices[d];
        match signal {
            Signal::Reachability { ok, loss, .. } => {
                let news = !ok && dev.reach.is_none_or(|was| was.value);
                dev.reach = Some(Timed::new(*ok, at));
                if news {
                    self.note(c, at, format!("ICMP: {:.0}% loss", loss * 100.0));
                }
                true
            }
            Signal::AgentUp => {
                dev.agent = Some(Timed::new(true, at));
                dev.auth_failure = false;
                true
            }
            // Wrong credentials say nothing about the device being down.
            Signal::AgentDown {
                reason: PollFailure::AuthFailure,
            } => {
                let news = !dev.auth_failure;
                dev.auth_failure = true;
                if news {
                    let text = "SNMP authentication failure (credentials, not the device)";
                    self.note(c, at, text.into());
                }
                false
            }
            Signal::AgentDown {
                reason: PollFailure::Local,
            } => false,
            Signal::AgentDown { reason } => {
                let news = dev.agent.is_none_or(|was| was.value);
                dev.agent = Some(Timed::new(false, at));
                if news {
                    self.note(
                        c,
                        at,
                        format!("SNMP poll failed: {reason:?}").to_lowercase(),
                    );
                }
                true
            }
            Signal::Rebooted { cold } => {
                let text = if *cold {
                    "rebooted (cold start)"
                } else {
                    "agent restarted (warm start)"
                };
                self.note(c, at, text.into());
                false
            }
            Signal::HaRole {
                role,
                peer,
                in_sync,
            } => {
                let report = HaReport {
                    role: *role,
                    peer: *peer,
                    in_sync: *in_sync,
                };
                self.record_ha_report(d, at, report);
                true
            }
            Signal::Traffic { in_bps, out_bps } => {
                let rate = Rate {
                    in_bps: *in_bps,
                    out_bps: *out_bps,
                };
                dev.traffic.insert(String::new(), Timed::new(rate, at));
                false
            }
            Signal::RawTrap { trap_oid, .. } => {
                self.note(c, at, format!("trap {trap_oid}"));
                false
            }
            Signal::Readiness {
                check,
                value,
                shown,
                rule,
            } => {
                let report = FactReport {
                    value: value.clone(),
                    shown: shown.clone(),
                    rule: rule.clone(),
                };
                self.record_readiness(d, at, check, report);
                false
            }
            Signal::Uptime { .. }
            | Signal::Interface { .. }
            | Signal::Probe { .. }
            | Signal::Cabling { .. }
            | Signal::CollectorStarted
            | Signal::ClockAdvance
            | Signal::Acknowledge { .. }
            | Signal::Unacknowledge { .. }
            | Signal::MaintenanceStart { .. }
            | Signal::MaintenanceEnd { .. }
            | Signal::Steady
            | Signal::PollerHeartbeat { .. } => false,
        }
    }

    fn record_ha_report(&mut self, d: DeviceIdx, at: UnixMillis, report: HaReport) {
        let c = d.comp(&self.graph);
        let prev = self.state.signals.devices[d].ha.map(|h| h.value);
        if let Some(p) = prev
            && p.role != report.role
        {
            let change = RoleChange {
                from: p.role,
                to: report.role,
            };
            self.state.signals.devices[d].role_change = Some(Timed::new(change, at));
            let text = format!("HA role {:?} -> {:?}", p.role, report.role).to_lowercase();
            self.note(c, at, text);
        }
        if report.in_sync == Some(false) && prev.and_then(|h| h.in_sync) != Some(false) {
            self.note(c, at, "HA configuration out of sync with peer".into());
        }
        self.state.signals.devices[d].ha = Some(Timed::new(report, at));
        self.state.dirty = true;
    }

    /// The link whose end is `name` (`device:interface`) of device `d`, and which end it is.
    pub(crate) fn link_end(&self, d: DeviceIdx, name: &str) -> Option<(LinkIdx, usize)> {
        let Some(Comp::Link(l)) = self.graph.resolve_comp(name) else {
            return None;
        };
        let link = &self.graph.topology().links[l.0];
        Some((l, usize::from(link.a_device as usize != d.0)))
    }

    fn apply_interface(
        &mut self,
        d: DeviceIdx,
        device: &str,
        interface: &str,
        at: UnixMillis,
        signal: &Signal,
        out: &mut Vec<Output>,
    ) {
        match signal {
            Signal::Interface { oper, admin, .. } => {
                let status = IfState {
                    oper: *oper,
                    admin: *admin,
                };
                let prev = self.state.signals.devices[d]
                    .interfaces
                    .insert(interface.to_string(), Timed::new(status, at));
                let news = prev.is_some_and(|p| p.value.oper != *oper);
                let name = format!("{device}:{interface}");
                if let Some((l, end)) = self.link_end(d, &name) {
                    self.state.signals.links[l][end] = Some(Timed::new(*oper == IfStatus::Up, at));
                    let lc = l.comp(&self.graph);
                    if news {
                        self.note(lc, at, format!("{name} oper {oper:?}").to_lowercase());
                    }
                    let raw = self.state.signals.link_raw(l, self.freshness());
                    self.feed(lc, raw, at, out);
                } else if news {
                    let c = d.comp(&self.graph);
                    let text = format!("interface {interface} oper {oper:?}").to_lowercase();
                    self.note(c, at, text);
                }
            }
            Signal::Traffic { in_bps, out_bps } => {
                let rate = Rate {
                    in_bps: *in_bps,
                    out_bps: *out_bps,
                };
                self.state.signals.devices[d]
                    .traffic
                    .insert(interface.to_string(), Timed::new(rate, at));
            }
            _ => {}
        }
    }
}
