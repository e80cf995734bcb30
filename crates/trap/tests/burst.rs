//! A burst of real trap datagrams sent back to back arrives complete and in order through the
//! batched receive path (counted, not timed).

use faultline_testpeers as support;

use std::collections::HashMap;
use std::net::{IpAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use faultline_observe::Subject;
use faultline_trap::{Secret, TrapConfig, TrapReceiver};
use support::{have, run};

/// Distinct datagrams captured from snmptrap, then replayed this many times over in a burst.
const CAPTURED: usize = 16;

/// The burst: 2,000 datagrams, or fewer if the kernel caps the socket buffer below what they
/// take (about 2 KiB each on loopback), since datagrams the kernel drops before the socket are
/// not the receiver's to count.
fn burst_len() -> usize {
    let rmem_max = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(212_992);
    (rmem_max / 2048).clamp(64, 2_000)
}

/// One linkDown for ifIndex `idx` (named `port{idx}`), as net-snmp's snmptrap encodes it,
/// captured on a plain UDP socket.
fn capture_snmptrap(sink: &UdpSocket, idx: usize) -> Vec<u8> {
    let port = sink.local_addr().unwrap().port();
    let mut cmd = Command::new("snmptrap");
    cmd.args(["-m", "", "-v2c", "-c", "public"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["", "1.3.6.1.6.3.1.1.5.3"])
        .args([
            format!("1.3.6.1.2.1.2.2.1.1.{idx}"),
            "i".into(),
            idx.to_string(),
        ])
        .args([format!("1.3.6.1.2.1.2.2.1.8.{idx}"), "i".into(), "2".into()])
        .args([
            format!("1.3.6.1.2.1.31.1.1.1.1.{idx}"),
            "s".into(),
            format!("port{idx}"),
        ]);
    let (ok, out) = run(&mut cmd);
    assert!(ok, "snmptrap failed: {out}");
    let mut buf = vec![0u8; 65_536];
    let (len, _) = sink.recv_from(&mut buf).expect("snmptrap's datagram");
    buf.truncate(len);
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_sent_back_to_back_arrives_complete_and_in_order() {
    if !have("snmptrap") {
        return;
    }
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let grams: Vec<Vec<u8>> = (1..=CAPTURED).map(|i| capture_snmptrap(&sink, i)).collect();

    let mut config = TrapConfig::new(support::addr("127.0.0.1:0"));
    config.sources = HashMap::from([("127.0.0.1".parse::<IpAddr>().unwrap(), "sw-1".into())]);
    config.communities = vec![Secret::new("public")];
    let (rx, mut events) = TrapReceiver::bind(config).await.unwrap();
    let target = rx.local_addr();
    let burst = burst_len();

    // Back to back from one socket, off the runtime: the receiver meets a full socket buffer
    // and reads it in batches.
    let sender = std::thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..burst {
            sock.send_to(&grams[i % CAPTURED], target).unwrap();
        }
    });
    let mut names = Vec::with_capacity(burst);
    let mut batch = Vec::new();
    while names.len() < burst {
        let got =
            tokio::time::timeout(Duration::from_secs(20), events.recv_many(&mut batch, 512)).await;
        match got {
            Ok(n) if n > 0 => {}
            _ => panic!(
                "only {} of {burst} traps arrived: {:?}",
                names.len(),
                rx.stats()
            ),
        }
        for e in batch.drain(..) {
            assert_eq!(e.device_id.as_deref(), Some("sw-1"));
            assert_eq!(e.observations.len(), 1, "{e:?}");
            names.push(e.observations[0].subject.clone());
        }
    }
    sender.join().unwrap();
    let expected: Vec<Subject> = (0..burst)
        .map(|i| Subject::interface("sw-1", format!("port{}", i % CAPTURED + 1)))
        .collect();
    assert!(names == expected, "traps out of order");
    // `decoded` counts a delivery just after the event entered the channel: let the last
    // count land.
    let mut s = rx.stats();
    for _ in 0..200 {
        if s.decoded >= burst as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        s = rx.stats();
    }
    assert_eq!(
        (s.received, s.decoded, s.dropped_queue_full, s.malformed),
        (burst as u64, burst as u64, 0, 0)
    );
}
