//! Types shared by several responses: states, instants, errors.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An instant as Unix milliseconds (UTC). Shown to people with its zone, never as a bare clock.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = u64, example = 1_764_300_472_000_u64)]
pub struct UnixMillis(pub u64);

impl From<u64> for UnixMillis {
    fn from(ms: u64) -> Self {
        UnixMillis(ms)
    }
}

/// The state of a component or service.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Working, with all redundancy intact.
    #[default]
    Up,
    /// Still working, but something it depends on has failed: redundancy consumed.
    Degraded,
    /// Not working.
    Down,
    /// Not known (stale or unreachable data). Never counted as working.
    Unknown,
}

impl State {
    /// The wire name: `up`, `degraded`, `down`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Up => "up",
            State::Degraded => "degraded",
            State::Down => "down",
            State::Unknown => "unknown",
        }
    }

    /// The state with this wire name, if any.
    pub fn from_name(name: &str) -> Option<State> {
        [State::Up, State::Degraded, State::Down, State::Unknown]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// High-availability role of one member of a redundancy group, as its device reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HaRole {
    /// Carries the traffic.
    Active,
    /// Ready to take over.
    Standby,
    /// Changing role (election, sync in progress).
    Transition,
    /// The HA subsystem reports this member as failed.
    Failed,
    /// HA not configured on this device.
    Standalone,
    /// The device reports a role faultline does not know.
    Unknown,
}

/// The body of every non-2xx JSON answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiError {
    /// What went wrong, for people (e.g. `unknown component `portl` (did you mean `portal`?)`).
    pub error: String,
}
