//! Security headers on every answer: the console's pages load only their own script and
//! stylesheet (no inline script), are never framed, never sniffed, and leak no URL to others.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// The Content-Security-Policy: own assets only, no inline script or style, no framing, forms
/// post only to this origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const HEADERS: &[(HeaderName, &str)] = &[
    (header::CONTENT_SECURITY_POLICY, CSP),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    // Same-origin, not no-referrer: form posts keep their `Origin`, which the CSRF check reads.
    (header::REFERRER_POLICY, "same-origin"),
];

/// The middleware: add each header the handler did not set.
pub(crate) async fn secure(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    for (name, value) in HEADERS {
        if !h.contains_key(name) {
            h.insert(name.clone(), HeaderValue::from_static(value));
        }
    }
    resp
}
