//! `GET /api/v1/why/{id}` and `faultline why [TOPOLOGY] ID --json`: one shape, live and offline.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Incident, ServiceStatus, State};

/// One node of a why-tree. Only non-up branches are expanded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WhyNode {
    /// The component id (for a link requirement: the target device).
    pub id: String,
    /// `device`, `link`, `group`, `service`, or `links` (a set of parallel links).
    pub kind: String,
    /// Its own state in the graph (for a requirement over links: the target's).
    pub state: State,
    /// For a requirement over declared links: the state of the path (target and links),
    /// which may be down while the target is up; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<State>,
    /// Group arithmetic (`active-standby: 0 of 2 available, needs 1`) or the requirer a link
    /// view belongs to; absent when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// This component's own state is failed: it is a cause, not only a symptom.
    pub failed_itself: bool,
    /// This subtree was already shown above (shared dependency); absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeated: bool,
    /// Non-up dependencies; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<WhyNode>,
}

/// Why a component is in its state: the answer of `GET /api/v1/why/{id}` (live) and the output
/// of `faultline why TOPOLOGY ID --json` (offline, a what-if).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WhyResponse {
    /// The component asked about (any component, not only a service).
    pub id: String,
    /// Its state.
    pub state: State,
    /// Components assumed failed (offline `--down`); empty live.
    #[serde(default)]
    pub down: Vec<String>,
    /// The failed components the tree leads to, in tree order.
    pub failed: Vec<String>,
    /// The explanation.
    pub tree: WhyNode,
    /// The tree rendered for terminals, plus (live) a line when the probe contradicts the graph.
    pub text: String,
    /// The service's status when `id` is a service, else `null`. Offline, `observed` is
    /// `unknown` (no probe ran) and `incident` absent.
    #[serde(default)]
    pub service: Option<ServiceStatus>,
    /// The open incident concerning `id` (live), else `null`.
    #[serde(default)]
    pub incident: Option<Incident>,
}
