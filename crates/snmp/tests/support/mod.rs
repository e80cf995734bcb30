//! Test support: real peers (net-snmp snmpd, snmpsim, a garbage UDP responder) started on
//! free loopback ports in private temp dirs, and stopped on Drop even when a test panics.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// True if `bin` exists. Missing peers fail under CI and skip loudly elsewhere.
pub fn require(bin: &str) -> bool {
    let found = Path::new(bin).is_absolute() && Path::new(bin).exists()
        || Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {bin}"))
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("required test peer {bin} is missing (CI is set)");
        }
        eprintln!("\n!!!!! SKIPPING: test peer {bin} is not installed !!!!!\n");
    }
    found
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A UDP port nobody listens on right now.
pub fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind ephemeral port");
    s.local_addr().expect("local addr").port()
}

/// Run a command and return stdout, panicking with stderr on failure.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub const V3_USER: &str = "rouser";
pub const V3_AUTH: &str = "authpass123";
pub const V3_PRIV: &str = "privpass123";
pub const V3_SHA256_USER: &str = "sha256user";
pub const V3_SHA256_AUTH: &str = "authpass456";

/// A net-snmp snmpd on loopback (or inside a network namespace), killed on Drop.
pub struct Snmpd {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Snmpd {
    pub fn start() -> Option<Snmpd> {
        Self::start_in(None, "127.0.0.1")
    }

    /// Start snmpd, inside `netns` if given, listening on `ip`.
    pub fn start_in(netns: Option<&str>, ip: &str) -> Option<Snmpd> {
        Self::start_with(netns, ip, "master off\n")
    }

    /// As `start_in`, with `extra` config lines (`{dir}` is replaced by the agent's temp dir).
    pub fn start_with(netns: Option<&str>, ip: &str, extra: &str) -> Option<Snmpd> {
        if !require("/usr/sbin/snmpd") || !require("snmpget") {
            return None;
        }
        for _attempt in 0..5 {
            let port = free_udp_port();
            let dir = tempfile::tempdir().expect("tempdir");
            let conf = dir.path().join("snmpd.conf");
            std::fs::create_dir_all(dir.path().join("persist")).expect("persist dir");
            std::fs::write(
                &conf,
                format!(
                    "agentaddress udp:{ip}:{port}\nrocommunity public default\n\
                     createUser {V3_USER} SHA {V3_AUTH} AES {V3_PRIV}\nrouser {V3_USER} priv\n\
                     createUser {V3_SHA256_USER} SHA-256 {V3_SHA256_AUTH}\nrouser {V3_SHA256_USER} auth\n\
                     sysName faultline-test-{port}\n{extra}",
                    extra = extra.replace("{dir}", &dir.path().to_string_lossy())
                ),
            )
            .expect("write snmpd.conf");
            let mut cmd = match netns {
                Some(ns) => {
                    let mut c = Command::new("ip");
                    c.args(["netns", "exec", ns, "/usr/sbin/snmpd"]);
                    c
                }
                None => Command::new("/usr/sbin/snmpd"),
            };
            cmd.args(["-f", "-C", "-c"])
                .arg(&conf)
                .arg("-Lf")
                .arg(dir.path().join("snmpd.log"))
                .env("SNMP_PERSISTENT_DIR", dir.path().join("persist"))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let child = cmd.spawn().expect("spawn snmpd");
            let addr: SocketAddr = format!("{ip}:{port}").parse().expect("addr");
            let mut s = Snmpd { addr, dir, child };
            if s.wait_ready(netns) {
                return Some(s);
            }
            // Port raced with someone else, or slow start: kill and retry on a new port.
            let _ = s.child.kill();
        }
        panic!("snmpd did not become ready");
    }

    fn wait_ready(&mut self, netns: Option<&str>) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let target = self.addr.to_string();
            let mut args = vec![
                "-v2c",
                "-c",
                "public",
                "-t",
                "0.3",
                "-r",
                "0",
                "-m",
                "",
                target.as_str(),
                "1.3.6.1.2.1.1.5.0",
            ];
            let ok = match netns {
                Some(ns) => {
                    let mut a = vec!["netns", "exec", ns, "snmpget"];
                    a.append(&mut args);
                    Command::new("ip").args(&a).output()
                }
                None => Command::new("snmpget").args(&args).output(),
            }
            .is_ok_and(|o| o.status.success());
            if ok {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    pub fn sys_name(&self) -> String {
        format!("faultline-test-{}", self.addr.port())
    }
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A network namespace `fl-<unique>`, deleted on Drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = format!("fl-{tag}-{}-{}", std::process::id(), free_udp_port());
        run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        run("ip", &["-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    pub fn ip(&self, args: &[&str]) -> String {
        let mut a = vec!["-n", self.name.as_str()];
        a.extend_from_slice(args);
        run("ip", &a)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A UDP responder that answers every datagram with `reply(request)`: garbage, truncation,
/// oversized answers. Runs on its own thread until Drop.
pub struct FakeAgent {
    pub addr: SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl FakeAgent {
    pub fn start(reply: impl Fn(&[u8]) -> Vec<u8> + Send + 'static) -> FakeAgent {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind fake agent");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let addr = sock.local_addr().expect("addr");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s2 = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_535];
            while !s2.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok((n, from)) = sock.recv_from(&mut buf) {
                    let answer = reply(&buf[..n]);
                    let _ = sock.send_to(&answer, from);
                }
            }
        });
        FakeAgent {
            addr,
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for FakeAgent {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The snmpsim venv: `FAULTLINE_SNMPSIM_VENV`, else a cached one under target-snmp, created
/// on first use with Debian's python (pyenv's lacks gdbm).
pub fn snmpsim_venv() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os("FAULTLINE_SNMPSIM_VENV") {
        let p = PathBuf::from(v);
        if p.join("bin/snmpsim-command-responder").exists() {
            return Some(p);
        }
    }
    let cached = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target-snmp/snmpsim-venv");
    if cached.join("bin/snmpsim-command-responder").exists() {
        return Some(cached);
    }
    if !require("/usr/bin/python3") {
        return None;
    }
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target-snmp");
    std::fs::create_dir_all(&lock).ok()?;
    let ok = Command::new("/usr/bin/python3")
        .args(["-m", "venv"])
        .arg(&cached)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(cached.join("bin/pip"))
            .args(["install", "-q", "snmpsim", "snmpsim-data", "cryptography"])
            .status()
            .is_ok_and(|s| s.success());
    if ok && cached.join("bin/snmpsim-command-responder").exists() {
        return Some(cached);
    }
    if std::env::var_os("CI").is_some() {
        panic!("could not create the snmpsim venv");
    }
    eprintln!("\n!!!!! SKIPPING: snmpsim venv unavailable !!!!!\n");
    None
}

/// snmpsim-command-responder serving a few recordings copied from snmpsim-data.
pub struct Snmpsim {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Snmpsim {
    /// `recordings`: paths relative to snmpsim_data/data without extension, e.g.
    /// "network/firewall/paloalto-pa-5000". Their community is that same path. Only OIDs under
    /// `keep` prefixes are copied: the MX960 recordings hold 650,000 lines, and snmpsim would
    /// index them for minutes.
    pub fn start(recordings: &[&str], keep: &[&str]) -> Option<Snmpsim> {
        if !require("bzcat") || !require("snmpget") {
            return None;
        }
        let venv = snmpsim_venv()?;
        let data_root = snmpsim_data_root()?;
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        for rec in recordings {
            let text = recording(&data_root, rec);
            let dst = data.join(format!("{rec}.snmprec"));
            std::fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
            let kept: String = text
                .lines()
                .filter(|l| keep.iter().any(|k| l.starts_with(k)))
                .flat_map(|l| [l, "\n"])
                .collect();
            std::fs::write(&dst, kept).expect("write recording");
        }
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(&cache).expect("cache");
        // snmpsim drops privileges to nobody: its dirs must be writable/readable by it.
        run("chmod", &["-R", "777", &dir.path().to_string_lossy()]);
        let port = free_udp_port();
        let child = Command::new(venv.join("bin/snmpsim-command-responder"))
            .arg(format!("--data-dir={}", data.display()))
            .arg(format!("--agent-udpv4-endpoint=127.0.0.1:{port}"))
            .arg(format!("--cache-dir={}", cache.display()))
            .args(["--process-user=nobody", "--process-group=nogroup"])
            .arg(format!(
                "--logging-method=file:{}",
                dir.path().join("sim.log").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn snmpsim");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let mut sim = Snmpsim { addr, dir, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        let community = recordings.first().copied().unwrap_or_default();
        while Instant::now() < deadline {
            if let Ok(Some(_)) = sim.child.try_wait() {
                panic!("snmpsim exited; see its log");
            }
            let ok = Command::new("snmpget")
                .args([
                    "-v2c",
                    "-c",
                    community,
                    "-t",
                    "0.5",
                    "-r",
                    "0",
                    "-m",
                    "",
                    &addr.to_string(),
                    "1.3.6.1.2.1.1.2.0",
                ])
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                return Some(sim);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = sim.child.kill();
        panic!("snmpsim did not become ready");
    }
}

/// The text of a shipped recording (plain or bz2-compressed).
pub fn recording(data_root: &Path, rec: &str) -> String {
    let plain = data_root.join(format!("{rec}.snmprec"));
    if plain.exists() {
        return std::fs::read_to_string(plain).expect("read recording");
    }
    run(
        "bzcat",
        &[&data_root
            .join(format!("{rec}.snmprec.bz2"))
            .to_string_lossy()],
    )
}

/// snmpsim-data's data directory inside the venv.
pub fn snmpsim_data_root() -> Option<PathBuf> {
    let venv = snmpsim_venv()?;
    std::fs::read_dir(venv.join("lib"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("site-packages/snmpsim_data/data"))
        .find(|p| p.exists())
}

impl Drop for Snmpsim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Snmpsim {
    /// snmpsim serving recordings given as text: (community, snmprec text). For recordings
    /// a test alters (e.g. one member's checksum changed).
    pub fn start_texts(recordings: &[(&str, String)]) -> Option<Snmpsim> {
        if !require("snmpget") {
            return None;
        }
        let venv = snmpsim_venv()?;
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        for (community, text) in recordings {
            let dst = data.join(format!("{community}.snmprec"));
            std::fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
            std::fs::write(&dst, text).expect("write recording");
        }
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(&cache).expect("cache");
        // snmpsim drops privileges to nobody: its dirs must be writable/readable by it.
        run("chmod", &["-R", "777", &dir.path().to_string_lossy()]);
        let port = free_udp_port();
        let child = Command::new(venv.join("bin/snmpsim-command-responder"))
            .arg(format!("--data-dir={}", data.display()))
            .arg(format!("--agent-udpv4-endpoint=127.0.0.1:{port}"))
            .arg(format!("--cache-dir={}", cache.display()))
            .args(["--process-user=nobody", "--process-group=nogroup"])
            .arg(format!(
                "--logging-method=file:{}",
                dir.path().join("sim.log").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn snmpsim");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let mut sim = Snmpsim { addr, dir, child };
        let community = recordings.first().map(|r| r.0).unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = sim.child.try_wait() {
                panic!("snmpsim exited; see its log");
            }
            let ok = Command::new("snmpget")
                .args(["-v2c", "-c", community, "-t", "0.5", "-r", "0", "-m", ""])
                .arg(addr.to_string())
                .arg("1.3.6.1.2.1.1.2.0")
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                return Some(sim);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = sim.child.kill();
        panic!("snmpsim did not become ready");
    }
}

/// snmpd inside its own network namespace, reached from the host over a veth pair with a
/// unique /30 in 10.`net`.0.0/16 (`host_if` on the host, `mgmt0` in the namespace).
pub struct NsAgent {
    pub agent: Snmpd,
    pub ns: Netns,
    pub host_if: String,
    pub host_ip: String,
    pub ns_ip: String,
}

impl NsAgent {
    /// `None` (after saying why) without root or peers; panics under CI then.
    pub fn start(tag: &str, net: u8) -> Option<NsAgent> {
        if !require("ip") {
            return None;
        }
        if !is_root() {
            if std::env::var_os("CI").is_some() {
                panic!("netns test needs root under CI");
            }
            eprintln!("\n!!!!! SKIPPING: netns test needs root !!!!!\n");
            return None;
        }
        let ns = Netns::new(tag);
        let id = free_udp_port() % 16_000;
        let (a, b) = (id / 64, (id % 64) * 4);
        let host_ip = format!("10.{net}.{a}.{}", b + 1);
        let ns_ip = format!("10.{net}.{a}.{}", b + 2);
        let host_if = format!("fl{tag}{id}");
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
        ns.ip(&["addr", "add", &format!("{ns_ip}/30"), "dev", "mgmt0"]);
        ns.ip(&["link", "set", "mgmt0", "up"]);
        let agent = Snmpd::start_in(Some(&ns.name), &ns_ip)?;
        Some(NsAgent {
            agent,
            ns,
            host_if,
            host_ip,
            ns_ip,
        })
    }

    /// Run `cmd args` inside the namespace.
    pub fn exec(&self, cmd: &str, args: &[&str]) -> String {
        let mut a = vec!["netns", "exec", self.ns.name.as_str(), cmd];
        a.extend_from_slice(args);
        run("ip", &a)
    }
}
