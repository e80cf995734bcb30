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
    /// A NetBox/Nautobot inventory, from its REST API (--url, token from NETBOX_TOKEN or
    /// --token-file) or saved JSON pages of /api/dcim/devices/, /api/dcim/interfaces/ and
    /// /api/dcim/cables/ (any order, any number of pages). Cables between two interfaces
    /// become links, virtual chassis `any` groups; the rest is reported. Writes JSON.
    Netbox(NetboxArgs),
}

#[derive(clap::Args)]
pub struct NetboxArgs {
    /// Saved API pages (JSON); not with --url.
    #[arg(required_unless_present = "url", conflicts_with = "url")]
    pub files: Vec<PathBuf>,
    /// Read the inventory from this NetBox or Nautobot server (`https://netbox.example.com`).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Environment variable holding the API token.
    #[arg(long, value_name = "VAR", default_value = "NETBOX_TOKEN")]
    pub token_env: String,
    /// File holding the API token (instead of --token-env).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Only devices (and their interfaces and cables) of this site slug; repeatable.
    #[arg(long, value_name = "SLUG")]
    pub site: Vec<String>,
    /// Only devices with this tag slug; repeatable.
    #[arg(long, value_name = "SLUG")]
    pub tag: Vec<String>,
    /// Only devices with this role slug; repeatable.
    #[arg(long, value_name = "SLUG")]
    pub role: Vec<String>,
    /// Objects per API page.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page_size: u32,
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

/// The inventory from the server at `url`, with a progress line per page on standard error.
fn fetch_netbox(a: &NetboxArgs, url: &str) -> Result<faultline_import::netbox::Import, String> {
    let token = match &a.token_file {
        Some(path) => faultline_secret::SecretRef::File(path.clone()),
        None => faultline_secret::SecretRef::Env(a.token_env.clone()),
    }
    .resolve()
    .map_err(|e| format!("API token: {e}"))?;
    let fetch = super::netbox_fetch::Fetch {
        url: url.to_owned(),
        token,
        page_size: a.page_size,
        sites: a.site.clone(),
        tags: a.tag.clone(),
        roles: a.role.clone(),
    };
    let pages = fetch.pages(&mut |endpoint, read, count| {
        eprintln!("  {endpoint}: {read} of {count}");
    })?;
    Ok(faultline_import::netbox::import_pages(&pages))
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
    let imported = match &a.url {
        Some(url) => fetch_netbox(a, url)?,
        None => faultline_import::netbox::import(&a.files)?,
    };
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
