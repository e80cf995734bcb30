//! `cluster-throughput`: observations per second end to end, and the latency from poll time to
//! engine ingest, through a JetStream cluster (bench/cluster-throughput.sh starts it).
//!
//! `PUBLISHERS` pollers (each a real [`Publisher`] on its own connection, zone `z<i>`, disk
//! buffer included) publish `BATCHES` batches of `BATCH` observations each (one reachability
//! result per device of their zone, stamped with the instant the batch is made: the poll time).
//! One consumer (the correlator's durable pull consumer) takes them in stream order and feeds
//! the engine as the correlator does (thin, ingest, advance), acknowledging each batch after.
//! `RATE` (observations/s over all publishers, 0 = as fast as they go) paces the publishers.
//! The journal append of a real correlator is not included (see the journal benchmarks).
//!
//! Environment: `NATS` (comma-separated URLs, required), `PUBLISHERS` (10), `BATCH` (1000),
//! `BATCHES` (200 per publisher), `RATE` (0), `REPLICAS` (3).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline_cluster::{
    BufferBound, Consumer, DiskBuffer, NatsOptions, Publisher, ZoneName, connect, jetstream,
};
use faultline_engine::{Engine, EngineConfig};
use faultline_graph::DependencyGraph;
use faultline_model::Topology;
use faultline_observe::time::now_ms;
use faultline_observe::{Observation, Signal, Subject};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The benchmark's knobs.
struct Knobs {
    nats: Vec<String>,
    publishers: usize,
    batch: usize,
    batches: usize,
    rate: u64,
    replicas: usize,
}

fn env_num(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Ok(v) => v.parse().map_err(|e| format!("{name}={v}: {e}")),
        Err(_) => Ok(default),
    }
}

impl Knobs {
    fn from_env() -> Result<Knobs, String> {
        let nats: Vec<String> = std::env::var("NATS")
            .map_err(|_| "NATS (comma-separated server URLs) is not set".to_string())?
            .split(',')
            .map(str::to_owned)
            .collect();
        Ok(Knobs {
            nats,
            publishers: env_num("PUBLISHERS", 10)?.max(1) as usize,
            batch: env_num("BATCH", 1_000)?.max(1) as usize,
            batches: env_num("BATCHES", 200)?.max(1) as usize,
            rate: env_num("RATE", 0)?,
            replicas: env_num("REPLICAS", 3)?.clamp(1, 5) as usize,
        })
    }
}

fn device(zone: usize, i: usize) -> String {
    format!("z{zone}-d{i}")
}

/// One zone of `batch` devices per publisher.
fn topology(k: &Knobs) -> Result<Topology, String> {
    let mut yaml = String::from("name: bench\ndevices:\n");
    for z in 0..k.publishers {
        for i in 0..k.batch {
            yaml.push_str(&format!(
                "  - {{id: {}, kind: server, zone: z{z}}}\n",
                device(z, i)
            ));
        }
    }
    Topology::from_yaml_str(&yaml, "bench.yaml").map_err(|e| e.to_string())
}

fn poll_round(zone: usize, size: usize) -> Vec<Observation> {
    let at = now_ms();
    (0..size)
        .map(|i| {
            Observation::new(
                at,
                Subject::device(device(zone, i)),
                Signal::Reachability {
                    ok: true,
                    rtt_ms: Some(0.4),
                    loss: 0.0,
                },
            )
        })
        .collect()
}

/// Start one publisher of zone `z<zone>` and its poll loop; returns when it handed over every
/// batch (the publisher keeps sending until `stop`).
async fn publish(k: Arc<Knobs>, zone: usize, stop: CancellationToken) -> Result<(), String> {
    let opts = NatsOptions {
        servers: k.nats.clone(),
        replicas: k.replicas,
    };
    let js = jetstream(connect(&opts).await.map_err(|e| e.to_string())?);
    let dir = std::env::temp_dir().join(format!("cluster-bench-{}-z{zone}", std::process::id()));
    let buffer = DiskBuffer::open(&dir, BufferBound(100_000)).map_err(|e| e.to_string())?;
    let name = ZoneName::try_from(format!("z{zone}"))?;
    let p = Publisher::new(js, name, format!("bench-z{zone}"), buffer, k.replicas);
    let (tx, rx) = mpsc::channel(4);
    let running = tokio::spawn(p.run(rx, stop));
    let every = (k.rate > 0)
        .then(|| Duration::from_secs_f64((k.batch * k.publishers) as f64 / k.rate as f64));
    let mut pace = every.map(tokio::time::interval);
    for _ in 0..k.batches {
        if let Some(p) = &mut pace {
            p.tick().await;
        }
        if tx.send(poll_round(zone, k.batch)).await.is_err() {
            return Err("publisher ended early".into());
        }
    }
    drop(tx);
    let _ = running.await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Percentile `q` (0..=1) of sorted `v`.
fn percentile(v: &[u64], q: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i.min(v.len() - 1)]
}

async fn run(k: Knobs) -> Result<(), String> {
    let k = Arc::new(k);
    let graph = Arc::new(DependencyGraph::new(topology(&k)?));
    let mut engine = Engine::new(graph, EngineConfig::default());
    let opts = NatsOptions {
        servers: k.nats.clone(),
        replicas: k.replicas,
    };
    let js = jetstream(connect(&opts).await.map_err(|e| e.to_string())?);
    let mut consumer = Consumer::bind(&js, k.replicas)
        .await
        .map_err(|e| e.to_string())?;
    let stop = CancellationToken::new();
    let started = Instant::now();
    let publishers: Vec<_> = (0..k.publishers)
        .map(|z| tokio::spawn(publish(k.clone(), z, stop.clone())))
        .collect();
    let total = k.publishers * k.batches;
    let mut latencies: Vec<u64> = Vec::with_capacity(total);
    let mut observations = 0usize;
    let mut held = 0usize;
    while latencies.len() < total {
        let d = match tokio::time::timeout(Duration::from_secs(60), consumer.next()).await {
            Ok(Some(Ok(d))) => d,
            Ok(Some(Err(e))) => return Err(format!("consumer: {e}")),
            Ok(None) => return Err("the subscription ended".into()),
            Err(_) => return Err(format!("stalled after {} batches", latencies.len())),
        };
        let batch = d.batch.observations.clone();
        let polled = batch.iter().map(|o| o.at).min().unwrap_or(0);
        let newest = batch.iter().map(|o| o.at).max().unwrap_or(0);
        observations += batch.len();
        let thinned = engine.thin(batch);
        held += thinned.held;
        engine.ingest(&thinned.kept);
        engine.advance(newest.max(engine.now()));
        latencies.push(now_ms().saturating_sub(polled));
        d.ack().await.map_err(|e| e.to_string())?;
    }
    let took = started.elapsed();
    stop.cancel();
    for p in publishers {
        p.await.map_err(|e| e.to_string())??;
    }
    latencies.sort_unstable();
    println!(
        "publishers {} batch {} observations {observations} in {:.2} s: {:.0} observations/s end to \
         end ({} held back by thinning); poll -> engine ingest latency p50 {} ms, p99 {} ms, max {} ms{}",
        k.publishers,
        k.batch,
        took.as_secs_f64(),
        observations as f64 / took.as_secs_f64(),
        held,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0),
        if k.rate > 0 {
            format!(" (paced at {} observations/s)", k.rate)
        } else {
            " (unpaced)".into()
        }
    );
    Ok(())
}

fn main() -> ExitCode {
    let knobs = match Knobs::from_env() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(knobs)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
