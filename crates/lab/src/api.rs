//! The lab's HTTP routes, merged into the collector's API by `faultline run`:
//!
//! | route | what |
//! |---|---|
//! | `GET /api/lab` | [`LabStatus`] |
//! | `POST /api/lab/{fail,heal}/{id}` | fail or heal a device or link, then the status |
//! | `POST /api/lab/{fix,reset}` | copy the configuration to the spare / heal everything |
//!
//! Errors are `{"error": "..."}` with 400 (bad action or id) or 404 (no lab running).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use crate::{Lab, LabStatus};

/// The lab's routes. Without a lab they still answer, with 404 and a message that says so,
/// so that `faultline lab` against a collector without one explains itself.
pub fn routes(lab: Option<Lab>) -> Router {
    Router::new()
        .route("/api/lab", get(status))
        .route("/api/lab/{action}", post(action))
        .route("/api/lab/{action}/{id}", post(action_on))
        .with_state(lab)
}

type S = State<Option<Lab>>;

#[derive(Serialize)]
struct ApiError {
    error: String,
}

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

async fn status(State(lab): S) -> Response {
    match lab {
        Some(lab) => ok(lab.status()),
        None => no_lab(),
    }
}

async fn action(State(lab): S, Path(action): Path<String>) -> Response {
    let Some(lab) = lab else { return no_lab() };
    match action.as_str() {
        "fix" => lab.fix(),
        "reset" => lab.reset(),
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("unknown lab action `{other}` (fail ID, heal ID, fix, reset)"),
            );
        }
    }
    ok(lab.status())
}

async fn action_on(State(lab): S, Path((action, id)): Path<(String, String)>) -> Response {
    let Some(lab) = lab else { return no_lab() };
    let r = match action.as_str() {
        "fail" => lab.fail(&id),
        "heal" => lab.heal(&id),
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("unknown lab action `{other}`"),
            );
        }
    };
    match r {
        Ok(()) => ok(lab.status()),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}
