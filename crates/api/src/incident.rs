//! `GET /api/v1/incidents`: incidents with their suspects and evidence.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{State, UnixMillis};

/// What kind of root cause an incident describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// A component failed and at least one service is down because of it.
    ServiceDown,
    /// A component failed, redundancy absorbed it: services are degraded, not down.
    RedundancyLost,
    /// A service probe fails while the graph says redundancy should carry the service.
    FailoverIneffective,
    /// A service probe fails and nothing in the service's dependency closure failed.
    UnexplainedServiceFailure,
    /// An active-standby group has more than one active member.
    SplitBrain,
    /// A standby member could not take over: a readiness check fails while all still works.
    StandbyNotReady,
    /// The cabling LLDP/CDP show differs from the declared links.
    TopologyDrift,
    /// A service fails from some vantage zones and works from others.
    PartialOutage,
}

impl IncidentKind {
    /// The wire name, e.g. `failover_ineffective`.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::ServiceDown => "service_down",
            IncidentKind::RedundancyLost => "redundancy_lost",
            IncidentKind::FailoverIneffective => "failover_ineffective",
            IncidentKind::UnexplainedServiceFailure => "unexplained_service_failure",
            IncidentKind::SplitBrain => "split_brain",
            IncidentKind::StandbyNotReady => "standby_not_ready",
            IncidentKind::TopologyDrift => "topology_drift",
            IncidentKind::PartialOutage => "partial_outage",
        }
    }
}

impl fmt::Display for IncidentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Page severity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record.
    Info,
    /// Redundancy lost: act before the second failure.
    Warning,
    /// A service impaired below critical tier.
    Error,
    /// A service down (or a failover that did not help).
    Critical,
}

impl Severity {
    /// The wire name, e.g. `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Whether an incident is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Its root cause is still failed.
    Open,
    /// Everything it affected recovered.
    Resolved,
}

/// A service touched by an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AffectedService {
    /// Service id from the topology.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The service's tier from the topology (`critical`, `high`, `normal`, `low`).
    pub tier: String,
    /// `degraded`, `down` or `unknown`.
    pub state: State,
    /// The service's tags from the topology.
    #[serde(default)]
    pub tags: Vec<String>,
    /// When the incident hurt the service and how badly (`null` in incidents recorded before
    /// outage windows were kept). `state` is the service's state now.
    #[serde(default)]
    pub outage: Option<Outage>,
}

/// The window in which an incident hurt one service; kept after it recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Outage {
    /// When the incident first found the service not up.
    pub from: UnixMillis,
    /// When it was up again (`null` while it is not).
    pub to: Option<UnixMillis>,
    /// The worst state it was in meanwhile.
    pub worst: State,
}

/// A component suspected of making a failover ineffective, ranked by evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Suspect {
    /// Component id.
    pub component: String,
    /// Why it is suspected, for people.
    pub reason: String,
    /// Higher is more suspicious; only the order matters.
    pub score: f64,
}

/// One entry of an incident's evidence timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// When it was observed.
    pub at: UnixMillis,
    /// Topology id of the component or service the entry is about.
    pub subject: String,
    /// What was observed, for people.
    pub text: String,
}

/// An incident: one root cause and everything downstream of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Incident {
    /// Stable id: the same root cause keeps the same id for the incident's whole life.
    pub id: String,
    /// What kind of root cause.
    pub kind: IncidentKind,
    /// Page severity.
    pub severity: Severity,
    /// One line for people.
    pub title: String,
    /// The failed components whose own dependencies are healthy.
    pub root_causes: Vec<String>,
    /// The services it degrades or takes down.
    pub affected_services: Vec<AffectedService>,
    /// Components suspected of making a failover ineffective, most suspicious first.
    #[serde(default)]
    pub suspects: Vec<Suspect>,
    /// What was observed, oldest first.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Open or resolved.
    pub status: IncidentStatus,
    /// When it opened.
    pub opened_at: UnixMillis,
    /// When it last changed.
    pub updated_at: UnixMillis,
    /// When it resolved (`null` while open).
    #[serde(default)]
    pub resolved_at: Option<UnixMillis>,
    /// True while a maintenance window excuses it: recorded, not paged.
    #[serde(default)]
    pub suppressed: bool,
    /// Set while acknowledged: recorded, not paged again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<crate::Acknowledgement>,
}

/// Query of `GET /api/v1/incidents`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentsQuery {
    /// Also list recently resolved incidents (newest first, at most 100).
    #[serde(default)]
    pub all: bool,
}

/// Answer of `GET /api/v1/incidents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentsResponse {
    /// Open incidents.
    pub open: Vec<Incident>,
    /// Recently resolved incidents, newest first (empty unless `all=true`).
    pub resolved: Vec<Incident>,
}
