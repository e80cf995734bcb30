//! `faultline import`: a topology from another tool's inventory.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub source: Source,
}

#[derive(clap::Subcommand)]
pub enum Source {
    /// Nagios/Icinga 1 object configuration: a main nagios.cfg (cfg_file and cfg_dir followed)
    /// or object files. Hosts become devices, parents requirements (several: one `any`
    /// group), hostgroups tags; templates never become devices. Problems (hosts without
    /// address, unknown parents or templates) are listed as FILE:LINE on standard error.
    Nagios(NagiosArgs),
    /// A saved NetBox/Nautobot inventory: JSON pages of /api/dcim/devices/, /api/dcim/interfaces/
    /// and /api/dcim/cables/ (any order, any number of pages). Cables between two interfaces
    /// become links, virtual chassis `any` groups; the rest is reported. Writes JSON.
    Netbox(NetboxArgs),
}

#[derive(clap::Args)]
pub struct NetboxArgs {
    /// Saved API pages (JSON).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the topology here instead of standard output.
    #[arg(short = 'o', long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Topology name.
    #[arg(long, default_value = "netbox")]
    pub name: String,
}

#[derive(clap::Args)]
pub struct NagiosArgs {
    /// nagios.cfg or object files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the topology here instead of standard output.
    #[arg(short = 'o', long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Topology name.
    #[arg(long, default_value = "nagios")]
    pub name: String,
}

pub fn run(a: Args) -> ExitCode {
    match a.source {
        Source::Nagios(n) => match nagios(&n) {
            Ok(code) => code,
            Err(msg) => {
                eprintln!("faultline import nagios: {msg}");
                ExitCode::from(1)
            }
        },
        Source::Netbox(n) => match netbox(&n) {
            Ok(code) => code,
            Err(msg) => {
                eprintln!("faultline import netbox: {msg}");
                ExitCode::from(1)
            }
        },
    }
}

fn nagios(a: &NagiosArgs) -> Result<ExitCode, String> {
    let imported = faultline_import::nagios::import(&a.files)?;
    for p in &imported.problems {
        eprintln!("{p}");
    }
    if imported.hosts.is_empty() {
        return Err("no hosts found".into());
    }
    let files: Vec<String> = a.files.iter().map(|f| f.display().to_string()).collect();
    let shown = a
        .output
        .as_ref()
        .map_or("<imported>".to_owned(), |p| p.display().to_string());
    let header = format!("imported by `faultline import nagios {}`", files.join(" "));
    let text = imported.to_checked_yaml(&a.name, &header, &shown)?;
    match &a.output {
        Some(p) => std::fs::write(p, &text).map_err(|e| format!("{}: {e}", p.display()))?,
        None => print!("{text}"),
    }
    eprintln!(
        "imported {} hosts ({} problems)",
        imported.hosts.len(),
        imported.problems.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn netbox(a: &NetboxArgs) -> Result<ExitCode, String> {
    let imported = faultline_import::netbox::import(&a.files)?;
    for p in &imported.problems {
        eprintln!("{p}");
    }
    if imported.devices.is_empty() {
        return Err("no devices found".into());
    }
    let text = imported.to_json(&a.name);
    let shown = a
        .output
        .as_ref()
        .map_or("<imported>".to_owned(), |p| p.display().to_string());
    faultline_model::Topology::from_json_str(&text, &shown).map_err(|e| e.to_string())?;
    match &a.output {
        Some(p) => std::fs::write(p, &text).map_err(|e| format!("{}: {e}", p.display()))?,
        None => println!("{text}"),
    }
    eprintln!(
        "imported {} devices, {} links ({} problems)",
        imported.devices.len(),
        imported.links.len(),
        imported.problems.len()
    );
    Ok(ExitCode::SUCCESS)
}
