//! `faultline replay JOURNAL --topology T`: re-run the engine over a recorded journal (a
//! collector store or JSON lines of observations), offline: what exactly stopped, and when.

use std::path::PathBuf;
use std::process::ExitCode;

use faultline_collector::config::Config;
use faultline_collector::wire::ToApi;
use faultline_engine::{Engine, EngineConfig, Output};
use faultline_graph::DependencyGraph;
use faultline_observe::time::format_local;

use super::client::print_incident;

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// Journal: a collector store (.redb) or JSON lines of observations.
    pub journal: PathBuf,
    /// Topology the journal was recorded against.
    #[arg(long)]
    pub topology: PathBuf,
    /// Collector configuration whose `[engine]` settings to use (defaults otherwise).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn replay(a: ReplayArgs) -> ExitCode {
    let topo = match super::topo::load(&a.topology, a.json) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let engine_cfg = match &a.config {
        Some(p) => match Config::load(p) {
            Ok(c) => c.engine,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        },
        None => EngineConfig::default(),
    };
    let is_store = a.journal.extension().is_some_and(|e| e == "redb");
    let obs = if is_store {
        faultline_store::Store::open_read_only(&a.journal)
            .and_then(|s| s.journal())
            .map(|j| j.into_iter().map(|(_, o)| o).collect::<Vec<_>>())
    } else {
        std::fs::File::open(&a.journal)
            .map_err(|source| faultline_store::StoreError::JournalIo {
                source_name: a.journal.display().to_string(),
                source,
            })
            .and_then(|f| {
                faultline_store::read_journal(
                    std::io::BufReader::new(f),
                    &a.journal.display().to_string(),
                )
            })
    };
    let obs = match obs {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let mut engine = Engine::new(std::sync::Arc::new(DependencyGraph::new(topo)), engine_cfg);
    let mut outs = engine.ingest(&obs);
    if let Some(last) = obs.last() {
        outs.extend(engine.advance(last.at));
    }
    let transitions: Vec<_> = outs
        .iter()
        .filter_map(|o| {
            if let Output::Transition(t) = o {
                Some(t)
            } else {
                None
            }
        })
        .collect();
    if a.json {
        let timeline: Vec<_> = engine.timeline().cloned().collect();
        println!(
            "{}",
            serde_json::json!({"observations": obs.len(), "transitions": transitions, "timeline": timeline,
                "open": engine.open_incidents()})
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "replayed {} observations: {} incident transitions",
        obs.len(),
        transitions.len()
    );
    println!("\ntimeline:");
    for e in engine.timeline() {
        println!("  {}  {:<24} {}", format_local(e.at), e.subject, e.text);
    }
    println!("\nincidents:");
    for t in &transitions {
        println!(
            "  {}  {:?} {} [{}] {}",
            format_local(t.at),
            t.action,
            t.incident.id,
            t.incident.kind.as_str(),
            t.incident.title
        );
    }
    for i in engine.open_incidents() {
        println!("\nstill open at the end of the journal:");
        print_incident(&i.to_api(), true);
    }
    ExitCode::SUCCESS
}
