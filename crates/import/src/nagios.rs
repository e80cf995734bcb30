//! Nagios hosts → faultline devices.
//!
//! - A host is a `define host` with `host_name` and without `register 0`; attributes missing
//!   on it come from its `use` templates (left to right, depth first); a `+` value adds to the
//!   inherited one. Templates are never devices.
//! - `address` becomes the device address (reported, and left out, when it is neither an IP
//!   address nor a host name); a host without one is reported and imported without.
//! - `parents`: one parent → `requires: [parent]`; several → one `any` group
//!   `<id>-parents` (Nagios calls a host unreachable only when every parent is down).
//!   Unknown parents are reported and dropped.
//! - Hostgroups (`hostgroups` on hosts, `members` on `define hostgroup`) become tags.
//! - Ids follow [`faultline_model::ids::sanitize`]; the original name is kept in the
//!   comment above each device.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use faultline_model::emit::{comment_text, scalar};
use faultline_model::ids::IdAllocator;

use crate::objects::{Config, Object, Origin};

/// At most this many templates are searched for one attribute: a bound on the recursion for a
/// hostile file (real configurations chain a handful).
const MAX_TEMPLATE_DEPTH: usize = 64;

/// One imported host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The Nagios `host_name`.
    pub name: String,
    pub id: String,
    pub address: Option<String>,
    /// Parents' `host_name`s that exist.
    pub parents: Vec<String>,
    pub hostgroups: BTreeSet<String>,
    /// `file:line` of the definition.
    pub place: String,
}

/// The import: hosts in file order and every problem found.
#[derive(Debug, Default)]
pub struct Import {
    pub hosts: Vec<Host>,
    /// `file:line: message`.
    pub problems: Vec<String>,
}

/// Read and resolve `paths`. `Err` only when a file cannot be read.
pub fn import(paths: &[PathBuf]) -> Result<Import, String> {
    Ok(resolve_hosts(&Config::read(paths)?))
}

/// Resolve the object definitions of one file's `text` (named `file` in problems) without
/// touching the file system: its `cfg_file` / `cfg_dir` lines are not followed. For input that
/// does not come from files (the fuzz target).
pub fn import_text(file: &str, text: &str) -> Import {
    resolve_hosts(&Config::from_text(file, text))
}

/// Hosts from the objects read: templates resolved, hostgroups as tags, parents checked.
fn resolve_hosts(cfg: &Config) -> Import {
    let mut out = Import {
        problems: cfg.problems.clone(),
        ..Import::default()
    };
    let templates: HashMap<&str, &Object> = cfg
        .objects
        .iter()
        .filter(|o| o.kind == "host")
        .filter_map(|o| o.attrs.get("name").map(|n| (n.as_str(), o)))
        .collect();
    let mut groups_of: HashMap<String, BTreeSet<String>> = HashMap::new();
    for g in cfg.objects.iter().filter(|o| o.kind == "hostgroup") {
        let Some(name) = g.attrs.get("hostgroup_name") else {
            continue;
        };
        for m in list(g.attrs.get("members").map(String::as_str)) {
            groups_of.entry(m).or_default().insert(name.clone());
        }
    }
    let mut ids = IdAllocator::default();
    let mut raw: Vec<(Host, Vec<String>, Origin)> = vec![];
    for o in cfg.objects.iter().filter(|o| o.kind == "host") {
        let get = |k: &str| resolve(o, k, &templates, &mut HashSet::new());
        // `register` is never inherited: only `register 0` on the object makes a template.
        if o.attrs.get("register").map(String::as_str) == Some("0") {
            continue;
        }
        for t in list(o.attrs.get("use").map(String::as_str)) {
            if !templates.contains_key(t.as_str()) {
                out.problems
                    .push(format!("{}: unknown template `{t}`", cfg.place(&o.at)));
            }
        }
        let Some(name) = o.attrs.get("host_name").cloned() else {
            if !o.attrs.contains_key("name") {
                out.problems
                    .push(format!("{}: host without host_name", cfg.place(&o.at)));
            }
            continue;
        };
        let address = get("address").filter(|a| !a.is_empty());
        let address = match address {
            None => {
                out.problems.push(format!(
                    "{}: host `{name}` has no address",
                    cfg.place(&o.at)
                ));
                None
            }
            Some(a) if !address_ok(&a) => {
                out.problems.push(format!(
                    "{}: host `{name}`: address `{a}` is neither an IP address nor a host name",
                    cfg.place(&o.at)
                ));
                None
            }
            Some(a) => Some(a),
        };
        let mut hostgroups: BTreeSet<String> =
            list(get("hostgroups").as_deref()).into_iter().collect();
        hostgroups.extend(groups_of.get(&name).cloned().unwrap_or_default());
        let host = Host {
            id: ids.allocate(&name),
            name,
            address,
            parents: vec![],
            hostgroups,
            place: cfg.place(&o.at),
        };
        raw.push((host, list(get("parents").as_deref()), o.at.clone()));
    }
    let known: HashMap<String, usize> = raw
        .iter()
        .enumerate()
        .map(|(i, (h, _, _))| (h.name.clone(), i))
        .collect();
    for (mut host, parents, at) in raw {
        for p in parents {
            if host.parents.contains(&p) {
                // `parents a, a`: one requirement (a group may not list a member twice).
                continue;
            }
            if known.contains_key(&p) {
                host.parents.push(p);
            } else {
                out.problems.push(format!(
                    "{}: host `{}` has unknown parent `{p}`",
                    cfg.place(&at),
                    host.name
                ));
            }
        }
        out.hosts.push(host);
    }
    out
}

/// An attribute of `o`, from itself or its templates; `+value` adds to the inherited value.
///
/// Templates are searched depth first in `use` order, as Nagios does; `seen` holds the
/// templates already searched for this attribute, so a template named twice (`use base,base`,
/// or two paths to one ancestor) is searched once and a `use` cycle ends, instead of the search
/// doubling at every level.
fn resolve<'t>(
    o: &Object,
    key: &str,
    templates: &HashMap<&'t str, &'t Object>,
    seen: &mut HashSet<&'t str>,
) -> Option<String> {
    let own = o.attrs.get(key);
    if let Some(v) = own.filter(|v| !v.starts_with('+')) {
        return Some(v.clone());
    }
    let mut inherited = None;
    if seen.len() < MAX_TEMPLATE_DEPTH {
        for name in list(o.attrs.get("use").map(String::as_str)) {
            let Some((&name, &template)) = templates.get_key_value(name.as_str()) else {
                continue;
            };
            if !seen.insert(name) {
                continue;
            }
            inherited = resolve(template, key, templates, seen);
            if inherited.is_some() {
                break;
            }
        }
    }
    match (own, inherited) {
        (Some(add), Some(base)) => Some(format!("{base},{}", &add[1..])),
        (Some(add), None) => Some(add[1..].to_owned()),
        (None, inherited) => inherited,
    }
}

/// A comma-separated list, trimmed, empty items dropped.
fn list(v: Option<&str>) -> Vec<String> {
    v.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The schema's address rule: an IP address or an RFC 1123 host name.
fn address_ok(s: &str) -> bool {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    s.len() <= 253
        && !s.chars().all(|c| c.is_ascii_digit() || c == '.')
        && s.trim_end_matches('.').split('.').all(label)
}

/// A device or group of the imported topology, with the comment written above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub comment: String,
    /// The entry as the schema writes it (`id`, `kind`, `address`, `requires`, `tags`, or a
    /// group's `id`, `mode`, `members`).
    pub value: serde_json::Value,
}

impl Import {
    /// Devices and groups (one `any` group per host with several parents).
    pub fn entries(&self) -> (Vec<Entry>, Vec<Entry>) {
        use serde_json::json;
        let id_of: HashMap<&str, &str> = self
            .hosts
            .iter()
            .map(|h| (h.name.as_str(), h.id.as_str()))
            .collect();
        let mut ids = IdAllocator::with_taken(self.hosts.iter().map(|h| h.id.clone()));
        let mut devices = Vec::with_capacity(self.hosts.len());
        let mut groups = vec![];
        for h in &self.hosts {
            let quoted = serde_json::Value::from(h.name.as_str());
            let parents: Vec<&str> = h
                .parents
                .iter()
                .filter_map(|p| id_of.get(p.as_str()).copied())
                .collect();
            let mut d = json!({"id": h.id, "kind": "host"});
            if let Some(a) = &h.address {
                d["address"] = json!(a);
            }
            match parents.as_slice() {
                [] => {}
                [one] => d["requires"] = json!([one]),
                many => {
                    let gid = ids.allocate(&format!("{}-parents", h.id));
                    groups.push(Entry {
                        comment: format!(
                            "parents of nagios host {quoted}: reachable while any is up"
                        ),
                        value: json!({"id": gid, "mode": "any", "members": many}),
                    });
                    d["requires"] = json!([gid]);
                }
            }
            if !h.hostgroups.is_empty() {
                d["tags"] = json!(h.hostgroups);
            }
            devices.push(Entry {
                comment: format!(
                    "nagios host {quoted} at {}",
                    h.place.replace(['\n', '\r'], " ")
                ),
                value: d,
            });
        }
        (devices, groups)
    }

    /// The topology as YAML, checked: what is returned loads (a parent cycle, say, does not:
    /// then the model's diagnostics are the error). The same entries as JSON take the model's
    /// fast path; only a failure is re-read from the YAML, for positions in the text.
    pub fn to_checked_yaml(&self, name: &str, header: &str, file: &str) -> Result<String, String> {
        let (devices, groups) = self.entries();
        let text = yaml(name, header, &devices, &groups);
        if faultline_model::Topology::from_json_str(&json(name, devices, groups), file).is_err() {
            faultline_model::Topology::from_yaml_str(&text, file).map_err(|e| e.to_string())?;
        }
        Ok(text)
    }

    /// The topology as JSON (for validation through the model's fast path).
    pub fn to_json(&self, name: &str) -> String {
        let (devices, groups) = self.entries();
        json(name, devices, groups)
    }

    /// The topology as YAML, each entry under a comment naming its Nagios origin.
    pub fn to_yaml(&self, name: &str, header: &str) -> String {
        let (devices, groups) = self.entries();
        yaml(name, header, &devices, &groups)
    }
}

fn json(name: &str, devices: Vec<Entry>, groups: Vec<Entry>) -> String {
    let values = |v: Vec<Entry>| v.into_iter().map(|e| e.value).collect::<Vec<_>>();
    serde_json::json!({"name": name, "devices": values(devices), "groups": values(groups)})
        .to_string()
}

fn yaml(name: &str, header: &str, devices: &[Entry], groups: &[Entry]) -> String {
    let mut out = String::with_capacity(devices.len() * 160);
    // `devices:` alone would be null, which the schema refuses: no hosts is an empty list.
    let empty = if devices.is_empty() { " []" } else { "" };
    let _ = writeln!(out, "# {header}\nname: {}\n\ndevices:{empty}", scalar(name));
    for e in devices {
        let _ = writeln!(
            out,
            "  # {}\n  - {}",
            comment_text(&e.comment),
            flow(&e.value)
        );
    }
    if !groups.is_empty() {
        let _ = writeln!(out, "\ngroups:");
        for e in groups {
            let _ = writeln!(
                out,
                "  # {}\n  - {}",
                comment_text(&e.comment),
                flow(&e.value)
            );
        }
    }
    out
}

/// A JSON value as a YAML flow node, strings plain where that is safe.
fn flow(v: &serde_json::Value) -> String {
    use serde_json::Value as V;
    match v {
        V::String(s) => scalar(s),
        V::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        V::Object(map) => {
            // The schema's order, not the map's (alphabetical).
            const ORDER: [&str; 7] = [
                "id", "kind", "address", "mode", "members", "requires", "tags",
            ];
            let fields: Vec<String> = ORDER
                .iter()
                .filter_map(|k| map.get(*k).map(|v| format!("{k}: {}", flow(v))))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        other => other.to_string(),
    }
}
