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
//! `tokio::task::spawn_blocking`. [`Store`] is a cheap `Clone` handle (an `Arc`).
//!
//! The file is opened in redb's single-writer mode: one process (the collector) writes while
//! others (the `faultline outbox` command) may open it with [`Store::open_read_only`] and read.
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

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultline_incident::{Incident, IncidentStatus, IncidentTransition};
use faultline_observe::{Observation, UnixMillis};
use redb::{
    Builder, ConcurrencyMode, Database, Durability, ReadOnlyDatabase, ReadTransaction,
    ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize};

const JOURNAL: TableDefinition<u64, &[u8]> = TableDefinition::new("journal");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const INCIDENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("incidents");
const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshots");
const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
const DEAD: TableDefinition<u64, &[u8]> = TableDefinition::new("dead_letters");
const PAGED: TableDefinition<&str, &[u8]> = TableDefinition::new("paged");

const META_JOURNAL_NEXT: &str = "journal_next";
const META_OUTBOX_NEXT: &str = "outbox_next";
const META_ENGINE_SEQ: &str = "engine_seq";

/// Separates receiver and incident id in the paged table's keys; a control character cannot
/// appear in either (ids come from the topology and config), so prefix ranges are exact.
const KEY_SEP: char = '\u{1f}';

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

/// Everything that can go wrong in the store; each variant names the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: cannot open database: {source}")]
    Open {
        path: PathBuf,
        source: redb::DatabaseError,
    },
    #[error("store {path}: {op} failed: {source}")]
    Db {
        path: PathBuf,
        op: &'static str,
        source: Box<redb::Error>,
    },
    #[error("store {path}: {what} record {key} is unreadable: {source}")]
    Decode {
        path: PathBuf,
        what: &'static str,
        key: String,
        source: serde_json::Error,
    },
    #[error("store {path}: cannot encode {what}: {source}")]
    Encode {
        path: PathBuf,
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("store {path} is open read-only: cannot {op}")]
    ReadOnly { path: PathBuf, op: &'static str },
    #[error("journal {source_name} line {line}: not an observation: {source}")]
    JournalLine {
        source_name: String,
        line: usize,
        source: serde_json::Error,
    },
    #[error("journal {source_name}: {source}")]
    JournalIo {
        source_name: String,
        source: std::io::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One pending delivery of one transition to one receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Outbox sequence: global enqueue order, never reused.
    pub id: u64,
    /// Receiver name (from the notify config).
    pub receiver: String,
    pub transition: IncidentTransition,
    pub enqueued_at: UnixMillis,
    /// Failed delivery attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// The last failure, for the operator (`faultline outbox`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Identity labels pinned when the incident was first paged at this receiver (Alertmanager
    /// identifies an alert by its label set, so update and resolve must reuse them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// A delivery the receiver refused permanently, with its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub entry: OutboxEntry,
    /// HTTP status of the refusal, if there was one.
    pub status: Option<u16>,
    /// The receiver's answer (body, truncated by the caller).
    pub answer: String,
    pub at: UnixMillis,
}

/// An incident currently open ("paged") at a receiver: a trigger was enqueued there and no
/// resolve yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PagedRecord {
    pub receiver: String,
    /// The latest snapshot sent (or queued) to the receiver.
    pub incident: Incident,
    /// Identity labels pinned at the first trigger.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub since: UnixMillis,
}

enum Db {
    ReadWrite(Database),
    ReadOnly(ReadOnlyDatabase),
}

struct Inner {
    db: Db,
    path: PathBuf,
}

/// Handle on the store file. Cheap to clone; all methods block.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn paged_key(receiver: &str, incident: &str) -> String {
    format!("{receiver}{KEY_SEP}{incident}")
}

/// Page cache of the database (see [`Store::open`]).
const CACHE_BYTES: usize = 32 << 20;

impl Store {
    /// Open (or create) the database file for reading and writing.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let db = Builder::new()
            .set_concurrency_mode(ConcurrencyMode::SingleWriter)
            // redb caches up to 1 GiB of pages by default; the journal is append-mostly and read
            // back only at start-up, so a small cache keeps the collector's RSS bounded.
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        let store = Store {
            inner: Arc::new(Inner {
                db: Db::ReadWrite(db),
                path,
            }),
        };
        // Create every table up front so that readers (including read-only handles) never meet
        // a missing table.
        store.transact(|txn| {
            for def in [JOURNAL, OUTBOX, DEAD] {
                txn.tx
                    .open_table(def)
                    .map_err(|e| txn.err("create tables", e))?;
            }
            for def in [INCIDENTS, SNAPSHOTS, PAGED] {
                txn.tx
                    .open_table(def)
                    .map_err(|e| txn.err("create tables", e))?;
            }
            txn.tx
                .open_table(META)
                .map_err(|e| txn.err("create tables", e))?;
            Ok(())
        })?;
        Ok(store)
    }

    /// Open an existing database file for reading only, alongside a running writer.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let db = Builder::new()
            .set_concurrency_mode(ConcurrencyMode::SingleWriter)
            .open_read_only(&path)
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        Ok(Store {
            inner: Arc::new(Inner {
                db: Db::ReadOnly(db),
                path,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn db_err(&self, op: &'static str, e: impl Into<redb::Error>) -> StoreError {
        StoreError::Db {
            path: self.inner.path.clone(),
            op,
            source: Box::new(e.into()),
        }
    }

    /// Run `f` inside one write transaction and commit it durably. If `f` fails, nothing of it
    /// is written.
    pub fn transact<R>(&self, f: impl FnOnce(&mut Txn<'_>) -> Result<R>) -> Result<R> {
        let Db::ReadWrite(db) = &self.inner.db else {
            return Err(StoreError::ReadOnly {
                path: self.inner.path.clone(),
                op: "write",
            });
        };
        let mut tx = db
            .begin_write()
            .map_err(|e| self.db_err("begin write", e))?;
        tx.set_durability(Durability::Immediate)
            .map_err(|e| self.db_err("set durability", e))?;
        let mut txn = Txn {
            tx,
            path: &self.inner.path,
        };
        let out = f(&mut txn)?;
        txn.tx.commit().map_err(|e| self.db_err("commit", e))?;
        Ok(out)
    }

    fn read(&self) -> Result<ReadTransaction> {
        let r = match &self.inner.db {
            Db::ReadWrite(db) => db.begin_read(),
            Db::ReadOnly(db) => db.begin_read(),
        };
        r.map_err(|e| self.db_err("begin read", e))
    }

    fn decode<T: for<'de> Deserialize<'de>>(
        &self,
        what: &'static str,
        key: impl ToString,
        bytes: &[u8],
    ) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|source| StoreError::Decode {
            path: self.inner.path.clone(),
            what,
            key: key.to_string(),
            source,
        })
    }

    fn scan_u64<T: for<'de> Deserialize<'de>>(
        &self,
        def: TableDefinition<u64, &[u8]>,
        what: &'static str,
        from: u64,
    ) -> Result<Vec<(u64, T)>> {
        let tx = self.read()?;
        let table = tx
            .open_table(def)
            .map_err(|e| self.db_err("open table", e))?;
        let mut out = Vec::new();
        for item in table.range(from..).map_err(|e| self.db_err("scan", e))? {
            let (k, v) = item.map_err(|e| self.db_err("scan", e))?;
            out.push((k.value(), self.decode(what, k.value(), v.value())?));
        }
        Ok(out)
    }

    // ----- journal -------------------------------------------------------------------------

    /// Append one observation; returns its journal sequence number.
    pub fn append_observation(&self, obs: &Observation) -> Result<u64> {
        self.transact(|txn| txn.append_observation(obs))
    }

    /// Append many observations in one transaction (one fsync); returns the last sequence.
    pub fn append_observations(&self, obs: &[Observation]) -> Result<Option<u64>> {
        self.transact(|txn| {
            let mut last = None;
            for o in obs {
                last = Some(txn.append_observation(o)?);
            }
            Ok(last)
        })
    }

    /// The whole journal in arrival order, with sequence numbers.
    pub fn journal(&self) -> Result<Vec<(u64, Observation)>> {
        self.scan_u64(JOURNAL, "journal", 0)
    }

    /// Delete journal entries older than `older_than` (by their `at`), but never an entry at or
    /// after `keep_from` (what the latest engine snapshot does not cover yet). Relies on the
    /// journal being in time order, which the collector guarantees by stamping: the cut is
    /// found by binary search, so pruning costs O(log n) lookups plus the deletion. Returns the
    /// number of entries deleted.
    pub fn prune_journal(&self, keep_from: u64, older_than: UnixMillis) -> Result<u64> {
        self.transact(|txn| {
            let mut t = txn
                .tx
                .open_table(JOURNAL)
                .map_err(|e| txn.err("open table", e))?;
            let first = match t.first().map_err(|e| txn.err("prune", e))? {
                Some((k, _)) => k.value(),
                None => return Ok(0),
            };
            let at_of = |t: &redb::Table<u64, &[u8]>, seq: u64| -> Result<Option<UnixMillis>> {
                match t.get(seq).map_err(|e| txn.err("prune", e))? {
                    Some(v) => Ok(serde_json::from_slice::<Observation>(v.value())
                        .ok()
                        .map(|o| o.at)),
                    None => Ok(None),
                }
            };
            // Smallest seq in [first, keep_from) whose observation is not older than the cut.
            let (mut lo, mut hi) = (first, keep_from.max(first));
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                match at_of(&t, mid)? {
                    Some(at) if at < older_than => lo = mid + 1,
                    _ => hi = mid,
                }
            }
            if lo <= first {
                return Ok(0);
            }
            t.retain_in(first..lo, |_, _| false)
                .map_err(|e| txn.err("prune", e))?;
            Ok(lo - first)
        })
    }

    /// Journal entries with sequence `>= from`, in arrival order (resume a consumer that
    /// processed everything before `from`).
    pub fn journal_from(&self, from: u64) -> Result<Vec<(u64, Observation)>> {
        self.scan_u64(JOURNAL, "journal", from)
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
                path: self.inner.path.clone(),
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

    pub fn upsert_incident(&self, inc: &Incident) -> Result<()> {
        self.transact(|txn| txn.upsert_incident(inc))
    }

    pub fn incident(&self, id: &str) -> Result<Option<Incident>> {
        let tx = self.read()?;
        let table = tx
            .open_table(INCIDENTS)
            .map_err(|e| self.db_err("open table", e))?;
        match table.get(id).map_err(|e| self.db_err("read incident", e))? {
            Some(v) => Ok(Some(self.decode("incident", id, v.value())?)),
            None => Ok(None),
        }
    }

    /// All incidents (or only the open ones), ordered by id.
    pub fn incidents(&self, open_only: bool) -> Result<Vec<Incident>> {
        let tx = self.read()?;
        let table = tx
            .open_table(INCIDENTS)
            .map_err(|e| self.db_err("open table", e))?;
        let mut out = Vec::new();
        for item in table.iter().map_err(|e| self.db_err("scan incidents", e))? {
            let (k, v) = item.map_err(|e| self.db_err("scan incidents", e))?;
            let inc: Incident = self.decode("incident", k.value(), v.value())?;
            if !open_only || inc.status == IncidentStatus::Open {
                out.push(inc);
            }
        }
        Ok(out)
    }

    /// The last engine sequence number recorded with [`Txn::set_engine_seq`] (0 if none).
    pub fn engine_seq(&self) -> Result<u64> {
        self.meta(META_ENGINE_SEQ)
    }

    pub fn set_engine_seq(&self, seq: u64) -> Result<()> {
        self.transact(|txn| txn.set_engine_seq(seq))
    }

    fn meta(&self, key: &str) -> Result<u64> {
        let tx = self.read()?;
        let table = tx
            .open_table(META)
            .map_err(|e| self.db_err("open table", e))?;
        Ok(table
            .get(key)
            .map_err(|e| self.db_err("read meta", e))?
            .map(|v| v.value())
            .unwrap_or(0))
    }

    pub fn put_snapshot(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.transact(|txn| txn.put_snapshot(name, bytes))
    }

    pub fn snapshot(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let tx = self.read()?;
        let table = tx
            .open_table(SNAPSHOTS)
            .map_err(|e| self.db_err("open table", e))?;
        Ok(table
            .get(name)
            .map_err(|e| self.db_err("read snapshot", e))?
            .map(|v| v.value().to_vec()))
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
        let tx = self.read()?;
        let table = tx
            .open_table(PAGED)
            .map_err(|e| self.db_err("open table", e))?;
        let mut out = Vec::new();
        let mut push = |k: &str, v: &[u8]| -> Result<()> {
            out.push(self.decode("paged", k.replace(KEY_SEP, "/"), v)?);
            Ok(())
        };
        match receiver {
            Some(r) => {
                let lo = format!("{r}{KEY_SEP}");
                let hi = format!("{r}{}", char::from_u32(KEY_SEP as u32 + 1).unwrap_or(' '));
                for item in table
                    .range(lo.as_str()..hi.as_str())
                    .map_err(|e| self.db_err("scan paged", e))?
                {
                    let (k, v) = item.map_err(|e| self.db_err("scan paged", e))?;
                    push(k.value(), v.value())?;
                }
            }
            None => {
                for item in table.iter().map_err(|e| self.db_err("scan paged", e))? {
                    let (k, v) = item.map_err(|e| self.db_err("scan paged", e))?;
                    push(k.value(), v.value())?;
                }
            }
        }
        Ok(out)
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

/// One open write transaction (see [`Store::transact`]). Everything done through it commits
/// together or not at all.
pub struct Txn<'a> {
    tx: WriteTransaction,
    path: &'a Path,
}

impl Txn<'_> {
    fn err(&self, op: &'static str, e: impl Into<redb::Error>) -> StoreError {
        StoreError::Db {
            path: self.path.to_path_buf(),
            op,
            source: Box::new(e.into()),
        }
    }

    fn encode<T: Serialize>(&self, what: &'static str, v: &T) -> Result<Vec<u8>> {
        serde_json::to_vec(v).map_err(|source| StoreError::Encode {
            path: self.path.to_path_buf(),
            what,
            source,
        })
    }

    fn decode<T: for<'de> Deserialize<'de>>(
        &self,
        what: &'static str,
        key: impl ToString,
        bytes: &[u8],
    ) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|source| StoreError::Decode {
            path: self.path.to_path_buf(),
            what,
            key: key.to_string(),
            source,
        })
    }

    /// Take the next value of a monotonic counter (starting at 1).
    fn next(&mut self, key: &str) -> Result<u64> {
        let mut t = self
            .tx
            .open_table(META)
            .map_err(|e| self.err("open table", e))?;
        let n = t
            .get(key)
            .map_err(|e| self.err("read counter", e))?
            .map(|v| v.value())
            .unwrap_or(0)
            + 1;
        t.insert(key, n).map_err(|e| self.err("write counter", e))?;
        Ok(n)
    }

    pub fn append_observation(&mut self, obs: &Observation) -> Result<u64> {
        let bytes = self.encode("observation", obs)?;
        let seq = self.next(META_JOURNAL_NEXT)?;
        let mut t = self
            .tx
            .open_table(JOURNAL)
            .map_err(|e| self.err("open table", e))?;
        t.insert(seq, bytes.as_slice())
            .map_err(|e| self.err("append observation", e))?;
        Ok(seq)
    }

    pub fn upsert_incident(&mut self, inc: &Incident) -> Result<()> {
        let bytes = self.encode("incident", inc)?;
        let mut t = self
            .tx
            .open_table(INCIDENTS)
            .map_err(|e| self.err("open table", e))?;
        t.insert(inc.id.as_str(), bytes.as_slice())
            .map_err(|e| self.err("write incident", e))?;
        Ok(())
    }

    pub fn set_engine_seq(&mut self, seq: u64) -> Result<()> {
        let mut t = self
            .tx
            .open_table(META)
            .map_err(|e| self.err("open table", e))?;
        t.insert(META_ENGINE_SEQ, seq)
            .map_err(|e| self.err("write engine seq", e))?;
        Ok(())
    }

    pub fn put_snapshot(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut t = self
            .tx
            .open_table(SNAPSHOTS)
            .map_err(|e| self.err("open table", e))?;
        t.insert(name, bytes)
            .map_err(|e| self.err("write snapshot", e))?;
        Ok(())
    }

    /// Enqueue a delivery; assigns its outbox id.
    pub fn push_outbox(
        &mut self,
        receiver: &str,
        transition: &IncidentTransition,
        labels: Option<BTreeMap<String, String>>,
        now: UnixMillis,
    ) -> Result<OutboxEntry> {
        let id = self.next(META_OUTBOX_NEXT)?;
        let entry = OutboxEntry {
            id,
            receiver: receiver.to_string(),
            transition: transition.clone(),
            enqueued_at: now,
            attempts: 0,
            last_error: None,
            labels,
        };
        self.put_outbox(&entry)?;
        Ok(entry)
    }

    /// Overwrite an entry (same id): coalescing, attempt bookkeeping.
    pub fn put_outbox(&mut self, entry: &OutboxEntry) -> Result<()> {
        let bytes = self.encode("outbox entry", entry)?;
        let mut t = self
            .tx
            .open_table(OUTBOX)
            .map_err(|e| self.err("open table", e))?;
        t.insert(entry.id, bytes.as_slice())
            .map_err(|e| self.err("write outbox", e))?;
        Ok(())
    }

    pub fn get_outbox(&mut self, id: u64) -> Result<Option<OutboxEntry>> {
        let t = self
            .tx
            .open_table(OUTBOX)
            .map_err(|e| self.err("open table", e))?;
        let v = t
            .get(id)
            .map_err(|e| self.err("read outbox", e))?
            .map(|v| v.value().to_vec());
        drop(t);
        v.map(|b| self.decode("outbox", id, &b)).transpose()
    }

    /// Remove a delivered entry, but only if it still carries the transition `seq` that was
    /// delivered: if it was coalesced with a newer update meanwhile, the newer content is still
    /// owed to the receiver. Returns whether it was removed.
    pub fn ack_outbox(&mut self, id: u64, seq: u64) -> Result<bool> {
        match self.get_outbox(id)? {
            Some(e) if e.transition.seq == seq => {
                let mut t = self
                    .tx
                    .open_table(OUTBOX)
                    .map_err(|e| self.err("open table", e))?;
                t.remove(id).map_err(|e| self.err("remove outbox", e))?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Move an entry to the dead letters with the receiver's answer.
    pub fn dead_letter(
        &mut self,
        id: u64,
        status: Option<u16>,
        answer: &str,
        at: UnixMillis,
    ) -> Result<bool> {
        let Some(entry) = self.get_outbox(id)? else {
            return Ok(false);
        };
        let dl = DeadLetter {
            entry,
            status,
            answer: answer.to_string(),
            at,
        };
        let bytes = self.encode("dead letter", &dl)?;
        let mut out = self
            .tx
            .open_table(OUTBOX)
            .map_err(|e| self.err("open table", e))?;
        out.remove(id).map_err(|e| self.err("remove outbox", e))?;
        drop(out);
        let mut dead = self
            .tx
            .open_table(DEAD)
            .map_err(|e| self.err("open table", e))?;
        dead.insert(id, bytes.as_slice())
            .map_err(|e| self.err("write dead letter", e))?;
        Ok(true)
    }

    pub fn get_paged(&mut self, receiver: &str, incident: &str) -> Result<Option<PagedRecord>> {
        let key = paged_key(receiver, incident);
        let t = self
            .tx
            .open_table(PAGED)
            .map_err(|e| self.err("open table", e))?;
        let v = t
            .get(key.as_str())
            .map_err(|e| self.err("read paged", e))?
            .map(|v| v.value().to_vec());
        drop(t);
        v.map(|b| self.decode("paged", &key, &b)).transpose()
    }

    pub fn set_paged(&mut self, rec: &PagedRecord) -> Result<()> {
        let key = paged_key(&rec.receiver, &rec.incident.id);
        let bytes = self.encode("paged record", rec)?;
        let mut t = self
            .tx
            .open_table(PAGED)
            .map_err(|e| self.err("open table", e))?;
        t.insert(key.as_str(), bytes.as_slice())
            .map_err(|e| self.err("write paged", e))?;
        Ok(())
    }

    pub fn clear_paged(&mut self, receiver: &str, incident: &str) -> Result<()> {
        let key = paged_key(receiver, incident);
        let mut t = self
            .tx
            .open_table(PAGED)
            .map_err(|e| self.err("open table", e))?;
        t.remove(key.as_str())
            .map_err(|e| self.err("remove paged", e))?;
        Ok(())
    }
}
