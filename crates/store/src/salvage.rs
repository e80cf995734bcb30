//! Reading what is still readable of a damaged store: [`Store::inspect`] (an inventory, writes
//! nothing) and [`Store::salvage`] (copies every readable record into a new store). Both read
//! the damaged file through a read-only handle (never written, never repaired in place) and
//! never panic: redb panics on some damaged pages, so every read runs under `catch_unwind` and
//! the handle is re-opened after one.
//!
//! Sequence-keyed tables (journal, outbox, dead letters) are read forward; past an unreadable
//! stretch the next readable sequence is found by probing further ahead (doubling the step,
//! then bisecting), so one bad page costs only its own records. Name-keyed tables are read
//! forward, then backward from their end, losing only what lies between.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use faultline_incident::Incident;
use redb::{ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Deserialize;

use crate::open::{self, panic_message};
use crate::records::{DeadLetter, OutboxEntry, PagedRecord};
use crate::tables::*;
use crate::{Result, Store, StoreError};

/// Records read per read transaction: bounds the memory a salvage holds and the records a
/// panic part way through a chunk makes it read again.
const CHUNK: usize = 10_000;

/// What could not be read of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lost {
    /// Sequence numbers `first..=last` of a sequence-keyed table (`last: None`: to the end of
    /// the table). Numbers that never held a record (pruned, never written) may be included.
    Seqs {
        /// First unreadable sequence number.
        first: u64,
        /// Last unreadable one; `None`: to the end of the table.
        last: Option<u64>,
    },
    /// The records of a name-keyed table between two readable keys (`None`: the table's
    /// start / end).
    Between {
        /// The last readable key before the gap (`None`: the table's start).
        after: Option<String>,
        /// The first readable key after it (`None`: the table's end).
        before: Option<String>,
    },
    /// One record that was read but does not decode.
    Key(String),
    /// The table could not be opened at all.
    Table(String),
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lost::Seqs {
                first,
                last: Some(last),
            } if first == last => write!(f, "seq {first}"),
            Lost::Seqs {
                first,
                last: Some(last),
            } => write!(f, "seqs {first}-{last}"),
            Lost::Seqs { first, last: None } => write!(f, "seqs {first} to the end"),
            Lost::Between { after, before } => write!(
                f,
                "the records {} {}",
                after
                    .as_ref()
                    .map_or("from the start".to_string(), |k| format!("after {k:?}")),
                before
                    .as_ref()
                    .map_or("to the end".to_string(), |k| format!("up to {k:?}"))
            ),
            Lost::Key(k) => write!(f, "record {k:?} (undecodable)"),
            Lost::Table(e) => write!(f, "the whole table ({e})"),
        }
    }
}

/// One table's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    /// The table's name in the file (`journal`, `incidents`, `snapshots`, `outbox`,
    /// `dead_letters`, `paged`, `meta`).
    pub table: &'static str,
    /// Records read and decoded: copied, in a salvage. Snapshots are opaque bytes and cannot be
    /// checked (the engine validates a snapshot when it restores one).
    pub readable: u64,
    /// Records read but not decodable (included in `lost` as `Seqs` / `Key`).
    pub undecodable: u64,
    /// What could not be read, in key order.
    pub lost: Vec<Lost>,
}

impl TableReport {
    fn new(table: &'static str) -> Self {
        Self {
            table,
            readable: 0,
            undecodable: 0,
            lost: Vec::new(),
        }
    }

    /// Record `first..=last` as lost, merged into a directly preceding range.
    fn lose_seq(&mut self, first: u64, last: Option<u64>) {
        if let Some(Lost::Seqs { last: prev, .. }) = self.lost.last_mut()
            && prev.and_then(|p| p.checked_add(1)) == Some(first)
        {
            *prev = last;
            return;
        }
        self.lost.push(Lost::Seqs { first, last });
    }
}

/// The account of an inspection or a salvage, table by table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalvageReport {
    /// The file read.
    pub source: PathBuf,
    /// The new store written (`None` for an inspection).
    pub target: Option<PathBuf>,
    /// What was read (and copied) of each table.
    pub tables: Vec<TableReport>,
}

impl SalvageReport {
    /// True if every record was read and decoded.
    pub fn is_complete(&self) -> bool {
        self.tables.iter().all(|t| t.lost.is_empty())
    }

    /// One line naming what is unreadable, e.g. `journal: seqs 1201-1450; incidents: the
    /// records after "inc-9" to the end`.
    pub fn lost_summary(&self) -> String {
        // Tables that lost the same things are named together ("journal, outbox: the whole
        // table (...)"), so a file unreadable throughout gives one short line.
        let mut groups: Vec<(Vec<&str>, String)> = Vec::new();
        for t in self.tables.iter().filter(|t| !t.lost.is_empty()) {
            let items: Vec<String> = t.lost.iter().map(ToString::to_string).collect();
            let what = items.join(", ");
            match groups.iter_mut().find(|(_, w)| *w == what) {
                Some((names, _)) => names.push(t.table),
                None => groups.push((vec![t.table], what)),
            }
        }
        if groups.is_empty() {
            return "no record found unreadable (the damage is in pages no record uses now, or \
                    inside records that still decode)"
                .to_string();
        }
        let parts: Vec<String> = groups
            .into_iter()
            .map(|(names, what)| format!("{}: {what}", names.join(", ")))
            .collect();
        parts.join("; ")
    }
}

impl fmt::Display for SalvageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Some(t) => writeln!(
                f,
                "salvage of {} into {}:",
                self.source.display(),
                t.display()
            )?,
            None => writeln!(f, "inspection of {}:", self.source.display())?,
        }
        for t in &self.tables {
            write!(f, "  {:<13} {:>9} readable", t.table, t.readable)?;
            if t.undecodable > 0 {
                write!(f, ", {} undecodable", t.undecodable)?;
            }
            for l in &t.lost {
                write!(f, "; lost {l}")?;
            }
            writeln!(f)?;
        }
        write!(
            f,
            "{}",
            if self.is_complete() {
                "everything readable"
            } else {
                "some records are lost (above)"
            }
        )
    }
}

impl Store {
    /// Copy every readable record of the store file `from` (typically one that
    /// [`Store::open`] refused as [`StoreError::Corrupt`]) into a new store at `to`, which
    /// must not exist. `from` is only read. Records keep their keys (journal sequence numbers,
    /// outbox ids); the counters are restored from `from` or, where unreadable, derived from
    /// the highest keys copied. Returns the account per table; never panics.
    pub fn salvage(from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<SalvageReport> {
        let (from, to) = (from.as_ref(), to.as_ref());
        if to.exists() {
            return Err(StoreError::TargetExists {
                path: to.to_path_buf(),
            });
        }
        let target = Store::open(to)?;
        let mut report = run(from, Some(&target))?;
        report.target = Some(to.to_path_buf());
        Ok(report)
    }

    /// What [`Store::salvage`] would copy and lose, without writing anything.
    pub fn inspect(path: impl AsRef<Path>) -> Result<SalvageReport> {
        inspect_file(path.as_ref())
    }
}

pub(crate) fn inspect_file(path: &Path) -> Result<SalvageReport> {
    run(path, None)
}

fn run(path: &Path, target: Option<&Store>) -> Result<SalvageReport> {
    let mut src = Source::open(path)?;
    let mut tables = Vec::new();
    let meta = read_meta_table(&mut src);
    let mut highest = BTreeMap::new();
    for (def, name, counter) in [
        (JOURNAL, "journal", META_JOURNAL_NEXT),
        (OUTBOX, "outbox", META_OUTBOX_NEXT),
        (DEAD, "dead_letters", META_OUTBOX_NEXT),
    ] {
        let bound = meta.0.get(counter).copied();
        let (report, max) = scan_seq_table(&mut src, (def, name), bound, target)?;
        highest.insert(name, max);
        tables.push(report);
    }
    for table in [
        (INCIDENTS, "incidents"),
        (SNAPSHOTS, "snapshots"),
        (PAGED, "paged"),
    ] {
        tables.push(scan_named_table(&mut src, table, target)?);
    }
    if let Some(t) = target {
        restore_counters(t, &meta.0, &highest)?;
    }
    tables.push(meta.1);
    Ok(SalvageReport {
        source: path.to_path_buf(),
        target: None,
        tables,
    })
}

/// The damaged file behind a read-only handle that is re-opened after a panic.
struct Source {
    path: PathBuf,
    db: Option<ReadOnlyDatabase>,
}

impl Source {
    fn open(path: &Path) -> Result<Self> {
        Ok(Source {
            path: path.to_path_buf(),
            db: Some(open::open_read_only(path)?),
        })
    }

    /// Run `f` on a fresh read transaction; a redb error or panic comes back as its message.
    fn with<T>(
        &mut self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, String>,
    ) -> Result<T, String> {
        if self.db.is_none() {
            self.db = Some(open::open_read_only(&self.path).map_err(|e| e.to_string())?);
        }
        let Some(db) = self.db.as_ref() else {
            return Err("the file could not be re-opened".into());
        };
        // redb panics on some damaged pages; the transaction dies with the unwind and the
        // handle is dropped below and re-opened before its next use: AssertUnwindSafe.
        let out = match catch_unwind(AssertUnwindSafe(|| {
            let tx = db.begin_read().map_err(|e| e.to_string())?;
            f(&tx)
        })) {
            Ok(r) => r,
            Err(panic) => Err(format!("redb panicked: {}", panic_message(&*panic))),
        };
        if out.is_err() {
            // After an I/O error redb fails every later call on the handle; after a panic its
            // state is not trusted. A read-only re-open costs well under a millisecond.
            self.db = None;
        }
        out
    }
}

/// The `meta` table's counters, and its account.
fn read_meta_table(src: &mut Source) -> (BTreeMap<String, u64>, TableReport) {
    let mut report = TableReport::new("meta");
    let mut out = BTreeMap::new();
    let read = src.with(|tx| {
        let t = tx.open_table(META).map_err(|e| e.to_string())?;
        for item in t.iter().map_err(|e| e.to_string())? {
            let (k, v) = item.map_err(|e| e.to_string())?;
            out.insert(k.value().to_string(), v.value());
        }
        Ok(())
    });
    report.readable = out.len() as u64;
    if let Err(e) = read {
        report.lost.push(Lost::Table(e));
    }
    (out, report)
}

/// Does `bytes` decode as a record of `table`? (Snapshots are opaque: always.)
fn decodes(table: &str, bytes: &[u8]) -> bool {
    fn ok<T: for<'de> Deserialize<'de>>(b: &[u8]) -> bool {
        serde_json::from_slice::<T>(b).is_ok()
    }
    match table {
        "journal" => crate::codec::decode_observation(bytes).is_ok(),
        "outbox" => ok::<OutboxEntry>(bytes),
        "dead_letters" => ok::<DeadLetter>(bytes),
        "incidents" => ok::<Incident>(bytes),
        "paged" => ok::<PagedRecord>(bytes),
        _ => true,
    }
}

type Records<K> = Vec<(K, Vec<u8>)>;
/// A sequence-keyed table and its name.
type SeqTable = (TableDefinition<'static, u64, &'static [u8]>, &'static str);
/// A name-keyed table and its name.
type NamedTable = (
    TableDefinition<'static, &'static str, &'static [u8]>,
    &'static str,
);

/// Read up to [`CHUNK`] records with keys `>= from` into `into`; `Ok(true)` if the table has
/// no more. On error, `into` keeps what was read before it.
fn read_chunk(
    src: &mut Source,
    def: TableDefinition<u64, &[u8]>,
    from: u64,
    into: &mut Records<u64>,
) -> Result<bool, String> {
    src.with(|tx| {
        let t = tx.open_table(def).map_err(|e| e.to_string())?;
        for item in t.range(from..).map_err(|e| e.to_string())? {
            if into.len() == CHUNK {
                return Ok(false);
            }
            let (k, v) = item.map_err(|e| e.to_string())?;
            into.push((k.value(), v.value().to_vec()));
        }
        Ok(true)
    })
}

/// Does reading from `at` onwards work? `Ok(Some(k))`: the first record there, `k`;
/// `Ok(None)`: there is nothing at or after `at`.
fn probe(
    src: &mut Source,
    def: TableDefinition<u64, &[u8]>,
    at: u64,
) -> Result<Option<u64>, String> {
    src.with(|tx| {
        let t = tx.open_table(def).map_err(|e| e.to_string())?;
        let mut r = t.range(at..).map_err(|e| e.to_string())?;
        match r.next() {
            None => Ok(None),
            Some(item) => Ok(Some(item.map_err(|e| e.to_string())?.0.value())),
        }
    })
}

/// The smallest position after `bad` (where reading failed) from which reading works, and what
/// it finds there; `None` if none up to the end of the key space.
fn next_readable(
    src: &mut Source,
    def: TableDefinition<u64, &[u8]>,
    bad: u64,
) -> Option<(u64, Option<u64>)> {
    // Double the step until a probe works...
    // (At most 65 positions, the last the end of the key space: bounded whatever the damage.)
    let mut positions: Vec<u64> = (0..u64::BITS)
        .map(|i| bad.saturating_add(1 << i))
        .chain([u64::MAX])
        .filter(|at| *at > bad)
        .collect();
    positions.dedup();
    let (mut lo, mut hi, mut found) = (bad, None, None);
    for at in positions {
        if let Ok(first) = probe(src, def, at) {
            (hi, found) = (Some(at), first);
            break;
        }
        lo = at;
    }
    let mut hi = hi?;
    // ...then bisect (lo failed, hi works) down to the first working position.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match probe(src, def, mid) {
            Ok(first) => (hi, found) = (mid, first),
            Err(_) => lo = mid,
        }
    }
    Some((hi, found))
}

/// Read (and copy into `target`) a sequence-keyed table; returns its account and highest
/// key copied. `bound`: the highest key ever assigned, if the counter was readable.
fn scan_seq_table(
    src: &mut Source,
    (def, name): SeqTable,
    bound: Option<u64>,
    target: Option<&Store>,
) -> Result<(TableReport, Option<u64>)> {
    let mut report = TableReport::new(name);
    if let Err(e) = src.with(|tx| tx.open_table(def).map(drop).map_err(|e| e.to_string())) {
        report.lost.push(Lost::Table(e));
        return Ok((report, None));
    }
    let mut highest = None;
    // The highest key already reported lost one by one.
    let mut covered = 0u64;
    let mut from = 0u64;
    loop {
        let mut chunk = Vec::new();
        let read = read_chunk(src, def, from, &mut chunk);
        let mut good: Vec<(u64, &[u8])> = Vec::with_capacity(chunk.len());
        for (k, v) in &chunk {
            // A damaged key shows as one out of order or past the highest ever assigned.
            let prev = good.last().map(|(p, _)| *p).or(highest);
            let in_order = prev.is_none_or(|p| *k > p) && bound.is_none_or(|b| *k <= b);
            if in_order && decodes(name, v) {
                // The journal's keys have no holes (pruning cuts only its start): a gap
                // between two good keys was lost, e.g. to a damaged key.
                let first = prev.map(|p| p.max(covered) + 1);
                if let Some(f) = first.filter(|f| name == "journal" && *k > *f) {
                    report.lose_seq(f, Some(k - 1));
                }
                good.push((*k, v.as_slice()));
            } else {
                report.undecodable += 1;
                if in_order {
                    report.lose_seq(*k, Some(*k));
                    covered = covered.max(*k);
                }
            }
        }
        report.readable += good.len() as u64;
        highest = good.last().map(|(k, _)| *k).or(highest);
        if let Some(t) = target {
            copy_seq(t, def, &good)?;
        }
        // The first key not read yet: past the largest plausible key read (at or after
        // `from`, within the highest ever assigned), and always forward while keys come, so a
        // damaged key smaller than `from` at the end of a chunk cannot send the scan back over
        // the same chunk for ever.
        let next = match chunk
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| *k >= from && bound.is_none_or(|b| *k <= b))
            .max()
        {
            Some(k) => k.saturating_add(1),
            None if chunk.is_empty() => from,
            None => from.saturating_add(1).max(highest.map_or(0, |h| h + 1)),
        };
        match read {
            Ok(true) => break,
            Ok(false) => from = next,
            Err(_) => {
                let found = next_readable(src, def, next);
                // Lost: from `next` up to just before the first position that reads, but
                // never past the highest key ever assigned.
                let end = found.map(|(at, _)| at.saturating_sub(1).max(next));
                let last = match (end, bound) {
                    (Some(e), Some(b)) => Some(e.min(b)),
                    (e, b) => e.or(b),
                };
                if last.is_none_or(|l| l >= next) {
                    report.lose_seq(next, last);
                    // Reported: the gap check must not report this range again.
                    if let Some(l) = last {
                        covered = covered.max(l);
                    }
                }
                match found {
                    Some((_, Some(k))) => from = k,
                    _ => break,
                }
            }
        }
    }
    Ok((report, highest))
}

/// Read (and copy into `target`) a name-keyed table.
fn scan_named_table(
    src: &mut Source,
    (def, name): NamedTable,
    target: Option<&Store>,
) -> Result<TableReport> {
    let mut report = TableReport::new(name);
    let mut fwd: Records<String> = Vec::new();
    let forward = src.with(|tx| {
        let t = tx.open_table(def).map_err(|e| e.to_string())?;
        for item in t.iter().map_err(|e| e.to_string())? {
            let (k, v) = item.map_err(|e| e.to_string())?;
            fwd.push((k.value().to_string(), v.value().to_vec()));
        }
        Ok(())
    });
    let mut records = fwd;
    if let Err(e) = forward {
        // Read back from the end down to the last key read forwards.
        let after = records.last().map(|(k, _)| k.clone());
        let mut back: Records<String> = Vec::new();
        let _ = src.with(|tx| {
            let t = tx.open_table(def).map_err(|e| e.to_string())?;
            for item in t.iter().map_err(|e| e.to_string())?.rev() {
                let (k, v) = item.map_err(|e| e.to_string())?;
                if after.as_deref().is_some_and(|a| k.value() <= a) {
                    break;
                }
                back.push((k.value().to_string(), v.value().to_vec()));
            }
            Ok(())
        });
        if records.is_empty() && back.is_empty() {
            report.lost.push(Lost::Table(e));
        } else {
            let before = back.last().map(|(k, _)| k.clone());
            report.lost.push(Lost::Between { after, before });
        }
        records.extend(back.into_iter().rev());
    }
    let mut good = Vec::new();
    for (k, v) in &records {
        if decodes(name, v) {
            good.push((k.as_str(), v.as_slice()));
        } else {
            report.undecodable += 1;
            report.lost.push(Lost::Key(k.clone()));
        }
    }
    report.readable = good.len() as u64;
    if let Some(t) = target {
        t.transact_retry(|txn| {
            let path = t.path();
            let mut table = txn
                .raw()
                .open_table(def)
                .map_err(|e| StoreError::from_redb(path, "salvage", e))?;
            for (k, v) in &good {
                table
                    .insert(*k, *v)
                    .map_err(|e| StoreError::from_redb(path, "salvage", e))?;
            }
            Ok(())
        })?;
    }
    Ok(report)
}

fn copy_seq(t: &Store, def: TableDefinition<u64, &[u8]>, records: &[(u64, &[u8])]) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    t.transact_retry(|txn| {
        let path = t.path();
        let mut table = txn
            .raw()
            .open_table(def)
            .map_err(|e| StoreError::from_redb(path, "salvage", e))?;
        for (k, v) in records {
            table
                .insert(*k, *v)
                .map_err(|e| StoreError::from_redb(path, "salvage", e))?;
        }
        Ok(())
    })
}

/// Counters of the salvaged store: the source's, never below the highest key copied (so no
/// sequence number or outbox id is ever reused).
fn restore_counters(
    t: &Store,
    meta: &BTreeMap<String, u64>,
    highest: &BTreeMap<&str, Option<u64>>,
) -> Result<()> {
    let top = |names: &[&str]| {
        names
            .iter()
            .filter_map(|n| highest.get(n).copied().flatten())
            .max()
    };
    let journal = top(&["journal"]);
    let outbox = top(&["outbox", "dead_letters"]);
    t.transact_retry(|txn| {
        let path = t.path();
        let mut table = txn
            .raw()
            .open_table(META)
            .map_err(|e| StoreError::from_redb(path, "salvage", e))?;
        for (k, v) in meta {
            if k != META_COMMITS {
                table
                    .insert(k.as_str(), *v)
                    .map_err(|e| StoreError::from_redb(path, "salvage", e))?;
            }
        }
        for (key, top) in [(META_JOURNAL_NEXT, journal), (META_OUTBOX_NEXT, outbox)] {
            let kept = meta.get(key).copied().unwrap_or(0);
            if let Some(top) = top.filter(|t| *t > kept) {
                table
                    .insert(key, top)
                    .map_err(|e| StoreError::from_redb(path, "salvage", e))?;
            }
        }
        Ok(())
    })
}
