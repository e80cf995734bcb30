//! A cabling lab for LLDP discovery: nodes in network namespaces, each running Debian's
//! `lldpd` as an AgentX subagent of its own `snmpd` (LLDP-MIB served on the node's management
//! address, port 161), veth cables between them (`swpN` interfaces, the only ones lldpd
//! speaks on), and a management bridge in a namespace of its own that the root namespace
//! reaches through a veth in a claimed address block. lldpd transmits every second
//! (`tx-interval 1`), so a re-plugged cable shows within a few seconds.
//!
//! Dropped in order: lldpd and snmpd processes, node namespaces, the bridge namespace, the
//! root-side interface, files, the address claim.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::namespace::Namespace;
use crate::netblock::NetBlock;
use crate::{Peer, cmd, have, root};

/// Host part of the root namespace's address in the block.
const ROOT_HOST: u8 = 1;
/// Host part of node 0's management address (node i has `NODE_HOST0 + i`).
const NODE_HOST0: u8 = 10;
const LAN_PREFIX: u8 = 24;
/// snmpd must answer (and lldpd connect to it) within this.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// One end of a cable: node index and interface name (`swp1`...).
pub type Port<'a> = (usize, &'a str);

/// A node: its processes (dropped first) and namespace.
struct Node {
    _lldpd: Peer,
    _snmpd: Peer,
    ns: Namespace,
    name: String,
}

/// Interfaces created in the root namespace, deleted on Drop.
struct RootLink(String);

impl Drop for RootLink {
    fn drop(&mut self) {
        cmd::quiet(&["ip", "link", "del", &self.0]);
    }
}

/// The running lab.
pub struct LldpLab {
    nodes: Vec<Node>,
    lan: Namespace,
    _root_link: RootLink,
    dir: tempfile::TempDir,
    block: NetBlock,
}

impl LldpLab {
    /// `n` nodes named `{prefix}1`..`{prefix}n` with the given cables. `None` (after a loud
    /// notice) without root or the peers; under `CI` that panics instead.
    pub fn start(prefix: &str, n: usize, cables: &[(Port<'_>, Port<'_>)]) -> Option<LldpLab> {
        let needed = ["ip", "snmpd", "snmpget", "snmpwalk", "lldpd", "lldpcli"];
        if !root() || !needed.iter().all(|b| have(b)) {
            return None;
        }
        let block = NetBlock::claim();
        let dir = tempfile::tempdir().expect("lab temp dir");
        // lldpcli is set-uid _lldpd: it must reach the control sockets in here.
        cmd::ok(&["chmod", "755", &dir.path().to_string_lossy()]);
        // lldpd's privilege-separated child chroots here (systemd creates it on hosts).
        std::fs::create_dir_all("/run/lldpd").expect("create /run/lldpd");
        let lan = Namespace::named(&block.name("lan"));
        lan.ip(&["link", "add", "br0", "type", "bridge"]);
        lan.ip(&["link", "set", "br0", "up"]);
        let root_if = block.name("m");
        cmd::ok(&[
            "ip",
            "link",
            "add",
            &root_if,
            "type",
            "veth",
            "peer",
            "name",
            "root",
            "netns",
            lan.name(),
        ]);
        let root_link = RootLink(root_if.clone());
        let cidr = format!("{}/{LAN_PREFIX}", block.addr(ROOT_HOST));
        cmd::ok(&["ip", "addr", "add", &cidr, "dev", &root_if]);
        cmd::ok(&["ip", "link", "set", &root_if, "up"]);
        plug(&lan, "root");
        let mut lab = LldpLab {
            nodes: Vec::with_capacity(n),
            lan,
            _root_link: root_link,
            dir,
            block,
        };
        for i in 0..n {
            let name = format!("{prefix}{}", i + 1);
            let node = lab.node(i, &name);
            lab.nodes.push(node);
        }
        for (a, b) in cables {
            lab.cable(*a, *b);
        }
        Some(lab)
    }

    /// Node `i`'s namespace, management veth and address; snmpd then lldpd started in it.
    fn node(&self, i: usize, name: &str) -> Node {
        let ns = Namespace::named(&self.block.name(&format!("n{i}")));
        let lan_side = format!("n{i}");
        ns.ip(&[
            "link",
            "add",
            "mgmt",
            "type",
            "veth",
            "peer",
            "name",
            &lan_side,
            "netns",
            self.lan.name(),
        ]);
        plug(&self.lan, &lan_side);
        let ip = self.mgmt_ip(i);
        ns.ip(&["addr", "add", &format!("{ip}/{LAN_PREFIX}"), "dev", "mgmt"]);
        ns.ip(&["link", "set", "mgmt", "up"]);
        let dir = self.dir.path();
        let agentx = dir.join(format!("agentx-{i}"));
        let conf = dir.join(format!("snmpd-{i}.conf"));
        std::fs::write(
            &conf,
            format!(
                "agentaddress udp:{ip}:161\nrocommunity public default\nsysName {name}\n\
                 master agentx\nagentXSocket unix:{}\ndontLogTCPWrappersConnects yes\n",
                agentx.display()
            ),
        )
        .expect("write snmpd.conf");
        let snmpd = crate::spawn(
            ns.exec(&["/usr/sbin/snmpd", "-f", "-C", "-c"])
                .arg(&conf)
                .arg("-Lf")
                .arg(dir.join(format!("snmpd-{i}.log")))
                .env("SNMP_PERSISTENT_DIR", dir.join(format!("persist-{i}")))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_snmp(&ns, ip, dir);
        let lldp_conf = dir.join(format!("lldpd-{i}.conf"));
        std::fs::write(
            &lldp_conf,
            format!("configure system hostname {name}\nconfigure lldp tx-interval 1\n"),
        )
        .expect("write lldpd.conf");
        let log = std::fs::File::create(dir.join(format!("lldpd-{i}.log"))).expect("lldpd log");
        let lldpd = crate::spawn(
            ns.exec(&["/usr/sbin/lldpd", "-d", "-x", "-X"])
                .arg(&agentx)
                .arg("-u")
                .arg(self.control(i))
                .args(["-I", "swp*", "-m", &ip.to_string(), "-O"])
                .arg(&lldp_conf)
                .stdout(Stdio::null())
                .stderr(log),
        );
        Node {
            _lldpd: lldpd,
            _snmpd: snmpd,
            ns,
            name: name.to_owned(),
        }
    }

    fn control(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("lldpd-{i}.sock"))
    }

    /// Connect two ports with a veth pair.
    pub fn cable(&self, a: Port<'_>, b: Port<'_>) {
        let (na, nb) = (&self.nodes[a.0].ns, &self.nodes[b.0].ns);
        na.ip(&[
            "link",
            "add",
            a.1,
            "type",
            "veth",
            "peer",
            "name",
            b.1,
            "netns",
            nb.name(),
        ]);
        na.ip(&["link", "set", a.1, "up"]);
        nb.ip(&["link", "set", b.1, "up"]);
    }

    /// Pull the cable end at `from` and plug it into `to` (another node or port): the other
    /// end stays where it was.
    pub fn replug(&self, from: Port<'_>, to: Port<'_>) {
        let (src, dst) = (&self.nodes[from.0].ns, &self.nodes[to.0].ns);
        src.ip(&["link", "set", from.1, "down"]);
        // Renamed on the way: the target may have an interface of the same name.
        src.ip(&["link", "set", from.1, "name", "flreplug"]);
        if from.0 != to.0 {
            src.ip(&["link", "set", "flreplug", "netns", dst.name()]);
        }
        dst.ip(&["link", "set", "flreplug", "name", to.1]);
        dst.ip(&["link", "set", to.1, "up"]);
    }

    /// Management address of node `i` (its agent listens on port 161 there).
    pub fn mgmt_ip(&self, i: usize) -> Ipv4Addr {
        self.block
            .addr(NODE_HOST0 + u8::try_from(i).expect("fewer than 200 nodes"))
    }

    /// sysName (and LLDP system name) of node `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    /// Neighbours node `i`'s agent lists now (lldpRemSysName rows).
    pub fn neighbour_count(&self, i: usize) -> usize {
        let out = Command::new("snmpwalk")
            .args(["-v2c", "-c", "public", "-On", "-t", "1", "-r", "1"])
            .arg(format!("{}:161", self.mgmt_ip(i)))
            .arg("1.0.8802.1.1.2.1.4.1.1.9")
            .stdin(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        out.lines()
            .filter(|l| l.starts_with(".1.0.8802.1.1.2.1.4.1.1.9."))
            .count()
    }

    /// Wait until every node's agent lists `expected[i]` neighbours; panics with the logs'
    /// directory after `timeout`.
    pub fn wait_neighbours(&self, expected: &[usize], timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let now: Vec<usize> = (0..self.nodes.len())
                .map(|i| self.neighbour_count(i))
                .collect();
            if now == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "LLDP neighbours {now:?}, expected {expected:?} (logs in {})",
                self.dir().display()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The lab's files (configs and logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Attach interface `port` of the bridge namespace to `br0`.
fn plug(lan: &Namespace, port: &str) {
    lan.ip(&["link", "set", port, "master", "br0"]);
    lan.ip(&["link", "set", port, "up"]);
}

/// Wait until the node's snmpd answers on its management address.
fn wait_snmp(ns: &Namespace, ip: Ipv4Addr, dir: &Path) {
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        let answered = ns
            .exec(&[
                "snmpget", "-v2c", "-c", "public", "-t", "0.3", "-r", "0", "-m", "",
            ])
            .arg(format!("{ip}:161"))
            .arg("1.3.6.1.2.1.1.5.0")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success());
        if answered {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "snmpd in {} did not answer (logs in {})",
        ns.name(),
        dir.display()
    );
}
