//! Vantage points (issue #13): the seed's portal probed from two zones, `inside` and
//! `outside`. Failing from one zone while working from the other is a `partial_outage` naming
//! both; failing from both escalates it to the full outage; working from both again resolves
//! it. With a firewall down at the same time, the firewall is the incident's root.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod common;
use common::{run_polls, transitions};

use faultline_engine::{Engine, EngineConfig, Hold, Output};
use faultline_graph::{DependencyGraph, State};
use faultline_incident::{IncidentKind, ServiceState, Severity, TransitionAction};
use faultline_model::Topology;
use faultline_observe::{HaRole, Observation, Signal, Subject, UnixMillis};

const S: u64 = 1_000;
const T0: u64 = 1_700_000_000_000;
const TITLE: &str = "Contractor portal is unreachable from zone outside, reachable from inside";

/// The seed topology with the portal probed from the `inside` and `outside` zones.
fn zoned_seed() -> Arc<DependencyGraph> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    let text = std::fs::read_to_string(path).expect("seed topology");
    let probe = "    probe: {url: \"https://portal.example.com/login\", expect_status: [200]}\n";
    assert!(text.contains(probe), "the seed's portal probe line moved");
    let text = text.replace(probe, &format!("{probe}    zones: [inside, outside]\n"));
    let t = Topology::from_yaml_str(&text, "contractor-portal.yaml").expect("valid");
    assert_eq!(t.services[0].zones, ["inside", "outside"]);
    Arc::new(DependencyGraph::new(t))
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
        ..EngineConfig::default()
    }
}

fn probe(at: UnixMillis, svc: &str, status: u16, zone: Option<&str>) -> Observation {
    Observation::new(
        at,
        Subject::service(svc),
        Signal::Probe {
            ok: status == 200,
            status: Some(status),
            latency_ms: 12.0,
            detail: None,
            zone: zone.map(str::to_string),
        },
    )
}

/// The world as the two zones' pollers see it every 10 s.
struct World {
    devices: Vec<String>,
    dead: BTreeSet<String>,
    roles: BTreeMap<String, HaRole>,
    /// The portal's HTTP status from each zone.
    portal: BTreeMap<&'static str, u16>,
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
            portal: BTreeMap::from([("inside", 200), ("outside", 200)]),
        }
    }

    fn poll(&self, at: UnixMillis) -> Vec<Observation> {
        let mut v: Vec<Observation> = self
            .devices
            .iter()
            .map(|d| {
                let ok = !self.dead.contains(d);
                let loss = if ok { 0.0 } else { 1.0 };
                let signal = Signal::Reachability {
                    ok,
                    rtt_ms: None,
                    loss,
                };
                Observation::new(at, Subject::device(d.as_str()), signal)
            })
            .collect();
        for (d, role) in self.roles.iter().filter(|(d, _)| !self.dead.contains(*d)) {
            let signal = Signal::HaRole {
                role: *role,
                peer: None,
                in_sync: Some(true),
            };
            v.push(Observation::new(at, Subject::device(d.as_str()), signal));
        }
        for (zone, status) in &self.portal {
            v.push(probe(at, "portal", *status, Some(zone)));
        }
        v.push(probe(at, "accounts", 200, None));
        v
    }
}

/// One poll batch fed as the collector does: ingest, then advance to its instant.
fn step(e: &mut Engine, batch: &[Observation]) -> Vec<Output> {
    let mut out = e.ingest(batch);
    out.extend(e.advance(batch[0].at));
    out
}

/// The partial outage story, one batch per poll: fine for 2 min; the outside probe fails for
/// 3 min; then both fail for 2 min; then both work for 3 min. With `fw_down`, fw-a fails
/// (fw-b takes over) when the outside probe starts failing.
fn journal(g: &DependencyGraph, fw_down: bool) -> Vec<Vec<Observation>> {
    let mut w = World::new(g);
    (0..60u64)
        .map(|k| {
            match k {
                12 => {
                    w.portal.insert("outside", 503);
                    if fw_down {
                        w.dead.insert("fw-a".into());
                        w.roles.insert("fw-b".into(), HaRole::Active);
                    }
                }
                30 => {
                    w.portal.insert("inside", 503);
                }
                42 => {
                    w.portal = BTreeMap::from([("inside", 200), ("outside", 200)]);
                }
                _ => {}
            }
            w.poll(T0 + k * 10 * S)
        })
        .collect()
}

fn portal_state(e: &Engine) -> (State, State) {
    let p = e.services().into_iter().find(|s| s.id == "portal").unwrap();
    (p.state, p.observed)
}

#[test]
fn one_zone_failing_is_a_partial_outage_that_escalates_then_resolves() {
    let g = zoned_seed();
    let mut e = Engine::new(g.clone(), config());
    let journal = journal(&g, false);
    let mut all = Vec::new();
    for b in &journal[..30] {
        all.extend(step(&mut e, b));
    }
    // Outside failing, inside working: a partial outage, not "service down".
    let open = e.open_incidents();
    assert_eq!(open.len(), 1, "{open:#?}");
    let inc = open[0];
    assert_eq!(inc.kind, IncidentKind::PartialOutage);
    assert_eq!(inc.title, TITLE);
    assert_eq!(
        inc.severity,
        Severity::Error,
        "below the critical full outage"
    );
    assert!(
        inc.root_causes.is_empty(),
        "nothing below the portal failed"
    );
    assert_eq!(inc.affected_services.len(), 1);
    assert_eq!(inc.affected_services[0].id, "portal");
    assert_eq!(inc.affected_services[0].state, ServiceState::Degraded);
    assert_eq!(portal_state(&e), (State::Degraded, State::Degraded));
    let why = serde_json::to_string(&e.why("portal").unwrap()).unwrap();
    assert!(why.contains("from zone inside: ok HTTP 200"), "{why}");
    assert!(why.contains("from zone outside: FAILED HTTP 503"), "{why}");
    assert!(
        inc.evidence
            .iter()
            .any(|ev| ev.text == "probe FAILED HTTP 503 from zone outside"),
        "{:#?}",
        inc.evidence
    );
    let id = inc.id.clone();

    // Both zones fail: the same incident escalates to the full outage.
    for b in &journal[30..42] {
        all.extend(step(&mut e, b));
    }
    let inc = e.open_incidents()[0].clone();
    assert_eq!(inc.id, id);
    assert_eq!(inc.kind, IncidentKind::UnexplainedServiceFailure);
    assert_eq!(inc.severity, Severity::Critical);
    assert_eq!(portal_state(&e).0, State::Down);

    // Both work again: resolved, once.
    for b in &journal[42..] {
        all.extend(step(&mut e, b));
    }
    assert!(e.open_incidents().is_empty());
    let ts = transitions(&all);
    let actions: Vec<(TransitionAction, IncidentKind)> =
        ts.iter().map(|t| (t.action, t.incident.kind)).collect();
    assert_eq!(
        actions,
        [
            (TransitionAction::Trigger, IncidentKind::PartialOutage),
            (
                TransitionAction::Update,
                IncidentKind::UnexplainedServiceFailure
            ),
            (
                TransitionAction::Resolve,
                IncidentKind::UnexplainedServiceFailure
            ),
        ],
        "{ts:#?}"
    );
    assert!(ts.iter().all(|t| t.incident.id == id));
    assert_eq!(ts[0].incident.title, TITLE);
}

#[test]
fn a_failed_firewall_is_the_root_of_the_partial_outage() {
    let g = zoned_seed();
    let mut e = Engine::new(g.clone(), config());
    let journal = journal(&g, true);
    let mut all = Vec::new();
    for b in &journal[..30] {
        all.extend(step(&mut e, b));
    }
    let open = e.open_incidents();
    assert_eq!(
        open.len(),
        1,
        "one incident, not one per symptom: {open:#?}"
    );
    let inc = open[0];
    assert_eq!(inc.kind, IncidentKind::PartialOutage);
    assert_eq!(inc.root_causes, ["fw-a"]);
    assert!(inc.id.starts_with("fw-a@"), "{}", inc.id);
    assert_eq!(inc.title, TITLE);
    assert_eq!(inc.severity, Severity::Error);
    // The whole outage then: the failover did not carry the portal.
    for b in &journal[30..42] {
        all.extend(step(&mut e, b));
    }
    let inc = e.open_incidents()[0].clone();
    assert_eq!(inc.kind, IncidentKind::FailoverIneffective);
    assert_eq!(inc.root_causes, ["fw-a"]);
    // The portal works again while fw-a stays down: the incident stays open (fw-a is still
    // failed) and keeps its worst verdict.
    for b in &journal[42..] {
        all.extend(step(&mut e, b));
    }
    let open = e.open_incidents();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, IncidentKind::FailoverIneffective);
    let ts = transitions(&all);
    assert!(
        ts.iter().all(|t| t.incident.root_causes == ["fw-a"]),
        "{ts:#?}"
    );
    assert!(
        ts.iter()
            .any(|t| t.incident.kind == IncidentKind::PartialOutage && t.incident.title == TITLE),
        "{ts:#?}"
    );
}

/// A snapshot taken anywhere in the zoned stream, restored and fed the rest, gives exactly what
/// the uninterrupted engine gave (the per-zone results are in the snapshot).
#[test]
fn snapshot_mid_partial_outage_replays_identically() {
    let g = zoned_seed();
    for fw_down in [false, true] {
        let journal = journal(&g, fw_down);
        let mut a = Engine::new(g.clone(), config());
        let full: Vec<Vec<Output>> = journal.iter().map(|b| step(&mut a, b)).collect();
        for cut in [13, 15, 20, 31, 35, 44, 50] {
            let mut b = Engine::new(g.clone(), config());
            for x in &journal[..cut] {
                step(&mut b, x);
            }
            let mut c = Engine::restore(g.clone(), config(), &b.snapshot()).expect("restores");
            let rest: Vec<Vec<Output>> = journal[cut..].iter().map(|x| step(&mut c, x)).collect();
            assert_eq!(
                rest,
                full[cut..].to_vec(),
                "fw_down {fw_down}, cut at {cut}"
            );
            assert_eq!(
                c.snapshot(),
                a.snapshot(),
                "fw_down {fw_down}, cut at {cut}"
            );
        }
    }
}

/// Probes without a zone (the single-process collector) keep today's meaning: a failure is the
/// service down, never a partial outage, even on a service that lists zones.
#[test]
fn a_single_vantage_never_makes_a_partial_outage() {
    let g = zoned_seed();
    let mut e = Engine::new(g.clone(), EngineConfig::immediate());
    let mut all = Vec::new();
    let poll = |at: UnixMillis| {
        let status = if at >= T0 + 60 * S { 503 } else { 200 };
        vec![
            probe(at, "portal", status, None),
            probe(at, "accounts", 200, None),
        ]
    };
    run_polls(&mut e, poll, (T0, T0 + 120 * S, 10 * S), &mut all);
    let open = e.open_incidents();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, IncidentKind::UnexplainedServiceFailure);
    assert!(
        transitions(&all)
            .iter()
            .all(|t| t.incident.kind != IncidentKind::PartialOutage)
    );
}
