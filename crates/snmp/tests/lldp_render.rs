//! How a poll report shows LLDP neighbours' binary ids: MAC port ids and binary chassis ids as
//! colon-separated lower-case hex (the one helper `faultline_observe::octets::hex`), printable
//! ids as text.

use faultline_snmp::Profiles;
use faultline_snmp::decode::oids::{
    LLDP_LOC_PORT_ID, LLDP_REM_CHASSIS, LLDP_REM_PORT_ID, LLDP_REM_PORT_SUBTYPE, LLDP_REM_SYSNAME,
};
use faultline_snmp::decode::{DeviceReport, RawPoll, SnmpValue, decode};

fn set(raw: &mut RawPoll, column: &str, index: &str, v: SnmpValue) {
    raw.columns
        .entry(column.to_owned())
        .or_default()
        .insert(index.to_owned(), v);
}

#[test]
fn mac_port_ids_and_binary_chassis_ids_render_as_colon_hex() {
    let mut raw = RawPoll::default();
    // Row 0.7.1: a MAC port id (subtype macAddress(3)) and a MAC chassis id.
    set(
        &mut raw,
        LLDP_REM_SYSNAME,
        "0.7.1",
        SnmpValue::Bytes(b"sw-b".to_vec()),
    );
    set(&mut raw, LLDP_REM_PORT_SUBTYPE, "0.7.1", SnmpValue::Int(3));
    let mac = vec![0x00, 0x1b, 0x21, 0x3c, 0x4d, 0xfe];
    set(
        &mut raw,
        LLDP_REM_PORT_ID,
        "0.7.1",
        SnmpValue::Bytes(mac.clone()),
    );
    set(
        &mut raw,
        LLDP_REM_CHASSIS,
        "0.7.1",
        SnmpValue::Bytes(vec![0x02, 0, 0, 0, 0, 0x0a]),
    );
    set(
        &mut raw,
        LLDP_LOC_PORT_ID,
        "7",
        SnmpValue::Bytes(b"Gi1/0/7".to_vec()),
    );
    // Row 0.8.2: an interface-name port id, and a printable chassis id kept as text.
    set(
        &mut raw,
        LLDP_REM_SYSNAME,
        "0.8.2",
        SnmpValue::Bytes(b"fw-a".to_vec()),
    );
    set(&mut raw, LLDP_REM_PORT_SUBTYPE, "0.8.2", SnmpValue::Int(5));
    set(
        &mut raw,
        LLDP_REM_PORT_ID,
        "0.8.2",
        SnmpValue::Bytes(b"port2".to_vec()),
    );
    set(
        &mut raw,
        LLDP_REM_CHASSIS,
        "0.8.2",
        SnmpValue::Bytes(b"FGT60F".to_vec()),
    );
    // Row 0.9.3: a non-MAC subtype whose id is not printable still shows as hex.
    set(
        &mut raw,
        LLDP_REM_SYSNAME,
        "0.9.3",
        SnmpValue::Bytes(b"x".to_vec()),
    );
    set(&mut raw, LLDP_REM_PORT_SUBTYPE, "0.9.3", SnmpValue::Int(7));
    set(
        &mut raw,
        LLDP_REM_PORT_ID,
        "0.9.3",
        SnmpValue::Bytes(vec![0xff, 0x00, 0x7f]),
    );

    let profiles = Profiles::embedded();
    let profile = profiles.get("generic").expect("embedded generic profile");
    let report = DeviceReport::empty("sw-a", "192.0.2.1:161".into(), "v2c");
    let (report, _, _) = decode(report, 1_000, &raw, profile, None);

    let shown: Vec<(&str, Option<&str>, &str, &str)> = report
        .neighbors
        .iter()
        .map(|n| {
            (
                n.local_port_num.as_str(),
                n.local_port.as_deref(),
                n.remote_port_id.as_str(),
                n.remote_chassis_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            (
                "7",
                Some("Gi1/0/7"),
                "00:1b:21:3c:4d:fe",
                "02:00:00:00:00:0a"
            ),
            ("8", None, "port2", "FGT60F"),
            ("9", None, "ff:00:7f", ""),
        ]
    );
}
