//! Helpers shared by the engine's scenario tests (each test file is its own crate and uses
//! only some of them, hence the `dead_code` allowance).
#![allow(dead_code)]

use faultline_engine::{Engine, Output};
use faultline_graph::State;
use faultline_incident::IncidentTransition;
use faultline_observe::{Observation, UnixMillis};

/// Poll every `step` ms from `from` (inclusive) to `to` (exclusive) the way the collector feeds
/// the engine, one batch per poll: `ingest` it, then `advance` to the poll's instant.
pub fn run_polls(
    e: &mut Engine,
    poll: impl Fn(UnixMillis) -> Vec<Observation>,
    (from, to, step): (UnixMillis, UnixMillis, u64),
    all: &mut Vec<Output>,
) {
    let mut t = from;
    while t < to {
        all.extend(e.ingest(&poll(t)));
        all.extend(e.advance(t));
        t += step;
    }
}

/// The incident transitions among `out`, in order.
pub fn transitions(out: &[Output]) -> Vec<IncidentTransition> {
    out.iter()
        .filter_map(|o| match o {
            Output::Transition(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// The state of component `id` (a device, link, group or service).
pub fn state_of(e: &Engine, id: &str) -> State {
    e.components()
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| c.state)
        .unwrap_or_else(|| panic!("no component {id}"))
}
