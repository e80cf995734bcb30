//! Operators' actions as journaled observations: acknowledge / unacknowledge and run-time
//! maintenance windows, fed like the collector feeds them and replayed like its restore does.

use std::collections::BTreeSet;
use std::sync::Arc;

mod common;
use common::transitions;

use faultline_engine::{Engine, EngineConfig, Hold, Output};
use faultline_graph::DependencyGraph;
use faultline_incident::{IncidentTransition, TransitionAction};
use faultline_model::Topology;
use faultline_observe::{HaRole, Observation, Signal, Subject};

const S: u64 = 1_000;
const T0: u64 = 1_700_000_000_000;

fn graph() -> Arc<DependencyGraph> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    Arc::new(DependencyGraph::new(
        Topology::load(std::path::Path::new(path)).expect("valid"),
    ))
}

fn config() -> EngineConfig {
    let hold = |down_ms| Hold {
        down_ms,
        up_ms: 30 * S,
    };
    EngineConfig {
        device: hold(15 * S),
        link: hold(10 * S),
        probe: hold(20 * S),
        stale_after_ms: 90 * S,
        ..EngineConfig::default()
    }
}

/// The world the polls see: dead devices, fw-b's role, the portal's answer.
struct World {
    devices: Vec<String>,
    dead: BTreeSet<&'static str>,
    fw_b_active: bool,
    portal: u16,
}

impl World {
    fn new(g: &DependencyGraph) -> World {
        World {
            devices: g.topology().devices.iter().map(|d| d.id.clone()).collect(),
            dead: BTreeSet::new(),
            fw_b_active: false,
            portal: 200,
        }
    }

    fn poll(&self, at: u64) -> Vec<Observation> {
        let mut v: Vec<Observation> = self
            .devices
            .iter()
            .map(|d| {
                let ok = !self.dead.contains(d.as_str());
                let loss = if ok { 0.0 } else { 1.0 };
                let signal = Signal::Reachability {
                    ok,
                    rtt_ms: None,
                    loss,
                };
                Observation::new(at, Subject::device(d), signal)
            })
            .collect();
        let roles = [
            ("fw-a", HaRole::Active),
            (
                "fw-b",
                if self.fw_b_active {
                    HaRole::Active
                } else {
                    HaRole::Standby
                },
            ),
        ];
        for (d, role) in roles {
            if !self.dead.contains(d) {
                let signal = Signal::HaRole {
                    role,
                    peer: None,
                    in_sync: Some(true),
                };
                v.push(Observation::new(at, Subject::device(d), signal));
            }
        }
        for (svc, status) in [("portal", self.portal), ("accounts", 200)] {
            let signal = Signal::Probe {
                ok: status == 200,
                status: Some(status),
                latency_ms: 5.0,
                detail: None,
                zone: None,
            };
            v.push(Observation::new(at, Subject::service(svc), signal));
        }
        v
    }
}

/// The collector's way: journal each batch, `ingest` it, `advance` to its instant, and
/// journal a `ClockAdvance` marker when the advance produced transitions.
struct Live {
    engine: Engine,
    journal: Vec<Observation>,
    out: Vec<Output>,
}

impl Live {
    fn new() -> Live {
        Live {
            engine: Engine::new(graph(), config()),
            journal: Vec::new(),
            out: Vec::new(),
        }
    }

    fn feed(&mut self, batch: Vec<Observation>, now: u64) {
        self.out.extend(self.engine.ingest(&batch));
        self.journal.extend(batch);
        let advanced = self.engine.advance(now);
        if !transitions(&advanced).is_empty() {
            let marker = Observation::new(now, Subject::device(""), Signal::ClockAdvance);
            self.journal.push(marker);
        }
        self.out.extend(advanced);
    }

    fn run(&mut self, w: &World, from: u64, to: u64) {
        let mut t = from;
        while t < to {
            self.feed(w.poll(t), t);
            t += 10 * S;
        }
    }

    fn act(&mut self, at: u64, signal: Signal) {
        self.feed(vec![Observation::new(at, Subject::device(""), signal)], at);
    }

    fn open_id(&self) -> String {
        let open = self.engine.open_incidents();
        assert_eq!(open.len(), 1, "{open:#?}");
        open[0].id.clone()
    }
}

fn ack(id: &str, comment: &str) -> Signal {
    Signal::Acknowledge {
        incident: id.into(),
        by: "alice".into(),
        comment: comment.into(),
    }
}

/// Alice's run-time window `id` on fw-b from T0+61 s until `to`.
fn fw_b_window(id: &str, to: u64, reason: &str) -> Signal {
    Signal::MaintenanceStart {
        window: id.into(),
        components: vec!["fw-b".into()],
        from: T0 + 61 * S,
        to,
        reason: reason.into(),
        by: "alice".into(),
    }
}

fn of(ts: &[IncidentTransition], action: TransitionAction) -> Vec<&IncidentTransition> {
    ts.iter().filter(|t| t.action == action).collect()
}

/// fw-a fails (redundancy lost), is acknowledged, the portal then fails too (an update that
/// keeps the acknowledgement), the acknowledgement is withdrawn, and everything recovers.
fn ack_story() -> Live {
    let g = graph();
    let mut live = Live::new();
    let mut w = World::new(&g);
    live.run(&w, T0, T0 + 60 * S);
    w.dead.insert("fw-a");
    w.fw_b_active = true;
    live.run(&w, T0 + 60 * S, T0 + 120 * S);
    let id = live.open_id();
    live.act(T0 + 121 * S, ack(&id, "on it"));
    w.portal = 404;
    live.run(&w, T0 + 130 * S, T0 + 200 * S);
    live.act(
        T0 + 201 * S,
        Signal::Unacknowledge {
            incident: id.clone(),
            by: "bob".into(),
        },
    );
    w.dead.clear();
    w.portal = 200;
    live.run(&w, T0 + 210 * S, T0 + 330 * S);
    live
}

#[test]
fn an_acknowledgement_is_kept_through_updates_and_withdrawn() {
    let live = ack_story();
    let ts = transitions(&live.out);
    let acks = of(&ts, TransitionAction::Acknowledge);
    assert_eq!(acks.len(), 1, "{ts:#?}");
    let a = acks[0]
        .incident
        .acknowledged
        .as_ref()
        .expect("who acknowledged");
    assert_eq!(
        (a.by.as_str(), a.at, a.comment.as_str()),
        ("alice", T0 + 121 * S, "on it")
    );
    let updates: Vec<_> = of(&ts, TransitionAction::Update)
        .into_iter()
        .filter(|t| t.at > T0 + 121 * S && t.at < T0 + 201 * S)
        .collect();
    assert!(
        !updates.is_empty(),
        "the portal's failure updates it: {ts:#?}"
    );
    assert!(
        updates.iter().all(|t| t.incident.acknowledged.is_some()),
        "updates while acknowledged carry the acknowledgement: {updates:#?}"
    );
    let unacks = of(&ts, TransitionAction::Unacknowledge);
    assert_eq!(unacks.len(), 1, "{ts:#?}");
    assert!(unacks[0].incident.acknowledged.is_none());
    let evidence: Vec<&str> = unacks[0]
        .incident
        .evidence
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert!(
        evidence.contains(&"acknowledged by alice: on it"),
        "{evidence:?}"
    );
    assert!(
        evidence.contains(&"acknowledgement withdrawn by bob"),
        "{evidence:?}"
    );
    let resolves = of(&ts, TransitionAction::Resolve);
    assert_eq!(resolves.len(), 1, "{ts:#?}");
    assert_eq!(resolves[0].incident.id, acks[0].incident.id);
    // Acknowledging an unknown or resolved incident changes nothing.
    let mut after = live;
    let before = after.engine.seq();
    after.act(T0 + 331 * S, ack("nope@1", ""));
    after.act(T0 + 332 * S, ack(&resolves[0].incident.id, ""));
    assert_eq!(after.engine.seq(), before);
}

#[test]
fn a_runtime_window_on_the_spare_suppresses_its_failure_until_ended() {
    let g = graph();
    let mut live = Live::new();
    let mut w = World::new(&g);
    live.run(&w, T0, T0 + 60 * S);
    live.act(
        T0 + 61 * S,
        fw_b_window("mw-1", T0 + 61 * S + 7_200 * S, "firmware"),
    );
    w.dead.insert("fw-b");
    live.run(&w, T0 + 70 * S, T0 + 150 * S);
    let open = live.engine.open_incidents();
    assert_eq!(open.len(), 1, "{open:#?}");
    assert!(
        open[0].suppressed,
        "fw-b in maintenance: recorded, not paged"
    );
    let windows: Vec<_> = live.engine.runtime_windows().collect();
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0].reason, "firmware");
    live.act(
        T0 + 151 * S,
        Signal::MaintenanceEnd {
            window: "mw-1".into(),
            by: "bob".into(),
        },
    );
    live.run(&w, T0 + 160 * S, T0 + 170 * S);
    let open = live.engine.open_incidents();
    assert!(!open[0].suppressed, "the window ended early: it pages now");
    let w1 = live
        .engine
        .runtime_windows()
        .next()
        .expect("kept for the record");
    assert_eq!((w1.to, w1.ended_by.as_deref()), (T0 + 151 * S, Some("bob")));
}

#[test]
fn a_window_expiring_on_its_own_unsuppresses_at_its_end() {
    let g = graph();
    let mut live = Live::new();
    let mut w = World::new(&g);
    live.run(&w, T0, T0 + 60 * S);
    live.act(T0 + 61 * S, fw_b_window("mw-2", T0 + 125 * S, ""));
    w.dead.insert("fw-b");
    live.run(&w, T0 + 70 * S, T0 + 120 * S);
    assert!(live.engine.open_incidents()[0].suppressed);
    // No observation arrives at the window's end: the deadline alone unsuppresses.
    live.out.extend(live.engine.advance(T0 + 126 * S));
    let ts = transitions(&live.out);
    let last = ts.last().expect("an update");
    assert_eq!(
        (last.action, last.at),
        (TransitionAction::Update, T0 + 125 * S)
    );
    assert!(!last.incident.suppressed);
}

#[test]
fn the_same_stream_with_actions_replays_to_the_same_incidents() {
    let live = ack_story();
    assert!(live.journal.iter().any(|o| o.signal.is_operator_action()));
    // The journal goes through JSON, as the store keeps it.
    let text = serde_json::to_string(&live.journal).expect("encode");
    let journal: Vec<Observation> = serde_json::from_str(&text).expect("decode");
    let mut replayed = Engine::new(graph(), config());
    let mut out = replayed.ingest(&journal);
    out.extend(replayed.advance(journal.last().map_or(T0, |o| o.at)));
    assert_eq!(transitions(&out), transitions(&live.out));
    assert_eq!(replayed.seq(), live.engine.seq());

    // Restored from a snapshot taken mid-stream (while acknowledged and with a window),
    // then the rest of the journal: the same transitions after the cut.
    let cut = journal
        .iter()
        .position(|o| o.at > T0 + 150 * S)
        .expect("a cut");
    let mut head = Engine::new(graph(), config());
    let mut before = head.ingest(&journal[..cut]);
    assert!(head.open_incidents()[0].acknowledged.is_some());
    let bytes = head.snapshot();
    let mut tail = Engine::restore(graph(), config(), &bytes).expect("restore");
    before.extend(tail.ingest(&journal[cut..]));
    before.extend(tail.advance(journal.last().map_or(T0, |o| o.at)));
    assert_eq!(transitions(&before), transitions(&live.out));
}
