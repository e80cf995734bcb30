//! An agent's answer to a poll: BER decode (async-snmp), value conversion, then the pure poll
//! decoder (system group, interfaces, LLDP, every embedded vendor profile's HA mapping), twice so
//! that rates, counter wraps and reboot detection see a previous state.
#![no_main]

use std::sync::OnceLock;

use faultline_snmp::Profiles;
use faultline_snmp::decode::{DeviceReport, decode};
use libfuzzer_sys::fuzz_target;

#[path = "support/raw_poll.rs"]
mod support;

fn report() -> DeviceReport {
    DeviceReport::empty("fw-a", "127.0.0.1:161".into(), "v2c")
}

fn profiles() -> &'static Profiles {
    static PROFILES: OnceLock<Profiles> = OnceLock::new();
    PROFILES.get_or_init(Profiles::embedded)
}

fuzz_target!(|data: &[u8]| {
    let Some(raw) = support::answer(data) else {
        return;
    };
    let profiles = profiles();
    for name in profiles.names() {
        let Some(profile) = profiles.get(name) else {
            continue;
        };
        let (_, _, state) = decode(report(), 1_000, &raw, profile, None);
        let _ = decode(report(), 61_000, &raw, profile, Some(&state));
    }
});
