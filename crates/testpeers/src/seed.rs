//! The seed incident's lab: a real keepalived (VRRP) firewall pair in network namespaces
//! between the test's namespace (where the collector runs) and a web server serving the
//! portal, each firewall with snmpd and keepalived's AgentX subagent on a management port.
//!
//! ```text
//!  root namespace (collector)              switch namespace: bridges brout and brin
//!  flbN-o  .10/27 ── root ─┬─ brout ─┬─ fwa-out ── out0 fw-a .2 ┐ outside VIP .1
//!  route .32/27 via VIP .1 │         └─ fwb-out ── out0 fw-b .3 ┘ (VRRP, sync group)
//!                          └─ brin  ─┬─ fwa-in  ── in0  fw-a .34 ┐ inside VIP .33
//!                                    ├─ fwb-in  ── in0  fw-b .35 ┘
//!                                    └─ web ───── eth0 web .40 (portal on :80, via .33)
//!                          brdmz ─┬─ fwa-dmz ── dmz0 fw-a .98  (a DMZ segment without VRRP:
//!                                 └─ fwb-dmz ── dmz0 fw-b .99   its cable fails no one over)
//!  flbN-ma .65/30 ── mgmt0 fw-a .66 (snmpd :161, AgentX master; keepalived subagent)
//!  flbN-mb .69/30 ── mgmt0 fw-b .70
//! ```
//!
//! All addresses are in one claimed [`NetBlock`] (10.B.C.0/24), so labs run in parallel.
//! fw-a has the higher priority and is the active member; both forward
//! (`net.ipv4.ip_forward=1`) until a test changes that. Everything is removed on Drop, even
//! when the test panics; a lab left behind by a killed test is swept at the next claim.
//!
//! ```no_run
//! use faultline_testpeers::seed::{Firewall, SeedLab};
//! use std::time::Duration;
//! let Some(lab) = SeedLab::start() else { return };   // None: skipped (missing peer)
//! lab.set_forwarding(Firewall::B, false);             // configuration drift on the standby
//! lab.set_outside_link(Firewall::A, false);           // the active member loses its uplink
//! lab.wait_states(Firewall::B, faultline_testpeers::keepalived::VrrpState::Master,
//!                 Duration::from_secs(20)).unwrap();
//! assert!(lab.wait_portal(false, Duration::from_secs(10)).is_ok());
//! ```

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::keepalived::{self, Keepalived, VrrpInstance, VrrpState};
use crate::namespace::Namespace;
use crate::netblock::NetBlock;
use crate::snmpd::Snmpd;
use crate::web::{self, WebServer};
use crate::{cmd, have, root};

/// Host numbers inside the lab's /24.
const OUTSIDE_VIP: u8 = 1;
const COLLECTOR: u8 = 10;
const INSIDE_VIP: u8 = 33;
const WEB: u8 = 40;
/// The outside and inside networks are /27s at .0 and .32; management links are /30s.
const LAN_PREFIX: u8 = 27;
const INSIDE_NET: u8 = 32;
/// The DMZ network is a /27 at .96.
const DMZ_NET: u8 = 96;
/// SNMP and HTTP listen on their usual ports: each namespace has its own addresses.
const SNMP_PORT: u16 = 161;
const HTTP_PORT: u16 = 80;
/// Initial election: keepalived's master-down interval with `advert_int 1` is ~3.6 s.
const ELECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// The portal answering through the fresh pair.
const PORTAL_TIMEOUT: Duration = Duration::from_secs(15);
/// One readiness probe of the portal.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// A member of the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firewall {
    A,
    B,
}

impl Firewall {
    /// Its device id in the lab's topology.
    pub fn id(self) -> &'static str {
        match self {
            Firewall::A => "fw-a",
            Firewall::B => "fw-b",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Firewall::A => "fwa",
            Firewall::B => "fwb",
        }
    }

    fn index(self) -> usize {
        match self {
            Firewall::A => 0,
            Firewall::B => 1,
        }
    }

    /// Its own addresses: outside, inside, management (and the root end of that link).
    fn hosts(self) -> (u8, u8, u8, u8) {
        match self {
            Firewall::A => (2, 34, 66, 65),
            Firewall::B => (3, 35, 70, 69),
        }
    }

    /// Its address on the DMZ network.
    fn dmz_host(self) -> u8 {
        match self {
            Firewall::A => DMZ_NET + 2,
            Firewall::B => DMZ_NET + 3,
        }
    }

    fn priority(self) -> u8 {
        match self {
            Firewall::A => 150,
            Firewall::B => 100,
        }
    }
}

/// One firewall: its processes (stopped first) and its namespace.
struct Member {
    keepalived: Keepalived,
    snmpd: Snmpd,
    ns: Namespace,
}

/// Interfaces created in the root namespace, deleted on Drop.
struct RootLinks(Vec<String>);

impl Drop for RootLinks {
    fn drop(&mut self) {
        for l in &self.0 {
            cmd::quiet(&["ip", "link", "del", l]);
        }
    }
}

/// The running lab. Fields drop in order: processes, namespaces, root links, files, the claim.
pub struct SeedLab {
    web: WebServer,
    members: [Member; 2],
    web_ns: Namespace,
    switch: Namespace,
    root_links: RootLinks,
    dir: tempfile::TempDir,
    block: NetBlock,
}

impl SeedLab {
    /// Build the lab and wait until fw-a is master, fw-b backup and the portal answers from
    /// the root namespace. `None` (after a loud notice) when a peer or root is missing; under
    /// `CI` that panics instead. Panics, with the peers' logs, if the lab does not come up.
    pub fn start() -> Option<SeedLab> {
        let needed = [
            "ip",
            "keepalived",
            "snmpd",
            "snmpwalk",
            "sysctl",
            "/usr/bin/python3",
        ];
        if !root() || !needed.iter().all(|b| have(b)) {
            return None;
        }
        let block = NetBlock::claim();
        let dir = tempfile::tempdir().expect("lab temp dir");
        let switch = Namespace::named(&block.name("sw"));
        for br in ["brout", "brin", "brdmz"] {
            switch.ip(&["link", "add", br, "type", "bridge"]);
            switch.ip(&["link", "set", br, "up"]);
        }
        let mut root_links = RootLinks(Vec::new());
        let outside = block.name("o");
        cmd::ok(&[
            "ip",
            "link",
            "add",
            &outside,
            "type",
            "veth",
            "peer",
            "name",
            "root",
            "netns",
            switch.name(),
        ]);
        root_links.0.push(outside.clone());
        let cidr = |host: u8, prefix: u8| format!("{}/{prefix}", block.addr(host));
        cmd::ok(&[
            "ip",
            "addr",
            "add",
            &cidr(COLLECTOR, LAN_PREFIX),
            "dev",
            &outside,
        ]);
        cmd::ok(&["ip", "link", "set", &outside, "up"]);
        plug(&switch, "root", "brout");

        let a = member(Firewall::A, &block, &switch, dir.path(), &mut root_links)?;
        let b = member(Firewall::B, &block, &switch, dir.path(), &mut root_links)?;

        let web_ns = Namespace::named(&block.name("web"));
        web_ns.ip(&[
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            "web",
            "netns",
            switch.name(),
        ]);
        plug(&switch, "web", "brin");
        web_ns.ip(&["addr", "add", &cidr(WEB, LAN_PREFIX), "dev", "eth0"]);
        web_ns.ip(&["link", "set", "eth0", "up"]);
        let gw = block.addr(INSIDE_VIP).to_string();
        web_ns.ip(&["route", "add", "default", "via", &gw]);
        let site = dir.path().join("site");
        std::fs::create_dir_all(&site).expect("site dir");
        std::fs::write(
            site.join("index.html"),
            "<!doctype html><title>Contractor portal</title><h1>Contractor portal</h1>\n",
        )
        .expect("write index.html");
        let web_addr = SocketAddr::V4(SocketAddrV4::new(block.addr(WEB), HTTP_PORT));
        let web = WebServer::start(web_ns.name(), web_addr, &site, &dir.path().join("web.log"))?;

        // The collector reaches the inside network through whichever member holds the VIP.
        let inside = cidr(INSIDE_NET, LAN_PREFIX);
        let vip = block.addr(OUTSIDE_VIP).to_string();
        cmd::ok(&["ip", "route", "add", &inside, "via", &vip, "dev", &outside]);

        let lab = SeedLab {
            web,
            members: [a, b],
            web_ns,
            switch,
            root_links,
            dir,
            block,
        };
        let ready = lab
            .wait_states(Firewall::A, VrrpState::Master, ELECTION_TIMEOUT)
            .and_then(|()| lab.wait_states(Firewall::B, VrrpState::Backup, ELECTION_TIMEOUT))
            .and_then(|()| lab.wait_portal(true, PORTAL_TIMEOUT));
        if let Err(e) = ready {
            panic!("the seed lab did not come up: {e}\n{}", lab.diagnostics());
        }
        Some(lab)
    }

    /// The lab's working directory (peer configs and logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The namespace of a member (to run commands in it).
    pub fn namespace(&self, fw: Firewall) -> &Namespace {
        &self.members[fw.index()].ns
    }

    /// Every namespace of the lab (switch, members, web), for leak checks.
    pub fn namespaces(&self) -> Vec<&str> {
        vec![
            self.switch.name(),
            self.members[0].ns.name(),
            self.members[1].ns.name(),
            self.web_ns.name(),
        ]
    }

    /// The lab's interfaces in the root namespace (outside, two management links).
    pub fn root_interfaces(&self) -> &[String] {
        &self.root_links.0
    }

    /// The namespace of the web server.
    pub fn web_namespace(&self) -> &Namespace {
        &self.web_ns
    }

    /// A member's management address (its snmpd listens on port 161 there).
    pub fn mgmt_ip(&self, fw: Firewall) -> Ipv4Addr {
        self.block.addr(fw.hosts().2)
    }

    /// A member's SNMP agent (v2c community `public`).
    pub fn snmp_addr(&self, fw: Firewall) -> SocketAddr {
        self.members[fw.index()].snmpd.addr
    }

    /// The portal's address (HTTP on port 80 inside the web namespace).
    pub fn portal_addr(&self) -> SocketAddr {
        self.web.addr
    }

    /// The URL a probe from the root namespace uses.
    pub fn portal_url(&self) -> String {
        format!("http://{}/", self.web.addr)
    }

    /// The outside virtual address (the root namespace's gateway to the inside).
    pub fn outside_vip(&self) -> Ipv4Addr {
        self.block.addr(OUTSIDE_VIP)
    }

    /// The inside virtual address (the web server's default gateway).
    pub fn inside_vip(&self) -> Ipv4Addr {
        self.block.addr(INSIDE_VIP)
    }

    /// The root namespace's address on the outside network.
    pub fn collector_ip(&self) -> Ipv4Addr {
        self.block.addr(COLLECTOR)
    }

    /// Plug or pull a member's outside cable at the switch: its `out0` loses carrier (oper
    /// down, admin still up), as when a cable or the switch port fails.
    pub fn set_outside_link(&self, fw: Firewall, up: bool) {
        self.set_port(&format!("{}-out", fw.tag()), up);
    }

    /// The same for a member's inside cable (`in0`).
    pub fn set_inside_link(&self, fw: Firewall, up: bool) {
        self.set_port(&format!("{}-in", fw.tag()), up);
    }

    /// The same for a member's DMZ cable (`dmz0`), an interface no VRRP instance is on: its
    /// loss fails nothing over, it only leaves that member unable to serve the DMZ.
    pub fn set_dmz_link(&self, fw: Firewall, up: bool) {
        self.set_port(&format!("{}-dmz", fw.tag()), up);
    }

    fn set_port(&self, port: &str, up: bool) {
        self.switch
            .ip(&["link", "set", port, if up { "up" } else { "down" }]);
    }

    /// Turn a member's IPv4 forwarding on or off (`off` is the configuration drift of the
    /// seed incident; VRRP stays healthy, IP-MIB ipForwarding.0 reads 2).
    pub fn set_forwarding(&self, fw: Firewall, on: bool) {
        self.namespace(fw)
            .sysctl("net.ipv4.ip_forward", if on { "1" } else { "0" });
    }

    /// Whether a member forwards IPv4 now.
    pub fn forwarding(&self, fw: Firewall) -> bool {
        self.namespace(fw).sysctl_get("net.ipv4.ip_forward") == "1"
    }

    /// The states of a member's VRRP instances (outside, inside) as its agent reports them.
    pub fn vrrp_states(&self, fw: Firewall) -> Vec<VrrpState> {
        keepalived::vrrp_states(self.snmp_addr(fw))
    }

    /// Wait until every VRRP instance of `fw` is in `want`.
    pub fn wait_states(
        &self,
        fw: Firewall,
        want: VrrpState,
        timeout: Duration,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.vrrp_states(fw);
            if got.len() == 2 && got.iter().all(|s| *s == want) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{}: VRRP states {got:?} after {timeout:?}, wanted {want:?} on both instances",
                    fw.id()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The portal's HTTP status seen from the root namespace; `None` when it does not answer.
    pub fn portal_status(&self) -> Option<u16> {
        web::http_status(self.web.addr, "/", PROBE_TIMEOUT)
    }

    /// Wait until the portal answers 200 (`ok`) or stops answering 200 (`!ok`).
    pub fn wait_portal(&self, ok: bool, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.portal_status();
            if (got == Some(200)) == ok {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "portal {}: status {got:?} after {timeout:?}, wanted {}",
                    self.portal_url(),
                    if ok { "200" } else { "a failure" }
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The lab's values for templates: `fw_a_mgmt`, `fw_b_mgmt`, `snmp_port`, `portal_url`,
    /// `web_ip`, `outside_vip`, `inside_vip`, `collector_ip`.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("fw_a_mgmt", self.mgmt_ip(Firewall::A).to_string()),
            ("fw_b_mgmt", self.mgmt_ip(Firewall::B).to_string()),
            ("snmp_port", SNMP_PORT.to_string()),
            ("portal_url", self.portal_url()),
            ("web_ip", self.web.addr.ip().to_string()),
            ("outside_vip", self.outside_vip().to_string()),
            ("inside_vip", self.inside_vip().to_string()),
            ("collector_ip", self.collector_ip().to_string()),
        ]
    }

    /// Replace `{{name}}` in `template` with the lab's [`vars`](Self::vars) and `extra`.
    /// Panics on a `{{name}}` left unfilled (a typo would otherwise surface much later).
    pub fn render(&self, template: &str, extra: &[(&str, String)]) -> String {
        let mut out = template.to_string();
        let vars = self.vars();
        let all = vars
            .iter()
            .map(|(k, v)| (*k, v))
            .chain(extra.iter().map(|(k, v)| (*k, v)));
        for (k, v) in all {
            out = out.replace(&format!("{{{{{k}}}}}"), v);
        }
        if let Some(left) = unfilled(&out) {
            panic!("template placeholder {{{{{left}}}}} not filled");
        }
        out
    }

    /// What a failing test should print: roles, forwarding, and the peers' log tails.
    pub fn diagnostics(&self) -> String {
        let mut s = String::from("--- seed lab ---\n");
        for fw in [Firewall::A, Firewall::B] {
            s.push_str(&format!(
                "{}: vrrp {:?}, ip_forward {}\n",
                fw.id(),
                self.vrrp_states(fw),
                self.namespace(fw).sysctl_get("net.ipv4.ip_forward"),
            ));
        }
        s.push_str(&format!("portal: {:?}\n", self.portal_status()));
        for fw in [Firewall::A, Firewall::B] {
            let m = &self.members[fw.index()];
            s.push_str(&format!("--- {} keepalived.log (tail) ---\n", fw.id()));
            s.push_str(&tail(m.keepalived.log_path(), 15));
            s.push_str(&format!("--- {} snmpd.log (tail) ---\n", fw.id()));
            s.push_str(&tail(&m.snmpd.log_path(), 5));
        }
        s.push_str("--- web.log (tail) ---\n");
        s.push_str(&tail(&self.dir.path().join("web.log"), 5));
        s
    }
}

/// The first `{{name}}` (letters, digits, `_`) left in `text`.
fn unfilled(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        let after = &rest[at + 2..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if len > 0 && after[len..].starts_with("}}") {
            return Some(&after[..len]);
        }
        rest = after;
    }
    None
}

/// Attach a switch-side veth end to a bridge and bring it up.
fn plug(switch: &Namespace, port: &str, bridge: &str) {
    switch.ip(&["link", "set", port, "master", bridge]);
    switch.ip(&["link", "set", port, "up"]);
}

/// Build one member: namespace, cables to the switch, management link to the root namespace,
/// snmpd (AgentX master) and keepalived.
fn member(
    fw: Firewall,
    block: &NetBlock,
    switch: &Namespace,
    dir: &Path,
    root_links: &mut RootLinks,
) -> Option<Member> {
    let (out_host, in_host, mgmt_host, root_host) = fw.hosts();
    let ns = Namespace::named(&block.name(fw.tag()));
    ns.sysctl("net.ipv4.ip_forward", "1");
    for (ifname, port, bridge, host) in [
        ("out0", format!("{}-out", fw.tag()), "brout", out_host),
        ("in0", format!("{}-in", fw.tag()), "brin", in_host),
        ("dmz0", format!("{}-dmz", fw.tag()), "brdmz", fw.dmz_host()),
    ] {
        ns.ip(&[
            "link",
            "add",
            ifname,
            "type",
            "veth",
            "peer",
            "name",
            &port,
            "netns",
            switch.name(),
        ]);
        plug(switch, &port, bridge);
        let addr = format!("{}/{LAN_PREFIX}", block.addr(host));
        ns.ip(&["addr", "add", &addr, "dev", ifname]);
        ns.ip(&["link", "set", ifname, "up"]);
    }
    let host_if = block.name(&format!("m{}", &fw.tag()[2..]));
    cmd::ok(&[
        "ip",
        "link",
        "add",
        &host_if,
        "type",
        "veth",
        "peer",
        "name",
        "mgmt0",
        "netns",
        ns.name(),
    ]);
    root_links.0.push(host_if.clone());
    let root_addr = format!("{}/30", block.addr(root_host));
    cmd::ok(&["ip", "addr", "add", &root_addr, "dev", &host_if]);
    cmd::ok(&["ip", "link", "set", &host_if, "up"]);
    ns.ip(&[
        "addr",
        "add",
        &format!("{}/30", block.addr(mgmt_host)),
        "dev",
        "mgmt0",
    ]);
    ns.ip(&["link", "set", "mgmt0", "up"]);

    let agent = SocketAddr::V4(SocketAddrV4::new(block.addr(mgmt_host), SNMP_PORT));
    let snmpd = Snmpd::start_at(
        Some(ns.name()),
        agent,
        "master agentx\nagentXSocket unix:{dir}/agentx\n",
    )?;
    let kdir = dir.join(fw.id());
    std::fs::create_dir_all(&kdir).expect("member dir");
    let instances = [
        VrrpInstance {
            name: "OUTSIDE".into(),
            interface: "out0".into(),
            virtual_router_id: 51,
            vip: format!("{}/{LAN_PREFIX}", block.addr(OUTSIDE_VIP)),
        },
        VrrpInstance {
            name: "INSIDE".into(),
            interface: "in0".into(),
            virtual_router_id: 52,
            vip: format!("{}/{LAN_PREFIX}", block.addr(INSIDE_VIP)),
        },
    ];
    let conf = keepalived::config(
        fw.id(),
        &snmpd.dir.path().join("agentx"),
        fw.priority(),
        &instances,
    );
    let keepalived = Keepalived::start(ns.name(), &kdir, &conf);
    Some(Member {
        keepalived,
        snmpd,
        ns,
    })
}

/// The last `n` lines of a file (empty when it cannot be read).
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut s = lines[lines.len().saturating_sub(n)..].join("\n");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::unfilled;

    #[test]
    fn only_named_placeholders_count_as_unfilled() {
        assert_eq!(unfilled("a {{fw_a_mgmt}} b"), Some("fw_a_mgmt"));
        assert_eq!(unfilled("# `{{...}}` are filled in"), None);
        assert_eq!(unfilled("{{ spaced }} {{x}}"), Some("x"));
        assert_eq!(unfilled("no braces"), None);
    }
}
