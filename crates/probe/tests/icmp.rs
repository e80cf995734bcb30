//! ICMP prober against real kernel peers: loopback and a veth into a namespace of our own.

use faultline_testpeers as support;

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use faultline_observe::Signal;
use faultline_probe::{IcmpOptions, IcmpProber, tcp_probe};
use support::{Netns, have, root, run};

fn opts(count: u16) -> IcmpOptions {
    IcmpOptions {
        count,
        interval: Duration::from_millis(50),
        timeout: Duration::from_millis(700),
        ..IcmpOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_answers_with_rtt() {
    if !root() {
        return;
    }
    let p = IcmpProber::new().unwrap();
    let r = p.ping("127.0.0.1".parse().unwrap(), &opts(3)).await;
    assert_eq!((r.sent, r.received), (3, 3), "{r:?}");
    let Signal::Reachability { ok, rtt_ms, loss } = r.to_signal() else {
        panic!("wrong signal")
    };
    assert!(ok);
    assert_eq!(loss, 0.0);
    let rtt = rtt_ms.unwrap();
    assert!(rtt > 0.0 && rtt < 700.0, "rtt {rtt}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_peer_up_then_link_down_is_total_loss() {
    if !root() || !have("ip") {
        return;
    }
    let ns = Netns::new("i");
    let p = IcmpProber::new().unwrap();
    let ip: IpAddr = ns.ns_ip.parse().unwrap();
    let up = p.ping(ip, &opts(3)).await;
    assert_eq!(up.received, 3, "{up:?}");
    assert!(matches!(
        up.to_signal(),
        Signal::Reachability { ok: true, .. }
    ));

    ns.set_ns_link(false);
    let down = p.ping(ip, &opts(3)).await;
    assert_eq!(down.received, 0, "{down:?}");
    assert_eq!(down.loss(), 1.0);
    assert!(matches!(
        down.to_signal(),
        Signal::Reachability {
            ok: false,
            rtt_ms: None,
            ..
        }
    ));

    // TCP connect to the dead peer times out (SYN goes nowhere) rather than being refused.
    let t = tcp_probe(
        std::net::SocketAddr::new(ip, 80),
        Duration::from_millis(500),
    )
    .await;
    assert!(!t.ok);
    assert_eq!(
        t.failure,
        Some(faultline_probe::FailureKind::Timeout),
        "{t:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_agrees_with_fping() {
    if !root() || !have("fping") || !have("ip") {
        return;
    }
    let up = Netns::new("u");
    let down = Netns::new("d");
    down.set_ns_link(false);
    let targets: Vec<IpAddr> = [
        "127.0.0.1",
        "127.0.0.2",
        &up.ns_ip,
        &down.ns_ip,
        "127.0.3.4",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let p = IcmpProber::new().unwrap();
    let ours = p.sweep(&targets, &opts(2)).await;

    let mut cmd = Command::new("fping");
    cmd.args(["-c", "2", "-p", "100", "-t", "700", "-q"])
        .args(targets.iter().map(|t| t.to_string()));
    let (_ok, out) = run(&mut cmd);
    // fping -q -c prints "HOST : xmt/rcv/%loss = 2/2/0%, ..." per host on stderr.
    for r in &ours {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&r.target.to_string()))
            .unwrap_or_else(|| panic!("fping printed nothing for {}: {out}", r.target));
        let rcv: u16 = line
            .split("xmt/rcv/%loss = ")
            .nth(1)
            .and_then(|s| s.split('/').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("cannot parse fping line {line:?}"));
        assert_eq!(
            r.received > 0,
            rcv > 0,
            "disagreement on {}: ours {r:?}, fping {line:?}",
            r.target
        );
    }
    assert_eq!(ours.iter().filter(|r| r.received > 0).count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_loopback_targets_on_one_socket_all_match() {
    if !root() {
        return;
    }
    let targets: Vec<IpAddr> = (0..1000u32)
        .map(|i| IpAddr::from([127, 1, (i / 250) as u8, (i % 250 + 1) as u8]))
        .collect();
    let p = IcmpProber::new().unwrap();
    let r = p
        .sweep(
            &targets,
            &IcmpOptions {
                count: 2,
                ..opts(2)
            },
        )
        .await;
    assert_eq!(r.len(), 1000);
    let lost: Vec<_> = r.iter().filter(|x| x.received != 2).collect();
    assert!(
        lost.is_empty(),
        "{} targets lost replies, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    for (t, res) in targets.iter().zip(&r) {
        assert_eq!(*t, res.target);
    }
}
