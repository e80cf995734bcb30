//! The store on a real, small tmpfs that fills up (root only; skipped loudly otherwise): a
//! full disk is reported as such, degrades the health, loses nothing, writes nothing twice,
//! and the store heals by itself once space is freed.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{batch, page, seqs};
use faultline_store::{Backoff, FailureCause, OpenOptions, Store, StoreError};
use faultline_testpeers::tmpfs::Tmpfs;

const FS_BYTES: u64 = 2 << 20;

fn opts(backoff: Duration) -> OpenOptions {
    OpenOptions {
        reopen_backoff: Backoff {
            initial: backoff,
            max: backoff,
        },
        ..OpenOptions::default()
    }
}

/// Append batches of 100 until the file system refuses; returns how many observations were
/// stored and the error.
fn append_until_full(s: &Store) -> (u64, StoreError) {
    let mut stored = 0;
    for i in 0..10_000u64 {
        match s.append_observations(&batch(i * 100, 100)) {
            Ok(_) => stored += 100,
            Err(e) => return (stored, e),
        }
    }
    panic!("the file system never filled up");
}

#[test]
fn a_full_disk_is_reported_and_freeing_space_heals_the_store_without_restart() {
    let Some(fs) = Tmpfs::mount("full", FS_BYTES) else {
        return;
    };
    // No back-off: the write right after freeing space re-opens at once (the back-off has its
    // own test below).
    let store = Store::open_with(fs.path().join("s.redb"), &opts(Duration::ZERO)).unwrap();
    let entry = page(&store, "inc-1", 1);
    let filler = fs.fill("filler", u64::MAX);

    let (stored, err) = append_until_full(&store);
    assert!(err.is_disk_full() && err.is_transient(), "{err:?}");
    assert!(err.to_string().contains("disk full"), "{err}");
    assert!(err.to_string().contains("s.redb"), "{err}");
    let err = store.put_snapshot("engine", &[7; 200_000]).unwrap_err();
    assert!(err.is_disk_full(), "{err:?}");

    let h = store.health();
    let d = h.degraded.clone().expect("degraded");
    assert_eq!(d.cause, FailureCause::DiskFull);
    assert!(d.failed_ops >= 2, "{h:?}");
    assert!(d.last_error.contains("disk full"), "{h:?}");
    assert!(
        h.to_string().starts_with("degraded (disk_full) since"),
        "{h}"
    );

    // Reads keep working while the disk is full (the pending page is deliverable), and a
    // successful read does not hide the failing writes.
    assert_eq!(store.outbox().unwrap(), vec![entry.clone()]);
    assert_eq!(seqs(&store).len() as u64, stored);
    assert!(!store.health().is_ok());

    std::fs::remove_file(filler).unwrap();
    let last = store
        .append_observations(&batch(5_000_000, 100))
        .expect("writes work again once space is freed");
    assert_eq!(last, Some(stored + 100));
    assert!(store.health().is_ok(), "{}", store.health());
    assert!(store.health().reopens_total >= 1);
    // Nothing lost, nothing written twice; the page is still owed and can be acknowledged.
    assert_eq!(seqs(&store), (1..=stored + 100).collect::<Vec<_>>());
    assert_eq!(store.outbox().unwrap(), vec![entry.clone()]);
    assert!(store.transact(|t| t.ack_outbox(entry.id, 1)).unwrap());
    store.put_snapshot("engine", b"after").unwrap();
}

#[test]
fn re_opens_back_off_while_the_disk_stays_full() {
    let Some(fs) = Tmpfs::mount("backoff", FS_BYTES) else {
        return;
    };
    let store = Store::open_with(fs.path().join("s.redb"), &opts(Duration::from_secs(60))).unwrap();
    let filler = fs.fill("filler", u64::MAX);
    let (_, first) = append_until_full(&store);
    assert!(first.is_disk_full(), "{first:?}");
    // The next write re-opens once (the first re-open is immediate) and fails again; every
    // write after that fails fast without touching the file until the back-off has passed.
    let second = store.append_observations(&batch(0, 100)).unwrap_err();
    assert!(second.is_disk_full(), "{second:?}");
    for _ in 0..20 {
        let e = store.append_observations(&batch(0, 100)).unwrap_err();
        assert!(matches!(e, StoreError::Unavailable { .. }), "{e:?}");
        assert!(e.is_disk_full() && e.is_transient(), "{e:?}");
    }
    assert_eq!(store.health().reopens_total, 1);
    // Freed space is noticed at the next re-open only; reads meanwhile work.
    std::fs::remove_file(filler).unwrap();
    assert!(store.append_observations(&batch(0, 1)).is_err());
    assert!(store.outbox().is_ok());
    assert_eq!(store.health().reopens_total, 1);
}

#[test]
fn a_batch_append_is_all_or_nothing_on_a_full_disk() {
    let Some(fs) = Tmpfs::mount("batch", FS_BYTES) else {
        return;
    };
    let store = Store::open_with(fs.path().join("s.redb"), &opts(Duration::ZERO)).unwrap();
    store.append_observations(&batch(0, 500)).unwrap();
    let filler = fs.fill("filler", u64::MAX);
    let before = seqs(&store);
    let big = batch(10_000, 3_000);
    let err = store.append_observations(&big).unwrap_err();
    assert!(err.is_transient() && err.is_disk_full(), "{err:?}");
    assert_eq!(
        seqs(&store),
        before,
        "a failed append leaves no partial batch"
    );
    assert_eq!(store.journal_last_seq().unwrap(), 500);

    std::fs::remove_file(filler).unwrap();
    // The caller kept the batch and appends it again: it lands whole, right after the last.
    assert_eq!(store.append_observations(&big).unwrap(), Some(3_500));
    let journal = store.journal().unwrap();
    assert_eq!(journal.len(), 3_500);
    let tail: Vec<_> = journal[500..].iter().map(|(_, o)| o.clone()).collect();
    assert_eq!(tail, big);
}

#[test]
fn concurrent_readers_and_writers_survive_a_disk_full_episode() {
    let Some(fs) = Tmpfs::mount("threads", FS_BYTES) else {
        return;
    };
    let store = Store::open(fs.path().join("s.redb")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let appended = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for w in 0..2u64 {
        let (s, stop, appended) = (store.clone(), stop.clone(), appended.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if s.append_observations(&batch(w * 1_000_000, 20)).is_ok() {
                    appended.fetch_add(20, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }));
    }
    for _ in 0..2 {
        let (s, stop) = (store.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let _ = s.outbox();
                let _ = s.journal_last_seq();
                let _ = s.health();
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(200));
    let filler = fs.fill("filler", u64::MAX);
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.health().is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!store.health().is_ok(), "the writers hit the full disk");
    std::thread::sleep(Duration::from_millis(300));
    std::fs::remove_file(filler).unwrap();
    let before = appended.load(Ordering::SeqCst);
    // Writers succeed again within the back-off bound (at most 10 s).
    while (appended.load(Ordering::SeqCst) == before || !store.health().is_ok())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().expect("no thread panicked");
    }
    assert!(appended.load(Ordering::SeqCst) > before, "writes resumed");
    let n = appended.load(Ordering::SeqCst);
    assert_eq!(
        seqs(&store),
        (1..=n).collect::<Vec<_>>(),
        "every Ok append stored once"
    );
}

#[test]
fn an_existing_store_opens_on_a_full_disk_and_serves_reads() {
    let Some(fs) = Tmpfs::mount("start", FS_BYTES) else {
        return;
    };
    let path = fs.path().join("s.redb");
    let entry = {
        let s = Store::open(&path).unwrap();
        s.append_observations(&batch(0, 200)).unwrap();
        page(&s, "inc-1", 1)
    };
    let filler = fs.fill("filler", u64::MAX);
    // A collector restarted on a full disk starts, shows its state, and says why it cannot
    // write.
    let s = Store::open(&path).expect("opens on a full disk");
    assert_eq!(s.outbox().unwrap(), vec![entry]);
    assert_eq!(seqs(&s).len(), 200);
    let (_, err) = append_until_full(&s);
    assert!(err.is_disk_full(), "{err:?}");
    drop(s);
    std::fs::remove_file(filler).unwrap();
    assert_eq!(
        Store::open(&path)
            .unwrap()
            .append_observation(&common::obs(1, "x"))
            .unwrap(),
        201
    );
}
