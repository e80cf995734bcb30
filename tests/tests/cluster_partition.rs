//! A poller partitioned from NATS (issue #13): the `outside` zone's poller runs in a network
//! namespace and reaches the three-node JetStream cluster through its veth pair; the `inside`
//! poller runs on the host and keeps the correlator's (stream) clock moving. The service the
//! outside poller probes (a listener inside the namespace) fails right after the namespace's
//! link goes down, for 60 s. Meanwhile the correlator judges `poller:outside` stale and the
//! service `unknown`, never down, with no incident. Once the link is back, the buffered
//! observations arrive in order and the incident opens at the failure's own time, before the
//! link came back, not at the arrival.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use faultline_e2e::api::Api;
use faultline_e2e::process::Collector;
use faultline_testpeers::Netns;
use faultline_testpeers::nats::{NODES, NatsCluster};

/// Longest wait for the processes to start and for a verdict to reach the correlator.
const WAIT: Duration = Duration::from_secs(40);
/// How long the outside zone is cut off from NATS (the 60 s).
const PARTITION: Duration = Duration::from_secs(60);
/// The port the outside zone's service listens on inside its namespace.
const DMZ_PORT: u16 = 18_443;

const TOPOLOGY: &str = "name: partition\n\
devices:\n  - {id: fw, kind: firewall, zone: inside}\n\
services:\n  - {id: lan-app, tier: normal, requires: [fw], zone: inside, probe: {tcp: 'LAN'}}\n  \
- {id: dmz-app, tier: critical, zone: outside, probe: {tcp: '127.0.0.1:DMZ'}}\n";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The configuration of a poller for `zone` reaching NATS at `nats`, or of the correlator.
fn config(nats: &[String], zone: Option<&str>) -> String {
    let servers = nats
        .iter()
        .map(|u| format!("\"{u}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let common = "topology = \"topology.yaml\"\n[api]\nlisten = \"127.0.0.1:0\"\n\
                  [icmp]\nenabled = false\n[probe]\ninterval_s = 0.5\ntimeout_ms = 300\n";
    match zone {
        Some(z) => format!(
            "{common}[store]\npath = \"poller-{z}.redb\"\n\
             [cluster]\nnats = [{servers}]\nzone = \"{z}\"\nbuffer_dir = \"buffer-{z}\"\n"
        ),
        None => format!(
            "{common}[store]\npath = \"correlator.redb\"\n\
             [engine]\nsettle_ms = 0\npoller_stale_after_ms = 15000\n\
             [engine.probe]\ndown_ms = 1000\nup_ms = 1000\n\
             [cluster]\nnats = [{servers}]\n"
        ),
    }
}

/// A TCP listener inside the namespace (the outside zone's service); killed on Drop.
struct NsListener(Child);

impl NsListener {
    fn start(ns: &Netns) -> NsListener {
        let script = format!(
            "import socket\ns = socket.socket()\n\
             s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('127.0.0.1', {DMZ_PORT}))\ns.listen(64)\n\
             while True:\n    c, _ = s.accept()\n    c.close()\n"
        );
        let child = ns
            .exec(&["python3", "-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the listener in the namespace");
        NsListener(child)
    }
}

impl Drop for NsListener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn state_of(api: &Api, id: &str) -> String {
    let services = api.service_states().await.unwrap_or_default();
    let components = api.component_states().await.unwrap_or_default();
    services
        .into_iter()
        .chain(components)
        .find(|(i, _)| i == id)
        .map(|(_, s)| s)
        .unwrap_or_default()
}

/// Wait until component or service `id` is `want` at the correlator.
async fn wait_state(api: &Api, id: &str, want: &str) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if state_of(api, id).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// The open incidents on `service`.
async fn incidents_on(api: &Api, service: &str) -> Vec<serde_json::Value> {
    let Ok(v) = api.get("/api/incidents").await else {
        return Vec::new();
    };
    v["open"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| {
            i["affected_services"]
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s["id"] == service))
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write test file");
}

async fn metrics(base: &str) -> String {
    let url = format!("{base}/metrics");
    match reqwest::get(&url).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

/// The value of the sample `series` (name and labels) in Prometheus text `text`.
fn metric(text: &str, series: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with(series))?;
    line.rsplit(' ').next()?.parse().ok()
}

/// `promtool check metrics` on `body`: its complaints, empty when clean.
fn promtool(body: &str) -> String {
    faultline_testpeers::cmd::promtool_check_metrics(body)
}

#[tokio::test]
async fn a_partitioned_pollers_zone_is_unknown_and_its_buffered_failure_keeps_its_time() {
    let Some(cluster) = NatsCluster::start_reachable().await else {
        return;
    };
    let ns = Netns::new("pp");
    let dir = tempfile::tempdir().unwrap();
    let lan = TcpListener::bind("127.0.0.1:0").unwrap();
    // Answer (accept and close) for the whole test: a listener that never accepts fills its
    // backlog within a minute of probes and then refuses.
    let accepting = lan.try_clone().unwrap();
    std::thread::spawn(move || accepting.incoming().for_each(drop));
    let topology = TOPOLOGY
        .replace("LAN", &lan.local_addr().unwrap().to_string())
        .replace("DMZ", &DMZ_PORT.to_string());
    write(dir.path(), "topology.yaml", &topology);
    let via_veth: Vec<String> = (0..NODES)
        .map(|i| cluster.url_via(i, &ns.host_ip))
        .collect();
    write(
        dir.path(),
        "inside.toml",
        &config(&cluster.urls(), Some("inside")),
    );
    write(
        dir.path(),
        "outside.toml",
        &config(&via_veth, Some("outside")),
    );
    write(
        dir.path(),
        "correlator.toml",
        &config(&cluster.urls(), None),
    );
    let path = |f: &str| dir.path().join(f);
    let dmz = NsListener::start(&ns);

    let mut inside = Collector::start_command("poller", &path("inside.toml"), &path("in.log"));
    let inside_api = inside.wait_api(WAIT).await.expect("inside poller starts");
    let mut outside =
        Collector::start_command_in(&ns.name, "poller", &path("outside.toml"), &path("out.log"));
    outside.wait_api(WAIT).await.expect("outside poller starts");
    let mut correlator = Collector::start(&path("correlator.toml"), &path("corr.log"));
    let corr_base = correlator.wait_api(WAIT).await.expect("correlator starts");
    let api = Api::new(&corr_base);
    let logs = |all: &[&Collector]| {
        all.iter()
            .map(|c| c.log_tail(15))
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    for (id, want) in [
        ("dmz-app", "up"),
        ("lan-app", "up"),
        ("poller:outside", "up"),
    ] {
        assert!(
            wait_state(&api, id, want).await,
            "{id} {want} before the partition\n{}",
            logs(&[&inside, &outside, &correlator])
        );
    }

    // The partition, then the outside zone's service fails behind it.
    ns.set_ns_link(false);
    let cut = Instant::now();
    drop(dmz);
    let failed_at = now_ms();
    assert!(
        wait_state(&api, "poller:outside", "down").await,
        "poller:outside judged stale\n{}",
        logs(&[&outside, &correlator])
    );
    assert_eq!(state_of(&api, "dmz-app").await, "unknown");
    assert!(incidents_on(&api, "dmz-app").await.is_empty());
    assert_eq!(state_of(&api, "lan-app").await, "up");
    tokio::time::sleep(PARTITION.saturating_sub(cut.elapsed())).await;
    assert!(
        incidents_on(&api, "dmz-app").await.is_empty(),
        "no incident while only the silent poller could see the service"
    );

    ns.set_ns_link(true);
    let restored_at = now_ms();
    let deadline = Instant::now() + WAIT;
    let incident = loop {
        if let Some(i) = incidents_on(&api, "dmz-app").await.pop() {
            break i;
        }
        assert!(
            Instant::now() < deadline,
            "no incident after the partition\n{}",
            logs(&[&outside, &correlator])
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let opened = incident["opened_at"].as_u64().expect("opened_at");
    assert!(
        failed_at <= opened && opened + 30_000 < restored_at,
        "opened at the failure's time ({failed_at} ≤ {opened}), well before the link came back \
         ({restored_at})\n{incident:#}"
    );
    assert!(wait_state(&api, "poller:outside", "up").await);

    // The outside zone's probe results arrived in order, with their own times: what the
    // engine noted of them never goes back, and the failure is noted before the link returned.
    let timeline = api.get("/api/timeline").await.expect("timeline");
    let times: Vec<u64> = (timeline["timeline"].as_array().cloned().unwrap_or_default())
        .iter()
        .filter(|e| e["subject"] == "dmz-app")
        .filter(|e| e["text"].as_str().is_some_and(|t| t.starts_with("probe ")))
        .filter_map(|e| e["at"].as_u64())
        .collect();
    assert!(
        !times.is_empty() && times.windows(2).all(|w| w[0] <= w[1]),
        "{times:?}"
    );
    assert!(times.iter().all(|t| *t < restored_at), "{times:?}");
    // The outside poller buffered (its publishes failed) and drains everything, dropping none.
    let url = format!("{}/metrics", outside.api().expect("outside API"));
    let zone = "{zone=\"outside\"}";
    let series = |name: &str| format!("faultline_poller_{name}{zone}");
    let deadline = Instant::now() + WAIT;
    let outside_metrics = loop {
        let out = ns
            .exec(&["curl", "-fsS", &url])
            .output()
            .expect("curl in the namespace");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if metric(&text, &series("buffered_batches")) == Some(0.0) || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let errors = metric(&outside_metrics, &series("publish_errors_total"));
    assert!(errors.is_some_and(|e| e > 0.0), "{outside_metrics}");
    for name in ["buffered_batches", "buffered_bytes", "dropped_total"] {
        assert_eq!(
            metric(&outside_metrics, &series(name)),
            Some(0.0),
            "{name}\n{}",
            outside.log_tail(30)
        );
    }

    // Per-zone series on both sides, and promtool accepts them.
    let corr = metrics(&corr_base).await;
    for zone in ["inside", "outside"] {
        let line = format!("faultline_cluster_batches_received_total{{zone=\"{zone}\"}}");
        assert!(corr.contains(&line), "{line}\n{corr}");
    }
    assert!(corr.contains("faultline_cluster_last_batch_age_seconds{zone=\"outside\"}"));
    assert_eq!(promtool(&corr), "", "correlator /metrics");
    let polled = metrics(&inside_api).await;
    for series in [
        "faultline_poller_batches_published_total{zone=\"inside\"}",
        "faultline_poller_heartbeats_total{zone=\"inside\"}",
        "faultline_poller_buffered_batches{zone=\"inside\"} 0",
        "faultline_poller_dropped_total{zone=\"inside\"} 0",
    ] {
        assert!(polled.contains(series), "{series}\n{polled}");
    }
    assert_eq!(promtool(&polled), "", "poller /metrics");
}
