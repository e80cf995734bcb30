//! `faultline drift`: the topology's declared cabling against what LLDP/CDP show now.

use std::path::PathBuf;
use std::process::ExitCode;

use faultline_discover::Discovered;
use faultline_discover::drift::compare;

use super::walk_args::{SECRETS_HELP, SnmpArgs, run_walk};

const EXIT_CODES: &str = "Exit codes: 0 no drift; 1 drift; 2 usage error, an invalid topology or \
    no device could be polled.";

#[derive(clap::Args)]
#[command(after_help = format!("{SECRETS_HELP}\n\n{EXIT_CODES}"))]
pub struct Args {
    /// Topology file (YAML or JSON); every device with an address is polled.
    pub topology: PathBuf,
    #[command(flatten)]
    pub snmp: SnmpArgs,
    /// Print the drift as JSON (docs/cli-json.md).
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args) -> ExitCode {
    match execute(&a) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("faultline drift: {msg}");
            ExitCode::from(2)
        }
    }
}

fn execute(a: &Args) -> Result<ExitCode, String> {
    let t = faultline_model::Topology::load(&a.topology).map_err(|e| e.to_string())?;
    let seeds: Vec<String> = t
        .devices
        .iter()
        .filter_map(|d| d.address.as_ref().map(ToString::to_string))
        .collect();
    if seeds.is_empty() {
        return Err("no device of the topology has an address".into());
    }
    let opts = a.snmp.walk_options(&seeds, 0, seeds.len())?;
    let discovery = run_walk(&opts)?;
    if !discovery.nodes.iter().any(|n| n.polled()) {
        return Err("no device answered".into());
    }
    let d = Discovered::new(discovery, Some(&t));
    for (id, why) in d.unreachable() {
        eprintln!("  {id}: {why}");
    }
    let report = compare(&t, &d);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        for m in &report.missing {
            println!("missing     {}  ({})", m.link, m.detail);
        }
        for u in &report.unexpected {
            println!("unexpected  {}  ({})", u.link, u.detail);
        }
        for m in &report.moved {
            println!(
                "moved       {}: {} is now cabled to {}, declared {}",
                m.link, m.end, m.seen, m.declared
            );
        }
        for u in &report.unverified {
            println!("unverified  {}  ({})", u.link, u.detail);
        }
        if !report.drifted() {
            println!(
                "no drift: {} declared links seen",
                t.links.len() - report.unverified.len()
            );
        }
    }
    Ok(if report.drifted() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
