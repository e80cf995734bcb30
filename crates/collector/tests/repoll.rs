//! Re-polls against real snmpd (issue #9 items 3 and 15): a trap from a device that came back
//! re-polls it through its open circuit breaker, so it is seen up within the up hold-down, not
//! after the breaker's skip period; and a trap flood from a known device is coalesced into at
//! most one re-poll per [`MIN_REPOLL_GAP`](../src/tasks/pollers.rs) instead of polling it back
//! to back.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use faultline_collector::config::Config;
use faultline_collector::{Collector, StartOptions};
use faultline_testpeers as peers;
use faultline_testpeers::ns_agent::NsAgent;
use faultline_testpeers::snmpd::Snmpd;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// A collector on a one-device topology (`dev` at `ip`, polled on `snmp_port`), with traps on
/// `trap_listen` (community `public`), polled every `interval_s`, and `extra` configuration.
async fn start(
    dir: &Path,
    ip: &str,
    snmp_port: u16,
    trap_listen: &str,
    interval_s: u64,
    extra: &str,
) -> (String, CancellationToken, tokio::task::JoinHandle<()>) {
    std::fs::write(
        dir.join("t.yaml"),
        format!("name: r\ndevices:\n  - {{id: dev, kind: switch, address: {ip}}}\n"),
    )
    .unwrap();
    let cfg_path = dir.join("faultline.toml");
    std::fs::write(
        &cfg_path,
        format!(
            "topology = \"t.yaml\"\n[api]\nlisten = \"127.0.0.1:0\"\n[icmp]\nenabled = false\n\
             [store]\npath = \"fl.redb\"\n[traps]\nlisten = \"{trap_listen}\"\ncommunity = \"public\"\n\
             [credentials.default]\nversion = \"v2c\"\ncommunity = \"public\"\n{extra}\n\
             [poll]\ninterval_s = {interval_s}\nport = {snmp_port}\njitter = 0.0\ntimeout_ms = 300\nretries = 0\n"
        ),
    )
    .unwrap();
    let cfg = Config::load(&cfg_path).expect("config");
    let stop = CancellationToken::new();
    let collector = Collector::start(cfg, StartOptions::default(), stop.clone())
        .await
        .expect("collector starts");
    let api = format!("http://{}", collector.api_addr());
    (api, stop, tokio::spawn(collector.wait()))
}

async fn own_state(api: &str, id: &str) -> String {
    let v: Value = match reqwest::get(format!("{api}/api/v1/components")).await {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => Value::Null,
    };
    v["components"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["id"] == id)
        .and_then(|c| c["own"].as_str())
        .unwrap_or("")
        .to_string()
}

/// Polls made so far (the poll-duration histogram's count).
async fn polls(api: &str) -> u64 {
    let text = match reqwest::get(format!("{api}/metrics")).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    text.lines()
        .find_map(|l| l.strip_prefix("faultline_poll_duration_seconds_count "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

async fn wait_state(api: &str, want: &str, timeout: Duration) -> Duration {
    let t = Instant::now();
    while own_state(api, "dev").await != want {
        assert!(
            t.elapsed() < timeout,
            "dev never became {want}: {}",
            own_state(api, "dev").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t.elapsed()
}

/// `snmptrap` (v2c linkUp) to `to`, optionally inside a namespace; true if it was sent.
fn send_trap(netns: Option<&str>, to: &str) -> bool {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "snmptrap"]);
            c
        }
        None => Command::new("snmptrap"),
    };
    cmd.args([
        "-v2c",
        "-c",
        "public",
        "-m",
        "",
        to,
        "",
        "1.3.6.1.6.3.1.1.5.4",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .status()
    .is_ok_and(|s| s.success())
}

/// Issue #9 item 3: the device's agent stops and its traps' re-polls fail until its circuit
/// breaker opens; when the agent returns and the device sends a trap, the re-poll goes through
/// the breaker and the device reads up after the up hold-down, long before the breaker's skip
/// period (one poll interval, 30 s) ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_returns_is_seen_up_through_its_open_breaker() {
    if !peers::have("snmptrap") {
        return;
    }
    let Some(NsAgent { agent, ns }) = NsAgent::start("rp") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let trap_port = peers::free_udp_port();
    let agent_addr = agent.addr;
    let (api, stop, waiter) = start(
        dir.path(),
        &ns.ns_ip,
        agent_addr.port(),
        &format!("{}:{trap_port}", ns.host_ip),
        30,
        "[engine]\nstale_after_ms = 120000\n[engine.device]\ndown_ms = 500\nup_ms = 1000",
    )
    .await;
    wait_state(&api, "up", Duration::from_secs(30)).await;

    // The agent stops; each trap's re-poll fails, until the breaker opens (three failures).
    drop(agent);
    let to = format!("{}:{trap_port}", ns.host_ip);
    for _ in 0..4 {
        assert!(send_trap(Some(&ns.name), &to), "snmptrap failed");
        tokio::time::sleep(Duration::from_millis(1_500)).await;
    }
    wait_state(&api, "down", Duration::from_secs(30)).await;

    let _agent = Snmpd::start_at(Some(&ns.name), agent_addr, "master off\n").expect("snmpd");
    assert!(send_trap(Some(&ns.name), &to), "snmptrap failed");
    let took = wait_state(&api, "up", Duration::from_secs(45)).await;
    assert!(
        took < Duration::from_secs(6),
        "seen up {took:?} after the trap: the re-poll was held by the breaker"
    );
    stop.cancel();
    let _ = waiter.await;
}

/// Issue #9 item 15: a bounded trap flood from a polled device's address prompts at most one
/// re-poll per gap, not one per trap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_flood_is_coalesced_into_a_few_polls() {
    if !peers::have("snmptrap") {
        return;
    }
    let Some(agent) = Snmpd::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let trap_port = peers::free_udp_port();
    let (api, stop, waiter) = start(
        dir.path(),
        "127.0.0.1",
        agent.addr.port(),
        &format!("127.0.0.1:{trap_port}"),
        60,
        "",
    )
    .await;
    wait_state(&api, "up", Duration::from_secs(30)).await;
    let before = polls(&api).await;

    const FLOOD: Duration = Duration::from_secs(3);
    let to = format!("127.0.0.1:{trap_port}");
    let sent: usize = std::thread::scope(|s| {
        let senders: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let t = Instant::now();
                    let mut n = 0;
                    while t.elapsed() < FLOOD {
                        n += usize::from(send_trap(None, &to));
                    }
                    n
                })
            })
            .collect();
        senders.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let during = polls(&api).await - before;
    assert!(sent >= 50, "the flood sent only {sent} traps");
    // One re-poll per second of flood, plus the one in flight when it started and the last.
    assert!(
        during <= FLOOD.as_secs() + 3,
        "{sent} traps made {during} polls"
    );
    assert!(during >= 1, "the traps prompted no re-poll at all");
    stop.cancel();
    let _ = waiter.await;
}
