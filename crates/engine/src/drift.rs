//! Cabling drift (issue #12): what the collector's LLDP/CDP watch reports as different from
//! the declared links ([`Signal::Cabling`](faultline_observe::Signal)), kept with the instant
//! each difference was first reported. Each difference becomes:
//!
//! - evidence on the declared link (or, for a cable that is not declared, on its devices):
//!   "fw-b:port2 is now cabled to sw-2:gi5, declared sw-1:gi2";
//! - a line on every incident whose root cause is that link or one of those devices, and a note
//!   on the link's node in the live why-tree;
//! - a `topology_drift` incident of its own (severity info), open while the difference lasts.
//!
//! Each report is the whole current set, so a difference that is no longer reported is over.

use std::collections::BTreeMap;

use faultline_graph::{CompId, WhyNode};
use faultline_incident::{Evidence, Incident, IncidentKind, IncidentStatus, Severity};
use faultline_observe::time::format_utc;
use faultline_observe::{CableDrift, CableFinding, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::ids::{Comp, Timed, TypedComponents};

/// The differences reported now, by key (`drift:<kind>:<link>`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Cabling {
    findings: BTreeMap<String, Timed<CableFinding>>,
}

impl Cabling {
    /// The differences about link `link` (`a:if--b:if`, in either order), with since when.
    fn on_link<'a>(&'a self, link: &'a str) -> impl Iterator<Item = &'a Timed<CableFinding>> {
        let reversed = link
            .split_once("--")
            .map(|(a, b)| format!("{b}--{a}"))
            .unwrap_or_default();
        self.findings.values().filter(move |f| {
            f.value.drift != CableDrift::Unexpected
                && (f.value.link == link || f.value.link == reversed)
        })
    }
}

/// The key of a finding's incident: one per kind of difference and cable.
fn key(f: &CableFinding) -> String {
    format!("drift:{}:{}", f.drift.as_str(), f.link)
}

/// "fw-b:port2 is now cabled to sw-2:gi5, declared sw-1:gi2 (since 23:12:05Z)".
fn line(f: &Timed<CableFinding>) -> String {
    format!(
        "cabling drift: {} (since {})",
        f.value.describe(),
        format_utc(f.at)
    )
}

impl Engine {
    /// Take in the watch's current findings at `at`: note what appeared and what is over.
    pub(crate) fn record_cabling(&mut self, findings: &[CableFinding], at: UnixMillis) {
        let mut now: BTreeMap<String, Timed<CableFinding>> = BTreeMap::new();
        for f in findings {
            let k = key(f);
            let old = self.state.cabling.findings.get(&k);
            let since = old.map_or(at, |o| o.at);
            // New, or the same cable now seen elsewhere (a move moved again): worth a line.
            if old.is_none_or(|o| o.value != *f) {
                let text = format!("cabling drift: {}", f.describe());
                self.note_finding(f, at, &text);
            }
            now.insert(k, Timed::new(f.clone(), since));
        }
        let over: Vec<CableFinding> = self
            .state
            .cabling
            .findings
            .iter()
            .filter(|(k, _)| !now.contains_key(*k))
            .map(|(_, f)| f.value.clone())
            .collect();
        for f in &over {
            let text = format!("cabling as declared again: {}", f.describe());
            self.note_finding(f, at, &text);
        }
        self.state.dirty |= now != self.state.cabling.findings;
        self.state.cabling.findings = now;
    }

    /// The components a finding is about: the declared link, else its devices.
    fn finding_components(&self, f: &CableFinding) -> Vec<CompId> {
        if f.drift != CableDrift::Unexpected
            && let Some(link) = self.declared_link(&f.link)
        {
            return vec![link];
        }
        f.devices()
            .into_iter()
            .filter_map(|d| self.graph.lookup(d).ok())
            .collect()
    }

    /// The declared link `a:if--b:if`, written in either order.
    fn declared_link(&self, link: &str) -> Option<CompId> {
        let (a, b) = link.split_once("--")?;
        let found = |id: &str| {
            self.graph
                .lookup(id)
                .ok()
                .filter(|c| matches!(self.graph.comp(*c), Comp::Link(_)))
        };
        found(link).or_else(|| found(&format!("{b}--{a}")))
    }

    fn note_finding(&mut self, f: &CableFinding, at: UnixMillis, text: &str) {
        for c in self.finding_components(f) {
            self.note(c, at, text.to_string());
        }
    }

    /// One `topology_drift` incident per finding into `next`, and each finding's line on the
    /// other incidents in `next` whose root cause it is about.
    pub(crate) fn drift_incidents(&self, next: &mut BTreeMap<String, Incident>) {
        for (k, f) in &self.state.cabling.findings {
            let about: Vec<String> = self
                .finding_components(&f.value)
                .into_iter()
                .map(|c| self.graph.id_of(c).to_string())
                .collect();
            let evidence = Evidence {
                at: f.at,
                subject: f.value.link.clone(),
                text: line(f),
            };
            for inc in next.values_mut() {
                if inc.root_causes.iter().any(|r| about.contains(r)) {
                    inc.evidence.push(evidence.clone());
                }
            }
            next.insert(
                k.clone(),
                Incident {
                    id: k.clone(),
                    kind: IncidentKind::TopologyDrift,
                    severity: Severity::Info,
                    title: format!("cabling drift: {}", f.value.describe()),
                    root_causes: about,
                    affected_services: Vec::new(),
                    suspects: Vec::new(),
                    evidence: vec![evidence],
                    status: IncidentStatus::Open,
                    opened_at: self.state.now,
                    updated_at: self.state.now,
                    resolved_at: None,
                    suppressed: false,
                    acknowledged: None,
                },
            );
        }
    }

    /// Note the differences on every link node of a live why-tree.
    pub(crate) fn show_drift(&self, node: &mut WhyNode) {
        for child in &mut node.children {
            self.show_drift(child);
        }
        if node.kind != "link" {
            return;
        }
        for f in self.state.cabling.on_link(&node.id) {
            let l = line(f);
            node.detail = if node.detail.is_empty() {
                l
            } else {
                format!("{}; {l}", node.detail)
            };
        }
    }
}
