//! LLDP-MIB (IEEE 802.1AB) and CISCO-CDP-MIB: the objects discovery reads, and the pure
//! decoding of one device's answers into an [`LldpView`]. No I/O: fixtures test it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use faultline_observe::octets::hex;
use faultline_snmp::decode::{RawPoll, SnmpValue, printable_or_hex};
use serde::Serialize;

/// Object identifiers read by discovery.
pub mod oids {
    pub const LOC_CHASSIS_SUBTYPE: &str = "1.0.8802.1.1.2.1.3.1.0";
    pub const LOC_CHASSIS_ID: &str = "1.0.8802.1.1.2.1.3.2.0";
    pub const LOC_SYS_NAME: &str = "1.0.8802.1.1.2.1.3.3.0";
    pub const LOC_SYS_CAP_ENABLED: &str = "1.0.8802.1.1.2.1.3.6.0";
    /// Scalars of the local system, read in one GET.
    pub const LOC_SCALARS: [&str; 4] = [
        LOC_CHASSIS_SUBTYPE,
        LOC_CHASSIS_ID,
        LOC_SYS_NAME,
        LOC_SYS_CAP_ENABLED,
    ];

    pub const LOC_PORT_SUBTYPE: &str = "1.0.8802.1.1.2.1.3.7.1.2";
    pub const LOC_PORT_ID: &str = "1.0.8802.1.1.2.1.3.7.1.3";
    pub const LOC_PORT_DESC: &str = "1.0.8802.1.1.2.1.3.7.1.4";
    /// lldpLocPortTable.
    pub const LOC_PORT_COLUMNS: [&str; 3] = [LOC_PORT_SUBTYPE, LOC_PORT_ID, LOC_PORT_DESC];

    pub const REM_CHASSIS_SUBTYPE: &str = "1.0.8802.1.1.2.1.4.1.1.4";
    pub const REM_CHASSIS_ID: &str = "1.0.8802.1.1.2.1.4.1.1.5";
    pub const REM_PORT_SUBTYPE: &str = "1.0.8802.1.1.2.1.4.1.1.6";
    pub const REM_PORT_ID: &str = "1.0.8802.1.1.2.1.4.1.1.7";
    pub const REM_PORT_DESC: &str = "1.0.8802.1.1.2.1.4.1.1.8";
    pub const REM_SYS_NAME: &str = "1.0.8802.1.1.2.1.4.1.1.9";
    pub const REM_SYS_CAP_ENABLED: &str = "1.0.8802.1.1.2.1.4.1.1.12";
    /// lldpRemTable.
    pub const REM_COLUMNS: [&str; 7] = [
        REM_CHASSIS_SUBTYPE,
        REM_CHASSIS_ID,
        REM_PORT_SUBTYPE,
        REM_PORT_ID,
        REM_PORT_DESC,
        REM_SYS_NAME,
        REM_SYS_CAP_ENABLED,
    ];

    /// lldpRemManAddrIfSubtype: every row exists, and its index carries the address.
    pub const REM_MAN_ADDR_IF_SUBTYPE: &str = "1.0.8802.1.1.2.1.4.2.1.3";
    pub const REM_MAN_ADDR_COLUMNS: [&str; 1] = [REM_MAN_ADDR_IF_SUBTYPE];

    pub const CDP_ADDRESS_TYPE: &str = "1.3.6.1.4.1.9.9.23.1.2.1.1.3";
    pub const CDP_ADDRESS: &str = "1.3.6.1.4.1.9.9.23.1.2.1.1.4";
    pub const CDP_DEVICE_ID: &str = "1.3.6.1.4.1.9.9.23.1.2.1.1.6";
    pub const CDP_DEVICE_PORT: &str = "1.3.6.1.4.1.9.9.23.1.2.1.1.7";
    pub const CDP_CAPABILITIES: &str = "1.3.6.1.4.1.9.9.23.1.2.1.1.9";
    /// cdpCacheTable.
    pub const CDP_COLUMNS: [&str; 5] = [
        CDP_ADDRESS_TYPE,
        CDP_ADDRESS,
        CDP_DEVICE_ID,
        CDP_DEVICE_PORT,
        CDP_CAPABILITIES,
    ];

    /// The table walks of one device, each group walked side by side.
    pub const WALKS: [&[&str]; 4] = [
        &LOC_PORT_COLUMNS,
        &REM_COLUMNS,
        &REM_MAN_ADDR_COLUMNS,
        &CDP_COLUMNS,
    ];
}

/// LLDP's PortIdSubtype values that discovery treats specially.
pub mod port_subtype {
    pub const INTERFACE_ALIAS: i64 = 1;
    pub const MAC_ADDRESS: i64 = 3;
    pub const INTERFACE_NAME: i64 = 5;
    pub const LOCAL: i64 = 7;
}

/// A port as announced: subtype and the id rendered as text (a MAC as `aa:bb:..`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortId {
    pub subtype: i64,
    pub id: String,
}

/// System capabilities (LLDP `lldpSysCapEnabled` bits, or CDP's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Caps {
    pub router: bool,
    pub bridge: bool,
    pub wlan: bool,
    pub station: bool,
    pub telephone: bool,
}

impl Caps {
    /// From an LLDP `LldpSystemCapabilitiesMap` (BITS: bit 0 is the first octet's MSB):
    /// other(0) repeater(1) bridge(2) wlanAccessPoint(3) router(4) telephone(5)
    /// docsisCableDevice(6) stationOnly(7).
    pub fn from_lldp_bits(bits: &[u8]) -> Caps {
        let bit = |n: usize| bits.get(n / 8).is_some_and(|b| b & (0x80 >> (n % 8)) != 0);
        Caps {
            bridge: bit(2),
            wlan: bit(3),
            router: bit(4),
            telephone: bit(5),
            station: bit(7),
        }
    }

    /// From cdpCacheCapabilities (four octets, big-endian flags: 0x01 router, 0x02 and 0x04
    /// bridges, 0x08 switch, 0x10 host, 0x80 phone).
    pub fn from_cdp(bytes: &[u8]) -> Caps {
        let v = bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        Caps {
            router: v & 0x01 != 0,
            bridge: v & 0x0e != 0,
            wlan: false,
            station: v & 0x10 != 0,
            telephone: v & 0x80 != 0,
        }
    }

    /// The names of the set capabilities, for comments.
    pub fn names(self) -> Vec<&'static str> {
        [
            (self.router, "router"),
            (self.bridge, "bridge"),
            (self.wlan, "wlan"),
            (self.station, "station"),
            (self.telephone, "telephone"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect()
    }
}

/// Where a neighbour entry was seen on the local device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum LocalRef {
    /// lldpRemLocalPortNum: a row of lldpLocPortTable.
    LldpPort(String),
    /// cdpCacheIfIndex: an ifIndex.
    IfIndex(String),
}

/// Which protocol a neighbour entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Lldp,
    Cdp,
}

/// One neighbour entry of a device's table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remote {
    pub protocol: Protocol,
    pub local: LocalRef,
    /// Chassis id as `subtype:rendered` (empty for CDP).
    pub chassis: String,
    pub port: PortId,
    pub port_desc: String,
    pub sys_name: String,
    pub caps: Caps,
    pub mgmt: Vec<IpAddr>,
}

/// One row of lldpLocPortTable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalPort {
    pub id: PortId,
    pub desc: String,
}

/// What one device's LLDP and CDP tables say.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LldpView {
    /// lldpLocChassisId as `subtype:rendered`.
    pub chassis: Option<String>,
    pub sys_name: Option<String>,
    pub caps: Caps,
    /// lldpLocPortNum → port.
    pub local_ports: BTreeMap<String, LocalPort>,
    pub remotes: Vec<Remote>,
}

/// Decode one device's answers.
pub fn decode(raw: &RawPoll) -> LldpView {
    use oids::*;
    let chassis = raw.scalar(LOC_CHASSIS_ID).map(|id| {
        let subtype = raw
            .scalar(LOC_CHASSIS_SUBTYPE)
            .and_then(SnmpValue::as_i64)
            .unwrap_or(0);
        chassis_key(subtype, id)
    });
    let local_ports = raw
        .column(LOC_PORT_ID)
        .map(|col| {
            col.iter()
                .map(|(num, id)| {
                    let subtype = int(raw, LOC_PORT_SUBTYPE, num);
                    let port = LocalPort {
                        id: port_id(subtype, id),
                        desc: text(raw, LOC_PORT_DESC, num),
                    };
                    (num.clone(), port)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut remotes = lldp_remotes(raw);
    remotes.extend(cdp_remotes(raw));
    LldpView {
        chassis,
        sys_name: raw
            .scalar(LOC_SYS_NAME)
            .map(SnmpValue::text)
            .filter(|s| !s.is_empty()),
        caps: raw
            .scalar(LOC_SYS_CAP_ENABLED)
            .map(|v| Caps::from_lldp_bits(bytes(v)))
            .unwrap_or_default(),
        local_ports,
        remotes,
    }
}

/// `subtype:id`, the id a MAC (4) rendered as hex, others as text when printable.
fn chassis_key(subtype: i64, v: &SnmpValue) -> String {
    let shown = match (subtype, v) {
        (4, SnmpValue::Bytes(b)) => hex(b, ":"),
        (_, v) => printable_or_hex(v),
    };
    format!("{subtype}:{shown}")
}

fn port_id(subtype: i64, v: &SnmpValue) -> PortId {
    let id = match (subtype, v) {
        (port_subtype::MAC_ADDRESS, SnmpValue::Bytes(b)) => hex(b, ":"),
        (_, v) => printable_or_hex(v),
    };
    PortId { subtype, id }
}

/// lldpRemTable rows (index `timeMark.localPortNum.remIndex`) with their management
/// addresses (lldpRemManAddrTable index `timeMark.localPortNum.remIndex.subtype.len.bytes`).
fn lldp_remotes(raw: &RawPoll) -> Vec<Remote> {
    use oids::*;
    let Some(rows) = raw.column(REM_PORT_ID).or_else(|| raw.column(REM_SYS_NAME)) else {
        return vec![];
    };
    let addrs = management_addresses(raw);
    rows.keys()
        .map(|idx| {
            let mut parts = idx.splitn(3, '.');
            let (_time, local, rem) = (parts.next(), parts.next(), parts.next());
            let local = local.unwrap_or_default().to_owned();
            let key = format!("{local}.{}", rem.unwrap_or_default());
            let port = raw
                .cell(REM_PORT_ID, idx)
                .map(|v| port_id(int(raw, REM_PORT_SUBTYPE, idx), v))
                .unwrap_or(PortId {
                    subtype: 0,
                    id: String::new(),
                });
            Remote {
                protocol: Protocol::Lldp,
                local: LocalRef::LldpPort(local),
                chassis: raw
                    .cell(REM_CHASSIS_ID, idx)
                    .map(|v| chassis_key(int(raw, REM_CHASSIS_SUBTYPE, idx), v))
                    .unwrap_or_default(),
                port,
                port_desc: text(raw, REM_PORT_DESC, idx),
                sys_name: text(raw, REM_SYS_NAME, idx),
                caps: raw
                    .cell(REM_SYS_CAP_ENABLED, idx)
                    .map(|v| Caps::from_lldp_bits(bytes(v)))
                    .unwrap_or_default(),
                mgmt: addrs.get(&key).cloned().unwrap_or_default(),
            }
        })
        .collect()
}

/// `localPortNum.remIndex` → the neighbour's IPv4/IPv6 management addresses.
fn management_addresses(raw: &RawPoll) -> BTreeMap<String, Vec<IpAddr>> {
    let mut out: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
    let Some(col) = raw.column(oids::REM_MAN_ADDR_IF_SUBTYPE) else {
        return out;
    };
    for idx in col.keys() {
        // timeMark . localPort . remIndex . addrSubtype . length . bytes...
        let parts: Vec<&str> = idx.split('.').collect();
        let Some(ip) = ip_from_index(&parts) else {
            continue;
        };
        let key = format!("{}.{}", parts[1], parts[2]);
        let list = out.entry(key).or_default();
        if !list.contains(&ip) {
            list.push(ip);
        }
    }
    out
}

/// The address in a lldpRemManAddrTable index: subtype 1 (IPv4, 4 octets) or 2 (IPv6, 16).
fn ip_from_index(parts: &[&str]) -> Option<IpAddr> {
    let subtype: u32 = parts.get(3)?.parse().ok()?;
    let len: usize = parts.get(4)?.parse().ok()?;
    let octets: Vec<u8> = parts
        .get(5..)?
        .iter()
        .map(|p| p.parse::<u8>().ok())
        .collect::<Option<_>>()?;
    if octets.len() != len {
        return None;
    }
    ip_from_octets(subtype, &octets)
}

fn ip_from_octets(family: u32, b: &[u8]) -> Option<IpAddr> {
    match (family, b.len()) {
        (1, 4) => Some(IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
        (2, 16) => Some(IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => None,
    }
}

/// cdpCacheTable rows (index `ifIndex.deviceIndex`). The port is announced by name.
fn cdp_remotes(raw: &RawPoll) -> Vec<Remote> {
    use oids::*;
    let Some(rows) = raw.column(CDP_DEVICE_ID) else {
        return vec![];
    };
    rows.iter()
        .map(|(idx, device)| {
            let if_index = idx.split('.').next().unwrap_or_default().to_owned();
            // cdpCacheAddressType 1 = ip.
            let mgmt = match (
                raw.cell(CDP_ADDRESS_TYPE, idx).and_then(SnmpValue::as_i64),
                raw.cell(CDP_ADDRESS, idx),
            ) {
                (Some(1), Some(SnmpValue::Bytes(b))) => ip_from_octets(1, b).into_iter().collect(),
                _ => vec![],
            };
            let port = text(raw, CDP_DEVICE_PORT, idx);
            Remote {
                protocol: Protocol::Cdp,
                local: LocalRef::IfIndex(if_index),
                chassis: String::new(),
                port: PortId {
                    subtype: port_subtype::INTERFACE_NAME,
                    id: port.clone(),
                },
                port_desc: port,
                sys_name: device.text(),
                caps: raw
                    .cell(CDP_CAPABILITIES, idx)
                    .map(|v| Caps::from_cdp(bytes(v)))
                    .unwrap_or_default(),
                mgmt,
            }
        })
        .collect()
}

fn int(raw: &RawPoll, column: &str, idx: &str) -> i64 {
    raw.cell(column, idx)
        .and_then(SnmpValue::as_i64)
        .unwrap_or(0)
}

fn text(raw: &RawPoll, column: &str, idx: &str) -> String {
    raw.cell(column, idx)
        .map(SnmpValue::text)
        .unwrap_or_default()
}

fn bytes(v: &SnmpValue) -> &[u8] {
    match v {
        SnmpValue::Bytes(b) => b,
        _ => &[],
    }
}
