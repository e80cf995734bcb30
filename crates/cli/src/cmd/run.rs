//! `faultline run`: the collector. With `lab = true` in the configuration, and always without
//! `--config` (the built-in demo on the embedded incident topology), it starts the demo lab
//! first and hands it to the collector: the lab's simulated agents and portal stand in for the
//! devices and services, and its `/api/lab` routes join the collector's API.
//!
//! SIGINT/SIGTERM stop gracefully. SIGHUP reloads the configuration and topology: everything the
//! new configuration needs is constructed first ([`Collector::prepare`]: receivers and their
//! secrets, credential sets, profiles, topology, the store's location) while the running
//! collector keeps going; any problem is logged and the old configuration kept. Only then does
//! the collector restart in-process on the same store (should the new one fail to start, the
//! previous configuration is started again). A lab on an unchanged topology is reused. State comes back from the journal, open
//! incidents keep their ids, and nothing already enqueued is paged again.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use faultline_collector::config::Config;
use faultline_collector::{Collector, CollectorError, Prepared, Shape, StartOptions};
use faultline_lab::Lab;
use faultline_model::Topology;
use faultline_store::StoreError;
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::memory::{give_back_freed_memory, trim_periodically};

/// The shipped incident topology, embedded so `faultline run` works from any directory.
const DEMO_TOPOLOGY: &str = include_str!("../../../../topology/contractor-portal.yaml");

/// Signals queued for the run loop; they come one at a time, by hand.
const SIGNAL_QUEUE: usize = 4;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Collector configuration (faultline.toml). Without it, runs the built-in demo lab on the
    /// shipped contractor-portal topology: simulated devices and portal on loopback.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Override `[api] listen` (e.g. 127.0.0.1:0 for a free port).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Allow a non-loopback listen address without `[api.auth]` (anyone who reaches it can read
    /// and act). Without this flag such a start (and `--check`) is refused.
    #[arg(long)]
    pub insecure_listen: bool,
    /// Validate the configuration and its topology (secrets from the environment included),
    /// print a summary and exit: 0 valid, 1 not.
    #[arg(long)]
    pub check: bool,
}

pub fn run(a: RunArgs) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run_async(a)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(1)
        }
    }
}

/// What a run works from.
struct Setup {
    cfg: Config,
    /// The embedded demo topology; `None`: the configuration's file.
    topology: Option<Topology>,
    /// The demo's store lives here, deleted at exit.
    demo_dir: Option<TempDir>,
}

async fn run_async(a: RunArgs) -> ExitCode {
    let Setup {
        mut cfg,
        topology,
        demo_dir,
    } = match setup(&a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(l) = a.listen {
        cfg.api.listen = l;
    }
    cfg.api.insecure_listen = a.insecure_listen;
    if a.check {
        return check(cfg, topology).await;
    }
    let demo = topology.is_some();
    let (sig_tx, mut sig_rx) = mpsc::channel::<Sig>(SIGNAL_QUEUE);
    tokio::spawn(signals(sig_tx));
    let mut labs = Labs::default();
    let mut running = match Running::start(&cfg, topology.clone(), &mut labs).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    banner(running.api_addr, cfg.api.tls.is_some(), demo);
    let stop_trimming = CancellationToken::new();
    tokio::spawn(trim_periodically(stop_trimming.clone()));
    while let Some(Sig::Reload) = sig_rx.recv().await {
        // Build everything the new configuration needs while the running collector keeps
        // going: a broken file must not take monitoring down at 3 a.m.
        let (new_cfg, prepared) = match reload_candidate(&a, &cfg, &topology, &mut labs).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(
                    "SIGHUP: not reloading; still running the previous configuration. {e}"
                );
                continue;
            }
        };
        tracing::warn!("SIGHUP: new configuration built; reloading");
        running.stop().await;
        give_back_freed_memory();
        running = match Running::from_prepared(prepared, &mut labs).await {
            Ok(r) => {
                cfg = new_cfg;
                r
            }
            Err(e) => {
                tracing::error!(
                    "SIGHUP: the new configuration did not start ({e}); restarting with the previous one"
                );
                match Running::start(&cfg, topology.clone(), &mut labs).await {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("error: the previous configuration did not start again: {e}");
                        return ExitCode::from(1);
                    }
                }
            }
        };
        // Again once the new run is up: its restore (a journal replay) frees what it read.
        give_back_freed_memory();
    }
    eprintln!("stopping ...");
    stop_trimming.cancel();
    running.stop().await;
    drop(demo_dir);
    ExitCode::SUCCESS
}

/// The configuration file, or the demo: embedded topology, fast timers, a temporary store.
fn setup(a: &RunArgs) -> Result<Setup, String> {
    if let Some(path) = &a.config {
        return Ok(Setup {
            cfg: Config::load(path).map_err(|e| e.to_string())?,
            topology: None,
            demo_dir: None,
        });
    }
    let topology = Topology::from_yaml_str(DEMO_TOPOLOGY, "contractor-portal.yaml")
        .map_err(|e| format!("embedded topology: {e}"))?;
    let dir = tempfile::tempdir()
        .map_err(|e| format!("cannot create a temporary directory for the demo store: {e}"))?;
    let cfg = Config::demo(
        PathBuf::from("contractor-portal.yaml"),
        dir.path().join("demo.redb"),
    );
    Ok(Setup {
        cfg,
        topology: Some(topology),
        demo_dir: Some(dir),
    })
}

/// `--check`: the same construction as `run` ([`Collector::prepare`]: receivers and their
/// secrets, credential sets, profiles, topology, the store's location), without starting the
/// lab or anything else, and without creating a file. Every problem is listed.
async fn check(cfg: Config, topology: Option<Topology>) -> ExitCode {
    let options = StartOptions {
        topology,
        ..StartOptions::default()
    };
    let prepared = match Collector::prepare(cfg, options).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let s = prepared.summary();
    println!(
        "configuration ok: topology {} ({} devices, {} services; {} polled over SNMP, {} probed)",
        s.topology, s.devices, s.services, s.polled, s.probed
    );
    println!("  credential sets: {}", s.credential_sets.join(", "));
    println!("  receivers: {}", s.receivers.join(", "));
    println!("  store: {}", s.store.display());
    ExitCode::SUCCESS
}

/// The demo lab, kept across reloads: a reload on the same topology reuses the running lab
/// (its simulated devices keep their injected failures) instead of starting a second one.
#[derive(Default)]
struct Labs {
    running: Option<Lab>,
}

impl Labs {
    /// The running lab if it simulates `topology`, else a new one (kept only once a
    /// collector started on it: [`Labs::keep`]).
    async fn for_topology(&self, topology: &Topology) -> Result<Lab, String> {
        if let Some(lab) = &self.running
            && same_topology(lab.topology(), topology)
        {
            return Ok(lab.clone());
        }
        Lab::start(topology.clone())
            .await
            .map_err(|e| format!("demo lab: {e}"))
    }

    fn keep(&mut self, lab: Option<Lab>) {
        self.running = lab;
    }
}

fn same_topology(a: &Topology, b: &Topology) -> bool {
    match (serde_json::to_value(a), serde_json::to_value(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A configuration constructed for `run`: the collector prepared, and the lab it runs on.
struct Candidate {
    prepared: Prepared,
    lab: Option<Lab>,
    /// A correlator's feed from the observation stream (`[cluster]`), started with the collector.
    feed: Option<super::cluster::Feed>,
}

/// Construct the collector for `cfg`. With `lab = true` the demo lab stands in for every device
/// and service, and its routes join the API; without, the `/api/lab` routes still answer, with
/// 404 "not running the demo lab". A topology that does not load is reported by the
/// construction, with every other problem.
async fn prepare(
    cfg: &Config,
    topology: Option<Topology>,
    labs: &Labs,
) -> Result<Candidate, String> {
    let topology = match (cfg.lab, topology) {
        (true, None) => Topology::load(&cfg.topology).ok(),
        (_, t) => t,
    };
    let lab = match (&topology, cfg.lab) {
        (Some(t), true) => Some(labs.for_topology(t).await?),
        _ => None,
    };
    let (feed, shape) = match &cfg.cluster {
        None => (None, Shape::Single),
        Some(c) if c.zone.is_some() => {
            return Err(
                "[cluster] zone is set: this is a poller's configuration (`faultline poller`)"
                    .into(),
            );
        }
        Some(c) => {
            let (feed, receiver, leadership) = super::cluster::feed(c, &cfg.store.path)?;
            let shape = Shape::Correlator {
                feed: receiver,
                leadership: Some(leadership),
            };
            (Some(feed), shape)
        }
    };
    let options = StartOptions {
        topology,
        overrides: lab
            .clone()
            .map(|l| Arc::new(l) as Arc<dyn faultline_collector::TargetOverrides>),
        routes: Some(faultline_lab::api::routes(lab.clone())),
        shape,
    };
    let prepared = Collector::prepare(cfg.clone(), options)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Candidate {
        prepared,
        lab,
        feed,
    })
}

/// A running collector and how to stop it.
struct Running {
    api_addr: std::net::SocketAddr,
    shutdown: CancellationToken,
    waiter: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn start(
        cfg: &Config,
        topology: Option<Topology>,
        labs: &mut Labs,
    ) -> Result<Running, String> {
        let candidate = prepare(cfg, topology, labs).await?;
        Running::from_prepared(candidate, labs).await
    }

    async fn from_prepared(c: Candidate, labs: &mut Labs) -> Result<Running, String> {
        let shutdown = CancellationToken::new();
        let collector = c
            .prepared
            .start(shutdown.clone())
            .await
            .map_err(|e| with_hint(&e))?;
        labs.keep(c.lab);
        if let Some(feed) = c.feed {
            feed.start(shutdown.clone());
        }
        Ok(Running {
            api_addr: collector.api_addr(),
            shutdown,
            waiter: tokio::spawn(collector.wait()),
        })
    }

    async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.waiter.await;
    }
}

/// A start error, with what to do about a damaged store.
fn with_hint(e: &CollectorError) -> String {
    let CollectorError::Store(store) = e else {
        return e.to_string();
    };
    let path = match store {
        StoreError::Corrupt { path, .. } | StoreError::EmptyFile { path } => path,
        _ => return e.to_string(),
    };
    let target = super::store::salvage_target(path);
    format!(
        "{e}\n  to see what is lost: faultline store inspect {p}\n  \
         to keep what is readable: faultline store salvage {p} (writes {t}), then point \
         [store] path at {t}",
        p = path.display(),
        t = target.display()
    )
}

/// The configuration file again (the API's listen address kept), constructed with its topology; the
/// demo reloads as it is.
async fn reload_candidate(
    a: &RunArgs,
    current: &Config,
    demo_topology: &Option<Topology>,
    labs: &mut Labs,
) -> Result<(Config, Candidate), String> {
    let cfg = match &a.config {
        Some(path) => {
            let mut cfg = Config::load(path).map_err(|e| e.to_string())?;
            // The listener stays where it is (`--listen` included); the rest of [api] reloads.
            cfg.api.listen = current.api.listen;
            cfg.api.insecure_listen = current.api.insecure_listen;
            cfg
        }
        None => current.clone(),
    };
    let candidate = prepare(&cfg, demo_topology.clone(), labs).await?;
    Ok((cfg, candidate))
}

fn banner(api_addr: std::net::SocketAddr, tls: bool, demo: bool) {
    let api = format!("{}://{api_addr}", if tls { "https" } else { "http" });
    if demo {
        println!("faultline demo lab: the contractor-portal topology, simulated on loopback.");
        println!("API and /metrics on {api}. In another terminal, try:");
        let flag = if api_addr.port() == 9180 && !tls {
            String::new()
        } else {
            format!(" --api {api}")
        };
        println!("  faultline status{flag}");
        println!(
            "  faultline lab fail fw-a{flag}     # the active firewall dies; the pair fails over to fw-b ..."
        );
        println!(
            "  faultline incidents{flag}         # ... yet the portal answers 404: one critical incident"
        );
        println!("  faultline why portal{flag}");
        println!(
            "  faultline lab fix{flag}           # copy the NAT rule to fw-b: the portal recovers"
        );
        println!(
            "  faultline lab heal fw-a{flag}     # fw-a returns as standby; the incident resolves"
        );
        println!("Ctrl-C stops the demo.");
    } else {
        println!("faultline collector running; API and /metrics on {api}");
    }
}

enum Sig {
    Stop,
    Reload,
}

/// SIGINT/SIGTERM → [`Sig::Stop`] (then the task ends), SIGHUP → [`Sig::Reload`].
async fn signals(tx: mpsc::Sender<Sig>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(Sig::Stop).await;
        return;
    };
    loop {
        let sig = tokio::select! {
            _ = tokio::signal::ctrl_c() => Sig::Stop,
            _ = term.recv() => Sig::Stop,
            _ = hup.recv() => Sig::Reload,
        };
        let stop = matches!(sig, Sig::Stop);
        if tx.send(sig).await.is_err() || stop {
            return;
        }
    }
}
