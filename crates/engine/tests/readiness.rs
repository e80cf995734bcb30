//! Standby readiness (issue #10): a firewall pair whose standby drifts, judged by each rule
//! kind, held down, merged into the failover incident, replayed and restored exactly.

use std::collections::BTreeMap;
use std::sync::Arc;

mod common;
use common::transitions;

use faultline_engine::{Engine, EngineConfig, Hold, Output, Verdict};
use faultline_graph::{DependencyGraph, State};
use faultline_incident::{Incident, IncidentKind, Severity, TransitionAction};
use faultline_model::Topology;
use faultline_observe::{Fact, HaRole, Observation, ReadinessRule, Signal, Subject};

const S: u64 = 1_000;
const MIN: u64 = 60 * S;
/// 2026-11-28 19:00:00 UTC.
const T0: u64 = 1_795_892_400_000;

fn graph() -> Arc<DependencyGraph> {
    let topo = Topology::from_yaml_str(
        r#"
name: ready
devices:
  - {id: fw-a, kind: firewall}
  - {id: fw-b, kind: firewall}
  - {id: web-1, kind: server, requires: [fw-pair]}
groups:
  - {id: fw-pair, mode: active-standby, members: [fw-a, fw-b]}
services:
  - {id: portal, name: Contractor portal, tier: critical, requires: [web-1]}
"#,
        "ready.yaml",
    )
    .expect("valid topology");
    Arc::new(DependencyGraph::new(topo))
}

fn config() -> EngineConfig {
    EngineConfig {
        device: Hold {
            down_ms: 15 * S,
            up_ms: 60 * S,
        },
        probe: Hold {
            down_ms: 20 * S,
            up_ms: 60 * S,
        },
        stale_after_ms: 90 * S,
        // Readiness timing on its own: the first-page settle window is tested in lifecycle.rs.
        settle_ms: 0,
        ..EngineConfig::default()
    }
}

/// One readiness fact as a profile would report it.
#[derive(Clone)]
struct Reading {
    value: Fact,
    shown: Option<&'static str>,
    rule: ReadinessRule,
}

fn forwarding(v: i64) -> Reading {
    Reading {
        value: Fact::Int(v),
        shown: Some(if v == 1 {
            "forwarding"
        } else {
            "notForwarding"
        }),
        rule: ReadinessRule::MatchActive,
    }
}

fn plain(value: Fact, rule: ReadinessRule) -> Reading {
    Reading {
        value,
        shown: None,
        rule,
    }
}

/// The lab: who is alive, who is active, each member's readiness facts, the portal's answer.
struct World {
    dead: Vec<&'static str>,
    roles: BTreeMap<&'static str, HaRole>,
    facts: BTreeMap<&'static str, BTreeMap<&'static str, Reading>>,
    /// Members whose agent answers liveness but whose readiness facts are not read.
    silent_facts: Vec<&'static str>,
    portal: bool,
}

impl World {
    fn new() -> World {
        let both = BTreeMap::from([("ip_forwarding", forwarding(1))]);
        World {
            dead: Vec::new(),
            roles: BTreeMap::from([("fw-a", HaRole::Active), ("fw-b", HaRole::Standby)]),
            facts: BTreeMap::from([("fw-a", both.clone()), ("fw-b", both)]),
            silent_facts: Vec::new(),
            portal: true,
        }
    }

    fn set(&mut self, dev: &'static str, check: &'static str, r: Reading) {
        self.facts.entry(dev).or_default().insert(check, r);
    }

    fn poll(&self, at: u64) -> Vec<Observation> {
        let mut v = Vec::new();
        for dev in ["fw-a", "fw-b", "web-1"] {
            let ok = !self.dead.contains(&dev);
            v.push(Observation::new(
                at,
                Subject::device(dev),
                Signal::Reachability {
                    ok,
                    rtt_ms: None,
                    loss: if ok { 0.0 } else { 1.0 },
                },
            ));
            if !ok {
                continue;
            }
            if let Some(role) = self.roles.get(dev) {
                let signal = Signal::HaRole {
                    role: *role,
                    peer: None,
                    in_sync: None,
                };
                v.push(Observation::new(at, Subject::device(dev), signal));
            }
            if self.silent_facts.contains(&dev) {
                continue;
            }
            for (check, r) in self.facts.get(dev).into_iter().flatten() {
                let signal = Signal::Readiness {
                    check: check.to_string(),
                    value: r.value.clone(),
                    shown: r.shown.map(str::to_string),
                    rule: r.rule.clone(),
                };
                v.push(Observation::new(at, Subject::device(dev), signal));
            }
        }
        v.push(Observation::new(
            at,
            Subject::service("portal"),
            Signal::Probe {
                ok: self.portal,
                status: Some(if self.portal { 200 } else { 404 }),
                latency_ms: 5.0,
                detail: None,
                zone: None,
            },
        ));
        v
    }
}

/// Polls every 10 s from `from` (inclusive) to `to` (exclusive), collecting the outputs.
fn run(e: &mut Engine, w: &World, from: u64, to: u64, all: &mut Vec<Output>) {
    common::run_polls(e, |t| w.poll(t), (from, to, 10 * S), all);
}

fn group_state(e: &Engine) -> State {
    common::state_of(e, "fw-pair")
}

fn fw_b_verdict(e: &Engine) -> Verdict {
    e.readiness()[0].standbys[0].verdict
}

/// The one open readiness incident, after a drift that lasted the hold-down.
fn only_warning(e: &Engine) -> Incident {
    let open = e.open_incidents();
    assert_eq!(open.len(), 1, "{open:#?}");
    let inc = open[0].clone();
    assert_eq!(inc.kind, IncidentKind::StandbyNotReady, "{inc:#?}");
    assert_eq!(inc.severity, Severity::Warning);
    assert_eq!(inc.root_causes, ["fw-b"]);
    inc
}

#[test]
fn forwarding_off_on_the_standby_is_one_held_warning_and_degrades_the_pair() {
    let (g, mut w) = (graph(), World::new());
    let mut e = Engine::new(g, config());
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    assert!(transitions(&all).is_empty());
    assert_eq!(fw_b_verdict(&e), Verdict::Ready);
    assert_eq!(group_state(&e), State::Up);

    w.set("fw-b", "ip_forwarding", forwarding(2));
    // Within the hold-down (15 s): judged not ready, nothing declared yet.
    run(&mut e, &w, T0 + MIN, T0 + MIN + 10 * S, &mut all);
    assert_eq!(fw_b_verdict(&e), Verdict::NotReady);
    assert!(transitions(&all).is_empty(), "paged within the hold-down");
    assert_eq!(group_state(&e), State::Up);
    run(&mut e, &w, T0 + MIN + 10 * S, T0 + 10 * MIN, &mut all);
    let ts = transitions(&all);
    assert_eq!(ts.len(), 1, "{ts:#?}");
    assert_eq!(ts[0].action, TransitionAction::Trigger);
    assert_eq!(
        ts[0].at,
        T0 + MIN + 15 * S,
        "declared when the hold-down ends"
    );
    let inc = only_warning(&e);
    assert!(
        inc.evidence
            .iter()
            .any(|ev| ev.text == "not ready: ip_forwarding: fw-a forwarding, fw-b notForwarding"),
        "{:#?}",
        inc.evidence
    );
    assert!(inc.title.contains("fw-b") && inc.title.contains("ip_forwarding"));
    // Redundancy is consumed: the pair is degraded, the portal should still work.
    assert_eq!(group_state(&e), State::Degraded);
    let portal = &e.services()[0];
    assert_eq!(
        (portal.expected, portal.observed),
        (State::Degraded, State::Up)
    );
    let ready = &e.readiness()[0];
    assert_eq!(ready.active.as_deref(), Some("fw-a"));
    let b = &ready.standbys[0];
    assert!(b.declared_not_ready);
    assert_eq!(b.since, Some(T0 + MIN));
    assert_eq!(b.checks[0].check, "ip_forwarding");

    // One good poll in the middle does not resolve (recovery hold of 60 s).
    w.set("fw-b", "ip_forwarding", forwarding(1));
    run(&mut e, &w, T0 + 10 * MIN, T0 + 10 * MIN + 10 * S, &mut all);
    w.set("fw-b", "ip_forwarding", forwarding(2));
    run(&mut e, &w, T0 + 10 * MIN + 10 * S, T0 + 11 * MIN, &mut all);
    assert_eq!(transitions(&all).len(), 1, "no flapping");
    // Fixed for good: resolved once, after the recovery hold.
    w.set("fw-b", "ip_forwarding", forwarding(1));
    run(&mut e, &w, T0 + 11 * MIN, T0 + 13 * MIN, &mut all);
    let ts = transitions(&all);
    assert_eq!(ts.len(), 2, "{ts:#?}");
    assert_eq!(ts[1].action, TransitionAction::Resolve);
    assert_eq!(ts[1].at, T0 + 12 * MIN);
    assert!(e.open_incidents().is_empty());
    assert_eq!(group_state(&e), State::Up);
    assert_eq!(fw_b_verdict(&e), Verdict::Ready);
}

/// Each rule kind: a passing and a failing value on the standby (the active holds `active`).
#[test]
fn every_rule_kind_fails_and_passes() {
    let cases: Vec<(&str, ReadinessRule, Fact, Fact, Fact)> = vec![
        (
            "config_sync",
            ReadinessRule::Equal {
                value: Fact::Int(1),
            },
            Fact::Int(1),
            Fact::Int(1),
            Fact::Int(0),
        ),
        (
            "vrrp_priority",
            ReadinessRule::NotEqual {
                value: Fact::Int(0),
            },
            Fact::Int(100),
            Fact::Int(90),
            Fact::Int(0),
        ),
        (
            "default_route_v4",
            ReadinessRule::AtLeast { min: 1 },
            Fact::Int(1),
            Fact::Int(2),
            Fact::Int(0),
        ),
        (
            "route_count",
            ReadinessRule::WithinPercentOfActive { percent: 10.0 },
            Fact::Int(100),
            Fact::Int(92),
            Fact::Int(80),
        ),
        (
            "config_checksum",
            ReadinessRule::MatchActive,
            Fact::Text("AA11".into()),
            Fact::Text("AA11".into()),
            Fact::Text("BB22".into()),
        ),
    ];
    for (check, rule, active, good, bad) in cases {
        let mut w = World::new();
        w.set("fw-a", check, plain(active.clone(), rule.clone()));
        w.set("fw-b", check, plain(good, rule.clone()));
        let mut e = Engine::new(graph(), config());
        let mut all = Vec::new();
        run(&mut e, &w, T0, T0 + MIN, &mut all);
        assert_eq!(fw_b_verdict(&e), Verdict::Ready, "{check} passes");
        w.set("fw-b", check, plain(bad.clone(), rule.clone()));
        run(&mut e, &w, T0 + MIN, T0 + 3 * MIN, &mut all);
        assert_eq!(fw_b_verdict(&e), Verdict::NotReady, "{check} fails");
        let inc = only_warning(&e);
        let line = inc
            .evidence
            .iter()
            .find(|ev| ev.text.starts_with(&format!("not ready: {check}: fw-a ")))
            .unwrap_or_else(|| panic!("{check}: {:#?}", inc.evidence));
        // Both members' values are named.
        let show = |f: &Fact| match f {
            Fact::Int(i) => i.to_string(),
            Fact::Text(t) => t.clone(),
            Fact::Absent => "absent".into(),
        };
        assert!(
            line.text
                .contains(&format!("fw-a {}, fw-b {}", show(&active), show(&bad))),
            "{}",
            line.text
        );
    }
}

#[test]
fn absent_or_stale_facts_are_unknown_never_ready_and_never_page() {
    let mut w = World::new();
    w.set(
        "fw-b",
        "ip_forwarding",
        plain(Fact::Absent, ReadinessRule::MatchActive),
    );
    let mut e = Engine::new(graph(), config());
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 5 * MIN, &mut all);
    assert_eq!(fw_b_verdict(&e), Verdict::Unknown);
    let check = &e.readiness()[0].standbys[0].checks;
    assert!(
        check
            .iter()
            .any(|c| c.check == "ip_forwarding" && c.verdict == Verdict::Unknown)
    );
    assert!(transitions(&all).is_empty());
    assert_eq!(group_state(&e), State::Up);
    // Absent on both members: the object is not implemented, the check does not count.
    let sync = ReadinessRule::Equal {
        value: Fact::Int(1),
    };
    w.set(
        "fw-a",
        "ip_forwarding",
        plain(Fact::Absent, ReadinessRule::MatchActive),
    );
    w.set("fw-a", "config_sync", plain(Fact::Int(1), sync.clone()));
    w.set("fw-b", "config_sync", plain(Fact::Int(1), sync));
    run(&mut e, &w, T0 + 5 * MIN, T0 + 6 * MIN, &mut all);
    let checks = &e.readiness()[0].standbys[0].checks;
    let fwd = checks
        .iter()
        .find(|c| c.check == "ip_forwarding")
        .expect("listed");
    assert!(!fwd.applies && fwd.verdict == Verdict::Unknown, "{fwd:#?}");
    assert_eq!(fw_b_verdict(&e), Verdict::Ready);

    // A per-member rule both members fail (neither has a default route): not the standby's
    // lack, so it does not count.
    let routes = ReadinessRule::AtLeast { min: 1 };
    w.set(
        "fw-a",
        "default_route_v4",
        plain(Fact::Int(0), routes.clone()),
    );
    w.set("fw-b", "default_route_v4", plain(Fact::Int(0), routes));
    run(&mut e, &w, T0 + 6 * MIN, T0 + 7 * MIN, &mut all);
    let checks = &e.readiness()[0].standbys[0].checks;
    let dr = checks
        .iter()
        .find(|c| c.check == "default_route_v4")
        .expect("listed");
    assert!(!dr.applies && dr.verdict == Verdict::Unknown, "{dr:#?}");
    assert!(
        dr.detail
            .ends_with("(must be at least 1; the active fails it too)"),
        "{dr:#?}"
    );
    assert_eq!(fw_b_verdict(&e), Verdict::Ready);
    assert!(transitions(&all).is_empty());

    // Fresh and ready, then the standby's facts stop arriving (its agent still answers).
    let mut w = World::new();
    let mut e = Engine::new(graph(), config());
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    assert_eq!(fw_b_verdict(&e), Verdict::Ready);
    w.silent_facts.push("fw-b");
    run(&mut e, &w, T0 + MIN, T0 + 2 * MIN, &mut all);
    assert_eq!(
        fw_b_verdict(&e),
        Verdict::Ready,
        "still within the staleness limit"
    );
    // The last facts were read at T0 + 50 s: stale from T0 + 140 s, even with no poll then.
    e.advance(T0 + 140 * S);
    assert_eq!(fw_b_verdict(&e), Verdict::Unknown);
    let c = &e.readiness()[0].standbys[0].checks;
    assert!(c.iter().any(|c| c.detail.contains("(stale)")), "{c:#?}");
    assert!(transitions(&all).is_empty());

    // Declared not ready, then stale: unknown keeps the warning (no evidence of readiness).
    let mut w = World::new();
    let mut e = Engine::new(graph(), config());
    let mut all = Vec::new();
    w.set("fw-b", "ip_forwarding", forwarding(2));
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    only_warning(&e);
    w.silent_facts.push("fw-b");
    run(&mut e, &w, T0 + MIN, T0 + 10 * MIN, &mut all);
    assert_eq!(fw_b_verdict(&e), Verdict::Unknown);
    only_warning(&e);
    assert_eq!(transitions(&all).len(), 1);
}

/// The drift two hours before the failover, the failover, the outage, the repair.
fn drift_then_failover() -> (Engine, Vec<Output>, World) {
    let mut w = World::new();
    let mut e = Engine::new(graph(), config());
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 14 * MIN, &mut all);
    // 19:14: fw-b stops forwarding.
    w.set("fw-b", "ip_forwarding", forwarding(2));
    run(&mut e, &w, T0 + 14 * MIN, T0 + 150 * MIN, &mut all);
    // 21:30: fw-a dies, fw-b takes over and cannot forward: the portal fails.
    w.dead.push("fw-a");
    w.roles.insert("fw-b", HaRole::Active);
    w.portal = false;
    run(&mut e, &w, T0 + 150 * MIN, T0 + 160 * MIN, &mut all);
    (e, all, w)
}

#[test]
fn failover_onto_a_standby_known_not_ready_cites_it_and_merges_the_warning() {
    let (mut e, mut all, mut w) = drift_then_failover();
    let ts = transitions(&all);
    // The warning at 19:14; at 21:30 fw-a's own failure (redundancy lost, the existing rule)
    // which becomes the failover incident when the portal fails; then the warning resolves
    // as merged into it.
    let pages: Vec<(TransitionAction, IncidentKind, &str)> = ts
        .iter()
        .filter(|t| t.action != TransitionAction::Update)
        .map(|t| {
            (
                t.action,
                t.incident.kind,
                t.incident.root_causes[0].as_str(),
            )
        })
        .collect();
    assert_eq!(
        pages,
        [
            (
                TransitionAction::Trigger,
                IncidentKind::StandbyNotReady,
                "fw-b"
            ),
            (
                TransitionAction::Trigger,
                IncidentKind::RedundancyLost,
                "fw-a"
            ),
            (
                TransitionAction::Resolve,
                IncidentKind::StandbyNotReady,
                "fw-b"
            ),
        ],
        "{ts:#?}"
    );
    let last_update = ts
        .iter()
        .rfind(|t| t.action == TransitionAction::Update)
        .expect("an update");
    assert_eq!(last_update.incident.kind, IncidentKind::FailoverIneffective);
    let open = e.open_incidents();
    assert_eq!(open.len(), 1, "one page per root cause: {open:#?}");
    let inc = open[0];
    assert_eq!(inc.kind, IncidentKind::FailoverIneffective);
    assert_eq!(inc.severity, Severity::Critical);
    assert_eq!(inc.root_causes, ["fw-a"]);
    let first = &inc.suspects[0];
    assert_eq!(first.component, "fw-b");
    let cited = "not ready since 2026-11-28 19:14:00 UTC, 2h 16m before the failover: \
                 ip_forwarding: fw-a forwarding, fw-b notForwarding";
    assert!(first.reason.contains(cited), "{}", first.reason);
    assert!(
        inc.evidence
            .iter()
            .any(|ev| ev.subject == "fw-b" && ev.text == cited),
        "{:#?}",
        inc.evidence
    );
    // The warning was resolved as merged, with a reference to the failover incident.
    let merged = &ts.last().expect("the merge").incident;
    let last = merged.evidence.last().expect("evidence");
    assert_eq!(
        last.text,
        format!(
            "merged into incident {}: the service failed, this standby is its first suspect",
            inc.id
        )
    );

    // Repair: fw-a back as active, fw-b forwards again: one resolve, nothing reopens.
    w.dead.clear();
    w.roles.insert("fw-a", HaRole::Active);
    w.roles.insert("fw-b", HaRole::Standby);
    w.set("fw-b", "ip_forwarding", forwarding(1));
    w.portal = true;
    run(&mut e, &w, T0 + 160 * MIN, T0 + 180 * MIN, &mut all);
    let after = transitions(&all)[ts.len()..].to_vec();
    let actions: Vec<_> = after.iter().map(|t| (t.action, t.incident.kind)).collect();
    assert_eq!(
        actions,
        [(TransitionAction::Resolve, IncidentKind::FailoverIneffective)],
        "{after:#?}"
    );
    assert!(e.open_incidents().is_empty());
    assert_eq!(fw_b_verdict(&e), Verdict::Ready);
    assert_eq!(group_state(&e), State::Up);
}

/// After the failover incident resolves, a standby still not ready is a new warning once its
/// hold-down passes again (the record went with the incident it merged into).
#[test]
fn a_standby_still_not_ready_after_the_outage_warns_again() {
    let (mut e, mut all, mut w) = drift_then_failover();
    w.dead.clear();
    w.roles.insert("fw-a", HaRole::Active);
    w.roles.insert("fw-b", HaRole::Standby);
    w.portal = true;
    run(&mut e, &w, T0 + 160 * MIN, T0 + 180 * MIN, &mut all);
    let ts = transitions(&all);
    let last = ts.last().expect("transitions");
    assert_eq!(
        (last.action, last.incident.kind),
        (TransitionAction::Trigger, IncidentKind::StandbyNotReady),
        "{ts:#?}"
    );
    only_warning(&e);
}

/// Every query the readiness adds, as text.
fn queries(e: &Engine) -> Vec<String> {
    vec![
        serde_json::to_string(&e.readiness()).unwrap(),
        serde_json::to_string(&e.open_incidents()).unwrap(),
        serde_json::to_string(&e.components()).unwrap(),
        serde_json::to_string(&e.timeline().collect::<Vec<_>>()).unwrap(),
    ]
}

/// A journal replayed in one go, batch by batch, or restored from a snapshot at any cut gives
/// the same outputs and the same readiness.
#[test]
fn readiness_replays_and_restores_exactly() {
    let mut w = World::new();
    let mut journal: Vec<Vec<Observation>> = Vec::new();
    for k in 0..60u64 {
        let at = T0 + k * 10 * S;
        match k {
            6 => w.set("fw-b", "ip_forwarding", forwarding(2)),
            20 => w.silent_facts.push("fw-b"),
            24 => w.silent_facts.clear(),
            30 => {
                w.dead.push("fw-a");
                w.roles.insert("fw-b", HaRole::Active);
                w.portal = false;
            }
            45 => {
                w.dead.clear();
                w.roles.insert("fw-a", HaRole::Active);
                w.roles.insert("fw-b", HaRole::Standby);
                w.set("fw-b", "ip_forwarding", forwarding(1));
                w.portal = true;
            }
            _ => {}
        }
        journal.push(w.poll(at));
    }
    let step = |e: &mut Engine, b: &[Observation]| {
        let mut out = e.ingest(b);
        out.extend(e.advance(b[0].at + 3 * S));
        out
    };
    let mut a = Engine::new(graph(), config());
    let full: Vec<Vec<Output>> = journal.iter().map(|b| step(&mut a, b)).collect();
    let kinds: Vec<IncidentKind> = transitions(&full.concat())
        .iter()
        .map(|t| t.incident.kind)
        .collect();
    assert!(kinds.contains(&IncidentKind::StandbyNotReady), "{kinds:?}");
    assert!(
        kinds.contains(&IncidentKind::FailoverIneffective),
        "{kinds:?}"
    );

    // The whole journal in one ingest (as a restart replays it) ends in the same state.
    let mut r = Engine::new(graph(), config());
    let flat: Vec<Observation> = journal.concat();
    let mut replayed = r.ingest(&flat);
    replayed.extend(r.advance(journal[59][0].at + 3 * S));
    assert_eq!(transitions(&replayed), transitions(&full.concat()));
    assert_eq!(queries(&r), queries(&a));

    for cut in [5, 8, 12, 22, 31, 40, 47] {
        let mut b = Engine::new(graph(), config());
        for x in &journal[..cut] {
            step(&mut b, x);
        }
        let bytes = b.snapshot();
        let mut c = Engine::restore(graph(), config(), &bytes).expect("restores");
        assert_eq!(queries(&c), queries(&b), "cut {cut}: restored whole");
        assert_eq!(c.snapshot(), bytes, "cut {cut}: snapshot of the restored");
        let rest: Vec<Vec<Output>> = journal[cut..].iter().map(|x| step(&mut c, x)).collect();
        assert_eq!(rest, full[cut..].to_vec(), "cut at batch {cut}");
        assert_eq!(queries(&c), queries(&a));
    }
}

#[test]
fn without_hold_downs_the_drift_is_declared_at_once() {
    // Readiness holds follow the device hold: with none, the drift is declared at once.
    let mut w = World::new();
    let mut e = Engine::new(graph(), EngineConfig::immediate());
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 30 * S, &mut all);
    w.set("fw-b", "ip_forwarding", forwarding(2));
    run(&mut e, &w, T0 + 30 * S, T0 + 40 * S, &mut all);
    only_warning(&e);
}

/// The portal fails while fw-b is still the standby (declared not ready, nothing took over):
/// redundancy was already consumed, so the failure is judged a failover that could not work,
/// it names fw-b first, and the warning merges into it; both resolve once fixed.
#[test]
fn a_service_failure_over_a_degraded_pair_names_the_standby_and_absorbs_the_warning() {
    let mut w = World::new();
    let mut e = Engine::new(graph(), config());
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    w.set("fw-b", "ip_forwarding", forwarding(2));
    run(&mut e, &w, T0 + MIN, T0 + 5 * MIN, &mut all);
    only_warning(&e);
    w.portal = false;
    run(&mut e, &w, T0 + 5 * MIN, T0 + 7 * MIN, &mut all);
    let open = e.open_incidents();
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0].kind, IncidentKind::FailoverIneffective);
    assert_eq!(open[0].suspects[0].component, "fw-b");
    assert!(
        open[0].suspects[0]
            .reason
            .starts_with("not ready since 2026-11-28 19:01:00 UTC"),
        "{:#?}",
        open[0].suspects
    );
    let resolved: Vec<_> = e.recent_resolved().collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].kind, IncidentKind::StandbyNotReady);
    // The pair stays degraded while fw-b is not ready (it is still the standby).
    assert_eq!(group_state(&e), State::Degraded);

    w.portal = true;
    w.set("fw-b", "ip_forwarding", forwarding(1));
    run(&mut e, &w, T0 + 7 * MIN, T0 + 10 * MIN, &mut all);
    assert!(e.open_incidents().is_empty(), "{:#?}", e.open_incidents());
    assert_eq!(group_state(&e), State::Up);
    let triggers = transitions(&all)
        .iter()
        .filter(|t| t.action == TransitionAction::Trigger)
        .count();
    assert_eq!(triggers, 2, "the warning and the failure, nothing reopened");
}
