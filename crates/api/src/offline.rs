//! Offline command output sharing the API's vocabulary: `faultline impact --json`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::State;

/// One service's state in a what-if.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceImpact {
    /// Service id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Tier from the topology.
    pub tier: String,
    /// Its state with the assumed failures.
    pub state: State,
    /// Failed components in the service's dependency closure (empty when up).
    pub causes: Vec<String>,
}

/// Output of `faultline impact TOPOLOGY --down ID --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImpactReport {
    /// The components assumed failed, as resolved.
    pub down: Vec<String>,
    /// Every service.
    pub services: Vec<ServiceImpact>,
    /// Every device that is not up, in topology order.
    #[serde(default)]
    pub components: Vec<ComponentImpact>,
}

/// A device that is not up in a what-if.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComponentImpact {
    /// Device id.
    pub id: String,
    /// `down` (assumed failed), `unreachable` (not failed itself, something it requires is
    /// unavailable: Nagios' rule) or `degraded` (redundancy consumed below it).
    pub state: ComponentState,
}

/// Why a device is not up in a what-if.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ComponentState {
    /// Assumed failed.
    Down,
    /// Not failed itself; something it requires is unavailable.
    Unreachable,
    /// Working with redundancy consumed below it.
    Degraded,
}
