//! Poller health (issue #13): two zones, each with its poller sending heartbeats. The outside
//! poller falls silent right after it saw its firewall fail: once its last heartbeat is older
//! than the bound, `poller:outside` is stale (down), the firewall and the outside probe results
//! are unknown, never down, and no device incident opens; the portal is judged on the inside
//! zone's results alone. When the poller is back with the firewall still failing, the incident
//! opens. Staleness is judged in engine time: the same stream replays (and restores from a
//! snapshot mid-partition) to the same outputs.

use std::sync::Arc;

mod common;
use common::{run_polls, state_of, transitions};

use faultline_engine::{Engine, EngineConfig, Hold, Output};
use faultline_graph::{DependencyGraph, State};
use faultline_incident::TransitionAction;
use faultline_model::Topology;
use faultline_observe::{Observation, Signal, Subject, UnixMillis};

const S: u64 = 1_000;
const T0: u64 = 1_700_000_000_000;
/// Heartbeats and polls every this.
const STEP: u64 = 5 * S;
/// The outside poller's last heartbeat and firewall report.
const SILENT_AT: u64 = T0 + 60 * S;
/// The outside poller is heard from again.
const BACK_AT: u64 = T0 + 130 * S;
const BOUND: u64 = 15 * S;

fn graph() -> Arc<DependencyGraph> {
    let t = Topology::from_yaml_str(
        r#"
name: pollers
devices:
  - {id: fw, kind: firewall, zone: outside}
  - {id: web, kind: server, zone: inside}
  - {id: db, kind: server, zone: inside}
links:
  - [fw:p1, web:eth0]
  - [web:eth1, db:eth0]
services:
  - id: portal
    tier: critical
    requires: [web]
    zones: [inside, outside]
    probe: {url: "https://portal.example.com/", expect_status: [200]}
"#,
        "pollers.yaml",
    )
    .expect("valid topology");
    Arc::new(DependencyGraph::new(t))
}

fn config() -> EngineConfig {
    EngineConfig {
        device: Hold {
            down_ms: 20 * S,
            up_ms: 60 * S,
        },
        probe: Hold {
            down_ms: 20 * S,
            up_ms: 60 * S,
        },
        settle_ms: 0,
        poller_stale_after_ms: BOUND,
        ..EngineConfig::default()
    }
}

fn heartbeat(at: UnixMillis, zone: &str) -> Observation {
    Observation::new(
        at,
        Subject::device(""),
        Signal::PollerHeartbeat {
            zone: zone.into(),
            poller: format!("{zone}-1"),
        },
    )
}

fn reach(at: UnixMillis, dev: &str, ok: bool) -> Observation {
    Observation::new(
        at,
        Subject::device(dev),
        Signal::Reachability {
            ok,
            rtt_ms: None,
            loss: if ok { 0.0 } else { 1.0 },
        },
    )
}

fn probe(at: UnixMillis, zone: &str) -> Observation {
    Observation::new(
        at,
        Subject::service("portal"),
        Signal::Probe {
            ok: true,
            status: Some(200),
            latency_ms: 4.0,
            detail: None,
            zone: Some(zone.into()),
        },
    )
}

/// One poll round at `t`: the inside poller always; the outside poller until it falls silent
/// and again from [`BACK_AT`] (its firewall failing from [`SILENT_AT`] on).
fn poll(t: UnixMillis) -> Vec<Observation> {
    let mut b = vec![
        heartbeat(t, "inside"),
        reach(t, "web", true),
        reach(t, "db", true),
        probe(t, "inside"),
    ];
    if t <= SILENT_AT || t >= BACK_AT {
        b.extend([
            heartbeat(t, "outside"),
            reach(t, "fw", t < SILENT_AT),
            probe(t, "outside"),
        ]);
    }
    b
}

fn poller_changes(out: &[Output]) -> Vec<(UnixMillis, State)> {
    out.iter()
        .filter_map(|o| match o {
            Output::StateChanged { at, id, to, .. } if id == "poller:outside" => Some((*at, *to)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_silent_poller_makes_its_zone_unknown_never_down() {
    let mut e = Engine::new(graph(), config());
    let mut out = Vec::new();
    run_polls(&mut e, poll, (T0, BACK_AT, STEP), &mut out);
    // Judged stale at the exact instant the bound passed, in engine time.
    assert_eq!(poller_changes(&out), [(SILENT_AT + BOUND, State::Down)]);
    assert_eq!(state_of(&e, "poller:outside"), State::Down);
    assert_eq!(state_of(&e, "poller:inside"), State::Up);
    // The firewall's failure was seen, but only the silent poller sees it: unknown, no page.
    assert_eq!(state_of(&e, "fw"), State::Unknown);
    assert_eq!(state_of(&e, "fw:p1--web:eth0"), State::Up);
    assert!(transitions(&out).is_empty(), "{:?}", transitions(&out));
    // The portal is judged on the inside zone's results alone: up, no partial outage.
    assert_eq!(state_of(&e, "portal"), State::Up);
    let why = e.why("fw").expect("fw");
    assert!(
        why.detail.contains("poller:outside silent since"),
        "{why:?}"
    );
    let poller = e.why("poller:outside").expect("the poller's why");
    assert!(poller.detail.contains("no heartbeat since"), "{poller:?}");

    // Back, with the firewall still failing: now it is the firewall's incident.
    run_polls(&mut e, poll, (BACK_AT, BACK_AT + 60 * S, STEP), &mut out);
    assert_eq!(
        poller_changes(&out),
        [(SILENT_AT + BOUND, State::Down), (BACK_AT, State::Up)]
    );
    let opened: Vec<_> = transitions(&out)
        .into_iter()
        .filter(|t| t.action == TransitionAction::Trigger)
        .collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0].incident.root_causes, ["fw"]);
    assert_eq!(state_of(&e, "fw"), State::Down);
}

#[test]
fn staleness_replays_and_restores_to_the_same_outputs() {
    let end = BACK_AT + 60 * S;
    let mut live = Engine::new(graph(), config());
    let mut expected = Vec::new();
    run_polls(&mut live, poll, (T0, end, STEP), &mut expected);

    // The whole stream as one batch, advanced once at the end: the same outputs.
    let mut whole = Engine::new(graph(), config());
    let stream: Vec<_> = (0..(end - T0) / STEP)
        .flat_map(|i| poll(T0 + i * STEP))
        .collect();
    let mut replayed = whole.ingest(&stream);
    replayed.extend(whole.advance(end - STEP));
    assert_eq!(transitions(&replayed), transitions(&expected));
    assert_eq!(poller_changes(&replayed), poller_changes(&expected));

    // A snapshot taken mid-partition restores the stale poller.
    let mut first = Engine::new(graph(), config());
    let mut out = Vec::new();
    run_polls(&mut first, poll, (T0, T0 + 100 * S, STEP), &mut out);
    let mut restored = Engine::restore(graph(), config(), &first.snapshot()).expect("restore");
    assert_eq!(state_of(&restored, "poller:outside"), State::Down);
    run_polls(&mut restored, poll, (T0 + 100 * S, end, STEP), &mut out);
    assert_eq!(transitions(&out), transitions(&expected));
    assert_eq!(poller_changes(&out), poller_changes(&expected));
}

#[test]
fn a_zone_never_heard_from_is_not_watched() {
    let mut e = Engine::new(graph(), config());
    let mut out = Vec::new();
    // No heartbeats at all (the single process): the firewall fails and pages as before.
    let plain = |t: UnixMillis| vec![reach(t, "fw", t < SILENT_AT), reach(t, "web", true)];
    run_polls(&mut e, plain, (T0, BACK_AT, STEP), &mut out);
    assert!(e.components().iter().all(|c| c.kind != "poller"));
    assert_eq!(state_of(&e, "fw"), State::Down);
    assert_eq!(transitions(&out).len(), 1);
}

/// A partition: the outside poller's batches from [`SILENT_AT`] on are buffered and arrive
/// together at [`BACK_AT`], in order, with their own times, after the inside zone moved the
/// clock on. The poller was stale meanwhile; the firewall's incident opens at its failure's
/// own time (first failing sample plus the hold-down), not at the arrival.
#[test]
fn buffered_batches_after_a_partition_keep_their_times() {
    let mut e = Engine::new(graph(), config());
    let mut out = Vec::new();
    let live = |t: UnixMillis| {
        poll(t)
            .into_iter()
            .filter(|o| t < SILENT_AT || !is_outside(o))
            .collect::<Vec<_>>()
    };
    run_polls(&mut e, live, (T0, BACK_AT, STEP), &mut out);
    assert_eq!(
        poller_changes(&out),
        [(SILENT_AT - STEP + BOUND, State::Down)]
    );
    assert_eq!(state_of(&e, "fw"), State::Unknown);
    assert!(transitions(&out).is_empty());

    // The buffer drains: the outside zone's rounds from SILENT_AT on, then live again.
    let buffered: Vec<_> = (0..(BACK_AT - SILENT_AT) / STEP)
        .flat_map(|i| outside_round(SILENT_AT + i * STEP))
        .collect();
    out.extend(e.ingest(&buffered));
    // The buffered batches hold no heartbeat: observations from the zone alone tell that its
    // poller is alive after all.
    assert_eq!(state_of(&e, "poller:outside"), State::Up);
    run_polls(&mut e, poll, (BACK_AT, BACK_AT + 30 * S, STEP), &mut out);
    let opened: Vec<_> = transitions(&out)
        .into_iter()
        .filter(|t| t.action == TransitionAction::Trigger)
        .collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    let failed_at = SILENT_AT + 20 * S;
    assert_eq!(opened[0].incident.opened_at, failed_at);
    assert_eq!(opened[0].incident.id, format!("fw@{failed_at}"));
    assert_eq!(state_of(&e, "poller:outside"), State::Up);
}

fn is_outside(o: &Observation) -> bool {
    match (&o.subject, &o.signal) {
        (_, Signal::PollerHeartbeat { zone, .. }) => zone == "outside",
        (_, Signal::Probe { zone, .. }) => zone.as_deref() == Some("outside"),
        (Subject::Device { device }, _) => device == "fw",
        _ => false,
    }
}

/// The outside poller's round at `t` (the firewall failing from [`SILENT_AT`] on), without its
/// heartbeat: heartbeats are about now and never buffered.
fn outside_round(t: UnixMillis) -> Vec<Observation> {
    vec![reach(t, "fw", t < SILENT_AT), probe(t, "outside")]
}
