//! `faultline outbox`: pending and dead-lettered page deliveries, read from the store file.
//!
//! Opens the store read-only, so it works while the collector runs (and writes) alongside.

use std::path::PathBuf;
use std::process::ExitCode;

use faultline_notify::{PagerFileConfig, Store};

#[derive(clap::Args)]
pub struct Args {
    /// Configuration file (its `[store] path` names the database)
    #[arg(long, default_value = "faultline.toml")]
    pub config: PathBuf,
    /// Print JSON ({"pending": [...], "dead_letters": [...]}) instead of tables
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> ExitCode {
    match list(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("faultline outbox: {e}");
            ExitCode::from(2)
        }
    }
}

fn list(args: &Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let cfg = PagerFileConfig::load(&args.config)?;
    // A relative path is relative to the working directory, as the collector opens it.
    let path = cfg.store.path.clone();
    let store = Store::open_read_only(&path)?;
    let pending = store.outbox()?;
    let dead = store.dead_letters()?;
    if args.json {
        let out = serde_json::json!({ "store": path, "pending": pending, "dead_letters": dead });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("store {}", path.display());
    println!("pending: {}", pending.len());
    if !pending.is_empty() {
        println!(
            "  {:>6}  {:<16} {:<28} {:<8} {:>6} {:>8}  LAST ERROR",
            "ID", "RECEIVER", "INCIDENT", "ACTION", "SEQ", "ATTEMPTS"
        );
        for e in &pending {
            println!(
                "  {:>6}  {:<16} {:<28} {:<8} {:>6} {:>8}  {}",
                e.id,
                e.receiver,
                e.transition.incident.id,
                action(e.transition.action),
                e.transition.seq,
                e.attempts,
                e.last_error.as_deref().unwrap_or("-")
            );
        }
    }
    println!("dead letters: {}", dead.len());
    if !dead.is_empty() {
        println!(
            "  {:>6}  {:<16} {:<28} {:<8} {:>6}  ANSWER",
            "ID", "RECEIVER", "INCIDENT", "ACTION", "STATUS"
        );
        for d in &dead {
            println!(
                "  {:>6}  {:<16} {:<28} {:<8} {:>6}  {}",
                d.entry.id,
                d.entry.receiver,
                d.entry.transition.incident.id,
                action(d.entry.transition.action),
                d.status.map_or("-".to_string(), |s| s.to_string()),
                d.answer.replace('\n', " ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn action(a: faultline_incident::TransitionAction) -> &'static str {
    faultline_notify::payload::action_str(a)
}
