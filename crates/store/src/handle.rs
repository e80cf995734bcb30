//! The shared database handle: the current redb database, re-opened after an I/O error (redb
//! latches the first one and fails every later call), with back-off, and every call's outcome
//! recorded in the store's health.
//!
//! Concurrency: the database sits in an `RwLock`. Every operation holds the read lock for its
//! whole duration (transactions never outlive an operation), so a re-open, which takes the
//! write lock, waits for the operations in flight and then swaps the database while nothing
//! uses it: redb's file lock forbids opening a second handle on the same file while the old
//! one lives. Consequence: an operation must not call another `Store` method while it runs
//! (e.g. inside a [`Store::transact`](crate::Store::transact) closure); use the `Txn` instead.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use crate::health::{HealthTracker, OpKind};
use crate::open::{self, Backoff, Db, OpenOptions};
use crate::{Result, StoreError};

/// How the database is (re-)opened.
pub(crate) enum Mode {
    ReadWrite(OpenOptions),
    ReadOnly,
}

struct Slot {
    /// `None` after a failed re-open, until the next one succeeds.
    db: Option<Db>,
    /// Incremented by every successful (re-)open: an operation that failed on generation `g`
    /// re-opens only if the database is still generation `g`.
    generation: u64,
    /// Earliest time of the next re-open while errors continue (`None`: immediately).
    next_reopen: Option<Instant>,
    /// Wait before the re-open after next.
    backoff: Duration,
    /// The error that closed the database (its message, and whether the disk was full).
    cause: Option<(String, bool)>,
    /// Set when a re-open found the file damaged: no further re-opens (each would re-read the
    /// whole file to fail the same way); every operation fails with this
    /// [`StoreError::Corrupt`] (what was lost, detail).
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
    pub(crate) health: HealthTracker,
}

/// A failed attempt: its error and the database generation it ran on.
pub(crate) struct Failed {
    pub(crate) error: StoreError,
    pub(crate) generation: u64,
}

impl Handle {
    pub(crate) fn new(path: PathBuf, mode: Mode, db: Db) -> Self {
        let backoff = backoff_of(&mode).initial;
        Handle {
            path,
            mode,
            slot: RwLock::new(Slot {
                db: Some(db),
                generation: 0,
                next_reopen: None,
                backoff,
                cause: None,
                corrupt: None,
            }),
            write_gate: Mutex::new(()),
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

    fn read_slot(&self) -> RwLockReadGuard<'_, Slot> {
        // The slot is only assigned whole; a panic while it was held (impossible outside redb,
        // whose panics are caught below) leaves it valid.
        self.slot.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// One attempt of `f` on the current database. A panic inside redb (a damaged page) comes
    /// back as [`StoreError::Corrupt`]; a database that failed to re-open before is re-opened
    /// first if its back-off allows.
    pub(crate) fn attempt<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&Db) -> Result<T>,
    ) -> Result<(T, u64), Failed> {
        let mut slot = self.read_slot();
        if slot.db.is_none() {
            let generation = slot.generation;
            drop(slot);
            self.reopen(generation, op, false)
                .map_err(|error| Failed { error, generation })?;
            slot = self.read_slot();
        }
        let generation = slot.generation;
        let Some(db) = slot.db.as_ref() else {
            return Err(Failed {
                error: self.unavailable(op, &slot),
                generation,
            });
        };
        // redb panics on some damaged pages (`unreachable!` in its B-tree code). The
        // transactions `f` opens live inside it and are dropped by the unwind; the database
        // itself is re-opened before its next use (`needs_reopen`), so no state touched by the
        // panic is observed again: AssertUnwindSafe.
        let out = catch_unwind(AssertUnwindSafe(|| f(db))).unwrap_or_else(|panic| {
            // what_was_lost is filled in by `finish` (an inspection of the file).
            Err(StoreError::Corrupt {
                path: self.path.clone(),
                what_was_lost: String::new(),
                detail: format!("{op}: redb panicked: {}", open::panic_message(&*panic)),
            })
        });
        out.map(|v| (v, generation))
            .map_err(|error| Failed { error, generation })
    }

    /// Close the database after `cause` (an error from generation `generation`) and re-open
    /// it, unless another operation already did, or the back-off forbids it for now
    /// ([`StoreError::Unavailable`]; `force` ignores the back-off). On failure the database
    /// stays closed (operations fail fast) until a later re-open succeeds.
    pub(crate) fn close_and_reopen(
        &self,
        generation: u64,
        op: &'static str,
        force: bool,
        cause: &StoreError,
    ) -> Result<()> {
        {
            let mut slot = self.slot.write().unwrap_or_else(PoisonError::into_inner);
            if slot.generation == generation {
                slot.cause = Some((cause.to_string(), cause.is_disk_full()));
            }
        }
        self.reopen(generation, op, force)
    }

    /// See [`Self::close_and_reopen`].
    fn reopen(&self, generation: u64, op: &'static str, force: bool) -> Result<()> {
        let mut slot = self.slot.write().unwrap_or_else(PoisonError::into_inner);
        if slot.generation != generation && slot.db.is_some() {
            return Ok(());
        }
        if let Some((what_was_lost, detail)) = &slot.corrupt {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                what_was_lost: what_was_lost.clone(),
                detail: detail.clone(),
            });
        }
        // Close the failed database now: its file lock must go before the file is opened
        // again, and a latched redb handle serves nothing anyway.
        slot.db = None;
        let now = Instant::now();
        if !force && slot.next_reopen.is_some_and(|t| now < t) {
            return Err(self.unavailable(op, &slot));
        }
        let backoff = backoff_of(&self.mode);
        slot.next_reopen = Some(now + slot.backoff);
        slot.backoff = (slot.backoff * 2).min(backoff.max);
        let opened = match &self.mode {
            Mode::ReadWrite(opts) => {
                open::open_read_write(&self.path, opts).map(|(db, _)| Db::ReadWrite(db))
            }
            Mode::ReadOnly => open::open_read_only(&self.path).map(Db::ReadOnly),
        };
        let db = match opened.map_err(open::with_inventory) {
            Ok(db) => db,
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
                return Err(e);
            }
        };
        slot.db = Some(db);
        slot.generation += 1;
        self.health
            .reopened(u64::try_from(now.elapsed().as_millis()).unwrap_or(u64::MAX));
        Ok(())
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

    /// Record a success: clears the health's degradation (per its rule) and, if it did, the
    /// re-open back-off.
    pub(crate) fn succeeded(&self, kind: OpKind) {
        if self.health.success(kind) {
            let mut slot = self.slot.write().unwrap_or_else(PoisonError::into_inner);
            slot.next_reopen = None;
            slot.backoff = backoff_of(&self.mode).initial;
        }
    }

    /// Finish an operation: complete a corruption error with what is unreadable, and record
    /// the outcome in the health.
    pub(crate) fn finish<T>(&self, kind: OpKind, out: Result<T>) -> Result<T> {
        let out = out.map_err(open::with_inventory);
        match &out {
            Ok(_) => self.succeeded(kind),
            Err(e) => self.health.failure(kind, e),
        }
        out
    }

    /// Run a read `f`, re-opening and retrying once after an error that latched the database
    /// (reads change nothing, so the retry is always safe).
    pub(crate) fn read<T>(&self, op: &'static str, f: impl Fn(&Db) -> Result<T>) -> Result<T> {
        let out = match self.attempt(op, &f) {
            Err(Failed { error, generation }) if needs_reopen(&error) => {
                match self.close_and_reopen(generation, op, false, &error) {
                    Ok(()) => self.attempt(op, &f).map(|(v, _)| v).map_err(|f| f.error),
                    Err(e) => Err(prefer_corrupt(e, error)),
                }
            }
            other => other.map(|(v, _)| v).map_err(|f| f.error),
        };
        self.finish(OpKind::Read, out)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// After this error the database must be re-opened before its next use: redb latched an I/O
/// error, or panicked (its internal state is not trusted after an unwind).
pub(crate) fn needs_reopen(e: &StoreError) -> bool {
    e.needs_reopen() || matches!(e, StoreError::Corrupt { .. })
}

/// Of a failed re-open's error and the error that caused the re-open, the one to report: the
/// re-open's if it found the file damaged (it says what is lost), else the original cause.
pub(crate) fn prefer_corrupt(reopen: StoreError, cause: StoreError) -> StoreError {
    if matches!(reopen, StoreError::Corrupt { .. }) {
        reopen
    } else {
        cause
    }
}

fn backoff_of(mode: &Mode) -> Backoff {
    match mode {
        Mode::ReadWrite(o) => o.reopen_backoff,
        Mode::ReadOnly => Backoff::default(),
    }
}
