//! Writing a discovered (or merged) topology as YAML in the project's schema, each generated
//! entry under a comment saying where it came from. Entries are JSON flow mappings and
//! sequences where a value needs quoting (JSON is YAML), plain otherwise.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use faultline_model::Topology;
use faultline_model::emit::{comment_text, scalar};

use crate::ids::{self, IdAllocator};
use crate::links::{Cabling, FoundLink, cabling};
use crate::walk::{Discovery, Node, NodeStatus};

/// A walk with topology ids assigned and its cabling built.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub discovery: Discovery,
    /// Topology id of each node, by position.
    pub ids: Vec<String>,
    pub cabling: Cabling,
}

impl Discovered {
    /// Ids for the nodes (existing ids when merging: matched by address, then by name), then
    /// the cabling.
    pub fn new(discovery: Discovery, existing: Option<&Topology>) -> Discovered {
        let mut alloc = IdAllocator::with_taken(
            existing
                .into_iter()
                .flat_map(|t| t.devices.iter().map(|d| d.id.clone())),
        );
        let ids = discovery
            .nodes
            .iter()
            .map(|n| match existing.and_then(|t| match_device(t, n)) {
                Some(id) => id,
                None => alloc.allocate(&node_name(n)),
            })
            .collect::<Vec<_>>();
        let cabling = cabling(&discovery, &ids);
        Discovered {
            discovery,
            ids,
            cabling,
        }
    }

    /// Nodes whose topology ids are known already (`ids[i]` of `discovery.nodes[i]`, as when
    /// the collector reads its own targets), and their cabling.
    pub fn with_ids(discovery: Discovery, ids: Vec<String>) -> Discovered {
        let cabling = cabling(&discovery, &ids);
        Discovered {
            discovery,
            ids,
            cabling,
        }
    }

    /// Nodes that were asked and did not answer, or were not asked: (id, reason).
    pub fn unreachable(&self) -> Vec<(String, String)> {
        self.discovery
            .nodes
            .iter()
            .zip(&self.ids)
            .filter_map(|(n, id)| match &n.status {
                NodeStatus::Polled => None,
                NodeStatus::Unreachable(r) => Some((id.clone(), format!("unreachable: {r}"))),
                NodeStatus::NotPolled(r) => Some((id.clone(), format!("not polled: {r}"))),
            })
            .collect()
    }
}

/// The device of `t` a node is: same management address, else its sysName as an id.
pub fn match_device(t: &Topology, n: &Node) -> Option<String> {
    let by_addr = n.address.and_then(|a| {
        t.devices.iter().find(|d| {
            d.address
                .as_ref()
                .is_some_and(|x| x.to_string() == a.to_string())
        })
    });
    by_addr
        .or_else(|| {
            (!n.sys_name.is_empty())
                .then(|| {
                    t.device(&n.sys_name)
                        .or_else(|| t.device(&ids::sanitize(&n.sys_name)))
                })
                .flatten()
        })
        .map(|d| d.id.clone())
}

/// The name an id is made from: sysName, else the address, else the chassis id.
fn node_name(n: &Node) -> String {
    if !n.sys_name.is_empty() {
        n.sys_name.clone()
    } else if let Some(a) = n.address {
        a.to_string()
    } else {
        n.chassis.clone().unwrap_or_default()
    }
}

/// A comment line: one line, no control characters.
fn comment(out: &mut String, indent: &str, text: &str) {
    let _ = writeln!(out, "{indent}# {}", comment_text(text));
}

fn origin(n: &Node) -> String {
    let addr = n
        .address
        .map_or_else(|| "no address".to_owned(), |a| format!("{a}:{}", n.port));
    let caps = n.caps.names().join("+");
    let caps = if caps.is_empty() { "-".into() } else { caps };
    match &n.status {
        NodeStatus::Polled => format!(
            "polled {addr} (depth {}): sysName {:?}, sysObjectID {}, profile {}, capabilities {caps}",
            n.depth,
            n.sys_name,
            n.object_id.as_deref().unwrap_or("-"),
            n.profile.as_deref().unwrap_or("-"),
        ),
        NodeStatus::Unreachable(r) => format!(
            "UNREACHABLE {addr} (depth {}): {r}; announced as {:?}, capabilities {caps}",
            n.depth, n.sys_name
        ),
        NodeStatus::NotPolled(r) => format!(
            "NOT POLLED ({r}): announced as {:?}, address {addr}, capabilities {caps}",
            n.sys_name
        ),
    }
}

fn device_line(id: &str, n: &Node) -> String {
    let mut s = format!("  - {{id: {}, kind: {}", scalar(id), n.kind().as_str());
    if let Some(a) = n.address {
        let _ = write!(s, ", address: {}", scalar(&a.to_string()));
    }
    if let Some(p) = n.profile.as_deref().filter(|p| *p != "generic") {
        let _ = write!(s, ", profile: {}", scalar(p));
    }
    s.push('}');
    s
}

fn link_comment(l: &FoundLink) -> String {
    format!(
        "{:?}, seen from {}; {} from {}, {} from {}",
        l.protocol,
        if l.both_ends { "both ends" } else { "one end" },
        l.a,
        l.a_source,
        l.b,
        l.b_source
    )
    .replacen("Lldp", "LLDP", 1)
    .replacen("Cdp", "CDP", 1)
}

fn link_line(a: &str, b: &str) -> String {
    format!("  - [{}, {}]", scalar(a), scalar(b))
}

/// The discovered topology as a new file.
pub fn render_new(d: &Discovered, name: &str, header: &str) -> String {
    let mut out = String::new();
    comment(&mut out, "", header);
    let _ = writeln!(out, "name: {}\n\ndevices:", scalar(name));
    for (n, id) in d.discovery.nodes.iter().zip(&d.ids) {
        comment(&mut out, "  ", &origin(n));
        let _ = writeln!(out, "{}", device_line(id, n));
    }
    let _ = writeln!(
        out,
        "\nlinks:{}",
        if d.cabling.links.is_empty() {
            " []"
        } else {
            ""
        }
    );
    for l in &d.cabling.links {
        comment(&mut out, "  ", &link_comment(l));
        let _ = writeln!(out, "{}", link_line(&l.a.to_string(), &l.b.to_string()));
    }
    write_conflicts(&mut out, d);
    out
}

fn write_conflicts(out: &mut String, d: &Discovered) {
    for c in &d.cabling.conflicts {
        comment(out, "", &format!("NOT LINKED: {c}"));
    }
}

/// An existing entry re-serialised (JSON flow) without the loader's bookkeeping.
fn entry<T: serde::Serialize>(v: &T) -> String {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        o.remove("line");
        o.retain(|_, v| !(v.is_array() && v.as_array().is_some_and(Vec::is_empty)));
    }
    j.to_string()
}

/// `existing` with the discovery merged in: every hand-written device, link, group and
/// service kept; new devices and links added and marked; declared links the network does not
/// show, and discovered links that collide with declared ones, flagged in comments.
pub fn render_merged(d: &Discovered, existing: &Topology, header: &str) -> String {
    let mut out = String::new();
    comment(&mut out, "", header);
    let _ = writeln!(out, "name: {}", scalar(&existing.name));
    if let Some(c) = &existing.collector {
        let _ = writeln!(out, "collector: {}", scalar(c));
    }
    if !existing.zone_collectors.is_empty() {
        let _ = writeln!(out, "zone_collectors:");
        for (zone, c) in &existing.zone_collectors {
            let _ = writeln!(out, "  {}: {}", scalar(zone), scalar(c));
        }
    }
    let known: HashSet<&str> = existing.devices.iter().map(|x| x.id.as_str()).collect();
    let _ = writeln!(out, "\ndevices:");
    for dev in &existing.devices {
        let _ = writeln!(out, "  - {}", entry(dev));
    }
    for (n, id) in d.discovery.nodes.iter().zip(&d.ids) {
        if known.contains(id.as_str()) {
            continue;
        }
        comment(&mut out, "  ", &format!("NEW, {}", origin(n)));
        let _ = writeln!(out, "{}", device_line(id, n));
    }
    let seen: HashMap<(String, String), &FoundLink> = d
        .cabling
        .links
        .iter()
        .flat_map(|l| {
            let (a, b) = (l.a.to_string(), l.b.to_string());
            [((a.clone(), b.clone()), l), ((b, a), l)]
        })
        .collect();
    let mut used: HashSet<String> = HashSet::new();
    let _ = writeln!(out, "\nlinks:");
    for l in &existing.links {
        let (a, b) = (l.a().to_string(), l.b().to_string());
        if !seen.contains_key(&(a.clone(), b.clone())) {
            comment(&mut out, "  ", "declared; NOT seen by LLDP/CDP");
        }
        let _ = writeln!(out, "{}", link_line(&a, &b));
        used.insert(a);
        used.insert(b);
    }
    for l in &d.cabling.links {
        let (a, b) = (l.a.to_string(), l.b.to_string());
        if existing.resolve(&format!("{a}--{b}")).is_some()
            || existing.resolve(&format!("{b}--{a}")).is_some()
        {
            continue;
        }
        if used.contains(&a) || used.contains(&b) {
            comment(
                &mut out,
                "  ",
                &format!(
                    "SEEN, CONFLICTS with a declared link (not added): [{a}, {b}] ({})",
                    link_comment(l)
                ),
            );
            continue;
        }
        comment(&mut out, "  ", &format!("NEW, {}", link_comment(l)));
        let _ = writeln!(out, "{}", link_line(&a, &b));
    }
    write_conflicts(&mut out, d);
    if !existing.groups.is_empty() {
        let _ = writeln!(out, "\ngroups:");
        for g in &existing.groups {
            let _ = writeln!(out, "  - {}", entry(g));
        }
    }
    if !existing.services.is_empty() {
        let _ = writeln!(out, "\nservices:");
        for s in &existing.services {
            let _ = writeln!(out, "  - {}", entry(s));
        }
    }
    out
}
