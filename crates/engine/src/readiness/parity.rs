//! Interface parity (issue #10): every interface of an active-standby pair that is on a
//! declared link and up on the active member must be up on the standby too. A standby whose
//! inside cable is unplugged has already lost the redundancy it is there for.
//!
//! One check per interface name, `interface <ifname>`, judged from the interface states the
//! polls already bring (IF-MIB ifOperStatus, ifAdminStatus), for every interface name that is
//! on a declared topology link of either member (members are paired by interface name, as
//! vendors name the interfaces of both units of a cluster alike). LLDP-seen peers are not
//! used: the engine does not receive LLDP neighbours, only `faultline discover` and `drift`
//! read them.
//!
//! - up on the active, up on the standby: ready;
//! - up on the active, anything else on the standby (down, lowerLayerDown, admin down...):
//!   not ready, `interface in0: fw-a up, fw-b down`;
//! - not up on the active, up on the standby: ready (nothing to carry over);
//! - not up on either member: not a parity failure (the check does not apply);
//! - a side not read or stale: unknown; not read on either member: does not apply (the
//!   members' interfaces are not polled, e.g. ICMP only).
//!
//! One page stream per root cause: when the standby's interface is on a declared link, that
//! link is down (its down end is the standby's) and is an incident of its own
//! (`redundancy_lost` while the service still works). The failing check then makes the
//! standby not ready (the group degraded, `faultline ready`, a later failover's first suspect),
//! but opens no `standby_not_ready` incident of its own: the link's incident carries the
//! readiness line as evidence instead (see `incidents::ready`).

use std::collections::{BTreeMap, BTreeSet};

use faultline_model::Topology;
use faultline_observe::{Fact, IfStatus};

use super::{CheckResult, CheckValue, NotReady, Verdict};
use crate::Engine;
use crate::ids::{DeviceIdx, LinkIdx, Timed};
use crate::signals::{Freshness, IfState};

/// The name of an interface parity check is this prefix and the interface name.
pub const INTERFACE_CHECK: &str = "interface ";

/// Interfaces of HA group members that are on declared links, by member and name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ports {
    linked: BTreeMap<DeviceIdx, BTreeMap<String, LinkIdx>>,
}

impl Ports {
    /// The declared links of `members`.
    pub(crate) fn new(t: &Topology, members: &BTreeSet<DeviceIdx>) -> Self {
        let mut linked: BTreeMap<DeviceIdx, BTreeMap<String, LinkIdx>> = BTreeMap::new();
        for (i, l) in t.links.iter().enumerate() {
            for (dev, end) in [(l.a_device, l.a()), (l.b_device, l.b())] {
                let d = DeviceIdx(dev as usize);
                if members.contains(&d) {
                    let ports = linked.entry(d).or_default();
                    ports.entry(end.interface.to_string()).or_insert(LinkIdx(i));
                }
            }
        }
        Ports { linked }
    }

    /// Interface names on a declared link of `a` or of `b`, in order.
    fn names(&self, a: DeviceIdx, b: DeviceIdx) -> BTreeSet<&str> {
        [a, b]
            .iter()
            .filter_map(|d| self.linked.get(d))
            .flat_map(|m| m.keys().map(String::as_str))
            .collect()
    }

    /// The declared link of member `d`'s interface `ifname`.
    fn link(&self, d: DeviceIdx, ifname: &str) -> Option<LinkIdx> {
        self.linked.get(&d)?.get(ifname).copied()
    }
}

impl NotReady {
    /// The failing lines that are no other incident's: what a `standby_not_ready` incident
    /// is about.
    pub(crate) fn own_failing(&self) -> impl Iterator<Item = &String> {
        self.failing
            .iter()
            .filter(|l| !self.covered.contains_key(*l))
    }
}

/// IF-MIB's name of a status.
fn word(s: IfStatus) -> &'static str {
    match s {
        IfStatus::Up => "up",
        IfStatus::Down => "down",
        IfStatus::Testing => "testing",
        IfStatus::Unknown => "unknown",
        IfStatus::Dormant => "dormant",
        IfStatus::NotPresent => "notPresent",
        IfStatus::LowerLayerDown => "lowerLayerDown",
    }
}

/// An interface state as a check value: the oper status, and the admin status when not up.
fn value(s: &Timed<IfState>, fresh: Freshness) -> CheckValue {
    let oper = word(s.value.oper);
    CheckValue {
        value: Fact::Text(oper.to_string()),
        shown: (s.value.admin != IfStatus::Up)
            .then(|| format!("{oper} (admin {})", word(s.value.admin))),
        at: s.at,
        stale: !fresh.fresh(s.at),
    }
}

/// Judge interface `ifname` of the pair from both members' last states.
fn judge(
    ifname: &str,
    (active_id, active): (&str, Option<&Timed<IfState>>),
    (standby_id, standby): (&str, Option<&Timed<IfState>>),
    fresh: Freshness,
) -> CheckResult {
    let show = |v: &Option<CheckValue>| match v {
        None => "not read".to_string(),
        Some(v) if v.stale => format!("{} (stale)", v.display()),
        Some(v) => v.display(),
    };
    let up = |s: Option<&Timed<IfState>>| s.map(|s| s.value.oper == IfStatus::Up);
    let (a, s) = (
        active.map(|v| value(v, fresh)),
        standby.map(|v| value(v, fresh)),
    );
    let usable = |v: &Option<CheckValue>| v.as_ref().is_some_and(|v| !v.stale);
    let (verdict, applies, note) = match (up(active), up(standby)) {
        (None, None) => (Verdict::Unknown, false, Some("not read on either member")),
        _ if !usable(&a) || !usable(&s) => (Verdict::Unknown, true, None),
        (Some(true), Some(true)) | (Some(false), Some(true)) => (Verdict::Ready, true, None),
        (Some(true), Some(false)) => (Verdict::NotReady, true, None),
        _ => (
            Verdict::Unknown,
            false,
            Some("not up on either member: no parity failure"),
        ),
    };
    let mut detail = format!(
        "{INTERFACE_CHECK}{ifname}: {active_id} {}, {standby_id} {}",
        show(&a),
        show(&s)
    );
    if let Some(n) = note {
        detail.push_str(&format!(" ({n})"));
    }
    CheckResult {
        check: format!("{INTERFACE_CHECK}{ifname}"),
        rule: None,
        standby: s,
        active: a,
        verdict,
        detail,
        applies,
    }
}

impl Engine {
    /// The interface parity checks of standby `d` against active `a`.
    pub(super) fn parity_checks(&self, a: DeviceIdx, d: DeviceIdx) -> Vec<CheckResult> {
        let t = self.graph.topology();
        let fresh = self.freshness();
        let sig = &self.state.signals.devices;
        self.layout
            .members
            .ports
            .names(a, d)
            .into_iter()
            .map(|ifname| {
                judge(
                    ifname,
                    (&t.devices[a.0].id, sig[a].interfaces.get(ifname)),
                    (&t.devices[d.0].id, sig[d].interfaces.get(ifname)),
                    fresh,
                )
            })
            .collect()
    }

    /// The failing parity checks of standby `d` whose interface is on a declared link
    /// (which is then down and an incident of its own): detail line → link id.
    pub(super) fn covered_by_links(
        &self,
        d: DeviceIdx,
        checks: &[CheckResult],
    ) -> BTreeMap<String, String> {
        let t = self.graph.topology();
        checks
            .iter()
            .filter(|c| c.verdict == Verdict::NotReady)
            .filter_map(|c| {
                let ifname = c.check.strip_prefix(INTERFACE_CHECK)?;
                let l = self.layout.members.ports.link(d, ifname)?;
                Some((c.detail.clone(), t.links[l.0].id().to_string()))
            })
            .collect()
    }
}
