//! Who may use the API, checked by one middleware layered over the whole router (the
//! collector's routes and every merged one, such as the lab's):
//!
//! * **`Host:`** must be an IP address, `localhost` (or a `*.localhost` name), or one of
//!   `[api] hosts`. A browser tricked by DNS rebinding sends the attacker's *name*, so refusing
//!   unknown names keeps a web page from reading the API. A request without `Host:` is not from
//!   a browser and passes.
//! * **Requests that change something** (any method but GET, HEAD, OPTIONS) must carry
//!   `Content-Type: application/json` or `Authorization: Bearer TOKEN` (with `[api] token`).
//!   A cross-site page can POST `text/plain` or a form without asking; it cannot send JSON or
//!   an `Authorization` header without a CORS preflight, which this API never grants.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use faultline_api as api;
use faultline_secret::Secret;

/// The rules, from `[api]`.
#[derive(Debug)]
pub(crate) struct Policy {
    /// Accepted names, lower case, without a trailing dot.
    hosts: Vec<String>,
    /// `"*"` was listed: any name.
    any_host: bool,
    token: Option<Secret>,
}

impl Policy {
    pub(crate) fn new(hosts: &[String], token: Option<Secret>) -> Policy {
        Policy {
            hosts: hosts.iter().map(|h| normalise(h)).collect(),
            any_host: hosts.iter().any(|h| h == "*"),
            token,
        }
    }

    /// `None` when the request may proceed, else the refusal.
    fn refusal(&self, method: &Method, headers: &HeaderMap) -> Option<Response> {
        if let Some(host) = headers.get(header::HOST) {
            let host = host.to_str().unwrap_or("");
            if !self.host_allowed(host) {
                return Some(refuse(
                    StatusCode::FORBIDDEN,
                    format!(
                        "Host `{}` is not a name of this collector; add it to [api] hosts",
                        host.escape_debug()
                    ),
                ));
            }
        }
        let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe && !is_json(headers) && !self.has_token(headers) {
            return Some(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "{method} needs `Content-Type: application/json` (or `Authorization: Bearer` \
                     with the [api] token): cross-site form and text posts are refused"
                ),
            ));
        }
        None
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

    fn has_token(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return false;
        };
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| token.ct_eq(given.trim().as_bytes()))
    }
}

/// The middleware: refuse, or pass on.
/// The console's form posts are urlencoded: their handlers check its CSRF token and `Origin`
/// instead (`console_actions.rs`), so only the media-type rule is waived for them.
pub(crate) async fn guard(State(policy): State<Arc<Policy>>, req: Request, next: Next) -> Response {
    let form = super::console_actions::is_form_path(req.uri().path());
    match policy.refusal(req.method(), req.headers()) {
        Some(r) if !(form && r.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE) => r,
        _ => next.run(req).await,
    }
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

    #[test]
    fn hosts_ip_literals_localhost_and_configured_names_pass() {
        let p = Policy::new(&["Mon-1.example.com.".to_string()], None);
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
        assert!(Policy::new(&["*".to_string()], None).host_allowed("anything:1"));
    }

    #[test]
    fn changes_need_json_or_the_token() {
        let p = Policy::new(&[], Some(Secret::new("t0ken")));
        let post = Method::POST;
        let refused = |h: &HeaderMap| p.refusal(&post, h).map(|r| r.status());
        let unsupported = Some(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(refused(&headers(&[])), unsupported);
        assert_eq!(
            refused(&headers(&[(header::CONTENT_TYPE, "text/plain")])),
            unsupported
        );
        assert_eq!(
            refused(&headers(&[(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded"
            )])),
            unsupported
        );
        assert_eq!(
            refused(&headers(&[(header::AUTHORIZATION, "Bearer wrong")])),
            unsupported
        );
        assert_eq!(
            refused(&headers(&[(
                header::CONTENT_TYPE,
                "Application/JSON; charset=utf-8"
            )])),
            None
        );
        assert_eq!(
            refused(&headers(&[(header::AUTHORIZATION, "Bearer t0ken")])),
            None
        );
        assert_eq!(
            p.refusal(&Method::GET, &headers(&[])).map(|r| r.status()),
            None
        );
        let evil = headers(&[(header::HOST, "evil.example")]);
        assert_eq!(
            p.refusal(&Method::GET, &evil).map(|r| r.status()),
            Some(StatusCode::FORBIDDEN)
        );
    }
}
