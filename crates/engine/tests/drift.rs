//! Cabling drift (issue #12): the collector's LLDP/CDP watch reports what differs from the
//! declared links; the engine keeps since when, opens one `topology_drift` incident per
//! difference, puts the line on the link's other incidents and on its node in `why`, and
//! resolves when the cabling is as declared again. Replaying the same stream gives the same.

use std::sync::Arc;

mod common;
use common::transitions;

use faultline_engine::{Engine, EngineConfig, Hold};
use faultline_graph::DependencyGraph;
use faultline_incident::{IncidentKind, Severity, TransitionAction};
use faultline_model::Topology;
use faultline_observe::{CableDrift, CableFinding, IfStatus, Observation, Signal, Subject};

const S: u64 = 1_000;
/// 2026-11-30 23:12:00 UTC.
const T0: u64 = 1_796_080_320_000;
/// fw-b's cable to the first core switch, as declared.
const DECLARED: &str = "fw-b:port2--sw-core-1:gi1/0/2";

fn graph() -> Arc<DependencyGraph> {
    let topo = Topology::from_yaml_str(
        r#"
name: drift
devices:
  - {id: fw-b, kind: firewall}
  - {id: sw-core-1, kind: switch}
  - {id: sw-core-2, kind: switch}
  - {id: web-1, kind: server, requires: [sw-core-1]}
links:
  - [fw-b:port2, sw-core-1:gi1/0/2]
  - [web-1:eth0, sw-core-1:gi1/0/21]
services:
  - {id: portal, name: Contractor portal, tier: critical, requires: [web-1]}
"#,
        "drift.yaml",
    )
    .expect("valid topology");
    Arc::new(DependencyGraph::new(topo))
}

fn config() -> EngineConfig {
    let hold = Hold {
        down_ms: 5 * S,
        up_ms: 5 * S,
    };
    EngineConfig {
        device: hold,
        link: hold,
        stale_after_ms: 600 * S,
        settle_ms: 0,
        ..EngineConfig::default()
    }
}

/// fw-b:port2 re-plugged into the second core switch.
fn moved() -> CableFinding {
    CableFinding {
        drift: CableDrift::Moved,
        link: DECLARED.into(),
        end: Some("fw-b:port2".into()),
        declared: Some("sw-core-1:gi1/0/2".into()),
        seen: Some("sw-core-2:gi1/0/5".into()),
    }
}

fn cabling(at: u64, findings: Vec<CableFinding>) -> Observation {
    Observation::new(at, Subject::device(""), Signal::Cabling { findings })
}

fn port2(at: u64, oper: IfStatus) -> Observation {
    Observation::new(
        at,
        Subject::interface("fw-b", "port2"),
        Signal::Interface {
            oper,
            admin: IfStatus::Up,
            last_change_cs: None,
        },
    )
}

/// The stream of the story: the cable moves at T0+10 s, port2's link goes down at T0+20 s,
/// the cable is back at T0+60 s.
fn stream() -> Vec<Vec<Observation>> {
    vec![
        vec![cabling(T0, vec![]), port2(T0, IfStatus::Up)],
        vec![cabling(T0 + 10 * S, vec![moved()])],
        vec![port2(T0 + 20 * S, IfStatus::Down)],
        vec![cabling(T0 + 40 * S, vec![moved()])],
        vec![
            port2(T0 + 60 * S, IfStatus::Up),
            cabling(T0 + 60 * S, vec![]),
        ],
    ]
}

fn run(until: u64) -> (Engine, Vec<faultline_engine::Output>) {
    let mut e = Engine::new(graph(), config());
    let mut out = Vec::new();
    for batch in stream() {
        if batch[0].at > until {
            break;
        }
        let at = batch[0].at;
        out.extend(e.ingest(&batch));
        out.extend(e.advance(at));
    }
    out.extend(e.advance(until));
    (e, out)
}

#[test]
fn a_moved_cable_opens_one_drift_incident_with_since_and_resolves_when_back() {
    let (_, out) = run(T0 + 120 * S);
    let drift: Vec<_> = transitions(&out)
        .into_iter()
        .filter(|t| t.incident.kind == IncidentKind::TopologyDrift)
        .collect();
    let actions: Vec<_> = drift.iter().map(|t| t.action).collect();
    assert_eq!(
        actions,
        [TransitionAction::Trigger, TransitionAction::Resolve],
        "{drift:#?}"
    );
    let trigger = &drift[0].incident;
    assert_eq!(trigger.severity, Severity::Info);
    assert_eq!(trigger.opened_at, T0 + 10 * S);
    assert_eq!(
        trigger.title,
        "cabling drift: fw-b:port2 is now cabled to sw-core-2:gi1/0/5, declared sw-core-1:gi1/0/2"
    );
    assert_eq!(trigger.root_causes, [DECLARED]);
    assert!(
        trigger.evidence[0]
            .text
            .ends_with("(since 2026-11-30 23:12:10 UTC)"),
        "{:?}",
        trigger.evidence
    );
    assert_eq!(drift[1].at, T0 + 60 * S);
}

#[test]
fn the_links_own_incident_carries_the_drift_line() {
    let (e, _) = run(T0 + 30 * S);
    let link_down = e
        .open_incidents()
        .into_iter()
        .find(|i| i.root_causes == [DECLARED] && i.kind != IncidentKind::TopologyDrift)
        .expect("the link's own incident is open");
    assert!(
        link_down.evidence.iter().any(|ev| ev
            .text
            .starts_with("cabling drift: fw-b:port2 is now cabled to")),
        "{:#?}",
        link_down.evidence
    );
}

#[test]
fn why_notes_the_drift_on_the_link_and_replay_gives_the_same() {
    let (e, out) = run(T0 + 30 * S);
    let tree = serde_json::to_string(&e.why(DECLARED).expect("link is known")).unwrap();
    assert!(
        tree.contains("cabling drift: fw-b:port2 is now cabled to sw-core-2:gi1/0/5"),
        "{tree}"
    );
    // A snapshot taken with the drift open keeps its `since`: restored and fed the rest of the
    // stream, the engine resolves the same incident at the same instant as one that never
    // stopped.
    let restored = Engine::restore(graph(), config(), &e.snapshot()).expect("snapshot restores");
    assert_eq!(
        serde_json::to_string(&restored.why(DECLARED).unwrap()).unwrap(),
        tree
    );
    let finish = |mut e: Engine| {
        let mut out = Vec::new();
        for batch in stream().into_iter().filter(|b| b[0].at > T0 + 30 * S) {
            let at = batch[0].at;
            out.extend(e.ingest(&batch));
            out.extend(e.advance(at));
        }
        out.extend(e.advance(T0 + 120 * S));
        transitions(&out)
    };
    let (full, _) = run(T0 + 30 * S);
    assert_eq!(finish(restored), finish(full));
    assert!(
        transitions(&out)
            .iter()
            .any(|t| t.incident.kind == IncidentKind::TopologyDrift)
    );
}

#[test]
fn a_move_that_moves_again_updates_the_open_incident_and_keeps_since() {
    let mut e = Engine::new(graph(), config());
    let mut out = Vec::new();
    let mut elsewhere = moved();
    elsewhere.seen = Some("sw-core-2:gi1/0/9".into());
    for (at, findings) in [
        (T0, vec![]),
        (T0 + 10 * S, vec![moved()]),
        (T0 + 40 * S, vec![elsewhere]),
    ] {
        out.extend(e.ingest(&[cabling(at, findings)]));
        out.extend(e.advance(at));
    }
    let drift: Vec<_> = transitions(&out)
        .into_iter()
        .filter(|t| t.incident.kind == IncidentKind::TopologyDrift)
        .collect();
    // Where the cable went is evidence, not a new verdict: no second page (kind, severity and
    // suspects are what re-page).
    let actions: Vec<_> = drift.iter().map(|t| t.action).collect();
    assert_eq!(actions, [TransitionAction::Trigger], "{drift:#?}");
    let open = e.open_incidents();
    let now = open
        .iter()
        .find(|i| i.kind == IncidentKind::TopologyDrift)
        .expect("still open");
    // The title keeps the story as first told (the engine's rule for every incident); the
    // evidence says where the cable is now, since the first sighting.
    assert_eq!(now.title, drift[0].incident.title);
    assert_eq!(now.id, drift[0].incident.id, "same incident");
    assert!(
        now.evidence[0]
            .text
            .contains("now cabled to sw-core-2:gi1/0/9, declared sw-core-1:gi1/0/2 (since 2026-11-30 23:12:10 UTC)"),
        "{:?}",
        now.evidence
    );
}
