//! Trap receiver against real net-snmp senders (snmptrap, snmpinform) and a real snmpd.

use faultline_testpeers as support;

use std::collections::HashMap;
use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use faultline_observe::{HaRole, IfStatus, Signal, Subject};
use faultline_trap::{
    AuthProtocol, PrivProtocol, Secret, TrapConfig, TrapEvent, TrapReceiver, V3User,
};
use support::{have, run};
use tokio::sync::mpsc;

const USER: &str = "trapuser";
const AUTH: &str = "authpass123";
const PRIV: &str = "privpass123";

fn config(sources: &[(&str, &str)]) -> TrapConfig {
    let mut c = TrapConfig::new(support::addr("127.0.0.1:0"));
    c.sources = sources
        .iter()
        .map(|(ip, id)| (ip.parse::<IpAddr>().unwrap(), id.to_string()))
        .collect::<HashMap<_, _>>();
    c.communities = vec![Secret::new("public")];
    c.v3_users = vec![V3User {
        name: USER.into(),
        auth: AuthProtocol::Sha1,
        auth_pass: Secret::new(AUTH),
        privacy: Some((PrivProtocol::Aes128, Secret::new(PRIV))),
    }];
    c
}

async fn next(events: &mut mpsc::Receiver<TrapEvent>) -> TrapEvent {
    match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
        Ok(Some(e)) => e,
        Ok(None) => panic!("event channel closed"),
        Err(_) => panic!("no trap event within 10 s"),
    }
}

async fn nothing_within(events: &mut mpsc::Receiver<TrapEvent>, ms: u64) {
    if let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(ms), events.recv()).await {
        panic!("unexpected event: {e:?}");
    }
}

/// Run a net-snmp sender off the async runtime.
async fn send(args: Vec<String>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let mut c = Command::new(&args[0]);
        c.args(&args[1..]);
        run(&mut c)
    })
    .await
    .unwrap()
}

fn v2c(bin: &str, community: &str, port: u16, trap_oid: &str, vbs: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [bin, "-m", "", "-v2c", "-c", community, "-r", "1", "-t", "2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if bin == "snmptrap" {
        v.retain(|a| a != "-r" && a != "1" && a != "-t" && a != "2");
    }
    v.push(format!("127.0.0.1:{port}"));
    v.push(String::new());
    v.push(trap_oid.to_string());
    v.extend(vbs.iter().map(|s| s.to_string()));
    v
}

fn v3(bin: &str, auth_pass: &str, port: u16, trap_oid: &str) -> Vec<String> {
    let mut v: Vec<String> = vec![
        bin.into(),
        "-m".into(),
        "".into(),
        "-v3".into(),
        "-l".into(),
        "authPriv".into(),
    ];
    v.extend(
        [
            "-u", USER, "-a", "SHA", "-A", auth_pass, "-x", "AES", "-X", PRIV,
        ]
        .map(String::from),
    );
    if bin == "snmptrap" {
        // A v3 trap sender is authoritative and names its own engine id.
        v.extend(["-e", "0x80001f8880aabbccdd01020304"].map(String::from));
    }
    v.push(format!("127.0.0.1:{port}"));
    v.push(String::new());
    v.push(trap_oid.into());
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2c_link_down_becomes_interface_down_for_the_right_device() {
    if !have("snmptrap") {
        return;
    }
    let (mut rx, mut events) = TrapReceiver::bind(config(&[("127.0.0.1", "sw-1")]))
        .await
        .unwrap();
    let mut repolls = rx.take_repoll_requests().unwrap();
    let port = rx.local_addr().port();
    let (ok, out) = send(v2c(
        "snmptrap",
        "public",
        port,
        "1.3.6.1.6.3.1.1.5.3",
        &[
            "1.3.6.1.2.1.2.2.1.1.4",
            "i",
            "4",
            "1.3.6.1.2.1.2.2.1.7.4",
            "i",
            "1",
            "1.3.6.1.2.1.2.2.1.8.4",
            "i",
            "2",
            "1.3.6.1.2.1.31.1.1.1.1.4",
            "s",
            "port4",
        ],
    ))
    .await;
    assert!(ok, "snmptrap failed: {out}");
    let e = next(&mut events).await;
    assert_eq!(e.device_id.as_deref(), Some("sw-1"));
    assert_eq!(e.version, "v2c");
    assert_eq!(e.trap_oid, "1.3.6.1.6.3.1.1.5.3");
    assert_eq!(e.observations.len(), 1);
    assert_eq!(
        e.observations[0].subject,
        Subject::interface("sw-1", "port4")
    );
    assert!(matches!(
        e.observations[0].signal,
        Signal::Interface {
            oper: IfStatus::Down,
            admin: IfStatus::Up,
            ..
        }
    ));
    let r = tokio::time::timeout(Duration::from_secs(2), repolls.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.device_id, "sw-1");
    let s = rx.stats();
    assert_eq!(
        (
            s.received,
            s.decoded,
            s.malformed,
            s.rejected_auth,
            s.rejected_source
        ),
        (1, 1, 0, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_link_down_is_mapped_through_rfc3584() {
    if !have("snmptrap") {
        return;
    }
    let (rx, mut events) = TrapReceiver::bind(config(&[("127.0.0.1", "sw-1")]))
        .await
        .unwrap();
    let port = rx.local_addr().port();
    // v1: enterprise, agent-addr, generic-trap 2 (linkDown), specific 0, uptime, varbinds.
    let args: Vec<String> = [
        "snmptrap",
        "-m",
        "",
        "-v1",
        "-c",
        "public",
        &format!("127.0.0.1:{port}"),
        "1.3.6.1.4.1.8072.3.2.10",
        "127.0.0.1",
        "2",
        "0",
        "",
        "1.3.6.1.2.1.2.2.1.1.7",
        "i",
        "7",
        "1.3.6.1.2.1.2.2.1.8.7",
        "i",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (ok, out) = send(args).await;
    assert!(ok, "snmptrap -v1 failed: {out}");
    let e = next(&mut events).await;
    assert_eq!(e.version, "v1");
    assert_eq!(e.trap_oid, "1.3.6.1.6.3.1.1.5.3");
    assert_eq!(
        e.observations[0].subject,
        Subject::interface("sw-1", "ifIndex.7")
    );
    assert!(matches!(
        e.observations[0].signal,
        Signal::Interface {
            oper: IfStatus::Down,
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2c_inform_is_acknowledged() {
    if !have("snmpinform") {
        return;
    }
    let (rx, mut events) = TrapReceiver::bind(config(&[("127.0.0.1", "fw-a")]))
        .await
        .unwrap();
    let port = rx.local_addr().port();
    let (ok, out) = send(v2c(
        "snmpinform",
        "public",
        port,
        "1.3.6.1.6.3.1.1.5.1",
        &[],
    ))
    .await;
    assert!(ok, "snmpinform was not acknowledged: {out}");
    let e = next(&mut events).await;
    assert!(e.inform);
    assert_eq!(e.observations[0].signal, Signal::Rebooted { cold: true });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_auth_priv_trap_and_inform_are_received_and_wrong_key_is_rejected() {
    if !have("snmptrap") || !have("snmpinform") {
        return;
    }
    let (rx, mut events) = TrapReceiver::bind(config(&[("127.0.0.1", "fw-a")]))
        .await
        .unwrap();
    let port = rx.local_addr().port();

    let (ok, out) = send(v3("snmptrap", AUTH, port, "1.3.6.1.6.3.1.1.5.2")).await;
    assert!(ok, "snmptrap -v3 failed: {out}");
    let e = next(&mut events).await;
    assert_eq!(e.version, "v3");
    assert_eq!(e.observations[0].signal, Signal::Rebooted { cold: false });

    let (ok, out) = send(v3("snmpinform", AUTH, port, "1.3.6.1.6.3.1.1.5.1")).await;
    assert!(ok, "v3 inform not acknowledged: {out}");
    let e = next(&mut events).await;
    assert!(e.inform && e.version == "v3");

    let before = rx.stats().rejected_auth;
    let (_ok, _out) = send(v3("snmptrap", "wrongpass999", port, "1.3.6.1.6.3.1.1.5.2")).await;
    nothing_within(&mut events, 700).await;
    assert!(
        rx.stats().rejected_auth > before,
        "wrong v3 key not counted: {:?}",
        rx.stats()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_community_and_unknown_source_are_rejected_and_counted() {
    if !have("snmptrap") {
        return;
    }
    // Source 127.0.0.1 is known here.
    let (rx, mut events) = TrapReceiver::bind(config(&[("127.0.0.1", "sw-1")]))
        .await
        .unwrap();
    let port = rx.local_addr().port();
    let (ok, out) = send(v2c(
        "snmptrap",
        "not-the-community",
        port,
        "1.3.6.1.6.3.1.1.5.1",
        &[],
    ))
    .await;
    assert!(ok, "{out}");
    nothing_within(&mut events, 500).await;
    let s = rx.stats();
    assert_eq!((s.received, s.rejected_auth, s.decoded), (1, 1, 0), "{s:?}");

    // Only 127.0.0.9 is known here; our sender on 127.0.0.1 is not.
    let (rx2, mut events2) = TrapReceiver::bind(config(&[("127.0.0.9", "other")]))
        .await
        .unwrap();
    let (ok, out) = send(v2c(
        "snmptrap",
        "public",
        rx2.local_addr().port(),
        "1.3.6.1.6.3.1.1.5.1",
        &[],
    ))
    .await;
    assert!(ok, "{out}");
    nothing_within(&mut events2, 500).await;
    let s = rx2.stats();
    assert_eq!(
        (s.received, s.rejected_source, s.decoded),
        (1, 1, 0),
        "{s:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_ha_traps_decode_to_ha_roles() {
    if !have("snmptrap") {
        return;
    }
    let (rx, mut events) = TrapReceiver::bind(config(&[("127.0.0.1", "lb-a")]))
        .await
        .unwrap();
    let port = rx.local_addr().port();
    // keepalived vrrpInstanceStateChange: name, state=master(2), initialState, routerId.
    let (ok, out) = send(v2c(
        "snmptrap",
        "public",
        port,
        "1.3.6.1.4.1.9586.100.5.2.10.0.2",
        &[
            "1.3.6.1.4.1.9586.100.5.2.3.1.2.1",
            "s",
            "VI_1",
            "1.3.6.1.4.1.9586.100.5.2.3.1.4.1",
            "i",
            "2",
            "1.3.6.1.4.1.9586.100.5.2.3.1.5.1",
            "i",
            "1",
            "1.3.6.1.4.1.9586.100.5.2.3.1.3.1",
            "i",
            "51",
        ],
    ))
    .await;
    assert!(ok, "{out}");
    let e = next(&mut events).await;
    assert_eq!(e.observations[0].subject, Subject::device("lb-a"));
    assert!(matches!(
        e.observations[0].signal,
        Signal::HaRole {
            role: HaRole::Active,
            ..
        }
    ));

    // FortiGate fgTrapHaSwitch with fnSysSerial and sysName.
    let (ok, out) = send(v2c(
        "snmptrap",
        "public",
        port,
        "1.3.6.1.4.1.12356.101.2.0.401",
        &[
            "1.3.6.1.4.1.12356.100.1.1.1.0",
            "s",
            "FGT60F0000000001",
            "1.3.6.1.2.1.1.5.0",
            "s",
            "fw-b",
        ],
    ))
    .await;
    assert!(ok, "{out}");
    let e = next(&mut events).await;
    assert!(matches!(
        e.observations[0].signal,
        Signal::HaRole {
            role: HaRole::Active,
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_trap_oid_is_kept_as_raw_trap() {
    if !have("snmptrap") {
        return;
    }
    let (rx, mut events) = TrapReceiver::bind(config(&[("127.0.0.1", "x")]))
        .await
        .unwrap();
    let (ok, out) = send(v2c(
        "snmptrap",
        "public",
        rx.local_addr().port(),
        "1.3.6.1.4.1.99999.0.42",
        &["1.3.6.1.4.1.99999.1.1.0", "s", "hello"],
    ))
    .await;
    assert!(ok, "{out}");
    let e = next(&mut events).await;
    match &e.observations[0].signal {
        Signal::RawTrap { trap_oid, varbinds } => {
            assert_eq!(trap_oid, "1.3.6.1.4.1.99999.0.42");
            assert!(
                varbinds.contains(&("1.3.6.1.4.1.99999.1.1.0".to_string(), "hello".to_string()))
            );
        }
        other => panic!("expected RawTrap, got {other:?}"),
    }
    assert_eq!(e.repoll.as_deref(), Some("x"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_burst_is_counted_malformed_and_next_trap_still_arrives() {
    if !have("snmptrap") {
        return;
    }
    let (rx, mut events) = TrapReceiver::bind(config(&[("127.0.0.1", "sw-1")]))
        .await
        .unwrap();
    let target = rx.local_addr();
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut garbage = Vec::new();
    for i in 0..2000u32 {
        // A mix of random-ish bytes, truncated BER and a valid-looking header with junk.
        let g: Vec<u8> = match i % 3 {
            0 => (0..(i % 200 + 1))
                .map(|b| (b.wrapping_mul(31) ^ i) as u8)
                .collect(),
            1 => vec![0x30, 0x82, 0xff, 0xff, 0x02, 0x01],
            _ => vec![0x30, 0x05, 0x02, 0x01, 0x09, 0x04, 0x00],
        };
        garbage.push(g);
    }
    for g in &garbage {
        sock.send_to(g, target).await.unwrap();
        if garbage.len() % 256 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let (ok, out) = send(v2c(
        "snmptrap",
        "public",
        target.port(),
        "1.3.6.1.6.3.1.1.5.4",
        &["1.3.6.1.2.1.2.2.1.8.2", "i", "1"],
    ))
    .await;
    assert!(ok, "{out}");
    let e = next(&mut events).await;
    assert_eq!(e.trap_oid, "1.3.6.1.6.3.1.1.5.4");
    let s = rx.stats();
    assert_eq!(s.malformed, 2000, "{s:?}");
    assert_eq!(s.received, 2001, "{s:?}");
    assert_eq!(s.decoded, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_the_receiver() {
    let (rx, mut events) = TrapReceiver::bind(config(&[])).await.unwrap();
    rx.shutdown().await;
    // All senders are gone once the tasks end: the stream ends instead of hanging.
    let r = tokio::time::timeout(Duration::from_secs(2), events.recv())
        .await
        .unwrap();
    assert!(r.is_none());
}

fn encoded_v2c_link_down(i: u32) -> bytes::Bytes {
    use async_snmp::message::CommunityMessage;
    use async_snmp::{NotificationPdu, Oid, Value, VarBind, Version};
    let oid = |s: &str| Oid::parse(s).unwrap();
    let vbs = vec![VarBind::new(
        oid("1.3.6.1.2.1.2.2.1.8.1"),
        Value::Integer(2),
    )];
    let pdu = NotificationPdu::trap_v2(Version::V2c, i as i32, i, &oid("1.3.6.1.6.3.1.1.5.3"), vbs)
        .unwrap();
    CommunityMessage::v2c("public", pdu)
        .unwrap()
        .encode()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_with_a_stalled_consumer_is_counted_and_never_blocks_the_receiver() {
    if !have("snmptrap") {
        return;
    }
    let mut c = config(&[("127.0.0.1", "sw-1")]);
    c.queue_capacity = 8;
    let (rx, mut events) = TrapReceiver::bind(c).await.unwrap();
    let target = rx.local_addr();
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let n = 3000u32;
    for i in 0..n {
        sock.send_to(&encoded_v2c_link_down(i), target)
            .await
            .unwrap();
    }
    // Nobody reads events meanwhile. Wait until every datagram is accounted for.
    let start = std::time::Instant::now();
    loop {
        let s = rx.stats();
        if s.decoded + s.dropped_queue_full == u64::from(n) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not all datagrams accounted for: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s = rx.stats();
    assert_eq!(s.received, u64::from(n), "{s:?}");
    assert!(
        s.dropped_queue_full > 0,
        "a stalled consumer must cause counted drops: {s:?}"
    );
    assert!(s.decoded <= 16, "{s:?}");
    // Drain, then the receiver still delivers a fresh trap from a real sender.
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(100), events.recv()).await {}
    let (ok, out) = send(v2c(
        "snmptrap",
        "public",
        target.port(),
        "1.3.6.1.6.3.1.1.5.1",
        &[],
    ))
    .await;
    assert!(ok, "{out}");
    let e = next(&mut events).await;
    assert_eq!(e.trap_oid, "1.3.6.1.6.3.1.1.5.1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_engine_boots_persist_across_restarts_and_informs_still_ack() {
    if !have("snmpinform") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("engine");
    let mut c = config(&[("127.0.0.1", "fw-a")]);
    c.engine_state = Some(state.clone());
    let (rx, _events) = TrapReceiver::bind(c.clone()).await.unwrap();
    let first = std::fs::read_to_string(&state).unwrap();
    rx.shutdown().await;
    let (rx, mut events) = TrapReceiver::bind(c).await.unwrap();
    let second = std::fs::read_to_string(&state).unwrap();
    let (id1, boots1) = first.trim().split_once(' ').unwrap();
    let (id2, boots2) = second.trim().split_once(' ').unwrap();
    assert_eq!(id1, id2, "engine id must be stable");
    assert_eq!(
        boots2.parse::<u32>().unwrap(),
        boots1.parse::<u32>().unwrap() + 1
    );
    let (ok, out) = send(v3(
        "snmpinform",
        AUTH,
        rx.local_addr().port(),
        "1.3.6.1.6.3.1.1.5.1",
    ))
    .await;
    assert!(ok, "v3 inform after restart not acknowledged: {out}");
    assert!(next(&mut events).await.inform);
}

/// `decode_event` is the receiver's path without a socket (replay tools, the fuzz target): the
/// same event for an accepted datagram, nothing for a refused or malformed one.
#[test]
fn decode_event_is_the_receivers_path_without_a_socket() {
    let mut cfg = TrapConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.communities = vec![Secret::new("public")];
    let source = "127.0.0.1:40000".parse().unwrap();
    let event = faultline_trap::decode_event(&encoded_v2c_link_down(7), &cfg, source, 1_000)
        .expect("a v2c linkDown is an event");
    assert_eq!(
        (event.version, event.trap_oid.as_str(), event.received_at),
        ("v2c", "1.3.6.1.6.3.1.1.5.3", 1_000)
    );
    assert!(!event.observations.is_empty());
    assert!(faultline_trap::decode_event(b"not snmp", &cfg, source, 1_000).is_none());
    cfg.communities = vec![Secret::new("private")];
    assert!(faultline_trap::decode_event(&encoded_v2c_link_down(7), &cfg, source, 1_000).is_none());
}
