//! The HTTP API (JSON) the CLI client commands use, and `/metrics`.
//!
//! Every response is a type from [`faultline_api`] (the contract the CLI and tests deserialise);
//! routes are served under `/api/v1` and, as aliases, under the unversioned `/api`.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/v1/status` | [`api::StatusResponse`]: topology, counts by state, open incidents, pager and store health |
//! | `GET /api/v1/services` | [`api::ServicesResponse`]: state, expected (graph), observed (probe), incident |
//! | `GET /api/v1/components` | [`api::ComponentsResponse`]: every component, its own and graph state |
//! | `GET /api/v1/incidents[?all=true]` | [`api::IncidentsResponse`]: open (and recently resolved) incidents |
//! | `GET /api/v1/why/{id}` | [`api::WhyResponse`]: live why-tree, service status, the incident concerning it |
//! | `GET /api/v1/timeline[?since=MS]` | [`api::TimelineResponse`]: state changes and evidence, oldest first |
//! | `GET /api/v1/ready` | [`api::ReadyResponse`]: standby readiness of every active-standby group |
//! | `POST /api/v1/incidents/{id}/ack`, `/unack`; `GET`, `POST /api/v1/maintenance`; `POST /api/v1/maintenance/{id}/end` | operators' actions (`actions.rs`) |
//! | `GET /api/v1/events` | Server-Sent Events: `hello`, then `change` ([`api::ChangeEvent`]) |
//! | `GET /api/v1/openapi.json` | the OpenAPI document ([`faultline_api::openapi`]) |
//! | `GET /metrics` | Prometheus / OpenMetrics text (see `metrics`: state series, counters, `faultline_build_info`, `process_*`) |
//! | `GET /-/healthy`, `GET /-/ready` | liveness; readiness (503 while the store fails) |
//!
//! Errors answer [`api::ApiError`] with 400 or 404. The embedding program may merge more
//! routes (`faultline run` adds the demo lab's `/api/v1/lab`, served by `faultline_lab::api`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use faultline_api::{self as api, LEGACY_PREFIX, PREFIX, path};
use faultline_graph::State as GState;

use crate::wire::{ToApi, incident_summary};
use crate::{Shared, metrics};

type S = State<Arc<Shared>>;

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(api::ApiError { error: msg.into() })).into_response()
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest(PREFIX, routes().route(path::OPENAPI, get(openapi)))
        .nest(LEGACY_PREFIX, routes())
        .route(&path::v1(path::EVENTS), get(super::events::events))
        .route(path::METRICS, get(metrics))
        .route(path::HEALTHY, get(healthy))
        .route(path::READY_PROBE, get(ready_probe))
        .with_state(shared)
}

/// The JSON routes relative to their prefix: mounted under both `/api/v1` and `/api`.
fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(path::STATUS, get(status))
        .route(path::SERVICES, get(services))
        .route(path::COMPONENTS, get(components))
        .route(path::INCIDENTS, get(incidents))
        .route(path::WHY, get(why))
        .route(path::TIMELINE, get(timeline))
        .route(path::READY, get(ready))
        .merge(super::actions::routes())
}

async fn ready(State(s): S) -> Json<api::ReadyResponse> {
    Json(api::ReadyResponse {
        groups: s.engine().readiness().to_api(),
    })
}

async fn status(State(s): S) -> Json<api::StatusResponse> {
    let engine = s.engine();
    let mut counts = api::StateCounts::new();
    for ((kind, state), n) in engine.state_counts() {
        let per_kind: &mut BTreeMap<api::State, u64> = counts.entry(kind.to_string()).or_default();
        per_kind.insert(state.to_api(), n as u64);
    }
    let dead = s.store.dead_letters().map(|d| d.len()).unwrap_or(0);
    let health = s.store.health();
    Json(api::StatusResponse {
        topology: s.topology_name.clone(),
        uptime_s: s.started.elapsed().as_secs(),
        now: api::UnixMillis(engine.now()),
        counts,
        services: engine.services().to_api(),
        incidents: engine
            .open_incidents()
            .into_iter()
            .map(incident_summary)
            .collect(),
        notify: s.notifier.stats().to_api(),
        dead_letters: dead as u64,
        lab: s.simulated,
        store: api::StoreStatus {
            healthy: health.is_ok(),
            state: health.to_string(),
            failures_total: health.failures_total,
            journal_pending: s.metrics.journal_pending_now(),
        },
        problems: s.poll_problems.current(),
    })
}

async fn services(State(s): S) -> Json<api::ServicesResponse> {
    Json(api::ServicesResponse {
        services: s.engine().services().to_api(),
    })
}

async fn components(State(s): S) -> Json<api::ComponentsResponse> {
    let mut components: Vec<api::ComponentStatus> = s.engine().components().to_api();
    let mut problems = s.poll_problems.current();
    for c in &mut components {
        c.problem = problems.remove(&c.id);
    }
    Json(api::ComponentsResponse { components })
}

/// Resolved incidents `?all=true` lists at most: the newest first.
pub(crate) const RESOLVED_LISTED: usize = 100;

async fn incidents(
    State(s): S,
    Query(q): Query<api::IncidentsQuery>,
) -> Json<api::IncidentsResponse> {
    let engine = s.engine();
    let resolved = if q.all {
        engine
            .recent_resolved()
            .take(RESOLVED_LISTED)
            .map(ToApi::to_api)
            .collect()
    } else {
        Vec::new()
    };
    Json(api::IncidentsResponse {
        open: engine.open_incidents().to_api(),
        resolved,
    })
}

async fn why(State(s): S, Path(id): Path<String>) -> Result<Json<api::WhyResponse>, Response> {
    why_response(&s.engine(), id)
        .map(Json)
        .map_err(|e| error(StatusCode::NOT_FOUND, e))
}

/// The live why of a component (the API's and the console's): its tree, its service status
/// and the open incident concerning it. `Err` names an unknown id.
pub(crate) fn why_response(
    engine: &faultline_engine::Engine,
    id: String,
) -> Result<api::WhyResponse, String> {
    let tree = engine.why(&id).map_err(|e| e.to_string())?;
    let incident = engine
        .open_incidents()
        .into_iter()
        .find(|i| i.affected_services.iter().any(|a| a.id == id) || i.root_causes.contains(&id))
        .map(ToApi::to_api);
    let service = engine.services().into_iter().find(|x| x.id == id);
    let mut text = tree.to_text();
    if let Some(sv) = &service
        && sv.observed == GState::Down
        && sv.expected.is_available()
    {
        text.push_str(&format!(
            "expected {} from the dependency graph, but the service probe says DOWN\n",
            sv.expected.as_str()
        ));
    }
    Ok(api::WhyResponse {
        state: tree.state.to_api(),
        down: Vec::new(),
        failed: tree.failed_components(),
        tree: tree.to_api(),
        text,
        service: service.to_api(),
        incident,
        id,
    })
}

async fn timeline(State(s): S, Query(q): Query<api::TimelineQuery>) -> Json<api::TimelineResponse> {
    let engine = s.engine();
    Json(api::TimelineResponse {
        timeline: engine
            .timeline()
            .filter(|e| e.at >= q.since.0)
            .map(ToApi::to_api)
            .collect(),
    })
}

async fn openapi() -> impl IntoResponse {
    Json(faultline_api::openapi())
}

async fn healthy() -> &'static str {
    "faultline is healthy\n"
}

/// Ready while the store accepts writes: a collector whose journal fails records nothing and
/// pages nothing new, and a load balancer or orchestrator should know.
async fn ready_probe(State(s): S) -> Response {
    let health = s.store.health();
    if health.is_ok() {
        (StatusCode::OK, "faultline is ready\n").into_response()
    } else {
        let body = format!("faultline is not ready: store {health}\n");
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

/// OpenMetrics for scrapers that ask for it (Prometheus does), else the classic text format.
async fn metrics(State(s): S, headers: axum::http::HeaderMap) -> Response {
    s.metrics.refresh(&s.engine());
    s.metrics.store(&s.store.health());
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let openmetrics = s.metrics.encode();
    if metrics::wants_openmetrics(accept) {
        (
            [(header::CONTENT_TYPE, metrics::OPENMETRICS_TEXT)],
            openmetrics,
        )
            .into_response()
    } else {
        let text = metrics::to_prometheus_text(&openmetrics);
        ([(header::CONTENT_TYPE, metrics::PROMETHEUS_TEXT)], text).into_response()
    }
}
