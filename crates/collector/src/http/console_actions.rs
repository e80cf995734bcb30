//! The console's action forms (no JavaScript needed): urlencoded posts carrying the `csrf`
//! token of the pages, answered with a redirect back to the page (post-redirect-get).
//!
//! | route | does |
//! |---|---|
//! | `POST /incidents/{id}/ack` (`comment`), `/unack` | acknowledge / withdraw → the incident page |
//! | `POST /components/{id}/maintenance` (`for`, `reason`) | a window from now → the component page |
//! | `POST /maintenance/{id}/end` (`back`) | end a run-time window now → `back` |
//!
//! The API guard checks these posts like any form post (`guard.rs`, `csrf.rs`): an operator,
//! the anti-forgery token bound to the user, and an `Origin` naming this collector. Who acts
//! is the authenticated user, else `console`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Router};
use faultline_api::{self as api, path::segment};
use serde::Deserialize;

use super::actions::{self, Refused};
use super::auth::Actor;
use crate::Shared;

type S = State<Arc<Shared>>;

/// Who acts from the console until the API knows its users.
const CONSOLE_USER: &str = "console";

/// Longest comment or reason kept.
const TEXT_MAX: usize = 500;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    use axum::routing::post;
    Router::new()
        .route("/incidents/{id}/ack", post(ack))
        .route("/incidents/{id}/unack", post(unack))
        .route("/components/{id}/maintenance", post(add))
        .route("/maintenance/{id}/end", post(end))
}

#[derive(Deserialize)]
struct AckForm {
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize)]
struct MaintenanceForm {
    #[serde(rename = "for", default)]
    duration: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
struct EndForm {
    #[serde(default)]
    back: String,
}

fn refusal(status: StatusCode, message: &str) -> Refused {
    Refused {
        status,
        message: message.to_string(),
    }
}

/// A refused action as a plain-text answer (the console stays usable without JavaScript).
fn text(r: Refused) -> Response {
    (r.status, format!("{}\n", r.message)).into_response()
}

fn clip(text: &str) -> String {
    text.trim().chars().take(TEXT_MAX).collect()
}

/// Who acts from the console: the signed-in user, else `console`.
fn by(actor: Option<Extension<Actor>>) -> String {
    actions::who(actor.as_deref(), None, CONSOLE_USER)
}

async fn ack(
    State(s): S,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
    Form(f): Form<AckForm>,
) -> Response {
    act_on_incident(&s, &id, true, &by(actor), clip(&f.comment)).await
}

async fn unack(
    State(s): S,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
    Form(_): Form<AckForm>,
) -> Response {
    act_on_incident(&s, &id, false, &by(actor), String::new()).await
}

async fn act_on_incident(s: &Shared, id: &str, ack: bool, by: &str, comment: String) -> Response {
    match actions::acknowledge(s, id, ack, by, comment).await {
        Ok(_) => Redirect::to(&format!("/incidents/{}", segment(id))).into_response(),
        Err(r) => text(r),
    }
}

async fn add(
    State(s): S,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
    Form(f): Form<MaintenanceForm>,
) -> Response {
    let d = match humantime::parse_duration(f.duration.trim()) {
        Ok(d) => d,
        Err(e) => {
            let m = format!(
                "maintenance for `{}`: {e} (e.g. 2h, 90m)",
                clip(&f.duration)
            );
            return text(refusal(StatusCode::BAD_REQUEST, &m));
        }
    };
    let req = api::MaintenanceRequest {
        components: vec![id.clone()],
        for_ms: Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        reason: clip(&f.reason),
        ..Default::default()
    };
    match actions::add_window(&s, req, &by(actor)).await {
        Ok(_) => Redirect::to(&format!("/components/{}", segment(&id))).into_response(),
        Err(r) => text(r),
    }
}

async fn end(
    State(s): S,
    actor: Option<Extension<Actor>>,
    Path(id): Path<String>,
    Form(f): Form<EndForm>,
) -> Response {
    // Back to a page of this console only (never an open redirect).
    let back = if f.back.starts_with('/') && !f.back.starts_with("//") {
        f.back
    } else {
        "/incidents".to_string()
    };
    match actions::end_window(&s, &id, &by(actor)).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(r) => text(r),
    }
}
