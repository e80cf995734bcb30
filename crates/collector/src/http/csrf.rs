//! Anti-forgery for the console's form posts. A browser attaches basic-auth credentials to any
//! request to this origin, a cross-site form post included; so a form post must carry a `csrf`
//! field (HMAC of the actor's name under the per-process key: bound to the user, unguessable
//! from outside) and an `Origin` that is this server's own. JSON requests and bearer-token
//! requests need neither: a browser cannot send them cross-site without a CORS preflight,
//! which this API never grants.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, header};

use super::auth::mac;

/// The form field that carries the token.
pub(crate) const FIELD: &str = "csrf";

/// A form post's body is read into memory to find the token: at most this much.
const FORM_MAX: usize = 64 * 1024;

/// The token of `actor`'s forms (hex).
pub(crate) fn token(actor: &str) -> String {
    hex::encode(mac(&[b"csrf", actor.as_bytes()]))
}

/// Whether `given` is `actor`'s token (compared in constant time).
fn valid(actor: &str, given: &str) -> bool {
    let want = token(actor);
    want.len() == given.len()
        && want
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// `application/x-www-form-urlencoded` (what an HTML form posts).
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Whether `Origin` names this server: `{scheme}://{Host}`. A form post without `Origin` is
/// refused (every current browser sends it on POST).
fn same_origin(headers: &HeaderMap, tls: bool) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let (Some(origin), Some(host)) = (origin, host) else {
        return false;
    };
    let scheme = if tls { "https" } else { "http" };
    origin.eq_ignore_ascii_case(&format!("{scheme}://{host}"))
}

/// Check a form post of `actor`: the `Origin`, then the token in its body. `Ok` gives the
/// request back, its body intact for the handler; `Err` says what is wrong (a 403).
pub(crate) async fn check_form(req: Request, actor: &str, tls: bool) -> Result<Request, String> {
    if !same_origin(req.headers(), tls) {
        return Err("a form post must come from this server's own pages (Origin)".into());
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, FORM_MAX)
        .await
        .map_err(|_| format!("a form post is limited to {FORM_MAX} bytes"))?;
    let given = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned());
    match given {
        Some(t) if valid(actor, &t) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Some(_) => Err("the form's anti-forgery token is wrong (reload the page)".into()),
        None => Err("the form carries no anti-forgery token".into()),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn form(origin: &str, body: &str) -> Request {
        let mut r = Request::new(Body::from(body.to_string()));
        let h = r.headers_mut();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9180"));
        h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        r
    }

    #[tokio::test]
    async fn tokens_are_bound_to_the_user_and_the_origin_must_match() {
        let ops = token("ops");
        assert_ne!(ops, token("eve"));
        let own = "http://127.0.0.1:9180";
        let ok = check_form(form(own, &format!("reason=x&csrf={ops}")), "ops", false).await;
        let body = to_bytes(ok.unwrap().into_body(), 1024).await.unwrap();
        assert!(
            body.starts_with(b"reason=x"),
            "the handler still gets the body"
        );
        for (origin, body, user) in [
            (own, format!("csrf={ops}"), "eve"),
            (own, "csrf=00".to_string(), "ops"),
            (own, "reason=x".to_string(), "ops"),
            ("http://evil.example", format!("csrf={ops}"), "ops"),
            ("https://127.0.0.1:9180", format!("csrf={ops}"), "ops"),
        ] {
            assert!(
                check_form(form(origin, &body), user, false).await.is_err(),
                "{origin} {body} {user}"
            );
        }
    }
}
