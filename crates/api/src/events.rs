//! `GET /api/v1/events`: Server-Sent Events for live views (the console's map and pages).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Name of the event sent once when a client connects, with the current counter.
pub const EVENT_HELLO: &str = "hello";
/// Name of the event sent when the engine changed a state or an incident.
pub const EVENT_CHANGE: &str = "change";

/// The data of every event of `GET /api/v1/events` (`hello` on connect, then `change`):
/// re-read what you show when `seq` moves. Changes in quick succession arrive as one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeEvent {
    /// How many engine rounds changed something since the collector started.
    pub seq: u64,
}
