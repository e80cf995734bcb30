//! Write transactions: [`Txn`] (what a transaction can do) and how one is run, committed, and
//! retried after an I/O error.
//!
//! Every transaction also bumps a commit counter (`META_COMMITS`). When a commit fails with an
//! I/O error, whether it reached the file is unknowable from the error alone (the failure may
//! have hit the last write or the final `fsync`); the store closes the database and reads the
//! counter back through a read-only handle (cheap, see the `handle` module): the transaction
//! is stored iff the counter holds the value it wrote. So a failed write is either reported as
//! done (it was) or as not done (nothing of it is stored, a retry cannot store it twice) — or,
//! only when even the read-only handle cannot read the file, as
//! [`StoreError::CommitUnknown`].

use std::collections::BTreeMap;
use std::path::Path;

use faultline_incident::{Incident, IncidentTransition};
use faultline_observe::{Observation, UnixMillis};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::handle::{Failed, Handle, Ran, needs_reopen};
use crate::health::OpKind;
use crate::open::Db;
use crate::records::{DeadLetter, OutboxEntry, PagedRecord};
use crate::tables::*;
use crate::{Result, StoreError};

/// One open write transaction (see [`Store::transact`](crate::Store::transact)). Everything
/// done through it commits together or not at all.
pub struct Txn<'a> {
    tx: WriteTransaction,
    path: &'a Path,
}

/// How far a write attempt got.
enum Step<R> {
    Committed(R),
    /// The commit failed: stored or not is still to be found out.
    CommitFailed {
        error: StoreError,
        out: R,
        /// The commit counter the transaction wrote.
        expected: u64,
    },
}

/// A write that is not stored, and whether the database was re-opened so that a retry may
/// succeed (nothing of the failed attempt is stored, so the retry cannot store it twice).
struct NotStored {
    error: StoreError,
    retry: bool,
}

/// Run `f` in one write transaction and commit it; see the module docs for a failed commit.
pub(crate) fn transact_once<R>(h: &Handle, f: impl FnOnce(&mut Txn<'_>) -> Result<R>) -> Result<R> {
    let out = attempt_write(h, f).map_err(|n| n.error);
    h.finish(OpKind::Write, out)
}

/// [`transact_once`], retried once on a re-opened database when the first attempt failed with
/// an I/O error and stored nothing.
pub(crate) fn transact_retry<R>(
    h: &Handle,
    mut f: impl FnMut(&mut Txn<'_>) -> Result<R>,
) -> Result<R> {
    let out = match attempt_write(h, &mut f) {
        Err(NotStored { retry: true, .. }) => attempt_write(h, &mut f).map_err(|n| n.error),
        other => other.map_err(|n| n.error),
    };
    h.finish(OpKind::Write, out)
}

fn attempt_write<R>(h: &Handle, f: impl FnOnce(&mut Txn<'_>) -> Result<R>) -> Result<R, NotStored> {
    if h.is_read_only() {
        return Err(NotStored {
            error: StoreError::ReadOnly {
                path: h.path.clone(),
                op: "write",
            },
            retry: false,
        });
    }
    let _gate = h.write_gate();
    let attempt = h.attempt("write", OpKind::Write, |db| match db {
        Db::ReadWrite(db) => run(db, &h.path, f),
        Db::ReadOnly(_) => Err(StoreError::ReadOnly {
            path: h.path.clone(),
            op: "write",
        }),
    });
    match attempt {
        Ok((Step::Committed(out), _)) => Ok(out),
        Ok((
            Step::CommitFailed {
                error,
                out,
                expected,
            },
            ran,
        )) => resolve_commit(h, ran, error, out, expected),
        // Failed before the commit: redb wrote nothing.
        Err(Failed { error, ran }) if needs_reopen(&error) => {
            h.close(ran, &error);
            Err(NotStored {
                retry: worth_retrying(&error),
                error,
            })
        }
        Err(Failed { error, .. }) => Err(NotStored {
            error,
            retry: false,
        }),
    }
}

/// A retry needs a re-open of the writable database (expensive, see the `handle` module):
/// worth it after a passing I/O error, not when the disk is full (it would fail the same way
/// at once; the caller retries later, when the back-off allows a re-open).
fn worth_retrying(e: &StoreError) -> bool {
    !e.is_disk_full()
}

/// Find out whether a transaction whose commit failed reached the file (the caller holds the
/// write gate, so no other write can have committed since).
fn resolve_commit<R>(
    h: &Handle,
    ran: Ran,
    error: StoreError,
    out: R,
    expected: u64,
) -> Result<R, NotStored> {
    if !needs_reopen(&error) {
        // A commit refused before any I/O (redb checks): nothing written, the handle is fine.
        return Err(NotStored {
            error,
            retry: false,
        });
    }
    h.close(ran, &error);
    match h.committed_counter() {
        Ok(n) if n == expected => Ok(out),
        Ok(_) => Err(NotStored {
            retry: worth_retrying(&error),
            error,
        }),
        Err(check) => Err(NotStored {
            error: match check {
                StoreError::Corrupt { .. } => check,
                _ => StoreError::CommitUnknown {
                    path: h.path.clone(),
                    source: Box::new(error),
                },
            },
            retry: false,
        }),
    }
}

fn run<R>(
    db: &Database,
    path: &Path,
    f: impl FnOnce(&mut Txn<'_>) -> Result<R>,
) -> Result<Step<R>> {
    let mut tx = db
        .begin_write()
        .map_err(|e| StoreError::from_redb(path, "begin write", e))?;
    tx.set_durability(Durability::Immediate)
        .map_err(|e| StoreError::from_redb(path, "set durability", e))?;
    let mut txn = Txn { tx, path };
    let expected = txn.next(META_COMMITS)?;
    let out = f(&mut txn)?;
    Ok(match txn.tx.commit() {
        Ok(()) => Step::Committed(out),
        Err(e) => Step::CommitFailed {
            error: StoreError::from_redb(path, "commit", e),
            out,
            expected,
        },
    })
}

/// A counter of the `meta` table (0 if unset).
pub(crate) fn read_meta(db: &Db, path: &Path, key: &str) -> Result<u64> {
    let err = |op, e: redb::Error| StoreError::from_redb(path, op, e);
    let tx = match db {
        Db::ReadWrite(d) => d.begin_read(),
        Db::ReadOnly(d) => d.begin_read(),
    }
    .map_err(|e| err("begin read", e.into()))?;
    let table = tx
        .open_table(META)
        .map_err(|e| err("open table", e.into()))?;
    Ok(table
        .get(key)
        .map_err(|e| err("read meta", e.into()))?
        .map(|v| v.value())
        .unwrap_or(0))
}

impl Txn<'_> {
    fn err(&self, op: &'static str, e: impl Into<redb::Error>) -> StoreError {
        StoreError::from_redb(self.path, op, e)
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

    /// The underlying redb transaction (crate-internal: salvage writes raw records).
    pub(crate) fn raw(&mut self) -> &mut WriteTransaction {
        &mut self.tx
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

    /// Append one observation to the journal; its sequence number.
    pub fn append_observation(&mut self, obs: &Observation) -> Result<u64> {
        let bytes = crate::codec::encode_observation(obs).map_err(|source| {
            StoreError::EncodeObservation {
                path: self.path.to_path_buf(),
                source,
            }
        })?;
        let seq = self.next(META_JOURNAL_NEXT)?;
        let mut t = self
            .tx
            .open_table(JOURNAL)
            .map_err(|e| self.err("open table", e))?;
        t.insert(seq, bytes.as_slice())
            .map_err(|e| self.err("append observation", e))?;
        Ok(seq)
    }

    /// Store an incident as it is now (by id).
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

    /// Record the engine sequence number in this transaction.
    pub fn set_engine_seq(&mut self, seq: u64) -> Result<()> {
        let mut t = self
            .tx
            .open_table(META)
            .map_err(|e| self.err("open table", e))?;
        t.insert(META_ENGINE_SEQ, seq)
            .map_err(|e| self.err("write engine seq", e))?;
        Ok(())
    }

    /// Store a named snapshot, replacing the previous one.
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

    /// One outbox entry by id.
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

    /// The paged record of an incident at a receiver, if it is paged there.
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

    /// Record an incident as paged at a receiver.
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

    /// Forget an incident's paged record at a receiver (after its resolve).
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

    /// Delete journal entries (see [`Store::prune_journal`](crate::Store::prune_journal)).
    pub(crate) fn prune_journal(&mut self, keep_from: u64, older_than: UnixMillis) -> Result<u64> {
        let mut t = self
            .tx
            .open_table(JOURNAL)
            .map_err(|e| self.err("open table", e))?;
        let first = match t.first().map_err(|e| self.err("prune", e))? {
            Some((k, _)) => k.value(),
            None => return Ok(0),
        };
        let at_of = |t: &redb::Table<u64, &[u8]>, seq: u64| -> Result<Option<UnixMillis>> {
            match t.get(seq).map_err(|e| self.err("prune", e))? {
                Some(v) => Ok(crate::codec::decode_observation(v.value())
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
            .map_err(|e| self.err("prune", e))?;
        Ok(lo - first)
    }
}
