//! A loopback HTTP "portal" whose status code the test sets: a service to probe that fails and
//! heals on command; and the collector configuration that watches such services fast and pages
//! one signed webhook receiver, `oncall` ([`write_probe_config`], [`probed_service`]).

use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

/// A loopback "portal" whose answer the test sets.
pub struct Portal {
    status: Arc<AtomicU16>,
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Portal {
    /// Listen on a free loopback port, answering 200.
    pub async fn start() -> Portal {
        let status = Arc::new(AtomicU16::new(200));
        let app = Router::new()
            .route("/", get(answer))
            .with_state(status.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the portal");
        let url = format!("http://{}/", listener.local_addr().expect("portal address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Portal { status, url, task }
    }

    /// Answer `code` from now on.
    pub fn set(&self, code: u16) {
        self.status.store(code, Ordering::SeqCst);
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(status): State<Arc<AtomicU16>>) -> StatusCode {
    StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK)
}

/// One critical service of a topology's `services:` list, probed over HTTP at `url`.
pub fn probed_service(id: &str, url: &str) -> String {
    format!(
        "  - id: {id}\n    name: {id}\n    tier: critical\n    \
         probe: {{url: \"{url}\", expect_status: [200]}}\n"
    )
}

/// Write `dir/faultline.toml` for `dir/topology.yaml`: probes every 0.3 s with 1 s hold-downs
/// and no settle wait, a store in `dir`, one webhook receiver `oncall` at `{hooks}/oncall`
/// signed with `secret`. Returns the file's path.
pub fn write_probe_config(dir: &Path, hooks: &str, secret: &str) -> PathBuf {
    let config = format!(
        r#"topology = "topology.yaml"
[api]
listen = "127.0.0.1:0"
[icmp]
enabled = false
[probe]
interval_s = 0.3
timeout_ms = 500
[store]
path = "faultline.redb"
[engine]
settle_ms = 0
[engine.probe]
down_ms = 1000
up_ms = 1000
[notify.retry]
base_ms = 50
max_ms = 500
[[notify.receivers]]
name = "oncall"
kind = "webhook"
url = "{hooks}/oncall"
secret = "{secret}"
"#
    );
    let path = dir.join("faultline.toml");
    std::fs::write(&path, config).expect("write config");
    path
}
