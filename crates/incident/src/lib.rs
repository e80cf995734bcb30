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
//!         state: ServiceState::Down, tags: vec![],
//!         outage: Some(Outage { from: 1_000, to: None, worst: ServiceState::Down }),
//!     }],
//!     suspects: vec![Suspect { component: "fw-b".into(), reason: "became active 8 s before the portal failed".into(), score: 0.9 }],
//!     evidence: vec![],
//!     status: IncidentStatus::Open,
//!     opened_at: 1_000, updated_at: 1_000, resolved_at: None,
//!     suppressed: false, acknowledged: None,
//! };
//! let t = IncidentTransition { seq: 1, action: TransitionAction::Trigger, at: 1_000, incident: inc };
//! assert_eq!(t.incident.severity.as_str(), "critical");
//! // Stored and delivered as JSON: states and kinds are the same lower-case words as ever.
//! let json = serde_json::to_value(&t).unwrap();
//! assert_eq!(json["incident"]["affected_services"][0]["state"], "down");
//! assert_eq!(json["incident"]["kind"], "failover_ineffective");
//! ```
//!
//! See also: `faultline_engine`, which emits these, and `faultline_notify`, which delivers them.

#![warn(missing_docs)]

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
    /// A standby member of an active-standby group could not take over (a readiness check
    /// fails: forwarding off, configuration drift, HA unhealthy) while everything still works.
    StandbyNotReady,
    /// The cabling LLDP/CDP show differs from the declared links (a cable missing, moved or
    /// not declared). For the record and the next change window, not for waking anyone.
    TopologyDrift,
    /// A service probed from several zones fails from some and works from others: customers
    /// in the failing zones cannot reach it. A step below the full outage it escalates to when
    /// every zone fails.
    PartialOutage,
}

impl IncidentKind {
    /// The kind as it appears in JSON and pages (`failover_ineffective`, ...).
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

/// Page severity. Redundancy lost = warning; a service down (or failover ineffective) =
/// critical, capped by the affected service's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record: nothing customers notice.
    Info,
    /// Redundancy lost, or a service degraded: act in working hours.
    Warning,
    /// A service of normal tier down, or a failover that did not work.
    Error,
    /// A critical or high-tier service down, or split brain: wake someone up.
    Critical,
}

impl Severity {
    /// The severity as it appears in JSON and pages (`critical`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

/// Whether an incident is still going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// The root cause is still failing (or a merged service still down).
    Open,
    /// Everything recovered; `resolved_at` says when.
    Resolved,
}

/// The state of a service affected by an incident. Serialized as the lower-case word (`up`,
/// `degraded`, `down`, `unknown`), as stored incidents, pages and the API have always had it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// Working, redundancy intact (not normally listed: an incident lists services it hurts).
    Up,
    /// Working, but something it depends on failed: redundancy consumed.
    Degraded,
    /// Not working.
    Down,
    /// Not known: stale or unreachable data.
    Unknown,
}

impl ServiceState {
    /// The state as it appears in JSON and pages (`down`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Up => "up",
            ServiceState::Degraded => "degraded",
            ServiceState::Down => "down",
            ServiceState::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ServiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A service touched by an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedService {
    /// The service's topology id.
    pub id: String,
    /// The service's name for people.
    pub name: String,
    /// The service's tier from the topology (`critical`, `high`, `normal`, `low`, ...).
    pub tier: String,
    /// `degraded`, `down` or `unknown`.
    pub state: ServiceState,
    /// The service's tags from the topology (pager routing can match them).
    #[serde(default)]
    pub tags: Vec<String>,
    /// When the service was hurt during the incident and how badly (absent in incidents
    /// recorded before outage windows were kept).
    #[serde(default)]
    pub outage: Option<Outage>,
}

/// The window in which an incident hurt one service, kept after the service (and the
/// incident) recovered: the history keeps what happened, `state` says how it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    /// When the incident first found the service not up.
    pub from: UnixMillis,
    /// When the service was up again (`None` while it is not).
    pub to: Option<UnixMillis>,
    /// The worst state it was in meanwhile (down, then unknown, then degraded).
    pub worst: ServiceState,
}

/// A component suspected of making a failover ineffective, ranked by evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspect {
    /// Topology id of the component (or `device:interface`).
    pub component: String,
    /// Every reason found against it, `; `-separated.
    pub reason: String,
    /// Higher is more suspicious; only the order matters.
    pub score: f64,
}

/// One entry of an incident's evidence timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// When it happened.
    pub at: UnixMillis,
    /// Topology id of the component or service the entry is about.
    pub subject: String,
    /// What happened, for people.
    pub text: String,
}

/// An incident: one root cause and everything downstream of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable id: the same root cause keeps the same id for the incident's whole life. Used as
    /// the pager dedup key.
    pub id: String,
    /// What kind of root cause it describes; only escalates while open, kept when resolved.
    pub kind: IncidentKind,
    /// How urgent it is: the worst it has been (it never drops while open, and a resolved
    /// incident keeps it).
    pub severity: Severity,
    /// One line for humans (pagers truncate it to their limits).
    pub title: String,
    /// The failed components whose own dependencies are healthy.
    pub root_causes: Vec<String>,
    /// The services it degrades or takes down, each with its outage window. Services up
    /// again stay listed with state `up` (their window closed): the history keeps them.
    pub affected_services: Vec<AffectedService>,
    /// What may have made a failover ineffective, most suspicious first.
    #[serde(default)]
    pub suspects: Vec<Suspect>,
    /// What happened, in time order.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Open or resolved.
    pub status: IncidentStatus,
    /// When it opened.
    pub opened_at: UnixMillis,
    /// When it last changed in a way worth a page (kind, severity, services, suspects).
    pub updated_at: UnixMillis,
    /// When it resolved.
    #[serde(default)]
    pub resolved_at: Option<UnixMillis>,
    /// True while a maintenance window excuses this incident: recorded, not paged.
    #[serde(default)]
    pub suppressed: bool,
    /// Set while an operator has acknowledged it: recorded, not paged again (its resolve
    /// still is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Acknowledgement>,
}

/// Who acknowledged an incident, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// Who (the authenticated user, or `api` / `console` / the CLI's user).
    pub by: String,
    /// When (engine time: the action's journaled instant).
    pub at: UnixMillis,
    /// Why, for people (may be empty).
    #[serde(default)]
    pub comment: String,
}

/// What happened to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionAction {
    /// It opened: page.
    Trigger,
    /// It changed (kind, severity, affected services, suspects or suppression).
    Update,
    /// It is over.
    Resolve,
    /// An operator acknowledged it (`incident.acknowledged` says who): pagers stop paging it.
    Acknowledge,
    /// An operator withdrew the acknowledgement: it pages again on its next change.
    Unacknowledge,
}

/// One change of one incident, with the incident as it is after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentTransition {
    /// Global, strictly increasing sequence number assigned by the engine.
    pub seq: u64,
    /// What happened to the incident.
    pub action: TransitionAction,
    /// When.
    pub at: UnixMillis,
    /// The incident as it is after the change.
    pub incident: Incident,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_states_keep_their_words() {
        for (state, word) in [
            (ServiceState::Up, "up"),
            (ServiceState::Degraded, "degraded"),
            (ServiceState::Down, "down"),
            (ServiceState::Unknown, "unknown"),
        ] {
            assert_eq!(serde_json::to_value(state).unwrap(), word);
            assert_eq!(state.to_string(), word);
            let back: ServiceState = serde_json::from_value(word.into()).unwrap();
            assert_eq!(back, state);
        }
        // An affected service stored before the enum existed reads back the same.
        let stored = r#"{"id":"portal","name":"Portal","tier":"critical","state":"down"}"#;
        let a: AffectedService = serde_json::from_str(stored).unwrap();
        assert_eq!(a.state, ServiceState::Down);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            stored.replace('}', r#","tags":[],"outage":null}"#)
        );
    }
}
