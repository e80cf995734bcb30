//! `faultline run`: the collector (the demo lab without `--config`). Its API clients live in
//! `cmd::client`, `replay` in `cmd::replay`.

use std::path::PathBuf;
use std::process::ExitCode;

use faultline_collector::Collector;
use faultline_collector::config::Config;
use faultline_model::Topology;
use tokio_util::sync::CancellationToken;

/// The shipped incident topology, embedded so `faultline run` works from any directory.
const DEMO_TOPOLOGY: &str = include_str!("../../../../topology/contractor-portal.yaml");

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            None
        }
    }
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Collector configuration (faultline.toml). Without it, runs the built-in demo lab on the
    /// shipped contractor-portal topology: simulated devices and portal on loopback.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Override [api] listen (e.g. 127.0.0.1:0 for a free port).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Validate the configuration and its topology (secrets from the environment included),
    /// print a summary and exit: 0 valid, 1 not.
    #[arg(long)]
    pub check: bool,
}

pub fn run(a: RunArgs) -> ExitCode {
    let Some(rt) = runtime() else {
        return ExitCode::from(1);
    };
    rt.block_on(run_async(a))
}

async fn run_async(a: RunArgs) -> ExitCode {
    let (mut cfg, topology, demo_dir) = match &a.config {
        Some(path) => match Config::load(path) {
            Ok(c) => (c, None, None),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        },
        None => {
            let topo = match Topology::from_yaml_str(DEMO_TOPOLOGY, "contractor-portal.yaml") {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: embedded topology: {e}");
                    return ExitCode::from(1);
                }
            };
            let dir = match tempfile::tempdir() {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("error: cannot create a temporary directory for the demo store: {e}");
                    return ExitCode::from(1);
                }
            };
            let cfg = Config::demo(
                PathBuf::from("contractor-portal.yaml"),
                dir.path().join("demo.redb"),
            );
            (cfg, Some(topo), Some(dir))
        }
    };
    if let Some(l) = a.listen {
        cfg.api.listen = l;
    }
    if a.check {
        let topo = match topology {
            Some(t) => t,
            None => match super::topo::load(&cfg.topology, false) {
                Ok(t) => t,
                Err(code) => return code,
            },
        };
        println!(
            "configuration ok: topology {} ({} devices, {} services)",
            topo.name,
            topo.devices.len(),
            topo.services.len()
        );
        println!(
            "  credential sets: {}",
            cfg.credentials
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "  receivers: {}",
            cfg.notify
                .receivers
                .iter()
                .map(|r| r.name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!("  store: {}", cfg.store.path.display());
        return ExitCode::SUCCESS;
    }
    let demo = topology.is_some();
    let (sig_tx, mut sig_rx) = tokio::sync::mpsc::channel::<Sig>(4);
    tokio::spawn(signals(sig_tx));
    let mut topology = topology;
    let mut first = true;
    loop {
        let shutdown = CancellationToken::new();
        let collector =
            match Collector::start(cfg.clone(), topology.clone(), shutdown.clone()).await {
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
        let reload = loop {
            match sig_rx.recv().await {
                Some(Sig::Stop) | None => break false,
                Some(Sig::Reload) => {
                    // Validate before touching the running collector: a broken file must not
                    // take monitoring down at 3 a.m.
                    let candidate = match &a.config {
                        Some(path) => Config::load(path).map_err(|e| e.to_string()).and_then(|c| {
                            Topology::load(&c.topology)
                                .map(|_| c)
                                .map_err(|e| e.to_string())
                        }),
                        None => Ok(cfg.clone()),
                    };
                    match candidate {
                        Ok(c) => {
                            cfg = Config {
                                api: cfg.api.clone(),
                                ..c
                            };
                            tracing::warn!("SIGHUP: configuration and topology valid; reloading");
                            break true;
                        }
                        Err(e) => eprintln!(
                            "SIGHUP: not reloading, the new configuration is invalid:\n{e}"
                        ),
                    }
                }
            }
        };
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

/// SIGINT/SIGTERM stop gracefully. SIGHUP reloads the configuration and topology: the new files
/// are validated first (an invalid file is reported and the running collector kept), then the
/// collector restarts in-process on the same store. State comes back from the journal, open
/// incidents keep their ids, and nothing already enqueued is paged again.
async fn signals(tx: tokio::sync::mpsc::Sender<Sig>) {
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
