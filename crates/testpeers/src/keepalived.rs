//! keepalived (VRRP) in a network namespace, registered as an AgentX subagent of an snmpd so
//! that its KEEPALIVED-MIB and VRRP-MIB (RFC 2787) tables are readable by SNMP. Stopped with
//! SIGTERM on Drop, so that it takes its VRRP child (and the virtual addresses) with it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd;

/// KEEPALIVED-MIB `vrrpInstanceState`: init(0) backup(1) master(2) fault(3) ...
pub const VRRP_INSTANCE_STATE: &str = "1.3.6.1.4.1.9586.100.5.2.3.1.4";
/// How long keepalived gets to leave after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// A VRRP instance state as KEEPALIVED-MIB reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VrrpState {
    Init,
    Backup,
    Master,
    Fault,
    /// unknown(4), shutdown(5), deleted(6) or anything newer.
    Other(i64),
}

impl VrrpState {
    fn from_mib(v: i64) -> VrrpState {
        match v {
            0 => VrrpState::Init,
            1 => VrrpState::Backup,
            2 => VrrpState::Master,
            3 => VrrpState::Fault,
            n => VrrpState::Other(n),
        }
    }
}

/// One VRRP instance of a member: its name in the configuration and what it protects.
#[derive(Debug, Clone)]
pub struct VrrpInstance {
    pub name: String,
    pub interface: String,
    pub virtual_router_id: u8,
    /// Virtual address with prefix, e.g. `10.216.0.1/27`.
    pub vip: String,
}

/// The configuration of one member: every instance in one sync group (they fail over
/// together), `advert_int 1`, starting as BACKUP so that priority alone elects the master.
pub fn config(router_id: &str, agentx: &Path, priority: u8, instances: &[VrrpInstance]) -> String {
    let mut c = format!(
        "global_defs {{\n  router_id {router_id}\n  enable_snmp_vrrp\n  enable_snmp_rfcv2\n  \
         snmp_socket unix:{}\n}}\n",
        agentx.display()
    );
    c.push_str("vrrp_sync_group SG {\n  group {\n");
    for i in instances {
        c.push_str(&format!("    {}\n", i.name));
    }
    c.push_str("  }\n}\n");
    for i in instances {
        c.push_str(&format!(
            "vrrp_instance {} {{\n  state BACKUP\n  interface {}\n  virtual_router_id {}\n  \
             priority {priority}\n  advert_int 1\n  virtual_ipaddress {{\n    {}\n  }}\n}}\n",
            i.name, i.interface, i.virtual_router_id, i.vip
        ));
    }
    c
}

/// A running keepalived.
pub struct Keepalived {
    child: Child,
    log: PathBuf,
}

impl Keepalived {
    /// Write `config` to `dir/keepalived.conf` and start keepalived (VRRP only, foreground,
    /// detailed log to `dir/keepalived.log`, private pid files) inside namespace `netns`.
    pub fn start(netns: &str, dir: &Path, config: &str) -> Keepalived {
        let conf = dir.join("keepalived.conf");
        std::fs::write(&conf, config).expect("write keepalived.conf");
        let log = dir.join("keepalived.log");
        let out = std::fs::File::create(&log).expect("keepalived log file");
        let err = out.try_clone().expect("keepalived log file");
        let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
        std::fs::create_dir_all(dir.join("persist")).expect("keepalived persist dir");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                netns,
                "keepalived",
                "-n",
                "-P",
                "-l",
                "-D",
                "-f",
            ])
            .arg(&conf)
            .args(["-p", &p("k.pid"), "-r", &p("v.pid"), "-c", &p("c.pid")])
            // Its AgentX subagent keeps net-snmp state too: not in /var/lib/snmp.
            .env("SNMP_PERSISTENT_DIR", dir.join("persist"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn keepalived");
        Keepalived { child, log }
    }

    /// Its log (for failure messages).
    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        cmd::signal(self.child.id(), "TERM");
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The states of every VRRP instance of the member whose snmpd answers at `agent` (v2c
/// `public`), in instance order; empty when the agent or the subagent does not answer.
pub fn vrrp_states(agent: SocketAddr) -> Vec<VrrpState> {
    let out = Command::new("snmpwalk")
        .args([
            "-v2c", "-c", "public", "-t", "0.5", "-r", "1", "-m", "", "-Oqv",
        ])
        .arg(agent.to_string())
        .arg(VRRP_INSTANCE_STATE)
        .stdin(Stdio::null())
        .output();
    let Ok(out) = out else { return Vec::new() };
    if !out.status.success() {
        return Vec::new();
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<i64>().ok())
        .map(VrrpState::from_mib)
        .collect()
}
