//! The collector's embedded store: one [redb] file holding everything that must survive a crash.
//!
//! * the **observation journal**: every [`Observation`] in arrival order under a monotonic `u64`
//!   sequence; iterate all or from a time; export / import as JSON lines (the format
//!   `faultline replay JOURNAL` reads);
//! * the **incident state**: [`Incident`](faultline_incident::Incident)s by id (as JSON) and the last engine sequence processed;
//! * **snapshots**: small named byte blobs for the engine;
//! * the **durable outbox** of [`IncidentTransition`](faultline_incident::IncidentTransition)s awaiting delivery to a receiver, its
//!   **dead letters**, and the **paged** set (which incident is currently open at which receiver,
//!   so a resolve is never lost even when the incident became suppressed later).
//!
//! Every call that writes commits one redb transaction with [`redb::Durability::Immediate`] before
//! it returns: when it returns `Ok`, the data is on disk. A `kill -9` at any instant leaves either
//! the state before or the state after a transaction, never a mixture, so anything that must
//! change together (record an incident *and* enqueue its transitions for every receiver) goes
//! through one [`Store::transact`] call.
//!
//! All methods **block** (file I/O, `fsync`): async callers wrap them in
//! `tokio::task::spawn_blocking`. [`Store`] is a cheap `Clone` handle (an `Arc`), safe to share
//! across tasks. A [`Store::transact`] closure must not call other `Store` methods (it gets a
//! [`Txn`] for everything it needs): the store may be re-opening its database meanwhile.
//!
//! The file is opened in redb's single-writer mode: one process (the collector) writes while
//! others (the `faultline outbox` command) may open it with [`Store::open_read_only`] and read.
//!
//! # When the disk fills up, or an I/O error happens
//!
//! redb latches the first I/O error: every later call on that handle fails ("previous I/O
//! error, re-open"). The store **closes and re-opens the database by itself**:
//!
//! * **reads** keep working: while the writable database is closed they are served by a
//!   read-only handle on the same file (it opens in microseconds and sees every committed
//!   transaction); a read that hits a latched error is retried once that way;
//! * **writes** re-open the writable database. That re-open repairs the file (redb was not shut
//!   down cleanly), reading all of it, so re-opens back off ([`Backoff`]: the first at once,
//!   then 500 ms doubling to 10 s while writes keep failing, counted from the end of the
//!   re-open; a successful write resets it). Between re-opens writes fail fast with
//!   [`StoreError::Unavailable`]. Once space is freed the next write after the back-off
//!   succeeds, with no restart;
//! * **retry once where safe**: [`Store::transact_retry`] and the convenience writers
//!   ([`Store::append_observations`], [`Store::upsert_incident`], [`Store::put_snapshot`],
//!   [`Store::set_engine_seq`], [`Store::prune_journal`]) run again on a re-opened database
//!   when the failed attempt stored nothing and the cause was not a full disk (an immediate
//!   retry on a full disk would fail the same way, after an expensive re-open). A write that
//!   failed *before* its commit stored nothing (redb writes nothing of an uncommitted
//!   transaction). A write whose *commit* failed may or may not have reached the file (the
//!   error may hit the final `fsync`): every transaction bumps a commit counter, which the
//!   store reads back through the read-only handle: stored means the write reports success
//!   (it is not run again: nothing is written twice); not stored means an error, or the retry;
//! * [`Store::transact`] takes an `FnOnce` and never runs it twice: after an I/O error it fails
//!   (nothing stored; or `Ok` if its commit turns out stored), and later calls find a
//!   re-opened database;
//! * not safe, hence never retried: a commit whose outcome cannot be read back
//!   ([`StoreError::CommitUnknown`]; the file is unreadable even read-only). The caller must
//!   check before repeating a write that is not idempotent.
//!
//! Errors say "disk full" when ENOSPC (or a quota) is the cause ([`StoreError::is_disk_full`]);
//! [`StoreError::is_transient`] separates "retry later" (I/O, disk full, unavailable) from
//! permanent failures (corruption, undecodable records, bad input, read-only handle).
//! [`Store::health`] reports ok or degraded (last error, its time, failed operations since the
//! last success) plus failure and re-open counters, for `status` and `/metrics`.
//!
//! # Damaged files
//!
//! [`Store::open`] tells a new file from an existing one: a missing file is created, an
//! existing **0-byte** file is refused ([`StoreError::EmptyFile`]) unless
//! [`OpenOptions::allow_empty_file`] says to start fresh, and an existing file is verified
//! page by page (redb's integrity check, [`OpenOptions::verify`], on by default). A damaged
//! file fails with [`StoreError::Corrupt`], whose `what_was_lost` names the unreadable tables
//! and journal ranges (found by a read-only inspection, at most once per handle). redb may
//! panic on damaged pages; every redb call runs under `catch_unwind`, so the store never
//! panics on a damaged file (the default panic hook still prints the panic message to stderr;
//! a `panic = "abort"` profile would defeat this). A read-only handle cannot verify: damage
//! shows when read, as `Corrupt`. [`Store::inspect`] lists what is readable without writing;
//! [`Store::salvage`] copies every readable, decodable record into a new file and reports
//! counts and losses per table ([`SalvageReport`]). A byte flipped inside a record that still
//! decodes as valid JSON cannot be told from the original and is copied as it is.
//!
//! # Costs
//!
//! Measured on a store of 1,000,000 journal entries (153 MiB), release build, on a shared
//! 2-core machine (`cargo bench -p faultline-store --bench open`, as root): open with the
//! integrity check 0.24-0.29 s quiet (1.4 s under heavy load), without it 0.2 ms; re-open of
//! the writable database after an I/O error 0.2-0.3 s quiet (1.2-1.3 s under load), whether
//! or not it verifies (redb repairs anyway); opening the read-only fallback 20 us; an
//! inspection 1.1 s quiet (6 s under load).
//!
//! ```
//! use faultline_observe::{Observation, Signal, Subject};
//! use faultline_store::Store;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path().join("faultline.redb")).unwrap();
//! store.append_observation(&Observation::new(1_000, Subject::device("fw-a"), Signal::AgentUp)).unwrap();
//! store.put_snapshot("engine", b"state").unwrap();
//! assert_eq!(store.observations_since(0).unwrap().len(), 1);
//! assert_eq!(store.snapshot("engine").unwrap().as_deref(), Some(&b"state"[..]));
//!
//! let mut jsonl = Vec::new();
//! store.export_journal(&mut jsonl).unwrap();
//! assert!(String::from_utf8(jsonl).unwrap().starts_with("{\"at\":1000"));
//! ```
#![warn(missing_docs)]

pub mod codec;
mod error;
mod handle;
mod health;
mod open;
mod records;
mod salvage;
mod store;
mod tables;
mod txn;

use std::io::BufRead;
use std::path::PathBuf;

use faultline_observe::Observation;
use serde::{Deserialize, Serialize};

pub use error::{Result, StoreError};
pub use health::{Degradation, FailureCause, StoreHealth};
pub use open::{Backoff, DEFAULT_CACHE_BYTES, OpenOptions, OpenReport};
pub use records::{DeadLetter, OutboxEntry, PagedRecord};
pub use salvage::{Lost, SalvageReport, TableReport};
pub use store::{ReleaseWatch, Store};
pub use txn::Txn;

/// The `[store]` section of the collector's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Path of the redb database file.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
    /// The database's page cache: what the store adds to the collector's RSS once full.
    #[serde(default)]
    pub cache_mib: CacheMib,
}

fn default_store_path() -> PathBuf {
    PathBuf::from("faultline.redb")
}

impl StoreConfig {
    /// The store at `path` with the default cache.
    pub fn at(path: PathBuf) -> Self {
        Self {
            path,
            cache_mib: CacheMib::default(),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self::at(default_store_path())
    }
}

/// `[store] cache_mib`: redb's page cache in MiB, 1 to 65,536 (default 32). Out of range fails
/// at the key's position in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CacheMib(u32);

impl CacheMib {
    /// Least and most accepted.
    pub const RANGE: std::ops::RangeInclusive<u32> = 1..=65_536;

    /// A size, if in range.
    pub fn new(mib: u32) -> Option<CacheMib> {
        Self::RANGE.contains(&mib).then_some(CacheMib(mib))
    }

    /// In bytes.
    pub fn bytes(self) -> usize {
        (self.0 as usize) << 20
    }
}

impl Default for CacheMib {
    fn default() -> Self {
        CacheMib((DEFAULT_CACHE_BYTES >> 20) as u32)
    }
}

impl<'de> Deserialize<'de> for CacheMib {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mib = i64::deserialize(d)?;
        u32::try_from(mib)
            .ok()
            .and_then(CacheMib::new)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("{mib} is out of range: 1 to 65536 (MiB)"))
            })
    }
}

/// Parse a JSON-lines journal (what [`Store::export_journal`] writes). Blank lines are skipped;
/// the first bad line fails with its number.
pub fn read_journal(r: impl BufRead, source_name: &str) -> Result<Vec<Observation>> {
    let mut out = Vec::new();
    for (i, line) in r.lines().enumerate() {
        let line = line.map_err(|source| StoreError::JournalIo {
            source_name: source_name.into(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let obs = serde_json::from_str(&line).map_err(|source| StoreError::JournalLine {
            source_name: source_name.into(),
            line: i + 1,
            source,
        })?;
        out.push(obs);
    }
    Ok(out)
}
