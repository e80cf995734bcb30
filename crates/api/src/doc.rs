//! The route table and the OpenAPI document generated from the types.
//!
//! The operations below are markers: utoipa reads their attributes, the collector's handlers
//! implement them. A test compares the document's paths with [`ROUTES`], and the collector's
//! tests call every entry of [`ROUTES`] on a running collector.

use utoipa::OpenApi;

use crate::path;
use crate::{
    AckRequest, Acknowledgement, MaintenanceRequest, MaintenanceResponse, MaintenanceWindow,
    WindowSource,
};
use crate::{
    AffectedService, ApiError, ChangeEvent, CheckValue, ComponentStatus, ComponentsResponse,
    Evidence, GroupReady, HaRole, Incident, IncidentKind, IncidentStatus, IncidentSummary,
    IncidentsResponse, LabAction, LabStatus, NotifyStats, Outage, PREFIX, Readiness, ReadyCheck,
    ReadyResponse, ServiceStatus, ServicesResponse, Severity, StandbyReady, State, StatusResponse,
    StoreStatus, Suspect, TimelineEntry, TimelineResponse, UnixMillis, WhyNode, WhyResponse,
};

/// HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
}

/// One route of the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Prefix it is served under: [`PREFIX`], or `""` for `/metrics`.
    pub prefix: &'static str,
    /// Path after the prefix, with `{param}` placeholders.
    pub path: &'static str,
    /// Also served under [`LEGACY_PREFIX`](crate::LEGACY_PREFIX).
    pub legacy_alias: bool,
}

impl Route {
    /// The complete path, as the OpenAPI document lists it.
    pub fn full_path(&self) -> String {
        format!("{}{}", self.prefix, self.path)
    }
}

const fn v1(method: Method, path: &'static str) -> Route {
    Route {
        method,
        prefix: PREFIX,
        path,
        legacy_alias: true,
    }
}

/// Every route the collector serves.
pub const ROUTES: &[Route] = &[
    v1(Method::Get, path::STATUS),
    v1(Method::Get, path::SERVICES),
    v1(Method::Get, path::COMPONENTS),
    v1(Method::Get, path::INCIDENTS),
    v1(Method::Get, path::WHY),
    v1(Method::Get, path::TIMELINE),
    v1(Method::Get, path::READY),
    v1(Method::Post, path::INCIDENT_ACK),
    v1(Method::Post, path::INCIDENT_UNACK),
    v1(Method::Get, path::MAINTENANCE),
    v1(Method::Post, path::MAINTENANCE),
    v1(Method::Post, path::MAINTENANCE_END),
    v1(Method::Get, path::LAB),
    v1(Method::Post, path::LAB_ACTION),
    v1(Method::Post, path::LAB_ACTION_ID),
    v1(Method::Post, path::LAB_DRIFT),
    Route {
        method: Method::Get,
        prefix: PREFIX,
        path: path::EVENTS,
        legacy_alias: false,
    },
    Route {
        method: Method::Get,
        prefix: PREFIX,
        path: path::OPENAPI,
        legacy_alias: false,
    },
    Route {
        method: Method::Get,
        prefix: "",
        path: path::METRICS,
        legacy_alias: false,
    },
    Route {
        method: Method::Get,
        prefix: "",
        path: path::HEALTHY,
        legacy_alias: false,
    },
    Route {
        method: Method::Get,
        prefix: "",
        path: path::READY_PROBE,
        legacy_alias: false,
    },
];

/// The OpenAPI 3.1 document of the collector's API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "faultline collector API",
        description = "Live state, incidents and explanations from a running faultline collector. \
                       Every JSON route is also served under the unversioned /api prefix."
    ),
    paths(
        ops::status,
        ops::services,
        ops::components,
        ops::incidents,
        ops::why,
        ops::timeline,
        ops::ready,
        ops::ack,
        ops::unack,
        ops::maintenance_list,
        ops::maintenance_add,
        ops::maintenance_end,
        ops::lab_status,
        ops::lab_action,
        ops::lab_action_id,
        ops::lab_drift,
        ops::events,
        ops::openapi,
        ops::metrics,
        ops::healthy,
        ops::ready_probe
    ),
    components(schemas(
        State,
        UnixMillis,
        HaRole,
        ApiError,
        StatusResponse,
        IncidentSummary,
        NotifyStats,
        StoreStatus,
        ServicesResponse,
        ServiceStatus,
        ComponentsResponse,
        ComponentStatus,
        IncidentsResponse,
        Incident,
        IncidentKind,
        IncidentStatus,
        Severity,
        AffectedService,
        Outage,
        Suspect,
        Evidence,
        WhyResponse,
        WhyNode,
        TimelineResponse,
        TimelineEntry,
        ReadyResponse,
        GroupReady,
        StandbyReady,
        ReadyCheck,
        CheckValue,
        Readiness,
        LabStatus,
        LabAction,
        ChangeEvent,
        Acknowledgement,
        AckRequest,
        MaintenanceRequest,
        MaintenanceResponse,
        MaintenanceWindow,
        WindowSource
    )),
    tags(
        (name = "live", description = "The collector's view now"),
        (name = "act", description = "Operators' actions (journaled like observations)"),
        (name = "lab", description = "The demo lab (404 unless the collector runs it)"),
        (name = "meta", description = "The API itself and metrics")
    )
)]
pub struct ApiDoc;

/// The OpenAPI document, ready to serialise.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

// The functions exist only to carry utoipa's attributes: never called.
#[allow(dead_code)]
mod ops {
    use crate::path;
    use crate::{AckRequest, Incident, MaintenanceRequest, MaintenanceResponse};
    use crate::{
        ApiError, ChangeEvent, ComponentsResponse, IncidentsQuery, IncidentsResponse, LabStatus,
        PREFIX, ReadyResponse, ServicesResponse, StatusResponse, TimelineQuery, TimelineResponse,
        WhyResponse,
    };

    /// Topology, counts by state, services, open incidents, pager outbox health.
    #[utoipa::path(get, context_path = PREFIX, path = path::STATUS, tag = "live",
        responses((status = 200, body = StatusResponse)))]
    pub fn status() {}

    /// Every service: state, expected (graph), observed (probe), incident.
    #[utoipa::path(get, context_path = PREFIX, path = path::SERVICES, tag = "live",
        responses((status = 200, body = ServicesResponse)))]
    pub fn services() {}

    /// Every component with its own and graph state.
    #[utoipa::path(get, context_path = PREFIX, path = path::COMPONENTS, tag = "live",
        responses((status = 200, body = ComponentsResponse)))]
    pub fn components() {}

    /// Open (and with `all=true`, recently resolved) incidents with suspects and evidence.
    #[utoipa::path(get, context_path = PREFIX, path = path::INCIDENTS, tag = "live",
        params(IncidentsQuery),
        responses((status = 200, body = IncidentsResponse)))]
    pub fn incidents() {}

    /// The live why-tree of a component, its service status and the incident concerning it.
    #[utoipa::path(get, context_path = PREFIX, path = path::WHY, tag = "live",
        params(("id" = String, Path, description = "Component id (percent-encoded: link ids carry `/` and `:`)")),
        responses(
            (status = 200, body = WhyResponse),
            (status = 404, description = "Unknown component", body = ApiError)))]
    pub fn why() {}

    /// State changes and evidence, oldest first.
    #[utoipa::path(get, context_path = PREFIX, path = path::TIMELINE, tag = "live",
        params(TimelineQuery),
        responses((status = 200, body = TimelineResponse)))]
    pub fn timeline() {}

    /// Standby readiness: each active-standby group, its active member, each standby's checks
    /// with both members' values, verdicts and since when.
    #[utoipa::path(get, context_path = PREFIX, path = path::READY, tag = "live",
        responses((status = 200, body = ReadyResponse)))]
    pub fn ready() {}

    /// Acknowledge an open incident: it stays open and recorded, pagers are told
    /// (PagerDuty `acknowledge`, an Alertmanager silence, the webhook's `acknowledge`) and it
    /// is not paged again until unacknowledged. Answers the incident once the engine took it.
    #[utoipa::path(post, context_path = PREFIX, path = path::INCIDENT_ACK, tag = "act",
        params(("id" = String, Path, description = "Incident id (percent-encoded)")),
        request_body = AckRequest,
        responses(
            (status = 200, body = Incident),
            (status = 404, description = "No open incident with this id", body = ApiError)))]
    pub fn ack() {}

    /// Withdraw an acknowledgement.
    #[utoipa::path(post, context_path = PREFIX, path = path::INCIDENT_UNACK, tag = "act",
        params(("id" = String, Path, description = "Incident id (percent-encoded)")),
        request_body = AckRequest,
        responses(
            (status = 200, body = Incident),
            (status = 404, description = "No open incident with this id", body = ApiError)))]
    pub fn unack() {}

    /// Maintenance windows: the configuration's and the run-time ones (current, future and
    /// ended within a week).
    #[utoipa::path(get, context_path = PREFIX, path = path::MAINTENANCE, tag = "act",
        responses((status = 200, body = MaintenanceResponse)))]
    pub fn maintenance_list() {}

    /// Add a maintenance window: pages suppressed, records kept (Checkmk BI's rule).
    #[utoipa::path(post, context_path = PREFIX, path = path::MAINTENANCE, tag = "act",
        request_body = MaintenanceRequest,
        responses(
            (status = 200, body = MaintenanceResponse),
            (status = 400, description = "Unknown component or bad times", body = ApiError)))]
    pub fn maintenance_add() {}

    /// End a run-time maintenance window now (body: `by`, optional).
    #[utoipa::path(post, context_path = PREFIX, path = path::MAINTENANCE_END, tag = "act",
        params(("id" = String, Path, description = "Window id (percent-encoded)")),
        request_body = AckRequest,
        responses(
            (status = 200, body = MaintenanceResponse),
            (status = 404, description = "No run-time window with this id", body = ApiError)))]
    pub fn maintenance_end() {}

    /// The demo lab's state.
    #[utoipa::path(get, context_path = PREFIX, path = path::LAB, tag = "lab",
        responses(
            (status = 200, body = LabStatus),
            (status = 404, description = "Not running the demo lab", body = ApiError)))]
    pub fn lab_status() {}

    /// `fix` (copy the configuration to the spare) or `reset`.
    #[utoipa::path(post, context_path = PREFIX, path = path::LAB_ACTION, tag = "lab",
        params(("action" = String, Path, description = "`fix` or `reset`")),
        responses(
            (status = 200, body = LabStatus),
            (status = 400, description = "Unknown action", body = ApiError),
            (status = 404, description = "Not running the demo lab", body = ApiError)))]
    pub fn lab_action() {}

    /// `fail` or `heal` a device or link.
    #[utoipa::path(post, context_path = PREFIX, path = path::LAB_ACTION_ID, tag = "lab",
        params(
            ("action" = String, Path, description = "`fail` or `heal`"),
            ("id" = String, Path, description = "Device or link id (percent-encoded)")),
        responses(
            (status = 200, body = LabStatus),
            (status = 400, description = "Unknown action or id", body = ApiError),
            (status = 404, description = "Not running the demo lab", body = ApiError)))]
    pub fn lab_action_id() {}

    /// Inject a configuration drift into a device: `forwarding` makes its agent answer
    /// ipForwarding = notForwarding(2). `fix` and `reset` undo it.
    #[utoipa::path(post, context_path = PREFIX, path = path::LAB_DRIFT, tag = "lab",
        params(
            ("id" = String, Path, description = "Device id (percent-encoded)"),
            ("what" = String, Path, description = "`forwarding`")),
        responses(
            (status = 200, body = LabStatus),
            (status = 400, description = "Unknown device or drift", body = ApiError),
            (status = 404, description = "Not running the demo lab", body = ApiError)))]
    pub fn lab_drift() {}

    /// Server-Sent Events (`text/event-stream`): `hello` on connect, then `change` whenever the
    /// engine changed a state or an incident; the data of each is a `ChangeEvent`.
    #[utoipa::path(get, context_path = PREFIX, path = path::EVENTS, tag = "live",
        responses((status = 200, description = "Event stream of ChangeEvent data", body = ChangeEvent,
            content_type = "text/event-stream")))]
    pub fn events() {}

    /// This document.
    #[utoipa::path(get, context_path = PREFIX, path = path::OPENAPI, tag = "meta",
        responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
    pub fn openapi() {}

    /// Prometheus / OpenMetrics text (component and incident gauges, pager counters).
    #[utoipa::path(get, path = path::METRICS, tag = "meta",
        responses((status = 200, description = "OpenMetrics text", body = String,
            content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8")))]
    pub fn metrics() {}

    /// Liveness: answers while the process serves HTTP.
    #[utoipa::path(get, path = path::HEALTHY, tag = "meta",
        responses((status = 200, description = "Alive", body = String, content_type = "text/plain")))]
    pub fn healthy() {}

    /// Readiness: the store accepts writes (the journal and the outbox), so observations are
    /// recorded and pages go out.
    #[utoipa::path(get, path = path::READY_PROBE, tag = "meta",
        responses(
            (status = 200, description = "Ready", body = String, content_type = "text/plain"),
            (status = 503, description = "The store fails; the reason", body = String,
                content_type = "text/plain")))]
    pub fn ready_probe() {}
}
