//! A UDP datagram arriving at the trap port: BER decode (async-snmp), community check,
//! notification shape, interpretation into observations and rendered varbinds.
#![no_main]

use std::net::{Ipv4Addr, SocketAddr};

use faultline_trap::{Secret, TrapConfig, decode_event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = SocketAddr::from((Ipv4Addr::LOCALHOST, 40000));
    let mut config = TrapConfig::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 1162)));
    config.communities = vec![Secret::new("public")];
    let _ = decode_event(data, &config, source, 1_700_000_000_000);
    // Any community: every well-formed notification reaches the interpretation.
    config.accept_any_community = true;
    let _ = decode_event(data, &config, source, 1_700_000_000_000);
});
