//! Incidents: one per root cause, with the services they affect and the evidence behind them.
//!
//! The engine opens, updates and resolves incidents; every change is an [`IncidentTransition`]
//! carrying a full snapshot of the incident (so a resolve has its payload, and any single
//! transition can be delivered on its own). Pagers consume transitions in `seq` order per
//! incident and never need the engine or the graph.
//!
//! ```
//! use faultline_incident::*;
//!
//! let inc = Incident {
//!     id: "inc-fw-pair-1".into(),
//!     kind: IncidentKind::FailoverIneffective,
//!     severity: Severity::Critical,
//!     title: "portal down although fw-pair failed over to fw-b".into(),
//!     root_causes: vec!["fw-a".into()],
//!     affected_services: vec![AffectedService {
//!         id: "portal".into(), name: "Contractor portal".into(), tier: "critical".into(),
//!         state: "down".into(), tags: vec![],
//!     }],
//!     suspects: vec![Suspect { component: "fw-b".into(), reason: "became active 8 s before the portal failed".into(), score: 0.9 }],
//!     evidence: vec![],
//!     status: IncidentStatus::Open,
//!     opened_at: 1_000, updated_at: 1_000, resolved_at: None,
//!     suppressed: false,
//! };
//! let t = IncidentTransition { seq: 1, action: TransitionAction::Trigger, at: 1_000, incident: inc };
//! assert_eq!(t.incident.severity.as_str(), "critical");
//! ```

use faultline_observe::UnixMillis;
use serde::{Deserialize, Serialize};

/// What kind of root cause an incident describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::ServiceDown => "service_down",
            IncidentKind::RedundancyLost => "redundancy_lost",
            IncidentKind::FailoverIneffective => "failover_ineffective",
            IncidentKind::UnexplainedServiceFailure => "unexplained_service_failure",
            IncidentKind::SplitBrain => "split_brain",
        }
    }
}

/// Page severity. Redundancy lost = warning; a service down (or failover ineffective) =
/// critical, capped by the affected service's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Resolved,
}

/// A service touched by an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedService {
    pub id: String,
    pub name: String,
    /// The service's tier from the topology (`critical`, `high`, `normal`, `low`, ...).
    pub tier: String,
    /// `degraded`, `down` or `unknown`.
    pub state: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A component suspected of making a failover ineffective, ranked by evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspect {
    pub component: String,
    pub reason: String,
    /// Higher is more suspicious; only the order matters.
    pub score: f64,
}

/// One entry of an incident's evidence timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub at: UnixMillis,
    /// Topology id of the component or service the entry is about.
    pub subject: String,
    pub text: String,
}

/// An incident: one root cause and everything downstream of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable id: the same root cause keeps the same id for the incident's whole life. Used as
    /// the pager dedup key.
    pub id: String,
    pub kind: IncidentKind,
    pub severity: Severity,
    /// One line for humans (pagers truncate it to their limits).
    pub title: String,
    /// The failed components whose own dependencies are healthy.
    pub root_causes: Vec<String>,
    pub affected_services: Vec<AffectedService>,
    #[serde(default)]
    pub suspects: Vec<Suspect>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    pub status: IncidentStatus,
    pub opened_at: UnixMillis,
    pub updated_at: UnixMillis,
    #[serde(default)]
    pub resolved_at: Option<UnixMillis>,
    /// True while a maintenance window excuses this incident: recorded, not paged.
    #[serde(default)]
    pub suppressed: bool,
}

/// What happened to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionAction {
    Trigger,
    Update,
    Resolve,
}

/// One change of one incident, with the incident as it is after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentTransition {
    /// Global, strictly increasing sequence number assigned by the engine.
    pub seq: u64,
    pub action: TransitionAction,
    pub at: UnixMillis,
    pub incident: Incident,
}
