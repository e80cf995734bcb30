//! A real HA pair: the seed lab's two keepalived (VRRP) members in their own network
//! namespaces, each with snmpd as AgentX master (faultline_testpeers::seed). The keepalived and
//! vrrp profiles read each member's role; pulling the active member's outside cable fails it
//! over.

use std::time::{Duration, Instant};

use faultline_observe::HaRole;
use faultline_snmp::{Credentials, PollerConfig, SnmpPoller, Target};
use faultline_testpeers::seed::{Firewall, SeedLab};

/// Failover takes ~4 s with `advert_int 1`; the agent may lag a poll behind.
const ROLE_TIMEOUT: Duration = Duration::from_secs(30);

fn target(lab: &SeedLab, fw: Firewall, profile: &str) -> Target {
    let mut t = Target::new(
        format!("{}-{profile}", fw.id()),
        lab.snmp_addr(fw),
        Credentials::v2c("public"),
    );
    t.timeout = Duration::from_secs(1);
    t.profile = Some(profile.into());
    t
}

async fn role(poller: &SnmpPoller, t: &Target) -> Option<HaRole> {
    poller.poll(t, None).await.report.ha.map(|h| h.role)
}

async fn wait_roles(
    poller: &SnmpPoller,
    a: &Target,
    b: &Target,
    want: (HaRole, HaRole),
    what: &str,
    lab: &SeedLab,
) {
    let deadline = Instant::now() + ROLE_TIMEOUT;
    loop {
        let got = (role(poller, a).await, role(poller, b).await);
        if got == (Some(want.0), Some(want.1)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: roles {got:?}, wanted {want:?}\n{}",
            lab.diagnostics()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalived_pair_roles_and_failover() {
    let Some(lab) = tokio::task::block_in_place(SeedLab::start) else {
        return;
    };
    let poller = SnmpPoller::new(PollerConfig::default());
    let a = target(&lab, Firewall::A, "keepalived");
    let b = target(&lab, Firewall::B, "keepalived");

    // Higher priority wins: fw-a active, fw-b standby (KEEPALIVED-MIB vrrpInstanceState).
    let want = (HaRole::Active, HaRole::Standby);
    wait_roles(&poller, &a, &b, want, "initial election", &lab).await;
    // The same roles through the standard VRRP-MIB (enable_snmp_rfcv2).
    let va = target(&lab, Firewall::A, "vrrp");
    let vb = target(&lab, Firewall::B, "vrrp");
    assert_eq!(role(&poller, &va).await, Some(HaRole::Active));
    assert_eq!(role(&poller, &vb).await, Some(HaRole::Standby));

    // Pull fw-a's outside cable: it faults, fw-b takes over.
    lab.set_outside_link(Firewall::A, false);
    let want = (HaRole::Failed, HaRole::Active);
    wait_roles(&poller, &a, &b, want, "failover", &lab).await;
}
