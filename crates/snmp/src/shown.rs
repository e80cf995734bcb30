//! Varbinds as net-snmp's `snmpget`/`snmpwalk` print them (`faultline get`, `faultline walk`):
//! `IF-MIB::ifOperStatus.3 = INTEGER: up(1)`, names from [`crate::names`].

use serde::Serialize;

use crate::names;

/// One varbind as shown to an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShownVarbind {
    /// Numeric OID, no leading dot.
    pub oid: String,
    /// `MODULE::name.instance` by the longest known prefix; `None` when no prefix is known.
    pub name: Option<String>,
    /// net-snmp's type tag: `INTEGER`, `STRING`, `Hex-STRING`, `OID`, `Timeticks`, `Counter32`,
    /// `Counter64`, `Gauge32`, `IpAddress`, ...; for exceptions `noSuchObject`,
    /// `noSuchInstance`, `endOfMibView`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The value as net-snmp prints it after the type (`up(1)`, `(97) 0:00:00.97`, `fw-a`);
    /// for an OID value its name (the numeric form is in `oid_value`).
    pub value: String,
    /// The number itself, for integer types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<serde_json::Number>,
    /// For an OID value, its numeric form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oid_value: Option<String>,
}

impl ShownVarbind {
    /// Show `value` found at `oid`.
    pub fn new(oid: &async_snmp::Oid, value: &async_snmp::Value) -> ShownVarbind {
        use async_snmp::Value as V;
        let oid = oid.to_string();
        let (kind, value_text, number, oid_value) = match value {
            V::Integer(i) => {
                let i = i64::from(*i);
                let text = match names::enum_label(&oid, i) {
                    Some(label) => format!("{label}({i})"),
                    None => i.to_string(),
                };
                ("INTEGER", text, Some(i.into()), None)
            }
            V::OctetString(b) => octets("STRING", b),
            V::Opaque(b) => ("OPAQUE", hex(b), None, None),
            V::Nsap(b) => ("NetworkAddress", hex(b), None, None),
            V::Null => ("NULL", String::new(), None, None),
            V::ObjectIdentifier(o) => {
                let numeric = o.to_string();
                ("OID", names::display(&numeric), None, Some(numeric))
            }
            V::IpAddress(a) => (
                "IpAddress",
                std::net::Ipv4Addr::from(*a).to_string(),
                None,
                None,
            ),
            V::Counter32(u) => ("Counter32", u.to_string(), Some((*u).into()), None),
            V::Gauge32(u) => ("Gauge32", u.to_string(), Some((*u).into()), None),
            V::UInteger32(u) => ("UInteger32", u.to_string(), Some((*u).into()), None),
            V::TimeTicks(t) => ("Timeticks", timeticks(*t), Some((*t).into()), None),
            V::Counter64(u) => ("Counter64", u.to_string(), Some((*u).into()), None),
            V::NoSuchObject => ("noSuchObject", String::new(), None, None),
            V::NoSuchInstance => ("noSuchInstance", String::new(), None, None),
            V::EndOfMibView => ("endOfMibView", String::new(), None, None),
            other => ("UNKNOWN", other.to_string(), None, None),
        };
        ShownVarbind {
            name: names::lookup(&oid).map(|_| names::display(&oid)),
            oid,
            kind,
            value: value_text,
            number,
            oid_value,
        }
    }

    /// The line net-snmp prints; `numeric` is `-On` (OIDs numeric, values still labelled).
    pub fn line(&self, numeric: bool) -> String {
        let oid = match (&self.name, numeric) {
            (Some(name), false) => name.clone(),
            _ => names::numeric_display(&self.oid),
        };
        let value = match self.kind {
            "noSuchObject" => {
                return format!("{oid} = No Such Object available on this agent at this OID");
            }
            "noSuchInstance" => {
                return format!("{oid} = No Such Instance currently exists at this OID");
            }
            "endOfMibView" => {
                return format!(
                    "{oid} = No more variables left in this MIB View (It is past the end of the MIB tree)"
                );
            }
            "NULL" => return format!("{oid} = NULL"),
            "STRING" if self.value.is_empty() => return format!("{oid} = \"\""),
            "OID" if numeric => self
                .oid_value
                .as_deref()
                .map_or_else(|| self.value.clone(), names::numeric_display),
            _ => self.value.clone(),
        };
        format!("{oid} = {}: {value}", self.kind)
    }

    /// True for noSuchObject, noSuchInstance and endOfMibView.
    pub fn is_exception(&self) -> bool {
        matches!(
            self.kind,
            "noSuchObject" | "noSuchInstance" | "endOfMibView"
        )
    }
}

type Parts = (
    &'static str,
    String,
    Option<serde_json::Number>,
    Option<String>,
);

/// An octet string as text when every byte is printable or white space (net-snmp's rule, a
/// trailing NUL allowed), else as `Hex-STRING`.
fn octets(kind: &'static str, b: &[u8]) -> Parts {
    let body = b.strip_suffix(&[0]).unwrap_or(b);
    let printable = body
        .iter()
        .all(|c| c.is_ascii_graphic() || c.is_ascii_whitespace() || *c == b' ');
    match std::str::from_utf8(body) {
        Ok(s) if printable => (kind, s.to_owned(), None, None),
        _ => ("Hex-STRING", hex(b), None, None),
    }
}

/// Octets in net-snmp's `Hex-STRING` form: upper-case pairs separated by spaces.
fn hex(b: &[u8]) -> String {
    faultline_observe::octets::hex(b, " ").to_ascii_uppercase()
}

/// TimeTicks as net-snmp prints them: `(8640123) 1 day, 0:00:01.23`.
pub fn timeticks(t: u32) -> String {
    let cs = t % 100;
    let s = t / 100;
    let (days, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let day_part = match days {
        0 => String::new(),
        1 => "1 day, ".to_owned(),
        n => format!("{n} days, "),
    };
    format!("({t}) {day_part}{h}:{m:02}:{s:02}.{cs:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_snmp::{Oid, Value};
    use bytes::Bytes;

    fn shown(oid: &str, v: Value) -> ShownVarbind {
        ShownVarbind::new(&Oid::parse(oid).expect("oid"), &v)
    }

    #[test]
    fn lines_as_net_snmp_prints_them() {
        let if_oper = shown("1.3.6.1.2.1.2.2.1.8.3", Value::Integer(1));
        assert_eq!(
            if_oper.line(false),
            "IF-MIB::ifOperStatus.3 = INTEGER: up(1)"
        );
        assert_eq!(
            if_oper.line(true),
            ".1.3.6.1.2.1.2.2.1.8.3 = INTEGER: up(1)"
        );
        let name = shown(
            "1.3.6.1.2.1.1.5.0",
            Value::OctetString(Bytes::from_static(b"fw-a")),
        );
        assert_eq!(name.line(false), "SNMPv2-MIB::sysName.0 = STRING: fw-a");
        let up = shown("1.3.6.1.2.1.1.3.0", Value::TimeTicks(8_640_123));
        assert_eq!(
            up.line(false),
            "SNMPv2-MIB::sysUpTime.0 = Timeticks: (8640123) 1 day, 0:00:01.23"
        );
        assert_eq!(timeticks(97), "(97) 0:00:00.97");
        assert_eq!(
            timeticks(2 * 8_640_000 + 366_100),
            "(17646100) 2 days, 1:01:01.00"
        );
        let mac = shown(
            "1.3.6.1.2.1.2.2.1.6.2",
            Value::OctetString(Bytes::from_static(&[0x5a, 0x22, 0xcf, 0, 0x29, 0x9c])),
        );
        assert_eq!(
            mac.line(false),
            "IF-MIB::ifPhysAddress.2 = Hex-STRING: 5A 22 CF 00 29 9C"
        );
        let obj = shown(
            "1.3.6.1.2.1.1.2.0",
            Value::ObjectIdentifier(Oid::parse("1.3.6.1.4.1.8072.3.2.10").expect("oid")),
        );
        assert_eq!(
            obj.line(false),
            "SNMPv2-MIB::sysObjectID.0 = OID: NET-SNMP-MIB::netSnmpAgentOIDs.10"
        );
        assert_eq!(
            obj.line(true),
            ".1.3.6.1.2.1.1.2.0 = OID: .1.3.6.1.4.1.8072.3.2.10"
        );
        let ip = shown("1.3.6.1.4.1.99.1", Value::IpAddress([10, 0, 0, 1]));
        assert_eq!(
            ip.line(false),
            "SNMPv2-SMI::enterprises.99.1 = IpAddress: 10.0.0.1"
        );
        let c = shown("1.3.6.1.2.1.31.1.1.1.6.1", Value::Counter64(1 << 40));
        assert_eq!(
            c.line(false),
            "IF-MIB::ifHCInOctets.1 = Counter64: 1099511627776"
        );
        let g = shown("1.3.6.1.2.1.2.2.1.5.1", Value::Gauge32(10_000_000));
        assert_eq!(g.line(false), "IF-MIB::ifSpeed.1 = Gauge32: 10000000");
        let c32 = shown("1.3.6.1.2.1.2.2.1.10.1", Value::Counter32(7));
        assert_eq!(c32.line(false), "IF-MIB::ifInOctets.1 = Counter32: 7");
    }

    #[test]
    fn exceptions_as_net_snmp_prints_them() {
        let cases = [
            (
                Value::NoSuchObject,
                "No Such Object available on this agent at this OID",
            ),
            (
                Value::NoSuchInstance,
                "No Such Instance currently exists at this OID",
            ),
            (
                Value::EndOfMibView,
                "No more variables left in this MIB View (It is past the end of the MIB tree)",
            ),
        ];
        for (v, text) in cases {
            let s = shown("1.3.6.1.2.1.1.5.1", v);
            assert!(s.is_exception());
            assert_eq!(s.line(false), format!("SNMPv2-MIB::sysName.1 = {text}"));
        }
        let unknown = shown("1.3.6.1.3.1", Value::Integer(-5));
        assert_eq!(unknown.line(false), ".1.3.6.1.3.1 = INTEGER: -5");
        assert_eq!(unknown.name, None);
        let empty = shown("1.3.6.1.2.1.1.4.0", Value::OctetString(Bytes::new()));
        assert_eq!(empty.line(false), "SNMPv2-MIB::sysContact.0 = \"\"");
    }
}
