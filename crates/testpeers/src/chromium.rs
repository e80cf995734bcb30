//! Headless Debian Chromium driven over WebDriver (`chromedriver` on a free loopback port,
//! through `fantoccini`): the browser peer of the console's tests. A fresh profile per browser;
//! driver and browser are killed on Drop.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// The browser's binary (Debian package `chromium`).
pub const BROWSER: &str = "chromium";
/// The WebDriver server (Debian package `chromium-driver`).
pub const DRIVER: &str = "chromedriver";

/// How long chromedriver may take to answer `/status`.
const DRIVER_READY: Duration = Duration::from_secs(15);

/// Flags for a quiet, sandbox-free (we run as root in CI), network-silent headless browser.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
];

/// A running chromedriver with one browser session.
pub struct Chromium {
    /// The WebDriver session.
    pub client: Client,
    driver: std::process::Child,
    _profile: tempfile::TempDir,
}

impl Drop for Chromium {
    /// chromedriver runs in its own process group with the browsers it starts: kill the group,
    /// so that no browser outlives a failed test.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Chromium {
    /// Start chromedriver and a headless browser. `None` (after a loud skip notice) when
    /// either is missing outside CI; under `CI` a missing one fails.
    pub async fn start() -> Option<Chromium> {
        if !crate::have(BROWSER) || !crate::have(DRIVER) {
            return None;
        }
        let port = crate::ports::free_tcp_port();
        let driver = Command::new(DRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        wait_ready(&url).await;
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_string(),
            serde_json::json!({ "args": args, "binary": "/usr/bin/chromium" }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a chromium session");
        Some(Chromium {
            client,
            driver,
            _profile: profile,
        })
    }

    /// Save a screenshot as `target/test-artifacts/console/NAME.png` (under the workspace),
    /// print its path and return it.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/test-artifacts/console");
        std::fs::create_dir_all(&dir).expect("artifact dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        let path = path.canonicalize().unwrap_or(path);
        println!("screenshot: {}", path.display());
        path
    }
}

async fn wait_ready(url: &str) {
    let deadline = Instant::now() + DRIVER_READY;
    let status = format!("{url}/status");
    loop {
        if let Ok(r) = reqwest::get(&status).await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not start at {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
