//! Feeding raw states to the components' tracks, and the deadlines that make time matter:
//! hold-downs ending, data going stale, time-based rules to re-check.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use faultline_graph::{CompId, State};
use faultline_observe::UnixMillis;
use faultline_observe::time::format_utc;
use serde::{Deserialize, Serialize};

use crate::config::Hold;
use crate::ids::{Comp, TypedComponents};
use crate::track::{Fed, FlapLimits};
use crate::{Engine, Output};

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum DeadlineKind {
    /// A hold-down may end: commit the pending state if it is still wanted.
    Hold,
    /// The component may have gone without data for too long.
    Stale,
    /// Re-run correlation at this instant (a time-based rule such as split-brain hold).
    Recheck,
}

/// Something to do about component `comp` at instant `at`. Ordered by time first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Deadline {
    pub at: UnixMillis,
    pub kind: DeadlineKind,
    pub comp: CompId,
}

/// Pending deadlines, earliest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Deadlines {
    queue: BinaryHeap<Reverse<Deadline>>,
}

impl Deadlines {
    pub(crate) fn push(&mut self, at: UnixMillis, kind: DeadlineKind, comp: CompId) {
        self.queue.push(Reverse(Deadline { at, kind, comp }));
    }

    /// The earliest deadline if it is due by `now`, removed from the queue.
    pub(crate) fn pop_due(&mut self, now: UnixMillis) -> Option<Deadline> {
        let Reverse(next) = self.queue.peek()?;
        if next.at > now {
            return None;
        }
        self.queue.pop().map(|Reverse(d)| d)
    }

    /// The instant of the earliest pending deadline.
    pub(crate) fn peek_at(&self) -> Option<UnixMillis> {
        self.queue.peek().map(|Reverse(d)| d.at)
    }

    /// Every pending deadline (any order).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Deadline> {
        self.queue.iter().map(|Reverse(d)| d)
    }
}

impl Engine {
    /// The hold-down that applies to component `c`.
    pub(crate) fn hold_for(&self, c: CompId) -> Hold {
        match self.graph.comp(c) {
            Comp::Link(_) => self.cfg.link,
            Comp::Service(_) => self.cfg.probe,
            Comp::Device(_) | Comp::Group(_) => self.cfg.device,
        }
    }

    /// Fire every deadline due by `now`, correlating at each instant where one is due so that
    /// transitions carry the exact time they became true; then move the clock to `now`.
    /// A poller going silent (`pollers.rs`) is one of these deadlines, interleaved in time.
    pub(crate) fn advance_to(&mut self, now: UnixMillis, out: &mut Vec<Output>) {
        loop {
            let silent = self.state.pollers.due(now, self.cfg.poller_stale_after_ms);
            let next = self.state.deadlines.peek_at().filter(|at| *at <= now);
            match (silent, next) {
                (Some((at, zone)), next) if next.is_none_or(|n| at < n) => {
                    if at > self.state.now {
                        self.correlate(out);
                        self.state.now = at;
                    }
                    self.poller_silent(&zone, at, out);
                }
                (_, Some(_)) => {
                    if let Some(deadline) = self.state.deadlines.pop_due(now) {
                        self.fire(deadline, out);
                    }
                }
                _ => break,
            }
        }
        if now > self.state.now {
            self.correlate(out);
            self.state.now = now;
        }
    }

    /// Do what deadline `deadline` is for, at its instant.
    fn fire(&mut self, deadline: Deadline, out: &mut Vec<Output>) {
        if deadline.at > self.state.now {
            self.correlate(out);
            self.state.now = deadline.at;
        }
        let fed = match deadline.kind {
            DeadlineKind::Recheck => {
                self.state.dirty = true;
                Fed::Nothing
            }
            DeadlineKind::Hold => {
                let hold = self.hold_for(deadline.comp);
                self.state.tracks[deadline.comp].expire(deadline.at, hold)
            }
            DeadlineKind::Stale => self.check_stale(deadline.comp, deadline.at),
        };
        self.after_feed(deadline.comp, fed, deadline.at, out);
    }

    /// A staleness deadline of `c` fired at `at`: it goes unknown if nothing arrived since, else
    /// the deadline is re-armed for its last sample.
    fn check_stale(&mut self, c: CompId, at: UnixMillis) -> Fed {
        self.state.tracks[c].stale_armed = false;
        match self.state.tracks[c].last_seen {
            Some(seen) if seen + self.cfg.stale_after_ms <= at => {
                self.note(
                    c,
                    at,
                    format!("no data since {}: unknown", format_utc(seen)),
                );
                // Device signals are stale too: forget them so they cannot vote.
                if let Comp::Device(d) = self.graph.comp(c) {
                    let s = &mut self.state.signals.devices[d];
                    s.reach = None;
                    s.agent = None;
                }
                self.state.tracks[c].go_stale(at)
            }
            Some(seen) => {
                self.state.tracks[c].stale_armed = true;
                let due = seen + self.cfg.stale_after_ms;
                self.state.deadlines.push(due, DeadlineKind::Stale, c);
                Fed::Nothing
            }
            None => Fed::Nothing,
        }
    }

    /// Act on what feeding (or a deadline) did to component `c`'s track.
    fn after_feed(&mut self, c: CompId, fed: Fed, at: UnixMillis, out: &mut Vec<Output>) {
        match fed {
            Fed::Nothing => {}
            Fed::Pending(deadline) => self.state.deadlines.push(deadline, DeadlineKind::Hold, c),
            Fed::Committed { from, to } => {
                self.state.touched.push(c);
                let tr = &mut self.state.tracks[c];
                tr.late = tr.changed_at < self.state.now;
                let flap = if self.state.tracks[c].flapping {
                    " (flapping)"
                } else {
                    ""
                };
                // First sightings (unknown -> up) are not news.
                if !(from == State::Unknown && to == State::Up) {
                    self.note(c, at, format!("{} -> {}{flap}", from.as_str(), to.as_str()));
                }
                let id = self.graph.id_of(c).to_string();
                out.push(Output::StateChanged { at, id, from, to });
                self.state.dirty = true;
            }
        }
    }

    /// One staleness deadline per component at a time; it re-arms itself when it fires early
    /// (data kept arriving), so the queue stays bounded by the component count.
    fn arm_stale(&mut self, c: CompId, at: UnixMillis) {
        if !self.state.tracks[c].stale_armed {
            self.state.tracks[c].stale_armed = true;
            let due = at + self.cfg.stale_after_ms;
            self.state.deadlines.push(due, DeadlineKind::Stale, c);
        }
    }

    /// Feed component `c` the raw state its signals give at `at`.
    pub(crate) fn feed(&mut self, c: CompId, raw: State, at: UnixMillis, out: &mut Vec<Output>) {
        let hold = self.hold_for(c);
        let track = &mut self.state.tracks[c];
        let (was_raw, was_flapping) = (track.raw, track.flapping);
        let fed = track.feed(raw, at, hold, FlapLimits::of(&self.cfg));
        match (was_flapping, track.flapping) {
            (false, true) => {
                let text = "started flapping: recovery held until it settles";
                self.note(c, at, text.into());
            }
            (true, false) => self.note(c, at, "stopped flapping".into()),
            _ => {}
        }
        self.arm_stale(c, at);
        if raw != was_raw {
            // A raw change may unblock or block reachability even before it is committed.
            self.state.dirty = true;
            if raw == State::Down
                && let Comp::Device(d) = self.graph.comp(c)
            {
                let ids = self
                    .layout
                    .neighbourhood
                    .repoll_set(self.graph.topology(), d);
                out.push(Output::Repoll(ids));
            }
        }
        self.after_feed(c, fed, at, out);
    }
}
