//! Thinning: observations that change nothing are not taken one by one.
//!
//! A quiet network repeats itself: every poll reports the same interface states, the same
//! agent verdict, the same HA role. Journaling each repetition cost ~0.5 KB per observation
//! (issue #14). The rule, keyed by (subject, signal kind):
//!
//! - an observation **passes** when the part of its value the engine uses differs from the
//!   last one passed for its key (a change);
//! - a repetition passes while fewer than `flap_samples` repetitions followed the key's last
//!   change (the flap window, below; a key's first sighting is not a change);
//! - otherwise it passes only as a **heartbeat**: when the last one passed for its key is at
//!   least [`EngineConfig::heartbeat_ms`] (half of `stale_after_ms`) older; else it is held.
//!
//! Events and actions are never held (reboots, traps, cabling, operators' actions, clock
//! markers); `CollectorStarted` forgets every key, so the first poll after a start is taken
//! whole.
//!
//! # Why the engine itself applies the rule
//!
//! The engine is a deterministic function of its journaled stream, so the collector thins
//! *before* the journal ([`Engine::thin`](crate::Engine::thin)) and the journal holds exactly
//! what the engine takes. The engine also applies the same rule inside
//! [`Engine::ingest`](crate::Engine::ingest) (a held observation only moves the clock, which is
//! output-neutral). The rule is idempotent (a thinned stream thins to itself), so an engine fed
//! the full stream and one fed the thinned stream are in the same state after every
//! observation: same incidents, transitions, times. What the engine would need repetitions for,
//! and why it does not:
//!
//! - **Staleness** (`stale_after_ms`): a component goes unknown when no observation *passed*
//!   for that long. While a device keeps answering unchanged, its keys pass at least every
//!   heartbeat plus one poll interval, which is under `stale_after_ms` whatever the poll
//!   interval (with the heartbeat at half the window: a poll interval shorter than the
//!   heartbeat gives less than two heartbeats; a longer one passes every sample). A device
//!   that falls silent goes unknown `stale_after_ms` after its last passed observation, the
//!   same instant for the full and the thinned stream, at most one heartbeat earlier than the
//!   engine before thinning judged it.
//! - **Signal freshness** (device and link votes use only fresh signals): the same argument,
//!   per key.
//! - **Flap detection** counts raw samples (Nagios' percent state change over the last
//!   `flap_samples`): repetitions right after a change are passed until the window is full of
//!   them, so a window that holds a change holds the same samples as before thinning; once a
//!   key has been quiet for a full window, further repetitions change no flap state.
//! - **Hold-downs** are time-based (a pending state commits at `since + hold` when the
//!   deadline fires), not counted: repetitions are not needed.
//! - **HA roles, readiness facts, probes**: their values are compared whole (role, peer view,
//!   sync; fact, shown value, rule; probe verdict, status, detail), so every change passes.
//! - **Traffic rates** are kept for suspects' evidence ("no traffic through it since it became
//!   active"), which asks whether anything flows: the key's value is whether the rate is flat.
//! - **Uptime** is not used by the engine (reboots arrive as `Rebooted`): heartbeats only.
//! - **Counters** are turned into rates by the pollers before they become observations.
//!
//! What it saves: with the default window (180 s, heartbeat 90 s) and 60 s polls, every other
//! repetition is held back (about half of a quiet network's observations); a longer
//! `stale_after_ms` holds back more, at the price of noticing silence later. Going further
//! without that price needs one heartbeat per device standing for all of its keys (not done).
//!
//! Keys and values are kept as 64-bit hashes (a collision between two of a collector's
//! keys is ~10⁻⁹ at 10k devices; it could only hold back a change of one key whose value
//! equals the other's, and live and replay would still agree).

use std::collections::{BTreeMap, HashMap};

use faultline_observe::{Observation, Signal, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::EngineConfig;
use crate::fnv::hash_of;
use crate::signals::Rate;

/// The last observation passed for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Passed {
    /// Hash of the value the engine uses.
    value: u64,
    /// When it was passed.
    at: UnixMillis,
    /// Repetitions seen (passed or held) since the key's last change.
    repeats: u32,
}

/// The limits of the rule, from the engine configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    heartbeat_ms: u64,
    window: u32,
}

impl Rules {
    pub(crate) fn of(cfg: &EngineConfig) -> Self {
        Rules {
            heartbeat_ms: cfg.heartbeat_ms(),
            window: u32::try_from(cfg.flap_samples).unwrap_or(u32::MAX),
        }
    }
}

/// The rule's memory: the last passed observation per key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Thinner {
    last: BTreeMap<u64, Passed>,
}

/// What the rule makes of one observation.
enum Offer {
    /// Never held (events, actions), or `CollectorStarted` (forget every key).
    Always { reset: bool },
    /// A state signal: its key and value hashes.
    Keyed { key: u64, value: u64 },
}

/// Decide one keyed observation given the key's last passed one: pass or not, and the key's
/// new memory.
fn decide(prev: Option<Passed>, value: u64, at: UnixMillis, rules: Rules) -> (bool, Passed) {
    let fresh = Passed {
        value,
        at,
        repeats: 0,
    };
    let Some(p) = prev else {
        // A first sighting is no change: its repetitions are quiet at once.
        return (
            true,
            Passed {
                repeats: u32::MAX,
                ..fresh
            },
        );
    };
    if p.value != value {
        return (true, fresh);
    }
    let repeats = p.repeats.saturating_add(1);
    if repeats <= rules.window || at.saturating_sub(p.at) >= rules.heartbeat_ms {
        (true, Passed { at, repeats, ..p })
    } else {
        (false, Passed { repeats, ..p })
    }
}

impl Thinner {
    /// Take one observation through the rule; whether it passes.
    pub(crate) fn offer(&mut self, obs: &Observation, rules: Rules) -> bool {
        match classify(obs) {
            Offer::Always { reset } => {
                if reset {
                    self.last.clear();
                }
                true
            }
            Offer::Keyed { key, value } => {
                let (pass, next) = decide(self.last.get(&key).copied(), value, obs.at, rules);
                self.last.insert(key, next);
                pass
            }
        }
    }

    /// Which observations of `batch` [`offer`](Self::offer) would pass, in order, without
    /// changing the memory.
    pub(crate) fn would_pass(&self, batch: &[Observation], rules: Rules) -> Vec<bool> {
        let mut overlay: HashMap<u64, Passed> = HashMap::new();
        let mut reset = false;
        batch
            .iter()
            .map(|obs| match classify(obs) {
                Offer::Always { reset: r } => {
                    if r {
                        reset = true;
                        overlay.clear();
                    }
                    true
                }
                Offer::Keyed { key, value } => {
                    let prev = overlay
                        .get(&key)
                        .copied()
                        .or_else(|| (!reset).then(|| self.last.get(&key).copied()).flatten());
                    let (pass, next) = decide(prev, value, obs.at, rules);
                    overlay.insert(key, next);
                    pass
                }
            })
            .collect()
    }
}

/// The key class and the value the engine uses, or `Always`.
fn classify(obs: &Observation) -> Offer {
    let keyed = |class: &str, value: u64| Offer::Keyed {
        key: hash_of((&obs.subject, class)),
        value,
    };
    match &obs.signal {
        Signal::Reachability { ok, .. } => keyed("reach", hash_of(ok)),
        // Agent verdicts share a key: up and down are values of one signal.
        Signal::AgentUp => keyed("agent", hash_of(None::<u8>)),
        Signal::AgentDown { reason } => keyed("agent", hash_of(Some(*reason as u8))),
        Signal::Uptime { .. } => keyed("uptime", 0),
        Signal::Interface { oper, admin, .. } => keyed("interface", hash_of((oper, admin))),
        Signal::Traffic { in_bps, out_bps } => {
            let rate = Rate {
                in_bps: *in_bps,
                out_bps: *out_bps,
            };
            keyed("traffic", hash_of(rate.is_flat()))
        }
        Signal::HaRole {
            role,
            peer,
            in_sync,
        } => keyed("ha_role", hash_of((role, peer, in_sync))),
        Signal::Readiness {
            check,
            value,
            shown,
            rule,
        } => Offer::Keyed {
            key: hash_of((&obs.subject, "readiness", check)),
            // Facts and rules carry floats and have no `Hash`: their JSON is their identity.
            value: hash_of(serde_json::to_string(&(value, shown, rule)).unwrap_or_default()),
        },
        // Each vantage zone's results are their own series (`vantage`): one zone's repeat is
        // not another's.
        Signal::Probe {
            ok,
            status,
            detail,
            zone,
            ..
        } => Offer::Keyed {
            key: hash_of((&obs.subject, "probe", zone)),
            value: hash_of((ok, status, detail)),
        },
        Signal::CollectorStarted => Offer::Always { reset: true },
        // A poller's heartbeat is what tells a live poller from a silent one (`pollers.rs`):
        // each one counts, so none is held back (a few per zone and minute).
        Signal::PollerHeartbeat { .. }
        | Signal::Rebooted { .. }
        | Signal::RawTrap { .. }
        | Signal::Cabling { .. }
        | Signal::ClockAdvance
        | Signal::Acknowledge { .. }
        | Signal::Unacknowledge { .. }
        | Signal::MaintenanceStart { .. }
        | Signal::MaintenanceEnd { .. } => Offer::Always { reset: false },
    }
}

#[cfg(test)]
mod tests {
    use faultline_observe::{IfStatus, Subject};

    use super::*;

    fn ifc(at: UnixMillis, oper: IfStatus) -> Observation {
        Observation::new(
            at,
            Subject::interface("sw", "e1"),
            Signal::Interface {
                oper,
                admin: IfStatus::Up,
                last_change_cs: Some(at),
            },
        )
    }

    #[test]
    fn changes_pass_repeats_only_in_the_window_and_as_heartbeats() {
        let rules = Rules {
            heartbeat_ms: 90_000,
            window: 2,
        };
        let mut t = Thinner::default();
        let stream: Vec<_> = (0..5u64)
            .map(|i| ifc(i * 60_000, IfStatus::Up))
            .chain((5..10u64).map(|i| ifc(i * 60_000, IfStatus::Down)))
            .collect();
        let predicted = t.would_pass(&stream, rules);
        let passed: Vec<bool> = stream.iter().map(|o| t.offer(o, rules)).collect();
        assert_eq!(predicted, passed);
        // Up: 0 a first sighting (quiet at once), 60 held, 120 a heartbeat (120 after 0), 180
        // held, 240 a heartbeat. Down: 300 a change, 360 and 420 in the flap window, 480 held,
        // 540 a heartbeat (120 after 420).
        assert_eq!(
            passed,
            [
                true, false, true, false, true, true, true, true, false, true
            ]
        );
        // Idempotent: the passed stream thins to itself.
        let kept: Vec<_> = stream
            .iter()
            .zip(&passed)
            .filter(|(_, p)| **p)
            .map(|(o, _)| o.clone())
            .collect();
        let again = Thinner::default().would_pass(&kept, rules);
        assert!(again.iter().all(|p| *p));
    }

    #[test]
    fn collector_start_forgets_every_key() {
        let rules = Rules {
            heartbeat_ms: 90_000,
            window: 0,
        };
        let start = Observation::new(61_000, Subject::device(""), Signal::CollectorStarted);
        let batch = [ifc(0, IfStatus::Up), ifc(60_000, IfStatus::Up)];
        assert_eq!(Thinner::default().would_pass(&batch, rules), [true, false]);
        let batch = [batch[0].clone(), start, ifc(62_000, IfStatus::Up)];
        assert_eq!(
            Thinner::default().would_pass(&batch, rules),
            [true, true, true]
        );
    }

    /// Two zones probing one service are two series: the outside zone's first result after
    /// the inside zone's identical one is not a repeat (else the outside zone's state would
    /// only be refreshed by heartbeats and could go stale while it answers).
    #[test]
    fn each_vantage_zone_is_its_own_series() {
        let rules = Rules {
            heartbeat_ms: 90_000,
            window: 0,
        };
        let probe = |at: UnixMillis, zone: &str| {
            Observation::new(
                at,
                Subject::service("portal"),
                Signal::Probe {
                    ok: true,
                    status: Some(200),
                    latency_ms: 3.0,
                    detail: None,
                    zone: Some(zone.to_owned()),
                },
            )
        };
        let batch = [
            probe(0, "inside"),
            probe(1, "outside"),
            probe(60_000, "inside"),
            probe(60_001, "outside"),
        ];
        assert_eq!(
            Thinner::default().would_pass(&batch, rules),
            [true, true, false, false]
        );
    }
}
