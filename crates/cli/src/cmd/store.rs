//! `faultline store inspect PATH` and `faultline store salvage PATH [--to NEW]`: what of a
//! damaged store file is still readable, and a copy of it into a new store. The collector
//! refuses to start on a damaged store and names these commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use faultline_store::Store;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// List what is readable and what is lost, table by table, without writing anything.
    /// Exit 0 when everything is readable, 1 when something is lost or the file cannot be read.
    Inspect {
        /// The store file (`[store] path`).
        path: PathBuf,
    },
    /// Copy every readable record into a new store file (never overwritten), then point
    /// `[store] path` at it. Exit 0 when the copy is complete, 1 when records were lost.
    Salvage {
        /// The damaged store file; only read.
        path: PathBuf,
        /// The new store file (default: PATH with `.salvaged` appended).
        #[arg(long)]
        to: Option<PathBuf>,
    },
}

/// The default salvage target of `path`: `path.salvaged`.
pub fn salvage_target(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".salvaged");
    PathBuf::from(name)
}

pub fn run(a: Args) -> ExitCode {
    let report = match &a.action {
        Action::Inspect { path } => Store::inspect(path),
        Action::Salvage { path, to } => {
            let to = to.clone().unwrap_or_else(|| salvage_target(path));
            Store::salvage(path, &to)
        }
    };
    match report {
        Ok(r) => {
            println!("{r}");
            if r.is_complete() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
