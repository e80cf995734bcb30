//! Test support: a strict local PagerDuty/webhook receiver (axum), a real Alertmanager process,
//! incident builders. Every peer binds a free loopback port and is stopped on Drop.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use faultline_incident::*;
use serde_json::Value;

pub const ROUTING_KEY: &str = "0123456789abcdef0123456789abcdef";
pub const WEBHOOK_SECRET: &str = "s3cr3t-webhook-key-never-logged";

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    l.local_addr().expect("local addr").port()
}

/// How the mock receiver answers.
#[derive(Clone, Debug)]
pub enum Mode {
    /// 202 (after schema validation; an invalid event gets 400 like PagerDuty).
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

#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    pub headers: HeaderMap,
    pub raw: Vec<u8>,
    pub body: Value,
    /// Schema / signature problems found (empty = valid).
    pub problems: Vec<String>,
    pub status: u16,
}

impl Received {
    pub fn dedup_key(&self) -> String {
        self.body["dedup_key"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    pub fn action(&self) -> String {
        self.body["event_action"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

pub struct MockState {
    pub mode: Mutex<Mode>,
    pub log: Mutex<Vec<Received>>,
    served: Mutex<usize>,
}

pub struct MockReceiver {
    pub addr: SocketAddr,
    pub state: Arc<MockState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockReceiver {
    pub async fn start(mode: Mode) -> MockReceiver {
        Self::start_on(free_port(), mode).await
    }

    /// Start on a given port (to bring a "down" receiver up later on the port the notifier
    /// already targets).
    pub async fn start_on(port: u16, mode: Mode) -> MockReceiver {
        let state = Arc::new(MockState {
            mode: Mutex::new(mode),
            log: Mutex::new(Vec::new()),
            served: Mutex::new(0),
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

    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    pub fn log(&self) -> Vec<Received> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

/// Strict PagerDuty Events v2 validation (what the real API refuses with 400).
pub fn validate_pagerduty(v: &Value) -> Vec<String> {
    let mut p = Vec::new();
    match v["routing_key"].as_str() {
        Some(k) if k.len() == 32 => {}
        _ => p.push("routing_key must be 32 characters".to_string()),
    }
    let action = v["event_action"].as_str().unwrap_or_default();
    if !["trigger", "acknowledge", "resolve"].contains(&action) {
        p.push(format!("bad event_action {action:?}"));
    }
    match v["dedup_key"].as_str() {
        Some(k) if !k.is_empty() && k.len() <= 255 => {}
        _ => p.push("dedup_key missing or longer than 255".into()),
    }
    let payload = &v["payload"];
    if !payload.is_object() {
        p.push(format!("{action} without payload"));
    } else {
        match payload["summary"].as_str() {
            Some(s) if !s.is_empty() && s.chars().count() <= 1024 => {}
            _ => p.push("payload.summary missing or > 1024 characters".into()),
        }
        if payload["source"].as_str().is_none_or(str::is_empty) {
            p.push("payload.source missing".into());
        }
        let sev = payload["severity"].as_str().unwrap_or_default();
        if !["critical", "error", "warning", "info"].contains(&sev) {
            p.push(format!("payload.severity {sev:?} not in the enum"));
        }
    }
    if let Some(links) = v.get("links")
        && !links
            .as_array()
            .is_some_and(|a| a.iter().all(|l| l["href"].is_string()))
    {
        p.push("links must be [{href, text}]".into());
    }
    p
}

/// Webhook: the signature must be HMAC-SHA256 of the exact body with the shared secret.
pub fn validate_webhook(headers: &HeaderMap, raw: &[u8]) -> Vec<String> {
    use hmac::{KeyInit, Mac};
    let mut p = Vec::new();
    let sig = headers
        .get("x-faultline-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(hex_sig) = sig.strip_prefix("sha256=") else {
        return vec![format!("signature header missing or malformed: {sig:?}")];
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(raw);
    let Ok(bytes) = hex::decode(hex_sig) else {
        return vec!["signature not hex".into()];
    };
    if mac.verify_slice(&bytes).is_err() {
        p.push("signature does not verify".into());
    }
    if headers.get("x-faultline-delivery").is_none() {
        p.push("X-Faultline-Delivery missing".into());
    }
    p
}

async fn handle(
    State(s): State<Arc<MockState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw = body.to_vec();
    let parsed: Result<Value, _> = serde_json::from_slice(&raw);
    let mut problems = Vec::new();
    let body = match parsed {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("not JSON: {e}"));
            Value::Null
        }
    };
    let path = uri.path().to_string();
    if path == "/v2/enqueue" {
        problems.extend(validate_pagerduty(&body));
    } else if path == "/hook" {
        problems.extend(validate_webhook(&headers, &raw));
    }
    let mode = s.mode.lock().unwrap().clone();
    let (status, retry_after, hang) = {
        let mut served = s.served.lock().unwrap();
        *served += 1;
        match mode {
            _ if !problems.is_empty() => (400, None, false),
            Mode::Accept => (202, None, false),
            Mode::Status(code, _) => (code, None, false),
            Mode::TooMany { retry_after, times } => {
                if times > 0 {
                    *s.mode.lock().unwrap() = Mode::TooMany {
                        retry_after,
                        times: times - 1,
                    };
                    (429, Some(retry_after), false)
                } else {
                    (202, None, false)
                }
            }
            Mode::HangAfter(n) => (202, None, *served > n),
            Mode::FailFor(ref key) => (
                if body["dedup_key"] == key.as_str() {
                    500
                } else {
                    202
                },
                None,
                false,
            ),
        }
    };
    s.log.lock().unwrap().push(Received {
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
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        text,
    )
        .into_response();
    if let Some(ra) = retry_after {
        resp.headers_mut()
            .insert("retry-after", ra.to_string().parse().unwrap());
    }
    resp
}

/// Whether a peer binary is installed: in CI its absence fails the test, elsewhere it skips.
pub fn have_peer(bin: &str) -> bool {
    if Path::new(bin).exists() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{bin} is not installed (apt-get install prometheus-alertmanager)");
    }
    eprintln!(
        "\n!!!!! SKIPPING: {bin} not installed (apt-get install prometheus-alertmanager) !!!!!\n"
    );
    false
}

pub const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// A real Alertmanager on a free loopback port, killed on Drop.
pub struct Alertmanager {
    child: Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Alertmanager {
    /// Start on a free port; `None` (after a loud skip message) if the binary is missing
    /// outside CI. Retries on another port if the chosen one was taken meanwhile.
    pub async fn start() -> Option<Alertmanager> {
        if !have_peer(ALERTMANAGER) {
            return None;
        }
        let client = reqwest::Client::new();
        for _attempt in 0..3 {
            let dir = tempfile::tempdir().expect("tempdir");
            let cfg = dir.path().join("am.yml");
            std::fs::write(
                &cfg,
                "global:\n  resolve_timeout: 5m\nroute:\n  receiver: blackhole\n  group_wait: 1h\nreceivers:\n  - name: blackhole\n",
            )
            .expect("write am.yml");
            let port = free_port();
            let log = std::fs::File::create(dir.path().join("am.log")).expect("log file");
            let child = Command::new(ALERTMANAGER)
                .arg(format!("--config.file={}", cfg.display()))
                .arg(format!(
                    "--storage.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--cluster.listen-address=")
                .stdout(Stdio::null())
                .stderr(Stdio::from(log))
                .spawn()
                .expect("spawn alertmanager");
            let mut am = Alertmanager {
                child,
                base: format!("http://127.0.0.1:{port}"),
                _dir: dir,
            };
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(r) = client.get(format!("{}/-/ready", am.base)).send().await
                    && r.status().is_success()
                {
                    return Some(am);
                }
                if let Ok(Some(_)) = am.child.try_wait() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let log = std::fs::read_to_string(am._dir.path().join("am.log")).unwrap_or_default();
            eprintln!("alertmanager on port {port} did not become ready, retrying: {log}");
        }
        panic!("alertmanager failed to start three times");
    }

    pub async fn alerts(&self) -> Vec<Value> {
        let r = reqwest::Client::new()
            .get(format!("{}/api/v2/alerts", self.base))
            .send()
            .await
            .expect("GET /api/v2/alerts");
        r.json::<Vec<Value>>().await.expect("alerts JSON")
    }
}

pub fn incident(id: &str, severity: Severity, tier: &str) -> Incident {
    Incident {
        id: id.to_string(),
        kind: if severity == Severity::Warning {
            IncidentKind::RedundancyLost
        } else {
            IncidentKind::ServiceDown
        },
        severity,
        title: format!("portal down: {id}"),
        root_causes: vec!["fw-a".into()],
        affected_services: vec![AffectedService {
            id: "portal".into(),
            name: "Contractor portal".into(),
            tier: tier.into(),
            state: ServiceState::Down,
            tags: vec!["customer".into()],
        }],
        suspects: vec![Suspect {
            component: "fw-b".into(),
            reason: "became active 8 s before".into(),
            score: 0.9,
        }],
        evidence: vec![Evidence {
            at: 1_700_000_000_000,
            subject: "fw-a".into(),
            text: "agent down".into(),
        }],
        status: IncidentStatus::Open,
        opened_at: 1_700_000_000_000,
        updated_at: 1_700_000_000_000,
        resolved_at: None,
        suppressed: false,
    }
}

pub fn transition(seq: u64, action: TransitionAction, inc: &Incident) -> IncidentTransition {
    let mut inc = inc.clone();
    if action == TransitionAction::Resolve {
        inc.status = IncidentStatus::Resolved;
        inc.resolved_at = Some(faultline_notify::now_millis());
    }
    IncidentTransition {
        seq,
        action,
        at: faultline_notify::now_millis(),
        incident: inc,
    }
}

pub fn pd_config(url: &str, extra: &str) -> faultline_notify::NotifyConfig {
    toml::from_str(&format!(
        r#"
        public_url = "https://faultline.example"
        [retry]
        base_ms = 50
        max_ms = 500
        [[receivers]]
        name = "pd"
        kind = "pagerduty"
        url = "{url}"
        routing_key = "{ROUTING_KEY}"
        {extra}
        "#
    ))
    .expect("test notify config")
}

/// Poll `f` every 20 ms until it holds or `timeout` passes.
pub async fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f()
}

/// Spawn the notifier's delivery loop; returns the stop switch and the task.
pub fn run(
    n: &faultline_notify::Notifier,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let n = n.clone();
    let h = tokio::spawn(async move {
        n.run(async {
            let _ = rx.await;
        })
        .await
    });
    (tx, h)
}

/// For every incident in the log: its actions in arrival order.
pub fn actions_by_key(log: &[Received]) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut m = std::collections::BTreeMap::<String, Vec<String>>::new();
    for r in log {
        m.entry(r.dedup_key()).or_default().push(r.action());
    }
    m
}
