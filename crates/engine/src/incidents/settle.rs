//! Waiting for a verdict: a component (or service) that fails while something it depends on
//! is still waiting out its own hold-down may be that failure's consequence, not a root
//! cause. Its new incident waits (at most `settle_ms` after it failed) for the dependencies'
//! verdict, so a firewall whose link is about to be declared down, or a service whose
//! database is, never opens an incident of its own that resolves moments later.

use faultline_graph::{CompId, State};

use super::Cones;
use crate::Engine;
use crate::feed::DeadlineKind;
use crate::ids::{Comp, TypedComponents};

impl Engine {
    /// `roots` without those whose new incident must wait, which go to `waiting`. Without
    /// `cones`, components other than services are judged; with them, the services that would
    /// open an incident of their own (nothing below them failed, none already hosts them).
    pub(super) fn settled_roots(
        &self,
        roots: Vec<CompId>,
        cones: Option<&Cones>,
        waiting: &mut Vec<CompId>,
    ) -> Vec<CompId> {
        roots
            .into_iter()
            .filter(|&c| {
                let wait = self.opens_incident(c, cones) && self.awaits_dependencies(c);
                if wait {
                    waiting.push(c);
                }
                !wait
            })
            .collect()
    }

    /// Whether root `c` would open a new incident (judged in the pass `cones` selects).
    fn opens_incident(&self, c: CompId, cones: Option<&Cones>) -> bool {
        let open = &self.state.incidents.open;
        match (self.graph.comp(c), cones) {
            (Comp::Service(s), Some(cones)) => {
                let below = cones.below.get(&s).is_some_and(|b| !b.is_empty());
                let hosted = self
                    .state
                    .incidents
                    .service_host
                    .get(&s)
                    .is_some_and(|k| open.contains_key(k));
                !below && !hosted && !open.contains_key(self.graph.id_of(c))
            }
            (Comp::Service(_), None) | (_, Some(_)) => false,
            (_, None) => !open.contains_key(self.graph.id_of(c)),
        }
    }

    /// Whether `c` failed less than `settle_ms` ago and something it depends on is waiting
    /// out a hold-down towards down.
    fn awaits_dependencies(&self, c: CompId) -> bool {
        let tracks = &self.state.tracks;
        if self.state.now >= tracks[c].changed_at.saturating_add(self.cfg.settle_ms) {
            return false;
        }
        let closure = match self.graph.comp(c) {
            Comp::Service(s) => self.layout.closures[s].clone(),
            _ => self
                .graph
                .owners(&self.graph.descendants(self.graph.canonical(c))),
        };
        closure.into_iter().filter(|d| *d != c).any(|d| {
            let tr = &tracks[d];
            tr.effective != State::Down && tr.pending.is_some_and(|p| p.value == State::Down)
        })
    }

    /// Re-run correlation when each newly waiting root's wait ends (once per wait).
    pub(super) fn arm_settle_rechecks(&mut self, waiting: Vec<CompId>) {
        let settle = self.cfg.settle_ms;
        for &c in &waiting {
            if !self.state.incidents.deferred.contains(&c) {
                let due = self.state.tracks[c].changed_at.saturating_add(settle);
                self.state.deadlines.push(due, DeadlineKind::Recheck, c);
            }
        }
        self.state.incidents.deferred = waiting.into_iter().collect();
    }
}
