//! Interface parity (issue #10): an interface on a declared link that is up on the active
//! member must be up on the standby. A firewall pair in front of an inside switch, each
//! member's inside port cabled (`in0`), a sync network nobody depends on (`sync0`), and an
//! interface without a declared link (`dmz0`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod common;
use common::transitions;

use faultline_engine::{CheckResult, Engine, EngineConfig, Hold, Output, Verdict};
use faultline_graph::{DependencyGraph, State};
use faultline_incident::{Incident, IncidentKind, Severity, TransitionAction};
use faultline_model::Topology;
use faultline_observe::{Fact, HaRole, IfStatus, Observation, ReadinessRule, Signal, Subject};

const S: u64 = 1_000;
const MIN: u64 = 60 * S;
/// 2026-11-28 19:00:00 UTC.
const T0: u64 = 1_795_892_400_000;
/// fw-b's inside link, the declared link of the interface under test.
const B_INSIDE: &str = "fw-b:in0--sw-in:fwb-in";

fn graph() -> Arc<DependencyGraph> {
    let topo = Topology::from_yaml_str(
        r#"
name: parity
devices:
  - {id: fw-a, kind: firewall}
  - {id: fw-b, kind: firewall}
  - {id: sw-in, kind: switch, requires: [fw-pair]}
  - {id: sw-sync, kind: switch}
  - {id: web-1, kind: server, requires: [sw-in]}
links:
  - [fw-a:in0, sw-in:fwa-in]
  - [fw-b:in0, sw-in:fwb-in]
  - [fw-a:sync0, sw-sync:fwa]
  - [fw-b:sync0, sw-sync:fwb]
  - [web-1:eth0, sw-in:web]
groups:
  - {id: fw-pair, mode: active-standby, members: [fw-a, fw-b]}
services:
  - {id: portal, name: Contractor portal, tier: critical, requires: [web-1]}
"#,
        "parity.yaml",
    )
    .expect("valid topology");
    Arc::new(DependencyGraph::new(topo))
}

/// Device and link hold-downs of 15 s, recoveries held 60 s.
fn config() -> EngineConfig {
    let hold = Hold {
        down_ms: 15 * S,
        up_ms: 60 * S,
    };
    EngineConfig {
        device: hold,
        link: hold,
        probe: Hold {
            down_ms: 20 * S,
            up_ms: 60 * S,
        },
        stale_after_ms: 90 * S,
        settle_ms: 0,
        ..EngineConfig::default()
    }
}

/// The lab as the pollers see it.
struct World {
    roles: BTreeMap<&'static str, HaRole>,
    dead: BTreeSet<&'static str>,
    /// `device:ifname` whose oper status is down.
    down: BTreeSet<&'static str>,
    /// Members whose interface table is not read (their agent still answers).
    no_ifs: BTreeSet<&'static str>,
    /// Readiness facts (`ip_forwarding`) per member: 1 forwarding, 2 not.
    forwarding: BTreeMap<&'static str, i64>,
    portal: bool,
}

impl World {
    fn new() -> World {
        World {
            roles: BTreeMap::from([("fw-a", HaRole::Active), ("fw-b", HaRole::Standby)]),
            dead: BTreeSet::new(),
            down: BTreeSet::new(),
            no_ifs: BTreeSet::new(),
            forwarding: BTreeMap::from([("fw-a", 1), ("fw-b", 1)]),
            portal: true,
        }
    }

    fn poll(&self, at: u64) -> Vec<Observation> {
        let mut v = Vec::new();
        for dev in ["fw-a", "fw-b", "web-1"] {
            let ok = !self.dead.contains(dev);
            v.push(Observation::new(
                at,
                Subject::device(dev),
                Signal::Reachability {
                    ok,
                    rtt_ms: None,
                    loss: if ok { 0.0 } else { 1.0 },
                },
            ));
            if !ok || dev == "web-1" {
                continue;
            }
            let ha = Signal::HaRole {
                role: self.roles[dev],
                peer: None,
                in_sync: None,
            };
            v.push(Observation::new(at, Subject::device(dev), ha));
            let fwd = self.forwarding[dev];
            let fact = Signal::Readiness {
                check: "ip_forwarding".into(),
                value: Fact::Int(fwd),
                shown: Some(
                    if fwd == 1 {
                        "forwarding"
                    } else {
                        "notForwarding"
                    }
                    .into(),
                ),
                rule: ReadinessRule::MatchActive,
            };
            v.push(Observation::new(at, Subject::device(dev), fact));
            if self.no_ifs.contains(dev) {
                continue;
            }
            for ifname in ["in0", "sync0", "dmz0"] {
                let down = self.down.contains(format!("{dev}:{ifname}").as_str());
                v.push(Observation::new(
                    at,
                    Subject::interface(dev, ifname),
                    Signal::Interface {
                        oper: if down { IfStatus::Down } else { IfStatus::Up },
                        admin: IfStatus::Up,
                        last_change_cs: None,
                    },
                ));
            }
        }
        v.push(Observation::new(
            at,
            Subject::service("portal"),
            Signal::Probe {
                ok: self.portal,
                status: Some(if self.portal { 200 } else { 502 }),
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

fn fw_b(e: &Engine) -> faultline_engine::StandbyReadiness {
    let g = e.readiness().remove(0);
    assert_eq!(g.active.as_deref(), Some("fw-a"));
    g.standbys.into_iter().next().expect("fw-b")
}

fn check(e: &Engine, name: &str) -> CheckResult {
    fw_b(e)
        .checks
        .into_iter()
        .find(|c| c.check == name)
        .unwrap_or_else(|| panic!("no check {name}: {:#?}", fw_b(e).checks))
}

fn open_kinds(e: &Engine) -> Vec<(IncidentKind, String)> {
    e.open_incidents()
        .iter()
        .map(|i| (i.kind, i.root_causes.join(",")))
        .collect()
}

fn the_link_incident(e: &Engine) -> Incident {
    let open = e.open_incidents();
    let inc = open
        .iter()
        .find(|i| i.root_causes == [B_INSIDE])
        .unwrap_or_else(|| panic!("no incident of {B_INSIDE}: {open:#?}"));
    (*inc).clone()
}

#[test]
fn the_standbys_inside_link_down_makes_it_not_ready_in_one_page_stream() {
    let (mut w, mut e) = (World::new(), Engine::new(graph(), config()));
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    assert!(transitions(&all).is_empty(), "{:#?}", transitions(&all));
    assert_eq!(fw_b(&e).verdict, Verdict::Ready);
    let inside = check(&e, "interface in0");
    assert_eq!(
        (inside.verdict, inside.detail.as_str()),
        (Verdict::Ready, "interface in0: fw-a up, fw-b up")
    );
    // dmz0 has no declared link: not a check.
    assert!(fw_b(&e).checks.iter().all(|c| c.check != "interface dmz0"));

    w.down.insert("fw-b:in0");
    // Within the hold-down: judged not ready, nothing declared.
    run(&mut e, &w, T0 + MIN, T0 + MIN + 10 * S, &mut all);
    let b = fw_b(&e);
    assert_eq!(b.verdict, Verdict::NotReady);
    assert!(!b.declared_not_ready);
    assert_eq!(b.checks[0].check, "interface in0", "failing check first");
    assert_eq!(b.checks[0].detail, "interface in0: fw-a up, fw-b down");
    assert_eq!(
        b.checks[0].standby.as_ref().map(|v| v.display()),
        Some("down".into())
    );
    assert_eq!(
        b.checks[0].active.as_ref().map(|v| v.display()),
        Some("up".into())
    );
    assert!(transitions(&all).is_empty());

    run(&mut e, &w, T0 + MIN + 10 * S, T0 + 5 * MIN, &mut all);
    let b = fw_b(&e);
    assert!(b.declared_not_ready, "{b:#?}");
    assert_eq!(b.since, Some(T0 + MIN));
    assert_eq!(group_state(&e), State::Degraded);
    // One root cause, one incident: the link's warning, not a second standby_not_ready.
    let ts = transitions(&all);
    let triggers: Vec<_> = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Trigger)
        .map(|t| (t.incident.kind, t.incident.root_causes.join(",")))
        .collect();
    assert_eq!(
        triggers,
        [(IncidentKind::RedundancyLost, B_INSIDE.to_string())],
        "{ts:#?}"
    );
    assert_eq!(open_kinds(&e).len(), 1, "{:#?}", e.open_incidents());
    let inc = the_link_incident(&e);
    assert_eq!(inc.severity, Severity::Warning);
    let line = "standby fw-b of fw-pair not ready: interface in0: fw-a up, fw-b down";
    assert!(
        inc.evidence
            .iter()
            .any(|ev| ev.subject == "fw-b" && ev.text == line && ev.at == T0 + MIN),
        "{:#?}",
        inc.evidence
    );
    let portal = &e.services()[0];
    assert_eq!(
        (portal.expected, portal.observed),
        (State::Degraded, State::Up)
    );

    // Plugged back in: ready again after the recovery hold (60 s), the link's incident
    // resolves, nothing else was ever paged.
    w.down.clear();
    run(&mut e, &w, T0 + 5 * MIN, T0 + 5 * MIN + 50 * S, &mut all);
    assert_eq!(fw_b(&e).verdict, Verdict::Ready);
    assert!(fw_b(&e).declared_not_ready, "recovery held");
    run(&mut e, &w, T0 + 5 * MIN + 50 * S, T0 + 8 * MIN, &mut all);
    assert!(!fw_b(&e).declared_not_ready);
    assert_eq!(group_state(&e), State::Up);
    assert!(e.open_incidents().is_empty(), "{:#?}", e.open_incidents());
    let kinds: Vec<_> = transitions(&all)
        .iter()
        .map(|t| (t.action, t.incident.kind))
        .filter(|(a, _)| *a != TransitionAction::Update)
        .collect();
    assert_eq!(
        kinds,
        [
            (TransitionAction::Trigger, IncidentKind::RedundancyLost),
            (TransitionAction::Resolve, IncidentKind::RedundancyLost)
        ]
    );
}

#[test]
fn stale_or_unread_interfaces_are_unknown_never_ready() {
    let (mut w, mut e) = (World::new(), Engine::new(graph(), config()));
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    assert_eq!(fw_b(&e).verdict, Verdict::Ready);
    // fw-b's interface table stops being read (its agent and facts still answer).
    w.no_ifs.insert("fw-b");
    run(&mut e, &w, T0 + MIN, T0 + 2 * MIN, &mut all);
    assert_eq!(
        fw_b(&e).verdict,
        Verdict::Ready,
        "within the staleness limit"
    );
    // Last read at T0 + 50 s: stale from T0 + 140 s.
    e.advance(T0 + 140 * S);
    let c = check(&e, "interface in0");
    assert_eq!(c.verdict, Verdict::Unknown);
    assert!(c.applies);
    assert_eq!(c.detail, "interface in0: fw-a up, fw-b up (stale)");
    assert_eq!(fw_b(&e).verdict, Verdict::Unknown);
    assert!(transitions(&all).is_empty());
    assert_eq!(group_state(&e), State::Up);

    // Never read on either member (ICMP-only devices): the check does not count.
    let (mut w, mut e) = (World::new(), Engine::new(graph(), config()));
    w.no_ifs.extend(["fw-a", "fw-b"]);
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    let c = check(&e, "interface in0");
    assert!(!c.applies && c.verdict == Verdict::Unknown, "{c:#?}");
    assert!(
        c.detail.ends_with("(not read on either member)"),
        "{}",
        c.detail
    );
    assert_eq!(fw_b(&e).verdict, Verdict::Ready);

    // Read on the active only: unknown, and it counts.
    let (mut w, mut e) = (World::new(), Engine::new(graph(), config()));
    w.no_ifs.insert("fw-b");
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    let c = check(&e, "interface in0");
    assert!(c.applies && c.verdict == Verdict::Unknown, "{c:#?}");
    assert_eq!(c.detail, "interface in0: fw-a up, fw-b not read");
    assert_eq!(fw_b(&e).verdict, Verdict::Unknown);
}

#[test]
fn down_on_both_members_or_without_a_declared_link_is_no_parity_failure() {
    let (mut w, mut e) = (World::new(), Engine::new(graph(), config()));
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    // dmz0 (no declared link) down on the standby: ignored.
    w.down.insert("fw-b:dmz0");
    run(&mut e, &w, T0 + MIN, T0 + 3 * MIN, &mut all);
    assert_eq!(fw_b(&e).verdict, Verdict::Ready);
    assert!(transitions(&all).is_empty(), "{:#?}", transitions(&all));

    // The sync network's switch dies: sync0 down on both members.
    w.down.extend(["fw-a:sync0", "fw-b:sync0"]);
    run(&mut e, &w, T0 + 3 * MIN, T0 + 6 * MIN, &mut all);
    let c = check(&e, "interface sync0");
    assert!(!c.applies && c.verdict == Verdict::Unknown, "{c:#?}");
    assert_eq!(
        c.detail,
        "interface sync0: fw-a down, fw-b down (not up on either member: no parity failure)"
    );
    let b = fw_b(&e);
    assert_eq!(b.verdict, Verdict::Ready, "{b:#?}");
    assert!(!b.declared_not_ready);
    assert!(
        open_kinds(&e)
            .iter()
            .all(|(k, _)| *k != IncidentKind::StandbyNotReady),
        "{:#?}",
        e.open_incidents()
    );

    // Down on the active only: the standby is no worse.
    w.down.clear();
    w.down.insert("fw-a:sync0");
    run(&mut e, &w, T0 + 6 * MIN, T0 + 7 * MIN, &mut all);
    assert_eq!(check(&e, "interface sync0").verdict, Verdict::Ready);
}

/// Parity together with a failing fact: the standby_not_ready incident is about the fact
/// alone (the link is its own incident); fixed, it resolves while the link's stays.
#[test]
fn a_failing_fact_and_parity_are_two_incidents_one_per_root_cause() {
    let (mut w, mut e) = (World::new(), Engine::new(graph(), config()));
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    w.down.insert("fw-b:in0");
    w.forwarding.insert("fw-b", 2);
    run(&mut e, &w, T0 + MIN, T0 + 3 * MIN, &mut all);
    let open = e.open_incidents();
    let warning = open
        .iter()
        .find(|i| i.kind == IncidentKind::StandbyNotReady)
        .unwrap_or_else(|| panic!("{open:#?}"));
    assert_eq!(
        warning.title,
        "standby fw-b of fw-pair is not ready to take over: ip_forwarding"
    );
    assert!(
        warning
            .evidence
            .iter()
            .any(|ev| ev.text == "not ready: interface in0: fw-a up, fw-b down"),
        "{:#?}",
        warning.evidence
    );
    the_link_incident(&e);
    assert_eq!(open.len(), 2, "{open:#?}");

    w.forwarding.insert("fw-b", 1);
    run(&mut e, &w, T0 + 3 * MIN, T0 + 6 * MIN, &mut all);
    assert_eq!(
        open_kinds(&e),
        [(IncidentKind::RedundancyLost, B_INSIDE.to_string())]
    );
    assert!(fw_b(&e).declared_not_ready, "still not ready on in0");
}

/// The active dies while fw-b's sync cable is out (a link the portal does not need, so the
/// graph still expects the failover to work): the portal fails anyway, and the failover
/// incident names fw-b first with the parity line and since when it was known. (With its
/// inside cable out instead, the graph itself expects the portal down: that link is a root
/// cause of the outage, see `the_standbys_inside_link_down_...`.)
#[test]
fn a_failover_onto_a_standby_failing_parity_cites_the_interface() {
    let (mut w, mut e) = (World::new(), Engine::new(graph(), config()));
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + MIN, &mut all);
    w.down.insert("fw-b:sync0");
    run(&mut e, &w, T0 + MIN, T0 + 10 * MIN, &mut all);
    assert!(fw_b(&e).declared_not_ready);
    w.dead.insert("fw-a");
    w.roles.insert("fw-b", HaRole::Active);
    w.portal = false;
    run(&mut e, &w, T0 + 10 * MIN, T0 + 12 * MIN, &mut all);
    let open = e.open_incidents();
    let failover = open
        .iter()
        .find(|i| i.kind == IncidentKind::FailoverIneffective)
        .unwrap_or_else(|| panic!("{open:#?}"));
    assert_eq!(failover.severity, Severity::Critical);
    let first = &failover.suspects[0];
    assert_eq!(first.component, "fw-b", "{:#?}", failover.suspects);
    assert!(
        first
            .reason
            .starts_with("not ready since 2026-11-28 19:01:00 UTC")
            && first
                .reason
                .contains("before the failover: interface sync0: fw-a up, fw-b down"),
        "{}",
        first.reason
    );
    assert!(
        open.iter().all(|i| i.kind != IncidentKind::StandbyNotReady),
        "{open:#?}"
    );
}

/// Every query the parity check shows in, as text.
fn queries(e: &Engine) -> Vec<String> {
    vec![
        serde_json::to_string(&e.readiness()).unwrap(),
        serde_json::to_string(&e.open_incidents()).unwrap(),
        serde_json::to_string(&e.components()).unwrap(),
        serde_json::to_string(&e.timeline().collect::<Vec<_>>()).unwrap(),
    ]
}

#[test]
fn parity_replays_and_restores_exactly() {
    let mut w = World::new();
    let mut journal: Vec<Vec<Observation>> = Vec::new();
    for k in 0..60u64 {
        match k {
            6 => {
                w.down.insert("fw-b:in0");
            }
            12 => {
                w.down.remove("fw-b:in0");
                w.down.insert("fw-b:sync0");
            }
            15 => {
                w.forwarding.insert("fw-b", 2);
            }
            20 => {
                w.no_ifs.insert("fw-b");
            }
            24 => {
                w.no_ifs.clear();
            }
            30 => {
                w.dead.insert("fw-a");
                w.roles.insert("fw-b", HaRole::Active);
                w.portal = false;
            }
            45 => {
                w.dead.clear();
                w.roles.insert("fw-a", HaRole::Active);
                w.roles.insert("fw-b", HaRole::Standby);
                w.down.clear();
                w.forwarding.insert("fw-b", 1);
                w.portal = true;
            }
            _ => {}
        }
        journal.push(w.poll(T0 + k * 10 * S));
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
    assert!(kinds.contains(&IncidentKind::RedundancyLost), "{kinds:?}");
    assert!(
        kinds.contains(&IncidentKind::FailoverIneffective),
        "{kinds:?}"
    );

    let mut r = Engine::new(graph(), config());
    let mut replayed = r.ingest(&journal.concat());
    replayed.extend(r.advance(journal[59][0].at + 3 * S));
    assert_eq!(transitions(&replayed), transitions(&full.concat()));
    assert_eq!(queries(&r), queries(&a));

    for cut in [5, 8, 12, 17, 22, 31, 40, 47] {
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
