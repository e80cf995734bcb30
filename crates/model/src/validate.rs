//! Validation: from the raw file to a [`Topology`] whose every reference resolves.
//!
//! All problems are collected (not just the first) and sorted by position, so one run of
//! `faultline check` lists everything to fix.

use std::fmt;

use rustc_hash::FxHashMap;

use crate::index::{IdIndex, Slots, hash};
use crate::raw::{RawDevice, RawGroup, RawLink, RawService, RawTopology, S};
use crate::{Address, ComponentRef, GroupMode, Link, LinkEnd, Topology, assemble};

mod collectors;

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
        self.diags
            .push(Diagnostic::new(self.file, at.line, at.column, msg));
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
///
/// The passes only read the parsed file; the model is then assembled by moving its strings
/// out of it (no id, requirement or tag is copied), and the id index built in the first pass
/// keeps working since the model holds the same ids in the same order.
pub(crate) fn validate(raw: RawTopology, file: &str) -> Result<Topology, LoadError> {
    let mut cx = Ctx {
        file,
        diags: Vec::new(),
    };
    let RawTopology {
        name,
        collector,
        zone_collectors,
        devices,
        links,
        groups,
        services,
    } = raw;
    let ids = Ids {
        devices: &devices,
        groups: &groups,
        services: &services,
    };
    let index = declare_ids(&mut cx, ids);
    let table = build_links(&mut cx, links, &index, ids);
    let refs = Refs {
        index: &index,
        ids,
        table: &table,
    };
    let addresses = validate_devices(&mut cx, &refs);
    let modes = validate_groups(&mut cx, &refs);
    validate_services(&mut cx, &refs);
    collectors::validate_collector(&mut cx, collector.as_ref(), &refs);
    collectors::validate_zone_collectors(&mut cx, &zone_collectors, &refs);
    // Where each id is, for a cycle found once the model exists (its own `line` has no column).
    let at: Vec<(u32, u32)> = ids.all().map(|(_, id)| (id.line, id.column)).collect();
    let LinkTable { links, .. } = table;
    let (device_link_off, device_links) = link_adjacency(&links, devices.len());
    let topo = Topology {
        name: name.value,
        collector: collector.map(|c| c.value),
        zone_collectors: (zone_collectors.into_iter())
            .map(|(zone, c)| (zone, c.value))
            .collect(),
        devices: assemble::devices(devices, addresses),
        links,
        groups: assemble::groups(groups, modes),
        services: assemble::services(services),
        index,
        device_link_off,
        device_links,
    };

    // Cycles only make sense to look for once every reference resolves.
    if cx.diags.is_empty() {
        check_cycle(&mut cx, &at, (name.line, name.column), &topo);
    }

    if cx.diags.is_empty() {
        Ok(topo)
    } else {
        cx.diags.sort_by_key(|d| (d.line, d.column));
        Err(cx.diags.into())
    }
}

/// The declared ids of the parsed file: the index's keys while validating.
#[derive(Clone, Copy)]
struct Ids<'r> {
    devices: &'r [RawDevice],
    groups: &'r [RawGroup],
    services: &'r [RawService],
}

impl<'r> Ids<'r> {
    fn id(self, c: ComponentRef) -> &'r S<String> {
        match c {
            ComponentRef::Device(i) => &self.devices[i].id,
            ComponentRef::Group(i) => &self.groups[i].id,
            ComponentRef::Service(i) => &self.services[i].id,
            // Links are never in the index.
            ComponentRef::Link(_) => &self.devices[0].id,
        }
    }

    fn get(self, index: &IdIndex, name: &str) -> Option<ComponentRef> {
        index.get(name, |c| self.id(c).value.as_str())
    }

    /// Every id in the index's order (devices, groups, services).
    fn all(self) -> impl Iterator<Item = (ComponentRef, &'r S<String>)> {
        let d = (self.devices.iter().enumerate()).map(|(i, d)| (ComponentRef::Device(i), &d.id));
        let g = (self.groups.iter().enumerate()).map(|(i, g)| (ComponentRef::Group(i), &g.id));
        let s = (self.services.iter().enumerate()).map(|(i, s)| (ComponentRef::Service(i), &s.id));
        d.chain(g).chain(s)
    }

    fn names(self) -> impl Iterator<Item = &'r str> {
        self.all().map(|(_, id)| id.value.as_str())
    }
}

/// Pass 1: every device, group and service id is well formed and unique across all kinds.
/// Returns the id index (first declaration wins).
fn declare_ids(cx: &mut Ctx, ids: Ids) -> IdIndex {
    let mut index = IdIndex::new(ids.devices.len(), ids.groups.len(), ids.services.len());
    for (c, id) in ids.all() {
        if let Some(p) = id_problem(&id.value) {
            cx.err(id, format!("{} id `{}` {p}", c.kind_name(), id.value));
        }
        if let Some(prev) = index.insert(&id.value, c, |c| ids.id(c).value.as_str()) {
            cx.err(
                id,
                format!(
                    "duplicate id `{}`: already declared as a {} at line {}",
                    id.value,
                    prev.kind_name(),
                    ids.id(prev).line
                ),
            );
        }
    }
    index
}

/// The links that passed validation and their ends.
struct LinkTable {
    links: Vec<Link>,
    /// Link ends by (device index, interface): payload `2 × link + end` (0 for a, 1 for b),
    /// keyed by the ids in `links` (no copy of them). Unique ends imply unique link ids.
    ends: Slots,
}

impl LinkTable {
    /// The link with an end on device `d` at `interface`.
    fn link_at(&self, d: u32, interface: &str) -> Option<usize> {
        let key = (d, interface);
        let p = (self.ends).get(hash(key), |p| end_of(&self.links, p) == key)?;
        Some(p as usize / 2)
    }
}

/// The device and interface of end `p` (`2 × link + end`, 0 for a, 1 for b).
fn end_of(links: &[Link], p: u32) -> (u32, &str) {
    let l = &links[p as usize / 2];
    if p.is_multiple_of(2) {
        (l.a_device, l.a().interface)
    } else {
        (l.b_device, l.b().interface)
    }
}

/// Pass 2: parse link ends, resolve their devices and derive link ids; every end must be
/// unique. A link with any problem is left out (and reported). The parsed links are consumed:
/// each kept link takes its id string.
fn build_links(cx: &mut Ctx, raw_links: Vec<S<RawLink>>, index: &IdIndex, ids: Ids) -> LinkTable {
    let mut table = LinkTable {
        links: Vec::with_capacity(raw_links.len()),
        ends: Slots::new(raw_links.len() * 2),
    };
    for l in raw_links {
        let at = S {
            value: (),
            line: l.line,
            column: l.column,
        };
        let (id, sep) = match l.value {
            RawLink::Ends { id, sep } => (id, sep),
            RawLink::Count(n) => {
                cx.err(&at, format!("a link has exactly two ends `[device:interface, device:interface]`, found {n}"));
                continue;
            }
        };
        let (a, b) = (&id[..sep as usize], &id[sep as usize + 2..]);
        let (Some(ea), Some(eb)) = (parse_end(a), parse_end(b)) else {
            let bad = if parse_end(a).is_none() { a } else { b };
            cx.err(
                &at,
                format!("malformed link end `{bad}`: expected `device:interface`"),
            );
            continue;
        };
        let Some(devs) = link_devices(cx, &at, [&ea, &eb], (index, ids)) else {
            continue;
        };
        let mut ok = true;
        for (d, e) in [(devs[0], &ea), (devs[1], &eb)] {
            if let Some(j) = table.link_at(d, e.interface) {
                let other: &Link = &table.links[j];
                cx.err(
                    &at,
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
        let i = table.links.len() as u32;
        table.links.push(Link::new(
            id.into_boxed_str(),
            sep,
            devs[0],
            devs[1],
            l.line,
        ));
        let (links, ends) = (&table.links, &mut table.ends);
        for p in [2 * i, 2 * i + 1] {
            let me = end_of(links, p);
            ends.insert(hash(me), p, |q| end_of(links, q) == me);
        }
    }
    table
}

/// The device indices of a link's two ends, or `None` (after reporting every problem) when an
/// end names no device or the link connects a device to itself.
fn link_devices(
    cx: &mut Ctx,
    l: &S<()>,
    ends: [&LinkEnd<'_>; 2],
    (index, ids): (&IdIndex, Ids),
) -> Option<[u32; 2]> {
    let mut ok = true;
    let mut devs = [0u32; 2];
    for (slot, e) in ends.into_iter().enumerate() {
        match ids.get(index, e.device) {
            Some(ComponentRef::Device(d)) => devs[slot] = d as u32,
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
                        hint(e.device, ids)
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
    index: &'a IdIndex,
    ids: Ids<'r>,
    table: &'a LinkTable,
}

impl Refs<'_, '_> {
    fn link_named(&self, name: &str) -> bool {
        let Some((dev, rest)) = name.split_once(':') else {
            return false;
        };
        let Some(ComponentRef::Device(d)) = self.ids.get(self.index, dev) else {
            return false;
        };
        let table = self.table;
        if table.link_at(d as u32, rest).is_some() {
            return true;
        }
        rest.match_indices("--").any(|(k, _)| {
            table
                .link_at(d as u32, &rest[..k])
                .is_some_and(|l| table.links[l].id() == name)
        })
    }

    /// Report a reference to itself or to nothing known. The owner is `kind` `self_id`
    /// (`device` `fw-a`), put into words only for a message.
    fn check(&self, cx: &mut Ctx, (kind, self_id): (&str, &str), verb: &str, r: &S<String>) {
        if r.value == self_id {
            cx.err(r, format!("{kind} `{self_id}` {verb} itself"));
        } else if self.ids.get(self.index, &r.value).is_none() && !self.link_named(&r.value) {
            cx.err(
                r,
                format!(
                    "{kind} `{self_id}` {verb} unknown component `{}`{}",
                    r.value,
                    hint(&r.value, self.ids)
                ),
            );
        }
    }
}

/// Pass 3: device requirements resolve and addresses parse. Returns the addresses.
fn validate_devices(cx: &mut Ctx, refs: &Refs) -> Vec<Option<Address>> {
    let mut addresses = Vec::with_capacity(refs.ids.devices.len());
    for d in refs.ids.devices {
        for r in &d.requires {
            refs.check(cx, ("device", &d.id.value), "requires", r);
        }
        addresses.push(match &d.address {
            None => None,
            Some(a) => match parse_address(&a.value) {
                Ok(addr) => Some(addr),
                Err(msg) => {
                    cx.err(a, format!("device `{}`: {msg}", d.id.value));
                    None
                }
            },
        });
    }
    addresses
}

/// Pass 4: group members resolve, are listed once and exist; the mode and `min` agree.
/// Returns the modes.
fn validate_groups(cx: &mut Ctx, refs: &Refs) -> Vec<GroupMode> {
    let mut modes = Vec::with_capacity(refs.ids.groups.len());
    for g in refs.ids.groups {
        let owner = format!("group `{}`", g.id.value);
        for m in &g.members {
            refs.check(cx, ("group", &g.id.value), "has member", m);
        }
        let mut seen = FxHashMap::default();
        for m in &g.members {
            if let Some(first) = seen.insert(m.value.as_str(), m.line) {
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
        modes.push(group_mode(
            cx,
            &owner,
            &g.mode,
            g.min.as_ref(),
            g.members.len(),
        ));
    }
    modes
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
fn validate_services(cx: &mut Ctx, refs: &Refs) {
    for s in refs.ids.services {
        let owner = format!("service `{}`", s.id.value);
        for r in &s.requires {
            refs.check(cx, ("service", &s.id.value), "requires", r);
        }
        validate_zones(cx, &owner, s);
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
    }
}

/// A service's vantage zones: `zone` (one) or `zones` (several), not both, none listed twice.
/// The names themselves are free: a zone is whatever a poller's `[cluster] zone` says.
fn validate_zones(cx: &mut Ctx, owner: &str, s: &RawService) {
    if let (Some(one), Some(_)) = (&s.zone, s.zones.first()) {
        cx.err(
            one,
            format!("{owner} has both `zone` and `zones`: list every zone under `zones`"),
        );
    }
    let mut seen = FxHashMap::default();
    for z in &s.zones {
        if let Some(first) = seen.insert(z.value.as_str(), z.line) {
            cx.err(
                z,
                format!(
                    "{owner} lists zone `{}` twice (also at line {first})",
                    z.value
                ),
            );
        }
    }
}

/// Pass 7 (after pass 6, `collectors`): no requirement cycle, reported at the component the cycle closes on. `at` holds
/// the position of every id in index order; `name_at` that of the file's `name`.
fn check_cycle(cx: &mut Ctx, at: &[(u32, u32)], name_at: (u32, u32), topo: &Topology) {
    let Some((cycle, start)) = find_cycle(topo) else {
        return;
    };
    let (d, g) = (topo.devices.len(), topo.groups.len());
    let (line, column) = match start {
        ComponentRef::Device(i) => at[i],
        ComponentRef::Group(i) => at[d + i],
        ComponentRef::Service(i) => at[d + g + i],
        ComponentRef::Link(_) => name_at,
    };
    cx.diags.push(Diagnostic::new(
        cx.file,
        line,
        column,
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
    let (d, g) = (t.devices.len(), t.groups.len());
    // Dense position of a device, group or service; links have no requirements.
    let slot = |c: ComponentRef| match c {
        ComponentRef::Device(i) => Some(i),
        ComponentRef::Group(i) => Some(d + i),
        ComponentRef::Service(i) => Some(d + g + i),
        ComponentRef::Link(_) => None,
    };
    let mut colour = vec![Colour::White; all.len()];
    for &root in &all {
        if slot(root).is_some_and(|i| colour[i] != Colour::White) {
            continue;
        }
        // Stack of (node, next requirement index).
        let mut stack: Vec<(ComponentRef, usize)> = vec![(root, 0)];
        if let Some(i) = slot(root) {
            colour[i] = Colour::Grey;
        }
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let reqs = t.requirements(node);
            if *next < reqs.len() {
                let r = &reqs[*next];
                *next += 1;
                let Some(child) = t.resolve(r) else { continue };
                match slot(child).map(|i| (i, colour[i])) {
                    Some((i, Colour::White)) => {
                        colour[i] = Colour::Grey;
                        stack.push((child, 0));
                    }
                    Some((_, Colour::Grey)) => {
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
                if let Some(i) = slot(node) {
                    colour[i] = Colour::Black;
                }
                stack.pop();
            }
        }
    }
    None
}

fn hint(name: &str, ids: Ids) -> String {
    match closest(name, ids.names()) {
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
