//! snmpsim serving recorded walks of real devices (the `snmpsim-data` recordings), on a free
//! loopback port, killed on Drop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{cmd, free_udp_port, have};

/// snmpsim indexes the recordings it serves before answering: a handful takes seconds.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The snmpsim venv: `FAULTLINE_SNMPSIM_VENV`, else a cached one under `target-snmp` of the
/// workspace, created on first use with Debian's python (pyenv's lacks gdbm). `None` after a
/// loud notice when it cannot be had (a panic under `CI`).
pub fn snmpsim_venv() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os("FAULTLINE_SNMPSIM_VENV") {
        let p = PathBuf::from(v);
        if p.join("bin/snmpsim-command-responder").exists() {
            return Some(p);
        }
    }
    let cache_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target-snmp");
    let cached = cache_root.join("snmpsim-venv");
    if cached.join("bin/snmpsim-command-responder").exists() {
        return Some(cached);
    }
    if !have("/usr/bin/python3") {
        return None;
    }
    std::fs::create_dir_all(&cache_root).ok()?;
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
        panic!("could not create the snmpsim venv (CI is set)");
    }
    eprintln!("\n*** SKIPPING: the snmpsim venv is unavailable ***\n");
    None
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

/// The text of a shipped recording (plain or bz2-compressed), e.g.
/// `network/firewall/paloalto-pa-5000`.
pub fn recording(data_root: &Path, rec: &str) -> String {
    let plain = data_root.join(format!("{rec}.snmprec"));
    if plain.exists() {
        return std::fs::read_to_string(plain).expect("read recording");
    }
    cmd::ok(&[
        "bzcat",
        &data_root
            .join(format!("{rec}.snmprec.bz2"))
            .to_string_lossy(),
    ])
}

/// snmpsim-command-responder serving a few recordings.
pub struct Snmpsim {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Snmpsim {
    /// `recordings`: paths relative to `snmpsim_data/data` without extension, e.g.
    /// `network/firewall/paloalto-pa-5000`; each one's community is that same path. Only OIDs
    /// under the `keep` prefixes are copied: the MX960 recordings hold 650,000 lines, and
    /// snmpsim would index them for minutes.
    pub fn start(recordings: &[&str], keep: &[&str]) -> Option<Snmpsim> {
        if !have("bzcat") {
            return None;
        }
        let data_root = snmpsim_data_root()?;
        let texts: Vec<(&str, String)> = recordings
            .iter()
            .map(|rec| {
                let kept: String = recording(&data_root, rec)
                    .lines()
                    .filter(|l| keep.iter().any(|k| l.starts_with(k)))
                    .flat_map(|l| [l, "\n"])
                    .collect();
                (*rec, kept)
            })
            .collect();
        Self::start_texts(&texts)
    }

    /// snmpsim serving recordings given as text, `(community, snmprec text)`: for recordings a
    /// test alters (one member's checksum changed, say).
    pub fn start_texts(recordings: &[(&str, String)]) -> Option<Snmpsim> {
        if !have("snmpget") {
            return None;
        }
        let venv = snmpsim_venv()?;
        let dir = tempfile::tempdir().expect("snmpsim temp dir");
        let data = dir.path().join("data");
        for (community, text) in recordings {
            let dst = data.join(format!("{community}.snmprec"));
            std::fs::create_dir_all(dst.parent().expect("recording parent")).expect("mkdir");
            std::fs::write(&dst, text).expect("write recording");
        }
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(&cache).expect("snmpsim cache dir");
        // snmpsim drops privileges to nobody: its dirs must be readable and writable by it.
        cmd::ok(&["chmod", "-R", "777", &dir.path().to_string_lossy()]);
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
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn snmpsim");
        let addr: SocketAddr = format!("127.0.0.1:{port}")
            .parse()
            .expect("snmpsim address");
        let sim = Snmpsim { addr, dir, child };
        let community = recordings.first().map(|r| r.0).unwrap_or_default();
        Some(sim.ready(community))
    }

    /// Wait until snmpsim answers a GET for `community`; panics with its log's path otherwise.
    fn ready(mut self, community: &str) -> Snmpsim {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                panic!(
                    "snmpsim exited; see {}",
                    self.dir.path().join("sim.log").display()
                );
            }
            let answered = Command::new("snmpget")
                .args(["-v2c", "-c", community, "-t", "0.5", "-r", "0", "-m", ""])
                .arg(self.addr.to_string())
                .arg("1.3.6.1.2.1.1.2.0")
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success());
            if answered {
                return self;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("snmpsim did not become ready within {READY_TIMEOUT:?}");
    }
}

impl Drop for Snmpsim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
