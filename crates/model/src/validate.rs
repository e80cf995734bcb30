//! Validation: from the raw file to a [`Topology`] whose every reference resolves.
//!
//! All problems are collected (not just the first) and sorted by position, so one run of
//! `faultline check` lists everything to fix.

use std::collections::HashMap;
use std::fmt;

use crate::raw::{RawLink, RawTopology, S};
use crate::{Address, ComponentRef, Device, Group, GroupMode, Link, LinkEnd, Service, Topology};

/// One problem at one place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name as given to the loader (a path, or any label for text from elsewhere).
    pub file: String,
    /// 1-based; 0 when the position is unknown.
    pub line: u32,
    /// 1-based column (in characters) of the offending token; 0 when unknown.
    pub column: u32,
    /// What is wrong, one line, without the position (`Display` puts `file:line:col:` first).
    pub message: String,
}

impl Diagnostic {
    /// A problem at `file:line:column` (0 for an unknown line or column).
    pub fn new(file: &str, line: u32, column: u32, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

/// Why a topology could not be loaded: one or more diagnostics, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// Every problem found, sorted by line and column; never empty. `Display` prints one per
    /// line.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    pub(crate) fn io(file: &str, e: std::io::Error) -> Self {
        vec![Diagnostic::new(
            file,
            0,
            0,
            format!("cannot read topology: {e}"),
        )]
        .into()
    }
}

impl From<Vec<Diagnostic>> for LoadError {
    fn from(diagnostics: Vec<Diagnostic>) -> Self {
        LoadError { diagnostics }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

struct Ctx<'a> {
    file: &'a str,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn err<T>(&mut self, at: &S<T>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(
            self.file,
            at.referenced.line() as u32,
            at.referenced.column() as u32,
            msg,
        ));
    }
}

/// Ids are used in CLI lists (`--down a,b`), link names (`dev:if`, `a--b`) and URLs, so the
/// characters those syntaxes use are not allowed in them.
fn id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        return Some("is empty");
    }
    if id.contains("--") {
        return Some("contains `--` (reserved for link names)");
    }
    if !id
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        return Some("may contain only letters, digits, `-`, `_`, `.` and `/`");
    }
    None
}

fn parse_end(s: &str) -> Option<LinkEnd<'_>> {
    let (device, interface) = s.split_once(':')?;
    if device.is_empty() || interface.is_empty() {
        return None;
    }
    Some(LinkEnd { device, interface })
}

/// An IP address, or a DNS name (RFC 1123 labels). A dotted string of digits that is not a
/// valid IPv4 address (`10.0.1.300`) is an error, not a host name.
fn parse_address(s: &str) -> Result<Address, String> {
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Ok(Address::Ip(ip));
    }
    let looks_numeric = s.chars().all(|c| c.is_ascii_digit() || c == '.');
    if looks_numeric || s.contains(':') {
        return Err(format!(
            "malformed address `{s}`: not a valid IPv4 or IPv6 address"
        ));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if s.len() <= 253 && s.trim_end_matches('.').split('.').all(label_ok) {
        Ok(Address::Host(s.to_string()))
    } else {
        Err(format!(
            "malformed address `{s}`: neither an IP address nor a valid host name"
        ))
    }
}

/// Validate a parsed file in passes (ids, links, devices, groups, services, collector, then
/// the requirement cycle). Every pass reports all of its problems; the cycle pass runs only
/// when everything before it was clean, since a cycle needs resolved references.
pub(crate) fn validate(raw: RawTopology, file: &str) -> Result<Topology, LoadError> {
    let mut cx = Ctx {
        file,
        diags: Vec::new(),
    };
    let index = declare_ids(&mut cx, &raw);
    let table = build_links(&mut cx, &raw, &index);
    let (device_link_off, device_links) = link_adjacency(&table.links, raw.devices.len());
    let refs = Refs {
        index: &index,
        table: &table,
    };
    let devices = validate_devices(&mut cx, &raw, &refs);
    let groups = validate_groups(&mut cx, &raw, &refs);
    let services = validate_services(&mut cx, &raw, &refs);
    let collector = validate_collector(&mut cx, &raw, &index);
    let LinkTable { links, .. } = table;

    let topo = Topology {
        name: raw.name.value.clone(),
        collector,
        devices,
        links,
        groups,
        services,
        index,
        device_link_off,
        device_links,
    };

    // Cycles only make sense to look for once every reference resolves.
    if cx.diags.is_empty() {
        check_cycle(&mut cx, &raw, &topo);
    }

    if cx.diags.is_empty() {
        Ok(topo)
    } else {
        cx.diags.sort_by_key(|d| (d.line, d.column));
        Err(cx.diags.into())
    }
}

/// Pass 1: every device, group and service id is well formed and unique across all kinds.
/// Returns the id index (first declaration wins).
fn declare_ids(cx: &mut Ctx, raw: &RawTopology) -> HashMap<String, ComponentRef> {
    let mut index: HashMap<String, ComponentRef> = HashMap::new();
    // Where each id was first declared, for "duplicate id (first declared at line N)".
    let mut declared_at: HashMap<String, u32> = HashMap::new();
    let ids = (raw.devices.iter().enumerate()).map(|(i, d)| (&d.id, ComponentRef::Device(i)));
    let ids =
        ids.chain((raw.groups.iter().enumerate()).map(|(i, g)| (&g.id, ComponentRef::Group(i))));
    let ids = ids
        .chain((raw.services.iter().enumerate()).map(|(i, s)| (&s.id, ComponentRef::Service(i))));
    for (id, c) in ids {
        if let Some(p) = id_problem(&id.value) {
            cx.err(id, format!("{} id `{}` {p}", c.kind_name(), id.value));
        }
        if let Some(prev) = index.get(&id.value) {
            let line = declared_at.get(&id.value).copied().unwrap_or(0);
            cx.err(
                id,
                format!(
                    "duplicate id `{}`: already declared as a {} at line {line}",
                    id.value,
                    prev.kind_name()
                ),
            );
        } else {
            index.insert(id.value.clone(), c);
            declared_at.insert(id.value.clone(), id.referenced.line() as u32);
        }
    }
    index
}

/// The links that passed validation and their ends.
struct LinkTable<'r> {
    links: Vec<Link>,
    /// Link ends by (device index, interface), borrowed from the raw file: two ends per link,
    /// no allocation. Unique ends imply unique link ids.
    names: HashMap<(u32, &'r str), usize>,
}

/// Pass 2: parse link ends, resolve their devices and derive link ids; every end must be
/// unique. A link with any problem is left out (and reported).
fn build_links<'r>(
    cx: &mut Ctx,
    raw: &'r RawTopology,
    index: &HashMap<String, ComponentRef>,
) -> LinkTable<'r> {
    let mut table = LinkTable {
        links: Vec::with_capacity(raw.links.len()),
        names: HashMap::with_capacity(raw.links.len() * 2),
    };
    for l in &raw.links {
        let (a, b) = match &l.value {
            RawLink::Pair(v) if v.len() == 2 => (v[0].as_str(), v[1].as_str()),
            RawLink::Pair(v) => {
                cx.err(l, format!("a link has exactly two ends `[device:interface, device:interface]`, found {}", v.len()));
                continue;
            }
            RawLink::Ends { a, b } => (a.as_str(), b.as_str()),
        };
        let (Some(ea), Some(eb)) = (parse_end(a), parse_end(b)) else {
            let bad = if parse_end(a).is_none() { a } else { b };
            cx.err(
                l,
                format!("malformed link end `{bad}`: expected `device:interface`"),
            );
            continue;
        };
        let Some(devs) = link_devices(cx, l, [&ea, &eb], index) else {
            continue;
        };
        let mut ok = true;
        for (d, e) in [(devs[0], &ea), (devs[1], &eb)] {
            if let Some(&j) = table.names.get(&(d, e.interface)) {
                let other: &Link = &table.links[j];
                cx.err(
                    l,
                    format!(
                        "`{e}` is already used by link `{}` (line {})",
                        other.id(),
                        other.line
                    ),
                );
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        let id = format!("{ea}--{eb}");
        let i = table.links.len();
        let sep = (ea.device.len() + 1 + ea.interface.len()) as u32;
        table.names.insert((devs[0], ea.interface), i);
        table.names.insert((devs[1], eb.interface), i);
        table.links.push(Link::new(
            id.into_boxed_str(),
            sep,
            devs[0],
            devs[1],
            l.referenced.line() as u32,
        ));
    }
    table
}

/// The device indices of a link's two ends, or `None` (after reporting every problem) when an
/// end names no device or the link connects a device to itself.
fn link_devices(
    cx: &mut Ctx,
    l: &S<RawLink>,
    ends: [&LinkEnd<'_>; 2],
    index: &HashMap<String, ComponentRef>,
) -> Option<[u32; 2]> {
    let mut ok = true;
    let mut devs = [0u32; 2];
    for (slot, e) in ends.into_iter().enumerate() {
        match index.get(e.device) {
            Some(ComponentRef::Device(d)) => devs[slot] = *d as u32,
            Some(other) => {
                cx.err(
                    l,
                    format!(
                        "link end `{e}` names {} `{}`, not a device",
                        other.kind_name(),
                        e.device
                    ),
                );
                ok = false;
            }
            None => {
                cx.err(
                    l,
                    format!(
                        "link end `{e}` names unknown device `{}`{}",
                        e.device,
                        hint(e.device, index)
                    ),
                );
                ok = false;
            }
        }
    }
    let [ea, eb] = ends;
    if ea.device == eb.device {
        cx.err(
            l,
            format!(
                "link `{ea}`--`{eb}` connects device `{}` to itself",
                ea.device
            ),
        );
        ok = false;
    }
    ok.then_some(devs)
}

/// The links of each device in CSR form: `(offsets, link indices)`, where device `d`'s links
/// are `device_links[off[d]..off[d + 1]]`.
fn link_adjacency(links: &[Link], device_count: usize) -> (Vec<u32>, Vec<u32>) {
    let mut per_device = vec![0u32; device_count + 1];
    for l in links {
        per_device[l.a_device as usize + 1] += 1;
        per_device[l.b_device as usize + 1] += 1;
    }
    for d in 0..device_count {
        per_device[d + 1] += per_device[d];
    }
    let device_link_off = per_device;
    let mut fill = device_link_off.clone();
    let mut device_links = vec![0u32; links.len() * 2];
    for (i, l) in links.iter().enumerate() {
        for d in [l.a_device, l.b_device] {
            device_links[fill[d as usize] as usize] = i as u32;
            fill[d as usize] += 1;
        }
    }
    (device_link_off, device_links)
}

/// What a `requires` or `members` entry may name: a declared id, or a link by either end
/// (`dev:if`) or its id (`a:if--b:if`).
struct Refs<'a, 'r> {
    index: &'a HashMap<String, ComponentRef>,
    table: &'a LinkTable<'r>,
}

impl Refs<'_, '_> {
    fn link_named(&self, name: &str) -> bool {
        let Some((dev, rest)) = name.split_once(':') else {
            return false;
        };
        let Some(ComponentRef::Device(d)) = self.index.get(dev) else {
            return false;
        };
        let names = &self.table.names;
        if names.contains_key(&(*d as u32, rest)) {
            return true;
        }
        rest.match_indices("--").any(|(k, _)| {
            names
                .get(&(*d as u32, &rest[..k]))
                .is_some_and(|&l| self.table.links[l].id() == name)
        })
    }

    /// Report a reference to itself or to nothing known.
    fn check(&self, cx: &mut Ctx, (self_id, owner): (&str, &str), verb: &str, r: &S<String>) {
        if r.value == self_id {
            cx.err(r, format!("{owner} {verb} itself"));
        } else if !self.index.contains_key(&r.value) && !self.link_named(&r.value) {
            cx.err(
                r,
                format!(
                    "{owner} {verb} unknown component `{}`{}",
                    r.value,
                    hint(&r.value, self.index)
                ),
            );
        }
    }
}

/// Pass 3: device requirements resolve and addresses parse.
fn validate_devices(cx: &mut Ctx, raw: &RawTopology, refs: &Refs) -> Vec<Device> {
    let mut devices = Vec::with_capacity(raw.devices.len());
    for d in &raw.devices {
        let owner = format!("device `{}`", d.id.value);
        for r in &d.requires {
            refs.check(cx, (&d.id.value, &owner), "requires", r);
        }
        let address = match &d.address {
            None => None,
            Some(a) => match parse_address(&a.value) {
                Ok(addr) => Some(addr),
                Err(msg) => {
                    cx.err(a, format!("device `{}`: {msg}", d.id.value));
                    None
                }
            },
        };
        devices.push(Device {
            id: d.id.value.clone(),
            kind: d.kind,
            address,
            profile: d.profile.clone(),
            snmp: d.snmp.clone(),
            requires: d.requires.iter().map(|r| r.value.clone()).collect(),
            tags: d.tags.clone(),
            zone: d.zone.clone(),
            line: d.id.referenced.line() as u32,
        });
    }
    devices
}

/// Pass 4: group members resolve, are listed once and exist; the mode and `min` agree.
fn validate_groups(cx: &mut Ctx, raw: &RawTopology, refs: &Refs) -> Vec<Group> {
    let mut groups = Vec::with_capacity(raw.groups.len());
    for g in &raw.groups {
        let owner = format!("group `{}`", g.id.value);
        for m in &g.members {
            refs.check(cx, (&g.id.value, &owner), "has member", m);
        }
        let mut seen = HashMap::new();
        for m in &g.members {
            if let Some(first) = seen.insert(m.value.as_str(), m.referenced.line()) {
                cx.err(
                    m,
                    format!(
                        "{owner} lists member `{}` twice (also at line {first})",
                        m.value
                    ),
                );
            }
        }
        if g.members.is_empty() {
            cx.err(&g.id, format!("{owner} has no members"));
        }
        let mode = group_mode(cx, &owner, &g.mode, g.min.as_ref(), g.members.len());
        groups.push(Group {
            id: g.id.value.clone(),
            mode,
            members: g.members.iter().map(|m| m.value.clone()).collect(),
            line: g.id.referenced.line() as u32,
        });
    }
    groups
}

/// A group's mode from its `mode` and `min` fields; on a problem, reported, a usable stand-in.
fn group_mode(
    cx: &mut Ctx,
    owner: &str,
    mode: &S<String>,
    min: Option<&S<i64>>,
    n: usize,
) -> GroupMode {
    match (mode.value.as_str(), min) {
        ("all", None) => GroupMode::All,
        ("any", None) => GroupMode::Any,
        ("active-standby", None) => GroupMode::ActiveStandby,
        ("at-least", Some(min)) => {
            let value = min.value;
            if value < 1 {
                cx.err(
                    min,
                    format!("{owner}: `min` must be at least 1, found {}", min.value),
                );
                GroupMode::AtLeast { min: 1 }
            } else if value as usize > n {
                cx.err(
                    min,
                    format!(
                        "{owner}: `min` is {} but the group has only {n} member(s)",
                        min.value
                    ),
                );
                GroupMode::AtLeast { min: n as u32 }
            } else {
                GroupMode::AtLeast { min: value as u32 }
            }
        }
        ("at-least", None) => {
            cx.err(mode, format!("{owner}: mode `at-least` needs `min`"));
            GroupMode::Any
        }
        ("all" | "any" | "active-standby", Some(min)) => {
            cx.err(
                min,
                format!(
                    "{owner}: `min` applies only to mode `at-least`, not `{}`",
                    mode.value
                ),
            );
            GroupMode::Any
        }
        (other, _) => {
            cx.err(mode, format!("{owner}: unknown mode `{other}`; expected one of all, any, at-least, active-standby"));
            GroupMode::Any
        }
    }
}

/// Pass 5: service requirements resolve and probes are well formed.
fn validate_services(cx: &mut Ctx, raw: &RawTopology, refs: &Refs) -> Vec<Service> {
    let mut services = Vec::with_capacity(raw.services.len());
    for s in &raw.services {
        let owner = format!("service `{}`", s.id.value);
        for r in &s.requires {
            refs.check(cx, (&s.id.value, &owner), "requires", r);
        }
        if let Some(p) = &s.probe {
            match (&p.url, &p.tcp) {
                (Some(u), None) if !(u.starts_with("http://") || u.starts_with("https://")) => cx
                    .err(
                        &s.id,
                        format!("{owner}: probe url `{u}` must start with http:// or https://"),
                    ),
                (Some(_), Some(_)) => cx.err(
                    &s.id,
                    format!("{owner}: a probe has either `url` or `tcp`, not both"),
                ),
                (None, None) => cx.err(&s.id, format!("{owner}: a probe needs `url` or `tcp`")),
                _ => {}
            }
        }
        services.push(Service {
            id: s.id.value.clone(),
            name: s.name.clone().unwrap_or_else(|| s.id.value.clone()),
            tier: s.tier,
            requires: s.requires.iter().map(|r| r.value.clone()).collect(),
            tags: s.tags.clone(),
            probe: s.probe.clone(),
            zone: s.zone.clone(),
            line: s.id.referenced.line() as u32,
        });
    }
    services
}

/// Pass 6: the collector, when named, is a device.
fn validate_collector(
    cx: &mut Ctx,
    raw: &RawTopology,
    index: &HashMap<String, ComponentRef>,
) -> Option<String> {
    let c = raw.collector.as_ref()?;
    match index.get(&c.value) {
        Some(ComponentRef::Device(_)) => {}
        Some(other) => cx.err(
            c,
            format!(
                "collector `{}` is a {}, not a device",
                c.value,
                other.kind_name()
            ),
        ),
        None => cx.err(
            c,
            format!(
                "collector names unknown device `{}`{}",
                c.value,
                hint(&c.value, index)
            ),
        ),
    }
    Some(c.value.clone())
}

/// Pass 7: no requirement cycle, reported at the component the cycle closes on.
fn check_cycle(cx: &mut Ctx, raw: &RawTopology, topo: &Topology) {
    let Some((cycle, start)) = find_cycle(topo) else {
        return;
    };
    let line = match start {
        ComponentRef::Device(i) => raw.devices[i].id.referenced,
        ComponentRef::Group(i) => raw.groups[i].id.referenced,
        ComponentRef::Service(i) => raw.services[i].id.referenced,
        ComponentRef::Link(_) => raw.name.referenced,
    };
    cx.diags.push(Diagnostic::new(
        cx.file,
        line.line() as u32,
        line.column() as u32,
        format!("dependency cycle: {}", cycle.join(" -> ")),
    ));
}

/// Find one requirement cycle (iterative three-colour DFS, no recursion so deep chains of
/// switches cannot overflow the stack). Returns the cycle's ids, first id repeated at the end.
fn find_cycle(t: &Topology) -> Option<(Vec<String>, ComponentRef)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let all: Vec<ComponentRef> = (0..t.devices.len())
        .map(ComponentRef::Device)
        .chain((0..t.groups.len()).map(ComponentRef::Group))
        .chain((0..t.services.len()).map(ComponentRef::Service))
        .collect();
    let mut colour: HashMap<ComponentRef, Colour> =
        all.iter().map(|c| (*c, Colour::White)).collect();
    for &root in &all {
        if colour[&root] != Colour::White {
            continue;
        }
        // Stack of (node, next requirement index).
        let mut stack: Vec<(ComponentRef, usize)> = vec![(root, 0)];
        colour.insert(root, Colour::Grey);
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let reqs = t.requirements(node);
            if *next < reqs.len() {
                let r = &reqs[*next];
                *next += 1;
                let Some(child) = t.resolve(r) else { continue };
                match colour.get(&child).copied() {
                    Some(Colour::White) => {
                        colour.insert(child, Colour::Grey);
                        stack.push((child, 0));
                    }
                    Some(Colour::Grey) => {
                        let pos = stack.iter().position(|(n, _)| *n == child).unwrap_or(0);
                        let mut ids: Vec<String> = stack[pos..]
                            .iter()
                            .map(|(n, _)| t.id_of(*n).to_string())
                            .collect();
                        ids.push(t.id_of(child).to_string());
                        return Some((ids, child));
                    }
                    _ => {}
                }
            } else {
                colour.insert(node, Colour::Black);
                stack.pop();
            }
        }
    }
    None
}

fn hint(name: &str, index: &HashMap<String, ComponentRef>) -> String {
    match closest(name, index.keys().map(String::as_str)) {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

/// The candidate with the smallest edit distance, if it is close enough to be a typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .filter(|c| c.len().abs_diff(name.len()) <= limit)
        .map(|c| (levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
