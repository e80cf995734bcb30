//! faultline's topology model: what exists (devices, links), how it is made redundant (groups),
//! and what customers use (services).
//!
//! A topology is one YAML or JSON file (same schema). Loading parses it, then validates every
//! reference, id, group and address, collecting *all* problems with `file:line:col` positions,
//! so an operator fixes a file in one pass rather than one error per run.
//!
//! ```
//! use faultline_model::Topology;
//!
//! let yaml = r#"
//! name: tiny
//! devices:
//!   - {id: fw-a, kind: firewall, address: 10.0.1.1}
//!   - {id: fw-b, kind: firewall, address: 10.0.1.2}
//!   - {id: web-1, kind: server, requires: [fw-pair]}
//! links:
//!   - [fw-a:port2, web-1:eth0]
//! groups:
//!   - {id: fw-pair, mode: active-standby, members: [fw-a, fw-b]}
//! services:
//!   - {id: portal, name: Portal, tier: critical, requires: [web-1]}
//! "#;
//! let topo = Topology::from_yaml_str(yaml, "tiny.yaml").unwrap();
//! assert_eq!(topo.devices.len(), 3);
//! assert_eq!(topo.links[0].id(), "fw-a:port2--web-1:eth0");
//! // A link can be named by either of its ends.
//! assert_eq!(topo.resolve("web-1:eth0"), topo.resolve("fw-a:port2--web-1:eth0"));
//!
//! let err = Topology::from_yaml_str("name: x\nservices:\n  - {id: p, requires: [nope]}\n", "x.yaml")
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "x.yaml:3:24: service `p` requires unknown component `nope`");
//! ```

#![warn(missing_docs)]

mod assemble;
mod draft;
pub mod emit;
pub mod generate;
pub mod ids;
mod index;
mod lenient;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;

pub use draft::{Draft, DraftDevice, DraftGroup};
pub use validate::{Diagnostic, LoadError};

/// What a device is. Informs defaults (profiles, icons), never the dependency semantics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// A firewall (`firewall`); HA pairs of them are typically an `active-standby` group.
    Firewall,
    /// A layer-2 switch (`switch`).
    Switch,
    /// A router (`router`).
    Router,
    /// A load balancer (`load-balancer`; `load_balancer` and `lb` are accepted too).
    #[serde(alias = "load_balancer", alias = "lb")]
    LoadBalancer,
    /// A server running the software a service needs (`server`).
    Server,
    /// Any other addressable host (`host`), e.g. a virtual machine or an appliance.
    Host,
    /// A storage array or filer (`storage`).
    Storage,
    /// Anything else (`other`).
    Other,
}

impl DeviceKind {
    /// The kind as written in a topology file (`load-balancer`, not an alias).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Firewall => "firewall",
            DeviceKind::Switch => "switch",
            DeviceKind::Router => "router",
            DeviceKind::LoadBalancer => "load-balancer",
            DeviceKind::Server => "server",
            DeviceKind::Host => "host",
            DeviceKind::Storage => "storage",
            DeviceKind::Other => "other",
        }
    }
}

/// How a group turns member availability into its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum GroupMode {
    /// Every member is needed.
    All,
    /// One available member is enough.
    Any,
    /// At least `min` members must be available.
    AtLeast {
        /// Members needed; validation keeps it within `1..=members`.
        min: u32,
    },
    /// One active member carries the load, the others stand by. Available while at least one
    /// member is; the engine additionally checks that exactly one is *active* (split brain).
    ActiveStandby,
}

impl GroupMode {
    /// How many of `n` members must be available.
    pub fn needed(self, n: usize) -> usize {
        match self {
            GroupMode::All => n,
            GroupMode::Any | GroupMode::ActiveStandby => 1.min(n),
            GroupMode::AtLeast { min } => min as usize,
        }
    }
    /// The mode as written in a topology file's `mode:` (`at-least` without its `min`).
    pub fn name(self) -> &'static str {
        match self {
            GroupMode::All => "all",
            GroupMode::Any => "any",
            GroupMode::AtLeast { .. } => "at-least",
            GroupMode::ActiveStandby => "active-standby",
        }
    }
}

/// Where a device is managed: an IP address or a DNS name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Address {
    /// An IPv4 or IPv6 address.
    Ip(std::net::IpAddr),
    /// A DNS name (RFC 1123 labels), resolved by the collector when it polls.
    Host(String),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Ip(ip) => ip.fmt(f),
            Address::Host(h) => f.write_str(h),
        }
    }
}

/// A device of the topology: something with its own state that pollers watch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    /// Unique id across devices, groups and services; letters, digits, `-`, `_`, `.`, `/`,
    /// never `--`.
    pub id: String,
    /// What the device is.
    pub kind: DeviceKind,
    /// Where it is polled and pinged; without one it is only known through what requires it
    /// and through traps naming it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// SNMP profile name (`fortigate`, `paloalto`, ...); picked from sysObjectID when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Name of a credential set defined in the collector config (never the secret itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snmp: Option<String>,
    /// Components it needs to work (AND), as written: ids of devices, groups or services, link
    /// ids or link ends. Every entry resolves ([`Topology::resolve`]).
    pub requires: Vec<String>,
    /// Free labels (e.g. imported Nagios hostgroups); no meaning to the engine.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The zone whose poller watches it (`faultline poller`); the single-process collector
    /// watches every device whatever its zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// 1-based line of its `id` in the topology file (0 when built without a file position).
    pub line: u32,
}

/// One end of a link: `device:interface` (borrowed from the link's id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct LinkEnd<'a> {
    /// The id of the device the link ends on.
    pub device: &'a str,
    /// The interface name on that device, as written (`port2`, `Gi1/0/1`).
    pub interface: &'a str,
}

impl fmt::Display for LinkEnd<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.device, self.interface)
    }
}

/// A physical (or logical) link between two device interfaces.
///
/// Stored compactly (a data centre has three links per device): the id `a:if--b:if` is the only
/// string; the ends are views into it, and the end devices are kept as indices.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    id: Box<str>,
    /// Byte offset of the `--` separating the ends in `id`.
    sep: u32,
    /// Index in [`Topology::devices`] of the device of end a (the first end written).
    pub a_device: u32,
    /// Index in [`Topology::devices`] of the device of end b.
    pub b_device: u32,
    /// 1-based line of the link's entry in the topology file.
    pub line: u32,
}

impl Link {
    /// `a:if--b:if`, in declaration order.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn end(s: &str) -> LinkEnd<'_> {
        let (device, interface) = s.split_once(':').unwrap_or((s, ""));
        LinkEnd { device, interface }
    }

    /// The first end as written (`a:if` of `a:if--b:if`).
    pub fn a(&self) -> LinkEnd<'_> {
        Self::end(&self.id[..self.sep as usize])
    }

    /// The second end as written (`b:if` of `a:if--b:if`).
    pub fn b(&self) -> LinkEnd<'_> {
        Self::end(&self.id[self.sep as usize + 2..])
    }

    /// The end on device index `d`, if the link touches it.
    pub fn end_on(&self, d: u32) -> Option<LinkEnd<'_>> {
        if self.a_device == d {
            Some(self.a())
        } else if self.b_device == d {
            Some(self.b())
        } else {
            None
        }
    }
}

impl Serialize for Link {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Link", 3)?;
        st.serialize_field("id", self.id())?;
        st.serialize_field("a", &self.a().to_string())?;
        st.serialize_field("b", &self.b().to_string())?;
        st.end()
    }
}

/// A redundancy group: components that stand in for each other, available by its [`GroupMode`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Unique id across devices, groups and services; requirers name the group by it.
    pub id: String,
    /// How member availability becomes the group's (serialised as `mode` and `min`).
    #[serde(flatten)]
    pub mode: GroupMode,
    /// Member names as written (ids, link ids or link ends); never empty, each listed once.
    pub members: Vec<String>,
    /// 1-based line of its `id` in the topology file.
    pub line: u32,
}

/// How the collector checks a service from the customer's side.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// `http://` / `https://` URL for an HTTP probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `host:port` for a TCP connect probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<String>,
    /// Acceptable HTTP statuses (default: any 2xx or 3xx).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_status: Vec<u16>,
    /// A substring the body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    /// Seconds between probes (default from the collector config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_s: Option<u32>,
}

/// A customer-facing service: what incidents, pages and the console are about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    /// Unique id across devices, groups and services.
    pub id: String,
    /// Display name for people (free text); the id when the file gives none.
    pub name: String,
    /// `critical`, `high`, `normal` (default) or `low`.
    pub tier: Tier,
    /// Components the service needs (AND), as written; every entry resolves.
    pub requires: Vec<String>,
    /// Free labels, carried into incidents and the API for routing and filtering.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// How to check it from the customer's side; without one its state comes from its
    /// dependencies alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeSpec>,
    /// The zones whose pollers probe it (`faultline poller`), each a vantage point of its own
    /// (`zone: Z` in the file is the one-zone form `zones: [Z]`); empty: the collector's own
    /// single vantage. The single-process collector probes every service whatever its zones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    /// 1-based line of its `id` in the topology file.
    pub line: u32,
}

/// How much a service matters; drives incident severity and pager routing.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Matters least (`low`): a service of it down pages as a warning.
    Low,
    /// The default (`normal`): down pages as an error.
    #[default]
    Normal,
    /// Matters more than most (`high`): down pages as critical.
    High,
    /// Customer-critical (`critical`): down pages as critical.
    Critical,
}

impl Tier {
    /// The tier as written in a topology file (`critical`, `high`, `normal`, `low`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Low => "low",
            Tier::Normal => "normal",
            Tier::High => "high",
            Tier::Critical => "critical",
        }
    }
}

/// A reference to a component of the topology, by kind and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComponentRef {
    /// Index into [`Topology::devices`].
    Device(usize),
    /// Index into [`Topology::links`].
    Link(usize),
    /// Index into [`Topology::groups`].
    Group(usize),
    /// Index into [`Topology::services`].
    Service(usize),
}

impl ComponentRef {
    /// `device`, `link`, `group` or `service`, for messages and JSON.
    pub fn kind_name(self) -> &'static str {
        match self {
            ComponentRef::Device(_) => "device",
            ComponentRef::Link(_) => "link",
            ComponentRef::Group(_) => "group",
            ComponentRef::Service(_) => "service",
        }
    }
}

/// A validated topology. Every reference in it resolves; the requirement graph is acyclic.
#[derive(Debug, Clone, Serialize)]
pub struct Topology {
    /// The topology's name (its file's `name:`), shown in the console and exports.
    pub name: String,
    /// Id of the device the collector runs on (or next to): reachability is judged from it,
    /// so devices behind a failure are unreachable rather than down. Always a device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collector: Option<String>,
    /// Zone → id of the device that zone's poller runs on (or next to), from the file's
    /// `zone_collectors:`. A device whose `zone` is listed here is judged from that device
    /// instead of `collector`: behind a failure on the path from its own poller, it is
    /// unreachable; a failure that only cuts another zone's path does not hide it. Always
    /// devices; every zone is one some device or service is in.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub zone_collectors: BTreeMap<String, String>,
    /// Devices in file order; [`ComponentRef::Device`] indexes it.
    pub devices: Vec<Device>,
    /// Links in file order; [`ComponentRef::Link`] indexes it.
    pub links: Vec<Link>,
    /// Groups in file order; [`ComponentRef::Group`] indexes it.
    pub groups: Vec<Group>,
    /// Services in file order; [`ComponentRef::Service`] indexes it.
    pub services: Vec<Service>,
    /// Id → device, group or service, keyed by the ids in the lists above (no copy of them).
    /// Links are found through `device_links`, not here: a data centre has three links per
    /// device and one map entry per link name costs more than the rest of the model.
    #[serde(skip)]
    index: index::IdIndex,
    /// Links touching each device, CSR: `device_links[device_link_off[d]..device_link_off[d+1]]`.
    #[serde(skip)]
    device_link_off: Vec<u32>,
    #[serde(skip)]
    device_links: Vec<u32>,
}

impl Topology {
    /// Load a topology file; the format follows the extension (`.json` is JSON, anything else
    /// YAML — JSON is valid YAML, so a mislabelled file still loads).
    pub fn load(path: &Path) -> Result<Topology, LoadError> {
        let name = path.display().to_string();
        let read = || std::fs::read_to_string(path).map_err(|e| LoadError::io(&name, e));
        let text = read()?;
        if !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            return Self::from_yaml_str(&text, &name);
        }
        let raw = raw::parse_json(&text, &name)
            .map_err(|first| lenient::schema_problems(&text, &name).unwrap_or(first))?;
        // A clean file needs its text no more: let it go before the model is built (a
        // 100k-device file is 16 MB). Problems are rare, and then the file is read again.
        drop(text);
        validate::validate(raw, &name).or_else(|plain| Self::json_positions(&read()?, &name, plain))
    }

    /// Parse and validate YAML. A file that does not fit the schema is read a second time,
    /// leniently, so that every schema problem is reported at once rather than the first.
    pub fn from_yaml_str(text: &str, file: &str) -> Result<Topology, LoadError> {
        let raw = raw::parse_yaml(text, file)
            .map_err(|first| lenient::schema_problems(text, file).unwrap_or(first))?;
        validate::validate(raw, file)
    }

    /// JSON takes a fast path (serde_json); only when validation finds problems is the text
    /// re-read with the span-aware YAML parser, so that errors still carry line and column.
    pub fn from_json_str(text: &str, file: &str) -> Result<Topology, LoadError> {
        let raw = raw::parse_json(text, file)
            .map_err(|first| lenient::schema_problems(text, file).unwrap_or(first))?;
        validate::validate(raw, file).or_else(|plain| Self::json_positions(text, file, plain))
    }

    /// A JSON file with problems (`plain`, found without positions) validated again through
    /// the span-aware parser, so that the problems carry line and column.
    fn json_positions(text: &str, file: &str, plain: LoadError) -> Result<Topology, LoadError> {
        match raw::parse_yaml(text, file) {
            Ok(spanned) => validate::validate(spanned, file),
            Err(_) => Err(plain),
        }
    }

    /// Resolve a component name: an id, a link end (`fw-a:port1`) or a link id (`a:x--b:y`).
    pub fn resolve(&self, name: &str) -> Option<ComponentRef> {
        let declared = |c| self.id_of(c);
        if let Some(c) = self.index.get(name, declared) {
            return Some(c);
        }
        let (device, _) = name.split_once(':')?;
        let Some(ComponentRef::Device(d)) = self.index.get(device, declared) else {
            return None;
        };
        let interface = &name[device.len() + 1..];
        self.links_of(d)
            .find(|&l| {
                let link = &self.links[l];
                link.id() == name
                    || link
                        .end_on(d as u32)
                        .is_some_and(|e| e.interface == interface)
            })
            .map(ComponentRef::Link)
    }

    /// Indices of the links touching device index `d`.
    pub fn links_of(&self, d: usize) -> impl ExactSizeIterator<Item = usize> + '_ {
        let (a, b) = (
            self.device_link_off[d] as usize,
            self.device_link_off[d + 1] as usize,
        );
        self.device_links[a..b].iter().map(|l| *l as usize)
    }

    /// The canonical id of a component.
    pub fn id_of(&self, c: ComponentRef) -> &str {
        match c {
            ComponentRef::Device(i) => &self.devices[i].id,
            ComponentRef::Link(i) => self.links[i].id(),
            ComponentRef::Group(i) => &self.groups[i].id,
            ComponentRef::Service(i) => &self.services[i].id,
        }
    }

    /// Ids of everything this component directly requires (for groups: its members).
    pub fn requirements(&self, c: ComponentRef) -> &[String] {
        match c {
            ComponentRef::Device(i) => &self.devices[i].requires,
            ComponentRef::Link(_) => &[],
            ComponentRef::Group(i) => &self.groups[i].members,
            ComponentRef::Service(i) => &self.services[i].requires,
        }
    }

    /// The device `id` names (an id only; a link name gives `None`).
    pub fn device(&self, id: &str) -> Option<&Device> {
        match self.resolve(id)? {
            ComponentRef::Device(i) => Some(&self.devices[i]),
            _ => None,
        }
    }

    /// The service `id` names.
    pub fn service(&self, id: &str) -> Option<&Service> {
        match self.resolve(id)? {
            ComponentRef::Service(i) => Some(&self.services[i]),
            _ => None,
        }
    }

    /// Number of components (devices + links + groups + services).
    pub fn component_count(&self) -> usize {
        self.devices.len() + self.links.len() + self.groups.len() + self.services.len()
    }

    /// Names close to `name`, for "did you mean" hints in CLI errors.
    pub fn suggest(&self, name: &str) -> Option<&str> {
        let ids = (self.devices.iter().map(|d| d.id.as_str()))
            .chain(self.groups.iter().map(|g| g.id.as_str()))
            .chain(self.services.iter().map(|s| s.id.as_str()));
        validate::closest(name, ids)
    }
}

impl Link {
    pub(crate) fn new(id: Box<str>, sep: u32, a_device: u32, b_device: u32, line: u32) -> Link {
        Link {
            id,
            sep,
            a_device,
            b_device,
            line,
        }
    }
}
