//! A real Prometheus Alertmanager (the Debian `prometheus-alertmanager` package) on a free
//! loopback port, with a routing tree that notifies nobody, killed on Drop.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The Debian package's binary name (found by [`crate::have`]).
pub const BIN: &str = "prometheus-alertmanager";

/// Start attempts before giving up (a free port can be taken between probing and binding).
const START_ATTEMPTS: usize = 3;
/// How long one start may take to report ready.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// Routes everything to a receiver without integrations; `group_wait` long enough that nothing
/// is ever "sent".
const CONFIG: &str = "global:\n  resolve_timeout: 5m\nroute:\n  receiver: blackhole\n  group_wait: 1h\nreceivers:\n  - name: blackhole\n";

/// A running Alertmanager.
pub struct Alertmanager {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Alertmanager {
    /// Start on a free port and wait until `/-/ready` answers. `None` (after a loud skip
    /// notice) if the binary is missing outside CI; under `CI` a missing binary fails.
    pub async fn start() -> Option<Alertmanager> {
        if !crate::have(BIN) {
            return None;
        }
        for _ in 0..START_ATTEMPTS {
            let mut am = Self::spawn();
            if am.wait_ready().await {
                return Some(am);
            }
            let log = std::fs::read_to_string(am.dir.path().join("am.log")).unwrap_or_default();
            eprintln!(
                "alertmanager at {} did not become ready, retrying: {log}",
                am.base
            );
        }
        panic!("alertmanager failed to start {START_ATTEMPTS} times");
    }

    fn spawn() -> Alertmanager {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("am.yml");
        std::fs::write(&cfg, CONFIG).expect("write am.yml");
        let port = crate::ports::free_tcp_port();
        let log = std::fs::File::create(dir.path().join("am.log")).expect("log file");
        let child = Command::new(BIN)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn alertmanager");
        Alertmanager {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    async fn wait_ready(&mut self) -> bool {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/-/ready", self.base)).send().await
                && r.status().is_success()
            {
                return true;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// `GET /api/v2/alerts`: the alerts Alertmanager holds (active and unprocessed).
    pub async fn alerts(&self) -> Vec<Value> {
        let r = reqwest::Client::new()
            .get(format!("{}/api/v2/alerts", self.base))
            .send()
            .await
            .expect("GET /api/v2/alerts");
        r.json::<Vec<Value>>().await.expect("alerts JSON")
    }
}
