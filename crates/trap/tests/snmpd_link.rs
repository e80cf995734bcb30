//! A real snmpd, inside a network namespace of our own, sends linkDown when we take a real
//! (veth) link down; the receiver listens on the host end of a veth pair into that namespace.

use faultline_testpeers as support;

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use faultline_observe::{IfStatus, Signal, Subject};
use faultline_trap::{Secret, TrapConfig, TrapReceiver};
use support::{Netns, have, root, sh, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snmpd_link_down_on_real_link_change_is_decoded() {
    if !root() || !have("snmpd") || !have("ip") {
        return;
    }
    let ns = Netns::new("s");
    // A second veth pair entirely inside the namespace: the link we break. The pair joining
    // the namespace to the host stays up to carry the trap.
    for args in [
        vec![
            "ip", "-n", &ns.name, "link", "add", "x0", "type", "veth", "peer", "name", "x1",
        ],
        vec!["ip", "-n", &ns.name, "link", "set", "x0", "up"],
        vec!["ip", "-n", &ns.name, "link", "set", "x1", "up"],
    ] {
        let (ok, out) = sh(&args);
        assert!(ok, "{args:?}: {out}");
    }

    let mut config = TrapConfig::new(format!("{}:0", ns.host_ip).parse().unwrap());
    config.sources = HashMap::from([(ns.ns_ip.parse().unwrap(), "sw-ns".to_string())]);
    config.communities = vec![Secret::new("public")];
    let (rx, mut events) = TrapReceiver::bind(config).await.unwrap();
    let port = rx.local_addr().port();

    let lab = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(lab.path().join("persist")).unwrap();
    let conf = lab.path().join("snmpd.conf");
    let ifcols =
        ".1.3.6.1.2.1.2.2.1.1 .1.3.6.1.2.1.2.2.1.7 .1.3.6.1.2.1.2.2.1.8 .1.3.6.1.2.1.2.2.1.2";
    std::fs::write(
        &conf,
        format!(
            "agentaddress udp:127.0.0.1:16100\nmaster off\n\
             createUser internalUser\niquerySecName internalUser\nrouser internalUser noauth\n\
             trap2sink {host}:{port} public\n\
             notificationEvent linkDownTrap .1.3.6.1.6.3.1.1.5.3 {ifcols}\n\
             monitor -r 1 -e linkDownTrap \"ifdown\" .1.3.6.1.2.1.2.2.1.8 == 2\n",
            host = ns.host_ip
        ),
    )
    .unwrap();
    let _snmpd = spawn(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.name,
                "/usr/sbin/snmpd",
                "-f",
                "-C",
                "-c",
            ])
            .arg(&conf)
            .arg("-Lf")
            .arg(lab.path().join("snmpd.log"))
            .arg("-p")
            .arg(lab.path().join("snmpd.pid"))
            .env("SNMP_PERSISTENT_DIR", lab.path().join("persist")),
    );
    // Let the monitor take its first sample with the link up.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (ok, out) = sh(&["ip", "-n", &ns.name, "link", "set", "x1", "down"]);
    assert!(ok, "{out}");
    let changed = Instant::now();

    let deadline = Duration::from_secs(10);
    loop {
        let left = deadline.saturating_sub(changed.elapsed());
        let e = match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(e)) => e,
            _ => {
                let log = std::fs::read_to_string(lab.path().join("snmpd.log")).unwrap_or_default();
                panic!(
                    "no linkDown for x1 within {deadline:?}; stats {:?}; snmpd log:\n{log}",
                    rx.stats()
                );
            }
        };
        assert_eq!(e.device_id.as_deref(), Some("sw-ns"));
        let hit = e
            .observations
            .iter()
            .find(|o| o.subject == Subject::interface("sw-ns", "x1"));
        if let Some(o) = hit {
            assert_eq!(e.trap_oid, "1.3.6.1.6.3.1.1.5.3");
            assert!(
                matches!(
                    o.signal,
                    Signal::Interface {
                        oper: IfStatus::Down,
                        admin: IfStatus::Down,
                        ..
                    }
                ),
                "{o:?}"
            );
            eprintln!(
                "linkDown for x1 decoded {:?} after the link change",
                changed.elapsed()
            );
            break;
        }
    }
}
