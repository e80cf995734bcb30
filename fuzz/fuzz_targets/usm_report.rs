//! The raw SNMPv3 discovery Report the USM probe reads to tell a wrong user from a dead agent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = faultline_snmp::usm_probe::parse_report(data);
});
