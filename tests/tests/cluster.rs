//! The distributed shape end to end: `faultline poller` for zone `inside` probes the portal and
//! publishes to a real three-node JetStream cluster; `faultline run` with `[cluster]` consumes
//! the stream and opens the incident.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use faultline_e2e::api::Api;
use faultline_e2e::process::Collector;
use faultline_testpeers::nats::NatsCluster;

/// Longest wait for the processes to start and for a state to reach the correlator.
const WAIT: Duration = Duration::from_secs(30);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

const TOPOLOGY: &str = "name: zones\n\
devices:\n  - {id: fw, kind: firewall, zone: inside}\n\
services:\n  - {id: portal, tier: critical, requires: [fw], zone: inside, probe: {tcp: 'PORTAL'}}\n";

fn engine_section() -> &'static str {
    "[engine]\nsettle_ms = 0\n[engine.probe]\ndown_ms = 1000\nup_ms = 1000\n"
}

/// Write the topology, the poller's and the correlator's configurations into `dir`.
fn write_configs(dir: &Path, nats: &[String], portal: &str) {
    std::fs::write(
        dir.join("topology.yaml"),
        TOPOLOGY.replace("PORTAL", portal),
    )
    .unwrap();
    let servers = nats
        .iter()
        .map(|u| format!("\"{u}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let common = "topology = \"topology.yaml\"\n[api]\nlisten = \"127.0.0.1:0\"\n\
                  [icmp]\nenabled = false\n[probe]\ninterval_s = 0.5\ntimeout_ms = 300\n";
    std::fs::write(
        dir.join("poller.toml"),
        format!(
            "{common}[store]\npath = \"poller.redb\"\n\
             [cluster]\nnats = [{servers}]\nzone = \"inside\"\nbuffer_dir = \"buffer\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("correlator.toml"),
        format!(
            "{common}[store]\npath = \"correlator.redb\"\n{}[cluster]\nnats = [{servers}]\n",
            engine_section()
        ),
    )
    .unwrap();
}

/// The poller and the correlator, started; the correlator's API.
async fn start(dir: &Path) -> (Collector, Collector, Api) {
    let mut poller =
        Collector::start_command("poller", &dir.join("poller.toml"), &dir.join("poller.log"));
    poller.wait_api(WAIT).await.expect("poller starts");
    let mut correlator = Collector::start(&dir.join("correlator.toml"), &dir.join("corr.log"));
    let base = correlator.wait_api(WAIT).await.expect("correlator starts");
    (poller, correlator, Api::new(&base))
}

async fn portal_state(api: &Api) -> String {
    api.service_states()
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|(id, _)| id == "portal")
        .map(|(_, s)| s)
        .unwrap_or_default()
}

async fn wait_portal(api: &Api, want: &str) -> bool {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if portal_state(api).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// The open incident on the portal: its `opened_at`.
async fn wait_incident(api: &Api) -> Option<u64> {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if let Ok(v) = api.get("/api/incidents").await
            && let Some(open) = v["open"].as_array()
            && let Some(i) = open
                .iter()
                .find(|i| i["id"].as_str().is_some_and(|id| id.starts_with("portal@")))
        {
            return i["opened_at"].as_u64();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

#[tokio::test]
async fn a_zone_poller_publishes_a_failure_and_the_correlator_opens_the_incident() {
    let Some(cluster) = NatsCluster::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let portal = TcpListener::bind("127.0.0.1:0").unwrap();
    write_configs(
        dir.path(),
        &cluster.urls(),
        &portal.local_addr().unwrap().to_string(),
    );
    let (poller, correlator, api) = start(dir.path()).await;
    assert!(
        wait_portal(&api, "up").await,
        "portal up via the stream\n{}{}",
        poller.log_tail(20),
        correlator.log_tail(20)
    );
    let failed_at = now_ms();
    drop(portal);
    let opened = wait_incident(&api).await.unwrap_or_else(|| {
        panic!(
            "incident opened\n{}{}",
            poller.log_tail(20),
            correlator.log_tail(20)
        )
    });
    assert!(
        opened >= failed_at,
        "opened {opened} after the failure {failed_at}"
    );
}
