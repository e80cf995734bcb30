//! Operators' actions: `POST /api/v1/incidents/{id}/ack` and `/unack`, `GET` / `POST
//! /api/v1/maintenance` and `POST /api/v1/maintenance/{id}/end`. Each is journaled as an
//! observation, so a replay of the collector's journal repeats it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::UnixMillis;

/// Who acknowledged an incident, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Acknowledgement {
    /// Who (the authenticated user, else `api` / `console` / the CLI's user).
    pub by: String,
    /// When.
    pub at: UnixMillis,
    /// Why (may be empty).
    #[serde(default)]
    pub comment: String,
}

/// Body of `POST /api/v1/incidents/{id}/ack` and `/unack` (both fields optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AckRequest {
    /// Why, for people (acknowledge only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Who, when the request carries no authenticated user (the CLI sends `$USER`);
    /// default `api`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Body of `POST /api/v1/maintenance`: components, and when (`to`, or `for_ms` from `from`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MaintenanceRequest {
    /// Topology ids of the components (at least one).
    pub components: Vec<String>,
    /// Start; default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<UnixMillis>,
    /// End (exclusive); give this or `for_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<UnixMillis>,
    /// Length in milliseconds, from `from`; give this or `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_ms: Option<u64>,
    /// Why, for people.
    #[serde(default)]
    pub reason: String,
    /// Who, when the request carries no authenticated user; default `api`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Where a maintenance window comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowSource {
    /// The configuration file (`[[engine.maintenance]]`): cannot be ended at run time.
    Config,
    /// Added at run time (API, console or CLI).
    Runtime,
}

/// One maintenance window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MaintenanceWindow {
    /// Its id (`config-N` for the configuration's).
    pub id: String,
    /// Where it comes from.
    pub source: WindowSource,
    /// Topology ids of the components under maintenance.
    pub components: Vec<String>,
    /// Start (inclusive).
    pub from: UnixMillis,
    /// End (exclusive); when ended early, the instant it was ended.
    pub to: UnixMillis,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// Who added it (empty for the configuration's).
    #[serde(default)]
    pub by: String,
    /// Who ended it early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
    /// In force now.
    pub active: bool,
}

/// Answer of `GET /api/v1/maintenance`: current, future and recently ended windows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MaintenanceResponse {
    /// The windows, by start.
    pub windows: Vec<MaintenanceWindow>,
}
