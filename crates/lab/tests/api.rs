//! The lab's HTTP routes (as `faultline lab` calls them) and its target overrides.

use faultline_collector::TargetOverrides;
use faultline_lab::{Lab, api};
use faultline_model::Topology;
use serde_json::Value;

const TOPOLOGY: &str = "name: t\n\
    devices:\n  - {id: a, kind: switch}\n  - {id: b, kind: server, requires: [a]}\n\
    links:\n  - [a:gi1/0/1, b:eth0]\n\
    services:\n  - {id: web, requires: [b], probe: {url: 'http://192.0.2.1/health'}}\n";

/// Serve `routes` on loopback; the base URL.
async fn serve(routes: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, routes).await });
    format!("http://{addr}")
}

async fn call(method: reqwest::Method, url: String) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, url)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn routes_drive_the_lab_and_answer_json() {
    let topo = Topology::from_yaml_str(TOPOLOGY, "t.yaml").unwrap();
    let lab = Lab::start(topo).await.unwrap();
    let base = serve(api::routes(Some(lab.clone()))).await;
    use reqwest::Method;

    let (code, v) = call(Method::GET, format!("{base}/api/lab")).await;
    assert_eq!(code, 200);
    assert_eq!(v["failed"], serde_json::json!([]));
    assert_eq!(v["fixed"], false);
    assert!(v["agents"]["a"].is_string(), "{v}");

    // A link id is one percent-encoded path segment.
    let link = "a%3Agi1%2F0%2F1--b%3Aeth0";
    let (code, v) = call(Method::POST, format!("{base}/api/lab/fail/{link}")).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["failed"], serde_json::json!(["a:gi1/0/1--b:eth0"]));
    let (code, v) = call(Method::POST, format!("{base}/api/lab/heal/{link}")).await;
    assert_eq!((code, v["failed"].clone()), (200, serde_json::json!([])));

    let (code, v) = call(Method::POST, format!("{base}/api/lab/fix")).await;
    assert_eq!((code, v["fixed"].clone()), (200, Value::Bool(true)));
    let (code, v) = call(Method::POST, format!("{base}/api/lab/reset")).await;
    assert_eq!((code, v["fixed"].clone()), (200, Value::Bool(false)));

    let (code, v) = call(Method::POST, format!("{base}/api/lab/fail/web")).await;
    assert_eq!(code, 400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("only devices and links")
    );
    let (code, v) = call(Method::POST, format!("{base}/api/lab/explode")).await;
    assert_eq!(code, 400);
    assert!(v["error"].as_str().unwrap().contains("unknown lab action"));
}

#[tokio::test]
async fn without_a_lab_the_routes_say_so() {
    let base = serve(api::routes(None)).await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/lab"),
        (reqwest::Method::POST, "/api/lab/fix"),
        (reqwest::Method::POST, "/api/lab/fail/a"),
    ] {
        let (code, v) = call(method, format!("{base}{path}")).await;
        assert_eq!(code, 404);
        assert_eq!(v["error"], "this collector is not running the demo lab");
    }
}

#[tokio::test]
async fn the_lab_stands_in_for_every_device_and_probed_service() {
    let topo = Topology::from_yaml_str(TOPOLOGY, "t.yaml").unwrap();
    let lab = Lab::start(topo).await.unwrap();
    for device in ["a", "b"] {
        let agent = lab.snmp_agent(device).expect("an agent per device");
        assert_eq!(Some(agent.addr), lab.agent_addr(device));
        assert!(agent.addr.ip().is_loopback());
    }
    assert!(lab.snmp_agent("nope").is_none());
    let url = lab.probe_url("web").expect("a server per probed service");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/health"),
        "{url}"
    );
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
}
