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

use crate::objects::{Config, Object};

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

/// Below this many host objects, resolving them on one thread is quicker than starting more.
const PARALLEL_FROM: usize = 4096;

/// Hosts from the objects read: templates resolved, hostgroups as tags, parents checked.
///
/// Each host resolves on its own (templates and groups are only read), so large files are
/// split over the machine's threads; ids are then given out in file order, and problems are
/// listed as one pass would: each host's own, then the unknown parents.
fn resolve_hosts(cfg: &Config) -> Import {
    let templates: FxHashMap<&str, &Object> = cfg
        .objects
        .iter()
        .filter(|o| o.kind == "host")
        .filter_map(|o| o.attrs.get("name").map(|n| (n.as_str(), o)))
        .collect();
    let mut groups_of: FxHashMap<&str, BTreeSet<&str>> = FxHashMap::default();
    for g in cfg.objects.iter().filter(|o| o.kind == "hostgroup") {
        let Some(name) = g.attrs.get("hostgroup_name") else {
            continue;
        };
        for m in items(g.attrs.get("members").map(String::as_str)) {
            groups_of.entry(m).or_default().insert(name);
        }
    }
    let hosts: Vec<&Object> = cfg
        .objects
        .iter()
        .filter(|o| o.kind == "host" && o.attrs.get("register").map(String::as_str) != Some("0"))
        .collect();
    let known: FxHashSet<&str> = hosts
        .iter()
        .filter_map(|o| o.attrs.get("host_name").map(String::as_str))
        .collect();
    let context = Context {
        cfg,
        templates: &templates,
        groups_of: &groups_of,
        known: &known,
    };
    let resolved = resolve_all(&hosts, &context);
    let mut out = Import {
        problems: cfg.problems.clone(),
        ..Import::default()
    };
    let mut parent_problems = vec![];
    let mut ids = IdAllocator::default();
    for r in resolved {
        out.problems.extend(r.problems);
        parent_problems.extend(r.parent_problems);
        if let Some(mut host) = r.host {
            host.id = ids.allocate(&host.name);
            out.hosts.push(host);
        }
    }
    out.problems.extend(parent_problems);
    out
}

/// What every host's resolution reads.
struct Context<'c> {
    cfg: &'c Config,
    templates: &'c FxHashMap<&'c str, &'c Object>,
    /// Host name → the `define hostgroup` names listing it as a member.
    groups_of: &'c FxHashMap<&'c str, BTreeSet<&'c str>>,
    /// Every host name defined.
    known: &'c FxHashSet<&'c str>,
}

/// One host object resolved: the host (its id not yet given) and its problems.
struct Resolved {
    host: Option<Host>,
    problems: Vec<String>,
    parent_problems: Vec<String>,
}

/// Every host object resolved, in order; on several threads when there are many.
fn resolve_all(hosts: &[&Object], context: &Context<'_>) -> Vec<Resolved> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if hosts.len() < PARALLEL_FROM || threads < 2 {
        return hosts.iter().map(|o| resolve_host(o, context)).collect();
    }
    let chunk = hosts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = hosts
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|o| resolve_host(o, context))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// One host object (not a template): attributes from it or its templates, problems found.
fn resolve_host(o: &Object, c: &Context<'_>) -> Resolved {
    let get = |k: &str| resolve(o, k, c.templates, &mut FxHashSet::default());
    let place = c.cfg.place(&o.at);
    let mut problems = vec![];
    for t in items(o.attrs.get("use").map(String::as_str)) {
        if !c.templates.contains_key(t) {
            problems.push(format!("{place}: unknown template `{t}`"));
        }
    }
    let Some(name) = o.attrs.get("host_name").cloned() else {
        if !o.attrs.contains_key("name") {
            problems.push(format!("{place}: host without host_name"));
        }
        return Resolved {
            host: None,
            problems,
            parent_problems: vec![],
        };
    };
    let address = match get("address").filter(|a| !a.is_empty()) {
        None => {
            problems.push(format!("{place}: host `{name}` has no address"));
            None
        }
        Some(a) if !address_ok(&a) => {
            problems.push(format!(
                "{place}: host `{name}`: address `{a}` is neither an IP address nor a host name"
            ));
            None
        }
        Some(a) => Some(a),
    };
    let mut hostgroups: BTreeSet<String> = list(get("hostgroups").as_deref()).into_iter().collect();
    if let Some(groups) = c.groups_of.get(name.as_str()) {
        hostgroups.extend(groups.iter().map(|g| (*g).to_owned()));
    }
    let mut parents: Vec<String> = vec![];
    let mut parent_problems = vec![];
    for p in list(get("parents").as_deref()) {
        if parents.contains(&p) {
            // `parents a, a`: one requirement (a group may not list a member twice).
            continue;
        }
        if c.known.contains(p.as_str()) {
            parents.push(p);
        } else {
            parent_problems.push(format!("{place}: host `{name}` has unknown parent `{p}`"));
        }
    }
    Resolved {
        host: Some(Host {
            id: String::new(),
            name,
            address,
            parents,
            hostgroups,
            place,
        }),
        problems,
        parent_problems,
    }
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
