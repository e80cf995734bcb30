//! Incident lifecycle scenarios on the seed lab's topology (issue #9): one trigger per root
//! cause, no incident that opens and resolves while the failure settles, verdicts that only
//! escalate while a service fails, and history that keeps the verdict.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod common;
use common::transitions;

use faultline_engine::{Engine, EngineConfig, Hold, Output};
use faultline_graph::DependencyGraph;
use faultline_incident::{
    IncidentKind, IncidentTransition, ServiceState, Severity, TransitionAction,
};
use faultline_model::Topology;
use faultline_observe::{HaRole, IfStatus, Observation, Signal, Subject};

const S: u64 = 1_000;
const T0: u64 = 1_700_000_000_000;

/// The seed lab (tests/fixtures/seed/topology.yaml) without its per-lab addresses.
const SEED_LAB: &str = r#"
name: seed-lab
collector: mon
devices:
  - {id: mon, kind: host}
  - {id: sw-out, kind: switch}
  - {id: fw-a, kind: firewall, requires: [sw-out]}
  - {id: fw-b, kind: firewall, requires: [sw-out]}
  - {id: sw-in, kind: switch, requires: [fw-pair]}
  - {id: web-1, kind: server, requires: [sw-in]}
links:
  - [mon:outside, sw-out:root]
  - [fw-a:out0, sw-out:fwa-out]
  - [fw-b:out0, sw-out:fwb-out]
  - [fw-a:in0, sw-in:fwa-in]
  - [fw-b:in0, sw-in:fwb-in]
  - [web-1:eth0, sw-in:web]
  - [mon:mgmt-a, fw-a:mgmt0]
  - [mon:mgmt-b, fw-b:mgmt0]
groups:
  - {id: fw-pair, mode: active-standby, members: [fw-a, fw-b]}
services:
  - id: portal
    name: Contractor portal
    tier: critical
    requires: [web-1]
"#;

fn graph() -> Arc<DependencyGraph> {
    Arc::new(DependencyGraph::new(
        Topology::from_yaml_str(SEED_LAB, "seed-lab.yaml").expect("valid"),
    ))
}

/// Equal hold-downs for devices, links and probes (the lab's setting).
fn equal_holds() -> EngineConfig {
    let hold = Hold {
        down_ms: 15 * S,
        up_ms: 30 * S,
    };
    EngineConfig {
        device: hold,
        link: hold,
        probe: hold,
        stale_after_ms: 90 * S,
        ..EngineConfig::default()
    }
}

/// The lab as the collector's pollers see it; each poll is several batches a few ms apart
/// (ICMP sweep, each firewall's SNMP walk, the probe), as in the collector.
struct Lab {
    roles: BTreeMap<&'static str, HaRole>,
    /// Interfaces (`device:ifname`) that are down.
    down_ifs: BTreeSet<&'static str>,
    /// Devices that do not answer.
    dead: BTreeSet<&'static str>,
    /// Members whose HA configuration differs from their peer's.
    unsynced: BTreeSet<&'static str>,
    portal: u16,
    /// How long after the sweep the portal's probe answers.
    probe_lag_ms: u64,
}

impl Lab {
    fn new() -> Lab {
        Lab {
            roles: BTreeMap::from([("fw-a", HaRole::Active), ("fw-b", HaRole::Standby)]),
            down_ifs: BTreeSet::new(),
            dead: BTreeSet::new(),
            unsynced: BTreeSet::new(),
            portal: 200,
            probe_lag_ms: 30,
        }
    }

    fn firewall(&self, at: u64, fw: &'static str) -> Vec<Observation> {
        if self.dead.contains(fw) {
            return vec![reach(at, fw, false)];
        }
        let mut v = vec![Observation::new(
            at,
            Subject::device(fw),
            Signal::HaRole {
                role: self.roles[fw],
                peer: None,
                in_sync: Some(!self.unsynced.contains(fw)),
            },
        )];
        for ifname in ["out0", "in0"] {
            let down = self.down_ifs.contains(format!("{fw}:{ifname}").as_str());
            v.push(Observation::new(
                at + 6,
                Subject::interface(fw, ifname),
                Signal::Interface {
                    oper: if down { IfStatus::Down } else { IfStatus::Up },
                    admin: IfStatus::Up,
                    last_change_cs: None,
                },
            ));
        }
        v
    }

    /// One poll cycle at `at`, as the batches the collector would ingest.
    fn poll(&self, at: u64) -> Vec<Vec<Observation>> {
        let sweep = ["mon", "sw-out", "fw-a", "fw-b", "sw-in", "web-1"]
            .iter()
            .map(|d| reach(at, d, !self.dead.contains(d)))
            .collect();
        vec![
            sweep,
            self.firewall(at + 10, "fw-a"),
            self.firewall(at + 20, "fw-b"),
            vec![probe(at + self.probe_lag_ms, self.portal)],
        ]
    }
}

fn reach(at: u64, dev: &str, ok: bool) -> Observation {
    Observation::new(
        at,
        Subject::device(dev),
        Signal::Reachability {
            ok,
            rtt_ms: ok.then_some(0.4),
            loss: if ok { 0.0 } else { 1.0 },
        },
    )
}

fn probe(at: u64, status: u16) -> Observation {
    Observation::new(
        at,
        Subject::service("portal"),
        Signal::Probe {
            ok: status == 200,
            status: Some(status),
            latency_ms: 12.0,
            detail: None,
            zone: None,
        },
    )
}

/// Poll every 5 s from `from` to `to` the way the collector feeds the engine: `ingest` each
/// batch, then `advance` to the batch's last instant.
fn run(e: &mut Engine, lab: &Lab, from: u64, to: u64, out: &mut Vec<Output>) {
    let mut t = from;
    while t < to {
        for batch in lab.poll(t) {
            let last = batch.iter().map(|o| o.at).max().unwrap_or(t);
            out.extend(e.ingest(&batch));
            out.extend(e.advance(last));
        }
        t += 5 * S;
    }
}

fn triggers(ts: &[IncidentTransition]) -> Vec<&IncidentTransition> {
    ts.iter()
        .filter(|t| t.action == TransitionAction::Trigger)
        .collect()
}

/// fw-b's inside link fails (redundancy lost), then fw-a's outside link fails and keepalived
/// on fw-a reports FAULT a few ms before its interface walk shows the link down.
fn double_fault() -> (Engine, Lab, Vec<Output>) {
    let mut e = Engine::new(graph(), equal_holds());
    let mut lab = Lab::new();
    let mut out = Vec::new();
    run(&mut e, &lab, T0, T0 + 60 * S, &mut out);
    lab.down_ifs.insert("fw-b:in0");
    run(&mut e, &lab, T0 + 60 * S, T0 + 120 * S, &mut out);
    lab.down_ifs.insert("fw-a:out0");
    lab.roles.insert("fw-a", HaRole::Failed);
    lab.roles.insert("fw-b", HaRole::Active);
    lab.portal = 502;
    run(&mut e, &lab, T0 + 120 * S, T0 + 240 * S, &mut out);
    (e, lab, out)
}

#[test]
fn double_fault_pages_one_trigger_per_root_cause() {
    let (_, _, out) = double_fault();
    let ts = transitions(&out);
    let opened: Vec<&str> = triggers(&ts)
        .iter()
        .map(|t| t.incident.id.as_str())
        .collect();
    assert_eq!(opened.len(), 2, "{opened:?}");
    assert!(
        opened.iter().all(|id| !id.starts_with("fw-a@")),
        "{opened:?}"
    );
    // No incident opens and resolves while the failure settles.
    for t in ts.iter().filter(|t| t.action == TransitionAction::Resolve) {
        let lived = t.at - t.incident.opened_at;
        assert!(lived > 15 * S, "{} lived {lived} ms", t.incident.id);
    }
}

fn portal_graph() -> Arc<DependencyGraph> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    Arc::new(DependencyGraph::new(
        Topology::load(std::path::Path::new(path)).expect("valid"),
    ))
}

/// The contractor portal's world every 5 s: the probes answer first, the ICMP sweep 300 ms
/// later; `db_up` says whether db-1 (and so the accounts database and the portal) works.
fn portal_poll(g: &DependencyGraph, at: u64, db_up: bool) -> Vec<Vec<Observation>> {
    let status = if db_up { 200 } else { 503 };
    let probes = ["portal", "accounts"]
        .iter()
        .map(|s| {
            let mut o = probe(at, status);
            o.subject = Subject::service(*s);
            o
        })
        .collect();
    let sweep = g
        .topology()
        .devices
        .iter()
        .map(|d| reach(at + 300, &d.id, db_up || d.id != "db-1"))
        .collect();
    vec![probes, sweep]
}

#[test]
fn unexplained_failure_waits_for_the_dependencies_verdict() {
    let g = portal_graph();
    let mut e = Engine::new(g.clone(), equal_holds());
    let mut out = Vec::new();
    let mut t = T0;
    while t < T0 + 120 * S {
        let db_up = t < T0 + 60 * S;
        for batch in portal_poll(&g, t, db_up) {
            let last = batch.iter().map(|o| o.at).max().unwrap_or(t);
            out.extend(e.ingest(&batch));
            out.extend(e.advance(last));
        }
        t += 5 * S;
    }
    let ts = transitions(&out);
    let opened: Vec<(&str, &str)> = triggers(&ts)
        .iter()
        .map(|t| (t.incident.id.as_str(), t.incident.title.as_str()))
        .collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert!(opened[0].0.starts_with("db-1@"), "{opened:?}");
    assert!(
        !ts.iter().any(|t| t.action == TransitionAction::Resolve),
        "{ts:#?}"
    );
}

/// How bad a kind of incident is, for "only escalates".
fn rank(k: IncidentKind) -> u8 {
    match k {
        IncidentKind::RedundancyLost
        | IncidentKind::StandbyNotReady
        | IncidentKind::TopologyDrift => 0,
        IncidentKind::PartialOutage => 1,
        IncidentKind::UnexplainedServiceFailure => 2,
        IncidentKind::ServiceDown | IncidentKind::FailoverIneffective => 3,
        IncidentKind::SplitBrain => 4,
    }
}

/// The double fault, then recovery: fw-b's inside link returns first (the portal still fails
/// for a while), then fw-a's outside link, and fw-a takes the traffic back.
fn double_fault_and_recovery() -> Vec<Output> {
    let (mut e, mut lab, mut out) = double_fault();
    lab.down_ifs.remove("fw-b:in0");
    run(&mut e, &lab, T0 + 240 * S, T0 + 300 * S, &mut out);
    lab.down_ifs.remove("fw-a:out0");
    lab.roles.insert("fw-a", HaRole::Active);
    lab.roles.insert("fw-b", HaRole::Standby);
    lab.portal = 200;
    run(&mut e, &lab, T0 + 300 * S, T0 + 600 * S, &mut out);
    out
}

#[test]
fn recovery_never_relabels_an_incident() {
    let ts = transitions(&double_fault_and_recovery());
    let mut last: BTreeMap<String, (IncidentKind, String, Severity)> = BTreeMap::new();
    for t in &ts {
        let i = &t.incident;
        if let Some((kind, title, severity)) = last.get(&i.id) {
            let escalated = rank(i.kind) > rank(*kind);
            assert!(
                escalated || i.kind == *kind,
                "{} relabelled {kind:?} -> {:?} at {}",
                i.id,
                i.kind,
                t.at
            );
            assert!(i.severity >= *severity, "{} downgraded: {ts:#?}", i.id);
            if i.kind == *kind && i.severity == *severity {
                assert_eq!(&i.title, title, "{} retitled at {}", i.id, t.at);
            }
        }
        last.insert(i.id.clone(), (i.kind, i.title.clone(), i.severity));
    }
    // The resolve pages carry the worst severity each incident reached.
    let resolved: Vec<_> = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Resolve)
        .collect();
    assert_eq!(resolved.len(), 2, "{ts:#?}");
    for r in resolved {
        let worst = ts
            .iter()
            .filter(|t| t.incident.id == r.incident.id)
            .map(|t| t.incident.severity)
            .max();
        assert_eq!(Some(r.incident.severity), worst, "{}", r.incident.id);
    }
    let link = ts
        .iter()
        .find(|t| t.incident.id.starts_with("fw-a:out0--sw-out"))
        .map(|t| t.incident.severity);
    assert_eq!(link, Some(Severity::Critical));
}

#[test]
fn resolved_incident_keeps_its_verdict_and_outage_windows() {
    let mut e = Engine::new(graph(), equal_holds());
    let mut lab = Lab::new();
    let mut out = Vec::new();
    run(&mut e, &lab, T0, T0 + 60 * S, &mut out);
    // The seed failure: fw-a's outside link, fw-b takes over without the NAT rule: 404.
    lab.down_ifs.insert("fw-a:out0");
    lab.roles.insert("fw-a", HaRole::Failed);
    lab.roles.insert("fw-b", HaRole::Active);
    lab.unsynced.insert("fw-b");
    lab.portal = 404;
    run(&mut e, &lab, T0 + 60 * S, T0 + 180 * S, &mut out);
    // The NAT rule is fixed on fw-b first; the cable is replaced later.
    lab.unsynced.clear();
    lab.portal = 200;
    run(&mut e, &lab, T0 + 180 * S, T0 + 300 * S, &mut out);
    lab.down_ifs.clear();
    lab.roles.insert("fw-a", HaRole::Standby);
    run(&mut e, &lab, T0 + 300 * S, T0 + 420 * S, &mut out);

    assert!(e.open_incidents().is_empty(), "{:#?}", e.open_incidents());
    let resolved: Vec<_> = e.recent_resolved().collect();
    assert_eq!(resolved.len(), 1, "{resolved:#?}");
    let inc = resolved[0];
    assert_eq!(inc.kind, IncidentKind::FailoverIneffective, "{inc:#?}");
    assert_eq!(inc.severity, Severity::Critical);
    assert_eq!(
        inc.suspects.first().map(|s| s.component.as_str()),
        Some("fw-b")
    );
    let resolved_at = inc.resolved_at.expect("resolved");
    assert!(resolved_at > inc.opened_at);
    let portal = inc
        .affected_services
        .iter()
        .find(|a| a.id == "portal")
        .expect("the portal stays listed");
    let outage = portal.outage.expect("outage window");
    assert_eq!(outage.worst, ServiceState::Down);
    let to = outage.to.expect("window closed");
    assert!(inc.opened_at <= outage.from && outage.from < to && to <= resolved_at);
    // The resolve page carries the same verdict.
    let ts = transitions(&out);
    let last = ts.last().expect("transitions");
    assert_eq!(last.action, TransitionAction::Resolve);
    assert_eq!(last.incident, *inc);
}

/// The seed failure as the demo sees it: the portal's probe fails 2.4 s after fw-a's link.
fn seed_with_late_probe(cfg: EngineConfig) -> Vec<IncidentTransition> {
    let mut e = Engine::new(graph(), cfg);
    let mut lab = Lab::new();
    lab.probe_lag_ms = 2_400;
    let mut out = Vec::new();
    run(&mut e, &lab, T0, T0 + 60 * S, &mut out);
    lab.down_ifs.insert("fw-a:out0");
    lab.roles.insert("fw-a", HaRole::Failed);
    lab.roles.insert("fw-b", HaRole::Active);
    lab.unsynced.insert("fw-b");
    lab.portal = 404;
    run(&mut e, &lab, T0 + 60 * S, T0 + 120 * S, &mut out);
    transitions(&out)
}

#[test]
fn first_page_waits_for_the_classification_to_settle() {
    let ts = seed_with_late_probe(equal_holds());
    let opened = triggers(&ts);
    assert_eq!(opened.len(), 1, "{ts:#?}");
    let first = &opened[0].incident;
    // A receiver filtered to critical sees the trigger: the verdict, not redundancy lost.
    assert_eq!(first.kind, IncidentKind::FailoverIneffective, "{first:#?}");
    assert_eq!(first.severity, Severity::Critical);
    // Held at most settle_ms (engine time), and opened_at is when it began.
    assert!(
        opened[0].at - first.opened_at <= 5 * S,
        "{:?}",
        opened[0].at
    );
    // Without the hold, the first page undersells (what the demo paged before).
    let unheld = seed_with_late_probe(EngineConfig {
        settle_ms: 0,
        ..equal_holds()
    });
    assert_eq!(triggers(&unheld)[0].incident.severity, Severity::Warning);
}

#[test]
fn new_incident_evidence_starts_at_its_first_cause() {
    let mut e = Engine::new(graph(), equal_holds());
    let mut lab = Lab::new();
    let mut out = Vec::new();
    run(&mut e, &lab, T0, T0 + 60 * S, &mut out);
    // fw-b fails, recovers, its incident resolves; later it fails again.
    for (from, to, dead) in [(60, 120, true), (120, 300, false), (300, 360, true)] {
        if dead {
            lab.dead.insert("fw-b");
        } else {
            lab.dead.clear();
        }
        run(&mut e, &lab, T0 + from * S, T0 + to * S, &mut out);
    }
    let ts = transitions(&out);
    let opened = triggers(&ts);
    assert_eq!(opened.len(), 2, "{ts:#?}");
    let second = &opened[1].incident;
    let early: Vec<_> = second
        .evidence
        .iter()
        .filter(|ev| ev.at < T0 + 300 * S)
        .collect();
    assert!(
        early.is_empty(),
        "evidence from the first incident: {early:#?}"
    );
    assert!(!second.evidence.is_empty());
}

/// The node for `id` in a why-tree, depth first.
fn find<'a>(n: &'a faultline_graph::WhyNode, id: &str) -> Option<&'a faultline_graph::WhyNode> {
    if n.id == id {
        return Some(n);
    }
    n.children.iter().find_map(|c| find(c, id))
}

#[test]
fn why_tree_separates_own_state_from_path_state() {
    let mut e = Engine::new(graph(), equal_holds());
    let mut lab = Lab::new();
    let mut out = Vec::new();
    run(&mut e, &lab, T0, T0 + 60 * S, &mut out);
    lab.down_ifs.insert("fw-a:out0");
    lab.roles.insert("fw-a", HaRole::Failed);
    lab.roles.insert("fw-b", HaRole::Active);
    lab.unsynced.insert("fw-b");
    lab.portal = 404;
    run(&mut e, &lab, T0 + 60 * S, T0 + 120 * S, &mut out);
    let tree = e.why("portal").expect("portal");
    let text = tree.to_text();
    let sw_out = find(&tree, "sw-out").expect(&text);
    // The switch is up; the path to it from fw-a (its link) is down.
    assert_eq!(sw_out.state, faultline_graph::State::Up, "{text}");
    assert_eq!(sw_out.path, Some(faultline_graph::State::Down), "{text}");
    assert!(text.contains("sw-out [device] UP"), "{text}");
    // The member that took over is shown under its group, with its evidence.
    let pair = find(&tree, "fw-pair").expect(&text);
    let fw_b = pair.children.iter().find(|c| c.id == "fw-b").expect(&text);
    assert!(fw_b.detail.contains("took over"), "{text}");
    assert!(fw_b.detail.contains("not in sync"), "{text}");
}

#[test]
fn a_journaled_clock_advance_replays_to_the_same_incident_ids() {
    let cfg = EngineConfig {
        settle_ms: 0,
        ..equal_holds()
    };
    let mut lab = Lab::new();
    let mut journal: Vec<Observation> = Vec::new();
    let mut live = Engine::new(graph(), cfg.clone());
    let mut live_out = Vec::new();
    // Polls in bursts: fw-b dies at 60 s, then nothing arrives until after its hold-down.
    for (at, dead) in [(T0, false), (T0 + 30 * S, false), (T0 + 60 * S, true)] {
        if dead {
            lab.dead.insert("fw-b");
        }
        for batch in lab.poll(at) {
            live_out.extend(live.ingest(&batch));
            journal.extend(batch);
        }
    }
    // The engine's clock tick fires fw-b's hold-down: the collector journals the tick.
    let tick = T0 + 80 * S;
    let fired = transitions(&live.advance(tick));
    assert_eq!(triggers(&fired).len(), 1, "{fired:#?}");
    journal.push(Observation::new(
        tick,
        Subject::device(""),
        Signal::ClockAdvance,
    ));
    // kill -9; the restart replays the journal, then marks the gap and carries on.
    let restart = T0 + 95 * S;
    let mut replayed = Engine::new(graph(), cfg);
    // As the collector's restore does: ingest, then advance to the last journaled instant.
    let mut out = replayed.ingest(&journal);
    let last = journal.last().map_or(T0, |o| o.at);
    out.extend(replayed.advance(last));
    out.extend(replayed.ingest(&[Observation::new(
        restart,
        Subject::device(""),
        Signal::CollectorStarted,
    )]));
    out.extend(replayed.advance(restart));
    let ids =
        |e: &Engine| -> Vec<String> { e.open_incidents().iter().map(|i| i.id.clone()).collect() };
    assert_eq!(ids(&replayed), ids(&live));
    assert_eq!(replayed.seq(), live.seq());
    let again = transitions(&out);
    assert_eq!(triggers(&again).len(), 1, "{again:#?}");
    assert_eq!(again[0], fired[0]);
}

/// The probe sees the outage before the poll sees the spare take over (fw-b still reports
/// standby for a minute): the incident opens as a service down and becomes "failover
/// ineffective" under the same id when the takeover is seen, naming fw-b first. This is not a
/// recovery relabelling it: fw-a's failure is still there.
#[test]
fn a_takeover_seen_after_the_outage_makes_it_failover_ineffective() {
    let mut e = Engine::new(graph(), equal_holds());
    let mut lab = Lab::new();
    let mut out = Vec::new();
    run(&mut e, &lab, T0, T0 + 60 * S, &mut out);
    lab.down_ifs.insert("fw-a:out0");
    lab.roles.insert("fw-a", HaRole::Failed);
    lab.portal = 404;
    run(&mut e, &lab, T0 + 60 * S, T0 + 120 * S, &mut out);
    lab.roles.insert("fw-b", HaRole::Active);
    run(&mut e, &lab, T0 + 120 * S, T0 + 180 * S, &mut out);
    let ts = transitions(&out);
    // (fw-pair with no active member is an incident of its own until fw-b reports active.)
    let link: Vec<&IncidentTransition> = ts
        .iter()
        .filter(|t| t.incident.id.starts_with("fw-a:out0--sw-out"))
        .collect();
    let first = link.first().expect("the link's incident");
    assert_eq!(first.action, TransitionAction::Trigger);
    assert_eq!(first.incident.kind, IncidentKind::ServiceDown, "{ts:#?}");
    let last = link.last().expect("transitions");
    assert_eq!(last.incident.id, first.incident.id);
    assert_eq!(last.incident.kind, IncidentKind::FailoverIneffective);
    assert!(
        last.incident.title.contains("fw-b took over"),
        "{}",
        last.incident.title
    );
    let suspect = last.incident.suspects.first().map(|s| s.component.as_str());
    assert_eq!(suspect, Some("fw-b"), "{:#?}", last.incident.suspects);
}

/// A firewall whose HA profile cannot be read (its HA objects are not answered: the poller
/// reports the role `unknown`) makes its pair `unknown`, never silently up; a readable role
/// again makes it up. No incident pages for it: unknown is not down.
#[test]
fn an_unreadable_ha_role_makes_the_group_unknown() {
    let own = |e: &Engine| {
        e.components()
            .into_iter()
            .find(|c| c.id == "fw-pair")
            .map(|c| c.own)
    };
    let mut e = Engine::new(graph(), equal_holds());
    let mut lab = Lab::new();
    let mut out = Vec::new();
    run(&mut e, &lab, T0, T0 + 60 * S, &mut out);
    assert_eq!(own(&e), Some(faultline_graph::State::Up));
    lab.roles.insert("fw-b", HaRole::Unknown);
    run(&mut e, &lab, T0 + 60 * S, T0 + 90 * S, &mut out);
    assert_eq!(own(&e), Some(faultline_graph::State::Unknown));
    lab.roles.insert("fw-b", HaRole::Standby);
    run(&mut e, &lab, T0 + 90 * S, T0 + 120 * S, &mut out);
    assert_eq!(own(&e), Some(faultline_graph::State::Up));
    assert!(triggers(&transitions(&out)).is_empty(), "{out:#?}");
}
