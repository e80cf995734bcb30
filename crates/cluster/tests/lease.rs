//! The leader lease and the paged record against a real three-node JetStream cluster: one
//! holder at a time, a holder that stops renewing is replaced after the TTL, a holder whose
//! lease was taken cannot renew it, and what one leader recorded as paged is what the next one
//! skips.

use std::time::{Duration, Instant};

use faultline_cluster::{
    Lease, LeaseSettings, NatsOptions, PagedLog, connect, current_leader, jetstream,
};
use faultline_observe::time::now_ms;
use faultline_testpeers::nats::NatsCluster;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

const TTL: Duration = Duration::from_millis(1_500);

async fn js(cluster: &NatsCluster) -> async_nats::jetstream::Context {
    let opts = NatsOptions {
        servers: cluster.urls(),
        replicas: 3,
    };
    jetstream(connect(&opts).await.expect("connect"))
}

fn settings(name: &str) -> LeaseSettings {
    LeaseSettings {
        name: name.into(),
        ttl: TTL,
        replicas: 3,
    }
}

#[tokio::test]
async fn one_holder_at_a_time_and_an_abandoned_lease_passes_on_within_two_ttls() {
    let Some(cluster) = NatsCluster::start().await else {
        return;
    };
    let js = js(&cluster).await;
    let mut a = Lease::open(&js, settings("a")).await.expect("lease a");
    let mut b = Lease::open(&js, settings("b")).await.expect("lease b");
    assert!(a.try_acquire(now_ms()).await.expect("a asks"), "a takes it");
    assert!(!b.try_acquire(now_ms()).await.expect("b asks"), "b may not");
    assert!(a.renew(now_ms()).await.expect("a renews"), "a keeps it");
    let leader = current_leader(&js).await.expect("read").expect("held");
    assert_eq!(leader.holder, "a");
    assert!(leader.left_ms(now_ms()) <= TTL.as_millis() as u64);

    // a stops renewing (as if killed): b gets the lease once it expired, within two TTLs.
    let abandoned = Instant::now();
    let taken = loop {
        if b.try_acquire(now_ms()).await.unwrap_or(false) {
            break abandoned.elapsed();
        }
        assert!(abandoned.elapsed() < 2 * TTL, "b did not take over");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        taken >= TTL / 2,
        "taken after {taken:?}: before a's lease ran out"
    );
    // a's next renewal finds the lease taken: it is demoted, not a second leader.
    assert!(!a.renew(now_ms()).await.unwrap_or(false));
    assert!(!a.held());
    let leader = current_leader(&js).await.expect("read").expect("held");
    assert_eq!(leader.holder, "b");
}

#[tokio::test]
async fn a_released_lease_is_taken_at_once_and_leading_follows_it() {
    let Some(cluster) = NatsCluster::start().await else {
        return;
    };
    let js = js(&cluster).await;
    let a = Lease::open(&js, settings("a")).await.expect("lease a");
    let b = Lease::open(&js, settings("b")).await.expect("lease b");
    let (a_tx, mut a_rx) = watch::channel(false);
    let (b_tx, mut b_rx) = watch::channel(false);
    let stop_a = CancellationToken::new();
    let stop_b = CancellationToken::new();
    tokio::spawn(a.run(a_tx, stop_a.clone(), || async { true }));
    tokio::time::timeout(TTL * 2, a_rx.wait_for(|l| *l))
        .await
        .expect("a leads")
        .expect("a's watch");
    tokio::spawn(b.run(b_tx, stop_b.clone(), || async { true }));
    // Several renewals go by: b never leads while a does.
    tokio::time::sleep(TTL * 2).await;
    assert!(*a_rx.borrow() && !*b_rx.borrow(), "exactly one leader");
    // a stops gracefully (releases): b leads well within one TTL.
    let released = Instant::now();
    stop_a.cancel();
    tokio::time::timeout(TTL, b_rx.wait_for(|l| *l))
        .await
        .expect("b leads after the release")
        .expect("b's watch");
    assert!(released.elapsed() < TTL);
    stop_b.cancel();
}

#[tokio::test]
async fn what_one_leader_paged_the_next_one_skips() {
    let Some(cluster) = NatsCluster::start().await else {
        return;
    };
    let js = js(&cluster).await;
    let old = PagedLog::open(&js, 3).await.expect("old leader's log");
    old.record("oncall", "portal@1000", 1)
        .await
        .expect("record");
    old.record("oncall", "portal@1000", 4)
        .await
        .expect("record");
    // A late, lower record (a demoted leader's) does not move the mark back.
    old.record("oncall", "portal@1000", 2)
        .await
        .expect("record");
    old.record("chat", "fw@2000", 7).await.expect("record");
    let new = PagedLog::open(&js, 3).await.expect("new leader's log");
    assert!(
        !new.already_paged("oncall", "portal@1000", 1),
        "nothing before load"
    );
    assert_eq!(new.load().await.expect("load"), 2);
    for seq in [1, 2, 4] {
        assert!(new.already_paged("oncall", "portal@1000", seq), "seq {seq}");
    }
    assert!(!new.already_paged("oncall", "portal@1000", 5));
    assert!(!new.already_paged("chat", "portal@1000", 1), "per receiver");
    assert!(new.already_paged("chat", "fw@2000", 7));
}
