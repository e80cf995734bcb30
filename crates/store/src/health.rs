//! [`StoreHealth`]: is the store working, and if not, why and since when. Kept by the handle
//! from the outcome of every operation; shown by the collector in `status` and `/metrics`.

use std::fmt;
use std::sync::Mutex;

use faultline_observe::UnixMillis;
use faultline_observe::time::{format_utc, now_ms};

use crate::StoreError;

/// What kind of failure degraded the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCause {
    /// The file system is full (ENOSPC) or over quota.
    DiskFull,
    /// Another I/O error (or a store being re-opened after one).
    Io,
    /// The file is damaged.
    Corrupt,
    /// Anything else (a record that does not decode, a redb error that is none of the above).
    Other,
}

impl FailureCause {
    fn of(e: &StoreError) -> Self {
        if e.is_disk_full() {
            FailureCause::DiskFull
        } else if e.is_corrupt() {
            FailureCause::Corrupt
        } else if e.is_transient() {
            FailureCause::Io
        } else {
            FailureCause::Other
        }
    }

    /// Short lower-case label (`disk_full`, `io`, `corrupt`, `other`), e.g. a metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCause::DiskFull => "disk_full",
            FailureCause::Io => "io",
            FailureCause::Corrupt => "corrupt",
            FailureCause::Other => "other",
        }
    }
}

/// The store is failing: since when, the last error and how many operations failed since the
/// last success.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Degradation {
    /// When the first failure of this episode happened.
    pub since: UnixMillis,
    /// The last error, as its message.
    pub last_error: String,
    /// When the last error happened.
    pub last_error_at: UnixMillis,
    /// The kind of the last error.
    pub cause: FailureCause,
    /// Operations that failed since the last success.
    pub failed_ops: u64,
}

/// The store's health (see [`Store::health`](crate::Store::health)).
///
/// Degraded from the first failed operation until the next success of the same kind: a failed
/// write is cleared only by a successful write (reads keep working while the disk is full, which
/// must not hide that nothing can be written); a failed read by any success.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoreHealth {
    /// `None` when the store is working.
    pub degraded: Option<Degradation>,
    /// Failed operations since the store was opened (a counter for `/metrics`).
    pub failures_total: u64,
    /// Successful re-opens of the database after an I/O error since the store was opened.
    pub reopens_total: u64,
    /// How long the last re-open took, in milliseconds.
    pub last_reopen_ms: Option<u64>,
}

impl StoreHealth {
    /// True when the store is working.
    pub fn is_ok(&self) -> bool {
        self.degraded.is_none()
    }
}

impl fmt::Display for StoreHealth {
    /// `ok`, or `degraded (disk_full) since <UTC time>: 3 failed operations, last at <UTC
    /// time>: <error>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.degraded {
            None => f.write_str("ok"),
            Some(d) => write!(
                f,
                "degraded ({}) since {}: {} failed operation{}, last at {}: {}",
                d.cause.as_str(),
                format_utc(d.since),
                d.failed_ops,
                if d.failed_ops == 1 { "" } else { "s" },
                format_utc(d.last_error_at),
                d.last_error
            ),
        }
    }
}

/// Whether an operation read or wrote (see the clearing rule on [`StoreHealth`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    Read,
    Write,
}

#[derive(Default)]
struct State {
    health: StoreHealth,
    /// The degradation includes a failed write that no write has cleared yet.
    write_failing: bool,
}

/// The mutable health record shared by all clones of a store.
#[derive(Default)]
pub(crate) struct HealthTracker {
    state: Mutex<State>,
}

impl HealthTracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked (every update is one field
        // assignment after another, each valid on its own).
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Record a success; returns true if this cleared a degradation.
    pub(crate) fn success(&self, kind: OpKind) -> bool {
        let mut s = self.lock();
        if s.health.degraded.is_none() || (kind == OpKind::Read && s.write_failing) {
            return false;
        }
        s.health.degraded = None;
        s.write_failing = false;
        true
    }

    pub(crate) fn failure(&self, kind: OpKind, e: &StoreError) {
        let now = now_ms();
        let mut s = self.lock();
        s.health.failures_total += 1;
        if kind == OpKind::Write {
            s.write_failing = true;
        }
        let d = s.health.degraded.get_or_insert_with(|| Degradation {
            since: now,
            last_error: String::new(),
            last_error_at: now,
            cause: FailureCause::Other,
            failed_ops: 0,
        });
        d.last_error = e.to_string();
        d.last_error_at = now;
        d.cause = FailureCause::of(e);
        d.failed_ops += 1;
    }

    pub(crate) fn reopened(&self, took_ms: u64) {
        let mut s = self.lock();
        s.health.reopens_total += 1;
        s.health.last_reopen_ms = Some(took_ms);
    }

    pub(crate) fn snapshot(&self) -> StoreHealth {
        self.lock().health.clone()
    }
}
