//! `GET /api/v1/timeline`: state changes and evidence, oldest first.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::UnixMillis;

/// Query of `GET /api/v1/timeline`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Only entries at or after this instant (Unix milliseconds; default 0: everything kept).
    #[serde(default)]
    #[param(value_type = u64)]
    pub since: UnixMillis,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    /// When.
    pub at: UnixMillis,
    /// The component or service it is about.
    pub subject: String,
    /// What happened, for people.
    pub text: String,
}

/// Answer of `GET /api/v1/timeline`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimelineResponse {
    /// Entries, oldest first.
    pub timeline: Vec<TimelineEntry>,
}
