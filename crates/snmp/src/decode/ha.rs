//! High-availability role decoding: a profile's vendor objects mapped onto a normalized
//! [`HaRole`], one function per family of MIB layout (scalar, table, serial).

use std::collections::BTreeMap;

use faultline_observe::HaRole;

use super::{HaReport, RawPoll, SnmpValue};
use crate::profile::HaSpec;

fn map_role(roles: &BTreeMap<String, HaRole>, raw: &str) -> HaRole {
    let key = raw.trim().to_ascii_lowercase();
    roles
        .get(&key)
        .or_else(|| {
            roles
                .iter()
                .find(|(k, _)| k.to_ascii_lowercase() == key)
                .map(|(_, v)| v)
        })
        .copied()
        .unwrap_or(HaRole::Unknown)
}

fn map_sync(values: &BTreeMap<String, bool>, raw: &SnmpValue) -> Option<bool> {
    values.get(&raw.text().to_ascii_lowercase()).copied()
}

/// Combine several instance roles of one member: any failed → failed; all the same → that;
/// otherwise the instances disagree, which is a transition (or a half-failed sync group).
fn combine(roles: &[HaRole]) -> HaRole {
    if roles.contains(&HaRole::Failed) {
        HaRole::Failed
    } else if let Some(first) = roles.first() {
        if roles.iter().all(|r| r == first) {
            *first
        } else {
            HaRole::Transition
        }
    } else {
        HaRole::Unknown
    }
}

fn is_standalone(raw: &RawPoll, mode_oid: &Option<String>, values: &[String]) -> bool {
    mode_oid
        .as_deref()
        .and_then(|m| raw.scalar(m))
        .is_some_and(|v| values.iter().any(|s| s.eq_ignore_ascii_case(&v.text())))
}

/// Map the vendor objects a profile names onto a normalized role. `None` when the device
/// exposes none of them (the profile does not apply, or the MIB is not implemented).
pub fn decode_ha(spec: &HaSpec, raw: &RawPoll) -> Option<HaReport> {
    match spec {
        HaSpec::Scalar { .. } => ha_from_scalars(spec, raw),
        HaSpec::Table { .. } => ha_from_table(spec, raw),
        HaSpec::Serial { .. } => ha_from_serials(spec, raw),
    }
}

/// Scalar families (one role object, optional peer/sync/mode objects: Check Point, Palo
/// Alto). `None` also for another kind of spec.
fn ha_from_scalars(spec: &HaSpec, raw: &RawPoll) -> Option<HaReport> {
    let HaSpec::Scalar {
        role_oid,
        peer_oid,
        sync_oid,
        mode_oid,
        standalone_values,
        roles,
        sync_values,
    } = spec
    else {
        return None;
    };
    if is_standalone(raw, mode_oid, standalone_values) {
        return Some(HaReport {
            role: HaRole::Standalone,
            peer: None,
            in_sync: None,
            raw: "standalone".into(),
        });
    }
    let v = raw.scalar(role_oid)?.text();
    Some(HaReport {
        role: map_role(roles, &v),
        peer: peer_oid
            .as_deref()
            .and_then(|o| raw.scalar(o))
            .map(|p| map_role(roles, &p.text())),
        in_sync: sync_oid
            .as_deref()
            .and_then(|o| raw.scalar(o))
            .and_then(|s| map_sync(sync_values, s)),
        raw: v,
    })
}

/// Table families (one row per unit, group or instance: Cisco ASA, Juniper, keepalived,
/// VRRP-MIB): this box's row, the peer's, or all rows combined. `None` also for
/// another kind of spec.
fn ha_from_table(spec: &HaSpec, raw: &RawPoll) -> Option<HaReport> {
    let HaSpec::Table {
        role_column,
        fallback_role_column,
        row_indices,
        self_column,
        self_contains,
        aggregate,
        sync_column,
        roles,
        sync_values,
    } = spec
    else {
        return None;
    };
    let (_, rows) = std::iter::once(role_column)
        .chain(fallback_role_column)
        .find_map(|c| raw.column(c).map(|r| (c, r)))?;
    let rows: Vec<(&String, &SnmpValue)> = rows
        .iter()
        .filter(|(i, _)| row_indices.is_empty() || row_indices.contains(i))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let in_sync = sync_column
        .as_deref()
        .and_then(|c| raw.column(c))
        .and_then(|c| {
            let all: Vec<Option<bool>> = c.values().map(|v| map_sync(sync_values, v)).collect();
            if all.iter().any(Option::is_none) {
                None
            } else {
                Some(all.iter().all(|s| *s == Some(true)))
            }
        });
    let raws: Vec<String> = rows.iter().map(|(_, v)| v.text()).collect();
    if *aggregate {
        let mapped: Vec<HaRole> = raws.iter().map(|r| map_role(roles, r)).collect();
        return Some(HaReport {
            role: combine(&mapped),
            peer: None,
            in_sync,
            raw: raws.join(","),
        });
    }
    let marker = self_contains.as_deref().map(str::to_ascii_lowercase);
    let self_pos = match (self_column, &marker) {
        (Some(sc), Some(m)) => rows
            .iter()
            .position(|(i, _)| {
                raw.cell(sc, i)
                    .is_some_and(|v| v.text().to_ascii_lowercase().contains(m.as_str()))
            })
            .unwrap_or(0),
        _ => 0,
    };
    let role = map_role(roles, &raws[self_pos]);
    let peer = raws
        .iter()
        .enumerate()
        .find(|(i, _)| *i != self_pos)
        .map(|(_, r)| map_role(roles, r));
    Some(HaReport {
        role,
        peer,
        in_sync,
        raw: raws[self_pos].clone(),
    })
}

/// Serial families (members listed by serial number against the primary's: FortiGate). `None` also for another kind of spec.
fn ha_from_serials(spec: &HaSpec, raw: &RawPoll) -> Option<HaReport> {
    let HaSpec::Serial {
        mode_oid,
        standalone_values,
        self_serial_oid,
        serial_column,
        primary_serial_column,
        sync_column,
        checksum_column,
        sync_values,
    } = spec
    else {
        return None;
    };
    if is_standalone(raw, mode_oid, standalone_values) {
        return Some(HaReport {
            role: HaRole::Standalone,
            peer: None,
            in_sync: None,
            raw: "standalone".into(),
        });
    }
    let serials = raw.column(serial_column)?;
    // Rows other than the primary's may leave the primary serial empty (seen on a real
    // FortiGate 3000D recording): take the first non-empty one.
    let primary = raw
        .column(primary_serial_column)
        .and_then(|c| c.values().map(SnmpValue::text).find(|s| !s.is_empty()));
    let me = raw.scalar(self_serial_oid).map(SnmpValue::text);
    let role_of = |serial: &str| match &primary {
        Some(p) if p == serial => HaRole::Active,
        Some(_) => HaRole::Standby,
        None => HaRole::Unknown,
    };
    let role = me.as_deref().map_or(HaRole::Unknown, role_of);
    let peer = serials
        .values()
        .map(SnmpValue::text)
        .find(|s| Some(s) != me.as_ref())
        .map(|s| role_of(&s));
    let sync = sync_column
        .as_deref()
        .and_then(|c| raw.column(c))
        .map(|c| c.values().all(|v| map_sync(sync_values, v) == Some(true)));
    let checksums_equal = checksum_column
        .as_deref()
        .and_then(|c| raw.column(c))
        .map(|c| {
            let mut v = c.values().map(SnmpValue::text);
            let first = v.next();
            v.all(|x| Some(x) == first)
        });
    let in_sync = match (sync, checksums_equal) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(true) && b.unwrap_or(true)),
    };
    Some(HaReport {
        role,
        peer,
        in_sync,
        raw: me.unwrap_or_default(),
    })
}
