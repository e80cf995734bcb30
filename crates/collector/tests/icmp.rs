//! The collector's ICMP path against a real host: a network namespace joined by veth. The link
//! goes down, the host stops answering pings, an incident opens; the link comes back, it resolves.

use std::time::{Duration, Instant};

use faultline_collector::config::Config;
use faultline_collector::{Collector, StartOptions};
use faultline_testpeers as peers;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

async fn incidents(api: &str) -> Vec<Value> {
    let v: Value = match reqwest::get(format!("{api}/api/incidents")).await {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => Value::Null,
    };
    v["open"].as_array().cloned().unwrap_or_default()
}

async fn own_state(api: &str, id: &str) -> String {
    let v: Value = match reqwest::get(format!("{api}/api/components")).await {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_loss_in_a_namespace_opens_and_resolves_an_incident() {
    if !peers::root() {
        return;
    }
    let ns = peers::Netns::new("col");
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("t.yaml");
    std::fs::write(
        &topo,
        format!(
            "name: icmp\ndevices:\n  - {{id: srv, kind: server, address: {}}}\nservices:\n  - {{id: app, tier: high, requires: [srv]}}\n",
            ns.ns_ip
        ),
    )
    .unwrap();
    let cfg_path = dir.path().join("faultline.toml");
    std::fs::write(
        &cfg_path,
        "topology = \"t.yaml\"\n[api]\nlisten = \"127.0.0.1:0\"\n[icmp]\nenabled = true\ninterval_s = 1.0\n\
         [store]\npath = \"fl.redb\"\n[engine]\nstale_after_ms = 30000\n[engine.device]\ndown_ms = 2000\nup_ms = 2000\n",
    )
    .unwrap();
    let cfg = Config::load(&cfg_path).expect("config");
    let stop = CancellationToken::new();
    let collector = Collector::start(cfg, StartOptions::default(), stop.clone())
        .await
        .expect("collector starts");
    let api = format!("http://{}", collector.api_addr());
    let waiter = tokio::spawn(collector.wait());

    let wait = |what: &'static str, secs: u64| {
        let deadline = Instant::now() + Duration::from_secs(secs);
        move || assert!(Instant::now() < deadline, "timed out waiting for {what}")
    };
    let check = wait("srv to answer pings", 30);
    while own_state(&api, "srv").await != "up" {
        check();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(incidents(&api).await.is_empty());

    ns.set_ns_link(false);
    let check = wait("an incident for srv", 30);
    let open = loop {
        let open = incidents(&api).await;
        if !open.is_empty() {
            break open;
        }
        check();
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0]["root_causes"][0], "srv");
    assert_eq!(open[0]["kind"], "service_down");
    assert!(
        open[0]["evidence"].to_string().contains("ICMP: 100% loss"),
        "{:#}",
        open[0]
    );

    ns.set_ns_link(true);
    let check = wait("the incident to resolve", 30);
    while !incidents(&api).await.is_empty() {
        check();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop.cancel();
    let _ = waiter.await;
}
