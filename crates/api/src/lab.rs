//! `GET /api/v1/lab`, `POST /api/v1/lab/{action}[/{id}]` and
//! `POST /api/v1/lab/drift/{id}/{what}`: the demo lab.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the demo lab looks like now; the answer of every lab route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LabStatus {
    /// Devices and links failed on purpose.
    pub failed: Vec<String>,
    /// Active member per active-standby group.
    pub active: BTreeMap<String, String>,
    /// Whether the spare's configuration has been fixed (NAT copied over).
    pub fixed: bool,
    /// Configuration drifts injected per device (`forwarding`), absent when there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub drift: BTreeMap<String, Vec<String>>,
    /// Simulated SNMP agent address (`IP:PORT`) per device.
    pub agents: BTreeMap<String, String>,
    /// Simulated service URL per service.
    pub services: BTreeMap<String, String>,
}

/// What `POST /api/v1/lab/{action}[/{id}]` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LabAction {
    /// Fail a device (its agent stops answering) or a link (both interfaces go down); needs an id.
    Fail,
    /// Undo `fail`; needs an id.
    Heal,
    /// Copy the configuration to the spare (the demo's fix).
    Fix,
    /// Back to the healthy start.
    Reset,
}

impl LabAction {
    /// Every action, for parsing and help.
    pub const ALL: [LabAction; 4] = [
        LabAction::Fail,
        LabAction::Heal,
        LabAction::Fix,
        LabAction::Reset,
    ];

    /// The path segment, e.g. `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            LabAction::Fail => "fail",
            LabAction::Heal => "heal",
            LabAction::Fix => "fix",
            LabAction::Reset => "reset",
        }
    }

    /// The action with this name, if any.
    pub fn from_name(name: &str) -> Option<LabAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Whether the action names a device or link (`fail`, `heal`).
    pub fn needs_id(self) -> bool {
        matches!(self, LabAction::Fail | LabAction::Heal)
    }
}

impl fmt::Display for LabAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
