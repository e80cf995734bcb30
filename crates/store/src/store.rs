//! [`Store`]: the handle the collector, notify and the CLI hold, and its read and write
//! operations.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use faultline_incident::{Incident, IncidentStatus};
use faultline_observe::{Observation, UnixMillis};
use redb::{ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};
use serde::Deserialize;

use crate::handle::{Handle, Mode};
use crate::health::StoreHealth;
use crate::open::{self, Db, OpenOptions, OpenReport};
use crate::records::{DeadLetter, OutboxEntry, PagedRecord};
use crate::tables::*;
use crate::txn::{self, Txn};
use crate::{Result, StoreError, codec, read_journal};

struct Inner {
    handle: Handle,
    /// `None` for read-only handles.
    report: Option<OpenReport>,
    /// Set when `Inner` has been dropped. Declared after `handle`, so it is dropped after it:
    /// the flag is set only once the database is closed and its file lock released (closing
    /// may take a moment: redb's final commit), not when the last `Arc` goes away.
    closed: ClosedFlag,
}

/// Sets its flag when dropped.
#[derive(Default)]
struct ClosedFlag(Arc<AtomicBool>);

impl Drop for ClosedFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Handle on the store file. Cheap to clone (an `Arc`); all methods block; safe to share
/// across threads and tasks.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.handle.path())
            .finish()
    }
}

/// Tells whether every handle on one opened store has been dropped, so that the file's lock is
/// released and the file can be opened again (by a reload, say). Holds no handle itself.
#[derive(Debug, Clone)]
pub struct ReleaseWatch(Arc<AtomicBool>);

impl ReleaseWatch {
    /// True once the last [`Store`] handle of the opened file is gone and the database is
    /// closed (its file lock released).
    pub fn released(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

fn begin_read(db: &Db, path: &Path) -> Result<ReadTransaction> {
    match db {
        Db::ReadWrite(d) => d.begin_read(),
        Db::ReadOnly(d) => d.begin_read(),
    }
    .map_err(|e| StoreError::from_redb(path, "begin read", e))
}

fn decode<T: for<'de> Deserialize<'de>>(
    path: &Path,
    what: &'static str,
    key: impl ToString,
    bytes: &[u8],
) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Decode {
        path: path.to_path_buf(),
        what,
        key: key.to_string(),
        source,
    })
}

impl Store {
    /// Open (or create) the database file for reading and writing, with the default
    /// [`OpenOptions`]: an existing empty file is refused, an existing file is verified.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Self::open_with(path, &OpenOptions::default())
    }

    /// Open (or create) the database file for reading and writing.
    ///
    /// * missing file: a new, empty store is created ([`OpenReport::created`]);
    /// * existing 0-byte file: [`StoreError::EmptyFile`], unless
    ///   [`OpenOptions::allow_empty_file`];
    /// * existing file: opened; with [`OpenOptions::verify`] every page checksum is checked and
    ///   a damaged file fails with [`StoreError::Corrupt`] saying what is unreadable. Never
    ///   panics on a damaged file.
    pub fn open_with(path: impl AsRef<Path>, opts: &OpenOptions) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let (db, report) = open::open_read_write(&path, opts).map_err(open::with_inventory)?;
        let store = Store {
            inner: Arc::new(Inner {
                handle: Handle::new(path, Mode::ReadWrite(opts.clone()), Db::ReadWrite(db)),
                report: Some(report),
                closed: ClosedFlag::default(),
            }),
        };
        // Create every table up front so that readers (including read-only handles) never meet
        // a missing table. Only when one is missing: an existing store then opens without a
        // write, even on a full disk (reads work, writes wait for space).
        if store.all_tables_exist()? {
            return Ok(store);
        }
        store.transact_retry(|txn| {
            let tx = txn.raw();
            let path = store.path();
            let err = |e: redb::TableError| StoreError::from_redb(path, "create tables", e);
            for def in SEQ_TABLES {
                tx.open_table(def).map_err(err)?;
            }
            for def in NAMED_TABLES {
                tx.open_table(def).map_err(err)?;
            }
            tx.open_table(META).map_err(err)?;
            Ok(())
        })?;
        Ok(store)
    }

    fn all_tables_exist(&self) -> Result<bool> {
        self.read("list tables", |tx, path| {
            let names: Vec<String> = tx
                .list_tables()
                .map_err(|e| StoreError::from_redb(path, "list tables", e))?
                .map(|h| h.name().to_string())
                .collect();
            let wanted = SEQ_TABLES
                .iter()
                .map(|d| d.name())
                .chain(NAMED_TABLES.iter().map(|d| d.name()))
                .chain([META.name()]);
            Ok(wanted.into_iter().all(|w| names.iter().any(|n| n == w)))
        })
    }

    /// Open an existing database file for reading only, alongside a running writer. redb
    /// cannot verify a file it may not write: a damaged page is found when read, as a
    /// [`StoreError::Corrupt`] (never a panic).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let db = open::open_read_only(&path).map_err(open::with_inventory)?;
        Ok(Store {
            inner: Arc::new(Inner {
                handle: Handle::new(path, Mode::ReadOnly, Db::ReadOnly(db)),
                report: None,
                closed: ClosedFlag::default(),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.inner.handle.path()
    }

    /// A watch on this store's handles: [`ReleaseWatch::released`] once every clone of this
    /// handle has been dropped and the file is closed.
    pub fn release_watch(&self) -> ReleaseWatch {
        ReleaseWatch(self.inner.closed.0.clone())
    }

    /// What the open did (created, verified, how long it took); `None` for a read-only handle.
    pub fn open_report(&self) -> Option<&OpenReport> {
        self.inner.report.as_ref()
    }

    /// Whether the store works, and if not: the last error, its time, how many operations
    /// failed since the last success; plus counters of failures and re-opens. Cheap (a mutex
    /// and a clone): call it for every `status` and `/metrics` request.
    pub fn health(&self) -> StoreHealth {
        self.inner.handle.health.snapshot()
    }

    /// Run `f` inside one write transaction and commit it durably. If `f` fails, nothing of it
    /// is written. **One attempt**: after an I/O error the store re-opens itself for a later
    /// call, but `f` (an `FnOnce`) is not run again; prefer [`Self::transact_retry`] when `f`
    /// can run twice. `f` must not call other `Store` methods (use the [`Txn`]).
    ///
    /// A commit that fails with an I/O error is checked (see the crate docs): `Ok` if it reached
    /// the file after all, an error if nothing was stored, [`StoreError::CommitUnknown`] only if
    /// the file could not be read to check.
    pub fn transact<R>(&self, f: impl FnOnce(&mut Txn<'_>) -> Result<R>) -> Result<R> {
        txn::transact_once(&self.inner.handle, f)
    }

    /// [`Self::transact`], but when the attempt failed with an I/O error and stored nothing,
    /// the database is re-opened and `f` runs once more on it. Safe whenever `f` has no effect
    /// outside the transaction (it may run twice; the first run's writes were discarded).
    pub fn transact_retry<R>(&self, f: impl FnMut(&mut Txn<'_>) -> Result<R>) -> Result<R> {
        txn::transact_retry(&self.inner.handle, f)
    }

    /// Run a read `f` on a read transaction (retried once after a re-open).
    fn read<T>(
        &self,
        op: &'static str,
        f: impl Fn(&ReadTransaction, &Path) -> Result<T>,
    ) -> Result<T> {
        let path = self.path();
        self.inner
            .handle
            .read(op, |db| f(&begin_read(db, path)?, path))
    }

    fn scan_u64<T: for<'de> Deserialize<'de>>(
        &self,
        def: TableDefinition<u64, &[u8]>,
        what: &'static str,
        from: u64,
    ) -> Result<Vec<(u64, T)>> {
        self.read("scan", |tx, path| {
            let err = |op, e: redb::Error| StoreError::from_redb(path, op, e);
            let table = tx
                .open_table(def)
                .map_err(|e| err("open table", e.into()))?;
            let mut out = Vec::new();
            for item in table.range(from..).map_err(|e| err("scan", e.into()))? {
                let (k, v) = item.map_err(|e| err("scan", e.into()))?;
                out.push((k.value(), decode(path, what, k.value(), v.value())?));
            }
            Ok(out)
        })
    }

    fn get_named(
        &self,
        def: TableDefinition<&str, &[u8]>,
        op: &'static str,
        key: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.read(op, |tx, path| {
            let err = |op, e: redb::Error| StoreError::from_redb(path, op, e);
            let table = tx
                .open_table(def)
                .map_err(|e| err("open table", e.into()))?;
            Ok(table
                .get(key)
                .map_err(|e| err(op, e.into()))?
                .map(|v| v.value().to_vec()))
        })
    }

    fn meta(&self, key: &str) -> Result<u64> {
        self.inner
            .handle
            .read("read meta", |db| txn::read_meta(db, self.path(), key))
    }

    // ----- journal -------------------------------------------------------------------------

    /// Append one observation; returns its journal sequence number.
    pub fn append_observation(&self, obs: &Observation) -> Result<u64> {
        self.transact_retry(|txn| txn.append_observation(obs))
    }

    /// Append many observations in one transaction (one fsync); returns the last sequence.
    ///
    /// **All or nothing**: on `Err` no observation of the batch is stored (a failed write
    /// transaction commits nothing, and a commit that failed with an I/O error is checked
    /// after a re-open), so the caller keeps the batch and appends it again later; the
    /// sequence numbers continue without a gap. Classify the error with
    /// [`StoreError::is_transient`] (I/O, disk full: retry) versus permanent. The one exception
    /// is [`StoreError::CommitUnknown`]: compare [`Self::journal_last_seq`] with the value
    /// before the append once the store is healthy again.
    pub fn append_observations(&self, obs: &[Observation]) -> Result<Option<u64>> {
        self.transact_retry(|txn| {
            let mut last = None;
            for o in obs {
                last = Some(txn.append_observation(o)?);
            }
            Ok(last)
        })
    }

    /// The sequence number of the last observation ever appended (0 if none); pruning does not
    /// lower it.
    pub fn journal_last_seq(&self) -> Result<u64> {
        self.meta(META_JOURNAL_NEXT)
    }

    /// The whole journal in arrival order, with sequence numbers.
    pub fn journal(&self) -> Result<Vec<(u64, Observation)>> {
        self.journal_from(0)
    }

    /// Delete journal entries older than `older_than` (by their `at`), but never an entry at or
    /// after `keep_from` (what the latest engine snapshot does not cover yet). Relies on the
    /// journal being in time order, which the collector guarantees by stamping: the cut is
    /// found by binary search, so pruning costs O(log n) lookups plus the deletion. Returns the
    /// number of entries deleted.
    pub fn prune_journal(&self, keep_from: u64, older_than: UnixMillis) -> Result<u64> {
        self.transact_retry(|txn| txn.prune_journal(keep_from, older_than))
    }

    /// Journal entries with sequence `>= from`, in arrival order (resume a consumer that
    /// processed everything before `from`).
    pub fn journal_from(&self, from: u64) -> Result<Vec<(u64, Observation)>> {
        self.read("scan", |tx, path| {
            let err = |op, e: redb::Error| StoreError::from_redb(path, op, e);
            let table = tx
                .open_table(JOURNAL)
                .map_err(|e| err("open table", e.into()))?;
            let mut out = Vec::new();
            for item in table.range(from..).map_err(|e| err("scan", e.into()))? {
                let (k, v) = item.map_err(|e| err("scan", e.into()))?;
                let obs = codec::decode_observation(v.value()).map_err(|source| {
                    StoreError::JournalRecord {
                        path: path.to_path_buf(),
                        key: k.value(),
                        source,
                    }
                })?;
                out.push((k.value(), obs));
            }
            Ok(out)
        })
    }

    /// Journal entries and the bytes their records take (keys and values, before redb's own
    /// page overhead): what the journal costs on disk, for `/metrics` and the growth bench.
    pub fn journal_size(&self) -> Result<(u64, u64)> {
        self.read("journal size", |tx, path| {
            let err = |op, e: redb::Error| StoreError::from_redb(path, op, e);
            let table = tx
                .open_table(JOURNAL)
                .map_err(|e| err("open table", e.into()))?;
            let (mut n, mut bytes) = (0u64, 0u64);
            for item in table.iter().map_err(|e| err("scan", e.into()))? {
                let (_, v) = item.map_err(|e| err("scan", e.into()))?;
                n += 1;
                bytes += 8 + v.value().len() as u64;
            }
            Ok((n, bytes))
        })
    }

    /// Observations with `at >= since`, in arrival order. Arrival order is not strictly time
    /// order (a late trap), so this scans rather than seeks.
    pub fn observations_since(&self, since: UnixMillis) -> Result<Vec<Observation>> {
        Ok(self
            .journal()?
            .into_iter()
            .map(|(_, o)| o)
            .filter(|o| o.at >= since)
            .collect())
    }

    /// Write the journal as JSON lines, one observation per line; returns the count.
    pub fn export_journal(&self, mut w: impl Write) -> Result<usize> {
        let io = |source| StoreError::JournalIo {
            source_name: "export".into(),
            source,
        };
        let all = self.journal()?;
        for (_, o) in &all {
            let line = serde_json::to_string(o).map_err(|source| StoreError::Encode {
                path: self.path().to_path_buf(),
                what: "observation",
                source,
            })?;
            writeln!(w, "{line}").map_err(io)?;
        }
        w.flush().map_err(io)?;
        Ok(all.len())
    }

    /// Append the observations of a JSON-lines journal (blank lines skipped) in one
    /// transaction; `source_name` (usually the file path) only labels errors. All or nothing: a
    /// bad line imports nothing.
    pub fn import_journal(&self, r: impl BufRead, source_name: &str) -> Result<usize> {
        let obs = read_journal(r, source_name)?;
        self.append_observations(&obs)?;
        Ok(obs.len())
    }

    // ----- incidents, engine state, snapshots ------------------------------------------------

    /// Store an incident as it is now (by id).
    pub fn upsert_incident(&self, inc: &Incident) -> Result<()> {
        self.transact_retry(|txn| txn.upsert_incident(inc))
    }

    /// One incident by id.
    pub fn incident(&self, id: &str) -> Result<Option<Incident>> {
        self.get_named(INCIDENTS, "read incident", id)?
            .map(|b| decode(self.path(), "incident", id, &b))
            .transpose()
    }

    /// All incidents (or only the open ones), ordered by id.
    pub fn incidents(&self, open_only: bool) -> Result<Vec<Incident>> {
        self.read("scan incidents", |tx, path| {
            let err = |op, e: redb::Error| StoreError::from_redb(path, op, e);
            let table = tx
                .open_table(INCIDENTS)
                .map_err(|e| err("open table", e.into()))?;
            let mut out = Vec::new();
            for item in table.iter().map_err(|e| err("scan incidents", e.into()))? {
                let (k, v) = item.map_err(|e| err("scan incidents", e.into()))?;
                let inc: Incident = decode(path, "incident", k.value(), v.value())?;
                if !open_only || inc.status == IncidentStatus::Open {
                    out.push(inc);
                }
            }
            Ok(out)
        })
    }

    /// The last engine sequence number recorded with [`Txn::set_engine_seq`] (0 if none).
    pub fn engine_seq(&self) -> Result<u64> {
        self.meta(META_ENGINE_SEQ)
    }

    /// Record the engine sequence number (the last journal entry whose transitions are
    /// enqueued).
    pub fn set_engine_seq(&self, seq: u64) -> Result<()> {
        self.transact_retry(|txn| txn.set_engine_seq(seq))
    }

    /// Store a named snapshot (the engine's serialised state), replacing the previous one.
    pub fn put_snapshot(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.transact_retry(|txn| txn.put_snapshot(name, bytes))
    }

    /// A named snapshot's bytes.
    pub fn snapshot(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.get_named(SNAPSHOTS, "read snapshot", name)
    }

    // ----- outbox ------------------------------------------------------------------------------

    /// Every pending delivery, in enqueue order.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        Ok(self
            .scan_u64(OUTBOX, "outbox", 0)?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    /// Every dead letter, oldest first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        Ok(self
            .scan_u64(DEAD, "dead letter", 0)?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    /// Incidents currently paged at `receiver` (all receivers if `None`).
    pub fn paged(&self, receiver: Option<&str>) -> Result<Vec<PagedRecord>> {
        self.read("scan paged", |tx, path| {
            let err = |op, e: redb::Error| StoreError::from_redb(path, op, e);
            let table = tx
                .open_table(PAGED)
                .map_err(|e| err("open table", e.into()))?;
            let mut out = Vec::new();
            let range = match receiver {
                Some(r) => {
                    let lo = format!("{r}{KEY_SEP}");
                    let hi = format!("{r}{}", char::from_u32(KEY_SEP as u32 + 1).unwrap_or(' '));
                    table.range(lo.as_str()..hi.as_str())
                }
                None => table.range::<&str>(..),
            }
            .map_err(|e| err("scan paged", e.into()))?;
            for item in range {
                let (k, v) = item.map_err(|e| err("scan paged", e.into()))?;
                out.push(decode(
                    path,
                    "paged",
                    k.value().replace(KEY_SEP, "/"),
                    v.value(),
                )?);
            }
            Ok(out)
        })
    }
}
