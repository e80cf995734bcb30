//! An agent's answer to a poll: BER decode (async-snmp), value conversion, then the pure poll
//! decoder (system group, interfaces, LLDP, every embedded vendor profile's HA mapping), twice so
//! that rates, counter wraps and reboot detection see a previous state.
#![no_main]

use std::sync::OnceLock;

use async_snmp::DecodeConfig;
use async_snmp::message::Message;
use bytes::Bytes;
use faultline_snmp::Profiles;
use faultline_snmp::decode::{DeviceReport, RawPoll, SnmpValue, decode};
use libfuzzer_sys::fuzz_target;

/// Every varbind as a scalar, and as a table cell under each of its OID's proper prefixes, so
/// that any column a profile walks can be filled without knowing the profile.
fn raw_poll(varbinds: &[async_snmp::VarBind]) -> RawPoll {
    let mut raw = RawPoll::default();
    for vb in varbinds {
        let Some(v) = SnmpValue::from_snmp(&vb.value) else {
            continue;
        };
        let oid = vb.oid.to_string();
        for (i, _) in oid.match_indices('.') {
            raw.columns
                .entry(oid[..i].to_string())
                .or_default()
                .insert(oid[i + 1..].to_string(), v.clone());
        }
        raw.scalars.insert(oid, v);
    }
    raw
}

fn report() -> DeviceReport {
    DeviceReport::empty("fw-a", "127.0.0.1:161".into(), "v2c")
}

fn profiles() -> &'static Profiles {
    static PROFILES: OnceLock<Profiles> = OnceLock::new();
    PROFILES.get_or_init(Profiles::embedded)
}

fuzz_target!(|data: &[u8]| {
    let Ok(outcome) = Message::decode(Bytes::copy_from_slice(data), DecodeConfig::default()) else {
        return;
    };
    let Some(pdu) = outcome.value.into_pdu() else {
        return;
    };
    let raw = raw_poll(pdu.varbinds());
    let profiles = profiles();
    for name in profiles.names() {
        let Some(profile) = profiles.get(name) else {
            continue;
        };
        let (_, _, state) = decode(report(), 1_000, &raw, profile, None);
        let _ = decode(report(), 61_000, &raw, profile, Some(&state));
    }
});
