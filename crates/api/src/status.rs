//! `GET /api/v1/status`, `/services` and `/components`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{HaRole, IncidentKind, Severity, State, UnixMillis};

/// A service: what the dependency graph expects and what its probe observes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceStatus {
    /// Service id from the topology.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Tier from the topology (`critical`, `high`, `normal`, `low`).
    pub tier: String,
    /// Overall state: the observed probe and the dependencies together.
    pub state: State,
    /// What the dependency graph says the service should be.
    pub expected: State,
    /// What the service probe says (`unknown` without a probe or a fresh result).
    pub observed: State,
    /// The open incident affecting it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

/// Answer of `GET /api/v1/services`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServicesResponse {
    /// Every service of the topology, in topology order.
    pub services: Vec<ServiceStatus>,
}

/// A component (device, link, group or service) as the engine sees it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComponentStatus {
    /// Component id.
    pub id: String,
    /// `device`, `link`, `group`, `service` or `poller` (a zone's poller, `poller:<zone>`).
    pub kind: String,
    /// State in the graph (its own state and its dependencies).
    pub state: State,
    /// Its own state after hold-down and reachability (`unknown` when unreachable or stale).
    pub own: State,
    /// Whether anything polls or probes it.
    pub monitored: bool,
    /// Whether it changes state too often to be trusted.
    pub flapping: bool,
    /// Whether a failed device upstream hides it.
    pub unreachable: bool,
    /// When it was last observed (absent if never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<UnixMillis>,
    /// Its HA role, for devices reporting one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha_role: Option<HaRole>,
    /// Why its polls keep failing, while they do (`SNMP auth failure (3 failed polls): ...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Answer of `GET /api/v1/components`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComponentsResponse {
    /// Every component of the graph.
    pub components: Vec<ComponentStatus>,
}

/// How many components of each kind (`device`, `link`, ...) are in each state; states with no
/// component are absent.
pub type StateCounts = BTreeMap<String, BTreeMap<State, u64>>;

/// One open incident, in brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IncidentSummary {
    /// Incident id.
    pub id: String,
    /// What kind of root cause.
    pub kind: IncidentKind,
    /// Page severity.
    pub severity: Severity,
    /// One line for people.
    pub title: String,
    /// True while a maintenance window excuses it: recorded, not paged.
    pub suppressed: bool,
}

/// Pager outbox counters since the collector started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotifyStats {
    /// Entries accepted by their receiver.
    pub delivered: u64,
    /// Failed attempts that will be retried.
    pub retries: u64,
    /// Entries moved to the dead letters.
    pub dead_lettered: u64,
    /// Entries in the outbox now.
    pub pending: u64,
    /// Alertmanager re-posts of firing alerts.
    pub resent: u64,
}

/// The store's health: whether the journal, incidents and outbox can be written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoreStatus {
    /// True when the last write succeeded.
    pub healthy: bool,
    /// `ok`, or what is wrong since when (`degraded (disk_full) since ...: N failed
    /// operations, last at ...: error`).
    pub state: String,
    /// Failed store operations since the collector started.
    pub failures_total: u64,
    /// Observations received but not yet journaled (held back, not fed to the engine, while
    /// the journal cannot be written).
    pub journal_pending: u64,
}

/// Answer of `GET /api/v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusResponse {
    /// Topology name.
    pub topology: String,
    /// Seconds since this collector (re)started.
    pub uptime_s: u64,
    /// The engine's time: the instant of the last observation or tick.
    pub now: UnixMillis,
    /// Components per kind per state.
    #[schema(value_type = BTreeMap<String, BTreeMap<String, u64>>)]
    pub counts: StateCounts,
    /// Every service.
    pub services: Vec<ServiceStatus>,
    /// Open incidents, in brief.
    pub incidents: Vec<IncidentSummary>,
    /// Pager outbox counters.
    pub notify: NotifyStats,
    /// Deliveries given up on (in the store's dead letters).
    pub dead_letters: u64,
    /// Whether this collector runs the demo lab (`/api/v1/lab` answers).
    pub lab: bool,
    /// The store's health (absent from collectors older than this field).
    #[serde(default)]
    pub store: StoreStatus,
    /// Devices whose polls keep failing, and why (`SNMP auth failure (3 failed polls): ...`).
    #[serde(default)]
    pub problems: BTreeMap<String, String>,
}
