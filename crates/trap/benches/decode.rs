//! Decode-path benchmark: BER decode of a v2c linkDown datagram and its interpretation into
//! observations (the CPU work per trap; socket hops are measured by `bench/traps-flood.sh`).

use async_snmp::message::{CommunityMessage, Message};
use async_snmp::{DecodeConfig, NotificationPdu, Oid, Value, VarBind, Version};
use bytes::Bytes;
use faultline_trap::decode::interpret;

fn main() {
    divan::main();
}

fn oid(s: &str) -> Oid {
    Oid::parse(s).unwrap_or_else(|e| panic!("bench oid {s}: {e}"))
}

fn link_down_varbinds() -> Vec<VarBind> {
    vec![
        VarBind::new(oid("1.3.6.1.2.1.2.2.1.1.4"), Value::Integer(4)),
        VarBind::new(oid("1.3.6.1.2.1.2.2.1.7.4"), Value::Integer(1)),
        VarBind::new(oid("1.3.6.1.2.1.2.2.1.8.4"), Value::Integer(2)),
        VarBind::new(
            oid("1.3.6.1.2.1.31.1.1.1.1.4"),
            Value::OctetString(Bytes::from_static(b"port4")),
        ),
    ]
}

fn datagram() -> Bytes {
    let pdu = NotificationPdu::trap_v2(
        Version::V2c,
        1,
        12345,
        &oid("1.3.6.1.6.3.1.1.5.3"),
        link_down_varbinds(),
    )
    .unwrap_or_else(|e| panic!("pdu: {e}"));
    let msg = CommunityMessage::v2c("public", pdu).unwrap_or_else(|e| panic!("msg: {e}"));
    msg.encode().unwrap_or_else(|e| panic!("encode: {e}"))
}

/// Full per-trap CPU path: decode the datagram, then map it to observations.
#[divan::bench]
fn decode_and_interpret_v2c_link_down(bencher: divan::Bencher) {
    let data = datagram();
    let trap = oid("1.3.6.1.6.3.1.1.5.3");
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench(|| {
            let msg = Message::decode(divan::black_box(data.clone()), DecodeConfig::default());
            let pdu = match msg.map(|m| m.value.into_pdu()) {
                Ok(Some(p)) => p,
                _ => panic!("decode failed"),
            };
            // Skip sysUpTime.0 and snmpTrapOID.0, as the receiver does.
            let vbs = pdu.varbinds().get(2..).unwrap_or(&[]);
            interpret("sw-1", 0, 12345, &trap, vbs)
        });
}

/// Only the mapping from (trap OID, varbinds) to observations.
#[divan::bench]
fn interpret_only(bencher: divan::Bencher) {
    let vbs = link_down_varbinds();
    let trap = oid("1.3.6.1.6.3.1.1.5.3");
    bencher.bench(|| {
        interpret(
            divan::black_box("sw-1"),
            0,
            12345,
            &trap,
            divan::black_box(&vbs),
        )
    });
}
