//! `faultline traps`: listen for SNMP traps and informs and print them as they arrive.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use faultline_trap::{Secret, TrapConfig, TrapReceiver};

#[derive(clap::Args)]
pub struct Args {
    /// UDP address to listen on
    #[arg(long, default_value = "127.0.0.1:1162")]
    pub listen: SocketAddr,
    /// Accepted v1/v2c community (repeatable). Without any, every community is accepted.
    /// Prefer FAULTLINE_TRAP_COMMUNITY to keep it out of the process list.
    #[arg(
        long = "community",
        value_name = "C",
        env = "FAULTLINE_TRAP_COMMUNITY",
        hide_env_values = true
    )]
    pub communities: Vec<String>,
    /// Accepted source, as IP or IP=DEVICE_ID (repeatable). Without any, every source is
    /// accepted and named by its address.
    #[arg(long = "allow-source", value_name = "IP[=DEVICE]")]
    pub allow_source: Vec<String>,
    /// Print one JSON object per trap (and the final counters as JSON)
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faultline traps: cannot start runtime: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(run_async(args))
}

fn parse_sources(list: &[String]) -> Result<HashMap<IpAddr, String>, String> {
    let mut out = HashMap::new();
    for s in list {
        let (ip, id) = match s.split_once('=') {
            Some((ip, id)) => (ip, id.to_string()),
            None => (s.as_str(), s.clone()),
        };
        let ip: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| format!("--allow-source {s:?}: not an IP address"))?;
        out.insert(ip, id);
    }
    Ok(out)
}

async fn run_async(args: Args) -> ExitCode {
    let sources = match parse_sources(&args.allow_source) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("faultline traps: {e}");
            return ExitCode::from(2);
        }
    };
    let mut config = TrapConfig::new(args.listen);
    config.accept_unknown_sources = sources.is_empty();
    config.sources = sources;
    config.accept_any_community = args.communities.is_empty();
    config.communities = args.communities.into_iter().map(Secret::new).collect();
    let (receiver, mut events) = match TrapReceiver::bind(config).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("faultline traps: {e}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "listening for traps on {} (Ctrl-C to stop)",
        receiver.local_addr()
    );
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            e = events.recv() => {
                let Some(e) = e else { break };
                if args.json {
                    match serde_json::to_string(&e) {
                        Ok(line) => println!("{line}"),
                        Err(err) => eprintln!("cannot encode event: {err}"),
                    }
                } else {
                    let device = e.device_id.clone().unwrap_or_else(|| "?".into());
                    println!("{} {} {} {}{} trap {}", e.received_at, e.source, device, e.version,
                        if e.inform { " inform" } else { "" }, e.trap_oid);
                    for o in &e.observations {
                        match serde_json::to_string(o) {
                            Ok(s) => println!("    {s}"),
                            Err(err) => eprintln!("cannot encode observation: {err}"),
                        }
                    }
                }
            }
        }
    }
    let stats = receiver.stats();
    if args.json {
        println!("{}", serde_json::json!({ "stats": stats }));
    } else {
        eprintln!(
            "received {} decoded {} rejected_source {} rejected_auth {} malformed {} dropped_queue_full {}",
            stats.received,
            stats.decoded,
            stats.rejected_source,
            stats.rejected_auth,
            stats.malformed,
            stats.dropped_queue_full
        );
    }
    receiver.shutdown().await;
    ExitCode::SUCCESS
}
