//! `faultline import netbox --url` against Nautobot: the pages a real Nautobot 3.2 served
//! (recorded by `bench/nautobot-record.sh` from an inventory loaded through its REST API:
//! four devices, interfaces, three cables, a virtual chassis), served again here as they were.
//! A real Nautobot needs PostgreSQL, Redis and its migrations, measured at many minutes on this
//! machine (bench/README.md), which is more than the test suite's budget.
//!
//! What differs from NetBox and is checked: the import asks `/api/status/` and then every page
//! with `depth=1` (at Nautobot's default depth nested objects carry only ids and URLs), filters
//! by `location`, reads UUID object ids, role names without slugs, and cables whose ends are
//! `termination_a_type` / `termination_a_id` / `termination_a`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

#[path = "support/inventory_server.rs"]
mod support;

use support::TOKEN;

/// Where the recording's links pointed; replaced by this server's address.
const RECORDED_BASE: &str = "{{BASE}}";

#[derive(Clone)]
struct Recorded {
    base: String,
    status: Value,
    /// Endpoint → its pages at the recorded page size, in order.
    pages: HashMap<String, Vec<Value>>,
    page_size: usize,
    asked: Arc<Mutex<Vec<String>>>,
}

fn recording() -> Recorded {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/nautobot-3.2.json");
    let text = std::fs::read_to_string(file).expect("the recording");
    let v: Value = serde_json::from_str(&text).expect("JSON");
    let pages = v["pages"]
        .as_object()
        .expect("pages")
        .iter()
        .map(|(k, p)| (k.clone(), p.as_array().expect("a list of pages").clone()))
        .collect();
    Recorded {
        base: String::new(),
        status: v["status"].clone(),
        pages,
        page_size: v["page_size"].as_u64().expect("page_size") as usize,
        asked: Arc::default(),
    }
}

async fn status(State(r): State<Recorded>, headers: HeaderMap) -> Response {
    if let Some(refused) = support::refused(&headers) {
        return refused;
    }
    Json(r.status.clone()).into_response()
}

async fn page(
    State(r): State<Recorded>,
    Path(endpoint): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = support::refused(&headers) {
        return refused;
    }
    support::note(&r.asked, &endpoint, &q);
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(50);
    let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let Some(pages) = r.pages.get(&endpoint) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if limit != r.page_size
        || !offset.is_multiple_of(limit)
        || q.get("depth").map(String::as_str) != Some("1")
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"detail": format!("recorded with limit={} and depth=1", r.page_size)})),
        )
            .into_response();
    }
    let Some(recorded) = pages.get(offset / limit) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let text = recorded.to_string().replace(RECORDED_BASE, &r.base);
    let page: Value = serde_json::from_str(&text).expect("JSON");
    Json(page).into_response()
}

/// Serve the recording on a free loopback port until the test ends.
fn serve(mut r: Recorded) -> (String, Arc<Mutex<Vec<String>>>) {
    let asked = r.asked.clone();
    let base = support::serve(move |addr| {
        r.base = format!("http://{addr}");
        Router::new()
            .route("/api/status/", get(status))
            .route("/api/dcim/{endpoint}/", get(page))
            .with_state(r)
    });
    (base, asked)
}

#[test]
fn nautobot_pages_become_the_inventory_that_was_loaded() {
    let recorded = recording();
    let page_size = recorded.page_size.to_string();
    let (url, asked) = serve(recorded);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("nautobot.json");
    let out_arg = out.to_str().expect("utf-8");
    let args = [
        "import",
        "netbox",
        "--url",
        &url,
        "--site",
        "dc1",
        "--page-size",
        &page_size,
        "-o",
        out_arg,
    ];
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .env("NETBOX_TOKEN", TOKEN)
        .output()
        .expect("run faultline");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));

    let t = faultline_model::Topology::load(&out).expect("the import is a valid topology");
    let devices: Vec<(&str, &str, Option<String>)> = t
        .devices
        .iter()
        .map(|d| {
            (
                d.id.as_str(),
                d.kind.as_str(),
                d.address.as_ref().map(|a| a.to_string()),
            )
        })
        .collect();
    let mut sorted = devices.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            ("core-sw-1", "switch", Some("10.0.0.1".to_owned())),
            ("core-sw-2", "switch", Some("10.0.0.2".to_owned())),
            ("fw-a", "firewall", Some("10.0.0.3".to_owned())),
            ("srv", "server", None),
        ],
        "the four devices loaded, kinds from role names, addresses from primary IPv4"
    );
    let mut links: Vec<String> = t.links.iter().map(|l| l.id().to_string()).collect();
    links.sort();
    assert_eq!(
        links,
        [
            "core-sw-1:Gi1/0/1--fw-a:port2",
            "core-sw-1:Gi1/0/2--fw-a:port3",
            "core-sw-2:Gi1/0/1--srv:eth0",
        ],
        "the three cables, A end first as loaded"
    );
    assert_eq!(t.groups.len(), 1, "the virtual chassis");
    let mut members = t.groups[0].members.clone();
    members.sort();
    assert_eq!(members, ["core-sw-1", "core-sw-2"]);

    let asked = asked.lock().unwrap().clone();
    assert!(!asked.is_empty());
    assert!(
        asked
            .iter()
            .all(|a| a.contains("depth=1") && a.contains("location=dc1") && !a.contains("site=")),
        "{asked:?}"
    );
}
