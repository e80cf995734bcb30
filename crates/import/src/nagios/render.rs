//! The imported hosts written out: YAML for people (each entry under a comment naming its Nagios
//! origin) and JSON for the model's fast path.
//!
//! Entries are typed and borrow from the import: at 100k hosts, building a `serde_json::Value`
//! per entry (a map per device, a string per field) and dropping it again took more than half
//! of the import's time (`bench/import-vs-nagios.sh`).

use std::borrow::Cow;
use std::collections::BTreeSet;

use faultline_model::emit::{comment_text, scalar};
use faultline_model::ids::IdAllocator;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use super::{Host, Import};

/// A device of the imported topology.
#[derive(Debug, Serialize)]
struct Device<'a> {
    id: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<&'a str>,
    /// The parent's id, or the id of the `any` group of several parents.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "one_element"
    )]
    requires: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    tags: &'a BTreeSet<String>,
    /// Where it came from (the comment above it in YAML).
    #[serde(skip)]
    host: &'a Host,
}

/// The `any` group of a host with several parents.
#[derive(Debug, Serialize)]
struct Group<'a> {
    id: String,
    mode: &'static str,
    members: Vec<&'a str>,
    #[serde(skip)]
    host: &'a Host,
}

#[derive(Serialize)]
struct Document<'a> {
    name: &'a str,
    devices: &'a [Device<'a>],
    groups: &'a [Group<'a>],
}

/// `requires: [id]`: the schema's list of one.
fn one_element<S: serde::Serializer>(v: &Option<Cow<'_, str>>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter())
}

impl Import {
    /// Devices and groups (one `any` group per host with several parents).
    fn entries(&self) -> (Vec<Device<'_>>, Vec<Group<'_>>) {
        let id_of: FxHashMap<&str, &str> = self
            .hosts
            .iter()
            .map(|h| (h.name.as_str(), h.id.as_str()))
            .collect();
        let host_ids: FxHashSet<&str> = self.hosts.iter().map(|h| h.id.as_str()).collect();
        let mut ids = IdAllocator::default();
        let mut devices = Vec::with_capacity(self.hosts.len());
        let mut groups = vec![];
        for h in &self.hosts {
            let mut parents = h.parents.iter().filter_map(|p| id_of.get(p.as_str()));
            let requires = match (parents.next(), parents.next()) {
                (None, _) => None,
                (Some(&one), None) => Some(Cow::Borrowed(one)),
                (Some(&first), Some(&second)) => {
                    let id = ids.allocate_avoiding(&format!("{}-parents", h.id), |id| {
                        host_ids.contains(id)
                    });
                    let mut members = vec![first, second];
                    members.extend(parents.copied());
                    groups.push(Group {
                        id: id.clone(),
                        mode: "any",
                        members,
                        host: h,
                    });
                    Some(Cow::Owned(id))
                }
            };
            devices.push(Device {
                id: &h.id,
                kind: "host",
                address: h.address.as_deref(),
                requires,
                tags: &h.hostgroups,
                host: h,
            });
        }
        (devices, groups)
    }

    /// The topology as YAML, checked: what is returned loads (a parent cycle, say, does not:
    /// then the model's diagnostics are the error). The same entries go to the model as a
    /// [`Draft`](faultline_model::Draft); only a failure is re-read from the YAML, for positions
    /// in the text.
    pub fn to_checked_yaml(&self, name: &str, header: &str, file: &str) -> Result<String, String> {
        let (devices, groups) = self.entries();
        // Writing the text and checking the model are independent: on two threads, the import
        // of 100k hosts takes the longer of the two instead of their sum.
        let (text, loads) = std::thread::scope(|scope| {
            let text = scope.spawn(|| yaml(name, header, &devices, &groups));
            let draft = draft(name, &devices, &groups);
            let loads = faultline_model::Topology::from_draft(draft, file).is_ok();
            let text = text
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (text, loads)
        });
        if !loads {
            faultline_model::Topology::from_yaml_str(&text, file).map_err(|e| e.to_string())?;
        }
        Ok(text)
    }

    /// The topology as JSON (for validation through the model's fast path).
    pub fn to_json(&self, name: &str) -> String {
        let (devices, groups) = self.entries();
        json(name, &devices, &groups)
    }

    /// The topology as YAML, each entry under a comment naming its Nagios origin.
    pub fn to_yaml(&self, name: &str, header: &str) -> String {
        let (devices, groups) = self.entries();
        yaml(name, header, &devices, &groups)
    }
}

/// The entries as the model's [`Draft`](faultline_model::Draft): checked as a file would be,
/// without writing JSON and parsing it back.
fn draft(name: &str, devices: &[Device<'_>], groups: &[Group<'_>]) -> faultline_model::Draft {
    use faultline_model::{DeviceKind, Draft, DraftDevice, DraftGroup};
    Draft {
        name: name.to_owned(),
        devices: devices
            .iter()
            .map(|d| DraftDevice {
                id: d.id.to_owned(),
                kind: DeviceKind::Host,
                address: d.address.map(str::to_owned),
                requires: d.requires.iter().map(|r| r.to_string()).collect(),
                tags: d.tags.iter().cloned().collect(),
            })
            .collect(),
        groups: groups
            .iter()
            .map(|g| DraftGroup {
                id: g.id.clone(),
                mode: g.mode.to_owned(),
                min: None,
                members: g.members.iter().map(|m| (*m).to_owned()).collect(),
            })
            .collect(),
        links: Vec::new(),
    }
}

fn json(name: &str, devices: &[Device<'_>], groups: &[Group<'_>]) -> String {
    let document = Document {
        name,
        devices,
        groups,
    };
    // Strings, a static str and sets of strings: nothing here can fail to serialise.
    serde_json::to_string(&document).unwrap_or_default()
}

/// A host's name as the comments quote it (JSON string syntax: escapes visible).
fn quoted(h: &Host) -> String {
    serde_json::Value::from(h.name.as_str()).to_string()
}

fn yaml(name: &str, header: &str, devices: &[Device<'_>], groups: &[Group<'_>]) -> String {
    let mut out = String::with_capacity(devices.len() * 160);
    out.push_str("# ");
    out.push_str(header);
    out.push_str("\nname: ");
    out.push_str(&scalar(name));
    // `devices:` alone would be null, which the schema refuses: no hosts is an empty list.
    out.push_str(if devices.is_empty() {
        "\n\ndevices: []\n"
    } else {
        "\n\ndevices:\n"
    });
    for d in devices {
        let place = d.host.place.replace(['\n', '\r'], " ");
        let comment = format!("nagios host {} at {place}", quoted(d.host));
        entry_start(&mut out, &comment, d.id);
        field(&mut out, "kind", d.kind);
        if let Some(a) = d.address {
            field(&mut out, "address", a);
        }
        if let Some(r) = &d.requires {
            list(&mut out, "requires", [r.as_ref()]);
        }
        if !d.tags.is_empty() {
            list(&mut out, "tags", d.tags.iter().map(String::as_str));
        }
        out.push_str("}\n");
    }
    if !groups.is_empty() {
        out.push_str("\ngroups:\n");
        for g in groups {
            let comment = format!(
                "parents of nagios host {}: reachable while any is up",
                quoted(g.host)
            );
            entry_start(&mut out, &comment, &g.id);
            field(&mut out, "mode", g.mode);
            list(&mut out, "members", g.members.iter().copied());
            out.push_str("}\n");
        }
    }
    out
}

/// `  # comment\n  - {id: ID` (the flow mapping closed by the caller).
fn entry_start(out: &mut String, comment: &str, id: &str) {
    out.push_str("  # ");
    out.push_str(&comment_text(comment));
    out.push_str("\n  - {id: ");
    out.push_str(&scalar(id));
}

/// `, key: value`
fn field(out: &mut String, key: &str, value: &str) {
    out.push_str(", ");
    out.push_str(key);
    out.push_str(": ");
    out.push_str(&scalar(value));
}

/// `, key: [a, b]`
fn list<'a>(out: &mut String, key: &str, items: impl IntoIterator<Item = &'a str>) {
    out.push_str(", ");
    out.push_str(key);
    out.push_str(": [");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&scalar(item));
    }
    out.push(']');
}
