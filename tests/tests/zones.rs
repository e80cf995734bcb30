//! Vantage points end to end (issue #13): the portal is probed from two zones by two
//! `faultline poller` processes publishing to a real three-node JetStream cluster. The
//! `inside` poller runs on the host, where the portal listens on loopback; the `outside` poller
//! runs in a network namespace of its own (joined to the host by a veth pair, through which it
//! reaches NATS), where the portal's address leads nowhere. The correlator sees the portal
//! fail from outside and work from inside: a `partial_outage` naming both zones. When the
//! portal dies, the same incident escalates to the full outage.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use faultline_e2e::api::Api;
use faultline_e2e::process::Collector;
use faultline_testpeers::Netns;
use faultline_testpeers::nats::{NODES, NatsCluster};

/// Longest wait for the processes to start and for a verdict to reach the correlator.
const WAIT: Duration = Duration::from_secs(40);

const TITLE: &str = "Contractor portal is unreachable from zone outside, reachable from inside";

const TOPOLOGY: &str = "name: zones\n\
devices:\n  - {id: fw, kind: firewall, zone: inside}\n\
services:\n  - {id: portal, name: Contractor portal, tier: critical, requires: [fw],\n     \
zones: [inside, outside], probe: {tcp: 'PORTAL'}}\n";

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
             [engine]\nsettle_ms = 0\n[engine.probe]\ndown_ms = 1000\nup_ms = 1000\n\
             [cluster]\nnats = [{servers}]\n"
        ),
    }
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

/// Wait until the portal's state at the correlator is `want`.
async fn wait_portal(api: &Api, want: &str) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if portal_state(api).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Wait for an open incident of `kind` on the portal; returns it.
async fn wait_incident(api: &Api, kind: &str) -> Option<serde_json::Value> {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(v) = api.get("/api/incidents").await
            && let Some(open) = v["open"].as_array()
            && let Some(i) = open.iter().find(|i| {
                i["kind"] == kind
                    && i["affected_services"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|s| s["id"] == "portal"))
            })
        {
            return Some(i.clone());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write test file");
}

#[tokio::test]
async fn the_portal_failing_only_from_outside_is_a_partial_outage() {
    let Some(cluster) = NatsCluster::start_reachable().await else {
        return;
    };
    let ns = Netns::new("zo");
    let dir = tempfile::tempdir().unwrap();
    let portal = TcpListener::bind("127.0.0.1:0").unwrap();
    let portal_addr = portal.local_addr().unwrap().to_string();
    write(
        dir.path(),
        "topology.yaml",
        &TOPOLOGY.replace("PORTAL", &portal_addr),
    );
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

    let mut inside = Collector::start_command("poller", &path("inside.toml"), &path("in.log"));
    inside.wait_api(WAIT).await.expect("inside poller starts");
    let mut correlator = Collector::start(&path("correlator.toml"), &path("corr.log"));
    let api = Api::new(&correlator.wait_api(WAIT).await.expect("correlator starts"));
    let logs = |others: &[&Collector]| {
        others
            .iter()
            .map(|c| c.log_tail(15))
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    assert!(
        wait_portal(&api, "up").await,
        "portal up from inside\n{}",
        logs(&[&inside, &correlator])
    );

    let mut outside =
        Collector::start_command_in(&ns.name, "poller", &path("outside.toml"), &path("out.log"));
    outside.wait_api(WAIT).await.expect("outside poller starts");
    let Some(partial) = wait_incident(&api, "partial_outage").await else {
        panic!(
            "no partial_outage\n{}",
            logs(&[&inside, &outside, &correlator])
        );
    };
    assert_eq!(partial["title"], TITLE, "{partial:#}");
    assert_eq!(partial["severity"], "error", "{partial:#}");
    assert_eq!(portal_state(&api).await, "degraded");

    // The portal dies: every zone fails, and the same incident escalates.
    drop(portal);
    let Some(full) = wait_incident(&api, "unexplained_service_failure").await else {
        panic!("no escalation\n{}", logs(&[&inside, &outside, &correlator]));
    };
    assert_eq!(full["id"], partial["id"], "{full:#}");
    assert_eq!(full["severity"], "critical");
}
