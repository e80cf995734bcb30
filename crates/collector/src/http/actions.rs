//! Operators' actions, shared by the JSON API and the console's forms: each becomes an
//! observation the engine task journals and feeds in stream order (so replay repeats it), and
//! the answer waits until the engine has taken it.
//!
//! | route | does |
//! |---|---|
//! | `POST /api/v1/incidents/{id}/ack` | acknowledge ([`api::AckRequest`]) → the incident |
//! | `POST /api/v1/incidents/{id}/unack` | withdraw it → the incident |
//! | `GET /api/v1/maintenance` | [`api::MaintenanceResponse`]: configuration and run-time windows |
//! | `POST /api/v1/maintenance` | add one ([`api::MaintenanceRequest`]) → the windows |
//! | `POST /api/v1/maintenance/{id}/end` | end a run-time window now → the windows |

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use faultline_api as api;
use faultline_engine::Engine;
use faultline_observe::time::now_ms;
use faultline_observe::{Observation, Signal, Subject, UnixMillis};

use super::auth::{Actor, AuthMethod};
use crate::Shared;
use crate::wire::ToApi;

type S = State<Arc<Shared>>;

/// How long an action's answer waits for the engine to take it.
const TAKEN_WITHIN: Duration = Duration::from_secs(10);

/// Who acts when the request names nobody.
pub(crate) const API_USER: &str = "api";

/// An action refused or not taken: its status and message.
#[derive(Debug)]
pub(crate) struct Refused {
    pub status: StatusCode,
    pub message: String,
}

impl Refused {
    fn new(status: StatusCode, message: impl Into<String>) -> Refused {
        Refused {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let body = Json(api::ApiError {
            error: self.message,
        });
        (self.status, body).into_response()
    }
}

/// The action routes, relative to the API prefix.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    use api::path;
    use axum::routing::{get, post};
    Router::new()
        .route(path::INCIDENT_ACK, post(ack_route))
        .route(path::INCIDENT_UNACK, post(unack_route))
        .route(path::MAINTENANCE, get(list_route).post(add_route))
        .route(path::MAINTENANCE_END, post(end_route))
}

/// Who acts: the authenticated user or token (a claimed `by` is ignored then), else the
/// claimed name (the CLI sends `$USER`), else `fallback`.
pub(crate) fn who(actor: Option<&Actor>, claimed: Option<String>, fallback: &str) -> String {
    match actor {
        Some(a) if a.method != AuthMethod::Open => a.name.clone(),
        _ => claimed.unwrap_or_else(|| fallback.to_string()),
    }
}

async fn ack_route(
    State(s): S,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
    body: Option<Json<api::AckRequest>>,
) -> Result<Json<api::Incident>, Refused> {
    ack_as(&s, actor, &id, body, true).await
}

async fn unack_route(
    State(s): S,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
    body: Option<Json<api::AckRequest>>,
) -> Result<Json<api::Incident>, Refused> {
    ack_as(&s, actor, &id, body, false).await
}

/// Acknowledge (`ack`) or withdraw it, as the request's actor; a withdrawal keeps no comment.
async fn ack_as(
    s: &Shared,
    actor: Option<Extension<Actor>>,
    id: &str,
    body: Option<Json<api::AckRequest>>,
    ack: bool,
) -> Result<Json<api::Incident>, Refused> {
    let req = body.map(|Json(b)| b).unwrap_or_default();
    let by = who(actor.as_deref(), req.by, API_USER);
    let comment = if ack {
        req.comment.unwrap_or_default()
    } else {
        String::new()
    };
    acknowledge(s, id, ack, &by, comment).await.map(Json)
}

async fn list_route(State(s): S) -> Json<api::MaintenanceResponse> {
    Json(windows(&s.engine()))
}

async fn add_route(
    State(s): S,
    actor: Option<Extension<Actor>>,
    Json(req): Json<api::MaintenanceRequest>,
) -> Result<Json<api::MaintenanceResponse>, Refused> {
    let by = who(actor.as_deref(), req.by.clone(), API_USER);
    add_window(&s, req, &by).await.map(|(_, w)| Json(w))
}

async fn end_route(
    State(s): S,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
    body: Option<Json<api::AckRequest>>,
) -> Result<Json<api::MaintenanceResponse>, Refused> {
    let by = who(actor.as_deref(), body.and_then(|Json(b)| b.by), API_USER);
    end_window(&s, &id, &by).await.map(Json)
}

/// Acknowledge (`ack`) or unacknowledge the open incident `id` as `by`; answers the incident
/// once the engine has taken the action. Unknown or resolved ids: 404.
pub(crate) async fn acknowledge(
    s: &Shared,
    id: &str,
    ack: bool,
    by: &str,
    comment: String,
) -> Result<api::Incident, Refused> {
    let state = |e: &Engine| {
        e.open_incidents()
            .into_iter()
            .find(|i| i.id == id)
            .map(|i| (i.acknowledged.is_some(), i.to_api()))
    };
    let Some((acked, current)) = state(&s.engine()) else {
        return Err(Refused::new(
            StatusCode::NOT_FOUND,
            format!("no open incident `{id}` (unknown, or resolved already)"),
        ));
    };
    if acked == ack {
        return Ok(current);
    }
    let signal = if ack {
        Signal::Acknowledge {
            incident: id.to_string(),
            by: by.to_string(),
            comment,
        }
    } else {
        Signal::Unacknowledge {
            incident: id.to_string(),
            by: by.to_string(),
        }
    };
    submit(s, signal).await?;
    let incident = taken(s, |e| match state(e) {
        Some((a, inc)) if a == ack => Some(inc),
        _ => None,
    })
    .await;
    incident.ok_or_else(not_taken)
}

/// Add a run-time window as `by`; answers its id and every window once the engine has it.
pub(crate) async fn add_window(
    s: &Shared,
    req: api::MaintenanceRequest,
    by: &str,
) -> Result<(String, api::MaintenanceResponse), Refused> {
    let bad = |m: String| Refused::new(StatusCode::BAD_REQUEST, m);
    if req.components.is_empty() {
        return Err(bad("name at least one component".into()));
    }
    let now = now_ms();
    let (window, components) = {
        let engine = s.engine();
        let mut components = Vec::new();
        for c in &req.components {
            engine
                .graph()
                .lookup(c)
                .map_err(|e| bad(format!("component `{c}`: {e}")))?;
            components.push(c.clone());
        }
        let mut window = format!("mw-{now}");
        let mut n = 1;
        while engine.runtime_windows().any(|w| w.id == window) {
            n += 1;
            window = format!("mw-{now}-{n}");
        }
        (window, components)
    };
    let from = req.from.map_or(now, |f| f.0);
    let to = match (req.to, req.for_ms) {
        (Some(to), None) => to.0,
        (None, Some(ms)) if ms > 0 => from.saturating_add(ms),
        (None, Some(_)) => return Err(bad("`for_ms` must be more than 0".into())),
        _ => return Err(bad("give exactly one of `to` and `for_ms`".into())),
    };
    if to <= from || to <= now {
        return Err(bad(
            "the window must end after it starts and after now".into()
        ));
    }
    let signal = Signal::MaintenanceStart {
        window: window.clone(),
        components,
        from,
        to,
        reason: req.reason,
        by: by.to_string(),
    };
    submit(s, signal).await?;
    let has = |e: &Engine| e.runtime_windows().any(|w| w.id == window);
    match taken(s, |e| has(e).then(|| windows(e))).await {
        Some(w) => Ok((window, w)),
        None => Err(not_taken()),
    }
}

/// End run-time window `id` now, as `by`. Unknown ids (and the configuration's): 404.
pub(crate) async fn end_window(
    s: &Shared,
    id: &str,
    by: &str,
) -> Result<api::MaintenanceResponse, Refused> {
    let now = now_ms();
    let found = {
        let engine = s.engine();
        engine
            .runtime_windows()
            .find(|w| w.id == id)
            .map(|w| w.to > engine.now().max(now))
    };
    match found {
        None => {
            return Err(Refused::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no run-time maintenance window `{id}` (the configuration's cannot be ended \
                     here)"
                ),
            ));
        }
        Some(false) => return Ok(windows(&s.engine())),
        Some(true) => {}
    }
    let signal = Signal::MaintenanceEnd {
        window: id.to_string(),
        by: by.to_string(),
    };
    submit(s, signal).await?;
    let ended = |e: &Engine| {
        e.runtime_windows()
            .any(|w| w.id == id && w.ended_by.is_some())
    };
    taken(s, |e| ended(e).then(|| windows(e)))
        .await
        .ok_or_else(not_taken)
}

fn not_taken() -> Refused {
    Refused::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the action was queued but the engine has not taken it yet; retry to check",
    )
}

/// Hand the action to the engine task (it journals it, then feeds it).
async fn submit(s: &Shared, signal: Signal) -> Result<(), Refused> {
    let obs = Observation::new(now_ms(), Subject::device(""), signal);
    s.actions.send(vec![obs]).await.map_err(|_| {
        Refused::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this collector runs no engine (a poller): act on the correlator",
        )
    })
}

/// Wait (at most [`TAKEN_WITHIN`]) until `check` finds the action taken.
async fn taken<T>(s: &Shared, check: impl Fn(&Engine) -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + TAKEN_WITHIN;
    loop {
        if let Some(v) = check(&s.engine()) {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every window: the configuration's (`config-N`) and the run-time ones, by start.
pub(crate) fn windows(e: &Engine) -> api::MaintenanceResponse {
    let now: UnixMillis = e.now().max(now_ms());
    let active = |from: UnixMillis, to: UnixMillis| from <= now && now < to;
    let mut windows: Vec<api::MaintenanceWindow> = e
        .config()
        .maintenance
        .iter()
        .enumerate()
        .map(|(i, m)| api::MaintenanceWindow {
            id: format!("config-{}", i + 1),
            source: api::WindowSource::Config,
            components: m.components.clone(),
            from: api::UnixMillis(m.from),
            to: api::UnixMillis(m.to),
            reason: m.reason.clone(),
            by: String::new(),
            ended_by: None,
            active: active(m.from, m.to),
        })
        .collect();
    windows.extend(e.runtime_windows().map(|w| api::MaintenanceWindow {
        id: w.id.clone(),
        source: api::WindowSource::Runtime,
        components: w.components.clone(),
        from: api::UnixMillis(w.from),
        to: api::UnixMillis(w.to),
        reason: w.reason.clone(),
        by: w.by.clone(),
        ended_by: w.ended_by.clone(),
        active: active(w.from, w.to),
    }));
    windows.sort_by(|a, b| (a.from, &a.id).cmp(&(b.from, &b.id)));
    api::MaintenanceResponse { windows }
}
