//! Flood benchmark: blast pre-encoded v2c linkDown traps at a live `TrapReceiver` over UDP
//! loopback and report decoded/s and where losses happened.
//!
//! Usage: flood [COUNT] [RATE_PER_SEC (0 = unpaced)] [TARGET]
//!
//! With TARGET (`HOST:PORT`) it only sends, paced, to a receiver running in another process
//! (e.g. `faultline traps`), whose CPU the caller measures; it prints what it sent.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use async_snmp::message::CommunityMessage;
use async_snmp::{NotificationPdu, Oid, Value, VarBind, Version};
use bytes::Bytes;
use faultline_trap::{Secret, TrapConfig, TrapReceiver};

fn oid(s: &str) -> Oid {
    Oid::parse(s).unwrap_or_else(|e| panic!("oid {s}: {e}"))
}

fn datagram(i: u32) -> Bytes {
    let idx = i % 48 + 1;
    let vbs = vec![
        VarBind::new(
            oid(&format!("1.3.6.1.2.1.2.2.1.1.{idx}")),
            Value::Integer(idx as i32),
        ),
        VarBind::new(
            oid(&format!("1.3.6.1.2.1.2.2.1.7.{idx}")),
            Value::Integer(1),
        ),
        VarBind::new(
            oid(&format!("1.3.6.1.2.1.2.2.1.8.{idx}")),
            Value::Integer(2),
        ),
        VarBind::new(
            oid(&format!("1.3.6.1.2.1.31.1.1.1.1.{idx}")),
            Value::OctetString(format!("port{idx}").into()),
        ),
    ];
    let pdu = NotificationPdu::trap_v2(Version::V2c, i as i32, i, &oid("1.3.6.1.6.3.1.1.5.3"), vbs)
        .unwrap_or_else(|e| panic!("pdu: {e}"));
    CommunityMessage::v2c("public", pdu)
        .and_then(|m| m.encode())
        .unwrap_or_else(|e| panic!("encode: {e}"))
}

/// Send `count` datagrams (cycling through `grams`) at `rate` per second (0 = unpaced), each
/// at its due time (spinning, so the gaps are even); returns how long it took.
fn send_paced(grams: &[Bytes], count: u32, rate: u64, target: SocketAddr) -> Duration {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind sender: {e}"));
    let start = Instant::now();
    for i in 0..count {
        if let Some(gap) = (u64::from(i) * 1_000_000_000).checked_div(rate) {
            let due = start + Duration::from_nanos(gap);
            while Instant::now() < due {
                std::hint::spin_loop();
            }
        }
        let _ = sock.send_to(&grams[i as usize % grams.len()], target);
    }
    start.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let count: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let rate: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    if let Some(target) = args.next() {
        let target: SocketAddr = target
            .parse()
            .unwrap_or_else(|e| panic!("target {target}: {e}"));
        let grams: Vec<Bytes> = (0..256).map(datagram).collect();
        let took = send_paced(&grams, count, rate, target);
        println!(
            "sent {count} in {:.3}s ({:.0}/s) to {target}",
            took.as_secs_f64(),
            f64::from(count) / took.as_secs_f64().max(1e-9)
        );
        return;
    }

    let mut config = TrapConfig::new("127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")));
    config.sources = HashMap::from([(
        "127.0.0.1".parse().unwrap_or_else(|e| panic!("{e}")),
        "sw-1".to_string(),
    )]);
    config.communities = vec![Secret::new("public")];
    config.queue_capacity = 65_536;
    let (rx, mut events) = TrapReceiver::bind(config)
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let target = rx.local_addr();

    // Pre-encode outside the timed section: 256 distinct datagrams, cycled.
    let grams: Vec<Bytes> = (0..256).map(datagram).collect();
    let sender = std::thread::spawn(move || send_paced(&grams, count, rate, target));

    let start = Instant::now();
    let mut got = 0u64;
    let mut last = Instant::now();
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(1500), events.recv()).await {
        got += 1;
        last = Instant::now();
        if got == u64::from(count) {
            break;
        }
    }
    let send_time = sender.join().unwrap_or_default();
    let busy = last.duration_since(start).as_secs_f64();
    let s = rx.stats();
    let kernel_drops = u64::from(count).saturating_sub(s.received);
    println!(
        "sent {count} in {:.3}s ({:.0}/s offered{}) | decoded {got} in {busy:.3}s = {:.0} traps/s | \
         received {} malformed {} dropped_queue_full {} lost_before_socket(kernel) {kernel_drops}",
        send_time.as_secs_f64(),
        f64::from(count) / send_time.as_secs_f64().max(1e-9),
        if rate > 0 {
            format!(", paced at {rate}/s")
        } else {
            ", unpaced".to_string()
        },
        got as f64 / busy.max(1e-9),
        s.received,
        s.malformed,
        s.dropped_queue_full,
    );
    rx.shutdown().await;
}
