//! A webhook receiver standing in for the pager: faultline's signed webhook
//! (`X-Faultline-Signature: sha256=HMAC(secret, body)`, body = the incident transition as JSON)
//! on a loopback port, one path per configured receiver (`/oncall`, `/chat`, ...). Every
//! delivery is recorded with whether its signature verified.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{KeyInit, Mac};
use serde_json::Value;

/// One delivery.
#[derive(Debug, Clone)]
pub struct Page {
    /// The path it was posted to: the receiver's name in faultline.toml.
    pub receiver: String,
    pub received: Instant,
    /// `trigger`, `update` or `resolve`.
    pub action: String,
    pub incident_id: String,
    pub kind: String,
    pub severity: String,
    pub title: String,
    pub root_causes: Vec<String>,
    /// Suspect components, best first.
    pub suspects: Vec<String>,
    pub signature_ok: bool,
    /// The whole body.
    pub body: Value,
}

impl Page {
    /// The fields a test looks at, from a webhook body (the one place that knows its shape).
    fn parse(receiver: &str, body: Value, signature_ok: bool) -> Page {
        let inc = &body["incident"];
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let strings = |v: &Value, field: Option<&str>| -> Vec<String> {
            v.as_array()
                .map(|a| a.iter().map(|x| s(field.map_or(x, |f| &x[f]))).collect())
                .unwrap_or_default()
        };
        Page {
            receiver: receiver.to_string(),
            received: Instant::now(),
            action: s(&body["action"]),
            incident_id: s(&inc["id"]),
            kind: s(&inc["kind"]),
            severity: s(&inc["severity"]),
            title: s(&inc["title"]),
            root_causes: strings(&inc["root_causes"], None),
            suspects: strings(&inc["suspects"], Some("component")),
            signature_ok,
            body,
        }
    }

    /// One line for failure messages.
    pub fn summary(&self) -> String {
        format!(
            "{} {} {} {} {} root={:?} suspects={:?} sig={} \"{}\"",
            self.receiver,
            self.action,
            self.incident_id,
            self.kind,
            self.severity,
            self.root_causes,
            self.suspects,
            self.signature_ok,
            self.title
        )
    }
}

struct Shared {
    secret: String,
    pages: Mutex<Vec<Page>>,
}

/// The receiver; its server task ends when this is dropped.
pub struct WebhookReceiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Listen on 127.0.0.1 (a free port), verifying signatures with `secret`.
    pub async fn start(secret: &str) -> WebhookReceiver {
        let shared = Arc::new(Shared {
            secret: secret.to_string(),
            pages: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/{receiver}", post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the webhook receiver");
        let addr = listener.local_addr().expect("webhook receiver address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebhookReceiver { addr, shared, task }
    }

    /// Base URL; a receiver named `oncall` posts to `{url}/oncall`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every delivery so far, in arrival order.
    pub fn pages(&self) -> Vec<Page> {
        self.shared
            .pages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Deliveries to one receiver path.
    pub fn pages_for(&self, receiver: &str) -> Vec<Page> {
        self.pages()
            .into_iter()
            .filter(|p| p.receiver == receiver)
            .collect()
    }

    /// Every delivery, one line each, for failure messages.
    pub fn dump(&self) -> String {
        let pages = self.pages();
        let mut s = format!("--- webhook deliveries ({}) ---\n", pages.len());
        for p in pages {
            s.push_str(&p.summary());
            s.push('\n');
        }
        s
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    Path(receiver): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature_ok = headers
        .get("x-faultline-signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == sign(shared.secret.as_bytes(), &body));
    let Ok(json) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    shared
        .pages
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Page::parse(&receiver, json, signature_ok));
    StatusCode::OK
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, computed independently of faultline's own code.
fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            super::sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
