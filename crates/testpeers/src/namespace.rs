//! A bare network namespace (only `lo`, up) with a unique name, deleted on Drop together with
//! every process still running in it. [`crate::Netns`] is the variant that comes with a veth
//! pair to the host already addressed.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::cmd;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A network namespace of our own.
#[derive(Debug)]
pub struct Namespace {
    name: String,
}

impl Namespace {
    /// A namespace named `fl-{tag}-{pid}-{seq}`: unique across parallel tests and processes.
    pub fn unique(tag: &str) -> Namespace {
        let seq = SEQ.fetch_add(1, Ordering::SeqCst);
        Namespace::named(&format!("fl-{tag}-{}-{seq}", std::process::id()))
    }

    /// A namespace with exactly this name (the caller guarantees it is unique, e.g. through a
    /// claimed [`crate::netblock::NetBlock`]). A leftover of the same name is removed first.
    pub fn named(name: &str) -> Namespace {
        remove(name);
        cmd::ok(&["ip", "netns", "add", name]);
        let ns = Namespace { name: name.into() };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n NAME ARGS...`, panicking on failure; returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut a = vec!["ip", "-n", self.name.as_str()];
        a.extend_from_slice(args);
        cmd::ok(&a)
    }

    /// A command that runs `args` inside the namespace.
    pub fn exec(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(args);
        c
    }

    /// Set a sysctl inside the namespace (`net.ipv4.ip_forward`, `1`).
    pub fn sysctl(&self, key: &str, value: &str) {
        cmd::ok(&[
            "ip",
            "netns",
            "exec",
            &self.name,
            "sysctl",
            "-qw",
            &format!("{key}={value}"),
        ]);
    }

    /// Read a sysctl inside the namespace.
    pub fn sysctl_get(&self, key: &str) -> String {
        cmd::ok(&["ip", "netns", "exec", &self.name, "sysctl", "-n", key])
            .trim()
            .to_string()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        remove(&self.name);
    }
}

/// Kill whatever still runs in namespace `name`, then delete it (veth ends inside go with it).
/// Quiet: the namespace may not exist.
pub fn remove(name: &str) {
    let pids = Command::new("ip")
        .args(["netns", "pids", name])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for pid in pids
        .split_whitespace()
        .filter_map(|p| p.parse::<u32>().ok())
    {
        cmd::signal(pid, "KILL");
    }
    cmd::quiet(&["ip", "netns", "del", name]);
}

/// Names of the namespaces that exist now.
pub fn list() -> Vec<String> {
    Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}
