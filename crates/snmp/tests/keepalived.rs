//! A real HA pair: two keepalived (VRRP) members in their own network namespaces on a shared
//! bridge, each with snmpd as AgentX master. The keepalived and vrrp profiles read each
//! member's role; taking the active member's link down fails it over.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_observe::HaRole;
use faultline_snmp::{Credentials, PollerConfig, SnmpPoller, Target};
use support::*;

/// keepalived in a namespace, stopped with SIGTERM (so it takes its VRRP child with it).
struct Keepalived(Child);

impl Drop for Keepalived {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Member {
    ns: Netns,
    snmpd: Option<Snmpd>,
    keepalived: Option<Keepalived>,
    target: Target,
}

impl Drop for Member {
    fn drop(&mut self) {
        // Processes first, then the namespace (Netns's own Drop).
        self.keepalived.take();
        self.snmpd.take();
    }
}

fn member(name: &str, bridge_ns: &Netns, priority: u32, lan_ip: &str) -> Option<Member> {
    let ns = Netns::new(name);
    let id = free_udp_port() % 16_000;
    let (a, b) = (id / 64, (id % 64) * 4);
    let (host_ip, mgmt_ip) = (
        format!("10.215.{a}.{}", b + 1),
        format!("10.215.{a}.{}", b + 2),
    );
    let host_if = format!("flk{id}");
    run(
        "ip",
        &[
            "link", "add", &host_if, "type", "veth", "peer", "name", "mgmt0", "netns", &ns.name,
        ],
    );
    run(
        "ip",
        &["addr", "add", &format!("{host_ip}/30"), "dev", &host_if],
    );
    run("ip", &["link", "set", &host_if, "up"]);
    ns.ip(&["addr", "add", &format!("{mgmt_ip}/30"), "dev", "mgmt0"]);
    ns.ip(&["link", "set", "mgmt0", "up"]);
    // LAN link to the shared bridge.
    let br_end = format!("{name}br");
    ns.ip(&[
        "link",
        "add",
        "lan0",
        "type",
        "veth",
        "peer",
        "name",
        &br_end,
        "netns",
        &bridge_ns.name,
    ]);
    ns.ip(&["addr", "add", &format!("{lan_ip}/24"), "dev", "lan0"]);
    ns.ip(&["link", "set", "lan0", "up"]);
    bridge_ns.ip(&["link", "set", &br_end, "master", "br0"]);
    bridge_ns.ip(&["link", "set", &br_end, "up"]);

    // snmpd as AgentX master on a private socket, then keepalived as its subagent.
    let snmpd = Snmpd::start_with(
        Some(&ns.name),
        &mgmt_ip,
        "master agentx\nagentXSocket unix:{dir}/agentx\n",
    )?;
    let dir = snmpd.dir.path().to_path_buf();
    let conf = dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n  router_id {name}\n  enable_snmp_vrrp\n  enable_snmp_rfcv2\n  snmp_socket unix:{d}/agentx\n}}\n\
             vrrp_instance VI_1 {{\n  state BACKUP\n  interface lan0\n  virtual_router_id 51\n  priority {priority}\n  advert_int 1\n  \
             virtual_ipaddress {{\n    192.168.77.100/24\n  }}\n}}\n",
            d = dir.display()
        ),
    )
    .expect("keepalived.conf");
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "keepalived",
            "-n",
            "-P",
            "-l",
            "-f",
        ])
        .arg(&conf)
        .args(["-p", &p("k.pid"), "-r", &p("v.pid"), "-c", &p("c.pid")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn keepalived");
    let mut target = Target::new(name, snmpd.addr, Credentials::v2c("public"));
    target.timeout = Duration::from_secs(1);
    target.profile = Some("keepalived".into());
    Some(Member {
        ns,
        snmpd: Some(snmpd),
        keepalived: Some(Keepalived(child)),
        target,
    })
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
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = (role(poller, a).await, role(poller, b).await);
        if got == (Some(want.0), Some(want.1)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: roles {got:?}, wanted {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn keepalived_pair_roles_and_failover() {
    if !require("keepalived") || !require("ip") || !is_root() {
        assert!(
            std::env::var_os("CI").is_none() || is_root(),
            "keepalived test needs root under CI"
        );
        return;
    }
    let bridge = Netns::new("br");
    bridge.ip(&["link", "add", "br0", "type", "bridge"]);
    bridge.ip(&["link", "set", "br0", "up"]);
    let Some(a) = member("ka", &bridge, 150, "192.168.77.1") else {
        return;
    };
    let Some(b) = member("kb", &bridge, 100, "192.168.77.2") else {
        return;
    };
    let poller = SnmpPoller::new(PollerConfig::default());

    // Higher priority wins: a active, b standby (KEEPALIVED-MIB vrrpInstanceState).
    wait_roles(
        &poller,
        &a.target,
        &b.target,
        (HaRole::Active, HaRole::Standby),
        "initial election",
    )
    .await;
    // The same roles through the standard VRRP-MIB (enable_snmp_rfcv2).
    let mut va = a.target.clone();
    va.profile = Some("vrrp".into());
    va.device_id = "ka-vrrp".into();
    assert_eq!(role(&poller, &va).await, Some(HaRole::Active));

    // Fail the active member's LAN link: it faults, the standby takes over.
    a.ns.ip(&["link", "set", "lan0", "down"]);
    wait_roles(
        &poller,
        &a.target,
        &b.target,
        (HaRole::Failed, HaRole::Active),
        "failover",
    )
    .await;
    drop((a, b));
}
