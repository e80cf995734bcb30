//! The invariants of active-standby groups, both in one place: exactly one member should be
//! active. More than one is split brain (its own incident); none is the group down, whatever
//! the members' liveness says. Either must last the device hold-down, because a normal
//! failover passes through both for a moment (the old active dead and the spare not yet
//! promoted; both claiming the role).

use std::collections::BTreeMap;

use faultline_graph::State;
use faultline_observe::{HaRole, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::feed::DeadlineKind;
use crate::ids::{Comp, DeviceIdx, GroupIdx, TypedComponents};

/// Since when each active-standby group has been breaking an invariant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct HaState {
    /// More than one active member, since.
    split_since: BTreeMap<GroupIdx, UnixMillis>,
    /// No active member (every member's role known), since.
    no_active_since: BTreeMap<GroupIdx, UnixMillis>,
}

impl HaState {
    /// Group indices it mentions (for checking a restored snapshot against its graph).
    pub(crate) fn groups(&self) -> impl Iterator<Item = GroupIdx> + '_ {
        self.split_since
            .keys()
            .chain(self.no_active_since.keys())
            .copied()
    }
}

/// An active-standby group whose members all claim the active role (for longer than the
/// device hold-down).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitBrain {
    pub group: GroupIdx,
    /// The members that report themselves active, in topology order.
    pub actives: Vec<DeviceIdx>,
}

/// A member's role as the engine believes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemberRole {
    pub device: DeviceIdx,
    pub role: HaRole,
}

/// Since when a condition has held, kept in `since`: started now if it is new, forgotten when
/// it no longer holds. Returns when it started while it holds.
fn track_condition(
    since: &mut BTreeMap<GroupIdx, UnixMillis>,
    group: GroupIdx,
    holds: bool,
    now: UnixMillis,
) -> Option<UnixMillis> {
    if holds {
        Some(*since.entry(group).or_insert(now))
    } else {
        since.remove(&group);
        None
    }
}

impl Engine {
    /// Check both invariants of every active-standby group at the current instant. Returns
    /// the split brains that have lasted the hold-down; a condition still within it asks for a
    /// re-check when the hold-down ends.
    pub(crate) fn update_ha_invariants(&mut self) -> Vec<SplitBrain> {
        let now = self.state.now;
        let hold = self.cfg.device.down_ms;
        let mut split = Vec::new();
        for gi in 0..self.layout.ha_groups.len() {
            let group = self.layout.ha_groups[gi];
            let roles = self.member_roles(group);
            let members = self.graph.topology().groups[group.0].members.len();
            let none_active = roles.len() == members
                && !roles.is_empty()
                && !roles.iter().any(|m| m.role == HaRole::Active);
            let actives: Vec<DeviceIdx> = roles
                .iter()
                .filter(|m| m.role == HaRole::Active)
                .map(|m| m.device)
                .collect();
            let ha = &mut self.state.ha;
            let pending = [
                track_condition(&mut ha.no_active_since, group, none_active, now),
                track_condition(&mut ha.split_since, group, actives.len() > 1, now),
            ];
            if let Some(since) = pending[1]
                && since + hold <= now
            {
                split.push(SplitBrain { group, actives });
            }
            for since in pending.into_iter().flatten() {
                if since + hold > now {
                    let comp = group.comp(&self.graph);
                    self.state
                        .deadlines
                        .push(since + hold, DeadlineKind::Recheck, comp);
                }
            }
        }
        split
    }

    /// The own state of an active-standby group: down once no member has been active for the
    /// device hold-down; unknown while a live member's role cannot be read; degraded while a
    /// standby is declared not ready to take over (the redundancy is already consumed, see
    /// `readiness`); else up (its members' liveness is the graph's business).
    pub(crate) fn group_ha_state(&self, group: GroupIdx) -> State {
        match self.state.ha.no_active_since.get(&group) {
            Some(since) if since + self.cfg.device.down_ms <= self.state.now => State::Down,
            _ if self.role_unreadable(group) => State::Unknown,
            _ if self.standby_not_ready(group) => State::Degraded,
            _ => State::Up,
        }
    }

    /// A member that answers but whose latest current HA report is `Unknown` (its profile's
    /// HA objects are not answered, or the role value is not one the profile knows): nobody
    /// can tell which member carries the traffic, so the group is unknown, never silently up.
    fn role_unreadable(&self, group: GroupIdx) -> bool {
        let fresh = self.freshness();
        self.graph.topology().groups[group.0]
            .members
            .iter()
            .any(|m| match self.graph.resolve_comp(m) {
                Some(Comp::Device(device)) => {
                    let tr = &self.state.tracks[device.comp(&self.graph)];
                    tr.raw != State::Down
                        && self.state.signals.devices[device]
                            .ha
                            .is_some_and(|h| fresh.fresh(h.at) && h.value.role == HaRole::Unknown)
                }
                _ => false,
            })
    }

    /// Known roles of an active-standby group's members. A member that looks dead (failing or
    /// pending failure) is `Failed` whatever it last said: a dead box's last "active" is
    /// history.
    pub(crate) fn member_roles(&self, group: GroupIdx) -> Vec<MemberRole> {
        let fresh = self.freshness();
        self.graph.topology().groups[group.0]
            .members
            .iter()
            .filter_map(|m| match self.graph.resolve_comp(m) {
                Some(Comp::Device(device)) => {
                    let tr = &self.state.tracks[device.comp(&self.graph)];
                    // Answering now (raw up) means its role report is current, even while the
                    // recovery hold keeps it down in the graph.
                    if tr.raw == State::Down || (tr.effective == State::Down && tr.raw != State::Up)
                    {
                        return Some(MemberRole {
                            device,
                            role: HaRole::Failed,
                        });
                    }
                    self.state.signals.devices[device]
                        .ha
                        .filter(|h| fresh.fresh(h.at) && h.value.role != HaRole::Unknown)
                        .map(|h| MemberRole {
                            device,
                            role: h.value.role,
                        })
                }
                _ => None,
            })
            .collect()
    }
}
