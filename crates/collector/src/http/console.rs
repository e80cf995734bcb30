//! The operator console's pages, served beside the JSON API from the same server: each handler
//! gathers its data under the engine lock, lets go of it, and renders with
//! [`faultline_console`] (pure). Unknown ids and paths answer a 404 page (JSON under `/api`).
//!
//! | route | page |
//! |---|---|
//! | `GET /` | redirect to `/incidents` |
//! | `GET /incidents` | open incidents, then the recently resolved |
//! | `GET /incidents/{id}` | verdict, why-trees, suspects, outage windows, evidence, pages |
//! | `GET /why/{id}` | the live why-tree (the pagers' links land here) |
//! | `GET /services`, `/components/{id}`, `/ready` | states, one component, standby readiness |
//! | `GET /map[?service=ID]` | the topology as inline SVG |
//! | `GET /assets/console.{js,css}` | the embedded script and stylesheet |
//!
//! Pages shown to an operator carry the forms' anti-forgery token (the guard's [`Forms`]
//! extension, see `guard.rs`); a viewer's pages are read-only.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use faultline_api as api;
use faultline_console::{self as console, Ctx, Delivery, Forms};
use serde::Deserialize;

use super::routes::{RESOLVED_LISTED, why_response};
use crate::Shared;
use crate::wire::ToApi;

type S = State<Arc<Shared>>;

/// The console's routes (merged into the collector's router).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/incidents") }))
        .route("/incidents", get(incidents))
        .route("/incidents/{id}", get(incident))
        .route("/why/{id}", get(why))
        .route("/services", get(services))
        .route("/components/{id}", get(component))
        .route("/ready", get(ready))
        .route("/map", get(map))
        .merge(super::console_actions::routes())
        .route("/assets/console.js", get(script))
        .route("/assets/console.css", get(style))
        .fallback(not_found)
        .with_state(shared)
}

/// The viewer's action forms, when the guard found an operator.
pub(crate) struct Viewer(Option<Forms>);

impl<T: Send + Sync> FromRequestParts<T> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &T) -> Result<Self, Self::Rejection> {
        Ok(Viewer(parts.extensions.get::<Forms>().cloned()))
    }
}

fn ctx(s: &Shared, now: u64, v: &Viewer) -> Ctx {
    let mut c = Ctx::new(now, &s.topology_name);
    c.forms = v.0.clone();
    c
}

fn html(markup: console::Markup) -> Response {
    Html(markup.into_string()).into_response()
}

fn missing(ctx: &Ctx, what: String) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(console::not_found_page(ctx, &what).into_string()),
    )
        .into_response()
}

async fn incidents(v: Viewer, State(s): S) -> Response {
    let (c, open, resolved) = {
        let e = s.engine();
        let open: Vec<api::Incident> = e.open_incidents().to_api();
        let resolved: Vec<api::Incident> = e
            .recent_resolved()
            .take(RESOLVED_LISTED)
            .map(ToApi::to_api)
            .collect();
        (ctx(&s, e.now(), &v), open, resolved)
    };
    html(console::incidents_page(&c, &open, &resolved))
}

async fn incident(v: Viewer, State(s): S, Path(id): Path<String>) -> Response {
    let (c, found, trees) = {
        let e = s.engine();
        let c = ctx(&s, e.now(), &v);
        let found: Option<api::Incident> = e
            .open_incidents()
            .into_iter()
            .chain(e.recent_resolved())
            .find(|i| i.id == id)
            .map(ToApi::to_api);
        let trees: Vec<api::WhyNode> = found
            .iter()
            .flat_map(|i| {
                let ids: Vec<&String> = if i.affected_services.is_empty() {
                    i.root_causes.iter().collect()
                } else {
                    i.affected_services.iter().map(|a| &a.id).collect()
                };
                ids.into_iter()
                    .filter_map(|x| e.why(x).ok().map(|t| t.to_api()))
                    .collect::<Vec<_>>()
            })
            .collect();
        (c, found, trees)
    };
    let Some(found) = found else {
        return missing(
            &c,
            format!("No incident `{id}` (open or recently resolved)."),
        );
    };
    let deliveries = deliveries(&s, &found.id);
    html(console::incident_page(
        &c,
        &console::IncidentView {
            incident: &found,
            trees: &trees,
            deliveries: &deliveries,
            acknowledged: found.acknowledged.as_ref().map(|a| (a.by.as_str(), a.at)),
        },
    ))
}

/// How each receiver stands with incident `id`: paged (delivered), still in the outbox, or
/// given up on. Store errors show as no rows (the page still renders).
fn deliveries(s: &Shared, id: &str) -> Vec<Delivery> {
    let mut out = Vec::new();
    for p in s.store.paged(None).unwrap_or_default() {
        if p.incident.id == id {
            out.push(Delivery {
                receiver: p.receiver,
                state: "paged".to_string(),
                detail: format!("last sent: {}", p.incident.title),
                since: Some(api::UnixMillis(p.since)),
            });
        }
    }
    for o in s.store.outbox().unwrap_or_default() {
        if o.transition.incident.id == id {
            out.push(Delivery {
                receiver: o.receiver,
                state: "pending".to_string(),
                detail: format!(
                    "{:?}, {} failed attempt(s){}",
                    o.transition.action,
                    o.attempts,
                    o.last_error.map(|e| format!(": {e}")).unwrap_or_default()
                ),
                since: Some(api::UnixMillis(o.enqueued_at)),
            });
        }
    }
    for d in s.store.dead_letters().unwrap_or_default() {
        if d.entry.transition.incident.id == id {
            out.push(Delivery {
                receiver: d.entry.receiver,
                state: "dead-lettered".to_string(),
                detail: match d.status {
                    Some(code) => format!("refused with HTTP {code}"),
                    None => "given up".to_string(),
                },
                since: Some(api::UnixMillis(d.at)),
            });
        }
    }
    out
}

async fn why(v: Viewer, State(s): S, Path(id): Path<String>) -> Response {
    let (c, answer) = {
        let e = s.engine();
        (ctx(&s, e.now(), &v), why_response(&e, id))
    };
    match answer {
        Ok(w) => html(console::why_page(&c, &w)),
        Err(e) => missing(&c, e),
    }
}

async fn services(v: Viewer, State(s): S) -> Response {
    let (c, list) = {
        let e = s.engine();
        let list: Vec<api::ServiceStatus> = e.services().to_api();
        (ctx(&s, e.now(), &v), list)
    };
    html(console::services_page(&c, &list))
}

async fn component(v: Viewer, State(s): S, Path(id): Path<String>) -> Response {
    let (c, all, graph, why, windows) = {
        let e = s.engine();
        let all: Vec<api::ComponentStatus> = e.components().to_api();
        let mut windows = super::actions::windows(&e).windows;
        windows.retain(|w| w.components.contains(&id));
        (
            ctx(&s, e.now(), &v),
            all,
            e.graph().clone(),
            why_response(&e, id.clone()).ok(),
            windows,
        )
    };
    let mut all = all;
    if let Some(problem) = s.poll_problems.current().remove(&id)
        && let Some(me) = all.iter_mut().find(|x| x.id == id)
    {
        me.problem = Some(problem);
    }
    let Some(status) = all.iter().find(|x| x.id == id) else {
        return missing(&c, format!("No component `{id}` in the topology."));
    };
    html(console::component_page(
        &c,
        &console::ComponentView {
            status,
            topology: graph.topology(),
            all: &all,
            why: why.as_ref(),
            windows: &windows,
        },
    ))
}

async fn ready(v: Viewer, State(s): S) -> Response {
    let (c, groups) = {
        let e = s.engine();
        let groups: Vec<api::GroupReady> = e.readiness().to_api();
        (ctx(&s, e.now(), &v), groups)
    };
    html(console::ready_page(&c, &groups))
}

/// Query of `/map`.
#[derive(Debug, Deserialize)]
struct MapQuery {
    /// Only this service's dependency cone (empty: everything).
    #[serde(default)]
    service: Option<String>,
}

async fn map(v: Viewer, State(s): S, Query(q): Query<MapQuery>) -> Response {
    let (c, states, graph) = {
        let e = s.engine();
        let states: HashMap<String, api::State> = e
            .components()
            .into_iter()
            .map(|x| (x.id, x.state.to_api()))
            .collect();
        (ctx(&s, e.now(), &v), states, e.graph().clone())
    };
    let opts = console::MapOptions {
        service: q.service.filter(|x| !x.is_empty()),
    };
    match console::map_page(&c, graph.topology(), &states, &opts) {
        Ok(page) => html(page),
        Err(e) => missing(&c, e.to_string()),
    }
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", console::CONSOLE_JS)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", console::CONSOLE_CSS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// Unknown paths: JSON under `/api`, a page elsewhere.
async fn not_found(v: Viewer, State(s): S, uri: Uri) -> Response {
    if uri.path().starts_with(api::LEGACY_PREFIX) {
        return (
            StatusCode::NOT_FOUND,
            Json(api::ApiError {
                error: format!("no route {}", uri.path()),
            }),
        )
            .into_response();
    }
    let c = ctx(&s, s.engine().now(), &v);
    missing(&c, format!("No page at {}.", uri.path()))
}
