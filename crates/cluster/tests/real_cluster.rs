//! The publisher and the consumer against a real three-node JetStream cluster: a stream leader
//! killed mid-stream loses nothing and duplicates nothing; a total outage is bridged by the
//! disk buffer, in order, with the observations' own times.

use std::time::Duration;

use faultline_cluster::{
    BufferBound, Consumer, DiskBuffer, NatsOptions, Publisher, STREAM, ZoneName, connect, jetstream,
};
use faultline_observe::{Observation, Signal, Subject};
use faultline_testpeers::nats::NatsCluster;
use faultline_testpeers::wait::wait_until;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Longest wait for the consumer to see what was published.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

fn obs(at: u64) -> Vec<Observation> {
    vec![Observation::new(
        at,
        Subject::device("fw-a"),
        Signal::CollectorStarted,
    )]
}

struct Running {
    tx: mpsc::Sender<Vec<Observation>>,
    stats: std::sync::Arc<faultline_cluster::PublisherStats>,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

async fn publisher(cluster: &NatsCluster, zone: &str) -> Running {
    let opts = NatsOptions {
        servers: cluster.urls(),
        replicas: 3,
    };
    let js = jetstream(connect(&opts).await.unwrap());
    let dir = tempfile::tempdir().unwrap();
    let buffer = DiskBuffer::open(dir.path(), BufferBound(1_000)).unwrap();
    let zone = ZoneName::try_from(zone.to_string()).unwrap();
    let p = Publisher::new(js, zone, "p1".into(), buffer, 3);
    let stats = p.stats();
    let (tx, rx) = mpsc::channel(16);
    let stop = CancellationToken::new();
    tokio::spawn(p.run(rx, stop.clone()));
    Running {
        tx,
        stats,
        stop,
        _dir: dir,
    }
}

/// Bind the durable consumer, again and again until `deadline`: binding right after a node was
/// killed can time out while the stream elects a new leader.
async fn bind(js: &async_nats::jetstream::Context, deadline: tokio::time::Instant) -> Consumer {
    loop {
        match Consumer::bind(js, 3, &faultline_cluster::durable_for("test")).await {
            Ok(c) => return c,
            Err(e) if tokio::time::Instant::now() < deadline => {
                eprintln!("binding again: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("cannot bind the consumer in time: {e}"),
        }
    }
}

/// Read `n` batches (acknowledging each); returns (batch seq, first observation's time). As the
/// correlator does (cli `Feed::run`), a consumer error (missed heartbeats while the cluster
/// changes leader) binds the durable consumer again, which resumes after the last ack.
async fn consume(cluster: &NatsCluster, n: usize) -> Vec<(u64, u64)> {
    let opts = NatsOptions {
        servers: cluster.urls(),
        replicas: 3,
    };
    let js = jetstream(connect(&opts).await.unwrap());
    let deadline = tokio::time::Instant::now() + DELIVERY_TIMEOUT;
    let mut consumer = bind(&js, deadline).await;
    let mut got = Vec::new();
    while got.len() < n {
        let next = tokio::time::timeout_at(deadline, consumer.next())
            .await
            .expect("delivery in time")
            .expect("subscription open");
        let d = match next {
            Ok(d) => d,
            Err(e) if tokio::time::Instant::now() < deadline => {
                eprintln!("consumer error, binding again: {e}");
                consumer = bind(&js, deadline).await;
                continue;
            }
            Err(e) => panic!("delivery: {e}"),
        };
        got.push((d.batch.id.seq, d.batch.observations[0].at));
        d.ack().await.unwrap();
    }
    got
}

#[tokio::test]
async fn killing_the_stream_leader_mid_stream_loses_and_duplicates_nothing() {
    let Some(mut cluster) = NatsCluster::start().await else {
        return;
    };
    let p = publisher(&cluster, "inside").await;
    for i in 0..100 {
        p.tx.send(obs(1_000 + i)).await.unwrap();
    }
    assert!(
        wait_until(DELIVERY_TIMEOUT, || p.stats.snapshot().published_batches
            == 100)
        .await
    );
    let leader = cluster
        .stream_leader(STREAM)
        .await
        .expect("a stream leader");
    cluster.kill(NatsCluster::index_of(&leader).expect("node name"));
    for i in 100..200 {
        p.tx.send(obs(1_000 + i)).await.unwrap();
    }
    assert!(
        wait_until(DELIVERY_TIMEOUT, || p.stats.snapshot().published_batches
            >= 200)
        .await,
        "{:?}",
        p.stats.snapshot()
    );
    let got = consume(&cluster, 200).await;
    let seqs: Vec<u64> = got.iter().map(|g| g.0).collect();
    assert_eq!(
        seqs,
        (0..200).collect::<Vec<_>>(),
        "every batch once, in order"
    );
    assert_eq!(p.stats.snapshot().dropped, 0);
    p.stop.cancel();
}

#[tokio::test]
async fn an_outage_is_bridged_by_the_disk_buffer_in_order_with_poll_times() {
    let Some(mut cluster) = NatsCluster::start().await else {
        return;
    };
    let p = publisher(&cluster, "outside").await;
    p.tx.send(obs(500)).await.unwrap();
    assert!(
        wait_until(DELIVERY_TIMEOUT, || p.stats.snapshot().published_batches
            == 1)
        .await
    );
    cluster.kill_all();
    for i in 0..20 {
        p.tx.send(obs(1_000 + i)).await.unwrap();
    }
    assert!(
        wait_until(DELIVERY_TIMEOUT, || p.stats.snapshot().buffered_now == 20).await,
        "{:?}",
        p.stats.snapshot()
    );
    assert!(cluster.restart_all().await, "{}", cluster.logs());
    assert!(
        wait_until(DELIVERY_TIMEOUT, || p.stats.snapshot().buffered_now == 0).await,
        "{:?}",
        p.stats.snapshot()
    );
    let got = consume(&cluster, 21).await;
    let times: Vec<u64> = got.iter().map(|g| g.1).collect();
    let want: Vec<u64> = std::iter::once(500).chain(1_000..1_020).collect();
    assert_eq!(times, want, "in order, with the poll times");
    let s = p.stats.snapshot();
    assert_eq!((s.buffered_total, s.dropped), (20, 0));
    p.stop.cancel();
}
