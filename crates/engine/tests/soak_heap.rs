//! The engine's memory is bounded however long it runs (issue #9, item 18): a soak of thousands
//! of failures and repairs on the contractor portal, with the engine's live heap counted
//! exactly (a counting global allocator; RSS would also count what the allocator keeps).
//!
//! Every owner that grows with incidents has a bound: evidence per component, the timeline
//! (`timeline_capacity`), the recently resolved incidents (a thousand). Once they have filled,
//! more incidents must not add a byte beyond noise. The soak runs the default configuration
//! (only the hold-downs are shortened, which changes timing, not what is kept), so the plateau
//! printed is what a collector holds at that topology size.
//!
//! `cargo test -p faultline-engine --test soak_heap -- --nocapture` prints the figures.

use std::sync::Arc;

use faultline_engine::{Engine, EngineConfig, Hold, Output};
use faultline_graph::DependencyGraph;
use faultline_incident::TransitionAction;
use faultline_model::Topology;
use faultline_observe::{Observation, Signal, Subject};
use faultline_testpeers::heap;

#[global_allocator]
static HEAP: heap::Counting = heap::Counting;

const S: u64 = 1_000;
const T0: u64 = 1_700_000_000_000;
/// Poll interval of the simulated collector.
const POLL: u64 = 5 * S;
/// Each cycle: the failure lasts this long, then the repair this long.
const FAILED_FOR: u64 = 40 * S;
const HEALED_FOR: u64 = 80 * S;
/// The roots that fail in turn: a critical service's database, the active firewall (a
/// redundancy loss), a web server (a low-tier service down, the pool degraded), an ISP uplink.
const ROOTS: [&str; 4] = ["db-1", "fw-a", "web-1", "isp-a"];
/// Cycles before the first measurement: more than the thousand resolved incidents kept and
/// enough timeline entries (about five a cycle) to fill `timeline_capacity`, so every bound has been reached.
const WARM_CYCLES: usize = 2_200;
/// Cycles between the two measurements that must agree.
const MORE_CYCLES: usize = 600;

fn portal() -> Arc<DependencyGraph> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    Arc::new(DependencyGraph::new(
        Topology::load(std::path::Path::new(path)).expect("the shipped topology is valid"),
    ))
}

/// The defaults, with short hold-downs so that a cycle is two minutes of engine time. Flap
/// detection stays on: one failure every eight minutes per root is far below its threshold.
fn config() -> EngineConfig {
    let hold = Hold {
        down_ms: 10 * S,
        up_ms: 20 * S,
    };
    EngineConfig {
        device: hold,
        link: hold,
        probe: hold,
        ..EngineConfig::default()
    }
}

/// One poll at `at` with `failed` down: the ICMP sweep, then the probes (a service whose
/// requirements include the failed root answers 503).
fn poll(g: &DependencyGraph, at: u64, failed: Option<&str>) -> [Vec<Observation>; 2] {
    let sweep = g
        .topology()
        .devices
        .iter()
        .map(|d| {
            let ok = failed != Some(d.id.as_str());
            let signal = Signal::Reachability {
                ok,
                rtt_ms: ok.then_some(0.4),
                loss: if ok { 0.0 } else { 1.0 },
            };
            Observation::new(at, Subject::device(&d.id), signal)
        })
        .collect();
    let portal_down = failed == Some("db-1");
    let probes = [("portal", portal_down), ("accounts", portal_down)]
        .into_iter()
        .map(|(service, down)| {
            let status = if down { 503 } else { 200 };
            let signal = Signal::Probe {
                ok: !down,
                status: Some(status),
                latency_ms: 12.0,
                detail: None,
                zone: None,
            };
            Observation::new(at + 300, Subject::service(service), signal)
        })
        .collect();
    [sweep, probes]
}

/// Runs `cycles` failure/repair cycles, numbered from `from` (which root fails, and when);
/// returns how many incidents were triggered.
fn soak(e: &mut Engine, g: &DependencyGraph, from: usize, cycles: usize) -> usize {
    let mut triggered = 0;
    for cycle in from..from + cycles {
        let root = ROOTS[cycle % ROOTS.len()];
        let start = T0 + cycle as u64 * (FAILED_FOR + HEALED_FOR);
        let mut t = start;
        while t < start + FAILED_FOR + HEALED_FOR {
            let failed = (t < start + FAILED_FOR).then_some(root);
            for batch in poll(g, t, failed) {
                let last = batch.iter().map(|o| o.at).max().unwrap_or(t);
                let outs = e.ingest(&batch).into_iter().chain(e.advance(last));
                triggered += outs
                    .filter(|o| {
                        matches!(o, Output::Transition(tr) if tr.action == TransitionAction::Trigger)
                    })
                    .count();
            }
            t += POLL;
        }
    }
    triggered
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[test]
fn engine_heap_stops_growing_once_its_bounded_stores_are_full() {
    let g = portal();
    let base = heap::live_bytes();
    let mut e = Engine::new(g.clone(), config());
    let after_start = heap::live_bytes() - base;

    let early = soak(&mut e, &g, 0, 100);
    let after_100 = heap::live_bytes() - base;
    let warm = soak(&mut e, &g, 100, WARM_CYCLES - 100);
    let at_warm = heap::live_bytes() - base;
    let more = soak(&mut e, &g, WARM_CYCLES, MORE_CYCLES);
    let at_end = heap::live_bytes() - base;

    let incidents = early + warm + more;
    let drift = at_end.abs_diff(at_warm);
    println!(
        "engine heap, contractor portal ({} components): start {:.2} MiB, after 100 cycles \
         {:.2} MiB, after {WARM_CYCLES} {:.2} MiB, after {} {:.2} MiB ({incidents} incidents; \
         {drift} bytes apart over the last {MORE_CYCLES} cycles)",
        g.component_count(),
        mib(after_start),
        mib(after_100),
        mib(at_warm),
        WARM_CYCLES + MORE_CYCLES,
        mib(at_end),
    );
    // Every cycle pages: the soak exercises what it claims to.
    assert!(
        incidents >= WARM_CYCLES + MORE_CYCLES,
        "only {incidents} incidents in {} cycles",
        WARM_CYCLES + MORE_CYCLES
    );
    assert_eq!(
        e.recent_resolved().count(),
        1_000,
        "the resolved list is full"
    );
    assert_eq!(
        e.timeline().count(),
        e.config().timeline_capacity,
        "the timeline is full"
    );
    // Growth while filling, none once full: 600 more incidents may move the heap by a little
    // (a map node split, a string of another length), never by what they would cost kept.
    assert!(
        after_100 < at_warm,
        "the bounded stores filled: {after_100} → {at_warm}"
    );
    let per_incident_while_filling = (at_warm - after_100) / (warm.max(1));
    assert!(
        drift < 64 * 1024,
        "{drift} bytes more after {more} more incidents (filling cost ~{per_incident_while_filling} \
         bytes each): something the engine keeps is unbounded"
    );
}
