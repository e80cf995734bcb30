//! High availability of the distributed shape against a real three-node JetStream cluster: a
//! poller in zone `inside` probes a loopback portal the test fails and heals; correlators
//! (`faultline run` with `[cluster]`) follow the stream and page a signed webhook receiver.
//!
//! - Two correlators; an incident is acknowledged on the leader, which is then killed with
//!   SIGKILL mid-incident: the standby takes the lease within two lease times and pages the
//!   rest; the pages are exactly the transitions the engines derived from the stream (same
//!   incident ids and the acknowledgement on both), none twice, none lost.
//! - The node leading the observation stream is killed mid-incident: nothing lost, nothing
//!   paged twice.
//! - `faultline cluster status` (the built binary) shows the leader, the stream and the lag,
//!   and says so clearly when NATS is unreachable.
//!
//! The figures (kill → new leader, kill → its first page) are printed (`--nocapture`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use faultline_e2e::api::Api;
use faultline_e2e::portal::Portal;
use faultline_e2e::process::{Collector, binary};
use faultline_e2e::webhook::{Page, WebhookReceiver};
use faultline_testpeers::nats::NatsCluster;
use serde_json::Value;

const SECRET: &str = "cluster-ha-webhook-secret";
/// The correlators' lease: short, so a takeover is quick to test. `FAULTLINE_HA_LEASE_MS`
/// measures another (the default 10 s: the test then takes about 20 s longer).
fn lease() -> Duration {
    let ms = std::env::var("FAULTLINE_HA_LEASE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    Duration::from_millis(ms)
}
/// Longest wait for a process to start, a page to arrive, a leader to appear.
const WAIT: Duration = Duration::from_secs(30);
/// Seconds between probes where no NATS node is killed.
const FAST_PROBE_S: f64 = 0.3;
/// Seconds between probes across a stream leader's loss: the poller's publisher retries its disk
/// buffer only when no new batch came for its retry delay (up to 2 s), so faster probes keep a
/// buffer filled during the election from ever draining (a publisher matter, reported).
const SLOW_PROBE_S: f64 = 2.5;
/// The line the collector logs when it starts delivering as the leader.
const LEADING: &str = "leading: delivering the outbox";

/// The files of one run: topology, poller and correlator configurations, logs, stores.
struct Files {
    dir: tempfile::TempDir,
    servers: String,
    /// Seconds between two probes.
    probe_s: f64,
    /// The pager: the signed webhook receiver `oncall`.
    receiver: WebhookReceiver,
}

impl Files {
    async fn new(cluster: &NatsCluster, portal: &Portal, probe_s: f64) -> Files {
        let dir = tempfile::tempdir().expect("tempdir");
        let topology = format!(
            "name: ha\nservices:\n  - id: portal\n    name: portal\n    tier: critical\n    \
             zone: inside\n    probe: {{url: \"{}\", expect_status: [200]}}\n",
            portal.url
        );
        std::fs::write(dir.path().join("topology.yaml"), topology).expect("write topology");
        let servers = cluster
            .urls()
            .iter()
            .map(|u| format!("\"{u}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let f = Files {
            dir,
            servers,
            probe_s,
            receiver: WebhookReceiver::start(SECRET).await,
        };
        std::fs::write(
            f.path("poller.toml"),
            format!(
                "{}[store]\npath = \"poller.redb\"\n[cluster]\nnats = [{}]\nzone = \"inside\"\n\
                 buffer_dir = \"buffer\"\n",
                common(f.probe_s),
                f.servers
            ),
        )
        .expect("write poller config");
        f
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write correlator `name`'s configuration; its path.
    fn correlator(&self, name: &str) -> PathBuf {
        let path = self.path(&format!("{name}.toml"));
        let config = format!(
            "{}[store]\npath = \"{name}.redb\"\n[engine]\nsettle_ms = 0\n[engine.probe]\n\
             down_ms = 1000\nup_ms = 1000\n[notify.retry]\nbase_ms = 50\nmax_ms = 500\n\
             [[notify.receivers]]\nname = \"oncall\"\nkind = \"webhook\"\nurl = \"{}/oncall\"\n\
             secret = \"{SECRET}\"\n[cluster]\nnats = [{}]\nname = \"{name}\"\nlease_ms = {}\n",
            common(self.probe_s),
            self.receiver.url(),
            self.servers,
            lease().as_millis()
        );
        std::fs::write(&path, config).expect("write correlator config");
        path
    }

    async fn start(&self, command: &str, config: &Path) -> Collector {
        let log = config.with_extension("log");
        let mut c = Collector::start_command(command, config, &log);
        c.wait_api(WAIT).await.expect("process starts");
        c
    }
}

/// The common part of every configuration, probing every `probe_s` seconds.
fn common(probe_s: f64) -> String {
    format!(
        "topology = \"topology.yaml\"\n[api]\nlisten = \"127.0.0.1:0\"\n[icmp]\nenabled = false\n\
         [probe]\ninterval_s = {probe_s}\ntimeout_ms = 500\n"
    )
}

fn leads(c: &Collector) -> bool {
    c.log().contains(LEADING)
}

async fn wait_leads(c: &Collector, within: Duration) -> Option<Duration> {
    let t = Instant::now();
    while t.elapsed() < within {
        if leads(c) {
            return Some(t.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// Pages of `action` so far.
fn count(hooks: &WebhookReceiver, action: &str) -> usize {
    hooks
        .pages_for("oncall")
        .iter()
        .filter(|p| p.action == action)
        .count()
}

async fn wait_count(files: &Files, action: &str, n: usize, logs: &[&Collector]) {
    let t = Instant::now();
    while count(&files.receiver, action) < n {
        if t.elapsed() > WAIT {
            let tails: String = logs.iter().map(|c| c.log_tail(25)).collect();
            let (_, status, stderr) = cluster_status(&files.path("poller.toml"));
            panic!(
                "no {action} #{n}; pages:\n{}\n{tails}\ncluster status: {status:#} {stderr}",
                files.receiver.dump()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The transitions a correlator's engine derived, from its log: `(incident, action)` in order.
fn derived(c: &Collector) -> Vec<(String, String)> {
    let field = |line: &str, key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .map(str::to_string)
    };
    c.log()
        .lines()
        .filter_map(|l| Some((field(l, "incident=")?, field(l, "action=")?.to_lowercase())))
        .collect()
}

/// Every page is one transition, none twice; the transitions paged are exactly `expected`.
fn assert_exactly(pages: &[Page], expected: &[(String, String)]) {
    let mut seen = BTreeMap::new();
    for p in pages {
        let seq = p.body["seq"].as_u64().unwrap_or_default();
        *seen.entry((p.incident_id.clone(), seq)).or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "paged twice: {twice:?}");
    let mut paged: Vec<(String, String)> = pages
        .iter()
        .map(|p| (p.incident_id.clone(), p.action.clone()))
        .collect();
    let mut want = expected.to_vec();
    paged.sort();
    want.sort();
    assert_eq!(paged, want, "pages against the derived transitions");
}

/// `faultline cluster status --json --config F`, run from the built binary.
fn cluster_status(config: &Path) -> (i32, Value, String) {
    let out = Command::new(binary())
        .args(["cluster", "status", "--json", "--config"])
        .arg(config)
        .output()
        .expect("run faultline cluster status");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// `faultline ack ID --api BASE`, from the built binary.
fn acknowledge(api: &str, id: &str) {
    let out = Command::new(binary())
        .args(["ack", id, "--comment", "on it", "--api", api])
        .output()
        .expect("run faultline ack");
    assert!(
        out.status.success(),
        "faultline ack: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn consumer<'a>(status: &'a Value, name: &str) -> Option<&'a Value> {
    status["consumers"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_takes_over_a_killed_leader_and_pages_each_transition_once() {
    let Some(cluster) = NatsCluster::start().await else {
        return;
    };
    let portal = Portal::start().await;
    let files = Files::new(&cluster, &portal, FAST_PROBE_S).await;
    let poller = files.start("poller", &files.path("poller.toml")).await;
    let (a_config, b_config) = (files.correlator("a"), files.correlator("b"));
    let mut a = files.start("run", &a_config).await;
    assert!(
        wait_leads(&a, WAIT).await.is_some(),
        "a leads\n{}",
        a.log_tail(30)
    );
    let b = files.start("run", &b_config).await;
    let b_api = Api::new(b.api().expect("b's API"));

    // Incident 1, paged by a.
    portal.set(503);
    wait_count(&files, "trigger", 1, &[&a, &b, &poller]).await;
    portal.set(200);
    wait_count(&files, "resolve", 1, &[&a, &b]).await;

    // cluster status: a leads; both correlators consume; the zone's last batch from its poller.
    let (code, status, stderr) = cluster_status(&a_config);
    assert_eq!(code, 0, "cluster status: {stderr}");
    assert_eq!(status["leader"]["holder"], "a", "{status:#}");
    // A live lease: some time left, never more than the lease (a missing field fails).
    let left = status["leader"]["lease_left_ms"].as_u64();
    assert!(
        left.is_some_and(|l| l > 0 && l <= lease().as_millis() as u64),
        "lease left {left:?}: {status:#}"
    );
    assert!(
        status["stream"]["leader"]
            .as_str()
            .is_some_and(|l| l.starts_with('n'))
    );
    assert_eq!(
        status["stream"]["replicas"].as_array().map(Vec::len),
        Some(3)
    );
    for name in ["faultline-correlator-a", "faultline-correlator-b"] {
        let c = consumer(&status, name).unwrap_or_else(|| panic!("{name} in {status:#}"));
        assert!(c["num_pending"].as_u64().is_some_and(|n| n < 50), "{c}");
    }
    let zone = &status["zones"][0];
    assert_eq!(zone["subject"], "faultline.obs.inside", "{status:#}");
    assert_eq!(zone["poller"], "inside");

    // Incident 2: triggered by a and acknowledged there (the action goes through the stream,
    // so b's engine takes it too); the portal heals and a dies at once. b takes over and pages
    // the resolve a never sent.
    portal.set(503);
    wait_count(&files, "trigger", 2, &[&a, &b]).await;
    let pages = files.receiver.pages_for("oncall");
    let second = pages
        .iter()
        .rev()
        .find(|p| p.action == "trigger")
        .map(|p| p.incident_id.clone())
        .expect("the second trigger");
    acknowledge(a.api().expect("a's API"), &second);
    wait_count(&files, "acknowledge", 1, &[&a, &b]).await;
    portal.set(200);
    let killed = Instant::now();
    a.kill9();
    let took = wait_leads(&b, WAIT).await.expect("b leads");
    wait_count(&files, "resolve", 2, &[&b]).await;
    let first_page = killed.elapsed();
    eprintln!(
        "takeover: kill -9 -> b leads {} ms, -> b's first page {} ms (lease {} ms)",
        took.as_millis(),
        first_page.as_millis(),
        lease().as_millis()
    );
    assert!(took <= 2 * lease(), "took over after {took:?}");

    // Incident 3, paged by b.
    portal.set(503);
    wait_count(&files, "trigger", 3, &[&b]).await;
    portal.set(200);
    wait_count(&files, "resolve", 3, &[&b]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The pages are b's derived transitions, all three incidents' (b followed the stream from
    // the start), and a derived the same ones under the same ids before it died.
    let expected = derived(&b);
    let of_a = derived(&a);
    assert_eq!(expected[..of_a.len()], of_a[..], "a and b derived alike");
    assert_exactly(&files.receiver.pages_for("oncall"), &expected);
    let incidents = b_api.incidents().await.expect("b's incidents");
    assert_eq!(incidents.resolved.len(), 3, "{incidents:?}");
    let (code, status, stderr) = cluster_status(&b_config);
    assert_eq!(code, 0, "cluster status: {stderr}");
    assert_eq!(status["leader"]["holder"], "b", "{status:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_stream_leader_node_mid_incident_loses_no_page_and_doubles_none() {
    let Some(mut cluster) = NatsCluster::start().await else {
        return;
    };
    let portal = Portal::start().await;
    let files = Files::new(&cluster, &portal, SLOW_PROBE_S).await;
    let poller = files.start("poller", &files.path("poller.toml")).await;
    let c = files.start("run", &files.correlator("solo")).await;
    assert!(
        wait_leads(&c, WAIT).await.is_some(),
        "leads\n{}",
        c.log_tail(30)
    );

    portal.set(503);
    wait_count(&files, "trigger", 1, &[&c, &poller]).await;
    let leader = cluster
        .stream_leader(faultline_cluster_stream())
        .await
        .expect("the stream has a leader");
    let node = NatsCluster::index_of(&leader).expect("node index");
    cluster.kill(node);
    // Mid-incident: the heal travels through the re-elected stream.
    portal.set(200);
    wait_count(&files, "resolve", 1, &[&c, &poller]).await;
    portal.set(503);
    wait_count(&files, "trigger", 2, &[&c, &poller]).await;
    portal.set(200);
    wait_count(&files, "resolve", 2, &[&c, &poller]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_exactly(&files.receiver.pages_for("oncall"), &derived(&c));
    assert_eq!(
        derived(&c).len(),
        4,
        "two incidents, each opened and resolved once"
    );
}

/// The observation stream's name (as `faultline-cluster` creates it).
fn faultline_cluster_stream() -> &'static str {
    "FAULTLINE_OBS"
}

#[test]
fn cluster_status_says_when_nats_is_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!("topology = \"t.yaml\"\n[cluster]\nnats = [\"nats://127.0.0.1:{port}\"]\n"),
    )
    .expect("write config");
    let (code, _, stderr) = cluster_status(&config);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("NATS unreachable"), "{stderr}");
    assert!(
        stderr.contains(&port.to_string()),
        "names the server: {stderr}"
    );
}
