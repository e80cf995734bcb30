//! Test support shared by the real-peer tests (trap, probe): peer processes and network
//! namespaces with unique names, killed and deleted on Drop even when a test panics, and the
//! CI rule for missing peers (fail under `CI`, skip loudly otherwise).
//!
//! ```no_run
//! if faultline_testpeers::have("snmptrap") && faultline_testpeers::root() {
//!     let ns = faultline_testpeers::Netns::new("doc");
//!     let _ = ns.exec(&["ip", "link"]).status();
//! }
//! ```

pub mod alertmanager;
pub mod chromium;
pub mod cmd;
pub mod fake_agent;
pub mod heap;
pub mod http_receiver;
pub mod keepalived;
pub mod lldp;
pub mod namespace;
pub mod nats;
pub mod netblock;
pub mod ns_agent;
pub mod pagerduty;
pub mod ports;
pub mod seed;
pub mod snmpd;
pub mod snmpsim;
pub mod tls;
pub mod tmpfs;
pub mod wait;
pub mod web;
pub mod webhook;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// True if `bin` can be run. When it is missing: panic under CI (the peer must be installed
/// there), otherwise print a loud skip notice and return false.
pub fn have(bin: &str) -> bool {
    let found = ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"]
        .iter()
        .any(|d| Path::new(d).join(bin).exists());
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("required test peer `{bin}` is not installed (CI is set)");
    }
    eprintln!("\n*** SKIPPING: `{bin}` is not installed; install it to run this test ***\n");
    false
}

/// True if we are root (needed for namespaces and raw sockets). Same CI rule as `have`.
pub fn root() -> bool {
    let out = Command::new("id").arg("-u").output();
    let is_root = matches!(out, Ok(o) if String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        if std::env::var_os("CI").is_some() {
            panic!("this test needs root (CI is set)");
        }
        eprintln!("\n*** SKIPPING: this test needs root ***\n");
    }
    is_root
}

/// A free UDP port on 127.0.0.1 (bound then released; the race is acceptable in tests).
pub fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind ephemeral");
    s.local_addr().expect("local addr").port()
}

/// A child process killed (and reaped) on Drop, even when the test panics.
pub struct Peer(pub Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn spawn(cmd: &mut Command) -> Peer {
    Peer(cmd.stdin(Stdio::null()).spawn().expect("spawn peer"))
}

/// Run a command to completion; returns (success, stdout+stderr).
pub fn run(cmd: &mut Command) -> (bool, String) {
    match cmd.stdin(Stdio::null()).output() {
        Ok(o) => {
            let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            (o.status.success(), s)
        }
        Err(e) => (false, e.to_string()),
    }
}

pub fn sh(args: &[&str]) -> (bool, String) {
    run(Command::new(args[0]).args(&args[1..]))
}

static NS_SEQ: AtomicU32 = AtomicU32::new(0);

/// A network namespace joined to the host by a veth pair with a /30, deleted on Drop.
pub struct Netns {
    pub name: String,
    pub host_if: String,
    pub ns_if: String,
    pub host_ip: String,
    pub ns_ip: String,
}

impl Netns {
    /// Create a namespace with a veth pair. `octet` picks the 10.x.y.0/30 subnet so parallel
    /// tests do not collide; names embed pid and a sequence number.
    pub fn new(tag: &str) -> Netns {
        let seq = NS_SEQ.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let name = format!("fl{tag}{}-{seq}", pid % 100_000);
        let short = format!("{}{}", pid % 10_000, seq);
        let host_if = format!("fh{tag}{short}");
        let ns_if = format!("fn{tag}{short}");
        // Unique /30 per (pid, seq): 10.(100 + pid%100).(seq*4 % 256)
        let b = 100 + (pid % 100) as u8;
        let c = ((seq * 4) % 252) as u8;
        let host_ip = format!("10.{b}.{c}.1");
        let ns_ip = format!("10.{b}.{c}.2");
        let ns = Netns {
            name,
            host_if,
            ns_if,
            host_ip,
            ns_ip,
        };
        let steps: Vec<Vec<String>> = vec![
            vec!["ip", "netns", "add", &ns.name],
            vec![
                "ip",
                "link",
                "add",
                &ns.host_if,
                "type",
                "veth",
                "peer",
                "name",
                &ns.ns_if,
            ],
            vec!["ip", "link", "set", &ns.ns_if, "netns", &ns.name],
            vec![
                "ip",
                "addr",
                "add",
                &format!("{}/30", ns.host_ip),
                "dev",
                &ns.host_if,
            ],
            vec![
                "ip",
                "-n",
                &ns.name,
                "addr",
                "add",
                &format!("{}/30", ns.ns_ip),
                "dev",
                &ns.ns_if,
            ],
            vec!["ip", "link", "set", &ns.host_if, "up"],
            vec!["ip", "-n", &ns.name, "link", "set", &ns.ns_if, "up"],
            vec!["ip", "-n", &ns.name, "link", "set", "lo", "up"],
        ]
        .into_iter()
        .map(|v| v.into_iter().map(String::from).collect())
        .collect();
        for step in steps {
            let args: Vec<&str> = step.iter().map(String::as_str).collect();
            let (ok, out) = sh(&args);
            assert!(ok, "netns setup step {args:?} failed: {out}");
        }
        ns
    }

    pub fn exec(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(args);
        c
    }

    pub fn set_ns_link(&self, up: bool) {
        let (ok, out) = sh(&[
            "ip",
            "-n",
            &self.name,
            "link",
            "set",
            &self.ns_if,
            if up { "up" } else { "down" },
        ]);
        assert!(ok, "ip link set failed: {out}");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace destroys the veth pair (both ends) with it.
        let _ = sh(&["ip", "netns", "del", &self.name]);
        let _ = sh(&["ip", "link", "del", &self.host_if]);
    }
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}
