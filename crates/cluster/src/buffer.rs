//! The poller's disk buffer: batches that could not be published wait here, one file each, in
//! order, until NATS answers again. Bounded: past the bound the oldest batch is dropped and
//! counted, so an outage longer than the bound loses its beginning, never the latest state.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::ClusterError;
use crate::wire::WireBatch;

/// File name suffix of a buffered batch.
const SUFFIX: &str = ".batch.json";

/// Most batches a buffer holds: one poll round of every device of a zone per batch, kept for
/// an outage of the configured length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferBound(pub usize);

/// Batches waiting for NATS, oldest first, each in its own file named by a sequence number.
pub struct DiskBuffer {
    dir: PathBuf,
    bound: BufferBound,
    /// Sequence numbers of the files present and their sizes, oldest first.
    files: VecDeque<(u64, u64)>,
    /// Bytes of the files present.
    bytes: u64,
    next: u64,
    dropped: u64,
}

impl DiskBuffer {
    /// Open (creating) the buffer in `dir`; batches left by a previous run are kept, in order.
    pub fn open(dir: &Path, bound: BufferBound) -> Result<DiskBuffer, ClusterError> {
        let err = |source| ClusterError::Buffer {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(err)?;
        let mut files: Vec<(u64, u64)> = Vec::new();
        for e in std::fs::read_dir(dir).map_err(err)? {
            let Ok(e) = e else { continue };
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            if name.ends_with(".tmp") {
                // A batch whose write a crash interrupted before its rename: never published.
                let _ = std::fs::remove_file(e.path());
                continue;
            }
            // The largest sequence number has no successor: such a name was not written here.
            let Some(seq) = name
                .strip_suffix(SUFFIX)
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|s| *s < u64::MAX)
            else {
                continue;
            };
            files.push((seq, e.metadata().map_or(0, |m| m.len())));
        }
        files.sort_unstable();
        let next = files.last().map_or(0, |l| l.0 + 1);
        Ok(DiskBuffer {
            dir: dir.to_path_buf(),
            bound,
            bytes: files.iter().map(|f| f.1).sum(),
            files: files.into(),
            next,
            dropped: 0,
        })
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}{SUFFIX}"))
    }

    fn err(&self, source: std::io::Error) -> ClusterError {
        ClusterError::Buffer {
            path: self.dir.clone(),
            source,
        }
    }

    /// Append a batch (written to a temporary file, then renamed: a crash leaves whole batches
    /// only). When full, the oldest batch is dropped and counted first.
    pub fn push(&mut self, batch: &WireBatch) -> Result<(), ClusterError> {
        while self.files.len() >= self.bound.0.max(1) {
            self.drop_oldest()?;
        }
        let seq = self.next;
        let tmp = self.dir.join(format!("{seq:020}.tmp"));
        let bytes = batch.encode()?;
        std::fs::write(&tmp, &bytes).map_err(|e| self.err(e))?;
        std::fs::rename(&tmp, self.path(seq)).map_err(|e| self.err(e))?;
        let size = bytes.len() as u64;
        self.files.push_back((seq, size));
        self.bytes += size;
        self.next += 1;
        Ok(())
    }

    fn drop_oldest(&mut self) -> Result<(), ClusterError> {
        if self.remove_oldest()? {
            self.dropped += 1;
        }
        Ok(())
    }

    /// Remove the oldest file; whether there was one.
    fn remove_oldest(&mut self) -> Result<bool, ClusterError> {
        let Some((seq, size)) = self.files.pop_front() else {
            return Ok(false);
        };
        self.bytes = self.bytes.saturating_sub(size);
        match std::fs::remove_file(self.path(seq)) {
            // Already gone (removed by hand): what was wanted.
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.err(e)),
            _ => Ok(true),
        }
    }

    /// The oldest batch, if any. A file that can no longer be read or decoded is dropped and
    /// counted: left in place it would hold every later batch (and the heartbeats) back.
    pub fn front(&mut self) -> Result<Option<WireBatch>, ClusterError> {
        while let Some(&(seq, _)) = self.files.front() {
            let decoded = std::fs::read(self.path(seq))
                .map_err(|e| e.to_string())
                .and_then(|bytes| WireBatch::decode(&bytes).map_err(|e| e.to_string()));
            match decoded {
                Ok(b) => return Ok(Some(b)),
                Err(error) => {
                    tracing::warn!(seq, %error, "unreadable buffered batch dropped");
                    self.drop_oldest()?;
                }
            }
        }
        Ok(None)
    }

    /// Remove the oldest batch (it was published).
    pub fn pop_front(&mut self) -> Result<(), ClusterError> {
        self.remove_oldest().map(|_| ())
    }

    /// Bytes on disk of the batches waiting.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Batches waiting.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Batches dropped because the buffer was full (or undecodable) since it was opened.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{BatchId, ZoneName};

    fn batch(seq: u64) -> WireBatch {
        WireBatch {
            id: BatchId {
                poller: "p".into(),
                boot: 1,
                seq,
            },
            zone: ZoneName::try_from("z".to_string()).unwrap(),
            sent: seq,
            observations: Vec::new(),
        }
    }

    #[test]
    fn keeps_order_across_reopen_and_drops_the_oldest_past_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = DiskBuffer::open(dir.path(), BufferBound(3)).unwrap();
        for s in 0..5 {
            b.push(&batch(s)).unwrap();
        }
        assert_eq!((b.len(), b.dropped()), (3, 2));
        let bytes = b.bytes();
        assert_eq!(bytes, 3 * batch(0).encode().unwrap().len() as u64);
        drop(b);
        let mut b = DiskBuffer::open(dir.path(), BufferBound(3)).unwrap();
        assert_eq!(b.bytes(), bytes, "sizes are read back on open");
        let mut seen = Vec::new();
        while let Some(x) = b.front().unwrap() {
            seen.push(x.id.seq);
            b.pop_front().unwrap();
        }
        assert_eq!(seen, [2, 3, 4]);
        assert!(b.is_empty());
        assert_eq!(b.bytes(), 0);
        b.push(&batch(9)).unwrap();
        assert_eq!(b.front().unwrap().map(|x| x.id.seq), Some(9));
    }

    #[test]
    fn an_undecodable_file_is_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("{:020}{SUFFIX}", 0)), b"junk").unwrap();
        let mut b = DiskBuffer::open(dir.path(), BufferBound(3)).unwrap();
        b.push(&batch(1)).unwrap();
        assert_eq!(b.front().unwrap().map(|x| x.id.seq), Some(1));
        assert_eq!(b.dropped(), 1);
    }

    /// A batch file that vanished (or cannot be read) does not hold the later ones back; a
    /// crash's half-written `.tmp` is removed, and a name at the end of the sequence range is
    /// not taken for a batch.
    #[test]
    fn an_unreadable_file_does_not_block_the_queue_and_leftovers_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = DiskBuffer::open(dir.path(), BufferBound(3)).unwrap();
        b.push(&batch(0)).unwrap();
        b.push(&batch(1)).unwrap();
        std::fs::remove_file(dir.path().join(format!("{:020}{SUFFIX}", 0))).unwrap();
        assert_eq!(b.front().unwrap().map(|x| x.id.seq), Some(1));
        assert_eq!(b.dropped(), 1);
        drop(b);
        let tmp = dir.path().join(format!("{:020}.tmp", 7));
        std::fs::write(&tmp, b"half").unwrap();
        let last = dir.path().join(format!("{}{SUFFIX}", u64::MAX));
        std::fs::write(&last, b"junk").unwrap();
        let mut b = DiskBuffer::open(dir.path(), BufferBound(3)).unwrap();
        assert!(!tmp.exists());
        assert_eq!(b.len(), 1);
        b.push(&batch(2)).unwrap();
        assert_eq!(b.len(), 2);
    }
}
