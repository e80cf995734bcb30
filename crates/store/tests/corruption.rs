//! Damaged store files: truncated to 0 bytes, ten flipped bytes, a zeroed page, a truncated
//! tail. Each must open with a clear error (or cleanly, if the damage hit no live page), never
//! panic, and salvage into a new store that holds exactly what the report says.

mod common;

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use common::{batch, page, seqs};
use faultline_store::{Lost, OpenOptions, SalvageReport, Store, StoreError};

const JOURNAL: u64 = 6_000;
const PAGED: u64 = 30;
const PAGE: usize = 4096;

/// A cleanly closed store with a journal, incidents, outbox, paged set and a snapshot;
/// returns the file's bytes.
fn build(path: &Path) -> Vec<u8> {
    {
        let s = Store::open(path).unwrap();
        for b in 0..JOURNAL / 500 {
            s.append_observations(&batch(b * 500, 500)).unwrap();
        }
        for i in 0..PAGED {
            page(&s, &format!("inc-{i:03}"), i + 1);
        }
        s.put_snapshot("engine", &[42; 10_000]).unwrap();
        s.set_engine_seq(JOURNAL).unwrap();
    }
    std::fs::read(path).unwrap()
}

/// splitmix64: a seeded generator, so every failure names a reproducible seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// What happened to one damaged file.
struct Outcome {
    opened: bool,
    salvage: Option<SalvageReport>,
}

/// Open, read everything, inspect and salvage a damaged file: nothing may panic; errors must
/// be clear; a salvage must hold exactly what its report counts.
fn exercise(label: &str, damaged: &Path, dir: &Path) -> Outcome {
    let opened = catch_unwind(AssertUnwindSafe(|| Store::open(damaged)))
        .unwrap_or_else(|_| panic!("{label}: Store::open panicked"));
    let opened = match opened {
        Ok(s) => {
            // The damage missed every live page (or opening without it): reads must not panic
            // and must not return garbage silently.
            let reads = catch_unwind(AssertUnwindSafe(|| {
                (
                    s.journal().map(|j| j.len()),
                    s.incidents(false).map(|i| i.len()),
                )
            }))
            .unwrap_or_else(|_| panic!("{label}: a read panicked"));
            if let (Ok(j), Ok(i)) = reads {
                assert_eq!((j as u64, i as u64), (JOURNAL, PAGED), "{label}");
            }
            true
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&damaged.display().to_string()),
                "{label}: {msg}"
            );
            assert!(
                e.is_corrupt()
                    || matches!(e, StoreError::EmptyFile { .. } | StoreError::Open { .. }),
                "{label}: unexpected error kind {e:?}"
            );
            if let StoreError::Corrupt { what_was_lost, .. } = &e {
                assert!(!what_was_lost.is_empty(), "{label}: {msg}");
            }
            false
        }
    };
    // A read-only handle cannot verify: damage shows when read, as an error, never a panic.
    if let Ok(ro) = catch_unwind(AssertUnwindSafe(|| Store::open_read_only(damaged)))
        .unwrap_or_else(|_| panic!("{label}: open_read_only panicked"))
    {
        match catch_unwind(AssertUnwindSafe(|| ro.journal())) {
            Ok(Err(e)) => assert!(
                e.is_corrupt()
                    || matches!(
                        e,
                        StoreError::Decode { .. } | StoreError::JournalRecord { .. }
                    ),
                "{label}: a damaged page read through a read-only handle: {e:?}"
            ),
            Ok(Ok(_)) => {}
            Err(_) => panic!("{label}: a read-only read panicked"),
        }
    }
    let target = dir.join(format!("{label}.salvaged.redb"));
    let salvage = catch_unwind(AssertUnwindSafe(|| Store::salvage(damaged, &target)))
        .unwrap_or_else(|_| panic!("{label}: salvage panicked"));
    let salvage = match salvage {
        Ok(report) => {
            check_salvage(label, &report, &target);
            Some(report)
        }
        Err(e) => {
            assert!(e.to_string().contains("redb"), "{label}: {e}");
            None
        }
    };
    Outcome { opened, salvage }
}

/// The salvaged store opens, holds what the report counts, and every journal sequence of the
/// original is either copied or inside a reported lost range.
fn check_salvage(label: &str, report: &SalvageReport, target: &Path) {
    let s = Store::open(target).unwrap_or_else(|e| panic!("{label}: salvaged store: {e}"));
    let table = |name: &str| report.tables.iter().find(|t| t.table == name).unwrap();
    let copied: BTreeSet<u64> = seqs(&s).into_iter().collect();
    assert_eq!(copied.len() as u64, table("journal").readable, "{label}");
    for seq in 1..=JOURNAL {
        let lost = table("journal").lost.iter().any(|l| match l {
            Lost::Seqs { first, last } => seq >= *first && last.is_none_or(|l| seq <= l),
            Lost::Table(_) => true,
            _ => false,
        });
        assert!(
            copied.contains(&seq) || lost,
            "{label}: seq {seq} neither copied nor reported lost"
        );
    }
    assert_eq!(
        s.incidents(false).unwrap().len() as u64,
        table("incidents").readable,
        "{label}"
    );
    assert_eq!(
        s.outbox().unwrap().len() as u64,
        table("outbox").readable,
        "{label}"
    );
    assert_eq!(
        s.paged(None).unwrap().len() as u64,
        table("paged").readable,
        "{label}"
    );
    if report.is_complete() {
        assert_eq!(copied.len() as u64, JOURNAL, "{label}: complete");
    }
    // The counters never go backwards: the next append follows everything copied.
    let next = s.append_observation(&common::obs(1, "x")).unwrap();
    assert!(next > copied.last().copied().unwrap_or(0), "{label}");
    assert!(report.to_string().contains("journal"), "{label}");
}

fn fixture() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orig.redb");
    let bytes = build(&path);
    (dir, path, bytes)
}

#[test]
fn an_existing_empty_file_is_refused_unless_starting_fresh_is_explicit() {
    let (dir, path, _) = fixture();
    std::fs::write(&path, b"").unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::EmptyFile { .. }), "{err:?}");
    assert!(
        err.to_string().contains("0 bytes") && err.to_string().contains("orig.redb"),
        "{err}"
    );
    assert!(!err.is_transient());
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        0,
        "the refused file is left alone"
    );
    assert!(Store::salvage(&path, dir.path().join("t.redb")).is_err());

    let opts = OpenOptions {
        allow_empty_file: true,
        ..OpenOptions::default()
    };
    let s = Store::open_with(&path, &opts).unwrap();
    assert!(s.open_report().unwrap().initialised_empty_file);
    assert!(s.journal().unwrap().is_empty());
    // A missing file is simply new.
    let fresh = Store::open(dir.path().join("new.redb")).unwrap();
    assert!(fresh.open_report().unwrap().created);
    // An existing good file is verified.
    drop(s);
    let again = Store::open(&path).unwrap();
    let report = again.open_report().unwrap();
    assert!(!report.created && report.verified);
}

#[test]
fn ten_flipped_bytes_give_a_clear_error_or_a_clean_salvage_never_a_panic() {
    let (dir, path, orig) = fixture();
    let mut refused = 0;
    for seed in 1..=8u64 {
        let mut rng = Rng(seed);
        let mut bytes = orig.clone();
        for _ in 0..10 {
            let i = (rng.next() % bytes.len() as u64) as usize;
            bytes[i] ^= 1 << (rng.next() % 8);
        }
        let damaged = dir.path().join(format!("flip-{seed}.redb"));
        std::fs::write(&damaged, &bytes).unwrap();
        let out = exercise(&format!("flip-{seed}"), &damaged, dir.path());
        refused += usize::from(!out.opened);
        assert!(
            out.salvage.is_some(),
            "flip-{seed}: ten flipped bytes leave the file salvageable"
        );
    }
    assert!(
        refused >= 6,
        "the integrity check catches flipped bytes ({refused}/8)"
    );
    drop(path);
}

#[test]
fn a_zeroed_page_gives_a_clear_error_and_a_salvage_that_loses_only_its_records() {
    let (dir, _path, orig) = fixture();
    let pages = orig.len() / PAGE;
    let mut rng = Rng(99);
    let mut picks = vec![pages / 3, pages / 2, 2 * pages / 3];
    picks.extend((0..5).map(|_| 1 + (rng.next() as usize % (pages - 2))));
    let mut salvaged_most = 0;
    for p in picks {
        let mut bytes = orig.clone();
        bytes[p * PAGE..(p + 1) * PAGE].fill(0);
        let damaged = dir.path().join(format!("zero-{p}.redb"));
        std::fs::write(&damaged, &bytes).unwrap();
        let out = exercise(&format!("zero-{p}"), &damaged, dir.path());
        if let Some(r) = &out.salvage {
            let j = r.tables.iter().find(|t| t.table == "journal").unwrap();
            salvaged_most += usize::from(j.readable >= JOURNAL * 9 / 10);
        }
    }
    assert!(
        salvaged_most >= 5,
        "one bad page costs only its own records ({salvaged_most}/8)"
    );
}

#[test]
fn a_truncated_file_is_a_clear_error() {
    let (dir, path, orig) = fixture();
    for keep in [orig.len() / 2, orig.len() - PAGE, PAGE] {
        std::fs::write(&path, &orig[..keep]).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(err.is_corrupt(), "{err:?}");
        assert!(err.to_string().contains("truncated"), "{err}");
        let _ = exercise(&format!("trunc-{keep}"), &path, dir.path());
    }
}

#[test]
fn a_salvage_of_a_good_store_copies_everything_and_never_overwrites() {
    let (dir, path, _) = fixture();
    let target = dir.path().join("copy.redb");
    let report = Store::salvage(&path, &target).unwrap();
    assert!(report.is_complete(), "{report}");
    let s = Store::open(&target).unwrap();
    assert_eq!(seqs(&s), (1..=JOURNAL).collect::<Vec<_>>());
    assert_eq!(s.engine_seq().unwrap(), JOURNAL);
    assert_eq!(s.snapshot("engine").unwrap(), Some(vec![42; 10_000]));
    assert_eq!(s.paged(None).unwrap().len() as u64, PAGED);
    drop(s);
    let err = Store::salvage(&path, &target).unwrap_err();
    assert!(matches!(err, StoreError::TargetExists { .. }), "{err:?}");
    assert_eq!(Store::inspect(&path).unwrap().tables, report.tables);
}
