//! Giving freed memory back to the operating system, for the long-running processes (`run`,
//! `poller`).
//!
//! glibc's allocator keeps freed memory in per-thread arenas and returns it only from the top
//! of each heap. A collector's allocations come from the tokio workers and the blocking pool
//! (journal appends), so the arenas fragment: in a 10-minute demo soak under heaptrack the live
//! heap peaked at 13.5 MB while RSS was 65–77 MB and still rising ~1 MiB/min (bench/README.md).
//! `malloc_trim` releases every arena's free pages, not only the top. It runs after a reload
//! (where a large topology was just dropped) and every [`TRIM_INTERVAL`] in between.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often a long-running process trims. A trim walks the free lists of every arena: about a
/// millisecond at the collector's usual heap (bench/soak-rss.sh prints the measured cost), so
/// once a minute costs nothing measurable and bounds how long freed memory stays resident.
pub const TRIM_INTERVAL: Duration = Duration::from_secs(60);

/// Return freed memory to the operating system now. On C libraries other than glibc: nothing
/// to do (their allocators return memory themselves or have no such call).
pub fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only releases free pages of glibc's own heaps;
    // it is thread-safe (it locks each arena it trims).
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Trim every [`TRIM_INTERVAL`] until `stop` is cancelled. The trim runs on the blocking pool:
/// it takes each arena's lock and must not stall a runtime worker.
pub async fn trim_periodically(stop: CancellationToken) {
    let mut every = tokio::time::interval(TRIM_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await; // the first tick is immediate; start a full interval from now
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {
                let trimmed = tokio::task::spawn_blocking(|| {
                    let started = std::time::Instant::now();
                    give_back_freed_memory();
                    started.elapsed()
                });
                match trimmed.await {
                    Ok(took) => tracing::debug!(took_us = took.as_micros(), "freed memory trimmed"),
                    Err(e) => tracing::debug!("memory trim did not run: {e}"),
                }
            }
        }
    }
}
