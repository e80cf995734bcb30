//! The seed lab as the end-to-end tests drive it: the running pieces ([`Scene`]), the
//! collector's configuration rendered for one lab and receiver ([`write_config`]), and what
//! "healthy" means there ([`healthy`]).

use std::path::Path;
use std::time::Duration;

use faultline_testpeers::seed::SeedLab;

use crate::api::Api;
use crate::process::{self, Collector};
use crate::webhook::WebhookReceiver;
use crate::{fixture, wait};

/// The running pieces; `explain` turns a failure into a message with everything a reader needs.
pub struct Scene {
    pub lab: SeedLab,
    pub hooks: WebhookReceiver,
    pub collector: Collector,
    pub api: Api,
    /// How long the lab took to come up.
    pub lab_up: Duration,
    /// The configuration, topology, store and log of the collector.
    _dir: tempfile::TempDir,
}

/// The collector's API comes up within this.
const API_TIMEOUT: Duration = Duration::from_secs(30);

impl Scene {
    /// The seed lab, a webhook receiver (`/oncall`: critical only, `/chat`: everything, signed
    /// with `secret`) and the `faultline` collector watching the lab with the seed fixtures.
    /// `None` when a peer is missing (the lab says which): the test is skipped.
    pub async fn start(secret: &str) -> Option<Scene> {
        let t_start = std::time::Instant::now();
        let lab = tokio::task::block_in_place(SeedLab::start)?;
        let lab_up = t_start.elapsed();
        let hooks = WebhookReceiver::start(secret).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let config = write_config(&lab, &hooks, secret, dir.path());
        if let Err(e) = process::check_config(&config) {
            panic!("the seed fixtures do not validate:\n{e}");
        }
        let mut collector = Collector::start(&config, &dir.path().join("faultline.log"));
        let base = match collector.wait_api(API_TIMEOUT).await {
            Ok(b) => b,
            Err(e) => panic!("{e}\n{}", lab.diagnostics()),
        };
        Some(Scene {
            lab,
            hooks,
            collector,
            api: Api::new(&base),
            lab_up,
            _dir: dir,
        })
    }

    /// `problem` with everything a reader of a failure needs: pages, API, log, lab.
    pub async fn explain(&self, problem: &str) -> String {
        format!(
            "{problem}\n{}{}{}{}",
            self.hooks.dump(),
            self.api.dump().await,
            self.collector.log_tail(60),
            self.lab.diagnostics()
        )
    }

    /// Panic with the explanation when there are problems.
    pub async fn check(&self, problems: Vec<String>) {
        if !problems.is_empty() {
            panic!("{}", self.explain(&problems.join("\n")).await);
        }
    }

    /// Wait for `check`, or panic with the explanation.
    pub async fn wait<T, F, Fut>(&self, what: &str, timeout: Duration, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        match wait::until(what, timeout, check).await {
            Ok(v) => v,
            Err(e) => panic!("{}", self.explain(&e).await),
        }
    }
}

/// Render the fixtures for this lab and receiver into `dir`; returns the config path.
pub fn write_config(
    lab: &SeedLab,
    hooks: &WebhookReceiver,
    secret: &str,
    dir: &Path,
) -> std::path::PathBuf {
    let topology = lab.render(&fixture("seed/topology.yaml"), &[]);
    let config = lab.render(
        &fixture("seed/faultline.toml"),
        &[
            ("hook_url", hooks.url()),
            ("hook_secret", secret.to_string()),
        ],
    );
    std::fs::write(dir.join("topology.yaml"), topology).expect("write topology");
    let path = dir.join("faultline.toml");
    std::fs::write(&path, config).expect("write config");
    path
}

/// Ok when every component and service is up and the pair has fw-a active, fw-b standby;
/// otherwise what is not.
pub async fn healthy(api: &Api) -> Result<(), String> {
    let mut bad: Vec<String> = api
        .component_states()
        .await?
        .into_iter()
        .chain(api.service_states().await?)
        .filter(|(_, state)| state != "up")
        .map(|(id, state)| format!("{id} {state}"))
        .collect();
    let roles = api.ha_roles().await?;
    for (fw, want) in [("fw-a", "active"), ("fw-b", "standby")] {
        let got = roles
            .iter()
            .find(|(id, _)| id == fw)
            .map(|(_, r)| r.as_str());
        if got != Some(want) {
            bad.push(format!("{fw} role {got:?}"));
        }
    }
    let open = api.incidents().await?.open;
    if !open.is_empty() {
        bad.push(format!("{} open incident(s)", open.len()));
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join(", "))
    }
}
