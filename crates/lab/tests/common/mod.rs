//! The demo lab under a running collector, for the console's tests (loopback only).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use faultline_collector::config::{Config, PollInterval, ProbeInterval};
use faultline_collector::{Collector, StartOptions};
use faultline_lab::Lab;
use faultline_model::Topology;
use tokio_util::sync::CancellationToken;

/// A collector on the demo lab; stopped on drop.
pub struct Demo {
    pub base: String,
    pub client: reqwest::Client,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Start the demo with short hold-downs; `edit` adjusts the configuration first.
pub async fn start(edit: impl FnOnce(&mut Config)) -> Demo {
    let topology = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    let topo = Topology::load(std::path::Path::new(topology)).expect("demo topology");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = Config::demo(PathBuf::from(topology), dir.path().join("console.redb"));
    cfg.api.listen = "127.0.0.1:0".parse().expect("address");
    cfg.poll.interval_s = PollInterval::new(Duration::from_secs(1)).expect("in range");
    cfg.probe.interval_s = ProbeInterval::new(Duration::from_secs(1)).expect("in range");
    for hold in [
        &mut cfg.engine.device,
        &mut cfg.engine.probe,
        &mut cfg.engine.link,
    ] {
        hold.down_ms = 1_500;
        hold.up_ms = 1_500;
    }
    edit(&mut cfg);
    let stop = CancellationToken::new();
    let lab = Lab::start(topo.clone()).await.expect("lab starts");
    let options = StartOptions {
        topology: Some(topo),
        overrides: Some(std::sync::Arc::new(lab.clone())),
        routes: Some(faultline_lab::api::routes(Some(lab))),
        ..StartOptions::default()
    };
    let collector = Collector::start(cfg, options, stop.clone())
        .await
        .expect("collector starts");
    let base = format!("http://{}", collector.api_addr());
    tokio::spawn(collector.wait());
    Demo {
        base,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        stop,
        _dir: dir,
    }
}

impl Demo {
    /// GET `path`: status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        (
            resp.status().as_u16(),
            resp.text().await.unwrap_or_default(),
        )
    }

    /// POST a lab action (`fail/fw-a`, `heal/fw-a`, `fix`).
    pub async fn lab(&self, action: &str) {
        let resp = self
            .client
            .post(format!("{}/api/v1/lab/{action}", self.base))
            .json(&serde_json::Map::new())
            .send()
            .await
            .expect("lab");
        assert!(resp.status().is_success(), "lab {action}");
    }

    /// POST `body` as JSON to `path`: status and body.
    #[allow(dead_code)] // used by some of the test crates sharing this module
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, String) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        (
            resp.status().as_u16(),
            resp.text().await.unwrap_or_default(),
        )
    }

    /// Poll `f` every 250 ms until it answers, for at most `secs`.
    pub async fn until<T>(
        &self,
        what: &str,
        secs: u64,
        mut f: impl AsyncFnMut() -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
