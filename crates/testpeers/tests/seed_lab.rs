//! The seed lab itself, without faultline: two labs side by side stay apart; drift on the
//! standby changes nothing until the failover, which then takes the portal down; everything
//! is gone after Drop.

use std::time::Duration;

use faultline_testpeers::keepalived::VrrpState;
use faultline_testpeers::namespace;
use faultline_testpeers::seed::{Firewall, SeedLab};
use faultline_testpeers::{cmd, sh};

/// IP-MIB ipForwarding.0: forwarding(1), notForwarding(2).
const IP_FORWARDING: &str = "1.3.6.1.2.1.4.1.0";
/// Failover takes ~4 s with `advert_int 1`.
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(20);
/// A dead path fails a probe within its timeout; a live one answers at once.
const PORTAL_TIMEOUT: Duration = Duration::from_secs(10);

fn ip_forwarding(lab: &SeedLab, fw: Firewall) -> String {
    cmd::ok(&[
        "snmpget",
        "-v2c",
        "-c",
        "public",
        "-m",
        "",
        "-Oqv",
        &lab.snmp_addr(fw).to_string(),
        IP_FORWARDING,
    ])
    .trim()
    .to_string()
}

#[test]
fn two_labs_side_by_side_drift_failover_and_cleanup() {
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(SeedLab::start);
        let b = s.spawn(SeedLab::start);
        (a.join().expect("first lab"), b.join().expect("second lab"))
    });
    let (Some(lab), Some(other)) = (first, second) else {
        return;
    };
    assert_ne!(lab.portal_addr(), other.portal_addr());
    assert_eq!(lab.portal_status(), Some(200));
    assert_eq!(other.portal_status(), Some(200));

    // Drift on the standby: visible by SNMP, harmless while fw-a is active.
    lab.set_forwarding(Firewall::B, false);
    assert!(!lab.forwarding(Firewall::B));
    assert_eq!(ip_forwarding(&lab, Firewall::B), "2");
    assert_eq!(ip_forwarding(&lab, Firewall::A), "1");
    assert_eq!(lab.portal_status(), Some(200), "{}", lab.diagnostics());

    // fw-a's outside cable fails: fw-b takes over and cannot forward; the other lab is fine.
    lab.set_outside_link(Firewall::A, false);
    let failover = lab
        .wait_states(Firewall::B, VrrpState::Master, FAILOVER_TIMEOUT)
        .and_then(|()| lab.wait_states(Firewall::A, VrrpState::Fault, FAILOVER_TIMEOUT))
        .and_then(|()| lab.wait_portal(false, PORTAL_TIMEOUT));
    assert!(failover.is_ok(), "{failover:?}\n{}", lab.diagnostics());
    assert_eq!(other.portal_status(), Some(200), "{}", other.diagnostics());
    assert_eq!(other.vrrp_states(Firewall::A), [VrrpState::Master; 2]);

    // Forwarding back on the new active: the portal answers through fw-b.
    lab.set_forwarding(Firewall::B, true);
    let through_b = lab.wait_portal(true, PORTAL_TIMEOUT);
    assert!(through_b.is_ok(), "{through_b:?}\n{}", lab.diagnostics());

    let namespaces: Vec<String> = lab.namespaces().into_iter().map(String::from).collect();
    let links = lab.root_interfaces().to_vec();
    drop(lab);
    let left = namespace::list();
    assert!(
        namespaces.iter().all(|n| !left.contains(n)),
        "namespaces left behind: {left:?}"
    );
    for l in links {
        let (exists, _) = sh(&["ip", "link", "show", &l]);
        assert!(!exists, "root interface {l} left behind");
    }
}
