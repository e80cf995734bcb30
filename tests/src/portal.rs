//! A loopback HTTP "portal" whose status code the test sets: a service to probe that fails and
//! heals on command.

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
