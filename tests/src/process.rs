//! The real `faultline` binary, run as a process: built on first use (a no-op when cargo has
//! just built it), started with a log file, found on its ephemeral API port, stopped on Drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use faultline_testpeers::cmd;

/// Log filter for collector runs: what a failing test needs to explain itself.
const LOG_FILTER: &str = "warn,faultline_collector=info,faultline_notify=info";
/// The line the collector logs once its API listens.
const RUNNING: &str = "collector running";
/// A collector gets this long to stop on SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The `faultline` binary of this workspace: `FAULTLINE_BIN` if set, else built with cargo into
/// the target directory this test runs from (same profile), once per test process.
pub fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("FAULTLINE_BIN") {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> -> target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable under target/<profile>/deps")
            .to_path_buf();
        let profile = profile_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args([
                "build",
                "--quiet",
                "-p",
                "faultline-cli",
                "--bin",
                "faultline",
            ])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
        match profile.as_str() {
            "debug" => {}
            "release" => {
                build.arg("--release");
            }
            other => {
                build.args(["--profile", other]);
            }
        }
        let status = build
            .status()
            .expect("run cargo build for the faultline binary");
        assert!(
            status.success(),
            "cargo build of the faultline binary failed"
        );
        let bin = profile_dir.join("faultline");
        assert!(
            bin.exists(),
            "{} does not exist after the build; set FAULTLINE_BIN",
            bin.display()
        );
        bin
    })
    .clone()
}

/// `faultline run --config CONFIG --check`: `Ok(summary)` when the configuration and its
/// topology are valid, `Err(what it said)` otherwise.
pub fn check_config(config: &Path) -> Result<String, String> {
    let out = Command::new(binary())
        .args(["run", "--check", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run faultline: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// A running `faultline run --config ...`.
pub struct Collector {
    child: Child,
    log: PathBuf,
    api: Option<String>,
}

impl Collector {
    /// Start the collector on `config`, logging to `log`. Use `[api] listen = "127.0.0.1:0"`
    /// and [`Self::wait_api`] to learn the port.
    pub fn start(config: &Path, log: &Path) -> Collector {
        Self::start_command("run", config, log)
    }

    /// Start `faultline COMMAND --config CONFIG` (`run`, or `poller` for a zone's poller, which
    /// logs the same start line), logging to `log`.
    pub fn start_command(command: &str, config: &Path, log: &Path) -> Collector {
        Self::spawn(Command::new(binary()), command, config, log)
    }

    /// [`start_command`](Self::start_command) inside network namespace `ns` (`ip netns exec`
    /// execs the binary, so the child is faultline itself; the namespace's Drop ends it too).
    pub fn start_command_in(ns: &str, command: &str, config: &Path, log: &Path) -> Collector {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).arg(binary());
        Self::spawn(c, command, config, log)
    }

    fn spawn(mut program: Command, command: &str, config: &Path, log: &Path) -> Collector {
        let file = std::fs::File::create(log).expect("collector log file");
        let child = program
            .args([command, "--config"])
            .arg(config)
            .env("FAULTLINE_LOG", LOG_FILTER)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn faultline run");
        Collector {
            child,
            log: log.to_path_buf(),
            api: None,
        }
    }

    /// Wait until the API listens; returns its base URL (`http://127.0.0.1:PORT`).
    pub async fn wait_api(&mut self, timeout: Duration) -> Result<String, String> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "faultline exited ({status}) before its API came up\n{}",
                    self.log_tail(30)
                ));
            }
            if let Some(addr) = api_addr(&std::fs::read_to_string(&self.log).unwrap_or_default()) {
                let base = format!("http://{addr}");
                self.api = Some(base.clone());
                return Ok(base);
            }
            if start.elapsed() >= timeout {
                return Err(format!(
                    "faultline API not up after {timeout:?}\n{}",
                    self.log_tail(30)
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The API base URL, once known.
    pub fn api(&self) -> Option<&str> {
        self.api.as_deref()
    }

    /// The whole log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `n` lines of its log, headed, for failure messages.
    pub fn log_tail(&self, n: usize) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "--- faultline log (last {n} of {} lines) ---\n{}\n",
            lines.len(),
            lines[lines.len().saturating_sub(n)..].join("\n")
        )
    }

    /// `kill -9`: no shutdown path runs (no final snapshot, no flush), as in a crash.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Collector {
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

/// The API address from the "collector running api=ADDR" log line.
fn api_addr(log: &str) -> Option<String> {
    let line = log.lines().find(|l| l.contains(RUNNING))?;
    let at = line.find("api=")? + "api=".len();
    let addr: String = line[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    (!addr.is_empty()).then_some(addr)
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_address_is_read_from_the_running_line() {
        let log = "2026-11-28T04:00:00Z  INFO faultline_collector: collector running api=127.0.0.1:43211 devices=2\n";
        assert_eq!(super::api_addr(log).as_deref(), Some("127.0.0.1:43211"));
        assert_eq!(super::api_addr("starting\n"), None);
    }
}
