//! A hand-over between two correlators paging from one observation stream (the distributed
//! shape's standby): before an attempt the [`PageGate`] says whether another process already
//! delivered the entry (it is then acknowledged here without being sent), and after a delivery
//! it is told, so that a process taking over later does not send it again.

use std::future::Future;
use std::pin::Pin;

/// A boxed future of the gate's record.
pub type Recorded<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// What a delivery loop shares with the other processes paging from the same stream. Delivery
/// is ordered per incident and receiver, so one transition sequence number per pair tells
/// everything up to it was settled.
pub trait PageGate: Send + Sync + 'static {
    /// Whether transition `seq` of `incident` was already delivered to `receiver` (by this or
    /// another process).
    fn already_paged(&self, receiver: &str, incident: &str, seq: u64) -> bool;

    /// `receiver` accepted transition `seq` of `incident` (or refused it for good). Awaited
    /// before the outcome is recorded locally, so a process killed in between has told it.
    fn delivered<'a>(&'a self, receiver: &'a str, incident: &'a str, seq: u64) -> Recorded<'a>;
}
