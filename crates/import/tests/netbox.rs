//! `faultline import netbox` on saved API pages in NetBox's shapes (4.x cables with
//! `a_terminations`, a 3.x cable with `termination_a`, devices over two pages, a virtual
//! chassis, a circuit and a missing page).

use faultline_import::netbox::import;
use faultline_model::{GroupMode, Topology};
use serde_json::json;

fn device(
    id: u64,
    name: &str,
    role: &str,
    ip: Option<&str>,
    vc: Option<&str>,
) -> serde_json::Value {
    json!({
        "id": id, "name": name, "url": format!("https://netbox.example/api/dcim/devices/{id}/"),
        "device_type": {"id": 1, "model": "X", "slug": "x"},
        "role": {"id": 1, "name": role, "slug": role},
        "primary_ip4": ip.map(|a| json!({"id": id, "address": a, "family": 4})),
        "virtual_chassis": vc.map(|n| json!({"id": 9, "name": n})),
        "status": {"value": "active", "label": "Active"}
    })
}

fn iface_term(id: u64, device_id: u64, device: &str, name: &str) -> serde_json::Value {
    json!({"object_type": "dcim.interface", "object_id": id,
           "object": {"id": id, "name": name, "device": {"id": device_id, "name": device}, "cable": 1}})
}

#[test]
fn saved_pages_become_devices_links_and_groups() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, v: serde_json::Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).expect("write");
        p
    };
    let devices1 = write(
        "devices-1.json",
        json!({
        "count": 4, "next": "https://netbox.example/api/dcim/devices/?limit=2&offset=2", "previous": null,
        "results": [device(1, "core sw 1", "core-switch", Some("10.0.0.1/24"), Some("core-stack")),
                    device(2, "core sw 2", "core-switch", Some("10.0.0.2/24"), Some("core-stack"))]}),
    );
    let devices2 = write(
        "devices-2.json",
        json!({
        "count": 4, "next": null, "previous": "https://netbox.example/api/dcim/devices/?limit=2",
        "results": [device(3, "fw-a", "firewall", Some("10.0.1.1/32"), None),
                    device(4, "srv", "server", None, None)]}),
    );
    let interfaces = write(
        "interfaces.json",
        json!({"count": 1, "next": null, "previous": null,
        "results": [{"id": 40, "name": "eth0", "device": {"id": 4, "name": "srv"}, "type": {"value": "1000base-t"}}]}),
    );
    let cables = write(
        "cables.json",
        json!({
        "count": 5, "next": "https://netbox.example/api/dcim/cables/?limit=4&offset=4", "previous": null,
        "results": [
            {"id": 1, "a_terminations": [iface_term(10, 1, "core sw 1", "Gi1/0/1")],
             "b_terminations": [iface_term(30, 3, "fw-a", "port2")]},
            {"id": 2, "a_terminations": [iface_term(11, 2, "core sw 2", "Gi1/0/1")],
             "b_terminations": [{"object_type": "dcim.interface", "object_id": 40}]},
            {"id": 3, "termination_a_type": "dcim.interface", "termination_a_id": 12,
             "termination_a": {"id": 12, "name": "Gi1/0/2", "device": {"id": 1, "name": "core sw 1"}},
             "termination_b_type": "dcim.interface", "termination_b_id": 31,
             "termination_b": {"id": 31, "name": "port3", "device": {"id": 3, "name": "fw-a"}}},
            {"id": 4, "a_terminations": [iface_term(13, 1, "core sw 1", "Gi1/0/48")],
             "b_terminations": [{"object_type": "circuits.circuittermination", "object_id": 7,
                                 "object": {"id": 7, "term_side": "A"}}]}
        ]}),
    );
    let imp = import(&[devices1, cables, devices2, interfaces]).expect("import");
    assert_eq!(imp.problems.len(), 2, "{:?}", imp.problems);
    assert!(
        imp.problems[0].starts_with("cables: 4 of 5 objects saved; missing pages (next: https://")
    );
    assert!(imp.problems[1].contains("cable 4: ends on a `circuits.circuittermination`"));
    let t = Topology::from_json_str(&imp.to_json("nb"), "nb.json").expect("valid");
    let ids: Vec<&str> = t.devices.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["core-sw-1", "core-sw-2", "fw-a", "srv"]);
    assert_eq!(t.device("fw-a").map(|d| d.kind.as_str()), Some("firewall"));
    assert_eq!(
        t.device("core-sw-1")
            .and_then(|d| d.address.clone())
            .map(|a| a.to_string()),
        Some("10.0.0.1".into())
    );
    assert!(t.device("srv").is_some_and(|d| d.address.is_none()));
    let links: Vec<&str> = t.links.iter().map(|l| l.id()).collect();
    assert_eq!(
        links,
        [
            "core-sw-1:Gi1/0/1--fw-a:port2",
            "core-sw-2:Gi1/0/1--srv:eth0",
            "core-sw-1:Gi1/0/2--fw-a:port3"
        ]
    );
    assert_eq!(t.groups.len(), 1);
    assert_eq!(t.groups[0].mode, GroupMode::Any);
    assert_eq!(t.groups[0].members, ["core-sw-1", "core-sw-2"]);
}

/// A primary address that is not an IP address (a hand-edited export, a custom field put in
/// its place) is reported and left out: the topology still loads (the fuzzer found it).
#[test]
fn a_primary_address_that_is_not_an_ip_is_reported_and_left_out() {
    let page = json!({"results": [
        {"id": 1, "name": "sw", "device_type": {"id": 1}, "role": {"slug": "switch"},
         "primary_ip4": {"address": "mgmt_only10.0.0.1"}},
        {"id": 2, "name": "fw", "device_type": {"id": 1}, "role": {"slug": "firewall"},
         "primary_ip4": {"address": "10.0.0.2/24"}}
    ]});
    let imp = faultline_import::netbox::import_pages(&[page]);
    assert_eq!(
        imp.problems,
        ["device sw: primary address \"mgmt_only10.0.0.1\" is not an IP address; left out"]
    );
    let t = Topology::from_json_str(&imp.to_json("nb"), "nb.json").expect("loads");
    assert!(t.device("sw").is_some_and(|d| d.address.is_none()));
    assert_eq!(
        t.device("fw")
            .and_then(|d| d.address.clone())
            .map(|a| a.to_string()),
        Some("10.0.0.2".into())
    );
}

/// A cable from a device to itself, and a second cable on an interface that already has one,
/// are reported and left out (the model refuses both; the fuzzer found the first).
#[test]
fn a_cable_to_its_own_device_or_onto_a_cabled_interface_is_left_out() {
    let end = |iid: u64, did: u64, dev: &str, name: &str| {
        json!([{"object_type": "dcim.interface", "object_id": iid,
                "object": {"id": iid, "name": name, "device": {"id": did, "name": dev}}}])
    };
    let page = json!({"results": [
        {"id": 1, "name": "a", "device_type": {"id": 1}},
        {"id": 2, "name": "b", "device_type": {"id": 1}},
        {"id": 10, "a_terminations": end(11, 1, "a", "e1"), "b_terminations": end(21, 2, "b", "e1")},
        {"id": 11, "a_terminations": end(12, 1, "a", "e2"), "b_terminations": end(13, 1, "a", "e3")},
        {"id": 12, "a_terminations": end(11, 1, "a", "e1"), "b_terminations": end(22, 2, "b", "e2")}
    ]});
    let imp = faultline_import::netbox::import_pages(&[page]);
    assert_eq!(
        imp.problems,
        [
            "cable 11: connects device `a` to itself; left out",
            "cable 12: `a:e1` is already on cable 10; left out",
        ]
    );
    assert_eq!(imp.links, [("a:e1".to_owned(), "b:e1".to_owned())]);
    Topology::from_json_str(&imp.to_json("nb"), "nb.json").expect("loads");
}
