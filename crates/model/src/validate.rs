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
    pub file: String,
    /// 1-based; 0 when the position is unknown.
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl Diagnostic {
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

pub(crate) fn validate(raw: RawTopology, file: &str) -> Result<Topology, LoadError> {
    let mut cx = Ctx {
        file,
        diags: Vec::new(),
    };
    let mut index: HashMap<String, ComponentRef> = HashMap::new();
    // Where each id was first declared, for "duplicate id (first declared at line N)".
    let mut declared_at: HashMap<String, u32> = HashMap::new();

    let mut declare = |cx: &mut Ctx,
                       id: &S<String>,
                       c: ComponentRef,
                       index: &mut HashMap<String, ComponentRef>| {
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
    };

    for (i, d) in raw.devices.iter().enumerate() {
        declare(&mut cx, &d.id, ComponentRef::Device(i), &mut index);
    }
    for (i, g) in raw.groups.iter().enumerate() {
        declare(&mut cx, &g.id, ComponentRef::Group(i), &mut index);
    }
    for (i, s) in raw.services.iter().enumerate() {
        declare(&mut cx, &s.id, ComponentRef::Service(i), &mut index);
    }

    // Links: parse ends, derive ids; every end and id must be unique.
    let mut links: Vec<Link> = Vec::with_capacity(raw.links.len());
    // Link ends by (device index, interface), borrowed from the raw file: two ends per link,
    // no allocation. Unique ends imply unique link ids.
    let mut names: HashMap<(u32, &str), usize> = HashMap::with_capacity(raw.links.len() * 2);
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
        let mut ok = true;
        let mut devs = [0u32; 2];
        for (slot, e) in [&ea, &eb].into_iter().enumerate() {
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
                            hint(e.device, &index)
                        ),
                    );
                    ok = false;
                }
            }
        }
        if ea.device == eb.device {
            cx.err(
                l,
                format!(
                    "link `{a}`--`{b}` connects device `{}` to itself",
                    ea.device
                ),
            );
            ok = false;
        }
        if !ok {
            continue;
        }
        for (d, e) in [(devs[0], &ea), (devs[1], &eb)] {
            if let Some(&j) = names.get(&(d, e.interface)) {
                let other: &Link = &links[j];
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
        let i = links.len();
        let sep = (ea.device.len() + 1 + ea.interface.len()) as u32;
        names.insert((devs[0], ea.interface), i);
        names.insert((devs[1], eb.interface), i);
        links.push(Link::new(
            id.into_boxed_str(),
            sep,
            devs[0],
            devs[1],
            l.referenced.line() as u32,
        ));
    }
    let mut per_device = vec![0u32; raw.devices.len() + 1];
    for l in &links {
        per_device[l.a_device as usize + 1] += 1;
        per_device[l.b_device as usize + 1] += 1;
    }
    for d in 0..raw.devices.len() {
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

    // References. A link is referenced by either end (`dev:if`) or its id (`a:if--b:if`).
    let link_named = |name: &str| -> bool {
        let Some((dev, rest)) = name.split_once(':') else {
            return false;
        };
        let Some(ComponentRef::Device(d)) = index.get(dev) else {
            return false;
        };
        if names.contains_key(&(*d as u32, rest)) {
            return true;
        }
        rest.match_indices("--").any(|(k, _)| {
            names
                .get(&(*d as u32, &rest[..k]))
                .is_some_and(|&l| links[l].id() == name)
        })
    };
    let check_ref = |cx: &mut Ctx, (self_id, owner): (&str, &str), verb: &str, r: &S<String>| {
        if r.value == self_id {
            cx.err(r, format!("{owner} {verb} itself"));
        } else if !index.contains_key(&r.value) && !link_named(&r.value) {
            cx.err(
                r,
                format!(
                    "{owner} {verb} unknown component `{}`{}",
                    r.value,
                    hint(&r.value, &index)
                ),
            );
        }
    };
    let mut devices = Vec::with_capacity(raw.devices.len());
    for d in &raw.devices {
        let owner = format!("device `{}`", d.id.value);
        for r in &d.requires {
            check_ref(&mut cx, (&d.id.value, &owner), "requires", r);
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
            line: d.id.referenced.line() as u32,
        });
    }

    let mut groups = Vec::with_capacity(raw.groups.len());
    for g in &raw.groups {
        let owner = format!("group `{}`", g.id.value);
        for m in &g.members {
            check_ref(&mut cx, (&g.id.value, &owner), "has member", m);
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
        let n = g.members.len();
        let mode = match (g.mode.value.as_str(), &g.min) {
            ("all", None) => GroupMode::All,
            ("any", None) => GroupMode::Any,
            ("active-standby", None) => GroupMode::ActiveStandby,
            ("at-least", Some(min)) => {
                if min.value < 1 {
                    cx.err(
                        min,
                        format!("{owner}: `min` must be at least 1, found {}", min.value),
                    );
                    GroupMode::AtLeast { min: 1 }
                } else if min.value as usize > n {
                    cx.err(
                        min,
                        format!(
                            "{owner}: `min` is {} but the group has only {n} member(s)",
                            min.value
                        ),
                    );
                    GroupMode::AtLeast { min: n as u32 }
                } else {
                    GroupMode::AtLeast {
                        min: min.value as u32,
                    }
                }
            }
            ("at-least", None) => {
                cx.err(&g.mode, format!("{owner}: mode `at-least` needs `min`"));
                GroupMode::Any
            }
            ("all" | "any" | "active-standby", Some(min)) => {
                cx.err(
                    min,
                    format!(
                        "{owner}: `min` applies only to mode `at-least`, not `{}`",
                        g.mode.value
                    ),
                );
                GroupMode::Any
            }
            (other, _) => {
                cx.err(&g.mode, format!("{owner}: unknown mode `{other}`; expected one of all, any, at-least, active-standby"));
                GroupMode::Any
            }
        };
        groups.push(Group {
            id: g.id.value.clone(),
            mode,
            members: g.members.iter().map(|m| m.value.clone()).collect(),
            line: g.id.referenced.line() as u32,
        });
    }

    let mut services = Vec::with_capacity(raw.services.len());
    for s in &raw.services {
        let owner = format!("service `{}`", s.id.value);
        for r in &s.requires {
            check_ref(&mut cx, (&s.id.value, &owner), "requires", r);
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
            line: s.id.referenced.line() as u32,
        });
    }

    let collector = raw.collector.as_ref().map(|c| {
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
                    hint(&c.value, &index)
                ),
            ),
        }
        c.value.clone()
    });

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
    if cx.diags.is_empty()
        && let Some((cycle, start)) = find_cycle(&topo)
    {
        let line = match start {
            ComponentRef::Device(i) => raw.devices[i].id.referenced,
            ComponentRef::Group(i) => raw.groups[i].id.referenced,
            ComponentRef::Service(i) => raw.services[i].id.referenced,
            ComponentRef::Link(_) => raw.name.referenced,
        };
        cx.diags.push(Diagnostic::new(
            file,
            line.line() as u32,
            line.column() as u32,
            format!("dependency cycle: {}", cycle.join(" -> ")),
        ));
    }

    if cx.diags.is_empty() {
        Ok(topo)
    } else {
        cx.diags.sort_by_key(|d| (d.line, d.column));
        Err(cx.diags.into())
    }
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
