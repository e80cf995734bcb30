//! faultline's HTTP API contract: the request and response types of every collector route, the
//! route table, and the OpenAPI document generated from them.
//!
//! The collector serialises these types, the `faultline` CLI and the tests deserialise them:
//! renaming a field here breaks every side at compile time (or in the round-trip tests), not
//! silently at run time. The crate has no runtime of its own: serde and utoipa derives only.
//!
//! Routes live under [`PREFIX`] (`/api/v1`); the unversioned [`LEGACY_PREFIX`] (`/api`) serves
//! the same handlers for older clients. `/metrics` is OpenMetrics text, outside the prefix.
//!
//! ```
//! use faultline_api::{State, WhyNode};
//!
//! let node: WhyNode = serde_json::from_str(
//!     r#"{"id": "fw-a", "kind": "device", "state": "down", "failed_itself": true}"#,
//! ).unwrap();
//! assert_eq!(node.state, State::Down);
//! assert!(node.children.is_empty());
//! ```
#![warn(missing_docs)]

mod action;
mod common;
mod doc;
mod drift;
mod events;
mod incident;
mod lab;
mod offline;
pub mod path;
mod ready;
mod status;
mod timeline;
mod why;

pub use action::{
    AckRequest, Acknowledgement, MaintenanceRequest, MaintenanceResponse, MaintenanceWindow,
    WindowSource,
};
pub use common::{ApiError, HaRole, State, UnixMillis};
pub use doc::{ApiDoc, Method, ROUTES, Route, openapi};
pub use drift::{DriftLink, DriftReport, MovedLink};
pub use events::{ChangeEvent, EVENT_CHANGE, EVENT_HELLO};
pub use incident::{
    AffectedService, Evidence, Incident, IncidentKind, IncidentStatus, IncidentsQuery,
    IncidentsResponse, Outage, Severity, Suspect,
};
pub use lab::{LabAction, LabStatus};
pub use offline::{ComponentImpact, ComponentState, ImpactReport, ServiceImpact};
pub use ready::{CheckValue, GroupReady, Readiness, ReadyCheck, ReadyResponse, StandbyReady};
pub use status::{
    ComponentStatus, ComponentsResponse, IncidentSummary, NotifyStats, ServiceStatus,
    ServicesResponse, StateCounts, StatusResponse, StoreStatus,
};
pub use timeline::{TimelineEntry, TimelineQuery, TimelineResponse};
pub use why::{WhyNode, WhyResponse};

/// The versioned prefix of every JSON route.
pub const PREFIX: &str = "/api/v1";
/// The unversioned prefix the same routes were first served under; kept as an alias.
pub const LEGACY_PREFIX: &str = "/api";
