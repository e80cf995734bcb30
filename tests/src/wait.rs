//! Bounded waits: poll a condition until it holds or the deadline passes, and say what was
//! awaited and what was last seen when it does not.

use std::future::Future;
use std::time::{Duration, Instant};

/// Between two looks at the condition.
const POLL: Duration = Duration::from_millis(250);

/// Call `check` until it returns `Ok(value)`; on timeout, `Err` with `what` and the last
/// `Err(seen)` the check gave.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        let seen = match check().await {
            Ok(v) => return Ok(v),
            Err(seen) => seen,
        };
        if start.elapsed() >= timeout {
            return Err(format!(
                "timed out after {timeout:?} waiting for {what}; last seen: {seen}"
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}
