//! [`StoreError`] and its classification: transient (I/O, disk full: retry after the cause is
//! gone) versus permanent (corruption, bad input, a read-only handle).

use std::path::PathBuf;

/// Everything that can go wrong in the store; each variant names the database file.
///
/// Classify with [`StoreError::is_transient`] (retry later), [`StoreError::is_disk_full`] and
/// [`StoreError::is_corrupt`].
// Fields are named in each variant's message; documenting `path` forty times says nothing more.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened as a database (not a redb file, locked by another writer,
    /// a permission problem...).
    #[error("store {path}: cannot open database: {source}")]
    Open {
        path: PathBuf,
        source: redb::DatabaseError,
    },
    /// A database operation failed (I/O error, or a redb error).
    #[error("store {path}: {op} failed: {source}")]
    Db {
        path: PathBuf,
        op: &'static str,
        source: Box<redb::Error>,
    },
    /// The file system holding the store is full (ENOSPC) or over quota. Nothing of the failed
    /// write was stored; the store re-opens itself and the write succeeds once there is space.
    #[error(
        "store {path}: {op} failed: disk full ({source}); free space on the file system holding \
         the store (the store recovers by itself, no restart needed)"
    )]
    DiskFull {
        path: PathBuf,
        op: &'static str,
        source: Box<redb::Error>,
    },
    /// A write transaction failed while committing and the file could not be read to find out
    /// whether the commit reached it: it may or may not be stored. Repeating a write that is
    /// not idempotent may store it twice; check first (e.g.
    /// [`Store::journal_last_seq`](crate::Store::journal_last_seq)) once the store is healthy.
    #[error("store {path}: commit outcome unknown (the file could not be read to check): {source}")]
    CommitUnknown {
        path: PathBuf,
        source: Box<StoreError>,
    },
    /// The database was closed after an I/O error and the next re-open is not due yet
    /// (re-opens back off, see [`Backoff`](crate::Backoff)); the write was not attempted.
    #[error(
        "store {path}: {op} not attempted: the store is unavailable after an error ({cause}); \
         next re-open attempt in {retry_in_ms} ms"
    )]
    Unavailable {
        path: PathBuf,
        op: &'static str,
        cause: String,
        /// The cause was a full disk.
        disk_full: bool,
        retry_in_ms: u64,
    },
    /// The file is damaged: its checksums do not verify, or redb failed (or panicked) reading
    /// it. `what_was_lost` says which tables / journal range could not be read;
    /// [`Store::salvage`](crate::Store::salvage) copies everything still readable.
    #[error(
        "store {path} is corrupt ({detail}); unreadable: {what_was_lost}. Copy what is readable \
         with a salvage into a new file, or restore a backup"
    )]
    Corrupt {
        path: PathBuf,
        what_was_lost: String,
        detail: String,
    },
    /// An existing store file is empty (0 bytes): truncated or never initialised. Refused
    /// unless [`OpenOptions::allow_empty_file`](crate::OpenOptions::allow_empty_file) is set,
    /// since starting fresh silently would drop the whole history.
    #[error(
        "store {path} exists but is empty (0 bytes): it was truncated or never initialised; \
         restore it from a backup, or remove it (or allow an empty file explicitly) to start \
         with an empty store"
    )]
    EmptyFile { path: PathBuf },
    /// A salvage target already exists (salvage never overwrites).
    #[error("store {path} already exists: a salvage writes only into a new file")]
    TargetExists { path: PathBuf },
    /// A stored record does not decode (written by an incompatible version, or damaged).
    #[error("store {path}: {what} record {key} is unreadable: {source}")]
    Decode {
        path: PathBuf,
        what: &'static str,
        key: String,
        source: serde_json::Error,
    },
    /// A journal record does not decode in either format (`codec`).
    #[error("store {path}: journal record {key} is unreadable: {source}")]
    JournalRecord {
        path: PathBuf,
        key: u64,
        source: crate::codec::DecodeError,
    },
    /// An observation could not be encoded for the journal.
    #[error("store {path}: cannot encode an observation: {source}")]
    EncodeObservation {
        path: PathBuf,
        source: postcard::Error,
    },
    /// A record could not be serialised for storing.
    #[error("store {path}: cannot encode {what}: {source}")]
    Encode {
        path: PathBuf,
        what: &'static str,
        source: serde_json::Error,
    },
    /// A write on a handle opened read-only (inspection, or the fallback after corruption).
    #[error("store {path} is open read-only: cannot {op}")]
    ReadOnly { path: PathBuf, op: &'static str },
    /// A line of a JSON-lines journal is not an observation.
    #[error("journal {source_name} line {line}: not an observation: {source}")]
    JournalLine {
        source_name: String,
        line: usize,
        source: serde_json::Error,
    },
    /// A JSON-lines journal could not be read or written.
    #[error("journal {source_name}: {source}")]
    JournalIo {
        source_name: String,
        source: std::io::Error,
    },
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Build the error of a failed redb call, as [`StoreError::DiskFull`] when the cause is a
    /// full file system.
    pub(crate) fn from_redb(
        path: &std::path::Path,
        op: &'static str,
        e: impl Into<redb::Error>,
    ) -> Self {
        let source = Box::new(e.into());
        let path = path.to_path_buf();
        match &*source {
            redb::Error::Io(io) if io_is_disk_full(io) => StoreError::DiskFull { path, op, source },
            // What is unreadable is filled in when the error leaves the store (an inspection).
            redb::Error::Corrupted(detail) => StoreError::Corrupt {
                path,
                what_was_lost: String::new(),
                detail: format!("{op}: {detail}"),
            },
            // A page the file's own structure references lies past its end.
            redb::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                StoreError::Corrupt {
                    path,
                    what_was_lost: String::new(),
                    detail: format!("{op}: the file is truncated ({io})"),
                }
            }
            _ => StoreError::Db { path, op, source },
        }
    }

    /// True if the file is locked by another open handle: another process, or a handle of this
    /// one not yet dropped (a reload whose previous run is still stopping).
    pub fn is_locked(&self) -> bool {
        matches!(
            self,
            StoreError::Open {
                source: redb::DatabaseError::DatabaseAlreadyOpen,
                ..
            }
        )
    }

    /// True if the operation may succeed later without anyone touching the file's contents:
    /// an I/O error, a full disk, a store being re-opened. False for corruption, records that do
    /// not decode, bad input and read-only handles: repeating those fails the same way.
    ///
    /// The collector's policy for a transient journal append failure: stop feeding the engine,
    /// keep the batch, retry it, report the store degraded ([`Store::health`](crate::Store::health)).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::DiskFull { .. }
            | StoreError::Unavailable { .. }
            | StoreError::CommitUnknown { .. } => true,
            StoreError::Db { source, .. } => redb_is_transient(source),
            StoreError::Open { source, .. } => match source {
                redb::DatabaseError::Storage(s) => storage_is_transient(s),
                redb::DatabaseError::DatabaseAlreadyOpen => true,
                _ => false,
            },
            StoreError::Corrupt { .. }
            | StoreError::EmptyFile { .. }
            | StoreError::TargetExists { .. }
            | StoreError::Decode { .. }
            | StoreError::JournalRecord { .. }
            | StoreError::EncodeObservation { .. }
            | StoreError::Encode { .. }
            | StoreError::ReadOnly { .. }
            | StoreError::JournalLine { .. }
            | StoreError::JournalIo { .. } => false,
        }
    }

    /// True if the cause is a full file system (ENOSPC) or an exhausted quota, including an
    /// operation skipped or left unknown because of one.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::DiskFull { .. } => true,
            StoreError::CommitUnknown { source, .. } => source.is_disk_full(),
            StoreError::Unavailable { disk_full, .. } => *disk_full,
            StoreError::Open {
                source: redb::DatabaseError::Storage(redb::StorageError::Io(io)),
                ..
            } => io_is_disk_full(io),
            _ => false,
        }
    }

    /// True if the file is damaged (see [`StoreError::Corrupt`]).
    pub fn is_corrupt(&self) -> bool {
        match self {
            StoreError::Corrupt { .. } => true,
            StoreError::Db { source, .. } => matches!(**source, redb::Error::Corrupted(_)),
            _ => false,
        }
    }

    /// True if the store failed (the file, the disk, the data), as opposed to the caller
    /// (bad input, a write on a read-only handle): only these degrade the health.
    pub(crate) fn is_store_failure(&self) -> bool {
        matches!(
            self,
            StoreError::Open { .. }
                | StoreError::Db { .. }
                | StoreError::DiskFull { .. }
                | StoreError::CommitUnknown { .. }
                | StoreError::Unavailable { .. }
                | StoreError::Corrupt { .. }
                | StoreError::Decode { .. }
                | StoreError::JournalRecord { .. }
        )
    }

    /// True if the redb handle that produced this error can no longer be used and must be
    /// re-opened (redb latches the first I/O error: every later call fails until a re-open).
    pub(crate) fn needs_reopen(&self) -> bool {
        match self {
            StoreError::DiskFull { .. } => true,
            StoreError::Db { source, .. } => redb_is_transient(source),
            _ => false,
        }
    }
}

pub(crate) fn io_is_disk_full(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(e.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
}

fn redb_is_transient(e: &redb::Error) -> bool {
    matches!(
        e,
        redb::Error::Io(_)
            | redb::Error::PreviousIo
            | redb::Error::DatabaseClosed
            | redb::Error::LockPoisoned(_)
    )
}

/// At open, an I/O error that says "this is not a usable file" is permanent; other I/O errors
/// (EIO, a full disk during recovery) may pass.
fn storage_is_transient(e: &redb::StorageError) -> bool {
    use std::io::ErrorKind;
    match e {
        redb::StorageError::Io(io) => !matches!(
            io.kind(),
            ErrorKind::InvalidData
                | ErrorKind::NotFound
                | ErrorKind::PermissionDenied
                | ErrorKind::Unsupported
                | ErrorKind::UnexpectedEof
        ),
        _ => matches!(
            e,
            redb::StorageError::PreviousIo
                | redb::StorageError::DatabaseClosed
                | redb::StorageError::LockPoisoned(_)
        ),
    }
}
