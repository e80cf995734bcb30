//! The store against its real backend (redb files in temp dirs), including a SIGKILLed writer.

use std::io::BufReader;
use std::process::{Command, Stdio};
use std::time::Duration;

use faultline_incident::*;
use faultline_observe::{Observation, Signal, Subject};
use faultline_store::{PagedRecord, Store, StoreConfig, StoreError};

fn obs(at: u64, dev: &str) -> Observation {
    Observation::new(
        at,
        Subject::device(dev),
        Signal::Reachability {
            ok: at.is_multiple_of(2),
            rtt_ms: Some(1.5),
            loss: 0.0,
        },
    )
}

fn incident(id: &str, status: IncidentStatus) -> Incident {
    Incident {
        id: id.into(),
        kind: IncidentKind::ServiceDown,
        severity: Severity::Critical,
        title: format!("{id} down"),
        root_causes: vec!["fw-a".into()],
        affected_services: vec![],
        suspects: vec![],
        evidence: vec![],
        status,
        opened_at: 1,
        updated_at: 1,
        resolved_at: None,
        suppressed: false,
        acknowledged: None,
    }
}

fn transition(seq: u64, inc: &Incident) -> IncidentTransition {
    IncidentTransition {
        seq,
        action: TransitionAction::Trigger,
        at: seq,
        incident: inc.clone(),
    }
}

#[test]
fn journal_keeps_arrival_order_and_round_trips_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(dir.path().join("a.redb")).unwrap();
    // Arrival order differs from time order (a late trap): the journal keeps arrival order.
    let input = vec![obs(30, "fw-a"), obs(10, "fw-b"), obs(20, "sw-1")];
    assert_eq!(a.append_observation(&input[0]).unwrap(), 1);
    assert_eq!(a.append_observations(&input[1..]).unwrap(), Some(3));
    let seqs: Vec<u64> = a.journal().unwrap().iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, [1, 2, 3]);
    let tail: Vec<u64> = a.journal_from(2).unwrap().iter().map(|(s, _)| *s).collect();
    assert_eq!(tail, [2, 3]);
    assert_eq!(a.observations_since(0).unwrap(), input);
    assert_eq!(
        a.observations_since(20).unwrap(),
        vec![input[0].clone(), input[2].clone()]
    );

    let mut buf = Vec::new();
    assert_eq!(a.export_journal(&mut buf).unwrap(), 3);
    let text = String::from_utf8(buf.clone()).unwrap();
    assert_eq!(text.lines().count(), 3);
    let b = Store::open(dir.path().join("b.redb")).unwrap();
    assert_eq!(
        b.import_journal(BufReader::new(&buf[..]), "a.jsonl")
            .unwrap(),
        3
    );
    assert_eq!(b.observations_since(0).unwrap(), input);
}

#[test]
fn a_bad_journal_line_names_file_and_line_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path().join("s.redb")).unwrap();
    let good = serde_json::to_string(&obs(1, "fw-a")).unwrap();
    let text = format!("{good}\n\n{good}\n{{\"at\": \"yesterday\"}}\n");
    let err = s
        .import_journal(BufReader::new(text.as_bytes()), "capture.jsonl")
        .unwrap_err();
    assert!(
        matches!(err, StoreError::JournalLine { line: 4, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("capture.jsonl line 4"), "{err}");
    assert!(s.journal().unwrap().is_empty(), "all or nothing");
}

#[test]
fn incidents_engine_seq_and_snapshots_persist_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let s = Store::open(&path).unwrap();
        s.upsert_incident(&incident("inc-1", IncidentStatus::Open))
            .unwrap();
        s.upsert_incident(&incident("inc-2", IncidentStatus::Open))
            .unwrap();
        s.upsert_incident(&incident("inc-2", IncidentStatus::Resolved))
            .unwrap();
        s.set_engine_seq(42).unwrap();
        s.put_snapshot("engine", &[1, 2, 3]).unwrap();
    }
    let s = Store::open(&path).unwrap();
    assert_eq!(s.incidents(false).unwrap().len(), 2);
    let open = s.incidents(true).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, "inc-1");
    assert_eq!(
        s.incident("inc-2").unwrap().unwrap().status,
        IncidentStatus::Resolved
    );
    assert_eq!(s.incident("inc-3").unwrap(), None);
    assert_eq!(s.engine_seq().unwrap(), 42);
    assert_eq!(s.snapshot("engine").unwrap(), Some(vec![1, 2, 3]));
    assert_eq!(s.snapshot("other").unwrap(), None);
}

#[test]
fn outbox_ack_checks_the_delivered_seq_and_ids_are_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path().join("s.redb")).unwrap();
    let inc = incident("inc-1", IncidentStatus::Open);
    let (e1, e2) = s
        .transact(|t| {
            t.upsert_incident(&inc)?;
            Ok((
                t.push_outbox("pd", &transition(1, &inc), None, 5)?,
                t.push_outbox("am", &transition(1, &inc), None, 5)?,
            ))
        })
        .unwrap();
    assert_eq!((e1.id, e2.id), (1, 2));
    // Coalesced with a newer update while seq 1 was on the wire: the ack of seq 1 must not
    // remove the newer content.
    let mut newer = e1.clone();
    newer.transition.seq = 9;
    s.transact(|t| t.put_outbox(&newer)).unwrap();
    assert!(!s.transact(|t| t.ack_outbox(e1.id, 1)).unwrap());
    assert!(s.transact(|t| t.ack_outbox(e1.id, 9)).unwrap());
    // Dead letter keeps the answer.
    assert!(
        s.transact(|t| t.dead_letter(e2.id, Some(400), "invalid routing key", 7))
            .unwrap()
    );
    assert!(s.outbox().unwrap().is_empty());
    let dead = s.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (
            dead[0].status,
            dead[0].answer.as_str(),
            dead[0].entry.receiver.as_str()
        ),
        (Some(400), "invalid routing key", "am")
    );
    // Drained outbox: the next id still moves forward (delivery ids stay unique).
    let e3 = s
        .transact(|t| t.push_outbox("pd", &transition(2, &inc), None, 8))
        .unwrap();
    assert_eq!(e3.id, 3);
}

#[test]
fn a_failed_transaction_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path().join("s.redb")).unwrap();
    let inc = incident("inc-1", IncidentStatus::Open);
    let r: Result<(), _> = s.transact(|t| {
        t.upsert_incident(&inc)?;
        t.push_outbox("pd", &transition(1, &inc), None, 1)?;
        Err(StoreError::ReadOnly {
            path: "simulated".into(),
            op: "fail midway",
        })
    });
    assert!(r.is_err());
    assert!(s.incidents(false).unwrap().is_empty());
    assert!(s.outbox().unwrap().is_empty());
}

#[test]
fn paged_records_are_listed_per_receiver_without_prefix_bleed() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path().join("s.redb")).unwrap();
    for (r, id) in [
        ("pd", "inc-1"),
        ("pd", "inc-2"),
        ("pd-2", "inc-1"),
        ("am", "inc-1"),
    ] {
        let rec = PagedRecord {
            receiver: r.into(),
            incident: incident(id, IncidentStatus::Open),
            labels: Default::default(),
            since: 1,
        };
        s.transact(|t| t.set_paged(&rec)).unwrap();
    }
    let pd: Vec<String> = s
        .paged(Some("pd"))
        .unwrap()
        .into_iter()
        .map(|p| p.incident.id)
        .collect();
    assert_eq!(pd, ["inc-1", "inc-2"]);
    assert_eq!(s.paged(None).unwrap().len(), 4);
    s.transact(|t| t.clear_paged("pd", "inc-1")).unwrap();
    assert_eq!(s.paged(Some("pd")).unwrap().len(), 1);
    assert!(
        s.transact(|t| t.get_paged("pd", "inc-1"))
            .unwrap()
            .is_none()
    );
    assert!(
        s.transact(|t| t.get_paged("pd-2", "inc-1"))
            .unwrap()
            .is_some()
    );
}

#[test]
fn a_read_only_handle_follows_the_writer_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let w = Store::open(&path).unwrap();
    w.append_observation(&obs(1, "fw-a")).unwrap();
    let r = Store::open_read_only(&path).unwrap();
    assert_eq!(r.journal().unwrap().len(), 1);
    w.append_observation(&obs(2, "fw-a")).unwrap();
    assert_eq!(
        r.journal().unwrap().len(),
        2,
        "reader sees the writer's later commit"
    );
    let err = r.put_snapshot("x", b"y").unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }));
    assert!(err.to_string().contains("s.redb"), "{err}");
}

#[test]
fn open_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("not-a-db.redb");
    std::fs::write(&junk, vec![0x42u8; 8192]).unwrap();
    let err = Store::open(&junk).unwrap_err();
    assert!(err.to_string().contains("not-a-db.redb"), "{err}");
    let err = Store::open_read_only(dir.path().join("missing.redb")).unwrap_err();
    assert!(err.to_string().contains("missing.redb"), "{err}");
}

#[test]
fn store_config_defaults_and_parses() {
    let c: StoreConfig = toml::from_str("").unwrap();
    assert_eq!(c.path, std::path::PathBuf::from("faultline.redb"));
    let c: StoreConfig = toml::from_str("path = \"/var/lib/faultline/x.redb\"").unwrap();
    assert_eq!(
        c.path,
        std::path::PathBuf::from("/var/lib/faultline/x.redb")
    );
}

const CHILD_ENV: &str = "FAULTLINE_STORE_KILL9_CHILD";

/// Helper process for the kill -9 test: writes "observation + incident + outbox entry" steps,
/// one transaction each, as fast as it can, forever.
#[test]
#[ignore = "helper process for sigkill_leaves_every_step_whole"]
fn kill9_writer_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let s = Store::open(&path).expect("open");
    for i in 1u64.. {
        let inc = incident(&format!("inc-{i:08}"), IncidentStatus::Open);
        s.transact(|t| {
            t.append_observation(&obs(i, "fw-a"))?;
            t.upsert_incident(&inc)?;
            t.push_outbox("pd", &transition(i, &inc), None, i)?;
            t.set_engine_seq(i)
        })
        .expect("step");
    }
}

#[test]
fn sigkill_leaves_every_step_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "kill9_writer_child",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    // Let it commit a good number of steps, then kill it without warning.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let n = Store::open_read_only(&path)
            .ok()
            .and_then(|r| r.engine_seq().ok())
            .unwrap_or(0);
        if n >= 20 || std::time::Instant::now() > deadline {
            break;
        }
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();

    let s = Store::open(&path).expect("database opens after kill -9");
    let n = s.engine_seq().unwrap();
    assert!(n >= 20, "child committed only {n} steps");
    let journal = s.journal().unwrap();
    let incidents = s.incidents(false).unwrap();
    let outbox = s.outbox().unwrap();
    // Every committed step is whole, and nothing of a half step is visible.
    assert_eq!(journal.len() as u64, n);
    assert_eq!(incidents.len() as u64, n);
    assert_eq!(outbox.len() as u64, n);
    for (i, (seq, o)) in journal.iter().enumerate() {
        assert_eq!((*seq, o.at), (i as u64 + 1, i as u64 + 1));
    }
    assert_eq!(outbox.last().map(|e| e.transition.seq), Some(n));
    // And it keeps working: the next step continues the sequences.
    assert_eq!(s.append_observation(&obs(0, "fw-b")).unwrap(), n + 1);
}

#[test]
fn journal_pruning_respects_age_and_the_snapshot_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("j.redb")).unwrap();
    let batch: Vec<Observation> = (0..100u64).map(|i| obs(i * 1000, "sw")).collect();
    let last = store.append_observations(&batch).unwrap().unwrap();
    let first = last - 99;
    // The snapshot covers only the first 20 entries: nothing after them may go.
    assert_eq!(store.prune_journal(first + 20, 50_000).unwrap(), 20);
    assert_eq!(
        store.journal().unwrap().first().map(|(_, o)| o.at),
        Some(20_000)
    );
    // Covered up to entry 80: only entries older than 50 s go.
    assert_eq!(store.prune_journal(first + 80, 50_000).unwrap(), 30);
    let left = store.journal().unwrap();
    assert_eq!(left.len(), 50);
    assert_eq!(left.first().map(|(_, o)| o.at), Some(50_000));
    // Nothing older: nothing to do; sequences keep counting.
    assert_eq!(store.prune_journal(u64::MAX, 10_000).unwrap(), 0);
    let next = store.append_observation(&obs(200_000, "sw")).unwrap();
    assert_eq!(next, last + 1);
}

#[test]
fn errors_classify_as_transient_or_permanent() {
    let path = std::path::PathBuf::from("s.redb");
    let unavailable = StoreError::Unavailable {
        path: path.clone(),
        op: "write",
        cause: "disk full".into(),
        disk_full: true,
        retry_in_ms: 400,
    };
    assert!(unavailable.is_transient() && unavailable.is_disk_full());
    let corrupt = StoreError::Corrupt {
        path: path.clone(),
        what_was_lost: "journal: seqs 3-9".into(),
        detail: "integrity check failed".into(),
    };
    assert!(corrupt.is_corrupt() && !corrupt.is_transient());
    assert!(
        corrupt.to_string().contains("journal: seqs 3-9"),
        "{corrupt}"
    );
    assert!(!StoreError::EmptyFile { path: path.clone() }.is_transient());
    // Errors that come out of real calls: bad input and a read-only handle are permanent.
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path().join("s.redb")).unwrap();
    let bad = s
        .import_journal(BufReader::new(&b"not json\n"[..]), "x.jsonl")
        .unwrap_err();
    assert!(!bad.is_transient() && !bad.is_disk_full() && !bad.is_corrupt());
    drop(s);
    let r = Store::open_read_only(dir.path().join("s.redb")).unwrap();
    let ro = r.set_engine_seq(1).unwrap_err();
    assert!(!ro.is_transient(), "{ro:?}");
    assert!(
        r.health().is_ok(),
        "a caller's mistake is not a store failure"
    );
    assert_eq!(r.health().to_string(), "ok");
    assert!(r.engine_seq().is_ok());
}

/// The release watch turns only when the last handle is gone and the file is closed: while a
/// clone lives (a stopping task's blocking write), the file stays locked and the watch says so.
#[test]
fn the_release_watch_turns_when_the_last_handle_closes_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fl.redb");
    let store = Store::open(&path).expect("open");
    let watch = store.release_watch();
    let held = store.clone();
    drop(store);
    assert!(!watch.released(), "a clone still holds the store");
    let again = Store::open(&path).expect_err("still locked");
    assert!(again.is_locked(), "{again}");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        drop(held);
    });
    assert!(!watch.released());
    writer.join().expect("join");
    assert!(watch.released(), "every handle dropped");
    Store::open(&path).expect("the file opens once the watch has turned");
}
