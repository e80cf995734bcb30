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
//!   least [`EngineConfig::heartbeat_ms`] (half of `stale_after_ms`) older; else it is held;
//! - but a device's polled signals (its own and its interfaces', all but reachability, which
//!   another poller reports at its own pace) are its **group**: when the journal's thinning
//!   ([`Engine::thin`](crate::Engine::thin)) sees every member of a group in one received
//!   batch (one poll) and a member is due a heartbeat, one [`Signal::Steady`] after the
//!   device's last observation stands for all of them, and they are held. The engine takes a
//!   `Steady` as those repetitions (`steady.rs`): every signal of the device counts as seen,
//!   and the device and its links are fed again. A device seen in part (an interface gone
//!   from the poll, refused credentials), or back after its signals went stale, is judged key
//!   by key. Only the journal's thinning makes `Steady`s: [`Engine::ingest`](crate::Engine::ingest)
//!   judges key by key and takes the `Steady`s that come in the journal, so a replay cut into
//!   any batches takes the same stream.
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
//! What it saves: with the default window (180 s, heartbeat 90 s) and 60 s polls, a quiet
//! device costs one `Steady` every other poll instead of all its signals (a 16-interface
//! switch: 1 record instead of ~35); reachability and probes still cost a heartbeat per key.
//! An engine fed the journal's stream and one with thinning off
//! ([`EngineConfig::thinning`]) change the same states at the same instants, except that
//! silence is noticed up to one heartbeat earlier (`tests/thinning.rs`).
//!
//! Keys and values are kept as 64-bit hashes (a collision between two of a collector's
//! keys is ~10⁻⁹ at 10k devices; it could only hold back a change of one key whose value
//! equals the other's, and live and replay would still agree).

use std::collections::{BTreeMap, HashMap, HashSet};

use faultline_observe::{Observation, PollFailure, Signal, Subject, UnixMillis};
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
    /// Counted among its device's keys (`Group::keys`).
    member: bool,
}

/// One device's keys, judged together: a [`Signal::Steady`] stands for their repetitions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Group {
    /// How many keys of the device are members.
    keys: u32,
    /// When the last `Steady` was made or taken: every member counts as passed then.
    steady_at: UnixMillis,
}

/// The limits of the rule, from the engine configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    heartbeat_ms: u64,
    window: u32,
    /// `stale_after_ms`: a repetition this much after its key's last pass comes after the
    /// engine forgot the signal, and must be taken itself.
    stale_ms: u64,
    /// [`EngineConfig::thinning`]: off, everything passes.
    on: bool,
}

impl Rules {
    pub(crate) fn of(cfg: &EngineConfig) -> Self {
        Rules {
            heartbeat_ms: cfg.heartbeat_ms(),
            window: u32::try_from(cfg.flap_samples).unwrap_or(u32::MAX),
            stale_ms: cfg.stale_after_ms,
            on: cfg.thinning,
        }
    }
}

/// The rule's memory: the last passed observation per key, and each device's group.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Thinner {
    last: BTreeMap<u64, Passed>,
    #[serde(default)]
    groups: BTreeMap<u64, Group>,
}

/// What the rule makes of one observation of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// The observation is taken (else held back as a repetition).
    pub pass: bool,
    /// A [`Signal::Steady`] for the observation's device follows it, at its instant.
    pub steady: bool,
}

/// What the rule makes of one observation, before the batch is seen whole.
enum Offer {
    /// Never held (events, actions), or `CollectorStarted` (forget every key).
    Always { reset: bool },
    /// A state signal: its key and value hashes, and its device's group if it has one.
    Keyed {
        key: u64,
        value: u64,
        group: Option<u64>,
    },
    /// A `Steady` taken from the stream (a replay): its group's members count as passed.
    Steady { group: u64 },
}

/// Read and write access to the rule's memory: the memory itself, or an overlay over it that
/// leaves it unchanged ([`Thinner::would_pass`]).
trait Memory {
    fn key(&self, key: u64) -> Option<Passed>;
    fn set_key(&mut self, key: u64, passed: Passed);
    fn group(&self, group: u64) -> Group;
    fn set_group(&mut self, group: u64, value: Group);
    fn forget(&mut self);
}

impl Memory for Thinner {
    fn key(&self, key: u64) -> Option<Passed> {
        self.last.get(&key).copied()
    }
    fn set_key(&mut self, key: u64, passed: Passed) {
        self.last.insert(key, passed);
    }
    fn group(&self, group: u64) -> Group {
        self.groups.get(&group).copied().unwrap_or_default()
    }
    fn set_group(&mut self, group: u64, value: Group) {
        self.groups.insert(group, value);
    }
    fn forget(&mut self) {
        self.last.clear();
        self.groups.clear();
    }
}

/// Changes to a [`Thinner`] kept aside.
struct Overlay<'a> {
    base: &'a Thinner,
    keys: HashMap<u64, Passed>,
    groups: HashMap<u64, Group>,
    /// `CollectorStarted` was seen: the base no longer counts.
    forgotten: bool,
}

impl Memory for Overlay<'_> {
    fn key(&self, key: u64) -> Option<Passed> {
        match self.keys.get(&key) {
            Some(p) => Some(*p),
            None if self.forgotten => None,
            None => self.base.key(key),
        }
    }
    fn set_key(&mut self, key: u64, passed: Passed) {
        self.keys.insert(key, passed);
    }
    fn group(&self, group: u64) -> Group {
        match self.groups.get(&group) {
            Some(g) => *g,
            None if self.forgotten => Group::default(),
            None => self.base.group(group),
        }
    }
    fn set_group(&mut self, group: u64, value: Group) {
        self.groups.insert(group, value);
    }
    fn forget(&mut self) {
        self.keys.clear();
        self.groups.clear();
        self.forgotten = true;
    }
}

/// A member's repetition beyond the flap window: held, unless its group cannot stand for it.
struct Candidate {
    index: usize,
    group: u64,
    /// Its heartbeat is due: it passes unless a `Steady` stands for it.
    due: bool,
    /// It comes after its signal went stale: no `Steady` can stand for its group (the engine
    /// forgot what a `Steady` would refresh).
    stale: bool,
}

/// One group within a batch.
#[derive(Default)]
struct Seen {
    /// Distinct member keys seen in the batch.
    keys: HashSet<u64>,
    /// The last observation of the group in the batch.
    last: usize,
}

/// What the rule makes of one keyed observation on its own.
enum Decision {
    /// Taken: a first sighting, a change, or a repetition within the flap window.
    Pass(Passed),
    /// A repetition beyond the flap window; `due` when its heartbeat is due (its last pass,
    /// or its group's last `Steady`, is at least a heartbeat older).
    Repeat {
        next: Passed,
        due: bool,
        stale: bool,
    },
}

/// Decide one keyed observation given the key's last passed one and the instant its group
/// last stood for it.
fn decide(
    prev: Option<Passed>,
    value: u64,
    at: UnixMillis,
    vouched: UnixMillis,
    rules: Rules,
) -> Decision {
    let Some(p) = prev else {
        // A first sighting is no change: its repetitions are quiet at once.
        return Decision::Pass(Passed {
            value,
            at,
            repeats: u32::MAX,
            member: false,
        });
    };
    if p.value != value {
        return Decision::Pass(Passed {
            value,
            at,
            repeats: 0,
            ..p
        });
    }
    let repeats = p.repeats.saturating_add(1);
    if repeats <= rules.window {
        return Decision::Pass(Passed { at, repeats, ..p });
    }
    let since = at.saturating_sub(p.at.max(vouched));
    Decision::Repeat {
        next: Passed { repeats, ..p },
        due: since >= rules.heartbeat_ms,
        stale: since >= rules.stale_ms,
    }
}

/// Take a batch through the rule, in order. Members' repetitions are decided last, with the
/// batch seen whole: when `stand` and every member of a device was seen in the batch and one
/// of them is due a heartbeat, one `Steady` after the device's last observation stands for
/// them all and they are held; otherwise each passes on its own heartbeat, as any other key.
fn run(mem: &mut impl Memory, batch: &[Observation], rules: Rules, stand: Stand) -> Vec<Step> {
    let mut steps = vec![
        Step {
            pass: true,
            steady: false,
        };
        batch.len()
    ];
    if !rules.on {
        return steps;
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut seen: HashMap<u64, Seen> = HashMap::new();
    for (index, obs) in batch.iter().enumerate() {
        match classify(obs) {
            Offer::Always { reset } => {
                if reset {
                    // What came before the start is judged apart from what comes after.
                    let before = std::mem::take(&mut candidates);
                    settle(mem, batch, &mut steps, before, &seen);
                    seen.clear();
                    mem.forget();
                }
            }
            Offer::Steady { group } => {
                let mut g = mem.group(group);
                g.steady_at = g.steady_at.max(obs.at);
                mem.set_group(group, g);
            }
            Offer::Keyed { key, value, group } => {
                let prev = mem.key(key);
                let vouched = group.map_or(0, |g| mem.group(g).steady_at);
                let mut next = match decide(prev, value, obs.at, vouched, rules) {
                    Decision::Pass(next) => next,
                    Decision::Repeat { next, due, stale } => {
                        // Passed unless a `Steady` stands for it (decided with the batch):
                        // the batch's next repetition of the key is judged after this one.
                        let next = if due {
                            Passed { at: obs.at, ..next }
                        } else {
                            next
                        };
                        match group {
                            Some(group) if next.member && stand == Stand::Steady => {
                                candidates.push(Candidate {
                                    index,
                                    group,
                                    due,
                                    stale,
                                });
                            }
                            _ => steps[index].pass = due,
                        }
                        next
                    }
                };
                if let Some(group) = group {
                    if !next.member {
                        next.member = true;
                        let mut g = mem.group(group);
                        g.keys = g.keys.saturating_add(1);
                        mem.set_group(group, g);
                    }
                    let s = seen.entry(group).or_default();
                    s.keys.insert(key);
                    s.last = index;
                }
                mem.set_key(key, next);
            }
        }
    }
    settle(mem, batch, &mut steps, candidates, &seen);
    steps
}

/// Decide the batch's member repetitions (see [`run`]).
fn settle(
    mem: &mut impl Memory,
    batch: &[Observation],
    steps: &mut [Step],
    candidates: Vec<Candidate>,
    seen: &HashMap<u64, Seen>,
) {
    // Groups whose members were all seen, of which one is due and none stale: a `Steady`
    // stands for them. Per group: (any due, any stale).
    let mut judged: HashMap<u64, (bool, bool)> = HashMap::new();
    for c in &candidates {
        let (due, stale) = judged.entry(c.group).or_insert((false, false));
        *due |= c.due;
        *stale |= c.stale;
    }
    let standing: HashMap<u64, bool> = judged
        .into_iter()
        .map(|(group, (due, stale))| {
            let whole = seen
                .get(&group)
                .is_some_and(|s| s.keys.len() >= mem.group(group).keys as usize);
            (group, whole && due && !stale)
        })
        .collect();
    for (group, stands) in &standing {
        if !*stands {
            continue;
        }
        if let Some(s) = seen.get(group) {
            steps[s.last].steady = true;
            let mut g = mem.group(*group);
            g.steady_at = g.steady_at.max(batch[s.last].at);
            mem.set_group(*group, g);
        }
    }
    for c in candidates {
        let held = standing.get(&c.group).copied().unwrap_or(false);
        steps[c.index].pass = c.due && !held;
    }
}

/// Whether a batch's repetitions may be stood for by a `Steady`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stand {
    /// Yes: the batch is one the shell received (polls), thinned for the journal.
    Steady,
    /// No, key by key: the batch is the journal's (a `Steady` made when it was thinned comes
    /// with it) or a stream fed whole. Whether a device was seen whole depends on how its
    /// observations were batched, which a replay does not repeat.
    PerKey,
}

impl Thinner {
    /// Take a batch through the rule, remembering what it passed. Key by key: `Steady`s are
    /// made only by [`would_pass`](Self::would_pass) (the journal's thinning) and come in
    /// the batch, so the outcome does not depend on how a replay cuts the stream.
    pub(crate) fn take(&mut self, batch: &[Observation], rules: Rules) -> Vec<Step> {
        run(self, batch, rules, Stand::PerKey)
    }

    /// What the journal's thinning makes of `batch` as received, without changing the
    /// memory: what [`take`](Self::take) does, but a device seen whole in the batch is stood
    /// for by a `Steady`. Taking what it keeps (with the `Steady`s) passes all of it.
    pub(crate) fn would_pass(&self, batch: &[Observation], rules: Rules) -> Vec<Step> {
        let mut overlay = Overlay {
            base: self,
            keys: HashMap::new(),
            groups: HashMap::new(),
            forgotten: false,
        };
        run(&mut overlay, batch, rules, Stand::Steady)
    }
}

/// The device whose group a subject's signals belong to.
fn device_of(subject: &Subject) -> Option<&str> {
    match subject {
        Subject::Device { device } | Subject::Interface { device, .. } => Some(device),
        Subject::Service { .. } => None,
    }
}

/// A `Steady` for the device of `obs` at its instant.
pub(crate) fn steady_after(obs: &Observation) -> Observation {
    let device = device_of(&obs.subject).unwrap_or_default();
    Observation::new(obs.at, Subject::device(device), Signal::Steady)
}

/// The key class and the value the engine uses, or `Always`.
fn classify(obs: &Observation) -> Offer {
    // A device's polled signals are judged together (`Steady`); reachability comes from
    // another poller at another pace, probes are services'.
    let group = device_of(&obs.subject).map(hash_of);
    let keyed = |class: &str, value: u64| Offer::Keyed {
        key: hash_of((&obs.subject, class)),
        value,
        group,
    };
    let alone = |class: &str, value: u64| Offer::Keyed {
        key: hash_of((&obs.subject, class)),
        value,
        group: None,
    };
    match &obs.signal {
        Signal::Reachability { ok, .. } => alone("reach", hash_of(ok)),
        // Agent verdicts share a key: up and down are values of one signal. Refused
        // credentials and local failures leave the engine's agent verdict as it was, so a
        // `Steady` could not stand for them: their device is judged key by key meanwhile.
        Signal::AgentUp => keyed("agent", hash_of(None::<u8>)),
        Signal::AgentDown {
            reason: reason @ (PollFailure::AuthFailure | PollFailure::Local),
        } => alone("agent", hash_of(Some(*reason as u8))),
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
            group,
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
            group: None,
            key: hash_of((&obs.subject, "probe", zone)),
            value: hash_of((ok, status, detail)),
        },
        Signal::CollectorStarted => Offer::Always { reset: true },
        Signal::Steady => match group {
            Some(group) => Offer::Steady { group },
            None => Offer::Always { reset: false },
        },
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

    fn passes(steps: &[Step]) -> Vec<bool> {
        steps.iter().map(|s| s.pass).collect()
    }

    fn steadies(steps: &[Step]) -> Vec<bool> {
        steps.iter().map(|s| s.steady).collect()
    }

    /// As the collector does with a batch: thin it for the journal, then take what is kept,
    /// which must pass whole.
    fn journal(t: &mut Thinner, batch: &[Observation], rules: Rules) -> Vec<Step> {
        let steps = t.would_pass(batch, rules);
        let taken = t.take(&kept(batch, &steps), rules);
        assert!(taken.iter().all(|s| s.pass && !s.steady), "{taken:?}");
        steps
    }

    /// Each observation its own batch (one poll each).
    fn one_by_one(t: &mut Thinner, stream: &[Observation], rules: Rules) -> Vec<Step> {
        stream
            .iter()
            .map(|o| journal(t, std::slice::from_ref(o), rules)[0])
            .collect()
    }

    /// What `Engine::thin` keeps: the passed observations and the `Steady`s.
    fn kept(stream: &[Observation], steps: &[Step]) -> Vec<Observation> {
        let mut kept = Vec::new();
        for (o, s) in stream.iter().zip(steps) {
            if s.pass {
                kept.push(o.clone());
            }
            if s.steady {
                kept.push(steady_after(o));
            }
        }
        kept
    }

    #[test]
    fn changes_pass_repeats_only_in_the_window_and_a_steady_stands_for_heartbeats() {
        let rules = Rules {
            heartbeat_ms: 90_000,
            window: 2,
            stale_ms: 180_000,
            on: true,
        };
        let mut t = Thinner::default();
        let stream: Vec<_> = (0..5u64)
            .map(|i| ifc(i * 60_000, IfStatus::Up))
            .chain((5..10u64).map(|i| ifc(i * 60_000, IfStatus::Down)))
            .collect();
        let steps = one_by_one(&mut t, &stream, rules);
        // Up: 0 a first sighting (quiet at once), 60 held, 120 due a heartbeat (120 after 0):
        // the device's only key was seen, so a `Steady` stands for it; 180 held (60 after the
        // `Steady`), 240 a `Steady`. Down: 300 a change, 360 and 420 in the flap window, 480
        // held, 540 a `Steady` (120 after 420).
        let (t_, f) = (true, false);
        assert_eq!(passes(&steps), [t_, f, f, f, f, t_, t_, t_, f, f]);
        assert_eq!(steadies(&steps), [f, f, t_, f, t_, f, f, f, f, t_]);
        // Idempotent: the kept stream (with its `Steady`s) thins to itself and leaves the
        // same memory.
        let kept = kept(&stream, &steps);
        let mut again = Thinner::default();
        let steps = again.take(&kept, rules);
        assert!(steps.iter().all(|s| s.pass && !s.steady), "{steps:?}");
        assert_eq!(again.groups, t.groups);
    }

    /// A device of which only part reports (an interface gone from the poll) cannot be stood
    /// for: the rest passes key by key on its own heartbeat, and nothing goes stale.
    #[test]
    fn a_device_seen_in_part_falls_back_to_heartbeats_per_key() {
        let rules = Rules {
            heartbeat_ms: 90_000,
            window: 0,
            stale_ms: 180_000,
            on: true,
        };
        let port = |at: UnixMillis, name: &str| {
            Observation::new(
                at,
                Subject::interface("sw", name),
                Signal::Interface {
                    oper: IfStatus::Up,
                    admin: IfStatus::Up,
                    last_change_cs: None,
                },
            )
        };
        let mut t = Thinner::default();
        let whole = |at| vec![port(at, "e1"), port(at, "e2")];
        journal(&mut t, &whole(0), rules);
        let steps = journal(&mut t, &whole(120_000), rules);
        assert_eq!(passes(&steps), [false, false]);
        assert_eq!(steadies(&steps), [false, true], "one Steady after the last");
        // e2 is gone: e1 alone is not the device.
        let steps = journal(&mut t, &[port(240_000, "e1")], rules);
        assert_eq!(passes(&steps), [true]);
        assert_eq!(steadies(&steps), [false]);
    }

    /// Refused credentials leave the engine's agent verdict as it was, so a `Steady` cannot
    /// stand for the device while they repeat: its keys pass on their own heartbeats.
    #[test]
    fn refused_credentials_are_judged_key_by_key() {
        let rules = Rules {
            heartbeat_ms: 90_000,
            window: 0,
            stale_ms: 180_000,
            on: true,
        };
        let agent = |at, signal| Observation::new(at, Subject::device("sw"), signal);
        let refused = |at| {
            agent(
                at,
                Signal::AgentDown {
                    reason: PollFailure::AuthFailure,
                },
            )
        };
        let mut t = Thinner::default();
        journal(
            &mut t,
            &[ifc(0, IfStatus::Up), agent(0, Signal::AgentUp)],
            rules,
        );
        // A change, then the same refusal again.
        let steps = journal(&mut t, &[ifc(60_000, IfStatus::Up), refused(60_000)], rules);
        assert_eq!(passes(&steps), [false, true]);
        let steps = journal(
            &mut t,
            &[ifc(120_000, IfStatus::Up), refused(120_000)],
            rules,
        );
        assert_eq!(passes(&steps), [true, false]);
        assert_eq!(steadies(&steps), [false, false]);
        // Answering again, the device is whole: a `Steady` stands for it.
        let whole = |at| [ifc(at, IfStatus::Up), agent(at, Signal::AgentUp)];
        journal(&mut t, &whole(180_000), rules);
        let steps = journal(&mut t, &whole(240_000), rules);
        assert_eq!(passes(&steps), [false, false]);
        assert_eq!(steadies(&steps), [false, true]);
        // Unless it comes back after its signals went stale: then each is taken itself.
        let steps = journal(&mut t, &whole(480_000), rules);
        assert_eq!(passes(&steps), [true, true]);
        assert_eq!(steadies(&steps), [false, false]);
    }

    #[test]
    fn collector_start_forgets_every_key() {
        let rules = Rules {
            heartbeat_ms: 90_000,
            window: 0,
            stale_ms: 180_000,
            on: true,
        };
        let start = Observation::new(61_000, Subject::device(""), Signal::CollectorStarted);
        let batch = [ifc(0, IfStatus::Up), ifc(60_000, IfStatus::Up)];
        assert_eq!(
            passes(&Thinner::default().would_pass(&batch, rules)),
            [true, false]
        );
        let batch = [batch[0].clone(), start, ifc(62_000, IfStatus::Up)];
        assert_eq!(
            passes(&Thinner::default().would_pass(&batch, rules)),
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
            stale_ms: 180_000,
            on: true,
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
            passes(&Thinner::default().would_pass(&batch, rules)),
            [true, true, false, false]
        );
    }
}
