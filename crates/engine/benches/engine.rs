//! Engine throughput and correlation latency on a generated 100,000-device data centre.
//!
//! Targets (issue #4): ≥ 1,000,000 observations/s per core when nothing changes; a storm of
//! 10,000 simultaneous device failures fully correlated in ≤ 100 ms; observation-to-incident
//! latency ≤ 10 ms. Run: `cargo bench -p faultline-engine`.

use std::sync::{Arc, OnceLock};

use divan::counter::ItemsCount;
use faultline_engine::{Engine, EngineConfig, Output};
use faultline_graph::DependencyGraph;
use faultline_model::Topology;
use faultline_model::generate::{GenerateOptions, datacenter_json};
use faultline_observe::{Observation, Signal, Subject};

const DEVICES: usize = 100_000;
const T0: u64 = 1_700_000_000_000;

fn graph() -> Arc<DependencyGraph> {
    static G: OnceLock<Arc<DependencyGraph>> = OnceLock::new();
    G.get_or_init(|| {
        let text = datacenter_json(GenerateOptions::new(DEVICES));
        Arc::new(DependencyGraph::new(
            Topology::from_json_str(&text, "dc.json").expect("valid"),
        ))
    })
    .clone()
}

fn device_ids() -> &'static [String] {
    static IDS: OnceLock<Vec<String>> = OnceLock::new();
    IDS.get_or_init(|| {
        graph()
            .topology()
            .devices
            .iter()
            .map(|d| d.id.clone())
            .collect()
    })
}

fn reach(at: u64, dev: &str, ok: bool) -> Observation {
    Observation::new(
        at,
        Subject::device(dev),
        Signal::Reachability {
            ok,
            rtt_ms: ok.then_some(0.3),
            loss: if ok { 0.0 } else { 1.0 },
        },
    )
}

/// An engine that has seen every device up once.
fn warm_engine(cfg: EngineConfig) -> Engine {
    let mut e = Engine::new(graph(), cfg);
    let batch: Vec<Observation> = device_ids().iter().map(|d| reach(T0, d, true)).collect();
    e.observe_batch(&batch);
    e
}

fn main() {
    let g = graph();
    eprintln!(
        "topology: {} devices, {} links; graph {} gates",
        g.topology().devices.len(),
        g.topology().links.len(),
        g.node_count()
    );
    divan::main();
}

/// Steady state: 100,000 "still up" observations (one poll of every device).
#[divan::bench(sample_count = 10)]
fn steady_state_100k_observations(b: divan::Bencher) {
    let ids = device_ids();
    b.counter(ItemsCount::new(ids.len()))
        .with_inputs(|| {
            let e = warm_engine(EngineConfig::default());
            let batch: Vec<Observation> = ids.iter().map(|d| reach(T0 + 10_000, d, true)).collect();
            (e, batch)
        })
        .bench_local_values(|(mut e, batch)| {
            let n = e.observe_batch(&batch).len();
            // Returned so that dropping a 100k-device engine is not timed.
            (e, n)
        });
}

/// A storm: 10,000 servers fail in the same poll cycle; correlate them all.
#[divan::bench(sample_count = 10)]
fn storm_10k_device_failures(b: divan::Bencher) {
    let servers: Vec<&String> = device_ids()
        .iter()
        .filter(|d| d.starts_with("srv-"))
        .take(10_000)
        .collect();
    b.with_inputs(|| {
        let e = warm_engine(EngineConfig::immediate());
        let batch: Vec<Observation> = servers
            .iter()
            .map(|d| reach(T0 + 10_000, d, false))
            .collect();
        (e, batch)
    })
    .bench_local_values(|(mut e, batch)| {
        let out = e.observe_batch(&batch);
        let n = out
            .iter()
            .filter(|o| matches!(o, Output::Transition(_)))
            .count();
        assert!(n >= 1_000, "storm must open incidents, got {n}");
        (e, n)
    });
}

/// One device fails (no hold-down): time from the observation to the incident transition.
#[divan::bench(sample_count = 30)]
fn observation_to_incident_latency(b: divan::Bencher) {
    b.with_inputs(|| warm_engine(EngineConfig::immediate()))
        .bench_local_values(|mut e| {
            let out = e.observe(&reach(T0 + 10_000, "tor-3-7-1", false));
            assert!(out.iter().any(|o| matches!(o, Output::Transition(_))));
            (e, out.len())
        });
}
