//! Topologies that programs make (imports): devices, groups and links handed over as values
//! and checked by the very validation a file goes through, without writing text and parsing
//! it back. A draft has no positions; a caller that wants `file:line` in the problems keeps
//! the text it writes for people and reads that instead when the draft is refused.

use std::collections::BTreeMap;

use crate::raw::{RawDevice, RawGroup, RawLink, RawTopology, S};
use crate::validate::{self, LoadError};
use crate::{DeviceKind, Topology};

/// A topology as a program builds it.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// The topology's name.
    pub name: String,
    /// Devices, in order.
    pub devices: Vec<DraftDevice>,
    /// Groups, in order.
    pub groups: Vec<DraftGroup>,
    /// Links as their two ends, `device:interface` each.
    pub links: Vec<(String, String)>,
}

/// A device of a [`Draft`].
#[derive(Debug, Clone)]
pub struct DraftDevice {
    /// Its id.
    pub id: String,
    /// What it is.
    pub kind: DeviceKind,
    /// Its management address, if any.
    pub address: Option<String>,
    /// Ids it requires.
    pub requires: Vec<String>,
    /// Its tags.
    pub tags: Vec<String>,
}

/// A group of a [`Draft`].
#[derive(Debug, Clone)]
pub struct DraftGroup {
    /// Its id.
    pub id: String,
    /// `all`, `any`, `active-standby` or `at-least`.
    pub mode: String,
    /// For `at-least`: how many members must be available.
    pub min: Option<i64>,
    /// Member ids.
    pub members: Vec<String>,
}

/// A value without a position (the JSON path's convention: line and column 0).
fn at<T>(value: T) -> S<T> {
    S {
        value,
        line: 0,
        column: 0,
    }
}

impl Topology {
    /// Validate a program-made topology (`file` names it in problems): the same rules and the
    /// same diagnostics, without positions, as [`Topology::from_json_str`] on the equivalent
    /// file.
    pub fn from_draft(draft: Draft, file: &str) -> Result<Topology, LoadError> {
        let devices = draft
            .devices
            .into_iter()
            .map(|d| RawDevice {
                id: at(d.id),
                kind: d.kind,
                address: d.address.map(at),
                profile: None,
                snmp: None,
                requires: d.requires.into_iter().map(at).collect(),
                tags: d.tags,
                zone: None,
            })
            .collect();
        let groups = draft
            .groups
            .into_iter()
            .map(|g| RawGroup {
                id: at(g.id),
                mode: at(g.mode),
                min: g.min.map(at),
                members: g.members.into_iter().map(at).collect(),
            })
            .collect();
        let links = draft
            .links
            .into_iter()
            .map(|(a, b)| {
                let sep = u32::try_from(a.len()).unwrap_or(u32::MAX);
                at(RawLink::Ends {
                    id: format!("{a}--{b}"),
                    sep,
                })
            })
            .collect();
        let raw = RawTopology {
            name: at(draft.name),
            collector: None,
            zone_collectors: BTreeMap::new(),
            devices,
            links,
            groups,
            services: Vec::new(),
        };
        validate::validate(raw, file)
    }
}
