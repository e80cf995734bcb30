//! Route paths: relative to [`crate::PREFIX`] (and [`crate::LEGACY_PREFIX`])
//! for the server's router, and complete request paths for clients.

use crate::{IncidentsQuery, LabAction, PREFIX, TimelineQuery};

/// Status summary.
pub const STATUS: &str = "/status";
/// Every service.
pub const SERVICES: &str = "/services";
/// Every component.
pub const COMPONENTS: &str = "/components";
/// Incidents (query [`IncidentsQuery`]).
pub const INCIDENTS: &str = "/incidents";
/// The live why of a component.
pub const WHY: &str = "/why/{id}";
/// Standby readiness of every active-standby group.
pub const READY: &str = "/ready";
/// The timeline (query [`TimelineQuery`]).
pub const TIMELINE: &str = "/timeline";
/// Demo lab status.
pub const LAB: &str = "/lab";
/// Demo lab action without an id (`fix`, `reset`).
pub const LAB_ACTION: &str = "/lab/{action}";
/// Demo lab action on a device or link (`fail`, `heal`).
pub const LAB_ACTION_ID: &str = "/lab/{action}/{id}";
/// Demo lab: inject a configuration drift (`forwarding`) into a device.
pub const LAB_DRIFT: &str = "/lab/drift/{id}/{what}";
/// Acknowledge an incident (body [`crate::AckRequest`]).
pub const INCIDENT_ACK: &str = "/incidents/{id}/ack";
/// Withdraw an acknowledgement.
pub const INCIDENT_UNACK: &str = "/incidents/{id}/unack";
/// Maintenance windows: list (GET) and add (POST, body [`crate::MaintenanceRequest`]).
pub const MAINTENANCE: &str = "/maintenance";
/// End a run-time maintenance window now.
pub const MAINTENANCE_END: &str = "/maintenance/{id}/end";
/// Server-Sent Events: `hello`, then `change` whenever a state or an incident changed
/// (versioned prefix only).
pub const EVENTS: &str = "/events";
/// The OpenAPI document (versioned prefix only).
pub const OPENAPI: &str = "/openapi.json";
/// Prometheus / OpenMetrics text: absolute, outside the API prefix.
pub const METRICS: &str = "/metrics";
/// Liveness for orchestrators and load balancers (Prometheus's convention): 200 while the
/// process serves HTTP.
pub const HEALTHY: &str = "/-/healthy";
/// Readiness: 200 while the store accepts writes (journal, outbox), 503 with the reason else.
pub const READY_PROBE: &str = "/-/ready";

/// `PREFIX` + `route`, for a route without parameters.
pub fn v1(route: &str) -> String {
    format!("{PREFIX}{route}")
}

/// `GET /api/v1/incidents[?all=true]`.
pub fn incidents(q: IncidentsQuery) -> String {
    if q.all {
        format!("{PREFIX}{INCIDENTS}?all=true")
    } else {
        v1(INCIDENTS)
    }
}

/// `GET /api/v1/why/{id}`, the id percent-encoded.
pub fn why(id: &str) -> String {
    format!("{PREFIX}/why/{}", segment(id))
}

/// `GET /api/v1/timeline?since=MS`.
pub fn timeline(q: TimelineQuery) -> String {
    format!("{PREFIX}{TIMELINE}?since={}", q.since.0)
}

/// `POST /api/v1/incidents/{id}/ack`, the id percent-encoded.
pub fn ack(id: &str) -> String {
    format!("{PREFIX}/incidents/{}/ack", segment(id))
}

/// `POST /api/v1/incidents/{id}/unack`, the id percent-encoded.
pub fn unack(id: &str) -> String {
    format!("{PREFIX}/incidents/{}/unack", segment(id))
}

/// `POST /api/v1/maintenance/{id}/end`, the id percent-encoded.
pub fn maintenance_end(id: &str) -> String {
    format!("{PREFIX}/maintenance/{}/end", segment(id))
}

/// `POST /api/v1/lab/{action}[/{id}]`, the id percent-encoded.
pub fn lab_action(action: LabAction, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("{PREFIX}{LAB}/{action}/{}", segment(id)),
        None => format!("{PREFIX}{LAB}/{action}"),
    }
}

/// `POST /api/v1/lab/drift/{id}/{what}`, both percent-encoded.
pub fn lab_drift(id: &str, what: &str) -> String {
    format!("{PREFIX}/lab/drift/{}/{}", segment(id), segment(what))
}

/// Percent-encode an id for one URL path segment: link ids carry `/` (`ge-0/0/1`) and `:`.
pub fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UnixMillis;

    #[test]
    fn link_ids_survive_as_one_path_segment() {
        assert_eq!(
            segment("fw-a:port2--sw-core-1:gi1/0/1"),
            "fw-a%3Aport2--sw-core-1%3Agi1%2F0%2F1"
        );
        assert_eq!(segment("portal"), "portal");
        assert_eq!(
            why("fw-a:port2--sw-core-1:gi1/0/1"),
            "/api/v1/why/fw-a%3Aport2--sw-core-1%3Agi1%2F0%2F1"
        );
    }

    #[test]
    fn client_paths_carry_their_queries() {
        assert_eq!(
            incidents(IncidentsQuery { all: true }),
            "/api/v1/incidents?all=true"
        );
        assert_eq!(incidents(IncidentsQuery::default()), "/api/v1/incidents");
        assert_eq!(
            timeline(TimelineQuery {
                since: UnixMillis(42)
            }),
            "/api/v1/timeline?since=42"
        );
        assert_eq!(lab_action(LabAction::Fix, None), "/api/v1/lab/fix");
        assert_eq!(
            lab_drift("fw-b", "forwarding"),
            "/api/v1/lab/drift/fw-b/forwarding"
        );
        assert_eq!(
            lab_action(LabAction::Fail, Some("a/b")),
            "/api/v1/lab/fail/a%2Fb"
        );
    }
}
