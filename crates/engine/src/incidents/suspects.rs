//! Suspects: when a service fails although redundancy should carry it, what may have made the
//! failover ineffective, ranked by how telling the evidence is.

use std::cmp::Reverse;

use faultline_graph::{CompId, State};
use faultline_incident::Suspect;
use faultline_observe::time::{format_span, format_utc};
use faultline_observe::{HaRole, IfStatus, UnixMillis};

use crate::Engine;
use crate::ids::{Comp, DeviceIdx, ServiceIdx, TypedComponents};

/// How telling each kind of evidence is. Only the order matters: it ranks the suspects.
mod score {
    /// It became active shortly before the service failed: the failover itself.
    pub const TOOK_OVER: f64 = 0.9;
    /// It sees its peer active too.
    pub const PEER_ACTIVE: f64 = 0.88;
    /// An interface of the newly active member is down although enabled.
    pub const INTERFACE_DOWN: f64 = 0.85;
    /// Its HA configuration differs from its peer's.
    pub const OUT_OF_SYNC: f64 = 0.8;
    /// A link in the service's path is down.
    pub const LINK_DOWN: f64 = 0.75;
    /// Nothing flows through the newly active member.
    pub const NO_TRAFFIC: f64 = 0.7;
    /// The surviving member of a degraded group carries the load alone.
    pub const SURVIVOR: f64 = 0.6;
    /// It changed state recently.
    pub const RECENT_CHANGE: f64 = 0.5;
    /// The failure the redundancy should have absorbed.
    pub const ROOT: f64 = 0.3;
}

/// A device that became active within the failover window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Takeover {
    pub device: DeviceIdx,
    pub at: UnixMillis,
}

fn suspect(component: impl Into<String>, reason: impl Into<String>, score: f64) -> Suspect {
    Suspect {
        component: component.into(),
        reason: reason.into(),
        score,
    }
}

impl Engine {
    /// Devices in service `s`'s closure that became active within the failover window, most
    /// recent first.
    pub(super) fn recent_role_changes(&self, s: ServiceIdx) -> Vec<Takeover> {
        let now = self.state.now;
        let window = self.cfg.failover_window_ms;
        let mut out: Vec<Takeover> = self.layout.closures[s]
            .iter()
            .filter_map(|c| match self.graph.comp(*c) {
                Comp::Device(device) => self.state.signals.devices[device]
                    .role_change
                    .filter(|rc| rc.value.to == HaRole::Active && rc.at + window >= now)
                    .map(|rc| Takeover { device, at: rc.at }),
                _ => None,
            })
            .collect();
        out.sort_by_key(|t| (Reverse(t.at), t.device));
        out
    }

    /// Rank what may have made a failover ineffective for service `s` (root cause `root`):
    /// one entry per component, most suspicious first, with every reason found for it.
    pub(super) fn suspects(&self, s: ServiceIdx, root: CompId) -> Vec<Suspect> {
        let fail_at = self.state.tracks[s.comp(&self.graph)].changed_at;
        let mut out: Vec<Suspect> = Vec::new();
        // Standby readiness (issue #10): a member known not ready before the failover.
        self.readiness_suspects(s, &mut out);
        for takeover in self.recent_role_changes(s) {
            self.takeover_suspects(takeover, fail_at, &mut out);
        }
        self.path_suspects(s, root, &mut out);
        self.survivor_suspects(s, &mut out);
        if !matches!(self.graph.comp(root), Comp::Service(_)) {
            let reason = "the failure the redundancy should have absorbed";
            out.push(suspect(self.graph.id_of(root), reason, score::ROOT));
        }
        merge_suspects(out)
    }

    /// Evidence against a device that took over: when, its interfaces, its HA view, traffic.
    fn takeover_suspects(&self, takeover: Takeover, fail_at: UnixMillis, out: &mut Vec<Suspect>) {
        let Takeover { device, at } = takeover;
        let dev = &self.graph.topology().devices[device.0].id;
        let reason = format!(
            "became active at {} ({} before the service failed): check its NAT/VIP, routes \
             and config",
            format_utc(at),
            format_span(fail_at.saturating_sub(at)),
        );
        out.push(suspect(dev, reason, score::TOOK_OVER));
        let sig = &self.state.signals.devices[device];
        let fresh = self.freshness();
        for (ifname, status) in &sig.interfaces {
            let (oper, admin) = (status.value.oper, status.value.admin);
            if oper != IfStatus::Up && admin == IfStatus::Up && fresh.fresh(status.at) {
                let reason =
                    format!("interface {oper:?} on the newly active member").to_lowercase();
                out.push(suspect(
                    format!("{dev}:{ifname}"),
                    reason,
                    score::INTERFACE_DOWN,
                ));
            }
        }
        let ha = sig.ha.map(|h| h.value);
        if ha.and_then(|h| h.peer) == Some(HaRole::Active) {
            let reason = "sees its peer as active too (possible split brain)";
            out.push(suspect(dev, reason, score::PEER_ACTIVE));
        }
        if ha.and_then(|h| h.in_sync) == Some(false) {
            let reason = "HA configuration not in sync with its peer";
            out.push(suspect(dev, reason, score::OUT_OF_SYNC));
        }
        let mut since = sig.traffic.values().filter(|r| r.at >= at).peekable();
        let any = since.peek().is_some();
        if any && since.all(|r| r.value.is_flat()) {
            let reason = "no traffic through it since it became active";
            out.push(suspect(dev, reason, score::NO_TRAFFIC));
        }
    }

    /// Links down in service `s`'s path, and devices or links that changed recently.
    fn path_suspects(&self, s: ServiceIdx, root: CompId, out: &mut Vec<Suspect>) {
        let now = self.state.now;
        let window = self.cfg.failover_window_ms;
        for &c in &self.layout.closures[s] {
            if c == root {
                continue;
            }
            let tr = &self.state.tracks[c];
            let recent = tr.changed_at > 0 && tr.changed_at + window >= now;
            match self.graph.comp(c) {
                Comp::Link(_) if tr.effective == State::Down => {
                    let reason = "link down in the service's path";
                    out.push(suspect(self.graph.id_of(c), reason, score::LINK_DOWN));
                }
                Comp::Device(_) | Comp::Link(_) if recent && tr.effective != State::Up => {
                    let reason = format!(
                        "changed to {} at {}",
                        tr.effective.as_str(),
                        format_utc(tr.changed_at)
                    );
                    out.push(suspect(self.graph.id_of(c), reason, score::RECENT_CHANGE));
                }
                _ => {}
            }
        }
    }

    /// Surviving members of degraded groups in service `s`'s closure now carry the load alone.
    fn survivor_suspects(&self, s: ServiceIdx, out: &mut Vec<Suspect>) {
        let t = self.graph.topology();
        for &c in &self.layout.closures[s] {
            let Comp::Group(gi) = self.graph.comp(c) else {
                continue;
            };
            let grp = &t.groups[gi.0];
            let members: Vec<CompId> = grp
                .members
                .iter()
                .filter_map(|m| self.graph.lookup(m).ok())
                .collect();
            if members.iter().all(|m| self.eval.own(*m) == State::Up) {
                continue;
            }
            for m in members.iter().filter(|m| self.eval.own(**m) == State::Up) {
                let reason = format!("surviving member of {} now carries the load alone", grp.id);
                out.push(suspect(self.graph.id_of(*m), reason, score::SURVIVOR));
            }
        }
    }
}

/// One entry per component, most suspicious first, with every reason found for it.
fn merge_suspects(mut found: Vec<Suspect>) -> Vec<Suspect> {
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.component.cmp(&b.component))
    });
    let mut merged: Vec<Suspect> = Vec::new();
    for s in found {
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
