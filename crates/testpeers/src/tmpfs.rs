//! A small tmpfs mounted on a fresh directory, for tests that need a file system that fills
//! up (ENOSPC). Unmounted and removed on Drop, even when the test panics.
//!
//! ```no_run
//! if let Some(fs) = faultline_testpeers::tmpfs::Tmpfs::mount("doc", 2 << 20) {
//!     std::fs::write(fs.path().join("f"), b"x").unwrap();
//! }
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A mounted tmpfs (see the module docs).
pub struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mount a tmpfs of `bytes` on a new directory under the system temp dir, named after
    /// `tag`, the pid and a sequence number (unique per test). `None` (after the loud skip
    /// notice of [`crate::root`]) when not root; panics if the mount itself fails.
    pub fn mount(tag: &str, bytes: u64) -> Option<Tmpfs> {
        if !crate::root() {
            return None;
        }
        let seq = SEQ.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("fl-tmpfs-{tag}-{}-{seq}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create tmpfs mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}")])
            .arg("tmpfs")
            .arg(&dir)
            .status()
            .expect("run mount");
        if !status.success() {
            let _ = std::fs::remove_dir(&dir);
            panic!("mount -t tmpfs on {} failed: {status}", dir.display());
        }
        Some(Tmpfs { dir })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Write a file of zeros until the file system is full (or `limit` bytes); returns its
    /// path. Delete it to free the space again.
    pub fn fill(&self, name: &str, limit: u64) -> PathBuf {
        use std::io::Write;
        let path = self.dir.join(name);
        let mut f = std::fs::File::create(&path).expect("create filler");
        let block = [0u8; 4096];
        let mut written = 0u64;
        while written < limit {
            match f.write(&block) {
                Ok(0) | Err(_) => break,
                Ok(n) => written += n as u64,
            }
        }
        let _ = f.flush();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy unmount: succeeds even if a file is still open in a leaked handle.
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}
