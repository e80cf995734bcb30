//! Engine tuning. Every duration is in milliseconds; defaults suit 30–60 s polling.

use faultline_observe::UnixMillis;
use serde::{Deserialize, Serialize};

/// Hold-down per direction: a new state must persist this long before it is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    /// Before declaring a failure (absorbs one lost poll, lets re-polls of parents arrive).
    #[serde(default = "default_down")]
    pub down_ms: u64,
    /// Before declaring recovery (`keep_firing_for`: a flapping data gap does not resolve pages).
    #[serde(default = "default_up")]
    pub up_ms: u64,
}

fn default_down() -> u64 {
    15_000
}
fn default_up() -> u64 {
    60_000
}

impl Default for Hold {
    fn default() -> Self {
        Hold {
            down_ms: default_down(),
            up_ms: default_up(),
        }
    }
}

/// A maintenance window: pages suppressed, records kept (Checkmk BI's rule applies: it excuses
/// only what the maintained components' failure would take down).
///
/// In a configuration file `from` and `to` are milliseconds since the epoch, RFC 3339 strings
/// or TOML datetimes with an offset (`from = 2026-11-29T22:00:00+01:00`), and `for = "2h"`
/// (a human duration) may stand instead of `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMaintenance")]
pub struct Maintenance {
    /// Topology ids of the components under maintenance.
    pub components: Vec<String>,
    /// Start of the window (inclusive).
    pub from: UnixMillis,
    /// End of the window (exclusive).
    pub to: UnixMillis,
    /// Why, for people.
    #[serde(default)]
    pub reason: String,
}

/// An instant as written in a configuration: milliseconds, an RFC 3339 string, or a TOML
/// datetime (which reaches serde as a one-key map).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawInstant {
    Millis(UnixMillis),
    Text(String),
    TomlDatetime {
        #[serde(rename = "$__toml_private_datetime")]
        text: String,
    },
}

impl RawInstant {
    fn millis(self, field: &str) -> Result<UnixMillis, String> {
        match self {
            RawInstant::Millis(ms) => Ok(ms),
            RawInstant::Text(t) | RawInstant::TomlDatetime { text: t } => {
                faultline_observe::time::parse_rfc3339(&t).map_err(|e| {
                    format!("maintenance `{field}`: {e} (give a date, a time and an offset)")
                })
            }
        }
    }
}

/// [`Maintenance`] as written: `to` or `for`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaintenance {
    components: Vec<String>,
    from: RawInstant,
    #[serde(default)]
    to: Option<RawInstant>,
    #[serde(default, rename = "for")]
    duration: Option<String>,
    #[serde(default)]
    reason: String,
}

impl TryFrom<RawMaintenance> for Maintenance {
    type Error = String;

    fn try_from(raw: RawMaintenance) -> Result<Maintenance, String> {
        let from = raw.from.millis("from")?;
        let to = match (raw.to, raw.duration) {
            (Some(to), None) => to.millis("to")?,
            (None, Some(d)) => {
                let d = humantime::parse_duration(&d)
                    .map_err(|e| format!("maintenance `for = \"{d}\"`: {e}"))?;
                from.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            }
            _ => return Err("a maintenance window needs exactly one of `to` and `for`".into()),
        };
        if to <= from {
            return Err("a maintenance window must end after it starts".into());
        }
        Ok(Maintenance {
            components: raw.components,
            from,
            to,
            reason: raw.reason,
        })
    }
}

/// How the engine weighs time: hold-downs, staleness, flap damping, the failover window,
/// maintenance and which components are watched. Part of a snapshot's fingerprint: a snapshot
/// taken with another configuration is not restored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Device liveness (ICMP, SNMP agent, HA role failed).
    pub device: Hold,
    /// Interfaces / links.
    pub link: Hold,
    /// Service probes.
    pub probe: Hold,
    /// No data for this long makes a monitored component **unknown**, never up.
    pub stale_after_ms: u64,
    /// Flap detection over the last `flap_samples` raw states (Nagios weighting).
    pub flap_samples: usize,
    /// Percent state change at which a component starts flapping.
    pub flap_high: f64,
    /// Percent state change below which a flapping component stops flapping.
    pub flap_low: f64,
    /// A role change this recent counts as "the failover" when a service fails.
    pub failover_window_ms: u64,
    /// Maintenance windows: pages suppressed, records kept.
    pub maintenance: Vec<Maintenance>,
    /// Ids of monitored components. Components never observed and not listed here are assumed
    /// up (nobody watches them); listed ones start **unknown** until their first observation.
    pub monitored: Vec<String>,
    /// Bound on the in-memory timeline (the store keeps everything).
    pub timeline_capacity: usize,
    /// How long a new incident waits for its verdict to settle: a failure whose dependencies
    /// are still waiting out their own hold-down waits for them (it may be their consequence,
    /// not a root cause), and a first page waits for the classification to settle. Engine
    /// time, so replay is exact.
    pub settle_ms: u64,
    /// Thinning (the engine's `thin.rs`): repetitions that change nothing are held back from
    /// the journal and the engine. Off, every observation is journaled and taken, which costs
    /// disk and exists to compare against.
    pub thinning: bool,
    /// In the distributed shape, a zone's poller whose last heartbeat is older than this is
    /// stale: its zone's devices and probe results are unknown, never down (`pollers.rs`).
    /// Three heartbeats of `faultline poller` (every 5 s).
    pub poller_stale_after_ms: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            device: Hold::default(),
            link: Hold {
                down_ms: 10_000,
                up_ms: 60_000,
            },
            probe: Hold {
                down_ms: 20_000,
                up_ms: 60_000,
            },
            stale_after_ms: 180_000,
            flap_samples: 21,
            flap_high: 30.0,
            flap_low: 25.0,
            failover_window_ms: 15 * 60_000,
            maintenance: Vec::new(),
            monitored: Vec::new(),
            timeline_capacity: 10_000,
            settle_ms: 5_000,
            thinning: true,
            poller_stale_after_ms: 15_000,
        }
    }
}

impl EngineConfig {
    /// The heartbeat of thinning (`thin.rs`): an observation that repeats the last one passed
    /// for its key passes again once this much older. Half the staleness window, so that a
    /// device that keeps answering the same is never judged stale, whatever its poll interval.
    pub fn heartbeat_ms(&self) -> u64 {
        self.stale_after_ms / 2
    }

    /// No hold-downs: every observation takes effect at once. For what-if replays and tests of
    /// semantics that are not about timing.
    pub fn immediate() -> Self {
        let zero = Hold {
            down_ms: 0,
            up_ms: 0,
        };
        EngineConfig {
            device: zero,
            link: zero,
            probe: zero,
            settle_ms: 0,
            ..Default::default()
        }
    }
}
