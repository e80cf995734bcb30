//! `faultline test-page RECEIVER`: send a test event (trigger, then resolve) to one configured
//! receiver and report its answers. Bypasses the outbox and needs no store, so it can run next
//! to a live collector.

use std::path::PathBuf;
use std::process::ExitCode;

use faultline_notify::{HttpOptions, PagerFileConfig};

#[derive(clap::Args)]
pub struct Args {
    /// Receiver name from `[[notify.receivers]]`
    pub receiver: String,
    /// Configuration file with the `[notify]` section
    #[arg(long, default_value = "faultline.toml")]
    pub config: PathBuf,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faultline test-page: cannot start runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = match PagerFileConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("faultline test-page: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match rt.block_on(faultline_notify::test_page(
        cfg.notify,
        HttpOptions::default(),
        &args.receiver,
    )) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("faultline test-page: {e}");
            return ExitCode::from(1);
        }
    };
    let ok =
        (200..300).contains(&report.trigger.status) && (200..300).contains(&report.resolve.status);
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("faultline test-page: {e}"),
        }
    } else {
        println!(
            "receiver {} (dedup key {})",
            report.receiver, report.dedup_key
        );
        println!(
            "  trigger: HTTP {} {}",
            report.trigger.status,
            report.trigger.body.trim()
        );
        println!(
            "  resolve: HTTP {} {}",
            report.resolve.status,
            report.resolve.body.trim()
        );
        println!(
            "{}",
            if ok {
                "ok: the receiver accepted both events"
            } else {
                "FAILED: the receiver refused"
            }
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
