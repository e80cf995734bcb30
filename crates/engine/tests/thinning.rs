//! Thinning (issue #14, journal growth): an engine fed the thinned stream — what the collector
//! journals — and an engine fed every observation give the same outputs (transitions, state
//! changes, re-polls, at the same instants), on a realistic stream with a failure and its
//! recovery, a flapping link, a device that falls silent and a device that dies; while most of
//! the quiet network's observations are held back.

use std::collections::BTreeSet;
use std::sync::Arc;

mod common;
use common::transitions;

use faultline_engine::{Engine, EngineConfig, Output};
use faultline_graph::{DependencyGraph, State};
use faultline_incident::TransitionAction;
use faultline_model::Topology;
use faultline_observe::{HaRole, IfStatus, Observation, Signal, Subject, UnixMillis};

const S: u64 = 1_000;
const MIN: u64 = 60 * S;
const T0: u64 = 1_700_000_000_000;

const TOPOLOGY: &str = r#"
name: thin-lab
collector: mon
devices:
  - {id: mon, kind: host}
  - {id: sw-out, kind: switch}
  - {id: fw-a, kind: firewall, requires: [sw-out]}
  - {id: fw-b, kind: firewall, requires: [sw-out]}
  - {id: sw-in, kind: switch, requires: [fw-pair]}
  - {id: web-1, kind: server, requires: [sw-in]}
  - {id: web-2, kind: server, requires: [sw-in]}
links:
  - [mon:outside, sw-out:root]
  - [fw-a:out0, sw-out:fwa-out]
  - [fw-b:out0, sw-out:fwb-out]
  - [fw-a:in0, sw-in:fwa-in]
  - [fw-b:in0, sw-in:fwb-in]
  - [web-1:eth0, sw-in:web1]
  - [web-2:eth0, sw-in:web2]
groups:
  - {id: fw-pair, mode: active-standby, members: [fw-a, fw-b]}
  - {id: web, mode: any, members: [web-1, web-2]}
services:
  - {id: portal, tier: critical, requires: [web]}
"#;

/// What the network does at minute `m` of the run.
struct World {
    /// `device:ifname` down now.
    down_ifs: BTreeSet<&'static str>,
    /// Devices that answer nothing (ICMP fails, SNMP times out).
    dead: BTreeSet<&'static str>,
    /// Devices nobody polls any more: no observation at all.
    silent: BTreeSet<&'static str>,
}

fn world(m: u64) -> World {
    let mut w = World {
        down_ifs: BTreeSet::new(),
        dead: BTreeSet::new(),
        silent: BTreeSet::new(),
    };
    // A failure and its recovery.
    if (20..30).contains(&m) {
        w.down_ifs.insert("fw-a:in0");
    }
    // A link that flaps every poll for a while, then settles up.
    if (40..54).contains(&m) && m.is_multiple_of(2) {
        w.down_ifs.insert("fw-b:out0");
    }
    // A device that falls silent for good.
    if m >= 70 {
        w.silent.insert("web-1");
    }
    // A device that dies, then comes back.
    if (90..100).contains(&m) {
        w.dead.insert("web-2");
    }
    w
}

fn device(at: UnixMillis, dev: &str, signal: Signal) -> Observation {
    Observation::new(at, Subject::device(dev), signal)
}

/// One poll cycle at `at` as the collector's batches: the ICMP sweep, each device's SNMP walk
/// (agent, uptime, HA role, interfaces, traffic), the portal's probe.
fn poll(at: UnixMillis) -> Vec<Vec<Observation>> {
    let w = world((at - T0) / MIN);
    let devices = ["mon", "sw-out", "fw-a", "fw-b", "sw-in", "web-1", "web-2"];
    let live = |d: &&&str| !w.silent.contains(**d);
    let sweep = devices
        .iter()
        .filter(live)
        .map(|d| {
            let ok = !w.dead.contains(d);
            let loss = if ok { 0.0 } else { 1.0 };
            device(
                at,
                d,
                Signal::Reachability {
                    ok,
                    rtt_ms: None,
                    loss,
                },
            )
        })
        .collect();
    let mut batches = vec![sweep];
    let ifaces: &[(&str, &[&str])] = &[
        ("fw-a", &["out0", "in0"]),
        ("fw-b", &["out0", "in0"]),
        ("web-1", &["eth0"]),
        ("web-2", &["eth0"]),
    ];
    for (i, (dev, names)) in ifaces.iter().enumerate() {
        let t = at + 10 * (i as u64 + 1);
        if w.silent.contains(dev) {
            continue;
        }
        if w.dead.contains(dev) {
            let reason = faultline_observe::PollFailure::Timeout;
            batches.push(vec![device(t, dev, Signal::AgentDown { reason })]);
            continue;
        }
        let uptime = (at - T0) / 10;
        let mut b = vec![
            device(t, dev, Signal::AgentUp),
            device(
                t,
                dev,
                Signal::Uptime {
                    sys_uptime_cs: uptime,
                    engine_boots: None,
                },
            ),
        ];
        if dev.starts_with("fw") {
            let role = if *dev == "fw-a" {
                HaRole::Active
            } else {
                HaRole::Standby
            };
            b.push(device(
                t,
                dev,
                Signal::HaRole {
                    role,
                    peer: None,
                    in_sync: Some(true),
                },
            ));
        }
        for name in *names {
            let down = w.down_ifs.contains(format!("{dev}:{name}").as_str());
            let oper = if down { IfStatus::Down } else { IfStatus::Up };
            let subject = Subject::interface(*dev, *name);
            b.push(Observation::new(
                t,
                subject.clone(),
                Signal::Interface {
                    oper,
                    admin: IfStatus::Up,
                    last_change_cs: Some(uptime),
                },
            ));
            // Rates change on every poll; whether anything flows does not.
            let rate = 1_000.0 + (at / MIN % 7) as f64;
            b.push(Observation::new(
                t,
                subject,
                Signal::Traffic {
                    in_bps: rate,
                    out_bps: rate,
                },
            ));
        }
        batches.push(b);
    }
    let probe = Signal::Probe {
        ok: !w.dead.contains("web-2") || !w.silent.contains("web-1"),
        status: Some(200),
        latency_ms: 10.0 + (at / MIN % 5) as f64,
        detail: None,
        zone: None,
    };
    batches.push(vec![Observation::new(
        at + 60,
        Subject::service("portal"),
        probe,
    )]);
    batches
}

struct Run {
    out: Vec<Output>,
    fed: usize,
    kept: Vec<Observation>,
}

/// Poll every minute for two hours, the way the collector's engine task does: each batch
/// (thinned first when `thin`) is ingested, then the engine advances to the batch's instant.
fn run(thin: bool) -> Run {
    run_with(thin, EngineConfig::default())
}

fn run_with(thin: bool, cfg: EngineConfig) -> Run {
    let graph = Arc::new(DependencyGraph::new(
        Topology::from_yaml_str(TOPOLOGY, "thin-lab.yaml").expect("valid"),
    ));
    let mut e = Engine::new(graph, cfg);
    let mut r = Run {
        out: Vec::new(),
        fed: 0,
        kept: Vec::new(),
    };
    for m in 0..120 {
        for batch in poll(T0 + m * MIN) {
            let now = batch.iter().map(|o| o.at).max().unwrap_or(T0);
            r.fed += batch.len();
            let batch = if thin { e.thin(batch).kept } else { batch };
            r.out.extend(e.ingest(&batch));
            r.kept.extend(batch);
            let advanced = e.advance(now);
            // As the collector: an advance that produced transitions is journaled as a marker.
            if advanced.iter().any(|o| matches!(o, Output::Transition(_))) {
                let marker = Observation::new(now, Subject::device(""), Signal::ClockAdvance);
                r.kept.push(marker);
            }
            r.out.extend(advanced);
        }
    }
    r
}

fn changes(out: &[Output], id: &str) -> Vec<(UnixMillis, State)> {
    out.iter()
        .filter_map(|o| match o {
            Output::StateChanged { at, id: c, to, .. } if c == id => Some((*at, *to)),
            _ => None,
        })
        .collect()
}

#[test]
fn thinned_and_full_streams_give_the_same_outputs() {
    let full = run(false);
    let thinned = run(true);
    // Against the engine with thinning off (every repetition journaled and taken): the same
    // state changes, each at the same instant, except that silence is noticed up to one
    // heartbeat earlier (staleness counts from the last observation taken).
    let reference = run_with(
        false,
        EngineConfig {
            thinning: false,
            ..EngineConfig::default()
        },
    );
    let state_changes = |r: &Run| -> Vec<(UnixMillis, String, State, State)> {
        r.out
            .iter()
            .filter_map(|o| match o {
                Output::StateChanged { at, id, from, to } => Some((*at, id.clone(), *from, *to)),
                _ => None,
            })
            .collect()
    };
    let (ours, theirs) = (state_changes(&thinned), state_changes(&reference));
    assert_eq!(ours.len(), theirs.len(), "{ours:?}\n{theirs:?}");
    let heartbeat = EngineConfig::default().heartbeat_ms();
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!((&a.1, a.2, a.3), (&b.1, b.2, b.3));
        if a.3 == State::Unknown {
            assert!(a.0 <= b.0 && a.0 + heartbeat >= b.0, "{a:?} vs {b:?}");
        } else {
            assert_eq!(a.0, b.0, "{a:?} vs {b:?}");
        }
    }
    assert_eq!(thinned.out, full.out);
    assert_eq!(thinned.fed, full.fed);

    // With 60 s polls and the default heartbeat (90 s, half of `stale_after_ms`), a quiet
    // device costs one `Steady` every other poll instead of all its signals: about three
    // quarters of this small lab's stream is held back (less the events' flap windows), and
    // more of a real device's, which has more interfaces.
    let steadies = thinned
        .kept
        .iter()
        .filter(|o| o.signal == Signal::Steady)
        .count();
    assert!(steadies > 0);
    let journaled = thinned.kept.len();
    assert!(
        journaled * 10 < full.fed * 3,
        "{journaled} of {} observations journaled",
        full.fed
    );

    // The stream had what it should: a failure that opened and resolved an incident, and
    // state changes for each event.
    let ts = transitions(&full.out);
    let opened = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Trigger)
        .count();
    let resolved = ts
        .iter()
        .filter(|t| t.action == TransitionAction::Resolve)
        .count();
    assert!(
        opened >= 2 && resolved >= 1,
        "{opened} opened, {resolved} resolved"
    );
    let web2 = changes(&full.out, "web-2");
    assert!(web2.iter().any(|(_, s)| *s == State::Down), "{web2:?}");
    assert_eq!(web2.last().map(|c| c.1), Some(State::Up), "{web2:?}");

    // The silent device goes unknown once its data is stale: its last observation was at
    // minute 69, so `stale_after_ms` (180 s) later, less at most one heartbeat (90 s).
    let cfg = EngineConfig::default();
    let last_seen = T0 + 69 * MIN;
    let web1 = changes(&full.out, "web-1");
    let (at, to) = *web1.last().expect("web-1 changed state");
    assert_eq!(to, State::Unknown);
    assert!(
        at <= last_seen + cfg.stale_after_ms
            && at >= last_seen + cfg.stale_after_ms - cfg.heartbeat_ms(),
        "web-1 unknown at +{} s after its last observation",
        (at - last_seen) / S
    );

    // The flapping link is damped: it changed state fewer times than it flapped.
    let link = full
        .out
        .iter()
        .find_map(|o| match o {
            Output::StateChanged { id, .. } if id.contains("fw-b:out0") => Some(id.clone()),
            _ => None,
        })
        .expect("the flapping link changed state");
    let flaps = changes(&full.out, &link);
    assert!(!flaps.is_empty() && flaps.len() < 7, "{flaps:?}");
}

#[test]
fn the_journaled_stream_thins_to_itself() {
    let thinned = run(true);
    let graph = Arc::new(DependencyGraph::new(
        Topology::from_yaml_str(TOPOLOGY, "thin-lab.yaml").expect("valid"),
    ));
    let fresh = Engine::new(graph.clone(), EngineConfig::default());
    let again = fresh.thin(thinned.kept.clone());
    assert_eq!(again.held, 0);
    // And a replay of the journaled stream in one go gives the live outputs' transitions.
    let mut replay = Engine::new(graph.clone(), EngineConfig::default());
    let mut out = replay.ingest(&thinned.kept);
    let end = thinned.kept.last().map_or(T0, |o| o.at);
    out.extend(replay.advance(end));
    assert_eq!(transitions(&out), transitions(&thinned.out));
    // However the replay cuts the journal: a `Steady` is made only when a received batch is
    // thinned, never when the journal is taken.
    for chunk in [1, 7, 64] {
        let mut replay = Engine::new(graph.clone(), EngineConfig::default());
        let mut out = Vec::new();
        for part in thinned.kept.chunks(chunk) {
            out.extend(replay.ingest(part));
        }
        out.extend(replay.advance(end));
        assert_eq!(
            transitions(&out),
            transitions(&thinned.out),
            "chunks of {chunk}"
        );
    }
}
