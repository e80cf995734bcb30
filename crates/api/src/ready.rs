//! `GET /api/v1/ready`: standby readiness of every active-standby group (issue #10).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::UnixMillis;

/// A verdict on one readiness check, or on a standby as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// It holds: the standby could take over as far as this tells.
    Ready,
    /// It fails: the standby could not take over (or not as the active does).
    NotReady,
    /// No fresh, present value to judge (stale, absent, no active member to compare with).
    Unknown,
}

impl Readiness {
    /// The verdict as shown: `ready`, `not ready`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::NotReady => "not ready",
            Readiness::Unknown => "unknown",
        }
    }
}

/// A value read for one check on one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckValue {
    /// The raw value as text (`2`, `AA11`; `absent` when the agent has no such object).
    pub value: String,
    /// The value as people read it (`notForwarding`), where the profile names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<String>,
    /// When it was read.
    pub at: UnixMillis,
    /// Older than the staleness limit: it does not count.
    pub stale: bool,
}

/// One readiness check of one standby, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReadyCheck {
    /// The check's name from the profile (`ip_forwarding`), `ha_role` for the HA role, or
    /// `interface <ifname>` for interface parity on a declared link.
    pub check: String,
    /// The rule it is judged by: `match_active`, `equal 1`, `not_equal 0`, `at_least 1`,
    /// `within_percent_of_active 10` (absent for `ha_role` and interface parity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The standby's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby: Option<CheckValue>,
    /// The active member's value of the same check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<CheckValue>,
    /// The verdict.
    pub verdict: Readiness,
    /// Why, for people: `ip_forwarding: fw-a forwarding, fw-b notForwarding`.
    pub detail: String,
    /// False when neither member has the object (`absent` on both), or a per-member rule
    /// fails on the active member too (how the group runs): it does not count.
    pub applies: bool,
}

/// A standby member and its checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StandbyReady {
    /// Device id.
    pub device: String,
    /// Its verdict now (before hold-downs): not ready if a check fails, unknown if one is
    /// unknown, else ready.
    pub verdict: Readiness,
    /// Since when it has had this verdict (for not ready: since the first failing poll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<UnixMillis>,
    /// Declared not ready (the hold-down passed): the group is degraded and a
    /// `standby_not_ready` incident is open (or merged into a failover incident).
    pub declared_not_ready: bool,
    /// Every check, failing ones first.
    pub checks: Vec<ReadyCheck>,
}

/// An active-standby group's readiness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GroupReady {
    /// Group id.
    pub group: String,
    /// Its active member, when exactly one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    /// Every other member, in topology order (unknown while no single active is known).
    pub standbys: Vec<StandbyReady>,
}

/// Answer of `GET /api/v1/ready`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReadyResponse {
    /// Every active-standby group of the topology, in topology order.
    pub groups: Vec<GroupReady>,
}
