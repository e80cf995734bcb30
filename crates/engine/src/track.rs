//! Per-component state machine: raw state from signals → hold-down → flap damping → effective.

use faultline_graph::State;
use faultline_observe::UnixMillis;

use crate::config::{EngineConfig, Hold};
use crate::ids::Timed;

/// Flap detection thresholds (Nagios-style percent state change over a window of samples).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FlapLimits {
    /// Raw samples in the window.
    pub samples: usize,
    /// Percent change at which a component starts flapping.
    pub high: f64,
    /// Percent change below which it stops.
    pub low: f64,
}

impl FlapLimits {
    pub(crate) fn of(cfg: &EngineConfig) -> Self {
        FlapLimits {
            samples: cfg.flap_samples,
            high: cfg.flap_high,
            low: cfg.flap_low,
        }
    }
}

/// What happened when a raw state was fed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fed {
    /// Nothing to do (same as effective, or already pending).
    Nothing,
    /// A new pending state; call back at this deadline.
    Pending(UnixMillis),
    /// The effective state changed now.
    Committed { from: State, to: State },
}

/// One component's liveness: the raw state its signals give, the state declared after hold-down
/// and flap damping, and what that needs to remember.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Track {
    /// Observed at least once, or listed as monitored (else assumed up: nobody watches it).
    pub monitored: bool,
    /// The state the latest signals give, before hold-down.
    pub raw: State,
    /// The declared state (after hold-down and flap damping).
    pub effective: State,
    /// A state waiting out its hold-down, and since when.
    pub pending: Option<Timed<State>>,
    /// When the last sample arrived.
    pub last_seen: Option<UnixMillis>,
    /// When `effective` last changed.
    pub changed_at: UnixMillis,
    /// Last raw samples, newest in bit 0 (1 = not up), and how many are valid.
    history: u64,
    samples: u32,
    pub flapping: bool,
    /// A staleness deadline is queued for this component (at most one at a time).
    pub stale_armed: bool,
    /// `effective` last changed at an instant the engine's clock had already passed: the
    /// sample came late (a poller's buffered batches after a partition, `pollers.rs`), so an
    /// incident it opens keeps the sample's time, not the arrival's.
    #[serde(default)]
    pub late: bool,
}

impl Track {
    /// A component nobody has seen yet: unknown when monitored, else assumed up.
    pub fn new(monitored: bool) -> Self {
        let s = if monitored { State::Unknown } else { State::Up };
        Track {
            monitored,
            raw: s,
            effective: s,
            pending: None,
            last_seen: None,
            changed_at: 0,
            history: 0,
            samples: 0,
            flapping: false,
            stale_armed: false,
            late: false,
        }
    }

    /// Nagios-style percent state change over the last `n` samples, weighting recent changes
    /// more (0.8 for the oldest to 1.2 for the newest).
    fn percent_change(&self, n: u32) -> f64 {
        // Judge only a full window: two samples that differ are a change, not a flap.
        if self.samples < n || n < 2 {
            return 0.0;
        }
        let n = n.min(63);
        let mut total = 0.0;
        for i in 0..n - 1 {
            // bit i is newer than bit i+1
            let changed = ((self.history >> i) ^ (self.history >> (i + 1))) & 1 == 1;
            if changed {
                let age = i as f64 / (n - 2).max(1) as f64; // 0 newest .. 1 oldest
                total += 1.2 - 0.4 * age;
            }
        }
        100.0 * total / (n - 1) as f64
    }

    /// Feed one raw sample at `at`.
    pub fn feed(&mut self, raw: State, at: UnixMillis, hold: Hold, flap: FlapLimits) -> Fed {
        // A late sample (older than the last) does not move the last sighting back.
        self.last_seen = Some(self.last_seen.map_or(at, |l| l.max(at)));
        self.monitored = true;
        self.raw = raw;
        self.history = (self.history << 1) | u64::from(raw != State::Up);
        self.samples = self.samples.saturating_add(1);
        let pct = self.percent_change(u32::try_from(flap.samples).unwrap_or(u32::MAX));
        if !self.flapping && pct >= flap.high {
            self.flapping = true;
        } else if self.flapping && pct < flap.low {
            self.flapping = false;
        }
        // While flapping, recovery is not declared: the incident stays open and pages once.
        let target = if self.flapping && raw == State::Up {
            self.effective
        } else {
            raw
        };
        if target == self.effective {
            self.pending = None;
            return Fed::Nothing;
        }
        let wait = match target {
            // Unknown -> up is a first sighting (or data returning), not a recovery to hold.
            State::Up | State::Degraded if self.effective == State::Unknown => 0,
            // Working to partly failing (a service's partial outage) is a failure: held as one.
            State::Degraded if self.effective == State::Up => hold.down_ms,
            State::Up | State::Degraded => hold.up_ms,
            State::Down => hold.down_ms,
            State::Unknown => 0,
        };
        if wait == 0 {
            return self.commit(target, at);
        }
        match self.pending {
            Some(p) if p.value == target => Fed::Nothing,
            _ => {
                self.pending = Some(Timed::new(target, at));
                Fed::Pending(at + wait)
            }
        }
    }

    /// A hold deadline fired at `at`: commit if the pending state is still wanted.
    pub fn expire(&mut self, at: UnixMillis, hold: Hold) -> Fed {
        let Some(Timed {
            value: s,
            at: since,
        }) = self.pending
        else {
            return Fed::Nothing;
        };
        let wait = match s {
            State::Degraded if self.effective == State::Up => hold.down_ms,
            State::Up | State::Degraded => hold.up_ms,
            State::Down => hold.down_ms,
            State::Unknown => 0,
        };
        if since + wait <= at {
            self.commit(s, since + wait)
        } else {
            Fed::Nothing
        }
    }

    /// No data since `last_seen`: a monitored component becomes unknown.
    pub fn go_stale(&mut self, at: UnixMillis) -> Fed {
        self.raw = State::Unknown;
        if self.effective == State::Unknown {
            return Fed::Nothing;
        }
        self.commit(State::Unknown, at)
    }

    fn commit(&mut self, to: State, at: UnixMillis) -> Fed {
        let from = self.effective;
        self.effective = to;
        self.pending = None;
        self.changed_at = at;
        Fed::Committed { from, to }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAP: FlapLimits = FlapLimits {
        samples: 21,
        high: 30.0,
        low: 25.0,
    };

    #[test]
    fn hold_down_then_commit() {
        let mut t = Track::new(true);
        let h = Hold {
            down_ms: 10,
            up_ms: 20,
        };
        // A first sighting is not a recovery: no hold.
        assert!(matches!(
            t.feed(State::Up, 0, h, FLAP),
            Fed::Committed { to: State::Up, .. }
        ));
        assert_eq!(t.feed(State::Down, 100, h, FLAP), Fed::Pending(110));
        // A recovery before the hold expires cancels the pending failure.
        assert_eq!(t.feed(State::Up, 105, h, FLAP), Fed::Nothing);
        assert_eq!(t.expire(110, h), Fed::Nothing);
        assert_eq!(t.effective, State::Up);
    }

    #[test]
    fn flapping_holds_the_failure() {
        let mut t = Track::new(true);
        let h = Hold {
            down_ms: 0,
            up_ms: 0,
        };
        let mut commits = 0;
        for i in 0..30u64 {
            let s = if i % 2 == 0 { State::Down } else { State::Up };
            if let Fed::Committed { .. } = t.feed(s, i * 10, h, FLAP) {
                commits += 1;
            }
        }
        assert!(t.flapping);
        assert_eq!(t.effective, State::Down);
        // Flapping is judged on a full window (21 samples); after that, no more commits.
        assert!(
            commits <= 21,
            "flap damping never kicked in: {commits} commits"
        );
    }
}
