//! The store's file lock across a stop (issue #9, items 2 and 18): [`Collector::wait`] returns
//! only once every handle on the store is gone, so a reload opens the file at once; a file held
//! by another faultline fails the start at once, with the reason, instead of after a wait.

use std::path::Path;
use std::time::{Duration, Instant};

use faultline_collector::config::Config;
use faultline_collector::{Collector, CollectorError, StartOptions};
use faultline_store::Store;
use tokio_util::sync::CancellationToken;

/// A collector configuration on a one-device topology with nothing to poll, its store in `dir`.
fn config(dir: &Path) -> Config {
    std::fs::write(
        dir.join("t.yaml"),
        "name: r\ndevices:\n  - {id: dev, kind: switch}\n",
    )
    .expect("write topology");
    let path = dir.join("faultline.toml");
    std::fs::write(
        &path,
        "topology = \"t.yaml\"\n[api]\nlisten = \"127.0.0.1:0\"\n[icmp]\nenabled = false\n\
         [store]\npath = \"fl.redb\"\n",
    )
    .expect("write config");
    Config::load(&path).expect("config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_wait_returns_the_store_opens_at_once_every_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    for round in 0..5 {
        let stop = CancellationToken::new();
        let collector = Collector::start(config(dir.path()), StartOptions::default(), stop.clone())
            .await
            .unwrap_or_else(|e| panic!("round {round}: the collector starts: {e}"));
        // Let the tasks take their handles (engine task, notifier, API).
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.cancel();
        collector.wait().await;
        let reopened = Store::open(dir.path().join("fl.redb"));
        assert!(
            reopened.is_ok(),
            "round {round}: the store is still locked after wait: {:?}",
            reopened.err()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_held_by_another_process_fails_the_start_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let held = Store::open(dir.path().join("fl.redb")).expect("the test holds the store");
    let started = Instant::now();
    let stop = CancellationToken::new();
    let result = Collector::start(config(dir.path()), StartOptions::default(), stop.clone()).await;
    let took = started.elapsed();
    let Err(err) = result else {
        panic!("the collector started on a store another handle holds");
    };
    assert!(
        matches!(&err, CollectorError::Store(e) if e.is_locked()),
        "a locked-store error, got: {err}"
    );
    assert!(
        took < Duration::from_secs(5),
        "the start failed only after {took:?}: it should not wait for another process"
    );
    drop(held);
}
