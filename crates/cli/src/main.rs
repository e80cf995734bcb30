//! `faultline`: the command-line entry point.
//!
//! Each subcommand lives in its own module under `cmd/` with a clap `Args` struct and a `run`
//! function returning the process exit code; this file only dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

#[derive(Parser)]
#[command(name = "faultline", version, about = "Infrastructure health correlator: maps device alarms onto the services behind them")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // Subcommands are added here, one line each, pointing at cmd::<name>::Args.
}

fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match cli.command {}
}

/// Logs go to stderr so that `--json` output on stdout stays machine-readable.
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("FAULTLINE_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
