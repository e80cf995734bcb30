//! A real Prometheus Alertmanager (the Debian `prometheus-alertmanager` package) on a free
//! loopback port, with a routing tree that notifies nobody, killed on Drop. Optionally behind
//! its own `--web.config.file`: basic auth (`basic_auth_users`, bcrypt) and TLS
//! (`tls_server_config`, optionally requiring a client certificate), as operators run it.

use std::path::PathBuf;
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

/// bcrypt cost of the test users' hashes: the lowest allowed, since Alertmanager checks the
/// hash on every request.
const BCRYPT_COST: u32 = 4;

/// Alertmanager's web configuration (`--web.config.file`).
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// One `basic_auth_users` entry: user name and password (hashed here).
    pub basic_auth: Option<(String, String)>,
    /// `tls_server_config`: serve HTTPS with this certificate.
    pub tls: Option<TlsServer>,
}

/// Alertmanager's TLS side.
#[derive(Debug, Clone)]
pub struct TlsServer {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// The CA certificate: what the helper's own client trusts, and, with
    /// `require_client_cert`, the CA client certificates must be signed by.
    pub ca_file: PathBuf,
    /// `client_auth_type: RequireAndVerifyClientCert`, with the helper's client presenting
    /// `client` (certificate, key).
    pub require_client_cert: Option<(PathBuf, PathBuf)>,
}

impl WebConfig {
    /// The YAML Alertmanager reads.
    fn yaml(&self) -> String {
        let mut y = String::new();
        if let Some(tls) = &self.tls {
            y.push_str(&format!(
                "tls_server_config:\n  cert_file: {}\n  key_file: {}\n",
                tls.cert_file.display(),
                tls.key_file.display()
            ));
            if tls.require_client_cert.is_some() {
                y.push_str(&format!(
                    "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\n",
                    tls.ca_file.display()
                ));
            }
        }
        if let Some((user, password)) = &self.basic_auth {
            let hash = bcrypt::hash(password, BCRYPT_COST).expect("bcrypt hash");
            y.push_str(&format!("basic_auth_users:\n  {user}: '{hash}'\n"));
        }
        y
    }

    /// A client that gets through: trusts the CA, presents the client certificate.
    fn client(&self) -> reqwest::Client {
        let mut b = reqwest::Client::builder();
        if let Some(tls) = &self.tls {
            let ca = std::fs::read(&tls.ca_file).expect("read CA certificate");
            b = b.tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("CA PEM")]);
            if let Some((cert, key)) = &tls.require_client_cert {
                let mut pem = std::fs::read(cert).expect("read client certificate");
                pem.extend(std::fs::read(key).expect("read client key"));
                b = b.identity(reqwest::Identity::from_pem(&pem).expect("client identity"));
            }
        }
        b.build().expect("reqwest client")
    }
}

/// A running Alertmanager.
pub struct Alertmanager {
    child: Child,
    /// `http://127.0.0.1:PORT` (`https://` behind TLS)
    pub base: String,
    dir: tempfile::TempDir,
    web: WebConfig,
    client: reqwest::Client,
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
        Self::start_with(WebConfig::default()).await
    }

    /// [`Self::start`] behind `web` (basic auth, TLS).
    pub async fn start_with(web: WebConfig) -> Option<Alertmanager> {
        if !crate::have(BIN) {
            return None;
        }
        for _ in 0..START_ATTEMPTS {
            let mut am = Self::spawn(&web);
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

    fn spawn(web: &WebConfig) -> Alertmanager {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("am.yml");
        std::fs::write(&cfg, CONFIG).expect("write am.yml");
        let web_file = dir.path().join("web.yml");
        std::fs::write(&web_file, web.yaml()).expect("write web.yml");
        let port = crate::ports::free_tcp_port();
        let log = std::fs::File::create(dir.path().join("am.log")).expect("log file");
        let child = Command::new(BIN)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--web.config.file={}", web_file.display()))
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
        let scheme = if web.tls.is_some() { "https" } else { "http" };
        Alertmanager {
            child,
            base: format!("{scheme}://127.0.0.1:{port}"),
            dir,
            web: web.clone(),
            client: web.client(),
        }
    }

    /// A GET with the configured credentials.
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let req = self.client.get(format!("{}{path}", self.base));
        match &self.web.basic_auth {
            Some((user, password)) => req.basic_auth(user, Some(password)),
            None => req,
        }
    }

    async fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(r) = self.get("/-/ready").send().await
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
        let r = self
            .get("/api/v2/alerts")
            .send()
            .await
            .expect("GET /api/v2/alerts");
        r.json::<Vec<Value>>().await.expect("alerts JSON")
    }

    /// The alerts of incident `id`, as [`Self::alerts`] lists them.
    pub async fn alerts_of(&self, id: &str) -> Vec<Value> {
        let mut v: Vec<Value> = self
            .alerts()
            .await
            .into_iter()
            .filter(|a| a["labels"]["incident"] == id)
            .collect();
        v.sort_by_key(|a| a["labels"]["service"].as_str().map(str::to_string));
        v
    }

    /// `GET /api/v2/silences`: every silence Alertmanager holds (active, pending, expired).
    pub async fn silences(&self) -> Vec<Value> {
        let r = self
            .get("/api/v2/silences")
            .send()
            .await
            .expect("GET /api/v2/silences");
        r.json::<Vec<Value>>().await.expect("silences JSON")
    }

    /// The silences matching `incident="ID"` that are active (not expired).
    pub async fn active_silences_of(&self, id: &str) -> Vec<Value> {
        self.silences()
            .await
            .into_iter()
            .filter(|s| s["status"]["state"] == "active")
            .filter(|s| {
                s["matchers"].as_array().is_some_and(|ms| {
                    ms.iter()
                        .any(|m| m["name"] == "incident" && m["value"] == id)
                })
            })
            .collect()
    }

    /// Alertmanager's log so far (stderr), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("am.log")).unwrap_or_default()
    }
}
