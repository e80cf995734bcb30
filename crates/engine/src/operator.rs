//! Operators' actions, consumed in stream order like any observation (so a replay is exact):
//! acknowledging an incident, and maintenance windows added and ended at run time.
//!
//! - An acknowledged incident stays open and recorded; it carries who acknowledged it, when and
//!   why, and emits an `Acknowledge` transition (pagers stop paging it: PagerDuty
//!   `acknowledge`, an Alertmanager silence, the webhook's `acknowledge` event). Unacknowledging
//!   emits `Unacknowledge`.
//! - Run-time windows combine with the configuration's under the same rule (Checkmk BI's: a
//!   window excuses only what its components' failure takes down). Their start and end are
//!   deadlines, so suppression changes at the exact instants.

use std::collections::BTreeMap;

use faultline_incident::{Acknowledgement, TransitionAction};
use faultline_observe::{Signal, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::feed::DeadlineKind;
use crate::{CompId, Engine, Output};

/// Ended run-time windows are forgotten this long after their end (engine time).
const ENDED_KEPT_MS: UnixMillis = 7 * 24 * 3_600_000;

/// A maintenance window added at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeWindow {
    /// The window's id.
    pub id: String,
    /// Topology ids of the components under maintenance.
    pub components: Vec<String>,
    /// Start (inclusive, ms since the epoch).
    pub from: UnixMillis,
    /// End (exclusive); set to the end instant when ended early.
    pub to: UnixMillis,
    /// Why, for people.
    pub reason: String,
    /// Who added it.
    pub by: String,
    /// Who ended it early, if anyone.
    #[serde(default)]
    pub ended_by: Option<String>,
}

/// The operator state kept in the engine (and its snapshot).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct OperatorState {
    /// Run-time maintenance windows by id (ended ones kept a week, for the record).
    windows: BTreeMap<String, RuntimeWindow>,
}

impl Engine {
    /// Apply an operator action (`signal` at `at`); the engine's clock is already at `at`.
    /// Any other signal is ignored.
    pub(crate) fn apply_operator(
        &mut self,
        at: UnixMillis,
        signal: &Signal,
        out: &mut Vec<Output>,
    ) {
        match signal {
            Signal::Acknowledge {
                incident,
                by,
                comment,
            } => {
                let ack = Acknowledgement {
                    by: by.clone(),
                    at,
                    comment: comment.clone(),
                };
                self.set_acknowledged(incident, Some(ack), by, at, out);
            }
            Signal::Unacknowledge { incident, by } => {
                self.set_acknowledged(incident, None, by, at, out);
            }
            Signal::MaintenanceStart {
                window,
                components,
                from,
                to,
                reason,
                by,
            } => {
                let w = RuntimeWindow {
                    id: window.clone(),
                    components: components.clone(),
                    from: *from,
                    to: *to,
                    reason: reason.clone(),
                    by: by.clone(),
                    ended_by: None,
                };
                self.start_window(w, at);
            }
            Signal::MaintenanceEnd { window, by } => self.end_window(window, by, at),
            _ => {}
        }
    }

    /// Acknowledge (`Some`) or unacknowledge (`None`) the open incident with this id. Unknown
    /// ids and no-op changes are ignored (the shell checks ids before journaling).
    fn set_acknowledged(
        &mut self,
        id: &str,
        ack: Option<Acknowledgement>,
        by: &str,
        at: UnixMillis,
        out: &mut Vec<Output>,
    ) {
        let Some((_, inc)) = self.state.incidents.open_by_id_mut(id) else {
            return;
        };
        if inc.acknowledged.is_some() == ack.is_some() {
            return;
        }
        let text = match &ack {
            Some(a) if a.comment.is_empty() => format!("acknowledged by {}", a.by),
            Some(a) => format!("acknowledged by {}: {}", a.by, a.comment),
            None => format!("acknowledgement withdrawn by {by}"),
        };
        let root = inc.root_causes.first().cloned();
        // In the component's log (rebuilt incidents take their evidence from it) and in the
        // incident as it is now.
        if let Some(c) = root.and_then(|r| self.graph.lookup(&r).ok()) {
            self.note(c, at, text.clone());
        }
        let Some((paged, inc)) = self.state.incidents.open_by_id_mut(id) else {
            return;
        };
        let subject = inc.root_causes.join(",");
        inc.evidence
            .push(faultline_incident::Evidence { at, subject, text });
        let action = if ack.is_some() {
            TransitionAction::Acknowledge
        } else {
            TransitionAction::Unacknowledge
        };
        inc.acknowledged = ack;
        if paged {
            self.state.incidents.emit(id, action, at, out);
        }
    }

    fn start_window(&mut self, w: RuntimeWindow, at: UnixMillis) {
        self.prune_windows(at);
        for instant in [w.from, w.to] {
            if instant >= at {
                self.state
                    .deadlines
                    .push(instant, DeadlineKind::Recheck, CompId(0));
            }
        }
        self.state.operator.windows.insert(w.id.clone(), w);
        self.state.dirty = true;
    }

    fn end_window(&mut self, id: &str, by: &str, at: UnixMillis) {
        if let Some(w) = self.state.operator.windows.get_mut(id)
            && w.to > at
        {
            w.to = at.max(w.from);
            w.ended_by = Some(by.to_string());
            self.state.dirty = true;
        }
    }

    /// Forget windows that ended more than [`ENDED_KEPT_MS`] ago.
    fn prune_windows(&mut self, now: UnixMillis) {
        self.state
            .operator
            .windows
            .retain(|_, w| w.to.saturating_add(ENDED_KEPT_MS) > now);
    }

    /// Run-time maintenance windows (current, future and recently ended), by id.
    pub fn runtime_windows(&self) -> impl Iterator<Item = &RuntimeWindow> {
        self.state.operator.windows.values()
    }

    /// Every window active at `now`: the configuration's and the run-time ones, as
    /// (components) lists.
    pub(crate) fn active_maintenance(&self, now: UnixMillis) -> Vec<&[String]> {
        let active = |from: UnixMillis, to: UnixMillis| from <= now && now < to;
        self.cfg
            .maintenance
            .iter()
            .filter(|m| active(m.from, m.to))
            .map(|m| m.components.as_slice())
            .chain(
                self.state
                    .operator
                    .windows
                    .values()
                    .filter(|w| active(w.from, w.to))
                    .map(|w| w.components.as_slice()),
            )
            .collect()
    }
}
