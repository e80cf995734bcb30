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

use std::collections::BTreeSet;
use std::path::PathBuf;

use faultline_model::ids::IdAllocator;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::objects::{Config, Object, Origin};

mod render;

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
    let templates: FxHashMap<&str, &Object> = cfg
        .objects
        .iter()
        .filter(|o| o.kind == "host")
        .filter_map(|o| o.attrs.get("name").map(|n| (n.as_str(), o)))
        .collect();
    let mut groups_of: FxHashMap<String, BTreeSet<String>> = FxHashMap::default();
    for g in cfg.objects.iter().filter(|o| o.kind == "hostgroup") {
        let Some(name) = g.attrs.get("hostgroup_name") else {
            continue;
        };
        for m in list(g.attrs.get("members").map(String::as_str)) {
            groups_of.entry(m).or_default().insert(name.clone());
        }
    }
    let mut ids = IdAllocator::default();
    let mut raw: Vec<(Host, Vec<String>, Origin)> = Vec::with_capacity(cfg.objects.len());
    for o in cfg.objects.iter().filter(|o| o.kind == "host") {
        let get = |k: &str| resolve(o, k, &templates, &mut FxHashSet::default());
        // `register` is never inherited: only `register 0` on the object makes a template.
        if o.attrs.get("register").map(String::as_str) == Some("0") {
            continue;
        }
        for t in items(o.attrs.get("use").map(String::as_str)) {
            if !templates.contains_key(t) {
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
    let known: FxHashSet<&str> = cfg
        .objects
        .iter()
        .filter(|o| o.kind == "host" && o.attrs.get("register").map(String::as_str) != Some("0"))
        .filter_map(|o| o.attrs.get("host_name").map(String::as_str))
        .collect();
    for (mut host, parents, at) in raw {
        for p in parents {
            if host.parents.contains(&p) {
                // `parents a, a`: one requirement (a group may not list a member twice).
                continue;
            }
            if known.contains(p.as_str()) {
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
    templates: &FxHashMap<&'t str, &'t Object>,
    seen: &mut FxHashSet<&'t str>,
) -> Option<String> {
    let own = o.attrs.get(key);
    if let Some(v) = own.filter(|v| !v.starts_with('+')) {
        return Some(v.clone());
    }
    let mut inherited = None;
    if seen.len() < MAX_TEMPLATE_DEPTH {
        for name in items(o.attrs.get("use").map(String::as_str)) {
            let Some((&name, &template)) = templates.get_key_value(name) else {
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
    items(v).map(str::to_owned).collect()
}

/// The items of a comma-separated list, trimmed, empty items dropped.
fn items(v: Option<&str>) -> impl Iterator<Item = &str> {
    v.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
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
