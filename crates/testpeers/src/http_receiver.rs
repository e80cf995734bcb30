//! A strict local HTTP receiver standing in for PagerDuty (which cannot be reached from tests)
//! and for a signed-webhook endpoint: it validates what it gets like the real thing, records
//! every request, and answers as its [`Mode`] says. Bound to a loopback port, stopped on Drop.
//!
//! Paths: `/v2/enqueue` is checked against PagerDuty Events v2 ([`crate::pagerduty`]); `/hook`
//! against the webhook signature ([`crate::webhook`]) once [`MockReceiver::with_webhook_secret`]
//! set the shared secret. An invalid request gets `400` with the problems, like PagerDuty.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The PagerDuty Events v2 path.
pub const PAGERDUTY_PATH: &str = "/v2/enqueue";
/// The signed-webhook path.
pub const WEBHOOK_PATH: &str = "/hook";

/// How the receiver answers.
#[derive(Clone, Debug)]
pub enum Mode {
    /// 202 (after validation; an invalid request gets 400 like PagerDuty).
    Accept,
    /// Answer this status and body to everything.
    Status(u16, String),
    /// 429 with `Retry-After: secs` for the next `times` requests, then accept.
    TooMany { retry_after: u64, times: usize },
    /// Accept the first `n` requests, then read requests but never answer.
    HangAfter(usize),
    /// 500 for events with this dedup key, 202 for the rest.
    FailFor(String),
}

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    pub headers: HeaderMap,
    pub raw: Vec<u8>,
    pub body: Value,
    /// Schema / signature problems found (empty = valid).
    pub problems: Vec<String>,
    /// The status answered (0: never answered).
    pub status: u16,
}

impl Received {
    /// The PagerDuty `dedup_key` ("" when absent).
    pub fn dedup_key(&self) -> String {
        self.body["dedup_key"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The PagerDuty `event_action` ("" when absent).
    pub fn action(&self) -> String {
        self.body["event_action"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

struct MockState {
    mode: Mutex<Mode>,
    log: Mutex<Vec<Received>>,
    served: Mutex<usize>,
    webhook_secret: Mutex<Option<Vec<u8>>>,
}

/// Tests only: a panic elsewhere must not hide the log.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running receiver.
pub struct MockReceiver {
    pub addr: SocketAddr,
    state: Arc<MockState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockReceiver {
    /// Start on a free loopback port.
    pub async fn start(mode: Mode) -> MockReceiver {
        Self::start_on(0, mode).await
    }

    /// Start on a given port (to bring a "down" receiver up later on the port a sender already
    /// targets); 0 picks a free one.
    pub async fn start_on(port: u16, mode: Mode) -> MockReceiver {
        let state = Arc::new(MockState {
            mode: Mutex::new(mode),
            log: Mutex::new(Vec::new()),
            served: Mutex::new(0),
            webhook_secret: Mutex::new(None),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind mock receiver");
        let addr = listener.local_addr().expect("addr");
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockReceiver { addr, state, task }
    }

    /// Verify `/hook` requests against this shared secret.
    pub fn with_webhook_secret(self, secret: &str) -> MockReceiver {
        *lock(&self.state.webhook_secret) = Some(secret.as_bytes().to_vec());
        self
    }

    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.state.mode) = mode;
    }

    /// Every request so far, in arrival order.
    pub fn log(&self) -> Vec<Received> {
        lock(&self.state.log).clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

fn problems_of(
    s: &MockState,
    path: &str,
    headers: &HeaderMap,
    raw: &[u8],
    body: &Value,
) -> Vec<String> {
    match path {
        PAGERDUTY_PATH => crate::pagerduty::validate_event(body),
        WEBHOOK_PATH => match lock(&s.webhook_secret).as_deref() {
            Some(secret) => crate::webhook::validate_signed(secret, headers, raw),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// (status, Retry-After seconds, never answer) for the next request under `mode`.
fn answer_for(s: &MockState, mode: &Mode, body: &Value) -> (u16, Option<u64>, bool) {
    let mut served = lock(&s.served);
    *served += 1;
    match mode {
        Mode::Accept => (202, None, false),
        Mode::Status(code, _) => (*code, None, false),
        Mode::TooMany { retry_after, times } if *times > 0 => {
            *lock(&s.mode) = Mode::TooMany {
                retry_after: *retry_after,
                times: times - 1,
            };
            (429, Some(*retry_after), false)
        }
        Mode::TooMany { .. } => (202, None, false),
        Mode::HangAfter(n) => (202, None, *served > *n),
        Mode::FailFor(key) => {
            let fail = body["dedup_key"] == key.as_str();
            (if fail { 500 } else { 202 }, None, false)
        }
    }
}

async fn handle(
    State(s): State<Arc<MockState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw = body.to_vec();
    let mut problems = Vec::new();
    let body = serde_json::from_slice::<Value>(&raw).unwrap_or_else(|e| {
        problems.push(format!("not JSON: {e}"));
        Value::Null
    });
    let path = uri.path().to_string();
    problems.extend(problems_of(&s, &path, &headers, &raw, &body));
    let mode = lock(&s.mode).clone();
    let (status, retry_after, hang) = if problems.is_empty() {
        answer_for(&s, &mode, &body)
    } else {
        *lock(&s.served) += 1;
        (400, None, false)
    };
    lock(&s.log).push(Received {
        at: Instant::now(),
        path,
        headers,
        raw,
        body,
        problems: problems.clone(),
        status: if hang { 0 } else { status },
    });
    if hang {
        std::future::pending::<()>().await;
    }
    let text = match (&mode, problems.is_empty()) {
        (_, false) => {
            serde_json::json!({"status": "invalid event", "errors": problems}).to_string()
        }
        (Mode::Status(_, body), true) => body.clone(),
        _ => serde_json::json!({"status": "success", "message": "Event processed"}).to_string(),
    };
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (code, text).into_response();
    if let Some(ra) = retry_after {
        resp.headers_mut().insert("retry-after", ra.into());
    }
    resp
}
