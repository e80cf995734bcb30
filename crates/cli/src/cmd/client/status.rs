//! `faultline status`: services, component counts, open incidents, pager and store health.

use std::process::ExitCode;

use faultline_api::{Method, StatusResponse, path};

use super::ApiArgs;

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub api: ApiArgs,
}

pub fn status(a: StatusArgs) -> ExitCode {
    super::with_api(&a.api, Method::Get, &path::v1(path::STATUS), show)
}

fn show(v: &StatusResponse) {
    println!("{} (collector up {} s)", v.topology, v.uptime_s);
    println!(
        "  {:<14} {:<9} {:<9} {:<9}",
        "SERVICE", "STATE", "EXPECTED", "OBSERVED"
    );
    for x in &v.services {
        println!(
            "  {:<14} {:<9} {:<9} {:<9}",
            x.id, x.state, x.expected, x.observed
        );
    }
    for (kind, states) in &v.counts {
        let list: Vec<String> = states.iter().map(|(k, n)| format!("{n} {k}")).collect();
        println!("  {kind}s: {}", list.join(", "));
    }
    println!("  open incidents: {}", v.incidents.len());
    for i in &v.incidents {
        println!(
            "    {} {} — {}",
            i.severity.as_str().to_uppercase(),
            i.id,
            i.title
        );
    }
    println!(
        "  pager: {} delivered, {} pending, {} dead-lettered",
        v.notify.delivered, v.notify.pending, v.dead_letters
    );
    for (device, problem) in &v.problems {
        println!("  {device}: {problem}");
    }
    if !v.store.state.is_empty() {
        println!("  store: {}", v.store.state);
    }
    if v.store.journal_pending > 0 {
        println!(
            "    {} observations wait for the journal; the engine is paused until it can be written",
            v.store.journal_pending
        );
    }
}
