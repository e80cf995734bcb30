//! `faultline discover`: a topology from the network's LLDP/CDP neighbour tables.

use std::path::PathBuf;
use std::process::ExitCode;

use faultline_discover::Discovered;
use faultline_discover::render::{render_merged, render_new};
use faultline_model::Topology;
use serde_json::json;

use super::walk_args::{SECRETS_HELP, SnmpArgs, run_walk};

/// Devices polled at most by default: a campus, not a carrier.
const DEFAULT_MAX_DEVICES: usize = 500;

#[derive(clap::Args)]
#[command(after_help = SECRETS_HELP)]
pub struct Args {
    /// Seed agents, HOST or HOST:PORT (default port --port).
    #[arg(required = true)]
    pub seeds: Vec<String>,
    #[command(flatten)]
    pub snmp: SnmpArgs,
    /// Levels of neighbours to follow past the seeds.
    #[arg(long, default_value_t = 3)]
    pub depth: u32,
    /// Devices to poll at most.
    #[arg(long, default_value_t = DEFAULT_MAX_DEVICES)]
    pub max_devices: usize,
    /// Write the topology here instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keep this topology's devices, links, groups and services; add and flag the rest.
    #[arg(long, value_name = "EXISTING")]
    pub merge: Option<PathBuf>,
    /// Topology name (without --merge).
    #[arg(long, default_value = "discovered")]
    pub name: String,
    /// Print the walk (devices, links with where each name came from, unreachable) as JSON
    /// instead of the topology (which still goes to -o FILE when given).
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args) -> ExitCode {
    match execute(&a) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("faultline discover: {msg}");
            ExitCode::from(1)
        }
    }
}

fn execute(a: &Args) -> Result<ExitCode, String> {
    let existing = match &a.merge {
        Some(p) => Some(Topology::load(p).map_err(|e| e.to_string())?),
        None => None,
    };
    let opts = a.snmp.walk_options(&a.seeds, a.depth, a.max_devices)?;
    let discovery = run_walk(&opts)?;
    let d = Discovered::new(discovery, existing.as_ref());
    let header = format!(
        "discovered by `faultline discover` from {} at {} (LLDP-MIB, CISCO-CDP-MIB)",
        a.seeds.join(" "),
        faultline_observe::time::format_utc(faultline_observe::time::now_ms())
    );
    let text = match &existing {
        Some(t) => render_merged(&d, t, &header),
        None => render_new(&d, &a.name, &header),
    };
    // What we write must load: a failure here is a bug, shown rather than written.
    let file = a
        .output
        .as_ref()
        .map_or("<discovered>".to_owned(), |p| p.display().to_string());
    Topology::from_yaml_str(&text, &file)
        .map_err(|e| format!("the generated topology does not validate (a bug):\n{e}\n{text}"))?;
    for (id, why) in d.unreachable() {
        eprintln!("  {id}: {why}");
    }
    for c in &d.cabling.conflicts {
        eprintln!("  not linked: {c}");
    }
    match &a.output {
        Some(p) => std::fs::write(p, &text).map_err(|e| format!("{}: {e}", p.display()))?,
        None if !a.json => print!("{text}"),
        None => {}
    }
    if a.json {
        let report = json!({
            "devices": d.discovery.nodes.iter().zip(&d.ids).map(|(n, id)| json!({
                "id": id, "node": n, "kind": n.kind().as_str(),
            })).collect::<Vec<_>>(),
            "links": d.cabling.links,
            "conflicts": d.cabling.conflicts,
            "unreachable": d.unreachable().into_iter()
                .map(|(id, why)| json!({"id": id, "reason": why})).collect::<Vec<_>>(),
        });
        println!("{report:#}");
    }
    let polled = d.discovery.nodes.iter().any(|n| n.polled());
    Ok(if polled {
        ExitCode::SUCCESS
    } else {
        eprintln!("faultline discover: no seed answered");
        ExitCode::from(1)
    })
}
