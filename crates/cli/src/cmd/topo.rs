//! Offline topology commands: questions answered from a topology file alone.
//!
//! Exit codes: 0 answered, 1 the topology is invalid or a named component does not exist,
//! 2 usage error (from clap). `--json` output is a stable, documented contract (docs/cli-json.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use faultline_collector::wire::ToApi;
use faultline_graph::{DependencyGraph, Evaluation, Format, State};
use faultline_model::{ComponentRef, Topology};
use serde_json::json;

/// Shown under `faultline why --help`: offline and live answers fail differently.
pub const WHY_EXIT_CODES: &str = "Exit codes: 0 answered; 1 invalid topology or unknown \
    component (offline), or the collector answered with an error (live); 2 usage error; 3 the \
    collector could not be reached (live).";

/// Load and validate, printing diagnostics (text or JSON) on failure.
pub(crate) fn load(path: &Path, json: bool) -> Result<Topology, ExitCode> {
    Topology::load(path).map_err(|e| {
        if json {
            let errors: Vec<_> = e
                .diagnostics
                .iter()
                .map(|d| json!({"file": d.file, "line": d.line, "column": d.column, "message": d.message}))
                .collect();
            println!("{}", json!({"ok": false, "errors": errors}));
        } else {
            eprintln!("{e}");
        }
        ExitCode::from(1)
    })
}

/// One `--down` value: component ids, comma-separated. A value that names nothing (`''`,
/// `' , '`) is a usage error rather than an empty what-if that reports everything up.
#[derive(Debug, Clone)]
pub struct IdList(Vec<String>);

fn id_list(raw: &str) -> Result<IdList, String> {
    let ids: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        return Err(
            "names no component: give one or more ids, comma-separated (e.g. fw-a,fw-b)".into(),
        );
    }
    Ok(IdList(ids))
}

fn flatten_ids(lists: &[IdList]) -> Vec<String> {
    lists.iter().flat_map(|l| l.0.iter().cloned()).collect()
}

/// A usage error found after parsing (clap's own exit with 2 happens before `run`).
fn usage(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn fail(json: bool, msg: String) -> ExitCode {
    if json {
        println!("{}", json!({"ok": false, "errors": [{"message": msg}]}));
    } else {
        eprintln!("error: {msg}");
    }
    ExitCode::from(1)
}

/// Leave the model and graph to the operating system instead of dropping them: the process
/// ends right after, and dropping a 100k-device model frees millions of allocations one by
/// one (~80 ms of a `check`) for memory the exit returns anyway.
fn leave_to_exit<T>(model: T, code: ExitCode) -> ExitCode {
    std::mem::forget(model);
    code
}

/// Build an evaluation with the given components down; reports unknown names.
fn what_if<'g>(
    g: &'g DependencyGraph,
    down: &[String],
) -> Result<
    (
        Evaluation<&'g DependencyGraph>,
        Vec<faultline_graph::CompId>,
    ),
    String,
> {
    let mut ev = Evaluation::new(g);
    let mut comps = Vec::new();
    for d in down {
        let c = g.lookup(d).map_err(|e| e.to_string())?;
        ev.set_own(c, State::Down);
        comps.push(c);
    }
    ev.settle();
    Ok((ev, comps))
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Topology file (YAML or JSON).
    pub topology: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn check(a: CheckArgs) -> ExitCode {
    let g = match load(&a.topology, a.json) {
        Ok(t) => DependencyGraph::new(t),
        Err(code) => return code,
    };
    let t = g.topology();
    if a.json {
        println!(
            "{}",
            json!({
                "ok": true, "name": t.name, "collector": t.collector,
                "zone_collectors": t.zone_collectors,
                "devices": t.devices.len(), "links": t.links.len(), "groups": t.groups.len(),
                "services": t.services.len(), "gates": g.node_count(), "edges": g.edge_count(),
            })
        );
    } else {
        println!("{}: ok", a.topology.display());
        println!("  topology  {}", t.name);
        println!("  devices   {}", t.devices.len());
        println!("  links     {}", t.links.len());
        println!("  groups    {}", t.groups.len());
        println!("  services  {}", t.services.len());
        if let Some(c) = &t.collector {
            println!("  collector {c}");
        }
        for (zone, c) in &t.zone_collectors {
            println!("  collector {c} (zone {zone})");
        }
    }
    leave_to_exit(g, ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ImpactArgs {
    /// Topology file (YAML or JSON).
    pub topology: PathBuf,
    /// Components assumed failed: ids, link ends (`fw-a:port1`) or link ids, comma-separated
    /// or repeated.
    #[arg(long, value_name = "ID[,ID...]", required = true, value_parser = id_list)]
    pub down: Vec<IdList>,
    #[arg(long)]
    pub json: bool,
}

pub fn impact(a: ImpactArgs) -> ExitCode {
    let g = match load(&a.topology, a.json) {
        Ok(t) => DependencyGraph::new(t),
        Err(code) => return code,
    };
    let down = flatten_ids(&a.down);
    let (ev, comps) = match what_if(&g, &down) {
        Ok(x) => x,
        Err(e) => return fail(a.json, e),
    };
    let report = g.impact_report(&ev, &comps);
    std::mem::forget(ev);
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&report.to_api()).unwrap_or_default()
        );
        return leave_to_exit(g, ExitCode::SUCCESS);
    }
    println!("what if {} failed:", report.down.join(", "));
    let w = report
        .services
        .iter()
        .map(|s| s.id.len())
        .max()
        .unwrap_or(7)
        .max(7);
    println!("  {:<w$}  {:<8}  {:<8}  CAUSES", "SERVICE", "TIER", "STATE");
    for s in &report.services {
        println!(
            "  {:<w$}  {:<8}  {:<8}  {}",
            s.id,
            s.tier,
            s.state.as_str(),
            s.causes.join(", ")
        );
    }
    leave_to_exit(g, ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct SpofArgs {
    /// Topology file (YAML or JSON).
    pub topology: PathBuf,
    /// Only this service (default: every service).
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn spof(a: SpofArgs) -> ExitCode {
    let g = match load(&a.topology, a.json) {
        Ok(t) => DependencyGraph::new(t),
        Err(code) => return code,
    };
    let t = g.topology();
    let ids: Vec<String> = match &a.service {
        Some(s) => match t.resolve(s) {
            Some(ComponentRef::Service(_)) => vec![s.clone()],
            Some(other) => {
                return fail(
                    a.json,
                    format!("`{s}` is a {}, not a service", other.kind_name()),
                );
            }
            None => {
                return fail(
                    a.json,
                    g.lookup(s).err().map(|e| e.to_string()).unwrap_or_default(),
                );
            }
        },
        None => t.services.iter().map(|s| s.id.clone()).collect(),
    };
    let mut out = Vec::new();
    for id in &ids {
        match g.spof(id) {
            Ok(s) => out.push((id.clone(), s)),
            Err(e) => return fail(a.json, e.to_string()),
        }
    }
    if a.json {
        let services: Vec<_> = out
            .iter()
            .map(|(id, s)| json!({"id": id, "spofs": s}))
            .collect();
        println!("{}", json!({ "services": services }));
    } else {
        for (id, s) in &out {
            if s.is_empty() {
                println!("{id}: no single point of failure");
            } else {
                println!("{id}: {} single point(s) of failure", s.len());
                for x in s {
                    println!("  - {x}");
                }
            }
        }
    }
    leave_to_exit(g, ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct WhyArgs {
    /// `TOPOLOGY SERVICE` answers from a file (with `--down` for a what-if); `SERVICE` alone
    /// asks the running collector, live, with the incident's evidence timeline.
    #[arg(value_name = "TOPOLOGY] [SERVICE", num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    /// Components assumed failed, as for `impact` (offline only).
    #[arg(long, value_name = "ID[,ID...]", value_parser = id_list)]
    pub down: Vec<IdList>,
    #[command(flatten)]
    pub api: super::client::ApiArgs,
}

/// A lone `why` argument that is an existing file, or named like one (`.yaml`, `.yml`, `.json`),
/// is a topology whose service was forgotten, not a service to ask the collector about.
fn looks_like_topology(arg: &str) -> bool {
    let path = Path::new(arg);
    path.is_file()
        || path.extension().is_some_and(|e| {
            ["yaml", "yml", "json"]
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x))
        })
}

pub fn why(a: WhyArgs) -> ExitCode {
    let (topology, service) = match a.args.as_slice() {
        [only] if looks_like_topology(only) => {
            return usage(&format!(
                "`{only}` is a topology file: name the service to explain \
                 (faultline why {only} SERVICE [--down ID,...]); \
                 `faultline why SERVICE` alone asks the running collector"
            ));
        }
        [_] if !a.down.is_empty() => {
            return usage(
                "--down is a what-if on a topology file: faultline why TOPOLOGY SERVICE --down ID,...",
            );
        }
        [service] => return super::client::why_live(service, &a.api),
        [topology, service] => (PathBuf::from(topology), service.clone()),
        _ => return usage("usage: faultline why [TOPOLOGY] SERVICE"),
    };
    let json = a.api.json;
    let g = match load(&topology, json) {
        Ok(t) => DependencyGraph::new(t),
        Err(code) => return code,
    };
    let down = flatten_ids(&a.down);
    let target = match g.lookup(&service) {
        Ok(c) => c,
        Err(e) => return fail(json, e.to_string()),
    };
    let (ev, _) = match what_if(&g, &down) {
        Ok(x) => x,
        Err(e) => return fail(json, e),
    };
    let tree = g.why(&ev, target);
    let failed = tree.failed_components();
    if json {
        let answer = why_answer(&g, &ev, target, &service, &tree, down);
        println!("{}", serde_json::to_string(&answer).unwrap_or_default());
    } else {
        if tree.state == State::Up {
            println!(
                "{} is up{}",
                service,
                if down.is_empty() {
                    String::new()
                } else {
                    format!(" even with {} down", down.join(", "))
                }
            );
        } else {
            print!("{}", tree.to_text());
            println!(
                "root cause(s): {}",
                if failed.is_empty() {
                    "none in the topology".to_string()
                } else {
                    failed.join(", ")
                }
            );
        }
    }
    ExitCode::SUCCESS
}

/// The offline why in the live why's shape ([`faultline_api::WhyResponse`]): no incident, and
/// for a service, its status with `observed` unknown (no probe ran).
fn why_answer(
    g: &DependencyGraph,
    ev: &Evaluation<&DependencyGraph>,
    target: faultline_graph::CompId,
    id: &str,
    tree: &faultline_graph::WhyNode,
    down: Vec<String>,
) -> faultline_api::WhyResponse {
    let service = match g.comp_ref(target) {
        ComponentRef::Service(i) => {
            g.topology()
                .services
                .get(i)
                .map(|s| faultline_api::ServiceStatus {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    tier: s.tier.as_str().to_string(),
                    state: ev.component(target).to_api(),
                    expected: ev.dependencies_state(g.canonical(target)).to_api(),
                    observed: faultline_api::State::Unknown,
                    incident: None,
                })
        }
        _ => None,
    };
    faultline_api::WhyResponse {
        id: id.to_string(),
        state: tree.state.to_api(),
        down,
        failed: tree.failed_components(),
        tree: tree.to_api(),
        text: tree.to_text(),
        service,
        incident: None,
    }
}

#[derive(clap::Args)]
pub struct GraphArgs {
    /// Topology file (YAML or JSON).
    pub topology: PathBuf,
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
    /// Colour by state with these components assumed failed.
    #[arg(long, value_name = "ID[,ID...]", value_parser = id_list)]
    pub down: Vec<IdList>,
    /// The graph as data instead of a picture: nodes (with states under `--down`) and edges.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

pub fn graph(a: GraphArgs) -> ExitCode {
    let g = match load(&a.topology, a.json) {
        Ok(t) => DependencyGraph::new(t),
        Err(code) => return code,
    };
    let down = flatten_ids(&a.down);
    let ev = if down.is_empty() {
        None
    } else {
        match what_if(&g, &down) {
            Ok((ev, _)) => Some(ev),
            Err(e) => return fail(a.json, e),
        }
    };
    if a.json {
        let export = faultline_graph::export(&g, ev.as_ref());
        println!("{}", serde_json::to_string(&export).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    let f = match a.format {
        GraphFormat::Dot => Format::Dot,
        GraphFormat::Mermaid => Format::Mermaid,
    };
    print!("{}", faultline_graph::render(&g, ev.as_ref(), f));
    ExitCode::SUCCESS
}

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Approximate number of devices.
    #[arg(long, default_value_t = 1000)]
    pub devices: usize,
    /// Servers per rack.
    #[arg(long, default_value_t = 40)]
    pub servers_per_rack: usize,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Give devices 127.0.0.0/8 addresses (collector load tests against a simulated agent).
    #[arg(long)]
    pub loopback: bool,
    /// Print a JSON summary of what was written (needs `--output`: standard output cannot hold
    /// both the topology and the summary).
    #[arg(long, requires = "output")]
    pub json: bool,
}

pub fn generate(a: GenerateArgs) -> ExitCode {
    let mut o = faultline_model::generate::GenerateOptions::new(a.devices);
    o.servers_per_rack = a.servers_per_rack.max(1);
    o.loopback = a.loopback;
    let generated = faultline_model::generate::datacenter(o);
    let Some(path) = &a.output else {
        print!("{}", generated.json);
        return ExitCode::SUCCESS;
    };
    if let Err(e) = std::fs::write(path, &generated.json) {
        return fail(a.json, format!("cannot write {}: {e}", path.display()));
    }
    if a.json {
        println!(
            "{}",
            json!({
                "ok": true, "output": path.display().to_string(), "bytes": generated.json.len(),
                "devices": generated.devices, "links": generated.links,
                "groups": generated.groups, "services": generated.services,
            })
        );
    }
    ExitCode::SUCCESS
}
