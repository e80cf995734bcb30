//! Scenario tests: recorded observation streams replayed through the engine.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod common;
use common::transitions;

use faultline_engine::{Engine, EngineConfig, Hold, Maintenance, Output};
use faultline_graph::{DependencyGraph, State};
use faultline_incident::{IncidentKind, ServiceState, Severity, TransitionAction};
use faultline_model::Topology;
use faultline_observe::{HaRole, IfStatus, Observation, PollFailure, Signal, Subject};

const S: u64 = 1_000;
const T0: u64 = 1_700_000_000_000;

fn portal_topology() -> Arc<DependencyGraph> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    Arc::new(DependencyGraph::new(
        Topology::load(std::path::Path::new(path)).expect("valid"),
    ))
}

fn config() -> EngineConfig {
    EngineConfig {
        device: Hold {
            down_ms: 15 * S,
            up_ms: 60 * S,
        },
        link: Hold {
            down_ms: 10 * S,
            up_ms: 60 * S,
        },
        probe: Hold {
            down_ms: 20 * S,
            up_ms: 60 * S,
        },
        stale_after_ms: 90 * S,
        ..EngineConfig::default()
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

fn role(at: u64, dev: &str, role: HaRole, in_sync: bool) -> Observation {
    Observation::new(
        at,
        Subject::device(dev),
        Signal::HaRole {
            role,
            peer: None,
            in_sync: Some(in_sync),
        },
    )
}

fn probe(at: u64, svc: &str, status: u16) -> Observation {
    Observation::new(
        at,
        Subject::service(svc),
        Signal::Probe {
            ok: status == 200,
            status: Some(status),
            latency_ms: 12.0,
            detail: None,
            zone: None,
        },
    )
}

/// The world as a poller sees it every 10 s: all devices answer except `dead`; roles as given.
struct World {
    devices: Vec<String>,
    dead: BTreeSet<String>,
    roles: BTreeMap<String, HaRole>,
    /// Members whose HA configuration is out of sync with their peer.
    unsynced: BTreeSet<String>,
    portal: u16,
}

impl World {
    fn new(g: &DependencyGraph) -> World {
        World {
            devices: g.topology().devices.iter().map(|d| d.id.clone()).collect(),
            dead: BTreeSet::new(),
            roles: BTreeMap::from([
                ("fw-a".into(), HaRole::Active),
                ("fw-b".into(), HaRole::Standby),
            ]),
            unsynced: BTreeSet::new(),
            portal: 200,
        }
    }
    fn poll(&self, at: u64) -> Vec<Observation> {
        let mut v: Vec<Observation> = self
            .devices
            .iter()
            .map(|d| reach(at, d, !self.dead.contains(d)))
            .collect();
        for (d, r) in &self.roles {
            if !self.dead.contains(d) {
                v.push(role(at, d, *r, !self.unsynced.contains(d)));
            }
        }
        v.push(probe(at, "portal", self.portal));
        v.push(probe(at, "accounts", 200));
        v
    }
}

fn run(engine: &mut Engine, world: &World, from: u64, to: u64, all: &mut Vec<Output>) {
    let mut t = from;
    while t < to {
        all.extend(engine.observe_batch(&world.poll(t)));
        t += 10 * S;
    }
}

/// The seed incident: fw-a fails, fw-b becomes active, the portal answers 404.
fn seed_run() -> (Engine, Vec<Output>) {
    let g = portal_topology();
    let mut e = Engine::new(g.clone(), config());
    let mut w = World::new(&g);
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 120 * S, &mut all);
    w.dead.insert("fw-a".into());
    w.roles.insert("fw-b".into(), HaRole::Active);
    // The NAT rule never made it to the spare: its configuration checksum differs.
    w.unsynced.insert("fw-b".into());
    w.portal = 404;
    run(&mut e, &w, T0 + 120 * S, T0 + 300 * S, &mut all);
    (e, all)
}

#[test]
fn seed_incident_is_one_critical_failover_ineffective_page() {
    let (e, all) = seed_run();
    let ts = transitions(&all);
    let triggers: Vec<_> = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Trigger)
        .collect();
    assert_eq!(triggers.len(), 1, "one page, not one per symptom: {ts:#?}");
    let ids: BTreeSet<_> = ts.iter().map(|t| t.incident.id.clone()).collect();
    assert_eq!(ids.len(), 1, "every transition is about the same incident");
    let open = e.open_incidents();
    assert_eq!(open.len(), 1);
    let inc = open[0];
    assert_eq!(inc.kind, IncidentKind::FailoverIneffective);
    assert_eq!(inc.severity, Severity::Critical);
    assert_eq!(inc.root_causes, vec!["fw-a".to_string()]);
    assert_eq!(
        inc.suspects.first().map(|s| s.component.as_str()),
        Some("fw-b"),
        "{:#?}",
        inc.suspects
    );
    // Every piece of evidence against fw-b is in its one entry.
    let why_b = &inc.suspects[0].reason;
    assert!(
        why_b.contains("became active") && why_b.contains("not in sync"),
        "{why_b}"
    );
    // Times for people carry their zone; spans read naturally (T0 + 120 s, 20 s probe hold).
    assert!(
        why_b.contains("became active at 2023-11-14 22:15:20 UTC (20s before the service failed)"),
        "{why_b}"
    );
    assert!(
        inc.affected_services
            .iter()
            .any(|a| a.id == "portal" && a.state == ServiceState::Down)
    );
    assert!(inc.title.contains("fw-b took over"), "{}", inc.title);
    // The evidence timeline tells the story in order.
    let texts: Vec<String> = inc
        .evidence
        .iter()
        .map(|e| format!("{} {}", e.subject, e.text))
        .collect();
    let pos = |needle: &str| {
        texts
            .iter()
            .position(|t| t.contains(needle))
            .unwrap_or_else(|| panic!("{needle} missing from {texts:#?}"))
    };
    assert!(pos("fw-a ICMP") < pos("fw-b ha role standby -> active"));
    assert!(pos("fw-b ha role standby -> active") <= pos("portal probe FAILED HTTP 404"));
    // The graph still says the portal should work: expected degraded, observed down.
    let portal = e.services().into_iter().find(|s| s.id == "portal").unwrap();
    assert_eq!(
        (portal.expected, portal.observed, portal.state),
        (State::Degraded, State::Down, State::Down)
    );
}

#[test]
fn seed_incident_resolves_once_when_the_portal_recovers() {
    let g = portal_topology();
    let mut e = Engine::new(g.clone(), config());
    let mut w = World::new(&g);
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 60 * S, &mut all);
    w.dead.insert("fw-a".into());
    w.roles.insert("fw-b".into(), HaRole::Active);
    w.portal = 404;
    run(&mut e, &w, T0 + 60 * S, T0 + 200 * S, &mut all);
    // Someone fixes NAT on fw-b and powers fw-a back as standby.
    w.portal = 200;
    w.dead.clear();
    w.roles.insert("fw-a".into(), HaRole::Standby);
    run(&mut e, &w, T0 + 200 * S, T0 + 400 * S, &mut all);
    let ts = transitions(&all);
    let resolves: Vec<_> = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Resolve)
        .collect();
    assert_eq!(resolves.len(), 1, "{ts:#?}");
    assert_eq!(
        ts.first().map(|t| t.action),
        Some(TransitionAction::Trigger)
    );
    assert_eq!(ts.last().map(|t| t.action), Some(TransitionAction::Resolve));
    assert!(e.open_incidents().is_empty());
    // Seq numbers strictly increase.
    assert!(ts.windows(2).all(|w| w[0].seq < w[1].seq));
}

fn chain_topology(servers: usize) -> Arc<DependencyGraph> {
    let mut y = String::from(
        "name: chain\ncollector: mon\ndevices:\n  - {id: mon, kind: host}\n  - {id: core, kind: switch}\n  - {id: acc-1, kind: switch, requires: [core]}\n  - {id: acc-2, kind: switch, requires: [core]}\n",
    );
    let mut links = String::from(
        "links:\n  - [mon:eth0, core:1]\n  - [acc-1:up, core:2]\n  - [acc-2:up, core:3]\n",
    );
    for i in 0..servers {
        y.push_str(&format!(
            "  - {{id: srv-{i}, kind: server, requires: [access]}}\n"
        ));
        links.push_str(&format!(
            "  - [srv-{i}:eth0, acc-1:p{i}]\n  - [srv-{i}:eth1, acc-2:p{i}]\n"
        ));
    }
    y.push_str(&links);
    y.push_str("groups:\n  - {id: access, mode: any, members: [acc-1, acc-2]}\nservices:\n  - {id: app, tier: high, requires: [srv-0, srv-1]}\n");
    Arc::new(DependencyGraph::new(
        Topology::from_yaml_str(&y, "chain.yaml").expect("valid"),
    ))
}

#[test]
fn core_switch_failure_is_one_incident_and_the_rest_unreachable() {
    let g = chain_topology(28);
    let mut e = Engine::new(g.clone(), config());
    let devices: Vec<String> = g.topology().devices.iter().map(|d| d.id.clone()).collect();
    let mut all = Vec::new();
    for k in 0..6 {
        let batch: Vec<_> = devices
            .iter()
            .map(|d| reach(T0 + k * 10 * S, d, true))
            .collect();
        all.extend(e.observe_batch(&batch));
    }
    // The core dies. Children are polled *before* the parent in every cycle (the LibreNMS
    // #8353 ordering), and the parent's failure is only seen by its re-poll a second later.
    let mut repolls = Vec::new();
    for k in 6..20 {
        let at = T0 + k * 10 * S;
        let children: Vec<_> = devices
            .iter()
            .filter(|d| *d != "mon" && *d != "core")
            .map(|d| reach(at, d, false))
            .collect();
        let out = e.observe_batch(&children);
        repolls.extend(out.iter().filter_map(|o| {
            if let Output::Repoll(v) = o {
                Some(v.clone())
            } else {
                None
            }
        }));
        all.extend(out);
        all.extend(e.observe_batch(&[reach(at + S, "core", false), reach(at + S, "mon", true)]));
    }
    assert!(
        repolls.iter().any(|r| r.contains(&"core".to_string())),
        "a failing child asks for its parent: {repolls:?}"
    );
    let ts = transitions(&all);
    let triggered: Vec<_> = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Trigger)
        .map(|t| t.incident.root_causes.clone())
        .collect();
    assert_eq!(triggered, vec![vec!["core".to_string()]], "{ts:#?}");
    let comps = e.components();
    let unreachable = comps.iter().filter(|c| c.unreachable).count();
    assert_eq!(unreachable, 30, "2 access switches + 28 servers");
    let app = e.services().into_iter().find(|s| s.id == "app").unwrap();
    assert_eq!(app.state, State::Down, "core is a single point of failure");
}

#[test]
fn redundant_uplink_keeps_a_failed_server_reachable() {
    let g = chain_topology(4);
    let mut e = Engine::new(g.clone(), EngineConfig::immediate());
    let devices: Vec<String> = g.topology().devices.iter().map(|d| d.id.clone()).collect();
    let batch: Vec<_> = devices
        .iter()
        .map(|d| reach(T0, d, !(d == "acc-1" || d == "srv-2")))
        .collect();
    let out = e.observe_batch(&batch);
    let roots: BTreeSet<Vec<String>> = transitions(&out)
        .into_iter()
        .map(|t| t.incident.root_causes)
        .collect();
    // srv-2 is reachable through acc-2, so its failure is its own (Icinga #10014 avoided).
    assert!(roots.contains(&vec!["srv-2".to_string()]), "{roots:?}");
    assert!(roots.contains(&vec!["acc-1".to_string()]), "{roots:?}");
    assert!(!e.components().iter().any(|c| c.unreachable));
}

#[test]
fn flapping_link_pages_once() {
    let g = portal_topology();
    let mut e = Engine::new(g.clone(), config());
    let w = World::new(&g);
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 60 * S, &mut all);
    // web-1's uplink to sw-core-1 bounces every poll for ten minutes, then settles up.
    for k in 0..80u64 {
        let at = T0 + 60 * S + k * 10 * S;
        let oper = if k < 60 && k % 2 == 0 {
            IfStatus::Down
        } else {
            IfStatus::Up
        };
        let obs = Observation::new(
            at,
            Subject::interface("sw-core-1", "gi1/0/21"),
            Signal::Interface {
                oper,
                admin: IfStatus::Up,
                last_change_cs: None,
            },
        );
        let mut batch = w.poll(at);
        batch.push(obs);
        all.extend(e.observe_batch(&batch));
    }
    all.extend(e.advance(T0 + 1200 * S));
    let ts = transitions(&all);
    let triggers = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Trigger)
        .count();
    let resolves = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Resolve)
        .count();
    assert_eq!((triggers, resolves), (1, 1), "{ts:#?}");
    assert!(e.timeline().any(|t| t.text.contains("flapping")));
}

#[test]
fn stale_data_is_unknown_never_up() {
    let g = portal_topology();
    let mut e = Engine::new(g.clone(), config());
    let mut w = World::new(&g);
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 60 * S, &mut all);
    // db-1 stops answering anything at all: no data, not a failure.
    w.devices.retain(|d| d != "db-1");
    run(&mut e, &w, T0 + 60 * S, T0 + 300 * S, &mut all);
    let db = e.components().into_iter().find(|c| c.id == "db-1").unwrap();
    assert_eq!(db.own, State::Unknown);
    let accounts = e
        .services()
        .into_iter()
        .find(|s| s.id == "accounts")
        .unwrap();
    assert_eq!(
        accounts.expected,
        State::Unknown,
        "a service resting on stale data is not up"
    );
    assert!(
        transitions(&all).is_empty(),
        "staleness alone does not page"
    );
}

#[test]
fn maintenance_suppresses_the_member_but_not_an_outage_it_does_not_explain() {
    let g = portal_topology();
    let mut cfg = config();
    cfg.maintenance.push(Maintenance {
        components: vec!["fw-a".into()],
        from: T0 + 100 * S,
        to: T0 + 10_000 * S,
        reason: "firmware".into(),
    });
    let mut e = Engine::new(g.clone(), cfg);
    let mut w = World::new(&g);
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 120 * S, &mut all);
    w.dead.insert("fw-a".into());
    w.roles.insert("fw-b".into(), HaRole::Active);
    run(&mut e, &w, T0 + 120 * S, T0 + 200 * S, &mut all);
    let open = e.open_incidents();
    assert_eq!(open.len(), 1);
    assert!(
        open[0].suppressed,
        "fw-a in maintenance only degrades the portal: recorded, not paged"
    );
    assert_eq!(open[0].kind, IncidentKind::RedundancyLost);
    // Now the portal fails anyway: maintenance of a redundant member does not excuse that.
    w.portal = 404;
    run(&mut e, &w, T0 + 200 * S, T0 + 300 * S, &mut all);
    let open = e.open_incidents();
    assert_eq!(open[0].kind, IncidentKind::FailoverIneffective);
    assert!(!open[0].suppressed);
}

#[test]
fn split_brain_is_critical() {
    let g = portal_topology();
    let mut e = Engine::new(g.clone(), config());
    let mut w = World::new(&g);
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 60 * S, &mut all);
    w.roles.insert("fw-b".into(), HaRole::Active);
    run(&mut e, &w, T0 + 60 * S, T0 + 100 * S, &mut all);
    let open = e.open_incidents();
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0].kind, IncidentKind::SplitBrain);
    assert_eq!(open[0].severity, Severity::Critical);
}

#[test]
fn no_active_member_takes_the_pair_down() {
    let g = portal_topology();
    let mut e = Engine::new(g.clone(), EngineConfig::immediate());
    let mut w = World::new(&g);
    w.roles.insert("fw-a".into(), HaRole::Standby);
    let out = e.observe_batch(&w.poll(T0));
    let ts = transitions(&out);
    assert_eq!(ts.len(), 1);
    assert_eq!(ts[0].incident.root_causes, vec!["fw-pair".to_string()]);
    assert_eq!(ts[0].incident.kind, IncidentKind::ServiceDown);
}

#[test]
fn unexplained_service_failure() {
    let g = portal_topology();
    let mut e = Engine::new(g.clone(), config());
    let mut w = World::new(&g);
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 60 * S, &mut all);
    w.portal = 404;
    run(&mut e, &w, T0 + 60 * S, T0 + 150 * S, &mut all);
    let open = e.open_incidents();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, IncidentKind::UnexplainedServiceFailure);
    assert!(open[0].root_causes.is_empty());
    assert_eq!(open[0].severity, Severity::Critical);
}

#[test]
fn wrong_credentials_are_not_a_dead_device() {
    let g = portal_topology();
    let mut e = Engine::new(g.clone(), EngineConfig::immediate());
    let out = e.observe_batch(&[
        reach(T0, "fw-a", true),
        Observation::new(
            T0 + S,
            Subject::device("fw-a"),
            Signal::AgentDown {
                reason: PollFailure::AuthFailure,
            },
        ),
    ]);
    assert!(transitions(&out).is_empty());
    assert_eq!(
        e.components()
            .into_iter()
            .find(|c| c.id == "fw-a")
            .unwrap()
            .own,
        State::Up
    );
    assert!(e.timeline().any(|t| t.text.contains("authentication")));
}

/// Restart in the middle of an incident: a new engine fed the journal up to the crash point
/// reaches the same state, and from there produces exactly what the uninterrupted run did.
#[test]
fn restart_mid_incident_replays_exactly() {
    let g = portal_topology();
    let mut w = World::new(&g);
    let mut journal: Vec<Vec<Observation>> = Vec::new();
    for k in 0..30u64 {
        let at = T0 + k * 10 * S;
        if k == 12 {
            w.dead.insert("fw-a".into());
            w.roles.insert("fw-b".into(), HaRole::Active);
            w.portal = 404;
        }
        if k == 24 {
            w.portal = 200;
        }
        journal.push(w.poll(at));
    }
    let mut a = Engine::new(g.clone(), config());
    let full: Vec<Vec<Output>> = journal.iter().map(|b| a.observe_batch(b)).collect();
    let crash = 17;
    let mut b = Engine::new(g.clone(), config());
    let replayed: Vec<Vec<Output>> = journal[..crash]
        .iter()
        .map(|x| b.observe_batch(x))
        .collect();
    assert_eq!(
        replayed,
        full[..crash].to_vec(),
        "replay reproduces the same outputs"
    );
    assert_eq!(
        b.seq(),
        full[..crash]
            .iter()
            .flatten()
            .filter(|o| matches!(o, Output::Transition(_)))
            .count() as u64
    );
    let after: Vec<Vec<Output>> = journal[crash..]
        .iter()
        .map(|x| b.observe_batch(x))
        .collect();
    assert_eq!(after, full[crash..].to_vec());
    assert_eq!(a.open_incidents(), b.open_incidents());
}

/// The firewall comes back before the portal does (their recovery holds end at different
/// instants): the portal stays with the same incident instead of opening an "unexplained" one.
#[test]
fn staggered_recovery_does_not_page_twice() {
    let g = portal_topology();
    let mut e = Engine::new(g.clone(), config());
    let mut w = World::new(&g);
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 60 * S, &mut all);
    w.dead.insert("fw-a".into());
    w.roles.insert("fw-b".into(), HaRole::Active);
    w.portal = 404;
    run(&mut e, &w, T0 + 60 * S, T0 + 200 * S, &mut all);
    // fw-a is back as standby; the portal keeps failing for another two minutes.
    w.dead.clear();
    w.roles.insert("fw-a".into(), HaRole::Standby);
    run(&mut e, &w, T0 + 200 * S, T0 + 320 * S, &mut all);
    w.portal = 200;
    run(&mut e, &w, T0 + 320 * S, T0 + 500 * S, &mut all);
    let ts = transitions(&all);
    let triggers = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Trigger)
        .count();
    let resolves = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Resolve)
        .count();
    assert_eq!((triggers, resolves), (1, 1), "{ts:#?}");
    let resolved_at = ts.last().unwrap().at;
    assert!(
        resolved_at > T0 + 320 * S,
        "resolved only once the portal recovered"
    );
}

/// A snapshot taken mid-incident, restored, and fed the rest of the stream gives exactly what the
/// uninterrupted engine gave; a snapshot from another topology or configuration is refused.
#[test]
fn snapshot_restore_continues_exactly() {
    let g = portal_topology();
    let mut w = World::new(&g);
    let mut journal: Vec<Vec<Observation>> = Vec::new();
    for k in 0..40u64 {
        let at = T0 + k * 10 * S;
        if k == 10 {
            w.dead.insert("fw-a".into());
            w.roles.insert("fw-b".into(), HaRole::Active);
            w.portal = 404;
        }
        if k == 16 {
            // db-1 goes silent: staleness deadlines are pending at some of the cuts.
            w.devices.retain(|d| d != "db-1");
        }
        if k == 30 {
            w.portal = 200;
            w.dead.clear();
            w.roles.insert("fw-a".into(), HaRole::Standby);
        }
        journal.push(w.poll(at));
    }
    let step = |e: &mut Engine, b: &[Observation]| {
        let mut out = e.ingest(b);
        out.extend(e.advance(b[0].at));
        out
    };
    let mut a = Engine::new(g.clone(), config());
    let full: Vec<Vec<Output>> = journal.iter().map(|b| step(&mut a, b)).collect();
    for cut in [5, 12, 18, 25, 33] {
        let mut b = Engine::new(g.clone(), config());
        for x in &journal[..cut] {
            step(&mut b, x);
        }
        let bytes = b.snapshot();
        let mut c = Engine::restore(g.clone(), config(), &bytes).expect("restores");
        let rest: Vec<Vec<Output>> = journal[cut..].iter().map(|x| step(&mut c, x)).collect();
        assert_eq!(rest, full[cut..].to_vec(), "cut at batch {cut}");
        assert_eq!(c.open_incidents(), a.open_incidents());
    }
    let bytes = Engine::new(g.clone(), config()).snapshot();
    let other = chain_topology(3);
    assert!(
        Engine::restore(other, config(), &bytes).is_err(),
        "another topology"
    );
    assert!(
        Engine::restore(g.clone(), EngineConfig::immediate(), &bytes).is_err(),
        "another configuration"
    );
    assert!(Engine::restore(g, config(), b"garbage").is_err());
}

/// Every query of `e`, as text: what a restored engine must answer identically.
fn every_query(e: &Engine) -> Vec<String> {
    let mut q = vec![
        format!("now {} seq {}", e.now(), e.seq()),
        format!("keys {:?}", e.incident_keys()),
        serde_json::to_string(&e.open_incidents()).unwrap(),
        serde_json::to_string(&e.recent_resolved().collect::<Vec<_>>()).unwrap(),
        serde_json::to_string(&e.timeline().collect::<Vec<_>>()).unwrap(),
        format!("{:?}", e.state_counts()),
        serde_json::to_string(&e.components()).unwrap(),
        serde_json::to_string(&e.services()).unwrap(),
    ];
    for c in e.components() {
        q.push(serde_json::to_string(&e.why(&c.id).unwrap()).unwrap());
    }
    q
}

/// A busy engine (an open failover incident, a resolved one, a flapping link, a silent device,
/// pending hold-downs and staleness deadlines, an unsynced spare) survives snapshot → restore
/// whole: every query answers the same, a second snapshot is byte for byte the first, and both
/// engines go on to give the same outputs.
#[test]
fn snapshot_round_trips_a_busy_engine() {
    let g = portal_topology();
    let mut cfg = config();
    cfg.monitored = vec!["db-1".into(), "status-page".into()];
    cfg.maintenance.push(Maintenance {
        components: vec!["web-3".into()],
        from: T0,
        to: T0 + 10_000 * S,
        reason: "disk swap".into(),
    });
    let mut e = Engine::new(g.clone(), cfg.clone());
    let mut w = World::new(&g);
    let mut all = Vec::new();
    run(&mut e, &w, T0, T0 + 60 * S, &mut all);
    // isp-a fails for a minute and recovers: a resolved redundancy-lost incident.
    w.dead.insert("isp-a".into());
    run(&mut e, &w, T0 + 60 * S, T0 + 120 * S, &mut all);
    w.dead.clear();
    run(&mut e, &w, T0 + 120 * S, T0 + 250 * S, &mut all);
    // Then the seed incident, a flapping uplink, db-1 silent and web-3 down in maintenance.
    w.dead.insert("fw-a".into());
    w.dead.insert("web-3".into());
    w.roles.insert("fw-b".into(), HaRole::Active);
    w.unsynced.insert("fw-b".into());
    w.portal = 404;
    w.devices.retain(|d| d != "db-1");
    for k in 0..30u64 {
        let at = T0 + 250 * S + k * 10 * S;
        let oper = if k % 2 == 0 {
            IfStatus::Down
        } else {
            IfStatus::Up
        };
        let mut batch = w.poll(at);
        batch.push(Observation::new(
            at,
            Subject::interface("sw-core-2", "gi1/0/22"),
            Signal::Interface {
                oper,
                admin: IfStatus::Up,
                last_change_cs: None,
            },
        ));
        all.extend(e.observe_batch(&batch));
    }
    // Mid-hold: fw-b's port fails just now (a pending hold-down is in the snapshot).
    all.extend(e.ingest(&[Observation::new(
        T0 + 555 * S,
        Subject::interface("fw-b", "port2"),
        Signal::Interface {
            oper: IfStatus::Down,
            admin: IfStatus::Up,
            last_change_cs: None,
        },
    )]));
    let ts = transitions(&all);
    assert!(ts.iter().any(|t| t.action == TransitionAction::Resolve));
    assert!(!e.open_incidents().is_empty());
    assert!(e.components().iter().any(|c| c.flapping));

    let bytes = e.snapshot();
    let mut r = Engine::restore(g.clone(), cfg, &bytes).expect("restores");
    assert_eq!(every_query(&r), every_query(&e));
    assert_eq!(
        r.snapshot(),
        bytes,
        "nothing is lost or changed by a round trip"
    );
    w.dead.clear();
    w.portal = 200;
    for k in 0..40u64 {
        let batch = w.poll(T0 + 560 * S + k * 10 * S);
        assert_eq!(
            r.observe_batch(&batch),
            e.observe_batch(&batch),
            "batch {k}"
        );
    }
    assert_eq!(every_query(&r), every_query(&e));
}

/// A snapshot of another format version is refused as such (the collector then replays the
/// whole journal), and so is a damaged state behind a valid header.
#[test]
fn old_or_damaged_snapshots_are_refused() {
    let g = portal_topology();
    let e = Engine::new(g.clone(), config());
    let mut snap: serde_json::Value = serde_json::from_slice(&e.snapshot()).unwrap();
    let mut old = snap.clone();
    old["version"] = 1.into();
    let old = serde_json::to_vec(&old).unwrap();
    match Engine::restore(g.clone(), config(), &old) {
        Err(faultline_engine::SnapshotError::Version(1)) => {}
        other => panic!("expected a version error, got {:?}", other.err()),
    }
    snap["state"]["tracks"] = serde_json::json!([]);
    let damaged = serde_json::to_vec(&snap).unwrap();
    assert!(matches!(
        Engine::restore(g, config(), &damaged),
        Err(faultline_engine::SnapshotError::Mismatch)
    ));
}
