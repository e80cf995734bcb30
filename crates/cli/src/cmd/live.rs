//! The collector's client commands: `status`, `incidents`, `why SERVICE` (live), `timeline`,
//! `lab`, and `replay` (offline post-mortem over a journal). `run` is in [`super::run`].
//!
//! Client commands talk to the collector's HTTP API (`--api`, env `FAULTLINE_API`, default
//! `http://127.0.0.1:9180`). Exit codes: 0 ok, 1 the collector answered with an error or the
//! input was invalid, 3 the collector could not be reached.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use faultline_collector::config::Config;
use faultline_collector::now_ms;
use faultline_engine::{Engine, EngineConfig, Output};
use faultline_graph::DependencyGraph;
use serde_json::Value;

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            None
        }
    }
}

// ---------------- client commands ----------------

#[derive(clap::Args, Clone)]
pub struct ApiArgs {
    /// Collector API base URL.
    #[arg(long, env = "FAULTLINE_API", default_value = "http://127.0.0.1:9180")]
    pub api: String,
    /// Machine-readable output (the API's JSON).
    #[arg(long)]
    pub json: bool,
}

enum ApiError {
    Unreachable(String),
    Answer(String),
}

fn call(api: &str, method: &str, path: &str) -> Result<Value, ApiError> {
    let Some(rt) = runtime() else {
        return Err(ApiError::Unreachable("no runtime".into()));
    };
    let url = format!("{}{path}", api.trim_end_matches('/'));
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        let req = if method == "POST" {
            client.post(&url)
        } else {
            client.get(&url)
        };
        let resp = req.send().await.map_err(|e| {
            ApiError::Unreachable(format!(
                "cannot reach the collector at {api}: {e} (is `faultline run` running? see --api)"
            ))
        })?;
        let ok = resp.status().is_success();
        let body: Value = resp
            .json()
            .await
            .map_err(|e| ApiError::Answer(format!("bad answer from {url}: {e}")))?;
        if ok {
            Ok(body)
        } else {
            Err(ApiError::Answer(
                body["error"].as_str().unwrap_or("error").to_string(),
            ))
        }
    })
}

fn with_api(a: &ApiArgs, method: &str, path: &str, text: impl FnOnce(&Value)) -> ExitCode {
    match call(&a.api, method, path) {
        Ok(v) => {
            if a.json {
                println!("{v}");
            } else {
                text(&v);
            }
            ExitCode::SUCCESS
        }
        Err(ApiError::Unreachable(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
        Err(ApiError::Answer(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Percent-encode an id for one URL path segment: link ids carry `/` (`ge-0/0/1`) and `:`.
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn print_incident(i: &Value, verbose: bool) {
    let sup = if i["suppressed"].as_bool() == Some(true) {
        " [maintenance: not paged]"
    } else {
        ""
    };
    println!(
        "{} {} {}{sup}",
        s(&i["severity"]).to_uppercase(),
        s(&i["id"]),
        s(&i["kind"])
    );
    println!("  {}", s(&i["title"]));
    if let Some(r) = i["root_causes"].as_array().filter(|r| !r.is_empty()) {
        println!(
            "  root cause: {}",
            r.iter().map(s).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(a) = i["affected_services"].as_array().filter(|a| !a.is_empty()) {
        let list: Vec<String> = a
            .iter()
            .map(|x| format!("{} ({})", s(&x["id"]), s(&x["state"])))
            .collect();
        println!("  affected: {}", list.join(", "));
    }
    if let Some(sus) = i["suspects"].as_array().filter(|a| !a.is_empty()) {
        println!("  suspects:");
        for x in sus.iter().take(if verbose { 20 } else { 3 }) {
            println!("    {:<28} {}", s(&x["component"]), s(&x["reason"]));
        }
    }
    if verbose && let Some(ev) = i["evidence"].as_array() {
        println!("  evidence:");
        for e in ev {
            println!(
                "    {}  {:<14} {}",
                clock(e["at"].as_u64().unwrap_or(0)),
                s(&e["subject"]),
                s(&e["text"])
            );
        }
    }
}

fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub api: ApiArgs,
}

pub fn status(a: StatusArgs) -> ExitCode {
    with_api(&a.api, "GET", "/api/status", |v| {
        println!("{} (collector up {} s)", s(&v["topology"]), v["uptime_s"]);
        println!(
            "  {:<14} {:<9} {:<9} {:<9}",
            "SERVICE", "STATE", "EXPECTED", "OBSERVED"
        );
        for x in v["services"].as_array().into_iter().flatten() {
            println!(
                "  {:<14} {:<9} {:<9} {:<9}",
                s(&x["id"]),
                s(&x["state"]),
                s(&x["expected"]),
                s(&x["observed"])
            );
        }
        if let Some(c) = v["counts"].as_object() {
            for (kind, states) in c {
                let list: Vec<String> = states
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect();
                println!("  {kind}s: {}", list.join(", "));
            }
        }
        let incs = v["incidents"].as_array().cloned().unwrap_or_default();
        println!("  open incidents: {}", incs.len());
        for i in &incs {
            println!(
                "    {} {} — {}",
                s(&i["severity"]).to_uppercase(),
                s(&i["id"]),
                s(&i["title"])
            );
        }
        let n = &v["notify"];
        println!(
            "  pager: {} delivered, {} pending, {} dead-lettered",
            n["delivered"], n["pending"], v["dead_letters"]
        );
    })
}

#[derive(clap::Args)]
pub struct IncidentsArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    /// Include recently resolved incidents.
    #[arg(long)]
    pub all: bool,
}

pub fn incidents(a: IncidentsArgs) -> ExitCode {
    let path = if a.all {
        "/api/incidents?all=true"
    } else {
        "/api/incidents"
    };
    with_api(&a.api, "GET", path, |v| {
        let open = v["open"].as_array().cloned().unwrap_or_default();
        if open.is_empty() {
            println!("no open incidents");
        }
        for i in &open {
            print_incident(i, true);
        }
        for i in v["resolved"].as_array().into_iter().flatten() {
            println!("(resolved)");
            print_incident(i, false);
        }
    })
}

pub fn why_live(service: &str, api: &ApiArgs) -> ExitCode {
    with_api(
        api,
        "GET",
        &format!("/api/why/{}", path_segment(service)),
        |v| {
            print!("{}", s(&v["text"]));
            if let Some(f) = v["failed"].as_array().filter(|f| !f.is_empty()) {
                println!("failed: {}", f.iter().map(s).collect::<Vec<_>>().join(", "));
            }
            if v["incident"].is_object() {
                println!();
                print_incident(&v["incident"], true);
            }
        },
    )
}

#[derive(clap::Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub api: ApiArgs,
    /// How far back: 90s, 15m, 1h, 2d.
    #[arg(long, default_value = "1h")]
    pub since: String,
}

fn parse_age(s: &str) -> Option<u64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

pub fn timeline(a: TimelineArgs) -> ExitCode {
    let Some(age) = parse_age(&a.since) else {
        eprintln!(
            "error: --since `{}`: expected a duration such as 90s, 15m, 1h or 2d",
            a.since
        );
        return ExitCode::from(2);
    };
    let since = now_ms().saturating_sub(age);
    with_api(
        &a.api,
        "GET",
        &format!("/api/timeline?since={since}"),
        |v| {
            for e in v["timeline"].as_array().into_iter().flatten() {
                println!(
                    "{}  {:<20} {}",
                    clock(e["at"].as_u64().unwrap_or(0)),
                    s(&e["subject"]),
                    s(&e["text"])
                );
            }
        },
    )
}

#[derive(clap::Args)]
pub struct LabArgs {
    /// `status`, `fail ID`, `heal ID`, `fix` (copy the config to the spare), `reset`.
    pub action: String,
    /// Device or link id (for fail / heal).
    pub id: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub fn lab(a: LabArgs) -> ExitCode {
    let (method, path) = match (a.action.as_str(), &a.id) {
        ("status", _) => ("GET", "/api/lab".to_string()),
        ("fail" | "heal", Some(id)) => (
            "POST",
            format!("/api/lab/{}/{}", a.action, path_segment(id)),
        ),
        ("fail" | "heal", None) => {
            eprintln!(
                "error: `faultline lab {}` needs a device or link id",
                a.action
            );
            return ExitCode::from(2);
        }
        ("fix" | "reset", _) => ("POST", format!("/api/lab/{}", a.action)),
        (other, _) => {
            eprintln!(
                "error: unknown lab action `{other}`: use status, fail ID, heal ID, fix or reset"
            );
            return ExitCode::from(2);
        }
    };
    with_api(&a.api, method, &path, |v| {
        let failed: Vec<&str> = v["failed"]
            .as_array()
            .into_iter()
            .flatten()
            .map(s)
            .collect();
        println!(
            "failed: {}",
            if failed.is_empty() {
                "nothing".to_string()
            } else {
                failed.join(", ")
            }
        );
        for (g, m) in v["active"].as_object().into_iter().flatten() {
            println!("active in {g}: {}", s(m));
        }
        println!("spare configuration fixed: {}", v["fixed"]);
    })
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// Journal: a collector store (.redb) or JSON lines of observations.
    pub journal: PathBuf,
    /// Topology the journal was recorded against.
    #[arg(long)]
    pub topology: PathBuf,
    /// Collector configuration whose [engine] settings to use (defaults otherwise).
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
        println!("  {}  {:<24} {}", clock(e.at), e.subject, e.text);
    }
    println!("\nincidents:");
    for t in &transitions {
        println!(
            "  {}  {:?} {} [{}] {}",
            clock(t.at),
            t.action,
            t.incident.id,
            t.incident.kind.as_str(),
            t.incident.title
        );
    }
    for i in engine.open_incidents() {
        println!("\nstill open at the end of the journal:");
        if let Ok(v) = serde_json::to_value(i) {
            print_incident(&v, true);
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    #[test]
    fn link_ids_survive_as_one_path_segment() {
        assert_eq!(
            super::path_segment("fw-a:port2--sw-core-1:gi1/0/1"),
            "fw-a%3Aport2--sw-core-1%3Agi1%2F0%2F1"
        );
        assert_eq!(super::path_segment("portal"), "portal");
    }
}
