//! A saved NetBox (or Nautobot) inventory → topology: the JSON pages of `/api/dcim/devices/`,
//! `/api/dcim/interfaces/` and `/api/dcim/cables/` as NetBox serves them (`{"count", "next",
//! "previous", "results"}`, or a bare array of results), in any order and any number of
//! pages. Which endpoint a page came from is told by its objects (`device_type`: a device;
//! `a_terminations` or `termination_a_type`: a cable; `device` with a `name`: an interface).
//! Object ids are NetBox's numbers or Nautobot's UUIDs; Nautobot's pages are read as it serves
//! them with `depth=1` (nested objects with their fields).
//!
//! - Devices: id from `name` by [`faultline_model::ids`]' rule (`device-<id>` without a
//!   name), address from `primary_ip4` (else `primary_ip`) without its prefix length, kind
//!   from the role's slug, else its name (`role`, NetBox 4 and Nautobot 2+; `device_role`,
//!   NetBox 3.x).
//! - Cables with exactly one interface at each end become links; others (circuits, front
//!   ports, several terminations) are reported and left out. Ends name their interface inline
//!   (`object.name`, `object.device.name`) or by `object_id` through the interfaces pages.
//! - Virtual chassis become `any` groups of their members.
//! - Fewer objects than a page's `count` means pages are missing: reported with the `next` URL.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use faultline_model::ids::IdAllocator;
use serde_json::{Value, json};

/// The import: the topology's entries and every problem found.
#[derive(Debug, Default)]
pub struct Import {
    pub devices: Vec<Value>,
    pub links: Vec<(String, String)>,
    pub groups: Vec<Value>,
    pub problems: Vec<String>,
}

/// An object's id: NetBox numbers its objects, Nautobot gives them UUIDs. Numbers order
/// numerically (the saved pages' order does not matter), before any UUID.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum ObjectId {
    Number(u64),
    Uuid(String),
}

impl ObjectId {
    fn of(v: Option<&Value>) -> Option<ObjectId> {
        match v? {
            Value::Number(n) => n.as_u64().map(ObjectId::Number),
            Value::String(s) if !s.is_empty() => Some(ObjectId::Uuid(s.clone())),
            _ => None,
        }
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ObjectId::Number(n) => write!(f, "{n}"),
            ObjectId::Uuid(u) => f.write_str(u),
        }
    }
}

#[derive(Default)]
struct Pages {
    devices: BTreeMap<ObjectId, Value>,
    interfaces: HashMap<ObjectId, Value>,
    cables: BTreeMap<ObjectId, Value>,
    /// Per endpoint kind: the largest `count` seen and a `next` URL.
    counts: BTreeMap<&'static str, (u64, Option<String>)>,
}

/// Read the saved pages in `paths`.
pub fn import(paths: &[PathBuf]) -> Result<Import, String> {
    let mut pages = Pages::default();
    for p in paths {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", p.display()))?;
        pages.add(&v);
    }
    Ok(pages.build())
}

/// The same from pages already read (as `faultline import netbox --url` fetches them).
pub fn import_pages(pages: &[Value]) -> Import {
    let mut all = Pages::default();
    for p in pages {
        all.add(p);
    }
    all.build()
}

fn kind_of(o: &Value) -> Option<&'static str> {
    if o.get("device_type").is_some() {
        Some("devices")
    } else if o.get("a_terminations").is_some() || o.get("termination_a_type").is_some() {
        Some("cables")
    } else if o.get("device").is_some() && o.get("name").is_some() {
        Some("interfaces")
    } else {
        None
    }
}

impl Pages {
    fn add(&mut self, page: &Value) {
        let results = page
            .get("results")
            .and_then(Value::as_array)
            .or_else(|| page.as_array());
        let Some(results) = results else { return };
        let mut kind = None;
        for o in results {
            let (Some(k), Some(id)) = (kind_of(o), ObjectId::of(o.get("id"))) else {
                continue;
            };
            kind = Some(k);
            match k {
                "devices" => self.devices.insert(id, o.clone()),
                "cables" => self.cables.insert(id, o.clone()),
                _ => self.interfaces.insert(id, o.clone()),
            };
        }
        if let (Some(k), Some(count)) = (kind, page.get("count").and_then(Value::as_u64)) {
            let e = self.counts.entry(k).or_default();
            e.0 = e.0.max(count);
            if let Some(next) = page.get("next").and_then(Value::as_str) {
                e.1 = Some(next.to_owned());
            }
        }
    }

    fn build(self) -> Import {
        let mut out = Import::default();
        for (k, (count, next)) in &self.counts {
            let have = match *k {
                "devices" => self.devices.len(),
                "cables" => self.cables.len(),
                _ => self.interfaces.len(),
            } as u64;
            if have < *count {
                out.problems.push(format!(
                    "{k}: {have} of {count} objects saved; missing pages (next: {})",
                    next.as_deref().unwrap_or("-")
                ));
            }
        }
        let mut ids = IdAllocator::default();
        let mut by_netbox: HashMap<ObjectId, String> = HashMap::new();
        let mut by_name: HashMap<String, String> = HashMap::new();
        let mut chassis: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (nid, d) in &self.devices {
            let name = d.get("name").and_then(Value::as_str).map(str::to_owned);
            let id = ids.allocate(name.as_deref().unwrap_or(&format!("device-{nid}")));
            let mut entry = json!({"id": id, "kind": kind(d)});
            let ip = ["primary_ip4", "primary_ip"]
                .iter()
                .find_map(|k| d.get(*k)?.get("address")?.as_str());
            if let Some(ip) = ip {
                let bare = ip.split('/').next().unwrap_or(ip);
                if bare.parse::<std::net::IpAddr>().is_ok() {
                    entry["address"] = json!(bare);
                } else {
                    out.problems.push(format!(
                        "device {id}: primary address {ip:?} is not an IP address; left out"
                    ));
                }
            }
            if let Some(vc) = d
                .get("virtual_chassis")
                .and_then(|v| v.get("name"))
                .and_then(Value::as_str)
            {
                chassis.entry(vc.to_owned()).or_default().push(id.clone());
            }
            by_netbox.insert(nid.clone(), id.clone());
            if let Some(n) = name {
                by_name.insert(n, id);
            }
            out.devices.push(entry);
        }
        for (vc, members) in chassis {
            let gid = ids.allocate(&vc);
            out.groups
                .push(json!({"id": gid, "mode": "any", "members": members}));
        }
        // Interface end → the cable holding it: an interface takes one cable.
        let mut used: HashMap<String, ObjectId> = HashMap::new();
        for (cid, c) in &self.cables {
            let ends = [
                ("a_terminations", "termination_a"),
                ("b_terminations", "termination_b"),
            ]
            .map(|(new, old)| self.end(c, new, old, &by_netbox, &by_name));
            let problem = match ends {
                [Ok(a), Ok(b)] => match cabled(&a, &b, cid.clone(), &mut used) {
                    Ok(()) => {
                        out.links.push((a, b));
                        continue;
                    }
                    Err(e) => e,
                },
                [Err(e), _] | [_, Err(e)] => e,
            };
            out.problems
                .push(format!("cable {cid}: {problem}; left out"));
        }
        out
    }

    /// One end of a cable as `device:interface`.
    fn end(
        &self,
        cable: &Value,
        new: &str,
        old: &str,
        by_netbox: &HashMap<ObjectId, String>,
        by_name: &HashMap<String, String>,
    ) -> Result<String, String> {
        let terms: Vec<(String, Value, Option<ObjectId>)> =
            match cable.get(new).and_then(Value::as_array) {
                Some(list) => list
                    .iter()
                    .map(|t| {
                        (
                            t.get("object_type")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            t.get("object").cloned().unwrap_or(Value::Null),
                            ObjectId::of(t.get("object_id")),
                        )
                    })
                    .collect(),
                None => vec![(
                    cable
                        .get(format!("{old}_type"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    cable.get(old).cloned().unwrap_or(Value::Null),
                    ObjectId::of(cable.get(format!("{old}_id"))),
                )],
            };
        let [(ty, obj, oid)] = terms.as_slice() else {
            return Err(format!("{} terminations at one end", terms.len()));
        };
        if ty != "dcim.interface" {
            return Err(format!("ends on a `{ty}`, not an interface"));
        }
        let obj = match (
            obj.get("name"),
            oid.as_ref().and_then(|i| self.interfaces.get(i)),
        ) {
            (Some(_), _) => obj,
            (None, Some(saved)) => saved,
            (None, None) => return Err("interface not in the saved pages".into()),
        };
        let ifname = obj.get("name").and_then(Value::as_str).unwrap_or_default();
        let dev = obj.get("device");
        let device = dev
            .and_then(|d| ObjectId::of(d.get("id")))
            .and_then(|i| by_netbox.get(&i))
            .or_else(|| {
                dev.and_then(|d| d.get("name"))
                    .and_then(Value::as_str)
                    .and_then(|n| by_name.get(n))
            })
            .ok_or_else(|| format!("interface `{ifname}` is on a device not in the saved pages"))?;
        Ok(format!(
            "{device}:{}",
            faultline_model::ids::interface(ifname)
        ))
    }
}

/// Whether a cable between ends `a` and `b` (`device:interface`) can be a link: not from a
/// device to itself, and on interfaces no earlier cable holds (recorded in `used`).
fn cabled(
    a: &str,
    b: &str,
    cable: ObjectId,
    used: &mut HashMap<String, ObjectId>,
) -> Result<(), String> {
    let device = |end: &str| end.split_once(':').map_or(end, |(d, _)| d).to_owned();
    if device(a) == device(b) {
        return Err(format!("connects device `{}` to itself", device(a)));
    }
    for end in [a, b] {
        if let Some(other) = used.get(end) {
            return Err(format!("`{end}` is already on cable {other}"));
        }
    }
    used.insert(a.to_owned(), cable.clone());
    used.insert(b.to_owned(), cable);
    Ok(())
}

/// The device kind from the role's slug, or its name where roles have none (Nautobot 2+:
/// `Load Balancer` reads as `load-balancer`).
fn kind(d: &Value) -> &'static str {
    let slug = ["role", "device_role"]
        .iter()
        .find_map(|k| {
            let role = d.get(*k)?;
            role.get("slug")
                .or_else(|| role.get("name"))
                .and_then(Value::as_str)
        })
        .unwrap_or_default()
        .to_ascii_lowercase()
        .replace([' ', '_'], "-");
    [
        ("firewall", "firewall"),
        ("load-balancer", "load-balancer"),
        ("router", "router"),
        ("switch", "switch"),
        ("server", "server"),
        ("storage", "storage"),
    ]
    .iter()
    .find(|(k, _)| slug.contains(k))
    .map_or("other", |(_, v)| v)
}

impl Import {
    /// The topology as JSON (JSON is YAML: the file loads under either extension).
    pub fn to_json(&self, name: &str) -> String {
        let links: Vec<Value> = self.links.iter().map(|(a, b)| json!([a, b])).collect();
        let v =
            json!({"name": name, "devices": self.devices, "links": links, "groups": self.groups});
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }
}
