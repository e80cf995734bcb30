//! `faultline import netbox --url`: the inventory read over NetBox's REST API. The server here
//! answers in NetBox 4.x's shapes (limit/offset pages with absolute `next` links, `Token`
//! authentication, `{"detail": ...}` errors); a real NetBox or Nautobot needs PostgreSQL,
//! Redis and minutes of migrations, which is more than this test's budget (see the closing
//! notes of issue #12).

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

/// What the server holds and what it was asked.
#[derive(Clone)]
struct Inventory {
    base: String,
    /// Where `next` links point (normally `base`).
    next_base: String,
    devices: Vec<Value>,
    interfaces: Vec<Value>,
    cables: Vec<Value>,
    /// Every request's query string.
    asked: Arc<Mutex<Vec<String>>>,
}

fn device(id: u64, name: &str, site: &str) -> Value {
    json!({"id": id, "name": name, "device_type": {"id": 1, "model": "X", "slug": "x"},
           "role": {"id": 1, "name": "switch", "slug": "switch"},
           "site": {"id": 1, "slug": site},
           "primary_ip4": {"id": id, "address": format!("10.0.0.{id}/24"), "family": 4}})
}

fn interface(id: u64, device_id: u64, device: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "device": {"id": device_id, "name": device}})
}

fn cable(id: u64, a: (u64, u64, &str, &str), b: (u64, u64, &str, &str)) -> Value {
    let end = |(iid, did, dev, name): (u64, u64, &str, &str)| {
        json!([{"object_type": "dcim.interface", "object_id": iid,
                "object": {"id": iid, "name": name, "device": {"id": did, "name": dev}}}])
    };
    json!({"id": id, "a_terminations": end(a), "b_terminations": end(b), "status": {"value": "connected"}})
}

async fn page(
    State(inv): State<Inventory>,
    Path(endpoint): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = support::refused(&headers) {
        return refused;
    }
    support::note(&inv.asked, &endpoint, &q);
    let all = match endpoint.as_str() {
        "devices" => &inv.devices,
        "interfaces" => &inv.interfaces,
        "cables" => &inv.cables,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(50);
    let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let results: Vec<Value> = all.iter().skip(offset).take(limit).cloned().collect();
    let next = (offset + limit < all.len()).then(|| {
        let site = q
            .get("site")
            .map(|s| format!("&site={s}"))
            .unwrap_or_default();
        format!(
            "{}/api/dcim/{endpoint}/?limit={limit}&offset={}{site}",
            inv.next_base,
            offset + limit
        )
    });
    Json(json!({"count": all.len(), "next": next, "previous": null, "results": results}))
        .into_response()
}

/// Serve `inv` on a free loopback port until the test ends.
fn serve(mut inv: Inventory, next_elsewhere: bool) -> (String, Arc<Mutex<Vec<String>>>) {
    let asked = inv.asked.clone();
    let base = support::serve(move |addr| {
        inv.base = format!("http://{addr}");
        inv.next_base = if next_elsewhere {
            format!("http://localhost:{}", addr.port())
        } else {
            inv.base.clone()
        };
        Router::new()
            .route("/api/dcim/{endpoint}/", get(page))
            .with_state(inv)
    });
    (base, asked)
}

fn inventory() -> Inventory {
    Inventory {
        base: String::new(),
        next_base: String::new(),
        devices: vec![
            device(1, "core-1", "dc1"),
            device(2, "core-2", "dc1"),
            device(3, "edge-1", "dc1"),
        ],
        interfaces: vec![
            interface(11, 1, "core-1", "eth1"),
            interface(21, 2, "core-2", "eth1"),
            interface(31, 3, "edge-1", "uplink"),
            interface(12, 1, "core-1", "eth2"),
        ],
        cables: vec![
            cable(100, (11, 1, "core-1", "eth1"), (21, 2, "core-2", "eth1")),
            cable(101, (12, 1, "core-1", "eth2"), (31, 3, "edge-1", "uplink")),
        ],
        asked: Arc::default(),
    }
}

fn faultline(args: &[&str], token: Option<&str>) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"));
    cmd.args(args).env_remove("NETBOX_TOKEN");
    if let Some(t) = token {
        cmd.env("NETBOX_TOKEN", t);
    }
    let out = cmd.output().expect("run faultline");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_page_is_read_with_the_filters_and_becomes_a_checked_topology() {
    let (url, asked) = serve(inventory(), false);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("netbox.json");
    let args = [
        "import",
        "netbox",
        "--url",
        &url,
        "--site",
        "dc1",
        "--page-size",
        "2",
        "-o",
        out.to_str().expect("utf-8"),
    ];
    let (code, stdout, stderr) = faultline(&args, Some(TOKEN));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    assert!(stderr.contains("devices: 3 of 3"), "progress: {stderr}");
    let t = faultline_model::Topology::load(&out).expect("the import is a valid topology");
    let ids: Vec<&str> = t.devices.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["core-1", "core-2", "edge-1"]);
    let links: Vec<String> = t.links.iter().map(|l| l.id().to_string()).collect();
    assert_eq!(
        links,
        ["core-1:eth1--core-2:eth1", "core-1:eth2--edge-1:uplink"]
    );
    let asked = asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        [
            "devices?limit=2&site=dc1",
            "devices?limit=2&offset=2&site=dc1",
            "interfaces?limit=2&site=dc1",
            "interfaces?limit=2&offset=2&site=dc1",
            "cables?limit=2&site=dc1",
        ]
    );
}

#[test]
fn a_wrong_token_and_a_next_link_elsewhere_are_refused_without_showing_the_token() {
    let (url, _) = serve(inventory(), false);
    let wrong = "ffffffffffffffffffffffffffffffffffffffff";
    let (code, stdout, stderr) = faultline(&["import", "netbox", "--url", &url], Some(wrong));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("403") && stderr.contains("Invalid token"),
        "{stderr}"
    );
    assert!(!stderr.contains(wrong), "{stderr}");

    let (code, _, stderr) = faultline(&["import", "netbox", "--url", &url], None);
    assert_eq!(code, 1);
    assert!(stderr.contains("NETBOX_TOKEN"), "{stderr}");

    let (url, asked) = serve(inventory(), true);
    let (code, _, stderr) = faultline(
        &["import", "netbox", "--url", &url, "--page-size", "1"],
        Some(TOKEN),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("not sending the token there"), "{stderr}");
    assert_eq!(
        asked.lock().unwrap().len(),
        1,
        "only the first page was asked"
    );
}
