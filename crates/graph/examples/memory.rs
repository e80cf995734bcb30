//! Retained heap of a loaded topology and its compiled graph, per device, measured exactly with a
//! counting global allocator (peak RSS of a process also counts the input text and parser
//! buffers, which are freed once loading is done).
//!
//! `cargo run --release -p faultline-graph --example memory -- [DEVICES]`

use faultline_graph::{DependencyGraph, Evaluation};
use faultline_model::Topology;
use faultline_model::generate::{GenerateOptions, datacenter_json};
use faultline_testpeers::heap::{self, live_bytes as live};

#[global_allocator]
static HEAP: heap::Counting = heap::Counting;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let text = datacenter_json(GenerateOptions::new(n));
    let base = live();
    heap::reset_peak();
    let topo = Topology::from_json_str(&text, "dc.json").expect("valid");
    let after_topo = live();
    let peak_load = heap::peak_bytes() - base;
    let devices = topo.devices.len();
    let graph = DependencyGraph::new(topo);
    let after_graph = live();
    let mut ev = Evaluation::new(&graph);
    ev.settle();
    let after_eval = live();
    let per = |b: usize| b / devices;
    println!("devices {devices}, input text {} MiB", text.len() >> 20);
    println!(
        "topology model: {:>5} MiB retained = {:>5} B/device (load peak {} MiB above the text)",
        (after_topo - base) >> 20,
        per(after_topo - base),
        peak_load >> 20
    );
    println!(
        "graph (incl. model): {:>5} MiB retained = {:>5} B/device",
        (after_graph - base) >> 20,
        per(after_graph - base)
    );
    println!(
        "one evaluation state: {:>5} MiB = {:>5} B/device",
        (after_eval - after_graph) >> 20,
        per(after_eval - after_graph)
    );
    println!(
        "total model+graph+evaluation: {} B/device",
        per(after_eval - base)
    );
}
