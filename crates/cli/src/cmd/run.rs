//! `faultline run`: the collector. With `lab = true` in the configuration, and always without
//! `--config` (the built-in demo on the embedded incident topology), it starts the demo lab
//! first and hands it to the collector: the lab's simulated agents and portal stand in for the
//! devices and services, and its `/api/lab` routes join the collector's API.
//!
//! SIGINT/SIGTERM stop gracefully. SIGHUP reloads the configuration and topology: the new files
//! are validated first (an invalid file is reported and the running collector kept), then the
//! collector restarts in-process on the same store. State comes back from the journal, open
//! incidents keep their ids, and nothing already enqueued is paged again.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use faultline_collector::config::Config;
use faultline_collector::{Collector, StartOptions};
use faultline_lab::Lab;
use faultline_model::Topology;
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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
        mut topology,
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
    if a.check {
        return check(&cfg, topology);
    }
    let demo = topology.is_some();
    let (sig_tx, mut sig_rx) = mpsc::channel::<Sig>(SIGNAL_QUEUE);
    tokio::spawn(signals(sig_tx));
    let mut first = true;
    loop {
        let shutdown = CancellationToken::new();
        let collector = match start(&cfg, topology.clone(), shutdown.clone()).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        };
        if first {
            banner(&collector, demo);
            first = false;
        }
        let waiter = tokio::spawn(collector.wait());
        let reload = next_signal(&a, &mut cfg, &mut sig_rx).await;
        eprintln!("stopping ...");
        shutdown.cancel();
        let _ = waiter.await;
        if !reload {
            break;
        }
        if a.config.is_some() {
            topology = None;
        }
    }
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

/// `--check`: the configuration parsed (secrets resolved); load the topology and summarise.
fn check(cfg: &Config, topology: Option<Topology>) -> ExitCode {
    let topo = match topology {
        Some(t) => t,
        None => match super::topo::load(&cfg.topology, false) {
            Ok(t) => t,
            Err(code) => return code,
        },
    };
    let names = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>().join(", ");
    println!(
        "configuration ok: topology {} ({} devices, {} services)",
        topo.name,
        topo.devices.len(),
        topo.services.len()
    );
    println!(
        "  credential sets: {}",
        names(&mut cfg.credentials.keys().cloned())
    );
    println!(
        "  receivers: {}",
        names(&mut cfg.notify.receivers.iter().map(|r| r.name.clone()))
    );
    println!("  store: {}", cfg.store.path.display());
    ExitCode::SUCCESS
}

/// Start the collector. With `lab = true` the demo lab starts first, on the same topology; it
/// stands in for every device and service, and its routes join the API. Without a lab, the
/// `/api/lab` routes still answer, with 404 "not running the demo lab".
async fn start(
    cfg: &Config,
    topology: Option<Topology>,
    shutdown: CancellationToken,
) -> Result<Collector, String> {
    let options = if cfg.lab {
        let topology = match topology {
            Some(t) => t,
            None => Topology::load(&cfg.topology).map_err(|e| format!("topology: {e}"))?,
        };
        let lab = Lab::start(topology.clone())
            .await
            .map_err(|e| format!("demo lab: {e}"))?;
        StartOptions {
            topology: Some(topology),
            overrides: Some(Arc::new(lab.clone())),
            routes: Some(faultline_lab::api::routes(Some(lab))),
        }
    } else {
        StartOptions {
            topology,
            overrides: None,
            routes: Some(faultline_lab::api::routes(None)),
        }
    };
    Collector::start(cfg.clone(), options, shutdown)
        .await
        .map_err(|e| e.to_string())
}

/// Wait for a signal: `false` to stop, `true` to reload with `cfg` replaced by the validated
/// new configuration (the API address is kept). An invalid one is reported and ignored.
async fn next_signal(a: &RunArgs, cfg: &mut Config, signals: &mut mpsc::Receiver<Sig>) -> bool {
    loop {
        match signals.recv().await {
            Some(Sig::Stop) | None => return false,
            Some(Sig::Reload) => {
                // Validate before touching the running collector: a broken file must not take
                // monitoring down at 3 a.m.
                match reload_candidate(a, cfg) {
                    Ok(c) => {
                        *cfg = Config {
                            api: cfg.api.clone(),
                            ..c
                        };
                        tracing::warn!("SIGHUP: configuration and topology valid; reloading");
                        return true;
                    }
                    Err(e) => {
                        eprintln!("SIGHUP: not reloading, the new configuration is invalid:\n{e}")
                    }
                }
            }
        }
    }
}

/// The configuration file again, checked with its topology; the demo reloads as it is.
fn reload_candidate(a: &RunArgs, current: &Config) -> Result<Config, String> {
    let Some(path) = &a.config else {
        return Ok(current.clone());
    };
    let cfg = Config::load(path).map_err(|e| e.to_string())?;
    Topology::load(&cfg.topology).map_err(|e| e.to_string())?;
    Ok(cfg)
}

fn banner(collector: &Collector, demo: bool) {
    let api = format!("http://{}", collector.api_addr());
    if demo {
        println!("faultline demo lab: the contractor-portal topology, simulated on loopback.");
        println!("API and /metrics on {api}. In another terminal, try:");
        let flag = if collector.api_addr().port() == 9180 {
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
