//! Who may use the API and console, checked by one middleware layered over the whole router
//! (the collector's routes, the console's pages and every merged one, such as the lab's):
//!
//! * **`Host:`** must be an IP address, `localhost` (or a `*.localhost` name), or one of
//!   `[api] hosts`. A browser tricked by DNS rebinding sends the attacker's *name*, so refusing
//!   unknown names keeps a web page from reading the API. A request without `Host:` is not from
//!   a browser and passes.
//! * **Who**: [`Access::identify`](super::auth::Access::identify) names the [`Actor`] (bearer
//!   token or basic-auth user of `[api.auth]`; everyone is an operator when it is empty). With
//!   `[api.auth]`, a request without credentials answers 401 with `WWW-Authenticate`, wrong
//!   credentials 401; the health probes (and `/metrics` with `open_metrics`) stay open.
//! * **Requests that change something** (any method but GET, HEAD, OPTIONS; whatever the
//!   path, so every new action route is covered) need the `operator` role (a viewer gets 403),
//!   and, unless sent with a bearer token, `Content-Type: application/json` (a cross-site page
//!   cannot send it without a CORS preflight, which this API never grants) or a form post with
//!   this server's `Origin` and the actor's anti-forgery token ([`csrf`](super::csrf); 403
//!   when wrong or missing). Anything else (a cross-site `text/plain` post) answers 415.
//!
//! Handlers behind the guard find the [`Actor`] in the request's extensions, and, for an
//! operator, the console's [`Forms`] (the CSRF token the pages put in their forms).

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use faultline_api as api;
use faultline_console::Forms;

use super::auth::{Access, Actor, AuthMethod, Identity};
use super::csrf;
use crate::config::Role;

/// The rules, from `[api]`.
#[derive(Debug)]
pub(crate) struct Policy {
    /// Accepted names, lower case, without a trailing dot.
    hosts: Vec<String>,
    /// `"*"` was listed: any name.
    any_host: bool,
    access: Arc<Access>,
    /// The listener speaks TLS (the `Origin` of our own pages is `https://`).
    tls: bool,
}

/// What a request that changes something needs besides its actor.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    Pass,
    /// A form post: check its `Origin` and anti-forgery token.
    CheckForm,
    Refuse(StatusCode, String),
}

impl Policy {
    pub(crate) fn new(hosts: &[String], access: Arc<Access>, tls: bool) -> Policy {
        Policy {
            hosts: hosts.iter().map(|h| normalise(h)).collect(),
            any_host: hosts.iter().any(|h| h == "*"),
            access,
            tls,
        }
    }

    /// A refusal when `Host:` names something else than this collector.
    fn host_refusal(&self, headers: &HeaderMap) -> Option<Response> {
        let host = headers.get(header::HOST)?;
        let host = host.to_str().unwrap_or("");
        if self.host_allowed(host) {
            return None;
        }
        Some(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "Host `{}` is not a name of this collector; add it to [api] hosts",
                host.escape_debug()
            ),
        ))
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = normalise(strip_port(host));
        self.any_host
            || name.parse::<IpAddr>().is_ok()
            || name
                .strip_prefix('[')
                .and_then(|n| n.strip_suffix(']'))
                .is_some_and(|n| n.parse::<IpAddr>().is_ok())
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.hosts.contains(&name)
    }

    /// A 401 with the challenges of the configured credentials.
    fn unauthorized(&self, error: &str) -> Response {
        let mut resp = refuse(StatusCode::UNAUTHORIZED, error.to_string());
        for c in self.access.challenges() {
            resp.headers_mut()
                .append(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        resp
    }
}

/// What a request by `actor` with `method` and `headers` needs.
fn change(actor: &Actor, method: &Method, headers: &HeaderMap) -> Change {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Change::Pass;
    }
    if actor.role != Role::Operator {
        return Change::Refuse(
            StatusCode::FORBIDDEN,
            format!(
                "`{}` is a {}: {method} needs the operator role",
                actor.name, actor.role
            ),
        );
    }
    if actor.method == AuthMethod::Bearer || is_json(headers) {
        Change::Pass
    } else if csrf::is_form(headers) {
        Change::CheckForm
    } else {
        Change::Refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "{method} needs `Content-Type: application/json`, a bearer token, or a form \
                 of the console: cross-site text posts are refused"
            ),
        )
    }
}

/// The middleware: refuse, or pass on with the [`Actor`] (and an operator's [`Forms`]).
pub(crate) async fn guard(
    State(policy): State<Arc<Policy>>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(refused) = policy.host_refusal(req.headers()) {
        return refused;
    }
    let actor = match policy.access.identify(req.headers()).await {
        Identity::Known(a) => a,
        _ if policy.access.open_path(req.uri().path()) => return next.run(req).await,
        Identity::Missing => {
            return policy
                .unauthorized("authentication required: a bearer token or a user of [api.auth]");
        }
        Identity::Wrong => return policy.unauthorized("wrong credentials"),
    };
    match change(&actor, req.method(), req.headers()) {
        Change::Pass => {}
        Change::Refuse(status, error) => return refuse(status, error),
        Change::CheckForm => match csrf::check_form(req, &actor.name, policy.tls).await {
            Ok(r) => req = r,
            Err(e) => return refuse(StatusCode::FORBIDDEN, e),
        },
    }
    if actor.role == Role::Operator {
        req.extensions_mut().insert(Forms {
            csrf: csrf::token(&actor.name),
        });
    }
    req.extensions_mut().insert(actor);
    next.run(req).await
}

fn refuse(status: StatusCode, error: String) -> Response {
    (status, Json(api::ApiError { error })).into_response()
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// `name:port` → `name`; `[v6]:port` → `[v6]`; a bare IPv6 address stays whole.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn policy(hosts: &[&str]) -> Policy {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let access = Access::build(&Default::default(), None).unwrap();
        Policy::new(&hosts, Arc::new(access), false)
    }

    #[test]
    fn hosts_ip_literals_localhost_and_configured_names_pass() {
        let p = policy(&["Mon-1.example.com."]);
        for ok in [
            "127.0.0.1:9180",
            "[::1]:9180",
            "::1",
            "10.1.2.3",
            "localhost:9180",
            "app.localhost",
            "mon-1.example.com:9180",
            "MON-1.EXAMPLE.COM",
        ] {
            assert!(p.host_allowed(ok), "{ok}");
        }
        for refused in ["evil.example:9180", "mon-1", "127.0.0.1.evil.example", ""] {
            assert!(!p.host_allowed(refused), "{refused}");
        }
        assert!(policy(&["*"]).host_allowed("anything:1"));
    }

    fn actor(role: Role, method: AuthMethod) -> Actor {
        Actor {
            name: "ops".into(),
            role,
            method,
        }
    }

    #[test]
    fn changes_need_an_operator_and_json_a_bearer_token_or_a_form() {
        let post = Method::POST;
        let basic = actor(Role::Operator, AuthMethod::Basic);
        let status = |c: Change| match c {
            Change::Refuse(s, _) => Some(s),
            _ => None,
        };
        let unsupported = Some(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(status(change(&basic, &post, &headers(&[]))), unsupported);
        let text = headers(&[(header::CONTENT_TYPE, "text/plain")]);
        assert_eq!(status(change(&basic, &post, &text)), unsupported);
        let form = headers(&[(header::CONTENT_TYPE, "application/x-www-form-urlencoded")]);
        assert_eq!(change(&basic, &post, &form), Change::CheckForm);
        let json = headers(&[(header::CONTENT_TYPE, "Application/JSON; charset=utf-8")]);
        assert_eq!(change(&basic, &post, &json), Change::Pass);
        let bearer = actor(Role::Operator, AuthMethod::Bearer);
        assert_eq!(change(&bearer, &post, &text), Change::Pass);
        let viewer = actor(Role::Viewer, AuthMethod::Bearer);
        assert_eq!(
            status(change(&viewer, &Method::DELETE, &json)),
            Some(StatusCode::FORBIDDEN)
        );
        assert_eq!(change(&viewer, &Method::GET, &headers(&[])), Change::Pass);
        let evil = headers(&[(header::HOST, "evil.example")]);
        assert_eq!(
            policy(&[]).host_refusal(&evil).map(|r| r.status()),
            Some(StatusCode::FORBIDDEN)
        );
    }
}
