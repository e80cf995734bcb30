//! Live heap bytes of the test process, counted exactly by a global allocator that wraps the
//! system one: for tests and examples that show a bound on retained memory (RSS also counts
//! what the allocator keeps after a free, so it cannot show that a structure stopped growing).
//!
//! Install it once per binary (an integration-test file or an example is one binary):
//!
//! ```no_run
//! #[global_allocator]
//! static HEAP: faultline_testpeers::heap::Counting = faultline_testpeers::heap::Counting;
//!
//! let before = faultline_testpeers::heap::live_bytes();
//! let v = vec![0u8; 4096];
//! assert!(faultline_testpeers::heap::live_bytes() >= before + 4096);
//! drop(v);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The counting allocator: the system allocator, plus two counters (live and peak bytes).
pub struct Counting;

// SAFETY: every call is delegated unchanged to the system allocator, under the same layout
// contract as our caller's; only the byte counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        // SAFETY: the caller upholds GlobalAlloc::alloc's contract for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        // SAFETY: as for alloc.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from this allocator (so from System) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds GlobalAlloc::realloc's contract.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if !moved.is_null() {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
            count_alloc(new_size);
        }
        moved
    }
}

fn count_alloc(size: usize) {
    let now = LIVE.fetch_add(size as isize, Ordering::Relaxed) + size as isize;
    PEAK.fetch_max(now.max(0) as usize, Ordering::Relaxed);
}

/// Bytes allocated and not yet freed, when [`Counting`] is the global allocator (else 0).
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed).max(0) as usize
}

/// The most bytes live at once since the last [`reset_peak`].
pub fn peak_bytes() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Start measuring a new peak from the bytes live now.
pub fn reset_peak() {
    PEAK.store(live_bytes(), Ordering::Relaxed);
}
