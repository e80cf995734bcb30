//! Vantage points: a service probed from several zones (`zones: [inside, outside]`, one poller
//! each) keeps the last result from each. Its raw state is up when every fresh result
//! succeeds, down when every one fails, and degraded while some fail and others succeed: a
//! partial outage, reported as `partial_outage` naming the failing and the working zones (see
//! `incidents/build.rs`). A probe without a zone is the collector's own single vantage (the
//! empty zone), so a single-process collector sees exactly what it saw before zones.

use std::collections::BTreeMap;

use faultline_graph::{CompId, State, WhyNode};
use faultline_observe::UnixMillis;
use faultline_observe::time::format_utc;

use crate::ids::{Comp, ServiceIdx, Timed, TypedComponents};
use crate::pollers::Pollers;
use crate::signals::{Freshness, ProbeResult};
use crate::{Engine, Output};

/// The last probe result from each vantage zone; the empty zone is the collector's own.
pub(crate) type Vantages = BTreeMap<String, Timed<ProbeResult>>;

/// The raw state the fresh results give: up when all succeed, down when all fail, degraded
/// when some fail while others succeed (a partial outage); unknown when none is fresh. Results
/// from a zone whose poller is silent (`pollers.rs`) do not count.
pub(crate) fn vantage_raw(v: &Vantages, fresh: Freshness, pollers: &Pollers) -> State {
    let (mut any_ok, mut any_failed) = (false, false);
    let counted = v
        .iter()
        .filter(|(z, r)| fresh.fresh(r.at) && !pollers.is_stale(z))
        .map(|(_, r)| r);
    for r in counted {
        any_ok |= r.value.ok;
        any_failed |= !r.value.ok;
    }
    match (any_ok, any_failed) {
        (true, true) => State::Degraded,
        (true, false) => State::Up,
        (false, true) => State::Down,
        (false, false) => State::Unknown,
    }
}

/// The zones whose fresh result fails and those whose fresh result succeeds, in name order.
#[derive(Debug, Default)]
pub(crate) struct ZoneSplit {
    pub failing: Vec<String>,
    pub working: Vec<String>,
}

/// How a zone is named for people: the collector's own vantage has no zone name.
fn zone_name(z: &str) -> &str {
    if z.is_empty() { "the collector" } else { z }
}

/// `zone outside`, `zones inside, outside`.
fn zones_phrase(zones: &[String]) -> String {
    let names: Vec<&str> = zones.iter().map(|z| zone_name(z)).collect();
    match names.as_slice() {
        [one] => format!("zone {one}"),
        _ => format!("zones {}", names.join(", ")),
    }
}

/// What a probe result says, for people: `FAILED HTTP 503`, `ok HTTP 200`.
fn describe(p: &ProbeResult) -> String {
    let what = match (p.status, &p.detail) {
        (Some(st), _) => format!("HTTP {st}"),
        (None, Some(d)) => d.clone(),
        _ => String::new(),
    };
    let verdict = if p.ok { "ok" } else { "FAILED" };
    format!("{verdict} {what}").trim_end().to_string()
}

impl Engine {
    /// Take in service `s`'s probe result from vantage `zone` (empty: the collector's own):
    /// note what is news, then feed the raw state all fresh vantages give together.
    pub(crate) fn apply_probe(
        &mut self,
        s: ServiceIdx,
        zone: &str,
        at: UnixMillis,
        probe: ProbeResult,
        out: &mut Vec<Output>,
    ) {
        let c = s.comp(&self.graph);
        let prev_ok = self.state.signals.probes[s].get(zone).map(|p| p.value.ok);
        // The first answer is not news unless it is a failure.
        if prev_ok.is_some_and(|p| p != probe.ok) || (prev_ok.is_none() && !probe.ok) {
            let from = if zone.is_empty() {
                String::new()
            } else {
                format!(" from zone {zone}")
            };
            self.note(c, at, format!("probe {}{from}", describe(&probe)));
        }
        let fresh = self.freshness();
        let vantages = &mut self.state.signals.probes[s];
        // Every probe lands here: replace in place, a key is allocated only for a new zone.
        match vantages.get_mut(zone) {
            Some(slot) => *slot = Timed::new(probe, at),
            None => {
                vantages.insert(zone.to_owned(), Timed::new(probe, at));
            }
        }
        let raw = vantage_raw(vantages, fresh, &self.state.pollers);
        self.feed(c, raw, at, out);
    }

    /// Whether service `s` is declared (after its hold-down) failing from some zones while
    /// working from others.
    pub(crate) fn in_partial_outage(&self, s: ServiceIdx) -> bool {
        self.state.tracks[s.comp(&self.graph)].effective == State::Degraded
    }

    /// Services in a partial outage whose dependencies are available: they are judged like a
    /// failing service (merged into the incident of a failure below them, else their own).
    /// One whose dependencies failed is already down in the graph, in that failure's incident.
    /// Only the components degraded in the graph are candidates (linear in those, not in the
    /// topology): a service's own state there is its declared one.
    pub(crate) fn partial_outages(&self) -> Vec<CompId> {
        self.state
            .own
            .degraded()
            .filter(|c| matches!(self.graph.comp(*c), Comp::Service(_)))
            .filter(|c| {
                let deps = self.eval.dependencies_state(self.graph.canonical(*c));
                deps.is_available()
            })
            .collect()
    }

    /// Service `s`'s failing and working zones among its fresh results.
    pub(crate) fn zone_split(&self, s: ServiceIdx) -> ZoneSplit {
        let fresh = self.freshness();
        let mut split = ZoneSplit::default();
        for (zone, r) in self.state.signals.probes[s].iter() {
            if !fresh.fresh(r.at) || self.state.pollers.is_stale(zone) {
                continue;
            }
            let list = if r.value.ok {
                &mut split.working
            } else {
                &mut split.failing
            };
            list.push(zone.clone());
        }
        split
    }

    /// "Contractor portal is unreachable from zone outside, reachable from inside".
    pub(crate) fn partial_outage_title(&self, s: ServiceIdx) -> String {
        let name = &self.graph.topology().services[s.0].name;
        let split = self.zone_split(s);
        let failing = if split.failing.is_empty() {
            "some zones".to_string()
        } else {
            zones_phrase(&split.failing)
        };
        let working: Vec<&str> = split.working.iter().map(|z| zone_name(z)).collect();
        if working.is_empty() {
            format!("{name} is unreachable from {failing}")
        } else {
            format!(
                "{name} is unreachable from {failing}, reachable from {}",
                working.join(", ")
            )
        }
    }

    /// Under every service node of `tree` probed from named zones, what each zone saw last.
    pub(crate) fn show_vantages(&self, node: &mut WhyNode) {
        for child in &mut node.children {
            self.show_vantages(child);
        }
        if node.kind != "service" {
            return;
        }
        let Some(Comp::Service(s)) = self.graph.resolve_comp(&node.id) else {
            return;
        };
        let vantages = &self.state.signals.probes[s];
        if vantages.keys().all(String::is_empty) {
            return;
        }
        let lines: Vec<String> = vantages
            .iter()
            .map(|(zone, r)| {
                format!(
                    "from {}: {} at {}",
                    zones_phrase(std::slice::from_ref(zone)),
                    describe(&r.value),
                    format_utc(r.at)
                )
            })
            .collect();
        let l = lines.join("; ");
        node.detail = if node.detail.is_empty() {
            l
        } else {
            format!("{}; {l}", node.detail)
        };
    }
}
