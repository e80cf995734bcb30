//! The collector's embedded store: one [redb] file holding everything that must survive a crash.
//!
//! * the **observation journal**: every [`Observation`] in arrival order under a monotonic `u64`
//!   sequence; iterate all or from a time; export / import as JSON lines (the format
//!   `faultline replay JOURNAL` reads);
//! * the **incident state**: [`Incident`]s by id (as JSON) and the last engine sequence processed;
//! * **snapshots**: small named byte blobs for the engine;
//! * the **durable outbox** of [`IncidentTransition`]s awaiting delivery to a receiver, its
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
//! error, re-open"). The store therefore **re-opens the database by itself** after such an
//! error and retries the operation once where that is safe:
//!
//! * reads: always (they change nothing);
//! * writes through [`Store::transact_retry`] and the convenience writers
//!   ([`Store::append_observations`], [`Store::upsert_incident`], [`Store::put_snapshot`],
//!   [`Store::set_engine_seq`], [`Store::prune_journal`]): when the failed attempt stored
//!   nothing. A write that failed *before* its commit stored nothing (redb writes nothing of an
//!   uncommitted transaction). A write whose *commit* failed may or may not have reached the
//!   file (the error may hit the final `fsync`): each transaction bumps a commit counter, and
//!   after the re-open the store reads it back: stored means the write reports success (it is
//!   not run again, so nothing is written twice); not stored means it is retried;
//! * [`Store::transact`] takes an `FnOnce` and is never run twice: after an I/O error it fails
//!   (nothing stored, or success if its commit turns out stored), and the *next* call finds a
//!   re-opened database;
//! * not safe, hence not retried: a commit whose outcome cannot be checked because the re-open
//!   fails ([`StoreError::CommitUnknown`]).
//!
//! Re-opens back off ([`Backoff`]: the first immediately, then 100 ms doubling to 10 s while
//! errors continue; a success resets it); between them operations fail fast with
//! [`StoreError::Unavailable`]. Errors say "disk full" when ENOSPC (or a quota) is the cause
//! ([`StoreError::is_disk_full`]); [`StoreError::is_transient`] separates "retry later" from
//! permanent failures. [`Store::health`] reports ok or degraded (last error, its time, failed
//! operations since the last success, re-open counters) for `status` and `/metrics`. Once space
//! is freed the next write succeeds, with no restart.
//!
//! # Damaged files
//!
//! [`Store::open`] tells a new file from an existing one: a missing file is created, an
//! existing **0-byte** file is refused ([`StoreError::EmptyFile`]) unless
//! [`OpenOptions::allow_empty_file`] says to start fresh, and an existing file is verified
//! page by page (redb's integrity check, [`OpenOptions::verify`]). A damaged file fails with
//! [`StoreError::Corrupt`], whose `what_was_lost` names the unreadable tables and journal
//! ranges (found by a read-only inspection). redb may panic on damaged pages; every redb call
//! runs under `catch_unwind`, so the store never panics on a damaged file (the default panic
//! hook still prints the panic message to stderr; `panic = "abort"` would defeat this).
//! [`Store::inspect`] lists what is readable without writing; [`Store::salvage`] copies every
//! readable record into a new file and reports counts per table ([`SalvageReport`]).
//!
//! Measured (release build, `cargo bench -p faultline-store --bench open`): see
//! `benches/open.rs` for the numbers on a store of 1,000,000 journal entries.
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
pub use open::{Backoff, OpenOptions, OpenReport};
pub use records::{DeadLetter, OutboxEntry, PagedRecord};
pub use salvage::{Lost, SalvageReport, TableReport};
pub use store::Store;
pub use txn::Txn;

/// The `[store]` section of the collector's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Path of the redb database file.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
}

fn default_store_path() -> PathBuf {
    PathBuf::from("faultline.redb")
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: default_store_path(),
        }
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
