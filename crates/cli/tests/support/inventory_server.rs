//! What the NetBox and Nautobot API tests' servers share: the token check as both servers
//! answer it, the record of every page asked for, and an axum app on a free loopback port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The API token the servers accept (`Token ...`).
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef01234567";

/// The 403 both servers give without the right token, or `None` with it.
pub fn refused(headers: &HeaderMap) -> Option<Response> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (auth != format!("Token {TOKEN}")).then(|| {
        (
            StatusCode::FORBIDDEN,
            Json(json!({"detail": "Invalid token"})),
        )
            .into_response()
    })
}

/// Note a page request as `endpoint?k=v&...` (parameters sorted).
pub fn note(asked: &Arc<Mutex<Vec<String>>>, endpoint: &str, q: &HashMap<String, String>) {
    let mut query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    query.sort();
    asked
        .lock()
        .unwrap()
        .push(format!("{endpoint}?{}", query.join("&")));
}

/// Serve the app `app(base_url)` makes on a free loopback port until the test ends; returns the
/// base URL (`http://127.0.0.1:PORT`).
pub fn serve(app: impl FnOnce(SocketAddr) -> Router + Send + 'static) -> String {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr: SocketAddr = std_listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            axum::serve(listener, app(addr)).await.expect("serve");
        });
    });
    format!("http://{addr}")
}
