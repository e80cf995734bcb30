//! From a walk to cables: each neighbour entry's local port resolved through
//! lldpLocPortTable and ifName, the neighbour's announced port resolved to the neighbour's own
//! interface name, the same cable seen from both ends merged, and ends claimed twice reported.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::ids;
use crate::mib::{LocalRef, PortId, Remote, port_subtype};
use crate::walk::{Discovery, Node};

/// Where an interface name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortSource {
    /// The device's own ifName, matched by the port's name or description.
    IfName,
    /// The device's own ifName at ifIndex = lldpLocPortNum (or cdpCacheIfIndex).
    IfIndex,
    /// The neighbour's ifName, found through the neighbour's own lldpLocPortTable.
    NeighbourIfName,
    /// The announced port id, an interface name (subtype interfaceName or ifAlias).
    PortId,
    /// The port description (lldpd announces a MAC as the id and the name here).
    PortDescription,
    /// Nothing better: the raw announced id.
    RawPortId,
}

impl fmt::Display for PortSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PortSource::IfName => "ifName",
            PortSource::IfIndex => "ifName at ifIndex",
            PortSource::NeighbourIfName => "neighbour's ifName",
            PortSource::PortId => "announced port id",
            PortSource::PortDescription => "port description",
            PortSource::RawPortId => "raw port id",
        })
    }
}

/// One end of a discovered cable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct End {
    pub device: String,
    pub interface: String,
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.device, self.interface)
    }
}

/// A cable, with how each end's name was found and who saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundLink {
    pub a: End,
    pub b: End,
    pub a_source: PortSource,
    pub b_source: PortSource,
    /// Seen from both ends (`true`) or only from `a`.
    pub both_ends: bool,
    pub protocol: crate::mib::Protocol,
}

impl FoundLink {
    /// `a:if--b:if`.
    pub fn id(&self) -> String {
        format!("{}--{}", self.a, self.b)
    }
}

/// Cables and the entries that could not become one.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cabling {
    pub links: Vec<FoundLink>,
    /// An end already used by another cable (a hub, a stale entry), or a device that hears
    /// itself: text for the report.
    pub conflicts: Vec<String>,
}

/// Build the cabling of a walk, with `ids[i]` the topology id of `d.nodes[i]`.
pub fn cabling(d: &Discovery, ids: &[String]) -> Cabling {
    let mut out = Cabling::default();
    let mut by_pair: HashMap<(End, End), usize> = HashMap::new();
    let mut used: HashMap<End, usize> = HashMap::new();
    for (i, node) in d.nodes.iter().enumerate().filter(|(_, n)| n.polled()) {
        for r in &node.lldp.remotes {
            let Some(j) = d.find(r) else { continue };
            let (local, local_src) = local_port(node, &r.local);
            let (remote, remote_src) = remote_port(r, &d.nodes[j]);
            let a = End {
                device: ids[i].clone(),
                interface: ids::interface(&local),
            };
            let b = End {
                device: ids[j].clone(),
                interface: ids::interface(&remote),
            };
            if i == j {
                // The device hears its own announcements (a loop, a hub, a mirrored port): not
                // a cable the schema can hold.
                out.conflicts.push(format!(
                    "{a} -- {b} ({:?} on {}): the device announces itself",
                    r.protocol, ids[i]
                ));
                continue;
            }
            let key = if a <= b {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            if let Some(&k) = by_pair.get(&key) {
                // The same cable from its other end.
                out.links[k].both_ends = true;
                continue;
            }
            if let Some(taken) = [&a, &b].into_iter().find(|e| used.contains_key(*e)) {
                let other = &out.links[used[taken]];
                out.conflicts.push(format!(
                    "{a} -- {b} ({:?} on {}): `{taken}` already used by {}",
                    r.protocol,
                    ids[i],
                    other.id()
                ));
                continue;
            }
            let k = out.links.len();
            used.insert(a.clone(), k);
            used.insert(b.clone(), k);
            by_pair.insert(key, k);
            out.links.push(FoundLink {
                a,
                b,
                a_source: local_src,
                b_source: remote_src,
                both_ends: false,
                protocol: r.protocol,
            });
        }
    }
    out
}

/// The local interface of a neighbour entry.
pub fn local_port(node: &Node, local: &LocalRef) -> (String, PortSource) {
    let by_index = |idx: &str| node.interfaces.iter().find(|i| i.index == idx);
    match local {
        LocalRef::IfIndex(idx) => match by_index(idx) {
            Some(i) => (i.name.clone(), PortSource::IfIndex),
            None => (format!("ifIndex{idx}"), PortSource::RawPortId),
        },
        LocalRef::LldpPort(num) => {
            let Some(p) = node.lldp.local_ports.get(num) else {
                return match by_index(num) {
                    Some(i) => (i.name.clone(), PortSource::IfIndex),
                    None => (format!("port{num}"), PortSource::RawPortId),
                };
            };
            let named = node.interfaces.iter().find(|i| {
                !i.name.is_empty() && (i.name == p.id.id || i.name == p.desc || i.descr == p.desc)
            });
            if let Some(i) = named {
                return (i.name.clone(), PortSource::IfName);
            }
            if let Some(i) = by_index(num).filter(|i| !i.name.is_empty()) {
                return (i.name.clone(), PortSource::IfIndex);
            }
            announced(&p.id, &p.desc)
        }
    }
}

/// The neighbour's interface a neighbour entry points at.
pub fn remote_port(r: &Remote, neighbour: &Node) -> (String, PortSource) {
    if neighbour.polled() {
        let own = neighbour
            .lldp
            .local_ports
            .iter()
            .find(|(_, p)| p.id == r.port)
            .map(|(num, _)| num.clone());
        if let Some(num) = own {
            let (name, src) = local_port(neighbour, &LocalRef::LldpPort(num));
            if matches!(src, PortSource::IfName | PortSource::IfIndex) {
                return (name, PortSource::NeighbourIfName);
            }
        }
        let named = neighbour.interfaces.iter().find(|i| {
            i.name == r.port.id || (r.port.subtype == port_subtype::LOCAL && i.index == r.port.id)
        });
        if let Some(i) = named {
            return (i.name.clone(), PortSource::NeighbourIfName);
        }
    }
    announced(&r.port, &r.port_desc)
}

/// A port named by what was announced: an interface-name id, else the description, else the
/// raw id.
fn announced(id: &PortId, desc: &str) -> (String, PortSource) {
    if matches!(
        id.subtype,
        port_subtype::INTERFACE_NAME | port_subtype::INTERFACE_ALIAS
    ) && !id.id.is_empty()
    {
        (id.id.clone(), PortSource::PortId)
    } else if !desc.is_empty() {
        (desc.to_owned(), PortSource::PortDescription)
    } else {
        (id.id.clone(), PortSource::RawPortId)
    }
}
