//! Opening the redb file: a new file versus an existing one (an empty existing file is an
//! error), the integrity check, and panics inside redb turned into [`StoreError::Corrupt`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use redb::{Builder, ConcurrencyMode, Database, DatabaseError, ReadOnlyDatabase};

use crate::{Result, StoreError, salvage};

/// Page cache of the database unless configured ([`OpenOptions::cache_bytes`], `[store]
/// cache_mib`): redb caches up to 1 GiB of pages by default; the journal is append-mostly and
/// read back only at start-up, so a small cache keeps the collector's RSS bounded. The cache
/// fills with the pages written, so a collector's RSS grows by this much over its first hour or
/// so (bench/soak-rss.sh) and then stays flat.
pub const DEFAULT_CACHE_BYTES: usize = 32 << 20;

/// How [`Store::open_with`](crate::Store::open_with) opens the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// Initialise an existing **0-byte** file as a new, empty store instead of refusing it with
    /// [`StoreError::EmptyFile`]. An explicit operator decision ("start fresh"): the default
    /// refuses, since a truncated store would otherwise silently lose all history.
    pub allow_empty_file: bool,
    /// Verify the checksum of every page of an existing file at open (redb's integrity check)
    /// and refuse a damaged file with [`StoreError::Corrupt`] naming what is unreadable.
    /// Without it a damaged page is found only when read (also a `Corrupt` error, never a
    /// panic). Default on; the cost is measured in `benches/open.rs` (0.25-1.4 s per million
    /// journal entries, see the crate docs).
    pub verify: bool,
    /// Re-open back-off after I/O errors.
    pub reopen_backoff: Backoff,
    /// redb's page cache, in bytes ([`DEFAULT_CACHE_BYTES`]).
    pub cache_bytes: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            allow_empty_file: false,
            verify: true,
            reopen_backoff: Backoff::default(),
            cache_bytes: DEFAULT_CACHE_BYTES,
        }
    }
}

/// Bounds on how often a failing store re-opens its writable database: the first re-open after
/// an error is immediate, the next waits `initial` (counted from the end of the previous
/// re-open), each further one twice as long, up to `max`. A successful write resets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wait before the second re-open.
    pub initial: Duration,
    /// Longest wait between re-opens.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            // A re-open of a large store re-reads it (0.2-1.4 s per million journal entries,
            // see the crate docs): at most every 10 s while the disk stays full, so at most
            // about a tenth of the time goes to re-opening, yet freed space is noticed within
            // 10 s.
            initial: Duration::from_millis(500),
            max: Duration::from_secs(10),
        }
    }
}

/// What happened when the store was opened (for the collector's start-up log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// The file did not exist and was created.
    pub created: bool,
    /// An existing 0-byte file was initialised (only with
    /// [`OpenOptions::allow_empty_file`]).
    pub initialised_empty_file: bool,
    /// Every page checksum was verified.
    pub verified: bool,
    /// Time the open took, integrity check included.
    pub took: Duration,
}

pub(crate) enum Db {
    ReadWrite(Database),
    ReadOnly(ReadOnlyDatabase),
}

/// Open (or create) `path` for writing.
pub(crate) fn open_read_write(path: &Path, opts: &OpenOptions) -> Result<(Database, OpenReport)> {
    let started = Instant::now();
    let len = match std::fs::metadata(path) {
        Ok(m) => Some(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(StoreError::Open {
                path: path.to_path_buf(),
                source: DatabaseError::Storage(redb::StorageError::Io(e)),
            });
        }
    };
    let mut builder = Builder::new();
    builder
        .set_concurrency_mode(ConcurrencyMode::SingleWriter)
        .set_cache_size(opts.cache_bytes);
    let mut report = OpenReport {
        created: len.is_none(),
        initialised_empty_file: false,
        verified: false,
        took: Duration::ZERO,
    };
    let db = match len {
        // redb's `create` initialises a missing or an empty file.
        None => guarded(path, "create", || builder.create(path)),
        Some(0) if opts.allow_empty_file => {
            report.initialised_empty_file = true;
            guarded(path, "create", || builder.create(path))
        }
        Some(0) => {
            return Err(StoreError::EmptyFile {
                path: path.to_path_buf(),
            });
        }
        Some(_) => {
            builder.set_check_integrity_on_open(opts.verify);
            report.verified = opts.verify;
            guarded(path, "open", || builder.open(path))
        }
    }?;
    report.took = started.elapsed();
    Ok((db, report))
}

/// Open an existing file for reading alongside a writer. redb cannot verify a file it may not
/// write, so damage is found lazily, when read.
pub(crate) fn open_read_only(path: &Path) -> Result<ReadOnlyDatabase> {
    let mut builder = Builder::new();
    builder
        .set_concurrency_mode(ConcurrencyMode::SingleWriter)
        .set_cache_size(DEFAULT_CACHE_BYTES);
    guarded(path, "open read-only", || builder.open_read_only(path))
}

/// Run one redb open, turning a corruption error or a panic into [`StoreError::Corrupt`] (with
/// an inventory of what is unreadable) and anything else into [`StoreError::Open`].
fn guarded<T>(
    path: &Path,
    what: &'static str,
    f: impl FnOnce() -> Result<T, DatabaseError>,
) -> Result<T> {
    // redb documents that a plain open "may panic" on a file damaged outside redb, and its
    // debug builds assert on states no redb-written file has. Nothing of the half-open
    // database survives the unwind (it is dropped inside `f`), so observing the panic as an
    // error is sound: AssertUnwindSafe.
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(DatabaseError::Storage(redb::StorageError::Corrupted(detail)))) => Err(
            uninspected_corrupt(path, format!("{what}: integrity check failed: {detail}")),
        ),
        Ok(Err(source)) => Err(StoreError::Open {
            path: path.to_path_buf(),
            source,
        }),
        Err(panic) => Err(uninspected_corrupt(
            path,
            format!("{what}: redb panicked: {}", panic_message(&*panic)),
        )),
    }
}

/// A [`StoreError::Corrupt`] whose `what_was_lost` is still to be found by
/// [`with_inventory`] (the inspection itself opens the file, so it cannot run here).
fn uninspected_corrupt(path: &Path, detail: String) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        what_was_lost: String::new(),
        detail,
    }
}

/// Fill in what is unreadable of a [`StoreError::Corrupt`] from the open path, by a read-only
/// inspection of the file (which never writes and never panics). Other errors pass unchanged.
pub(crate) fn with_inventory(e: StoreError) -> StoreError {
    match e {
        StoreError::Corrupt {
            path,
            what_was_lost,
            detail,
        } if what_was_lost.is_empty() => {
            let what_was_lost = match salvage::inspect_file(&path) {
                Ok(report) => report.lost_summary(),
                Err(e) => format!("everything: the file cannot be read at all ({e})"),
            };
            StoreError::Corrupt {
                path,
                what_was_lost,
                detail,
            }
        }
        other => other,
    }
}

/// The message of a caught panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
