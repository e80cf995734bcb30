//! The model from a parsed file that passed validation: its strings moved, not copied.

use crate::raw::{RawDevice, RawGroup, RawService, S};
use crate::{Address, Device, Group, GroupMode, Service};

/// The values of a list of positioned strings, in a `Vec` of exactly their number (the parsed
/// lists grew by doubling, and most hold one entry).
fn values(list: Vec<S<String>>) -> Vec<String> {
    let mut out = Vec::with_capacity(list.len());
    out.extend(list.into_iter().map(|s| s.value));
    out
}

/// Tags and the like, trimmed to their length.
fn exact(mut list: Vec<String>) -> Vec<String> {
    list.shrink_to_fit();
    list
}

/// The devices, with the addresses validation parsed (one per device, in order).
pub(crate) fn devices(raw: Vec<RawDevice>, addresses: Vec<Option<Address>>) -> Vec<Device> {
    let mut out = Vec::with_capacity(raw.len());
    out.extend(raw.into_iter().zip(addresses).map(|(d, address)| Device {
        line: d.id.line,
        id: d.id.value,
        kind: d.kind,
        address,
        profile: d.profile,
        snmp: d.snmp,
        requires: values(d.requires),
        tags: exact(d.tags),
        zone: d.zone,
    }));
    out
}

/// The groups, with the modes validation settled (one per group, in order).
pub(crate) fn groups(raw: Vec<RawGroup>, modes: Vec<GroupMode>) -> Vec<Group> {
    let mut out = Vec::with_capacity(raw.len());
    out.extend(raw.into_iter().zip(modes).map(|(g, mode)| Group {
        line: g.id.line,
        id: g.id.value,
        mode,
        members: values(g.members),
    }));
    out
}

/// The services; a service without a `name` is named by its id.
pub(crate) fn services(raw: Vec<RawService>) -> Vec<Service> {
    let mut out = Vec::with_capacity(raw.len());
    out.extend(raw.into_iter().map(|s| Service {
        line: s.id.line,
        name: s.name.unwrap_or_else(|| s.id.value.clone()),
        id: s.id.value,
        tier: s.tier,
        requires: values(s.requires),
        tags: exact(s.tags),
        probe: s.probe,
        zones: s.zone.into_iter().chain(s.zones).map(|z| z.value).collect(),
    }));
    out
}
