//! The shared database handle: the current redb database, closed after an I/O error (redb
//! latches the first one and fails every later call) and re-opened with back-off, and every
//! call's outcome recorded in the store's health.
//!
//! A re-open of the writable database is expensive: after an I/O error redb was not shut down
//! cleanly and repairs the file, reading all of it (about 1.2 s per million journal entries,
//! `benches/open.rs`). A read-only handle on the same file opens in well under a millisecond
//! and sees every committed transaction. So while the writable database is closed, **reads are
//! served by a read-only fallback handle**, and only **writes** re-open the writable database,
//! at most as often as the back-off allows. The fallback also answers whether a failed commit
//! reached the file.
//!
//! Concurrency: the handles sit in an `RwLock`. Every operation holds the read lock for its
//! whole duration (transactions never outlive an operation), so closing or re-opening, which
//! takes the write lock, waits for the operations in flight and then swaps the database while
//! nothing uses it: redb's file lock forbids a second writable handle on the same file while
//! the old one lives. Consequence: an operation must not call another `Store` method while it
//! runs (e.g. inside a [`Store::transact`](crate::Store::transact) closure); use the `Txn`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use crate::health::{HealthTracker, OpKind};
use crate::open::{self, Backoff, Db, OpenOptions};
use crate::tables::META_COMMITS;
use crate::{Result, StoreError};

/// How the database is (re-)opened.
pub(crate) enum Mode {
    ReadWrite(OpenOptions),
    ReadOnly,
}

struct Slot {
    /// The database; `None` once closed after an error, until a re-open succeeds.
    db: Option<Db>,
    /// Read-only handle serving reads while `db` is closed (read-write mode only).
    fallback: Option<Db>,
    /// The closed writable database, kept alive until the re-open: redb lets a read-only
    /// handle open a file left unclean (as a latched I/O error leaves it) only while its
    /// writer lives (the writer's lock on the "consistent" byte), so dropping it would take
    /// the fallback down too.
    latched: Option<Db>,
    /// Incremented by every successful re-open: an error from generation `g` closes the
    /// database only if it is still generation `g`.
    generation: u64,
    /// Earliest time of the next re-open while errors continue (`None`: immediately).
    next_reopen: Option<Instant>,
    /// Wait before the re-open after next.
    backoff: Duration,
    /// The error that closed the database (its message, and whether the disk was full).
    cause: Option<(String, bool)>,
    /// Set when a re-open found the file damaged: no further re-opens (each would re-read the
    /// whole file to fail the same way); writes fail with this [`StoreError::Corrupt`] (what
    /// was lost, detail).
    corrupt: Option<(String, String)>,
}

pub(crate) struct Handle {
    pub(crate) path: PathBuf,
    mode: Mode,
    slot: RwLock<Slot>,
    /// Held across a whole write attempt, commit-outcome check included, so that no other
    /// write commits between a failed commit and the check of whether it reached the file.
    /// Costs no concurrency: redb admits one write transaction at a time anyway.
    write_gate: Mutex<()>,
    /// What is unreadable, once an inspection found it: damage does not heal, and an
    /// inspection reads the whole file (seconds for a large store), so it runs once per handle.
    inventory: Mutex<Option<String>>,
    pub(crate) health: HealthTracker,
}

/// Which handle an attempt ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ran {
    /// The database, at this generation.
    Db(u64),
    /// The read-only fallback.
    Fallback,
}

/// A failed attempt: its error and the handle it ran on.
pub(crate) struct Failed {
    pub(crate) error: StoreError,
    pub(crate) ran: Ran,
}

impl Handle {
    pub(crate) fn new(path: PathBuf, mode: Mode, db: Db) -> Self {
        let backoff = backoff_of(&mode).initial;
        Handle {
            path,
            mode,
            slot: RwLock::new(Slot {
                db: Some(db),
                fallback: None,
                latched: None,
                generation: 0,
                next_reopen: None,
                backoff,
                cause: None,
                corrupt: None,
            }),
            write_gate: Mutex::new(()),
            inventory: Mutex::new(None),
            health: HealthTracker::default(),
        }
    }

    /// Serialise write attempts (see `write_gate`).
    pub(crate) fn write_gate(&self) -> MutexGuard<'_, ()> {
        // Guards no data: a poisoned gate is as good as a clean one.
        self.write_gate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn is_read_only(&self) -> bool {
        matches!(self.mode, Mode::ReadOnly)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    // The slot is only ever assigned field by field, each assignment valid on its own, and
    // redb's panics are caught inside the lock: a poisoned lock holds a valid slot.
    fn read_slot(&self) -> RwLockReadGuard<'_, Slot> {
        self.slot.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_slot(&self) -> RwLockWriteGuard<'_, Slot> {
        self.slot.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// One attempt of `f`. On the database if it is open; else a write re-opens it first (if
    /// the back-off allows, else [`StoreError::Unavailable`]) and a read runs on the read-only
    /// fallback. A panic inside redb (a damaged page) comes back as [`StoreError::Corrupt`].
    pub(crate) fn attempt<T>(
        &self,
        op: &'static str,
        kind: OpKind,
        f: impl FnOnce(&Db) -> Result<T>,
    ) -> Result<(T, Ran), Failed> {
        let mut slot = self.read_slot();
        if slot.db.is_none() {
            let generation = slot.generation;
            drop(slot);
            let use_fallback = kind == OpKind::Read && !self.is_read_only();
            let ready = if use_fallback {
                self.open_fallback()
            } else {
                self.reopen(op)
            };
            ready.map_err(|error| Failed {
                error,
                ran: Ran::Db(generation),
            })?;
            slot = self.read_slot();
        }
        let (db, ran) = match (&slot.db, &slot.fallback) {
            (Some(db), _) => (db, Ran::Db(slot.generation)),
            (None, Some(fb)) if kind == OpKind::Read => (fb, Ran::Fallback),
            _ => {
                return Err(Failed {
                    error: self.unavailable(op, &slot),
                    ran: Ran::Db(slot.generation),
                });
            }
        };
        // redb panics on some damaged pages (`unreachable!` in its B-tree code). The
        // transactions `f` opens live inside it and are dropped by the unwind; the handle is
        // closed before its next use (`needs_reopen`), so no state touched by the panic is
        // observed again: AssertUnwindSafe.
        let out = catch_unwind(AssertUnwindSafe(|| f(db))).unwrap_or_else(|panic| {
            // what_was_lost is filled in by `finish` (an inspection of the file).
            Err(StoreError::Corrupt {
                path: self.path.clone(),
                what_was_lost: String::new(),
                detail: format!("{op}: redb panicked: {}", open::panic_message(&*panic)),
            })
        });
        out.map(|v| (v, ran)).map_err(|error| Failed { error, ran })
    }

    /// Close the handle an attempt failed on with `cause` (if nobody replaced it since).
    pub(crate) fn close(&self, ran: Ran, cause: &StoreError) {
        let mut slot = self.write_slot();
        match ran {
            Ran::Fallback => slot.fallback = None,
            Ran::Db(generation) if generation == slot.generation && slot.db.is_some() => {
                slot.latched = slot.db.take();
                slot.cause = Some((cause.to_string(), cause.is_disk_full()));
            }
            Ran::Db(_) => {}
        }
    }

    /// Open the read-only fallback, unless it is open.
    fn open_fallback(&self) -> Result<()> {
        let mut slot = self.write_slot();
        if slot.db.is_none() && slot.fallback.is_none() {
            slot.fallback = Some(Db::ReadOnly(open::open_read_only(&self.path)?));
        }
        Ok(())
    }

    /// Re-open the closed database, unless another operation already did, or the back-off
    /// forbids it for now ([`StoreError::Unavailable`]). Read-only handles are cheap to open
    /// and re-open without back-off.
    fn reopen(&self, op: &'static str) -> Result<()> {
        let mut slot = self.write_slot();
        if slot.db.is_some() {
            return Ok(());
        }
        if let Some((what_was_lost, detail)) = &slot.corrupt {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                what_was_lost: what_was_lost.clone(),
                detail: detail.clone(),
            });
        }
        let now = Instant::now();
        let opened = match &self.mode {
            Mode::ReadOnly => open::open_read_only(&self.path).map(Db::ReadOnly),
            Mode::ReadWrite(opts) => {
                if slot.next_reopen.is_some_and(|t| now < t) {
                    return Err(self.unavailable(op, &slot));
                }
                // The old handles go first: redb refuses a second writable handle on a file
                // while one lives, and the fallback must not outlive its writer.
                slot.fallback = None;
                slot.latched = None;
                let opened =
                    open::open_read_write(&self.path, opts).map(|(db, _)| Db::ReadWrite(db));
                // The wait counts from the end of this re-open, which can take a while.
                slot.next_reopen = Some(Instant::now() + slot.backoff);
                slot.backoff = (slot.backoff * 2).min(opts.reopen_backoff.max);
                opened
            }
        };
        match opened.map_err(|e| self.with_inventory(e)) {
            Ok(db) => {
                slot.db = Some(db);
                slot.generation += 1;
                self.health
                    .reopened(u64::try_from(now.elapsed().as_millis()).unwrap_or(u64::MAX));
                Ok(())
            }
            Err(e) => {
                if let StoreError::Corrupt {
                    what_was_lost,
                    detail,
                    ..
                } = &e
                {
                    slot.corrupt = Some((what_was_lost.clone(), detail.clone()));
                }
                slot.cause = Some((e.to_string(), e.is_disk_full()));
                Err(e)
            }
        }
    }

    fn unavailable(&self, op: &'static str, slot: &Slot) -> StoreError {
        let (cause, disk_full) = slot
            .cause
            .clone()
            .unwrap_or_else(|| ("a failed re-open".to_string(), false));
        let retry_in = slot
            .next_reopen
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or_default();
        StoreError::Unavailable {
            path: self.path.clone(),
            op,
            cause,
            disk_full,
            retry_in_ms: u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The commit counter as the file holds it now, read through the read-only fallback (the
    /// database itself is closed after a failed commit).
    pub(crate) fn committed_counter(&self) -> Result<u64> {
        let read = |db: &Db| crate::txn::read_meta(db, &self.path, META_COMMITS);
        match self.attempt("check commit", OpKind::Read, read) {
            Ok((n, _)) => Ok(n),
            Err(Failed { error, ran }) => {
                self.close(ran, &error);
                Err(error)
            }
        }
    }

    /// [`open::with_inventory`], run at most once per handle (see `inventory`).
    fn with_inventory(&self, e: StoreError) -> StoreError {
        let StoreError::Corrupt {
            path,
            what_was_lost,
            detail,
        } = e
        else {
            return e;
        };
        if !what_was_lost.is_empty() {
            return StoreError::Corrupt {
                path,
                what_was_lost,
                detail,
            };
        }
        let mut cached = self
            .inventory
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let what_was_lost = match cached.as_ref() {
            Some(known) => known.clone(),
            None => {
                let found = match open::with_inventory(StoreError::Corrupt {
                    path: path.clone(),
                    what_was_lost: String::new(),
                    detail: String::new(),
                }) {
                    StoreError::Corrupt { what_was_lost, .. } => what_was_lost,
                    other => other.to_string(),
                };
                cached.insert(found).clone()
            }
        };
        StoreError::Corrupt {
            path,
            what_was_lost,
            detail,
        }
    }

    /// Finish an operation: complete a corruption error with what is unreadable, and record
    /// the outcome in the health (a success clears the re-open back-off with the
    /// degradation).
    pub(crate) fn finish<T>(&self, kind: OpKind, out: Result<T>) -> Result<T> {
        let out = out.map_err(|e| self.with_inventory(e));
        match &out {
            Ok(_) => {
                if self.health.success(kind) {
                    let mut slot = self.write_slot();
                    slot.next_reopen = None;
                    slot.backoff = backoff_of(&self.mode).initial;
                }
            }
            Err(e) if e.is_store_failure() => self.health.failure(kind, e),
            // A caller's mistake (bad input, a write on a read-only handle) says nothing
            // about the store's health.
            Err(_) => {}
        }
        out
    }

    /// Run a read `f`; after an error that latched its handle, close that handle and retry
    /// once (on the fallback, or a re-opened read-only handle). Reads change nothing, so the
    /// retry is always safe.
    pub(crate) fn read<T>(&self, op: &'static str, f: impl Fn(&Db) -> Result<T>) -> Result<T> {
        let out = match self.attempt(op, OpKind::Read, &f) {
            Err(Failed { error, ran }) if needs_reopen(&error) => {
                self.close(ran, &error);
                match self.attempt(op, OpKind::Read, &f) {
                    Ok((v, _)) => Ok(v),
                    Err(Failed { error: again, ran }) => {
                        if needs_reopen(&again) {
                            self.close(ran, &again);
                        }
                        Err(prefer_corrupt(again, error))
                    }
                }
            }
            other => other.map(|(v, _)| v).map_err(|f| f.error),
        };
        self.finish(OpKind::Read, out)
    }
}

/// After this error the handle must be closed and re-opened before its next use: redb
/// latched an I/O error, or panicked (its internal state is not trusted after an unwind).
pub(crate) fn needs_reopen(e: &StoreError) -> bool {
    e.needs_reopen() || matches!(e, StoreError::Corrupt { .. })
}

/// Of two errors of one operation, the one to report: a [`StoreError::Corrupt`] if either is
/// (it says what is lost), else the original cause `first`.
pub(crate) fn prefer_corrupt(later: StoreError, first: StoreError) -> StoreError {
    if matches!(later, StoreError::Corrupt { .. }) {
        later
    } else {
        first
    }
}

fn backoff_of(mode: &Mode) -> Backoff {
    match mode {
        Mode::ReadWrite(o) => o.reopen_backoff,
        Mode::ReadOnly => Backoff::default(),
    }
}
