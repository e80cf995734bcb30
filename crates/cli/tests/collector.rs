//! End to end: the `faultline` binary runs the collector on the demo lab, a firewall dies, the
//! page goes out through a real webhook, the collector is killed with SIGKILL mid-incident, and
//! after a restart the incident resolves — paged once, resolved once, in order.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use faultline_api::{self as api, LabAction, path};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Kills the collector even when an assertion fails.
struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(cfg: &std::path::Path, log: &std::path::Path) -> Proc {
    let log = std::fs::File::create(log).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "--config"])
        .arg(cfg)
        .env(
            "FAULTLINE_LOG",
            "warn,faultline_collector=debug,faultline_lab=info",
        )
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn faultline run");
    Proc(child)
}

/// A typed GET of the collector API; `None` while it is not answering.
async fn get<T: DeserializeOwned>(client: &reqwest::Client, api: &str, path: &str) -> Option<T> {
    let resp = client.get(format!("{api}{path}")).send().await.ok()?;
    resp.error_for_status().ok()?.json().await.ok()
}

async fn status(client: &reqwest::Client, api: &str) -> Option<api::StatusResponse> {
    get(client, api, &path::v1(path::STATUS)).await
}

async fn wait_for<F: Fn() -> bool>(what: &str, timeout: Duration, f: F) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

type Hooks = Arc<Mutex<Vec<(String, String, String)>>>;

async fn hook(State(h): State<Hooks>, headers: HeaderMap, body: String) -> &'static str {
    assert!(
        headers
            .get("x-faultline-signature")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("sha256="))
    );
    let v: Value = serde_json::from_str(&body).expect("webhook body is JSON");
    let action = v["action"].as_str().unwrap_or("").to_string();
    let id = v["incident"]["id"].as_str().unwrap_or("").to_string();
    let kind = v["incident"]["kind"].as_str().unwrap_or("").to_string();
    h.lock().unwrap().push((action, id, kind));
    "ok"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_ineffective_pages_once_and_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let hooks: Hooks = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .with_state(hooks.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let api_port = free_port();
    let topology = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    let cfg = dir.path().join("faultline.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
topology = "{topology}"
lab = true
[api]
listen = "127.0.0.1:{api_port}"
[poll]
interval_s = 1.0
timeout_ms = 300
retries = 0
[icmp]
enabled = false
[probe]
interval_s = 1.0
timeout_ms = 1000
[store]
path = "fl.redb"
[engine]
stale_after_ms = 20000
[engine.device]
down_ms = 3000
up_ms = 4000
[engine.link]
down_ms = 3000
up_ms = 4000
[engine.probe]
down_ms = 3000
up_ms = 4000
[[notify.receivers]]
name = "hook"
kind = "webhook"
url = "http://{hook_addr}/hook"
secret = "test-secret-not-logged"
[notify.retry]
base_ms = 100
max_ms = 1000
"#
        ),
    )
    .unwrap();

    let api = format!("http://127.0.0.1:{api_port}");
    let client = reqwest::Client::new();
    let first = start(&cfg, &dir.path().join("run1.log"));
    let t = Instant::now();
    while status(&client, &api).await.is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "collector API never came up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let every device be seen once, then kill the active firewall.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = client
        .post(format!(
            "{api}{}",
            path::lab_action(LabAction::Fail, Some("fw-a"))
        ))
        .json(&serde_json::Map::new())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let lab: api::LabStatus = r.json().await.expect("lab status");
    assert_eq!(lab.failed, ["fw-a"]);

    let h = hooks.clone();
    wait_for(
        "a failover-ineffective page",
        Duration::from_secs(60),
        || {
            h.lock()
                .unwrap()
                .iter()
                .any(|(_, _, kind)| kind == "failover_ineffective")
        },
    )
    .await;
    let incidents: api::IncidentsResponse = get(&client, &api, &path::v1(path::INCIDENTS))
        .await
        .expect("incidents");
    let open = &incidents.open;
    assert_eq!(open.len(), 1, "{incidents:#?}");
    assert_eq!(open[0].root_causes, ["fw-a"]);
    assert_eq!(open[0].kind, api::IncidentKind::FailoverIneffective);
    assert_eq!(
        open[0].suspects.first().map(|s| s.component.as_str()),
        Some("fw-b"),
        "{:#?}",
        open[0].suspects
    );
    let id = open[0].id.clone();
    // A link id has `/` and `:` in it: the live why must still find it.
    let why = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "why",
            "fw-a:port2--sw-core-1:gi1/0/1",
            "--api",
            &api,
            "--json",
        ])
        .output()
        .expect("faultline why");
    assert!(
        why.status.success(),
        "{}",
        String::from_utf8_lossy(&why.stderr)
    );
    let why: api::WhyResponse = serde_json::from_slice(&why.stdout).expect("why --json");
    assert_eq!(why.tree.kind, "link", "{why:#?}");
    assert_eq!(why.id, "fw-a:port2--sw-core-1:gi1/0/1");
    // The live why of the portal carries its service status and the incident.
    let portal = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["why", "portal", "--api", &api, "--json"])
        .output()
        .expect("faultline why portal");
    let portal: api::WhyResponse = serde_json::from_slice(&portal.stdout).expect("why --json");
    assert_eq!(portal.service.map(|s| s.observed), Some(api::State::Down));
    assert_eq!(portal.incident.map(|i| i.id), Some(id.clone()));
    // `faultline ready`: the typed answer, filtered by group, and an unknown group exits 1.
    let ready = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .arg("ready")
            .args(args)
            .args(["--api", &api])
            .output()
            .expect("faultline ready")
    };
    let out = ready(&["fw-pair", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: api::ReadyResponse = serde_json::from_slice(&out.stdout).expect("ready --json");
    let groups: Vec<&str> = r.groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(groups, ["fw-pair"]);
    let out = ready(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("fw-pair: active") && text.contains("lb-pair"),
        "{text}"
    );
    let out = ready(&["no-such-pair"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an active-standby group"));
    let metrics = client
        .get(format!("{api}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("faultline_incidents_open 1"), "{metrics}");
    assert!(
        metrics.contains("faultline_components{kind=\"device\",state=\"down\"} 1"),
        "{metrics}"
    );

    // kill -9 in the middle of the incident.
    drop(first);
    let log1 = std::fs::read_to_string(dir.path().join("run1.log")).unwrap_or_default();
    assert!(
        !log1.contains("test-secret-not-logged"),
        "the webhook secret leaked into the log"
    );

    // The restarted collector's lab starts healthy: fw-a answers again, the portal is fine.
    let second = start(&cfg, &dir.path().join("run2.log"));
    let h = hooks.clone();
    let idc = id.clone();
    wait_for("the resolve after restart", Duration::from_secs(60), || {
        h.lock()
            .unwrap()
            .iter()
            .any(|(a, i, _)| a == "resolve" && *i == idc)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let got = hooks.lock().unwrap().clone();
    let mine: Vec<&(String, String, String)> = got.iter().filter(|(_, i, _)| *i == id).collect();
    let triggers = mine.iter().filter(|(a, _, _)| a == "trigger").count();
    let resolves = mine.iter().filter(|(a, _, _)| a == "resolve").count();
    assert_eq!(
        (triggers, resolves),
        (1, 1),
        "paged once, resolved once: {got:#?}"
    );
    assert_eq!(mine.first().map(|m| m.0.as_str()), Some("trigger"));
    assert_eq!(mine.last().map(|m| m.0.as_str()), Some("resolve"));
    let other_triggers: Vec<_> = got
        .iter()
        .filter(|(a, i, _)| a == "trigger" && *i != id)
        .collect();
    assert!(
        other_triggers.is_empty(),
        "no second page for the same outage: {got:#?}"
    );

    // A graceful stop saves an engine snapshot; the next start restores from it and replays
    // only what came after, and pages nothing.
    let mut second = second;
    let second_pid = second.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &second_pid])
            .status()
            .unwrap()
            .success()
    );
    let t = Instant::now();
    while second.0.try_wait().unwrap().is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "graceful stop took too long"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = hooks.lock().unwrap().len();
    let _third = start(&cfg, &dir.path().join("run3.log"));
    let t = Instant::now();
    while status(&client, &api).await.is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "third start never came up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let log3 = std::fs::read_to_string(dir.path().join("run3.log")).unwrap_or_default();
    assert!(log3.contains("engine restored from snapshot"), "{log3}");
    assert_eq!(
        hooks.lock().unwrap().len(),
        before,
        "a clean restart pages nothing"
    );
}

/// A well-formed PagerDuty integration key (32 characters) for the example configuration.
const PD_KEY: &str = "0123456789abcdef0123456789abcdef";

/// The shipped example configuration parses, with its secrets taken from the environment, and a
/// missing secret is a clear error that does not print any other secret.
#[test]
fn example_config_is_valid() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/faultline.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "--check", "--config", example])
        .env("FAULTLINE_COMMUNITY", "c0mmunity-xyz")
        .env("FAULTLINE_FW_AUTH", "authpass-xyz")
        .env("FAULTLINE_FW_PRIV", "privpass-xyz")
        .env("FAULTLINE_TRAP_COMMUNITY", "trapcomm-xyz")
        .env("FAULTLINE_PD_ROUTING_KEY", PD_KEY)
        .env("FAULTLINE_WEBHOOK_SECRET", "hooksecret-xyz")
        .output()
        .expect("run faultline");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("configuration ok"), "{text}");
    assert!(text.contains("oncall, alertmanager, chatops"), "{text}");
    for secret in [
        "c0mmunity-xyz",
        "authpass-xyz",
        "privpass-xyz",
        "trapcomm-xyz",
        PD_KEY,
        "hooksecret-xyz",
    ] {
        assert!(!text.contains(secret), "secret leaked: {text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "--check", "--config", example])
        .env_remove("FAULTLINE_COMMUNITY")
        .env("FAULTLINE_FW_AUTH", "authpass-xyz")
        .env("FAULTLINE_FW_PRIV", "privpass-xyz")
        .env("FAULTLINE_TRAP_COMMUNITY", "trapcomm-xyz")
        .env("FAULTLINE_PD_ROUTING_KEY", PD_KEY)
        .env("FAULTLINE_WEBHOOK_SECRET", "hooksecret-xyz")
        .output()
        .expect("run faultline");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("environment variable FAULTLINE_COMMUNITY is not set"),
        "{err}"
    );
    for secret in ["authpass-xyz", PD_KEY, "hooksecret-xyz"] {
        assert!(!err.contains(secret), "{err}");
    }
}

/// SIGHUP with a broken topology keeps the running collector; with a fixed one it reloads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_validates_before_reloading() {
    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let topo = dir.path().join("topo.yaml");
    let good =
        "name: small\ndevices:\n  - {id: a, kind: switch}\nservices:\n  - {id: s, requires: [a]}\n";
    std::fs::write(&topo, good).unwrap();
    let cfg = dir.path().join("faultline.toml");
    std::fs::write(
        &cfg,
        format!("topology = \"topo.yaml\"\n[api]\nlisten = \"127.0.0.1:{api_port}\"\n[icmp]\nenabled = false\n[store]\npath = \"fl.redb\"\n"),
    )
    .unwrap();
    let log = dir.path().join("run.log");
    let proc = start(&cfg, &log);
    let pid = proc.0.id().to_string();
    let api = format!("http://127.0.0.1:{api_port}");
    let client = reqwest::Client::new();
    let t = Instant::now();
    while status(&client, &api).await.is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "collector API never came up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let hup = || {
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill -HUP")
    };
    // A broken topology: reported, and the collector keeps serving the old one.
    std::fs::write(
        &topo,
        "name: small\ndevices:\n  - {id: a, kind: switch, requires: [nope]}\n",
    )
    .unwrap();
    assert!(hup().success());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let now = status(&client, &api).await.expect("still serving");
    assert_eq!(now.topology, "small");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("not reloading") && text.contains("unknown component `nope`"),
        "{text}"
    );
    // A valid new topology: reloaded in place.
    std::fs::write(&topo, good.replace("name: small", "name: bigger")).unwrap();
    assert!(hup().success());
    let t = Instant::now();
    loop {
        if let Some(s) = status(&client, &api).await
            && s.topology == "bigger"
        {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "reload never happened"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
