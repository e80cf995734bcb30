//! Scale benchmarks on a generated data centre of 100,000 devices (~300,000 links).
//!
//! Targets (issue #2): load + validate ≤ 1 s; one what-if ≤ 5 ms; `spof` for one service ≤ 1 s.
//! Run: `cargo bench -p faultline-graph` (or `bench/graph.sh`, which also measures memory).

use std::sync::OnceLock;

use faultline_graph::{DependencyGraph, Evaluation, State};
use faultline_model::Topology;
use faultline_model::generate::{GenerateOptions, datacenter_json};

const DEVICES: usize = 100_000;

fn text() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| datacenter_json(GenerateOptions::new(DEVICES)))
}

fn graph() -> &'static DependencyGraph {
    static G: OnceLock<DependencyGraph> = OnceLock::new();
    G.get_or_init(|| {
        DependencyGraph::build(&Topology::from_json_str(text(), "dc.json").expect("valid"))
    })
}

fn main() {
    let g = graph();
    let t = g.topology();
    eprintln!(
        "topology: {} devices, {} links, {} groups, {} services; graph: {} gates, {} edges",
        t.devices.len(),
        t.links.len(),
        t.groups.len(),
        t.services.len(),
        g.node_count(),
        g.edge_count()
    );
    divan::main();
}

#[divan::bench(sample_count = 5)]
fn load_and_validate_json() -> Topology {
    Topology::from_json_str(divan::black_box(text()), "dc.json").expect("valid")
}

#[divan::bench(sample_count = 5)]
fn build_graph(b: divan::Bencher) {
    let t = Topology::from_json_str(text(), "dc.json").expect("valid");
    b.bench(|| DependencyGraph::build(divan::black_box(&t)));
}

/// A typical what-if: one server down, full impact report.
#[divan::bench(sample_count = 50)]
fn what_if_server() -> usize {
    graph()
        .what_if(&["srv-3-7-11"])
        .expect("known")
        .services
        .len()
}

/// A top-of-rack switch: its whole rack degrades.
#[divan::bench(sample_count = 50)]
fn what_if_tor() -> usize {
    graph()
        .what_if(&["tor-3-7-1"])
        .expect("known")
        .services
        .len()
}

/// Worst case: a core switch, whose cone is the entire data centre (every gate degrades).
#[divan::bench(sample_count = 10)]
fn what_if_core_switch() -> usize {
    graph().what_if(&["core-1"]).expect("known").services.len()
}

/// The evaluator alone (no report): set one component, settle.
#[divan::bench(sample_count = 50)]
fn evaluate_tor_only() -> usize {
    let g = graph();
    let c = g.lookup("tor-3-7-1").expect("known");
    let mut ev = Evaluation::new(g);
    ev.set_own(c, State::Down);
    ev.settle().len()
}

#[divan::bench(sample_count = 10)]
fn spof_one_service() -> usize {
    graph().spof("svc-42").expect("known").len()
}
