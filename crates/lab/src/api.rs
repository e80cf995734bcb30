//! The lab's HTTP routes, merged into the collector's API by `faultline run`, under `/api/v1`
//! and the unversioned `/api` alias like the collector's own:
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/v1/lab` | [`LabStatus`] |
//! | `POST /api/v1/lab/{fail,heal}/{id}` | fail or heal a device or link, then the status |
//! | `POST /api/v1/lab/{fix,reset}` | copy the configuration to the spare / heal everything |
//! | `POST /api/v1/lab/drift/{id}/{what}` | inject a drift (`forwarding`) into a device |
//!
//! Errors answer [`ApiError`] with 400 (bad action or id) or 404 (no lab running).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use faultline_api::{ApiError, LEGACY_PREFIX, LabAction, PREFIX, path};

use crate::{Drift, Lab, LabStatus};

/// The lab's routes. Without a lab they still answer, with 404 and a message that says so,
/// so that `faultline lab` against a collector without one explains itself.
pub fn routes(lab: Option<Lab>) -> Router {
    let relative = || {
        Router::new()
            .route(path::LAB, get(status))
            .route(path::LAB_ACTION, post(action))
            .route(path::LAB_ACTION_ID, post(action_on))
            .route(path::LAB_DRIFT, post(drift))
    };
    Router::new()
        .nest(PREFIX, relative())
        .nest(LEGACY_PREFIX, relative())
        .with_state(lab)
}

type S = State<Option<Lab>>;

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(ApiError { error: msg.into() })).into_response()
}

fn no_lab() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "this collector is not running the demo lab",
    )
}

fn ok(status: LabStatus) -> Response {
    Json(status).into_response()
}

fn unknown(action: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        format!("unknown lab action `{action}` (fail ID, heal ID, fix, reset)"),
    )
}

async fn status(State(lab): S) -> Response {
    match lab {
        Some(lab) => ok(lab.status()),
        None => no_lab(),
    }
}

async fn action(State(lab): S, Path(action): Path<String>) -> Response {
    let Some(lab) = lab else { return no_lab() };
    match LabAction::from_name(&action) {
        Some(LabAction::Fix) => lab.fix(),
        Some(LabAction::Reset) => lab.reset(),
        Some(needs_id) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("lab action `{needs_id}` needs a device or link id"),
            );
        }
        None => return unknown(&action),
    }
    ok(lab.status())
}

async fn action_on(State(lab): S, Path((action, id)): Path<(String, String)>) -> Response {
    let Some(lab) = lab else { return no_lab() };
    let done = match LabAction::from_name(&action) {
        Some(LabAction::Fail) => lab.fail(&id),
        Some(LabAction::Heal) => lab.heal(&id),
        Some(no_id) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("lab action `{no_id}` takes no id"),
            );
        }
        None => return unknown(&action),
    };
    match done {
        Ok(()) => ok(lab.status()),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn drift(State(lab): S, Path((id, what)): Path<(String, String)>) -> Response {
    let Some(lab) = lab else { return no_lab() };
    match Drift::from_name(&what).and_then(|d| lab.drift(&id, d)) {
        Ok(()) => ok(lab.status()),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}
