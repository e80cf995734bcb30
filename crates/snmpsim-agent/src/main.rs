//! `faultline-agent-sim`: serve a simulated SNMP v1/v2c agent on UDP until killed.
//!
//! Usage: faultline-agent-sim LISTEN_ADDR [--interfaces N | --snmprec FILE] [--name SYSNAME]

use std::process::ExitCode;

use faultline_agent_sim::{SimAgent, Table};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(listen) = args.first().cloned() else {
        eprintln!(
            "usage: faultline-agent-sim LISTEN_ADDR [--interfaces N | --snmprec FILE] [--name SYSNAME]"
        );
        return ExitCode::from(2);
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let name = flag("--name").unwrap_or_else(|| "sim".into());
    let table = match (flag("--snmprec"), flag("--interfaces")) {
        (Some(file), _) => match std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|t| Table::from_snmprec(&t).map_err(|e| e.to_string()))
        {
            Ok(t) => t,
            Err(e) => {
                eprintln!("faultline-agent-sim: {file}: {e}");
                return ExitCode::from(1);
            }
        },
        (None, n) => Table::synthetic(&name, n.and_then(|n| n.parse().ok()).unwrap_or(4)),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faultline-agent-sim: runtime: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(async {
        match SimAgent::start(&listen, table).await {
            Ok(agent) => {
                println!("listening on {}", agent.addr());
                let _ = tokio::signal::ctrl_c().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("faultline-agent-sim: bind {listen}: {e}");
                ExitCode::from(1)
            }
        }
    })
}
