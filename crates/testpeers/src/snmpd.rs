//! A real net-snmp `snmpd` on loopback or inside a network namespace, in a private temp dir,
//! killed on Drop. It answers v2c community `public` and two v3 users ([`V3_USER`] with
//! SHA/AES, [`V3_SHA256_USER`] with SHA-256, no privacy).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_udp_port, have};

pub const V3_USER: &str = "rouser";
pub const V3_AUTH: &str = "authpass123";
pub const V3_PRIV: &str = "privpass123";
pub const V3_SHA256_USER: &str = "sha256user";
pub const V3_SHA256_AUTH: &str = "authpass456";

/// How long a fresh agent may take to answer its first request.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts on fresh ports when the chosen one was taken meanwhile.
const PORT_ATTEMPTS: usize = 5;

/// A running snmpd.
pub struct Snmpd {
    pub addr: SocketAddr,
    /// Its private directory: config, log, persistent state (and an AgentX socket, if asked).
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Snmpd {
    /// On 127.0.0.1, a free port. `None` (after a loud notice) when net-snmp is missing.
    pub fn start() -> Option<Snmpd> {
        Self::start_in(None, "127.0.0.1")
    }

    /// Inside `netns` if given, listening on `ip` (a free port).
    pub fn start_in(netns: Option<&str>, ip: &str) -> Option<Snmpd> {
        Self::start_with(netns, ip, "master off\n")
    }

    /// As [`Self::start_in`], with `extra` config lines (`{dir}` is replaced by the agent's
    /// directory, e.g. `agentXSocket unix:{dir}/agentx`).
    pub fn start_with(netns: Option<&str>, ip: &str, extra: &str) -> Option<Snmpd> {
        if !have("snmpd") || !have("snmpget") {
            return None;
        }
        for _ in 0..PORT_ATTEMPTS {
            let addr: SocketAddr = format!("{ip}:{}", free_udp_port())
                .parse()
                .expect("snmpd listen address");
            if let Some(s) = Self::try_start(netns, addr, extra) {
                return Some(s);
            }
        }
        panic!("snmpd did not become ready on {ip}");
    }

    /// On exactly `addr` (e.g. port 161 on a namespace's own address). Panics if it does not
    /// come up; `None` when net-snmp is missing.
    pub fn start_at(netns: Option<&str>, addr: SocketAddr, extra: &str) -> Option<Snmpd> {
        if !have("snmpd") || !have("snmpget") {
            return None;
        }
        match Self::try_start(netns, addr, extra) {
            Some(s) => Some(s),
            None => panic!("snmpd did not become ready on {addr}"),
        }
    }

    fn try_start(netns: Option<&str>, addr: SocketAddr, extra: &str) -> Option<Snmpd> {
        let dir = tempfile::tempdir().expect("snmpd temp dir");
        let conf = dir.path().join("snmpd.conf");
        std::fs::create_dir_all(dir.path().join("persist")).expect("snmpd persist dir");
        let (ip, port) = (addr.ip(), addr.port());
        std::fs::write(
            &conf,
            format!(
                "agentaddress udp:{ip}:{port}\nrocommunity public default\n\
                 createUser {V3_USER} SHA {V3_AUTH} AES {V3_PRIV}\nrouser {V3_USER} priv\n\
                 createUser {V3_SHA256_USER} SHA-256 {V3_SHA256_AUTH}\nrouser {V3_SHA256_USER} auth\n\
                 sysName faultline-test-{port}\ndontLogTCPWrappersConnects yes\n{extra}",
                extra = extra.replace("{dir}", &dir.path().to_string_lossy())
            ),
        )
        .expect("write snmpd.conf");
        let mut cmd = in_netns(netns, "/usr/sbin/snmpd");
        cmd.args(["-f", "-C", "-c"])
            .arg(&conf)
            .arg("-Lf")
            .arg(dir.path().join("snmpd.log"))
            .env("SNMP_PERSISTENT_DIR", dir.path().join("persist"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("spawn snmpd");
        let mut s = Snmpd { addr, dir, child };
        if s.wait_ready(netns) {
            Some(s)
        } else {
            None // Drop kills it.
        }
    }

    fn wait_ready(&mut self, netns: Option<&str>) -> bool {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let answered = in_netns(netns, "snmpget")
                .args(["-v2c", "-c", "public", "-t", "0.3", "-r", "0", "-m", ""])
                .arg(self.addr.to_string())
                .arg("1.3.6.1.2.1.1.5.0")
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success());
            if answered {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The sysName it reports.
    pub fn sys_name(&self) -> String {
        format!("faultline-test-{}", self.addr.port())
    }

    /// Its log file (`-Lf`).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("snmpd.log")
    }
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `bin`, run inside `netns` when given.
fn in_netns(netns: Option<&str>, bin: &str) -> Command {
    match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, bin]);
            c
        }
        None => Command::new(bin),
    }
}
