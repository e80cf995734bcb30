//! The console's action forms (no JavaScript needed): urlencoded posts carrying the `csrf`
//! token of the pages, answered with a redirect back to the page (post-redirect-get).
//!
//! | route | does |
//! |---|---|
//! | `POST /incidents/{id}/ack` (`comment`), `/unack` | acknowledge / withdraw → the incident page |
//! | `POST /components/{id}/maintenance` (`for`, `reason`) | a window from now → the component page |
//! | `POST /maintenance/{id}/end` (`back`) | end a run-time window now → `back` |
//!
//! The API guard lets urlencoded posts through to these paths only; here each must carry the
//! token ([`Csrf`]: an HMAC of a per-process secret, so a restart invalidates old pages) and,
//! when the browser sends one, an `Origin` naming this collector (`Host:`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router};
use faultline_api::{self as api, path::segment};
use hmac::{KeyInit, Mac};
use serde::Deserialize;

use super::actions::{self, Refused};
use crate::Shared;

type S = State<Arc<Shared>>;

/// Who acts from the console until the API knows its users.
const CONSOLE_USER: &str = "console";

/// Longest comment or reason kept.
const TEXT_MAX: usize = 500;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The console's anti-forgery token: HMAC-SHA256 of a fixed label under a secret drawn at
/// start. Pages carry it in every form; posts without it (a cross-site form) are refused.
pub(crate) struct Csrf {
    secret: [u8; 32],
}

impl Csrf {
    /// A fresh secret for this process.
    pub(crate) fn new() -> Csrf {
        Csrf {
            secret: rand::random(),
        }
    }

    /// The keyed MAC of the label (`None` cannot happen: HMAC takes keys of any length).
    fn mac(&self) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(&self.secret).ok()?;
        mac.update(b"faultline console forms v1");
        Some(mac)
    }

    /// The token the pages carry.
    pub(crate) fn token(&self) -> String {
        self.mac()
            .map(|m| hex::encode(m.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// Is `given` the token (compared in constant time)?
    fn check(&self, given: &str) -> bool {
        match (self.mac(), hex::decode(given.trim())) {
            (Some(mac), Ok(bytes)) => mac.verify_slice(&bytes).is_ok(),
            _ => false,
        }
    }
}

/// Paths whose posts are console forms (urlencoded): the guard's one exemption from "changes
/// need JSON or the token"; the handlers check the CSRF token and `Origin` instead.
pub(crate) fn is_form_path(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(
        parts.as_slice(),
        ["incidents", _, "ack" | "unack"]
            | ["components", _, "maintenance"]
            | ["maintenance", _, "end"]
    )
}

/// The console's form routes (merged beside its pages).
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
    csrf: String,
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize)]
struct MaintenanceForm {
    #[serde(default)]
    csrf: String,
    #[serde(rename = "for", default)]
    duration: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
struct EndForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    back: String,
}

/// Refuse a post without the token or from another origin.
fn checked(s: &Shared, headers: &HeaderMap, csrf: &str) -> Result<(), Refused> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let named = origin.split_once("://").map(|(_, rest)| rest);
        if host.is_none() || named != host {
            return Err(refusal(
                StatusCode::FORBIDDEN,
                "refused: the form was posted from another site (Origin does not match)",
            ));
        }
    }
    if !s.csrf.check(csrf) {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            "refused: the form's anti-forgery token is missing or stale; reload the page",
        ));
    }
    Ok(())
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

async fn ack(
    State(s): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<AckForm>,
) -> Response {
    act_on_incident(&s, &id, true, &headers, &f.csrf, clip(&f.comment)).await
}

async fn unack(
    State(s): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<AckForm>,
) -> Response {
    act_on_incident(&s, &id, false, &headers, &f.csrf, String::new()).await
}

async fn act_on_incident(
    s: &Shared,
    id: &str,
    ack: bool,
    headers: &HeaderMap,
    csrf: &str,
    comment: String,
) -> Response {
    if let Err(r) = checked(s, headers, csrf) {
        return text(r);
    }
    match actions::acknowledge(s, id, ack, CONSOLE_USER, comment).await {
        Ok(_) => Redirect::to(&format!("/incidents/{}", segment(id))).into_response(),
        Err(r) => text(r),
    }
}

async fn add(
    State(s): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<MaintenanceForm>,
) -> Response {
    if let Err(r) = checked(&s, &headers, &f.csrf) {
        return text(r);
    }
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
    match actions::add_window(&s, req, CONSOLE_USER).await {
        Ok(_) => Redirect::to(&format!("/components/{}", segment(&id))).into_response(),
        Err(r) => text(r),
    }
}

async fn end(
    State(s): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<EndForm>,
) -> Response {
    if let Err(r) = checked(&s, &headers, &f.csrf) {
        return text(r);
    }
    // Back to a page of this console only (never an open redirect).
    let back = if f.back.starts_with('/') && !f.back.starts_with("//") {
        f.back
    } else {
        "/incidents".to_string()
    };
    match actions::end_window(&s, &id, CONSOLE_USER).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(r) => text(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_checks_and_other_tokens_do_not() {
        let a = Csrf::new();
        let b = Csrf::new();
        assert!(a.check(&a.token()));
        assert!(!a.check(&b.token()));
        assert!(!a.check(""));
        assert!(!a.check("not hex"));
    }

    #[test]
    fn only_the_console_forms_are_form_paths() {
        for yes in [
            "/incidents/fw-a@1/ack",
            "/incidents/fw-a%401/unack",
            "/components/fw-b/maintenance",
            "/maintenance/mw-1/end",
        ] {
            assert!(is_form_path(yes), "{yes}");
        }
        for no in [
            "/api/v1/incidents/x/ack",
            "/api/v1/maintenance",
            "/api/v1/lab/fail/fw-a",
            "/incidents/x",
            "/incidents/x/ack/more",
        ] {
            assert!(!is_form_path(no), "{no}");
        }
    }
}
