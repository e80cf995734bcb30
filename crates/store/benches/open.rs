//! Cost of opening a large store with the integrity check, of the re-open after an I/O error,
//! and of an inspection (the inventory a `Corrupt` error carries), on a store holding
//! 1,000,000 journal entries. Run (as root, for the tmpfs): `cargo bench -p faultline-store
//! --bench open`. Prints one line per measurement; the store is built once per run (about
//! half a minute).

use std::time::{Duration, Instant};

use faultline_observe::{Observation, Signal, Subject};
use faultline_store::{OpenOptions, Store};
use faultline_testpeers::tmpfs::Tmpfs;

const ENTRIES: u64 = 1_000_000;
const BATCH: u64 = 10_000;
/// Runs per measurement; the minimum is reported (the least disturbed by other load).
const RUNS: usize = 3;

fn obs(i: u64) -> Observation {
    Observation::new(
        1_700_000_000_000 + i * 10,
        Subject::device(format!("dc1-rack{:03}-sw{:02}", i % 500, i % 48)),
        Signal::Reachability {
            ok: !i.is_multiple_of(7),
            rtt_ms: Some((i % 100) as f64 / 10.0),
            loss: 0.0,
        },
    )
}

fn build(path: &std::path::Path) {
    let s = Store::open(path).expect("open");
    for b in 0..ENTRIES / BATCH {
        let batch: Vec<Observation> = (b * BATCH..(b + 1) * BATCH).map(obs).collect();
        s.append_observations(&batch).expect("append");
    }
    s.put_snapshot("engine", &vec![7u8; 64 << 10])
        .expect("snapshot");
}

fn best(mut f: impl FnMut() -> Duration) -> Duration {
    (0..RUNS).map(|_| f()).min().unwrap_or_default()
}

fn main() {
    let Some(fs) = Tmpfs::mount("bench", 2 << 30) else {
        return;
    };
    let path = fs.path().join("big.redb");
    let t = Instant::now();
    build(&path);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "built {ENTRIES} journal entries in {:?}: file {:.1} MiB",
        t.elapsed(),
        size as f64 / (1 << 20) as f64
    );

    let open = |verify: bool| {
        best(|| {
            let opts = OpenOptions {
                verify,
                ..OpenOptions::default()
            };
            let t = Instant::now();
            let s = Store::open_with(&path, &opts).expect("open");
            let took = t.elapsed();
            drop(s);
            took
        })
    };
    println!("open, integrity check on:  {:?}", open(true));
    println!("open, integrity check off: {:?}", open(false));
    let inspect = best(|| {
        let t = Instant::now();
        let r = Store::inspect(&path).expect("inspect");
        assert!(r.is_complete());
        t.elapsed()
    });
    println!("inspection (inventory of a damaged store): {inspect:?}");

    // The re-open path. Fill the file system and let a write fail with ENOSPC: the writable
    // database is closed (reads go to a read-only fallback). The next write re-opens it, which
    // repairs the file (redb was not shut down cleanly), then fails again; later writes fail
    // fast until the back-off allows the next re-open.
    let s = Store::open(&path).expect("open");
    let filler = fs.fill("filler", u64::MAX);
    let batch: Vec<Observation> = (0..BATCH).map(obs).collect();
    let timed = |what: &str| {
        let t = Instant::now();
        let r = s.append_observations(&batch);
        let took = t.elapsed();
        let kind = match &r {
            Ok(_) => "ok".to_string(),
            Err(e) if e.is_disk_full() => "disk full".to_string(),
            Err(e) => e.to_string(),
        };
        println!("{what}: {took:?} ({kind})");
    };
    timed("first append on the full disk (closes the database)");
    let t = Instant::now();
    let outbox = s.outbox().map(|o| o.len());
    println!(
        "a read while closed (opens the read-only fallback): {:?} ({outbox:?})",
        t.elapsed()
    );
    timed("second append (re-opens, fails again)");
    timed("third append (back-off: fails fast)");
    let h = s.health();
    println!(
        "re-open of the writable database: {} ms ({} re-opens)",
        h.last_reopen_ms.unwrap_or(0),
        h.reopens_total
    );
    std::fs::remove_file(filler).expect("free space");
    std::thread::sleep(Duration::from_millis(1_100));
    timed("append after freeing space (re-opens, succeeds)");
}
