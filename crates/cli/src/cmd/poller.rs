//! `faultline poller --config poller.toml`: a poller-only process for one zone. It runs the
//! collector's pollers, probes and trap receiver for the devices and services whose topology
//! `zone:` is its `[cluster] zone`, and publishes their observation batches to JetStream
//! (`faultline.obs.<zone>`) instead of feeding an engine; while NATS is unreachable they wait in
//! a bounded disk buffer (`[cluster] buffer_dir`, `buffer_max_batches`). It publishes a heartbeat
//! every `--heartbeat` (5 s) so the correlator can tell it alive when thinning holds everything
//! back, and serves its publisher's counts on `/metrics` (`faultline_poller_*{zone}`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use faultline_cluster::{BufferBound, DiskBuffer, Publisher, ZoneName, connect, jetstream};
use faultline_collector::config::Config;
use faultline_collector::{Collector, PollerCounts, PollerStatsSource, Shape, StartOptions};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Batches between the pollers and the publisher (as the collector's own observation queue:
/// one poll round of 1024 devices).
const SINK_QUEUE: usize = 1_024;

/// How long the publisher may take, after the pollers stopped, to send what it holds before the
/// rest is left in the disk buffer for the next start.
const PUBLISH_DEADLINE: Duration = Duration::from_secs(5);

#[derive(clap::Args)]
pub struct Args {
    /// Poller configuration: a faultline.toml with `[cluster] nats = [...]` and `zone = "..."`.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Override `[api] listen` (the poller's /metrics and status; e.g. 127.0.0.1:0).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Allow a non-loopback listen address without `[api.auth]` (see `faultline run`).
    #[arg(long)]
    pub insecure_listen: bool,
    /// How often the poller publishes a heartbeat (`5s`, `1s`): the correlator judges its zone
    /// `unknown` once none came for `[engine] poller_stale_after_ms` (default three of these).
    #[arg(long, default_value = "5s")]
    pub heartbeat: humantime::Duration,
}

pub fn run(a: Args) -> ExitCode {
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
    match rt.block_on(run_async(a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run_async(a: Args) -> Result<(), String> {
    let mut cfg = Config::load(&a.config).map_err(|e| e.to_string())?;
    if let Some(l) = a.listen {
        cfg.api.listen = l;
    }
    cfg.api.insecure_listen = a.insecure_listen;
    let cluster = cfg.cluster.clone().ok_or_else(|| {
        format!(
            "{}: a poller needs [cluster] nats = [...] and zone = \"...\"",
            a.config.display()
        )
    })?;
    let zone = cluster
        .zone
        .clone()
        .ok_or_else(|| format!("{}: [cluster] zone is not set", a.config.display()))?;
    let zone = ZoneName::try_from(zone).map_err(|e| format!("[cluster] {e}"))?;
    let name = cluster.poller.clone().unwrap_or_else(|| zone.to_string());
    let buffer_dir = cluster
        .buffer_dir
        .clone()
        .unwrap_or_else(|| cfg.store.path.with_extension("buffer"));
    let bound = BufferBound(cluster.buffer_max_batches.get() as usize);
    let buffer = DiskBuffer::open(&buffer_dir, bound).map_err(|e| e.to_string())?;
    let options = super::cluster::nats_options(&cluster);
    let client = connect(&options).await.map_err(|e| e.to_string())?;
    let publisher = Publisher::new(
        jetstream(client),
        zone.clone(),
        name.clone(),
        buffer,
        options.replicas,
    )
    .with_heartbeat(a.heartbeat.into());
    let stats = publisher.stats();
    let stats: PollerStatsSource = Arc::new(move || {
        let s = stats.snapshot();
        PollerCounts {
            batches_published: s.published_batches,
            observations_published: s.published_observations,
            heartbeats: s.heartbeats,
            publish_errors: s.publish_errors,
            buffered_batches: s.buffered_now,
            buffered_bytes: s.buffered_bytes,
            dropped: s.dropped,
        }
    });
    let (sink, batches) = mpsc::channel(SINK_QUEUE);
    let publishing = CancellationToken::new();
    let publisher = tokio::spawn(publisher.run(batches, publishing.clone()));
    let shutdown = CancellationToken::new();
    let shape = Shape::Poller {
        zone: zone.to_string(),
        sink,
        stats,
    };
    let options = StartOptions {
        shape,
        ..StartOptions::default()
    };
    let collector = Collector::start(cfg, options, shutdown.clone())
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "faultline poller {name} for zone {zone}: publishing to faultline.obs.{zone}; \
         /metrics on http://{}",
        collector.api_addr()
    );
    tokio::spawn(super::memory::trim_periodically(shutdown.clone()));
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.cancel();
    });
    collector.wait().await;
    // The pollers are gone, so the publisher's queue ends; give it a moment to send the rest.
    let stop = publishing.clone();
    tokio::spawn(async move {
        tokio::time::sleep(PUBLISH_DEADLINE).await;
        stop.cancel();
    });
    let _ = publisher.await;
    Ok(())
}
