//! The HTTP API (JSON) the CLI client commands use, and `/metrics`.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/status` | topology, counts by state, open incidents, pager outbox health |
//! | `GET /api/services` | every service: state, expected (graph), observed (probe), incident |
//! | `GET /api/components` | every component with its own and graph state |
//! | `GET /api/incidents[?all=true]` | open (and recently resolved) incidents with evidence |
//! | `GET /api/why/{id}` | live why-tree, the incident concerning it, its evidence timeline |
//! | `GET /api/timeline[?since=MS]` | state changes and evidence, oldest first |
//! | `GET /metrics` | Prometheus / OpenMetrics |
//!
//! The embedding program may merge more routes (`faultline run` adds the demo lab's `/api/lab`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use faultline_graph::State as GState;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Shared;

type S = State<Arc<Shared>>;

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/status", get(status))
        .route("/api/services", get(services))
        .route("/api/components", get(components))
        .route("/api/incidents", get(incidents))
        .route("/api/why/{id}", get(why))
        .route("/api/timeline", get(timeline))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

async fn status(State(s): S) -> Json<Value> {
    let engine = s.engine();
    let mut counts =
        std::collections::BTreeMap::<&str, std::collections::BTreeMap<&str, usize>>::new();
    for ((kind, state), n) in engine.state_counts() {
        counts.entry(kind).or_default().insert(state.as_str(), n);
    }
    let services: Vec<Value> = engine
        .services()
        .into_iter()
        .map(|x| json!({"id": x.id, "state": x.state, "expected": x.expected, "observed": x.observed, "tier": x.tier}))
        .collect();
    let incidents: Vec<Value> = engine
        .open_incidents()
        .into_iter()
        .map(|i| json!({"id": i.id, "kind": i.kind, "severity": i.severity, "title": i.title, "suppressed": i.suppressed}))
        .collect();
    let dead = s.store.dead_letters().map(|d| d.len()).unwrap_or(0);
    Json(json!({
        "topology": s.topology_name,
        "uptime_s": s.started.elapsed().as_secs(),
        "now": engine.now(),
        "counts": counts,
        "services": services,
        "incidents": incidents,
        "notify": s.notifier.stats(),
        "dead_letters": dead,
        "lab": s.simulated,
    }))
}

async fn services(State(s): S) -> Json<Value> {
    Json(json!({"services": s.engine().services()}))
}

async fn components(State(s): S) -> Json<Value> {
    Json(json!({"components": s.engine().components()}))
}

#[derive(Deserialize)]
struct IncQuery {
    #[serde(default)]
    all: bool,
}

async fn incidents(State(s): S, Query(q): Query<IncQuery>) -> Json<Value> {
    let engine = s.engine();
    let open: Vec<_> = engine.open_incidents().into_iter().cloned().collect();
    let resolved: Vec<_> = if q.all {
        engine.recent_resolved().take(100).cloned().collect()
    } else {
        Vec::new()
    };
    Json(json!({"open": open, "resolved": resolved}))
}

async fn why(State(s): S, Path(id): Path<String>) -> Response {
    let engine = s.engine();
    let tree = match engine.why(&id) {
        Ok(t) => t,
        Err(e) => return error(StatusCode::NOT_FOUND, e.to_string()),
    };
    let incident = engine
        .open_incidents()
        .into_iter()
        .find(|i| i.affected_services.iter().any(|a| a.id == id) || i.root_causes.contains(&id))
        .cloned();
    let service = engine.services().into_iter().find(|x| x.id == id);
    let failed = tree.failed_components();
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
    Json(json!({
        "id": id,
        "state": tree.state,
        "service": service,
        "failed": failed,
        "tree": tree,
        "text": text,
        "incident": incident,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Since {
    #[serde(default)]
    since: u64,
}

async fn timeline(State(s): S, Query(q): Query<Since>) -> Json<Value> {
    let engine = s.engine();
    let entries: Vec<_> = engine
        .timeline()
        .filter(|e| e.at >= q.since)
        .cloned()
        .collect();
    Json(json!({"timeline": entries}))
}

async fn metrics(State(s): S) -> Response {
    s.metrics.refresh(&s.engine());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.encode(),
    )
        .into_response()
}
