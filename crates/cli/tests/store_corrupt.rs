//! A damaged store at start (issue #9 item 14), on the `faultline` binary: `run` refuses it
//! with a clear error that names what is lost and the commands that inspect and salvage it,
//! never a panic; the salvaged copy then starts.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use faultline_observe::{Observation, Signal, Subject};
use faultline_store::Store;
use faultline_testpeers::ports::free_tcp_port;

fn config(dir: &Path, store: &Path, port: u16) -> std::path::PathBuf {
    std::fs::write(
        dir.join("t.yaml"),
        "name: t\ndevices:\n  - {id: a, kind: switch}\n",
    )
    .unwrap();
    let cfg = dir.join("faultline.toml");
    std::fs::write(
        &cfg,
        format!(
            "topology = \"t.yaml\"\n[api]\nlisten = \"127.0.0.1:{port}\"\n[icmp]\nenabled = false\n\
             [store]\npath = \"{}\"\n",
            store.display()
        ),
    )
    .unwrap();
    cfg
}

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .env("FAULTLINE_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run faultline")
}

/// A store with a journal long enough to span many pages.
fn build(path: &Path) {
    let s = Store::open(path).unwrap();
    for b in 0..10u64 {
        let batch: Vec<Observation> = (0..500)
            .map(|i| {
                Observation::new(
                    1_000 + b * 500 + i,
                    Subject::device(format!("dev-{i}")),
                    Signal::AgentUp,
                )
            })
            .collect();
        s.append_observations(&batch).unwrap();
    }
}

#[test]
fn a_damaged_store_is_refused_with_what_was_lost_and_how_to_salvage() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("fl.redb");
    build(&store);
    let bytes = std::fs::read(&store).unwrap();
    std::fs::write(&store, &bytes[..bytes.len() / 2]).unwrap();
    let cfg = config(dir.path(), &store, free_tcp_port());
    let out = faultline(&["run", "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is corrupt"), "{err}");
    assert!(err.contains("unreadable: "), "names what was lost: {err}");
    let salvage = format!("faultline store salvage {}", store.display());
    assert!(err.contains(&salvage), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let inspect = faultline(&["store", "inspect", store.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(text.contains("journal"), "{text}");
    let out = faultline(&["store", "salvage", store.to_str().unwrap()]);
    let salvaged = dir.path().join("fl.redb.salvaged");
    assert!(
        salvaged.exists(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The salvaged copy starts.
    let port = free_tcp_port();
    let cfg = config(dir.path(), &salvaged, port);
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "--config"])
        .arg(&cfg)
        .env("FAULTLINE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let url = format!("http://127.0.0.1:{port}/api/v1/status");
    let mut up = false;
    while t.elapsed() < Duration::from_secs(30) && child.try_wait().unwrap().is_none() {
        up = Command::new("curl")
            .args(["-sf", "--max-time", "2", &url])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if up {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "the salvaged store did not start");
}

#[test]
fn an_emptied_store_is_refused_with_the_same_advice() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("fl.redb");
    std::fs::write(&store, b"").unwrap();
    let cfg = config(dir.path(), &store, free_tcp_port());
    let out = faultline(&["run", "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is empty (0 bytes)"), "{err}");
    assert!(err.contains("faultline store inspect"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
