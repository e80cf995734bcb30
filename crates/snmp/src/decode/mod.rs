//! The pure half of a poll: raw varbinds (already fetched) plus the previous poll's state in,
//! report, observations and new state out. No I/O, no clock: `at` is passed in, so every rule
//! here (reboot, flap, counter wrap, HA mapping) is unit-testable without an agent.

use std::collections::{BTreeMap, BTreeSet};

use faultline_observe::octets::hex;
use faultline_observe::{HaRole, IfStatus, Observation, PollFailure, Signal, Subject, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::profile::Profile;

mod ha;

use crate::readiness::ReadinessReport;
pub use ha::decode_ha;

/// A decoded SNMP value, reduced to what profiles need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnmpValue {
    Int(i64),
    Uint(u64),
    Bytes(Vec<u8>),
    Oid(String),
}

impl SnmpValue {
    /// Reduce an async-snmp value; `None` for exceptions (noSuchObject, endOfMibView...), NULL
    /// and unknown tags, which carry no value.
    pub fn from_snmp(v: &async_snmp::Value) -> Option<SnmpValue> {
        use async_snmp::Value as V;
        Some(match v {
            V::Integer(i) => SnmpValue::Int(i64::from(*i)),
            V::Counter32(u) | V::Gauge32(u) | V::UInteger32(u) | V::TimeTicks(u) => {
                SnmpValue::Uint(u64::from(*u))
            }
            V::Counter64(u) => SnmpValue::Uint(*u),
            V::OctetString(b) | V::Opaque(b) | V::Nsap(b) => SnmpValue::Bytes(b.to_vec()),
            V::IpAddress(a) => SnmpValue::Bytes(a.to_vec()),
            V::ObjectIdentifier(o) => SnmpValue::Oid(o.to_string()),
            _ => return None,
        })
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            SnmpValue::Uint(u) => Some(*u),
            SnmpValue::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            SnmpValue::Int(i) => Some(*i),
            SnmpValue::Uint(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    /// Text form used for display strings and for profile value mappings: integers in decimal,
    /// strings lossily as UTF-8 with trailing NULs trimmed (some agents pad them).
    pub fn text(&self) -> String {
        match self {
            SnmpValue::Int(i) => i.to_string(),
            SnmpValue::Uint(u) => u.to_string(),
            SnmpValue::Bytes(b) => String::from_utf8_lossy(b)
                .trim_end_matches('\0')
                .trim()
                .to_owned(),
            SnmpValue::Oid(o) => o.clone(),
        }
    }
}

/// Everything one poll fetched: scalars by OID and table columns by column OID → row index.
#[derive(Debug, Clone, Default)]
pub struct RawPoll {
    pub scalars: BTreeMap<String, SnmpValue>,
    pub columns: BTreeMap<String, BTreeMap<String, SnmpValue>>,
    /// Scalars the agent said are not there (noSuchObject, noSuchInstance, endOfMibView, v1
    /// noSuchName). A scalar in neither map was not read.
    pub absent: BTreeSet<String>,
    /// Walk roots whose walk finished (rows or none). A root not here was not read.
    pub walked: BTreeSet<String>,
    /// Per walk root, the first OID past it the agent returned (where the walk ended): tells
    /// an empty slice of a populated column from an unimplemented one.
    pub beyond: BTreeMap<String, String>,
}

impl RawPoll {
    /// The value of scalar `oid`, if read.
    pub fn scalar(&self, oid: &str) -> Option<&SnmpValue> {
        self.scalars.get(oid)
    }
    /// The rows (index → value) of column `oid`, if it has any.
    pub fn column(&self, oid: &str) -> Option<&BTreeMap<String, SnmpValue>> {
        self.columns.get(oid).filter(|c| !c.is_empty())
    }
    /// The value of column `column` in row `index`.
    pub fn cell(&self, column: &str, index: &str) -> Option<&SnmpValue> {
        self.columns.get(column).and_then(|c| c.get(index))
    }

    /// Record one varbind of a GET answer: a value under `scalars`, an exception
    /// (noSuchObject, noSuchInstance, endOfMibView) under `absent`; NULL and unknown tags
    /// carry nothing.
    pub fn record_get(&mut self, oid: String, value: &async_snmp::Value) {
        if let Some(v) = SnmpValue::from_snmp(value) {
            self.scalars.insert(oid, v);
        } else if value.is_exception() {
            self.absent.insert(oid);
        }
    }
}

/// Object identifiers of the generic part of every poll.
pub mod oids {
    pub const SYS_DESCR: &str = "1.3.6.1.2.1.1.1.0";
    pub const SYS_OBJECT_ID: &str = "1.3.6.1.2.1.1.2.0";
    pub const SYS_UPTIME: &str = "1.3.6.1.2.1.1.3.0";
    pub const SYS_NAME: &str = "1.3.6.1.2.1.1.5.0";
    pub const ENGINE_BOOTS: &str = "1.3.6.1.6.3.10.2.1.2.0";
    pub const HR_SYSTEM_UPTIME: &str = "1.3.6.1.2.1.25.1.1.0";
    pub const SYSTEM: [&str; 4] = [SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME];
    pub const OPTIONAL_SCALARS: [&str; 2] = [ENGINE_BOOTS, HR_SYSTEM_UPTIME];
    /// ifNumber: sizes the first GETBULK of the ifTable walk.
    pub const IF_NUMBER: &str = "1.3.6.1.2.1.2.1.0";

    pub const IF_DESCR: &str = "1.3.6.1.2.1.2.2.1.2";
    pub const IF_ADMIN: &str = "1.3.6.1.2.1.2.2.1.7";
    pub const IF_OPER: &str = "1.3.6.1.2.1.2.2.1.8";
    pub const IF_LAST_CHANGE: &str = "1.3.6.1.2.1.2.2.1.9";
    pub const IF_IN_OCTETS: &str = "1.3.6.1.2.1.2.2.1.10";
    pub const IF_IN_ERRORS: &str = "1.3.6.1.2.1.2.2.1.14";
    pub const IF_OUT_OCTETS: &str = "1.3.6.1.2.1.2.2.1.16";
    pub const IF_OUT_ERRORS: &str = "1.3.6.1.2.1.2.2.1.20";
    pub const IF_NAME: &str = "1.3.6.1.2.1.31.1.1.1.1";
    pub const IF_HC_IN: &str = "1.3.6.1.2.1.31.1.1.1.6";
    pub const IF_HC_OUT: &str = "1.3.6.1.2.1.31.1.1.1.10";
    pub const IF_DISCONTINUITY: &str = "1.3.6.1.2.1.31.1.1.1.19";
    /// Walked together in one multi-column GETBULK walk.
    pub const IF_COLUMNS: [&str; 12] = [
        IF_DESCR,
        IF_ADMIN,
        IF_OPER,
        IF_LAST_CHANGE,
        IF_IN_OCTETS,
        IF_IN_ERRORS,
        IF_OUT_OCTETS,
        IF_OUT_ERRORS,
        IF_NAME,
        IF_HC_IN,
        IF_HC_OUT,
        IF_DISCONTINUITY,
    ];

    pub const LLDP_REM_CHASSIS: &str = "1.0.8802.1.1.2.1.4.1.1.5";
    pub const LLDP_REM_PORT_SUBTYPE: &str = "1.0.8802.1.1.2.1.4.1.1.6";
    pub const LLDP_REM_PORT_ID: &str = "1.0.8802.1.1.2.1.4.1.1.7";
    pub const LLDP_REM_SYSNAME: &str = "1.0.8802.1.1.2.1.4.1.1.9";
    pub const LLDP_LOC_PORT_ID: &str = "1.0.8802.1.1.2.1.3.7.1.3";
    pub const LLDP_COLUMNS: [&str; 5] = [
        LLDP_REM_CHASSIS,
        LLDP_REM_PORT_SUBTYPE,
        LLDP_REM_PORT_ID,
        LLDP_REM_SYSNAME,
        LLDP_LOC_PORT_ID,
    ];
}

/// What a poll remembers for the next one: enough for rates, reboot and flap detection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PollState {
    pub at: UnixMillis,
    pub sys_uptime_cs: Option<u64>,
    pub engine_boots: Option<u32>,
    pub hr_uptime_cs: Option<u64>,
    /// Per ifIndex.
    pub interfaces: BTreeMap<String, IfState>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IfState {
    pub oper: Option<IfStatus>,
    pub in_octets: Option<u64>,
    pub out_octets: Option<u64>,
    /// True when the octets came from 64-bit HC counters (no wrap handling needed).
    pub hc: bool,
    pub discontinuity_cs: Option<u64>,
}

/// sysDescr, sysObjectID, sysName, uptime.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SystemInfo {
    pub descr: String,
    pub object_id: String,
    pub name: String,
    pub uptime_cs: Option<u64>,
    pub engine_boots: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InterfaceReport {
    pub index: String,
    pub name: String,
    pub descr: String,
    pub oper: IfStatus,
    pub admin: IfStatus,
    pub last_change_cs: Option<u64>,
    /// ifLastChange is newer than the previous poll's sysUpTime: the interface changed state
    /// at least once since then, even if it reads the same now (a flap).
    pub changed_since_last_poll: bool,
    pub in_bps: Option<f64>,
    pub out_bps: Option<f64>,
    pub in_errors: Option<u64>,
    pub out_errors: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HaReport {
    pub role: HaRole,
    pub peer: Option<HaRole>,
    pub in_sync: Option<bool>,
    /// The vendor value the role was mapped from (for humans debugging a profile).
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LldpNeighbor {
    pub local_port_num: String,
    pub local_port: Option<String>,
    pub remote_sysname: String,
    pub remote_port_id: String,
    pub remote_chassis_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PollErrorReport {
    pub kind: PollFailure,
    pub message: String,
}

/// What one poll of one device saw, for the CLI and the collector's API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceReport {
    pub device_id: String,
    pub address: String,
    pub version: String,
    pub profile: Option<String>,
    pub system: Option<SystemInfo>,
    pub interfaces: Vec<InterfaceReport>,
    pub ha: Option<HaReport>,
    pub neighbors: Vec<LldpNeighbor>,
    /// Some(cold) when this poll detected a restart since the previous one.
    pub rebooted: Option<bool>,
    pub errors: Vec<PollErrorReport>,
    /// Standby-readiness facts read in this poll, in check order.
    pub readiness: Vec<ReadinessReport>,
    pub elapsed_ms: u64,
    /// Varbinds received in this poll (all answers, including walk overshoot).
    pub varbinds: u64,
}

impl DeviceReport {
    /// A report of nothing read yet, for `decode` to fill (also what the fuzz target starts
    /// from, so that a new field never breaks it).
    pub fn empty(device_id: &str, address: String, version: &str) -> Self {
        DeviceReport {
            device_id: device_id.to_owned(),
            address,
            version: version.to_owned(),
            profile: None,
            system: None,
            interfaces: vec![],
            ha: None,
            neighbors: vec![],
            rebooted: None,
            errors: vec![],
            readiness: vec![],
            elapsed_ms: 0,
            varbinds: 0,
        }
    }

    /// The failure that made the whole poll fail, if it failed.
    pub fn failure(&self) -> Option<PollFailure> {
        if self.system.is_none() {
            self.errors.first().map(|e| e.kind)
        } else {
            None
        }
    }
}

/// Decode a successful poll. `report` already carries device id, address and version.
pub fn decode(
    mut report: DeviceReport,
    at: UnixMillis,
    raw: &RawPoll,
    profile: &Profile,
    prev: Option<&PollState>,
) -> (DeviceReport, Vec<Observation>, PollState) {
    let device = report.device_id.clone();
    let mut obs = vec![Observation::new(
        at,
        Subject::device(&device),
        Signal::AgentUp,
    )];
    let text = |oid: &str| raw.scalar(oid).map(SnmpValue::text).unwrap_or_default();
    let uptime = raw.scalar(oids::SYS_UPTIME).and_then(SnmpValue::as_u64);
    let boots = raw
        .scalar(oids::ENGINE_BOOTS)
        .and_then(SnmpValue::as_u64)
        .and_then(|b| u32::try_from(b).ok());
    let hr_uptime = raw
        .scalar(oids::HR_SYSTEM_UPTIME)
        .and_then(SnmpValue::as_u64);
    report.system = Some(SystemInfo {
        descr: text(oids::SYS_DESCR),
        object_id: text(oids::SYS_OBJECT_ID),
        name: text(oids::SYS_NAME),
        uptime_cs: uptime,
        engine_boots: boots,
    });
    report.profile = Some(profile.name.clone());
    if let Some(u) = uptime {
        obs.push(Observation::new(
            at,
            Subject::device(&device),
            Signal::Uptime {
                sys_uptime_cs: u,
                engine_boots: boots,
            },
        ));
    }

    let rebooted = prev.and_then(|p| detect_reboot(p, uptime, boots, hr_uptime));
    if let Some(cold) = rebooted {
        obs.push(Observation::new(
            at,
            Subject::device(&device),
            Signal::Rebooted { cold },
        ));
    }
    report.rebooted = rebooted;

    let mut state = PollState {
        at,
        sys_uptime_cs: uptime,
        engine_boots: boots,
        hr_uptime_cs: hr_uptime,
        interfaces: BTreeMap::new(),
    };
    decode_interfaces(
        &mut report,
        &mut obs,
        &mut state,
        at,
        raw,
        prev,
        rebooted.is_some(),
    );
    report.neighbors = decode_lldp(raw);
    if let Some(spec) = &profile.ha {
        report.ha = decode_ha(spec, raw);
        // A profile whose HA objects the device does not answer: the role is unknown (the
        // engine holds the group unknown, never silently up) and the poll says why.
        let (role, peer, in_sync) = match &report.ha {
            Some(ha) => (ha.role, ha.peer, ha.in_sync),
            None => {
                report.errors.push(PollErrorReport {
                    kind: PollFailure::ProfileMismatch,
                    message: format!(
                        "profile `{}`: the device does not answer its HA objects \
                         (noSuchObject); the profile does not match or the HA MIB is off",
                        profile.name
                    ),
                });
                (HaRole::Unknown, None, None)
            }
        };
        obs.push(Observation::new(
            at,
            Subject::device(&device),
            Signal::HaRole {
                role,
                peer,
                in_sync,
            },
        ));
    }
    (report, obs, state)
}

/// Reboot rule from snmp-signals.md: sysUpTime went backwards or snmpEngineBoots went up.
/// `Some(cold)`: cold unless hrSystemUptime shows the host kept running (agent restart only).
fn detect_reboot(
    prev: &PollState,
    uptime: Option<u64>,
    boots: Option<u32>,
    hr: Option<u64>,
) -> Option<bool> {
    let uptime_back = match (prev.sys_uptime_cs, uptime) {
        // sysUpTime is a 32-bit TimeTicks that wraps after 497 days: a drop from the top
        // quarter to the bottom quarter of the range is a wrap, not a restart.
        (Some(p), Some(n)) => n < p && !(p > 3 << 30 && n < 1 << 30),
        _ => false,
    };
    let boots_up = matches!((prev.engine_boots, boots), (Some(p), Some(n)) if n > p);
    if !(uptime_back || boots_up) {
        return None;
    }
    let host_kept_running = matches!((prev.hr_uptime_cs, hr), (Some(p), Some(n)) if n >= p);
    Some(!host_kept_running)
}

fn status(v: Option<&SnmpValue>) -> IfStatus {
    v.and_then(SnmpValue::as_i64)
        .map_or(IfStatus::Unknown, IfStatus::from_mib)
}

fn decode_interfaces(
    report: &mut DeviceReport,
    obs: &mut Vec<Observation>,
    state: &mut PollState,
    at: UnixMillis,
    raw: &RawPoll,
    prev: Option<&PollState>,
    rebooted: bool,
) {
    use oids::*;
    // Elapsed time between polls, preferring the agent's own clock (sysUpTime) over ours.
    let dt_secs = prev.and_then(|p| match (p.sys_uptime_cs, state.sys_uptime_cs) {
        (Some(a), Some(b)) if b > a => Some((b - a) as f64 / 100.0),
        _ if at > p.at => Some((at - p.at) as f64 / 1000.0),
        _ => None,
    });
    for idx in interface_indices(raw) {
        let (name, descr) = interface_names(raw, idx);
        let oper = status(raw.cell(IF_OPER, idx));
        let admin = status(raw.cell(IF_ADMIN, idx));
        let last_change = raw.cell(IF_LAST_CHANGE, idx).and_then(SnmpValue::as_u64);
        let now = interface_counters(raw, idx, oper);
        let (hc, disc) = (now.hc, now.discontinuity_cs);
        let (in_oct, out_oct) = (now.in_octets, now.out_octets);
        let before = prev.and_then(|p| p.interfaces.get(idx));

        let changed = match (prev.and_then(|p| p.sys_uptime_cs), last_change) {
            (Some(prev_up), Some(lc)) if !rebooted => lc > prev_up,
            _ => false,
        };
        let (in_bps, out_bps) = match (before, dt_secs) {
            (Some(b), Some(dt)) if !rebooted && b.discontinuity_cs == disc && b.hc == hc => (
                rate(b.in_octets, in_oct, hc, dt),
                rate(b.out_octets, out_oct, hc, dt),
            ),
            _ => (None, None),
        };
        let subject = Subject::interface(&report.device_id, &name);
        obs.push(Observation::new(
            at,
            subject.clone(),
            Signal::Interface {
                oper,
                admin,
                last_change_cs: last_change,
            },
        ));
        if let (Some(i), Some(o)) = (in_bps, out_bps) {
            obs.push(Observation::new(
                at,
                subject,
                Signal::Traffic {
                    in_bps: i,
                    out_bps: o,
                },
            ));
        }
        report.interfaces.push(InterfaceReport {
            index: idx.clone(),
            name,
            descr,
            oper,
            admin,
            last_change_cs: last_change,
            changed_since_last_poll: changed,
            in_bps,
            out_bps,
            in_errors: raw.cell(IF_IN_ERRORS, idx).and_then(SnmpValue::as_u64),
            out_errors: raw.cell(IF_OUT_ERRORS, idx).and_then(SnmpValue::as_u64),
        });
        state.interfaces.insert(idx.clone(), now);
    }
}

/// The interface rows of the walked ifTable/ifXTable, in numeric ifIndex order.
fn interface_indices(raw: &RawPoll) -> Vec<&String> {
    use oids::*;
    let mut indices: Vec<&String> = [IF_DESCR, IF_OPER, IF_NAME]
        .iter()
        .filter_map(|c| raw.column(c))
        .flat_map(|c| c.keys())
        .collect();
    // Numeric order, not string order ("10" after "9").
    indices.sort_by_cached_key(|i| (i.parse::<u64>().unwrap_or(u64::MAX), *i));
    indices.dedup();
    indices
}

/// `(name, descr)` of one interface: ifName, else ifDescr, else `ifIndex.N`.
fn interface_names(raw: &RawPoll, idx: &str) -> (String, String) {
    use oids::*;
    let descr = raw
        .cell(IF_DESCR, idx)
        .map(SnmpValue::text)
        .unwrap_or_default();
    let name = raw
        .cell(IF_NAME, idx)
        .map(SnmpValue::text)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            if descr.is_empty() {
                format!("ifIndex.{idx}")
            } else {
                descr.clone()
            }
        });
    (name, descr)
}

/// One interface's state to remember: its status and octet counters (64-bit when the agent
/// has both, else 32-bit) with their discontinuity time.
fn interface_counters(raw: &RawPoll, idx: &str, oper: IfStatus) -> IfState {
    use oids::*;
    let hc_in = raw.cell(IF_HC_IN, idx).and_then(SnmpValue::as_u64);
    let hc_out = raw.cell(IF_HC_OUT, idx).and_then(SnmpValue::as_u64);
    let hc = hc_in.is_some() && hc_out.is_some();
    let (in_octets, out_octets) = if hc {
        (hc_in, hc_out)
    } else {
        (
            raw.cell(IF_IN_OCTETS, idx).and_then(SnmpValue::as_u64),
            raw.cell(IF_OUT_OCTETS, idx).and_then(SnmpValue::as_u64),
        )
    };
    IfState {
        oper: Some(oper),
        in_octets,
        out_octets,
        hc,
        discontinuity_cs: raw.cell(IF_DISCONTINUITY, idx).and_then(SnmpValue::as_u64),
    }
}

/// Octets per second between two counter readings. A 32-bit counter that went down wrapped
/// (at 1 Gb/s it does so every 34 s); a 64-bit one that went down was reset, which gives no
/// rate rather than a fake spike (it cannot wrap in any realistic polling interval).
pub fn rate(before: Option<u64>, now: Option<u64>, hc: bool, dt_secs: f64) -> Option<f64> {
    let (b, n) = (before?, now?);
    if dt_secs <= 0.0 {
        return None;
    }
    let delta = if n >= b {
        n - b
    } else if !hc && b <= u64::from(u32::MAX) && n <= u64::from(u32::MAX) {
        (u64::from(u32::MAX) - b) + n + 1
    } else {
        return None;
    };
    Some(delta as f64 / dt_secs)
}

fn decode_lldp(raw: &RawPoll) -> Vec<LldpNeighbor> {
    use oids::*;
    let Some(names) = raw
        .column(LLDP_REM_SYSNAME)
        .or_else(|| raw.column(LLDP_REM_PORT_ID))
    else {
        return vec![];
    };
    names
        .keys()
        .map(|idx| {
            // Index = lldpRemTimeMark.lldpRemLocalPortNum.lldpRemIndex
            let local = idx.split('.').nth(1).unwrap_or_default().to_owned();
            let subtype = raw
                .cell(LLDP_REM_PORT_SUBTYPE, idx)
                .and_then(SnmpValue::as_i64);
            let port = raw.cell(LLDP_REM_PORT_ID, idx).map(|v| match (subtype, v) {
                // macAddress(3): render as a MAC, not as garbage text.
                (Some(3), SnmpValue::Bytes(b)) => hex(b, ":"),
                (_, v) => printable_or_hex(v),
            });
            LldpNeighbor {
                local_port: raw.cell(LLDP_LOC_PORT_ID, &local).map(printable_or_hex),
                local_port_num: local,
                remote_sysname: raw
                    .cell(LLDP_REM_SYSNAME, idx)
                    .map(SnmpValue::text)
                    .unwrap_or_default(),
                remote_port_id: port.unwrap_or_default(),
                remote_chassis_id: raw
                    .cell(LLDP_REM_CHASSIS, idx)
                    .map(printable_or_hex)
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// An id as announced (LLDP chassis and port ids): printable ASCII as text, anything else as
/// colon-separated hex.
pub fn printable_or_hex(v: &SnmpValue) -> String {
    match v {
        SnmpValue::Bytes(b) if !b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') => hex(b, ":"),
        v => v.text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profiles;
    use proptest::prelude::*;

    fn raw_device(uptime: u64, boots: u64, ifs: &[(&str, i64, u64, u64)]) -> RawPoll {
        let mut r = RawPoll::default();
        r.scalars
            .insert(oids::SYS_NAME.into(), SnmpValue::Bytes(b"sw1".to_vec()));
        r.scalars.insert(
            oids::SYS_OBJECT_ID.into(),
            SnmpValue::Oid("1.3.6.1.4.1.8072.3.2.10".into()),
        );
        r.scalars
            .insert(oids::SYS_UPTIME.into(), SnmpValue::Uint(uptime));
        r.scalars
            .insert(oids::ENGINE_BOOTS.into(), SnmpValue::Uint(boots));
        for (idx, oper, last_change, octets) in ifs {
            let mut put = |col: &str, v: SnmpValue| {
                r.columns
                    .entry(col.to_owned())
                    .or_default()
                    .insert((*idx).to_owned(), v);
            };
            put(
                oids::IF_DESCR,
                SnmpValue::Bytes(format!("eth{idx}").into_bytes()),
            );
            put(oids::IF_OPER, SnmpValue::Int(*oper));
            put(oids::IF_ADMIN, SnmpValue::Int(1));
            put(oids::IF_LAST_CHANGE, SnmpValue::Uint(*last_change));
            put(oids::IF_HC_IN, SnmpValue::Uint(*octets));
            put(oids::IF_HC_OUT, SnmpValue::Uint(*octets / 2));
        }
        r
    }

    fn run(
        raw: &RawPoll,
        prev: Option<&PollState>,
        at: u64,
    ) -> (DeviceReport, Vec<Observation>, PollState) {
        let profile = Profiles::embedded().get("generic").cloned().unwrap();
        decode(
            DeviceReport::empty("sw1", "192.0.2.1:161".into(), "v2c"),
            at,
            raw,
            &profile,
            prev,
        )
    }

    #[test]
    fn rates_from_hc_counters_use_agent_uptime() {
        let (_, _, s1) = run(
            &raw_device(10_000, 1, &[("1", 1, 0, 1_000_000)]),
            None,
            1_000,
        );
        // 10 s later by sysUpTime (1000 cs), 2,000,000 octets more in.
        let (r, obs, _) = run(
            &raw_device(11_000, 1, &[("1", 1, 0, 3_000_000)]),
            Some(&s1),
            99_999,
        );
        assert_eq!(r.interfaces[0].in_bps, Some(200_000.0));
        assert_eq!(r.interfaces[0].out_bps, Some(100_000.0));
        assert!(
            obs.iter()
                .any(|o| matches!(o.signal, Signal::Traffic { in_bps, .. } if in_bps == 200_000.0))
        );
        assert_eq!(r.rebooted, None);
    }

    #[test]
    fn reboot_by_uptime_or_engine_boots_and_no_fake_rate() {
        let (_, _, s1) = run(&raw_device(500_000, 4, &[("1", 1, 0, 9_000_000)]), None, 0);
        let (r, obs, _) = run(&raw_device(300, 5, &[("1", 1, 0, 10)]), Some(&s1), 60_000);
        assert_eq!(r.rebooted, Some(true));
        assert!(
            obs.iter()
                .any(|o| o.signal == Signal::Rebooted { cold: true })
        );
        assert_eq!(r.interfaces[0].in_bps, None, "no rate across a reboot");
        // Engine boots alone (agent restart with uptime that happens to be larger).
        let (r, _, _) = run(&raw_device(600_000, 5, &[]), Some(&s1), 60_000);
        assert_eq!(r.rebooted, Some(true));
        // sysUpTime wrapping after 497 days is not a reboot.
        let (_, _, s_hi) = run(&raw_device(u64::from(u32::MAX) - 100, 4, &[]), None, 0);
        let (r, _, _) = run(&raw_device(500, 4, &[]), Some(&s_hi), 60_000);
        assert_eq!(r.rebooted, None);
    }

    #[test]
    fn agent_restart_with_host_uptime_running_is_warm() {
        let mut a = raw_device(500_000, 4, &[]);
        a.scalars
            .insert(oids::HR_SYSTEM_UPTIME.into(), SnmpValue::Uint(900_000));
        let (_, _, s1) = run(&a, None, 0);
        let mut b = raw_device(100, 5, &[]);
        b.scalars
            .insert(oids::HR_SYSTEM_UPTIME.into(), SnmpValue::Uint(906_000));
        assert_eq!(run(&b, Some(&s1), 60_000).0.rebooted, Some(false));
    }

    #[test]
    fn flap_between_polls_is_seen_through_if_last_change() {
        let (_, _, s1) = run(
            &raw_device(10_000, 1, &[("1", 1, 500, 0), ("2", 1, 500, 0)]),
            None,
            0,
        );
        // Interface 1 went down and up again between polls (ifLastChange 10,500 > 10,000);
        // interface 2 did not change.
        let (r, _, _) = run(
            &raw_device(16_000, 1, &[("1", 1, 10_500, 0), ("2", 1, 500, 0)]),
            Some(&s1),
            60_000,
        );
        assert!(r.interfaces[0].changed_since_last_poll);
        assert_eq!(r.interfaces[0].oper, IfStatus::Up);
        assert!(!r.interfaces[1].changed_since_last_poll);
    }

    #[test]
    fn counter_wrap_and_reset() {
        // Counter32 wrapped: 100 octets before the top, 50 after.
        assert_eq!(
            rate(Some(u64::from(u32::MAX) - 99), Some(50), false, 1.0),
            Some(150.0)
        );
        // Counter64 going down is a reset, not a wrap: no rate.
        assert_eq!(rate(Some(1_000), Some(10), true, 1.0), None);
        assert_eq!(rate(Some(10), Some(10), true, 0.0), None);
    }

    #[test]
    fn discontinuity_time_change_suppresses_the_rate() {
        let mut a = raw_device(10_000, 1, &[("1", 1, 0, 1_000)]);
        a.columns
            .entry(oids::IF_DISCONTINUITY.into())
            .or_default()
            .insert("1".into(), SnmpValue::Uint(0));
        let (_, _, s1) = run(&a, None, 0);
        let mut b = raw_device(11_000, 1, &[("1", 1, 0, 5_000_000)]);
        b.columns
            .entry(oids::IF_DISCONTINUITY.into())
            .or_default()
            .insert("1".into(), SnmpValue::Uint(10_500));
        assert_eq!(run(&b, Some(&s1), 10_000).0.interfaces[0].in_bps, None);
    }

    #[test]
    fn ha_profiles_map_vendor_values() {
        let p = Profiles::embedded();
        let spec = |n: &str| p.get(n).and_then(|p| p.ha.clone()).unwrap();
        // PAN-OS strings, case-insensitive.
        let mut r = RawPoll::default();
        r.scalars.insert(
            "1.3.6.1.4.1.25461.2.1.2.1.11.0".into(),
            SnmpValue::Bytes(b"Active".to_vec()),
        );
        r.scalars.insert(
            "1.3.6.1.4.1.25461.2.1.2.1.12.0".into(),
            SnmpValue::Bytes(b"passive".to_vec()),
        );
        r.scalars.insert(
            "1.3.6.1.4.1.25461.2.1.2.1.13.0".into(),
            SnmpValue::Bytes(b"active-passive".to_vec()),
        );
        let ha = decode_ha(&spec("paloalto"), &r).unwrap();
        assert_eq!((ha.role, ha.peer), (HaRole::Active, Some(HaRole::Standby)));
        // Cisco ASA: this unit is the secondary row (7), active after a failover.
        let mut r = RawPoll::default();
        let col = |c: &str| format!("1.3.6.1.4.1.9.9.147.1.2.1.1.1.{c}");
        for (idx, info, status) in [
            ("4", "Failover LAN Interface", 2),
            ("6", "Primary unit", 10),
            ("7", "Secondary unit (this device)", 9),
        ] {
            r.columns
                .entry(col("2"))
                .or_default()
                .insert(idx.into(), SnmpValue::Bytes(info.as_bytes().to_vec()));
            r.columns
                .entry(col("3"))
                .or_default()
                .insert(idx.into(), SnmpValue::Int(status));
        }
        let ha = decode_ha(&spec("cisco-asa"), &r).unwrap();
        assert_eq!((ha.role, ha.peer), (HaRole::Active, Some(HaRole::Standby)));
        // keepalived: instances of one member disagree -> transition; one fault -> failed.
        let mut r = RawPoll::default();
        let c = "1.3.6.1.4.1.9586.100.5.2.3.1.4".to_owned();
        r.columns
            .entry(c.clone())
            .or_default()
            .insert("1".into(), SnmpValue::Int(2));
        r.columns
            .entry(c.clone())
            .or_default()
            .insert("2".into(), SnmpValue::Int(1));
        assert_eq!(
            decode_ha(&spec("keepalived"), &r).unwrap().role,
            HaRole::Transition
        );
        r.columns
            .entry(c)
            .or_default()
            .insert("3".into(), SnmpValue::Int(3));
        assert_eq!(
            decode_ha(&spec("keepalived"), &r).unwrap().role,
            HaRole::Failed
        );
        // VRRPv3 fallback column when RFC 2787 rows are absent; unknown values stay unknown.
        let mut r = RawPoll::default();
        r.columns
            .entry("1.3.6.1.2.1.207.1.1.1.1.6".into())
            .or_default()
            .insert("1.1.4".into(), SnmpValue::Int(3));
        assert_eq!(decode_ha(&spec("vrrp"), &r).unwrap().role, HaRole::Active);
        r.columns
            .entry("1.3.6.1.2.1.207.1.1.1.1.6".into())
            .or_default()
            .insert("1.1.4".into(), SnmpValue::Int(77));
        assert_eq!(decode_ha(&spec("vrrp"), &r).unwrap().role, HaRole::Unknown);
        // No HA objects at all: no HA report.
        assert!(decode_ha(&spec("juniper"), &RawPoll::default()).is_none());
    }

    #[test]
    fn fortigate_out_of_sync_when_checksums_differ() {
        let p = Profiles::embedded();
        let spec = p.get("fortigate").and_then(|p| p.ha.clone()).unwrap();
        let mut r = RawPoll::default();
        let col = |c: &str| format!("1.3.6.1.4.1.12356.101.13.2.1.1.{c}");
        r.scalars
            .insert("1.3.6.1.4.1.12356.101.13.1.1.0".into(), SnmpValue::Int(3));
        r.scalars.insert(
            "1.3.6.1.4.1.12356.100.1.1.1.0".into(),
            SnmpValue::Bytes(b"FGB".to_vec()),
        );
        for (idx, serial, sync, sum) in [("1", "FGA", 1, "aa"), ("2", "FGB", 1, "bb")] {
            r.columns
                .entry(col("2"))
                .or_default()
                .insert(idx.into(), SnmpValue::Bytes(serial.as_bytes().to_vec()));
            r.columns
                .entry(col("12"))
                .or_default()
                .insert(idx.into(), SnmpValue::Int(sync));
            r.columns
                .entry(col("15"))
                .or_default()
                .insert(idx.into(), SnmpValue::Bytes(sum.as_bytes().to_vec()));
            r.columns
                .entry(col("16"))
                .or_default()
                .insert(idx.into(), SnmpValue::Bytes(b"FGA".to_vec()));
        }
        let ha = decode_ha(&spec, &r).unwrap();
        assert_eq!(
            (ha.role, ha.peer, ha.in_sync),
            (HaRole::Standby, Some(HaRole::Active), Some(false))
        );
        r.scalars
            .insert("1.3.6.1.4.1.12356.101.13.1.1.0".into(), SnmpValue::Int(1));
        assert_eq!(decode_ha(&spec, &r).unwrap().role, HaRole::Standalone);
    }

    fn value() -> impl Strategy<Value = SnmpValue> {
        prop_oneof![
            any::<i64>().prop_map(SnmpValue::Int),
            any::<u64>().prop_map(SnmpValue::Uint),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(SnmpValue::Bytes),
            "[0-9.]{0,20}".prop_map(SnmpValue::Oid),
        ]
    }

    proptest! {
        // Whatever an agent puts in any object we read, decoding (with any previous state and
        // any profile) returns a report and never panics.
        #[test]
        fn decode_never_panics(
            cells in proptest::collection::vec((0usize..40, "[0-9]{1,3}(\\.[0-9]{1,4}){0,3}", value()), 0..60),
            scalars in proptest::collection::vec((0usize..12, value()), 0..12),
            prev_uptime in proptest::option::of(any::<u64>()),
        ) {
            let p = Profiles::embedded();
            let mut cols: Vec<String> = oids::IF_COLUMNS.iter().chain(oids::LLDP_COLUMNS.iter()).map(|s| s.to_string()).collect();
            let mut scal: Vec<String> = oids::SYSTEM.iter().chain(oids::OPTIONAL_SCALARS.iter()).map(|s| s.to_string()).collect();
            for prof in p.names().filter_map(|n| p.get(n)) {
                if let Some(ha) = &prof.ha {
                    let (s, c) = ha.objects();
                    scal.extend(s.into_iter().map(String::from));
                    cols.extend(c.into_iter().map(String::from));
                }
            }
            let mut raw = RawPoll::default();
            for (c, idx, v) in cells {
                raw.columns.entry(cols[c % cols.len()].clone()).or_default().insert(idx, v);
            }
            for (s, v) in scalars {
                raw.scalars.insert(scal[s % scal.len()].clone(), v);
            }
            let prev = PollState { sys_uptime_cs: prev_uptime, ..PollState::default() };
            for name in p.names() {
                let profile = p.get(name).unwrap();
                let (r, obs, _) = decode(DeviceReport::empty("d", "a".into(), "v2c"), 1, &raw, profile, Some(&prev));
                prop_assert!(!obs.is_empty());
                prop_assert!(r.system.is_some());
            }
        }
    }
}
