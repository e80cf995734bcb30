//! Address space for labs that the root namespace routes to: a claimed `/24` out of
//! 10.216.0.0/13, and a name prefix for the lab's namespaces and root-side interfaces.
//!
//! A claim is a lock file holding the claimer's pid, so parallel tests in one process, parallel
//! test binaries and other worktrees on the same machine never share a block. A block whose
//! claimer died (a test killed with SIGKILL) is swept — its namespaces, processes and
//! interfaces removed — before it is handed out again.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::{cmd, namespace};

/// Second octet of the first block: 10.216.0.0/13 is used by no other test here (those use
/// 10.100–10.199, 10.213 and 10.215).
const FIRST_OCTET2: u32 = 216;
/// 10.216.0.0 – 10.223.255.0: eight /16s of /24 blocks.
const BLOCKS: u32 = 8 * 256;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A claimed /24, released (lock file removed) on Drop. Drop it after everything using it.
#[derive(Debug)]
pub struct NetBlock {
    index: u32,
    lock: PathBuf,
}

impl NetBlock {
    /// Claim a free block. Panics when all 2048 are taken (something leaks labs).
    pub fn claim() -> NetBlock {
        let dir = lock_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let start = std::process::id().wrapping_mul(7919) + SEQ.fetch_add(1, Ordering::SeqCst);
        // Blocks someone configured without a claim: held until we return, so that we do not
        // pick them again (and nobody else tries them meanwhile).
        let mut foreign = Vec::new();
        for i in 0..BLOCKS {
            let index = (start + i) % BLOCKS;
            let lock = dir.join(format!("{index}.lock"));
            if !try_lock(&lock, index) {
                continue;
            }
            let block = NetBlock { index, lock };
            if block.in_use_by_root() {
                foreign.push(block);
                continue;
            }
            return block;
        }
        panic!(
            "no free lab address block in 10.216.0.0/13 (see {})",
            dir.display()
        );
    }

    /// Index of the block (0..2048): unique among live claims.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Address `host` inside the block: `10.(216 + index / 256).(index % 256).host`.
    pub fn addr(&self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(
            10,
            (FIRST_OCTET2 + self.index / 256) as u8,
            (self.index % 256) as u8,
            host,
        )
    }

    /// A name for a namespace or root-namespace interface of this lab: `flb{index}-{tag}`
    /// (at most 15 characters, the interface name limit, for tags up to 7 characters).
    pub fn name(&self, tag: &str) -> String {
        let n = format!("{}{tag}", prefix(self.index));
        assert!(
            n.len() <= 15,
            "lab name {n} is longer than an interface name may be"
        );
        n
    }

    fn in_use_by_root(&self) -> bool {
        let [_, b, c, _] = self.addr(0).octets();
        let net = format!("10.{b}.{c}.");
        let spaced = format!(" {net}");
        let addrs = cmd::ok(&["ip", "-4", "-o", "addr", "show"]);
        let routes = cmd::ok(&["ip", "-4", "route", "show"]);
        addrs
            .lines()
            .chain(routes.lines())
            .any(|l| l.starts_with(&net) || l.contains(&spaced))
    }
}

impl Drop for NetBlock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock);
    }
}

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("faultline-testpeers-netblocks")
}

fn prefix(index: u32) -> String {
    format!("flb{index}-")
}

/// Create the lock file, or take it over from a dead claimer after sweeping its leftovers.
fn try_lock(lock: &PathBuf, index: u32) -> bool {
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(lock)
        {
            Ok(mut f) => {
                let _ = write!(f, "{}", std::process::id());
                return true;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let owner = std::fs::read_to_string(lock).unwrap_or_default();
                let alive = owner
                    .trim()
                    .parse::<u32>()
                    .is_ok_and(|pid| PathBuf::from(format!("/proc/{pid}")).exists());
                // An empty file is a claim being written right now.
                if alive || owner.trim().is_empty() {
                    return false;
                }
                sweep(index);
                let _ = std::fs::remove_file(lock);
            }
            Err(_) => return false,
        }
    }
    false
}

/// Remove what a dead claimer of block `index` left behind.
fn sweep(index: u32) {
    let p = prefix(index);
    for ns in namespace::list().into_iter().filter(|n| n.starts_with(&p)) {
        namespace::remove(&ns);
    }
    let links = cmd::ok(&["ip", "-o", "link", "show"]);
    for line in links.lines() {
        // "12: flb7-ma@if3: <...>"
        let Some(name) = line.split(": ").nth(1) else {
            continue;
        };
        let name = name.split('@').next().unwrap_or(name);
        if name.starts_with(&p) {
            cmd::quiet(&["ip", "link", "del", name]);
        }
    }
}
