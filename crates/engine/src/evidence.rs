//! What happened, in words: the recent events of each component (an incident's evidence is
//! drawn from them) and the engine-wide timeline.

use std::collections::VecDeque;

use faultline_graph::CompId;
use faultline_incident::Evidence;
use faultline_observe::UnixMillis;
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::ids::IdxVec;

/// Events kept per component for evidence: enough to tell the story of one outage (a failure,
/// its re-polls, role changes, flapping) while keeping memory linear in the topology.
const EVENTS_PER_COMPONENT: usize = 24;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When it happened.
    pub at: UnixMillis,
    /// Topology id of the component or service the entry is about.
    pub subject: String,
    /// What happened, for people.
    pub text: String,
}

/// Recent events per component and the bounded timeline of all of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EvidenceLog {
    /// The last [`EVENTS_PER_COMPONENT`] events of each component, oldest first.
    recent: IdxVec<CompId, VecDeque<Evidence>>,
    /// Every event, oldest first, bounded by `EngineConfig::timeline_capacity`.
    timeline: VecDeque<TimelineEntry>,
}

impl EvidenceLog {
    pub(crate) fn new(components: usize) -> Self {
        EvidenceLog {
            recent: IdxVec::filled(components, VecDeque::new()),
            timeline: VecDeque::new(),
        }
    }

    /// Components covered (for checking a restored snapshot against its graph).
    pub(crate) fn components(&self) -> usize {
        self.recent.len()
    }

    /// Record an event about component `c` (whose topology id is `subject`).
    pub(crate) fn note(
        &mut self,
        c: CompId,
        subject: &str,
        at: UnixMillis,
        text: String,
        timeline_capacity: usize,
    ) {
        let recent = &mut self.recent[c];
        if recent.len() == EVENTS_PER_COMPONENT {
            recent.pop_front();
        }
        recent.push_back(Evidence {
            at,
            subject: subject.to_string(),
            text: text.clone(),
        });
        if self.timeline.len() >= timeline_capacity.max(1) {
            self.timeline.pop_front();
        }
        self.timeline.push_back(TimelineEntry {
            at,
            subject: subject.to_string(),
            text,
        });
    }

    /// The recent events of component `c`, oldest first.
    pub(crate) fn recent(&self, c: CompId) -> impl Iterator<Item = &Evidence> {
        self.recent[c].iter()
    }

    /// The timeline, oldest first.
    pub(crate) fn timeline(&self) -> impl Iterator<Item = &TimelineEntry> {
        self.timeline.iter()
    }
}

impl Engine {
    /// Record an event about component `c` in its evidence and the timeline.
    pub(crate) fn note(&mut self, c: CompId, at: UnixMillis, text: String) {
        let subject = self.graph.id_of(c);
        self.state
            .evidence
            .note(c, subject, at, text, self.cfg.timeline_capacity);
    }
}
