//! Standby readiness: can the spare of an active-standby group take over? (issue #10)
//!
//! Every poll of a group member brings one [`Signal::Readiness`](faultline_observe::Signal)
//! fact per check of its profile. At each correlation the standby members of every group with
//! exactly one active member are judged, check by check, under the rule the fact carries:
//! `match_active` and `within_percent_of_active` against the active member's latest value of
//! the same check, `equal` / `not_equal` / `at_least` on the standby's own value. The standby's
//! HA role is a check too (`ha_role`: failed or transition is not ready).
//!
//! A check whose value is missing, stale or [`Fact::Absent`] (or whose reference on the active
//! is) is **unknown**, never passing; a standby is **not ready** when any check fails, else
//! **unknown** when any is unknown, else **ready**. Not ready must last the device hold-down
//! before it is declared (the group turns `degraded` and a `standby_not_ready` incident opens,
//! see `incidents::ready`), and ready must last the recovery hold before it is cleared; unknown
//! changes nothing (missing data is no evidence of readiness).
//!
//! A declared record outlives the standby's role: when that standby takes over and the service
//! fails, the failover incident names it first and cites since when it was known not ready.
//!
//! Besides the profile's facts and the HA role, every interface of the pair on a declared link
//! is a check of its own (`interface in0`, see [`parity`]): up on the active, it must be up on
//! the standby.

mod parity;

use std::collections::{BTreeMap, BTreeSet};

use faultline_graph::{DependencyGraph, State};
use faultline_model::GroupMode;
use faultline_observe::{Fact, HaRole, ReadinessRule, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::feed::DeadlineKind;
use crate::ids::{Comp, DeviceIdx, GroupIdx, Timed, TypedComponents};
use crate::signals::Freshness;

pub use parity::INTERFACE_CHECK;
pub(crate) use parity::Ports;

/// The name of the synthetic check on the standby's own HA role.
pub const HA_ROLE_CHECK: &str = "ha_role";

/// A verdict on one check, or on a standby as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It holds: the standby could take over as far as this tells.
    Ready,
    /// It fails: the standby could not take over (or not as the active does).
    NotReady,
    /// No fresh, present value to judge (stale, absent, no active member to compare with).
    Unknown,
}

impl Verdict {
    /// The verdict as shown: `ready`, `not ready`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::NotReady => "not ready",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One readiness fact as a member last reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FactReport {
    pub value: Fact,
    pub shown: Option<String>,
    pub rule: ReadinessRule,
}

/// A value as read for one check on one member, for people and the API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckValue {
    /// The raw fact.
    pub value: Fact,
    /// The fact as a human reads it (`notForwarding`), where the profile maps it.
    pub shown: Option<String>,
    /// When it was read.
    pub at: UnixMillis,
    /// Older than the staleness limit: it does not count.
    pub stale: bool,
}

impl CheckValue {
    /// The value as a person reads it: the profile's name for it, else the raw value.
    pub fn display(&self) -> String {
        match (&self.shown, &self.value) {
            (Some(s), _) => s.clone(),
            (None, Fact::Int(i)) => i.to_string(),
            (None, Fact::Text(t)) => t.clone(),
            (None, Fact::Absent) => "absent".into(),
        }
    }
}

/// One check of one standby, judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// The check's name (`ip_forwarding`, or `ha_role`).
    pub check: String,
    /// The rule it was judged by (`None` for `ha_role`).
    pub rule: Option<ReadinessRule>,
    /// The standby's value.
    pub standby: Option<CheckValue>,
    /// The active member's value of the same check.
    pub active: Option<CheckValue>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, for people: `ip_forwarding: fw-a forwarding, fw-b notForwarding`.
    pub detail: String,
    /// False when neither member has the object (not implemented there, `absent` on both), or
    /// when a per-member rule (`equal`, `not_equal`, `at_least`) fails on the active member
    /// too (how the group runs, not what the standby lacks): the check then says nothing and
    /// does not count towards the standby's verdict.
    pub applies: bool,
}

/// A standby member of a group, judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandbyReadiness {
    /// Topology id of the member.
    pub device: String,
    /// Its verdict now (before hold-downs).
    pub verdict: Verdict,
    /// Since when it has had this verdict.
    pub since: Option<UnixMillis>,
    /// Declared not ready (the hold-down passed): the group is degraded because of it.
    pub declared_not_ready: bool,
    /// Every check, failing ones first.
    pub checks: Vec<CheckResult>,
}

/// An active-standby group's readiness.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupReadiness {
    /// Topology id of the group.
    pub group: String,
    /// Its active member, when exactly one is known.
    pub active: Option<String>,
    /// Every other member, in topology order (judged only when the active is known).
    pub standbys: Vec<StandbyReadiness>,
}

/// A standby declared not ready: kept after it took over, so that the failover incident can
/// cite since when it was known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct NotReady {
    /// When the failing verdict began (not when the hold-down ended).
    pub since: UnixMillis,
    /// The failing checks as last judged, one line each.
    pub failing: Vec<String>,
    /// Failing lines that are interface parity on a declared link, with the id of that link:
    /// the link is down and is its own incident, so these open no readiness incident.
    #[serde(default)]
    pub covered: BTreeMap<String, String>,
    /// It stopped being a standby (took over) at this instant.
    pub standby_until: Option<UnixMillis>,
    /// Its incident was merged into this incident (key) of a failed failover.
    pub merged_into: Option<String>,
}

/// The hold-down of one standby's verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct StandbyHold {
    /// The verdict at the last correlation, and since when.
    verdict: Option<Timed<Verdict>>,
    /// Not ready (undeclared yet) since.
    failing_since: Option<UnixMillis>,
    /// Ready again (still declared) since.
    passing_since: Option<UnixMillis>,
}

/// Everything readiness remembers: facts of group members, holds, declared records.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ReadinessState {
    /// Latest fact per member and check.
    facts: BTreeMap<DeviceIdx, BTreeMap<String, Timed<FactReport>>>,
    holds: BTreeMap<DeviceIdx, StandbyHold>,
    /// Standbys declared not ready.
    declared: BTreeMap<DeviceIdx, NotReady>,
    /// The earliest re-check queued per group, so that one is not queued per correlation.
    armed: BTreeMap<GroupIdx, UnixMillis>,
}

impl ReadinessState {
    /// Device and group indices it mentions (for checking a restored snapshot).
    pub(crate) fn fits(&self, devices: usize, groups: usize) -> bool {
        self.facts
            .keys()
            .chain(self.holds.keys())
            .chain(self.declared.keys())
            .all(|d| d.0 < devices)
            && self.armed.keys().all(|g| g.0 < groups)
    }

    /// The collector was down until `at`: facts read before count as read at `at`.
    pub(crate) fn resume(&mut self, at: UnixMillis) {
        for f in self.facts.values_mut().flat_map(|m| m.values_mut()) {
            f.at = f.at.max(at);
        }
    }

    /// Member `d`'s facts count as read at `at` (its `Steady`); whether it has any.
    pub(crate) fn refresh(&mut self, d: DeviceIdx, at: UnixMillis) -> bool {
        let Some(facts) = self.facts.get_mut(&d) else {
            return false;
        };
        for f in facts.values_mut() {
            f.at = f.at.max(at);
        }
        !facts.is_empty()
    }

    /// Record one fact of member `d`.
    pub(crate) fn record(&mut self, d: DeviceIdx, check: &str, report: FactReport, at: UnixMillis) {
        self.facts
            .entry(d)
            .or_default()
            .insert(check.to_string(), Timed::new(report, at));
    }

    /// The declared record of member `d`.
    pub(crate) fn declared(&self, d: DeviceIdx) -> Option<&NotReady> {
        self.declared.get(&d)
    }

    /// Note that the incident of standby `d` merged into incident `into` (a key).
    pub(crate) fn merge_into(&mut self, d: DeviceIdx, into: &str) {
        if let Some(r) = self.declared.get_mut(&d) {
            r.merged_into = Some(into.to_string());
        }
    }
}

/// Which devices are members of active-standby groups (derived from the graph): only their
/// readiness facts are kept.
#[derive(Debug, Clone, Default)]
pub(crate) struct Members {
    devices: BTreeSet<DeviceIdx>,
    /// Their interfaces on declared links (the interface parity checks).
    ports: Ports,
}

impl Members {
    pub(crate) fn new(graph: &DependencyGraph) -> Self {
        let t = graph.topology();
        let devices = t
            .groups
            .iter()
            .filter(|g| g.mode == GroupMode::ActiveStandby)
            .flat_map(|g| g.members.iter())
            .filter_map(|m| match graph.resolve_comp(m) {
                Some(Comp::Device(d)) => Some(d),
                _ => None,
            })
            .collect();
        let ports = Ports::new(t, &devices);
        Members { devices, ports }
    }

    /// Device `d` is in some active-standby group.
    pub(crate) fn is_member(&self, d: DeviceIdx) -> bool {
        self.devices.contains(&d)
    }
}

/// Two facts say the same (an integer and its decimal text do).
fn same(a: &Fact, b: &Fact) -> bool {
    match (a, b) {
        (Fact::Int(x), Fact::Int(y)) => x == y,
        (Fact::Text(x), Fact::Text(y)) => x == y,
        (Fact::Int(i), Fact::Text(t)) | (Fact::Text(t), Fact::Int(i)) => *t == i.to_string(),
        _ => false,
    }
}

/// A fact as a number, where it is one.
fn numeric(f: &Fact) -> Option<f64> {
    match f {
        Fact::Int(i) => Some(*i as f64),
        Fact::Text(t) => t.trim().parse().ok(),
        Fact::Absent => None,
    }
}

fn fact_text(f: &Fact) -> String {
    match f {
        Fact::Int(i) => i.to_string(),
        Fact::Text(t) => t.clone(),
        Fact::Absent => "absent".into(),
    }
}

/// The judge's view of one standby: names and latest facts of both members.
struct Pair<'a> {
    active_id: &'a str,
    standby_id: &'a str,
    active: Option<&'a BTreeMap<String, Timed<FactReport>>>,
    standby: Option<&'a BTreeMap<String, Timed<FactReport>>>,
    fresh: Freshness,
}

impl Pair<'_> {
    fn value(
        &self,
        of: Option<&BTreeMap<String, Timed<FactReport>>>,
        check: &str,
    ) -> Option<CheckValue> {
        of?.get(check).map(|f| CheckValue {
            value: f.value.value.clone(),
            shown: f.value.shown.clone(),
            at: f.at,
            stale: !self.fresh.fresh(f.at),
        })
    }

    /// Every check either member reported, judged.
    fn judge_all(&self) -> Vec<CheckResult> {
        let names: BTreeSet<&String> = self
            .standby
            .into_iter()
            .chain(self.active)
            .flat_map(|m| m.keys())
            .collect();
        names.into_iter().map(|n| self.judge(n)).collect()
    }

    fn judge(&self, check: &str) -> CheckResult {
        let standby = self.value(self.standby, check);
        let active = self.value(self.active, check);
        let rule = self
            .standby
            .and_then(|m| m.get(check))
            .or_else(|| self.active.and_then(|m| m.get(check)))
            .map(|f| f.value.rule.clone());
        let reference = active.as_ref().filter(|a| !a.stale).map(|a| &a.value);
        let (mut verdict, mut expect) = match (&rule, &standby) {
            (Some(rule), Some(s)) if !s.stale && s.value != Fact::Absent => {
                judge_rule(rule, &s.value, reference)
            }
            _ => (Verdict::Unknown, None),
        };
        // A per-member rule the active member fails as well (no default route on either) is
        // how the group runs, not something the standby lacks: it says nothing about readiness.
        let mut applies = true;
        if let (Some(rule), Some(a)) = (&rule, reference)
            && verdict == Verdict::NotReady
            && !matches!(
                rule,
                ReadinessRule::MatchActive | ReadinessRule::WithinPercentOfActive { .. }
            )
            && judge_rule(rule, a, None).0 == Verdict::NotReady
        {
            verdict = Verdict::Unknown;
            applies = false;
            expect = expect.map(|e| format!("{e}; the active fails it too"));
        }
        let show = |v: &Option<CheckValue>| match v {
            None => "not read".to_string(),
            Some(v) if v.stale => format!("{} (stale)", v.display()),
            Some(v) => v.display(),
        };
        let mut detail = format!(
            "{check}: {} {}, {} {}",
            self.active_id,
            show(&active),
            self.standby_id,
            show(&standby)
        );
        let absent = |v: &Option<CheckValue>| v.as_ref().is_none_or(|v| v.value == Fact::Absent);
        applies &= !(absent(&standby) && absent(&active));
        if let Some(e) = expect {
            detail.push_str(&format!(" ({e})"));
        } else if !applies {
            detail.push_str(" (not implemented on either member)");
        }
        CheckResult {
            check: check.to_string(),
            rule,
            standby,
            active,
            verdict,
            detail,
            applies,
        }
    }
}

/// Judge standby value `s` under `rule`, with the active member's fresh value `a` where known.
/// Returns the verdict and, for rules with a fixed expectation, what was expected.
fn judge_rule(rule: &ReadinessRule, s: &Fact, a: Option<&Fact>) -> (Verdict, Option<String>) {
    let ok = |b: bool| if b { Verdict::Ready } else { Verdict::NotReady };
    match rule {
        ReadinessRule::MatchActive => match a {
            Some(a) if *a != Fact::Absent => (ok(same(s, a)), None),
            _ => (Verdict::Unknown, None),
        },
        ReadinessRule::Equal { value } => (
            ok(same(s, value)),
            Some(format!("must be {}", fact_text(value))),
        ),
        ReadinessRule::NotEqual { value } => (
            ok(!same(s, value)),
            Some(format!("must not be {}", fact_text(value))),
        ),
        ReadinessRule::AtLeast { min } => match numeric(s) {
            Some(v) => (
                ok(v >= *min as f64),
                Some(format!("must be at least {min}")),
            ),
            None => (Verdict::Unknown, None),
        },
        ReadinessRule::WithinPercentOfActive { percent } => {
            let expect = Some(format!("must be within {percent}% of the active's"));
            match (numeric(s), a.and_then(numeric)) {
                (Some(v), Some(r)) => (ok((v - r).abs() <= r.abs() * percent / 100.0), expect),
                _ => (Verdict::Unknown, None),
            }
        }
    }
}

/// The `ha_role` check: a standby whose own HA role is failed or in transition is not ready.
fn judge_role(standby_id: &str, role: Option<HaRole>) -> CheckResult {
    let verdict = match role {
        Some(HaRole::Standby) => Verdict::Ready,
        Some(HaRole::Failed | HaRole::Transition) => Verdict::NotReady,
        _ => Verdict::Unknown,
    };
    let shown = role.map_or("not known".to_string(), |r| format!("{r:?}").to_lowercase());
    CheckResult {
        check: HA_ROLE_CHECK.to_string(),
        rule: None,
        standby: None,
        active: None,
        verdict,
        detail: format!("{HA_ROLE_CHECK}: {standby_id} {shown}"),
        applies: true,
    }
}

/// A standby's overall verdict: not ready if any check fails, unknown if any check that
/// applies is unknown (or none but the HA role was read), else ready.
fn overall(checks: &[CheckResult]) -> Verdict {
    let applying = || checks.iter().filter(|c| c.applies);
    if checks.iter().any(|c| c.verdict == Verdict::NotReady) {
        Verdict::NotReady
    } else if applying().all(|c| c.verdict == Verdict::Ready) && applying().count() > 1 {
        Verdict::Ready
    } else {
        Verdict::Unknown
    }
}

/// The standbys of one group, judged now.
struct GroupView {
    active: Option<DeviceIdx>,
    /// Every member but the active, with its checks (empty when no active is known).
    standbys: Vec<(DeviceIdx, Vec<CheckResult>)>,
}

impl Engine {
    /// Record a readiness fact of device `d` (ignored for devices in no active-standby group).
    pub(crate) fn record_readiness(
        &mut self,
        d: DeviceIdx,
        at: UnixMillis,
        check: &str,
        report: FactReport,
    ) {
        if self.layout.members.is_member(d) {
            self.state.readiness.record(d, check, report, at);
            self.state.dirty = true;
        }
    }

    /// Judge the standbys of `group` now.
    fn judge_group(&self, group: GroupIdx) -> GroupView {
        let t = self.graph.topology();
        let roles = self.member_roles(group);
        let actives: Vec<DeviceIdx> = roles
            .iter()
            .filter(|m| m.role == HaRole::Active)
            .map(|m| m.device)
            .collect();
        let active = match actives.as_slice() {
            [one] => Some(*one),
            _ => None,
        };
        let members =
            t.groups[group.0]
                .members
                .iter()
                .filter_map(|m| match self.graph.resolve_comp(m) {
                    Some(Comp::Device(d)) if Some(d) != active => Some(d),
                    _ => None,
                });
        let facts = &self.state.readiness.facts;
        let standbys = members
            .map(|d| {
                let Some(a) = active else {
                    return (d, Vec::new());
                };
                let pair = Pair {
                    active_id: &t.devices[a.0].id,
                    standby_id: &t.devices[d.0].id,
                    active: facts.get(&a),
                    standby: facts.get(&d),
                    fresh: self.freshness(),
                };
                let role = roles.iter().find(|m| m.device == d).map(|m| m.role);
                let mut checks = vec![judge_role(pair.standby_id, role)];
                checks.extend(pair.judge_all());
                checks.extend(self.parity_checks(a, d));
                checks.sort_by_key(|c| (c.verdict != Verdict::NotReady, c.check.clone()));
                (d, checks)
            })
            .collect();
        GroupView { active, standbys }
    }

    /// Judge every active-standby group and step the hold-downs: declare standbys not ready,
    /// clear the ones ready again, remember which took over. Called at each correlation.
    pub(crate) fn update_readiness(&mut self) {
        let now = self.state.now;
        let open: BTreeSet<String> = self.state.incidents.keys().cloned().collect();
        for gi in 0..self.layout.ha_groups.len() {
            let group = self.layout.ha_groups[gi];
            let view = self.judge_group(group);
            let mut next_check: Option<UnixMillis> = None;
            let mut wake = |at: UnixMillis| {
                if at > now {
                    next_check = Some(next_check.map_or(at, |n| n.min(at)));
                }
            };
            if let Some(a) = view.active {
                self.took_over(a, now, &open, &mut wake);
            }
            for (d, checks) in &view.standbys {
                let verdict = if view.active.is_some() {
                    overall(checks)
                } else {
                    Verdict::Unknown
                };
                for c in checks {
                    for v in [&c.standby, &c.active].into_iter().flatten() {
                        if !v.stale {
                            wake(v.at + self.cfg.stale_after_ms);
                        }
                    }
                }
                // A member that is itself failing is its own incident, not a readiness one.
                let tr = &self.state.tracks[d.comp(&self.graph)];
                let failing = tr.raw == State::Down || tr.effective == State::Down;
                let held = if failing { Verdict::Unknown } else { verdict };
                self.step_standby(*d, held, checks, &open, &mut wake);
            }
            if let Some(at) = next_check {
                let armed = self.state.readiness.armed.get(&group).copied();
                if armed.is_none_or(|a| a <= now || at < a) {
                    self.state.readiness.armed.insert(group, at);
                    let comp = group.comp(&self.graph);
                    self.state.deadlines.push(at, DeadlineKind::Recheck, comp);
                }
            }
        }
    }

    /// The active member `a`: if it was declared not ready as a standby, it took over now.
    /// Its record is kept for the failover window (or while the incident it merged into is
    /// open), then forgotten.
    fn took_over(
        &mut self,
        a: DeviceIdx,
        now: UnixMillis,
        open: &BTreeSet<String>,
        wake: &mut impl FnMut(UnixMillis),
    ) {
        let window = self.cfg.failover_window_ms;
        let r = &mut self.state.readiness;
        r.holds.remove(&a);
        let Some(rec) = r.declared.get_mut(&a) else {
            return;
        };
        let until = *rec.standby_until.get_or_insert(now);
        let host_open = rec.merged_into.as_ref().is_some_and(|k| open.contains(k));
        let expired = match &rec.merged_into {
            Some(_) => !host_open,
            None => until + window <= now,
        };
        if expired {
            r.declared.remove(&a);
            let c = a.comp(&self.graph);
            self.note(c, now, "readiness record closed (it took over)".into());
        } else if rec.merged_into.is_none() {
            wake(until + window);
        }
    }

    /// Step the hold-down of standby `d` with this correlation's verdict.
    fn step_standby(
        &mut self,
        d: DeviceIdx,
        verdict: Verdict,
        checks: &[CheckResult],
        open: &BTreeSet<String>,
        wake: &mut impl FnMut(UnixMillis),
    ) {
        let now = self.state.now;
        let hold = self.cfg.device;
        let c = d.comp(&self.graph);
        let covered = self.covered_by_links(d, checks);
        let r = &mut self.state.readiness;
        // The incident it merged into resolved: the record goes with it, and a standby still
        // not ready starts its hold-down afresh (a new warning only if it lasts).
        if let Some(rec) = r.declared.get(&d)
            && rec.merged_into.as_ref().is_some_and(|k| !open.contains(k))
        {
            r.declared.remove(&d);
            r.holds.remove(&d);
        }
        let h = r.holds.entry(d).or_default();
        if h.verdict.as_ref().is_none_or(|v| v.value != verdict) {
            h.verdict = Some(Timed::new(verdict, now));
        }
        let failing: Vec<String> = checks
            .iter()
            .filter(|c| c.verdict == Verdict::NotReady)
            .map(|c| c.detail.clone())
            .collect();
        match verdict {
            Verdict::NotReady => {
                h.passing_since = None;
                let since = *h.failing_since.get_or_insert(now);
                if let Some(rec) = r.declared.get_mut(&d) {
                    rec.standby_until = None;
                    rec.failing = failing;
                    rec.covered = covered;
                } else if since + hold.down_ms <= now {
                    let text = format!("standby not ready: {}", failing.join("; "));
                    r.declared.insert(
                        d,
                        NotReady {
                            since,
                            failing,
                            covered,
                            standby_until: None,
                            merged_into: None,
                        },
                    );
                    self.note(c, now, text);
                    self.state.dirty = true;
                } else {
                    wake(since + hold.down_ms);
                }
            }
            Verdict::Ready => {
                h.failing_since = None;
                if r.declared.contains_key(&d) {
                    let since = *h.passing_since.get_or_insert(now);
                    if since + hold.up_ms <= now {
                        r.declared.remove(&d);
                        h.passing_since = None;
                        self.note(c, now, "standby ready again".into());
                    } else {
                        wake(since + hold.up_ms);
                    }
                }
            }
            // Missing data is no evidence either way: nothing is declared or cleared, except a
            // record of a takeover past the failover window (it is history by now).
            Verdict::Unknown => {
                h.failing_since = None;
                h.passing_since = None;
                let window = self.cfg.failover_window_ms;
                if r.declared.get(&d).is_some_and(|rec| {
                    rec.merged_into.is_none()
                        && rec.standby_until.is_some_and(|u| u + window <= now)
                }) {
                    r.declared.remove(&d);
                }
            }
        }
    }

    /// A standby of `group` is declared not ready (and still a standby): the group is degraded.
    pub(crate) fn standby_not_ready(&self, group: GroupIdx) -> bool {
        self.not_ready_standbys(group).next().is_some()
    }

    /// Members of `group` declared not ready, with their records (including one that took over
    /// within the failover window), in topology order.
    pub(crate) fn not_ready_standbys(
        &self,
        group: GroupIdx,
    ) -> impl Iterator<Item = (DeviceIdx, &NotReady)> + '_ {
        let t = self.graph.topology();
        t.groups[group.0]
            .members
            .iter()
            .filter_map(move |m| match self.graph.resolve_comp(m) {
                Some(Comp::Device(d)) => self
                    .state
                    .readiness
                    .declared(d)
                    .filter(|r| r.standby_until.is_none())
                    .map(|r| (d, r)),
                _ => None,
            })
    }

    /// Readiness of every active-standby group, in topology order: for the API and the CLI.
    pub fn readiness(&self) -> Vec<GroupReadiness> {
        let t = self.graph.topology();
        self.layout
            .ha_groups
            .iter()
            .map(|&g| {
                let view = self.judge_group(g);
                let standbys = view
                    .standbys
                    .into_iter()
                    .map(|(d, checks)| {
                        let hold = self.state.readiness.holds.get(&d);
                        let verdict = if view.active.is_some() {
                            overall(&checks)
                        } else {
                            Verdict::Unknown
                        };
                        let since = hold
                            .and_then(|h| h.verdict.as_ref())
                            .filter(|v| v.value == verdict)
                            .map(|v| v.at);
                        let declared = self.state.readiness.declared(d);
                        StandbyReadiness {
                            device: t.devices[d.0].id.clone(),
                            verdict,
                            since: declared
                                .filter(|_| verdict == Verdict::NotReady)
                                .map(|r| r.since)
                                .or(since),
                            declared_not_ready: declared.is_some_and(|r| r.standby_until.is_none()),
                            checks,
                        }
                    })
                    .collect();
                GroupReadiness {
                    group: t.groups[g.0].id.clone(),
                    active: view.active.map(|a| t.devices[a.0].id.clone()),
                    standbys,
                }
            })
            .collect()
    }
}
