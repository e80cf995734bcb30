//! `faultline`: the command-line entry point.
//!
//! Each subcommand lives in its own module under `cmd/` with a clap `Args` struct and a `run`
//! function returning the process exit code; this file only dispatches.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod cmd;

/// `--version`: the package version and the commit it was built from (`build.rs`), so that a
/// bug report names the exact code.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("FAULTLINE_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "faultline",
    version = VERSION,
    about = "Infrastructure health correlator: maps device alarms onto the services behind them"
)]
struct Cli {
    /// Log lines on standard error: `text` (coloured only on a terminal, never with NO_COLOR
    /// set) or `json` (one object per line, for log shippers).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "FAULTLINE_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    // Subcommands are added here, one line each, pointing at cmd::<name>::Args.
    /// Run the collector (without --config: the built-in demo lab on the incident topology).
    Run(cmd::run::RunArgs),
    /// Live status from the running collector: services, counts, open incidents, pager health.
    #[command(after_help = cmd::client::EXIT_CODES)]
    Status(cmd::client::StatusArgs),
    /// Open (and with --all, recently resolved) incidents with suspects and evidence.
    #[command(after_help = cmd::client::EXIT_CODES)]
    Incidents(cmd::client::IncidentsArgs),
    /// State changes and evidence from the running collector.
    #[command(after_help = cmd::client::EXIT_CODES)]
    Timeline(cmd::client::TimelineArgs),
    /// Standby readiness: each HA group, its active member, each standby's checks and verdict.
    #[command(after_help = cmd::client::EXIT_CODES)]
    Ready(cmd::client::ReadyArgs),
    /// Acknowledge an open incident: no more pages for it (pagers are told) until unack.
    #[command(after_help = cmd::client::EXIT_CODES)]
    Ack(cmd::client::AckArgs),
    /// Withdraw an acknowledgement.
    #[command(after_help = cmd::client::EXIT_CODES)]
    Unack(cmd::client::UnackArgs),
    /// Maintenance windows: add COMPONENT... --for 2h --reason ..., list, end ID.
    #[command(after_help = cmd::client::EXIT_CODES)]
    Maintenance(cmd::client::MaintenanceArgs),
    /// Drive the demo lab: status, fail ID, heal ID, drift ID forwarding, fix, reset.
    #[command(after_help = cmd::client::EXIT_CODES)]
    Lab(cmd::client::LabArgs),
    /// Re-run the engine over a recorded journal: what exactly stopped, and when.
    Replay(cmd::replay::ReplayArgs),
    /// A poller-only process for one zone: its devices' and services' observations go to NATS
    /// JetStream for a correlator (`[cluster]` in the configuration).
    Poller(cmd::poller::Args),
    /// The distributed shape as JetStream sees it: `cluster status` (leader, stream, lag, zones).
    #[command(after_help = cmd::cluster_status::EXIT_CODES)]
    Cluster(cmd::cluster_status::Args),
    /// Validate a topology file and summarise it.
    Check(cmd::topo::CheckArgs),
    /// What-if: every service's state with the given components failed, and the causes.
    Impact(cmd::topo::ImpactArgs),
    /// Explain a service's state as a tree down to the failed components (offline with a
    /// topology file, live from the collector without).
    #[command(after_help = cmd::topo::WHY_EXIT_CODES)]
    Why(cmd::topo::WhyArgs),
    /// Single points of failure: devices and links whose failure alone takes a service down.
    Spof(cmd::topo::SpofArgs),
    /// Draw the dependency graph (Graphviz DOT or Mermaid), optionally coloured by a what-if.
    Graph(cmd::topo::GraphArgs),
    /// Generate a synthetic data-centre topology (JSON) for benchmarks.
    Generate(cmd::topo::GenerateArgs),
    /// Probe a URL (HTTP), HOST:PORT (TCP) or HOST with --icmp; exit 0 ok, 1 failed, 2 usage/permission.
    Probe(cmd::probe::Args),
    /// Receive SNMP traps and informs and print them until Ctrl-C, then the counters.
    Traps(cmd::traps::Args),
    /// Poll one SNMP agent and print what its profile sees; exit 2 auth failure, 3 timeout.
    Poll(cmd::poll::Args),
    /// Get objects from one SNMP agent, printed as net-snmp's snmpget does, with names
    /// (`faultline get HOST sysName.0 IF-MIB::ifOperStatus.3`); -v -c -u -l -a -A -x -X as net-snmp.
    Get(cmd::get::GetArgs),
    /// Walk a subtree of one SNMP agent (default MIB-2), printed as net-snmp's snmpwalk does.
    Walk(cmd::get::WalkArgs),
    /// Build a topology from LLDP/CDP neighbour tables, breadth-first from seed agents.
    Discover(cmd::discover::Args),
    /// Declared links against what LLDP/CDP show now: missing, unexpected, moved (exit 1).
    Drift(cmd::drift::Args),
    /// Import a topology from another tool's inventory (Nagios object configuration).
    Import(cmd::import::Args),
    /// Read a password (terminal without echo, or standard input) and print its argon2 hash
    /// for `[[api.auth.users]] password_hash`.
    HashPassword(cmd::hash_password::Args),
    /// Send a test page (trigger, then resolve) to one configured receiver and show its answer.
    TestPage(cmd::test_page::Args),
    /// List pending and dead-lettered page deliveries from the store file.
    Outbox(cmd::outbox::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::docs::CompletionsArgs),
    /// Write manual pages (faultline.1 and one per subcommand) into a directory.
    Man(cmd::docs::ManArgs),
    /// Inspect a damaged store file, or salvage what is readable into a new one.
    Store(cmd::store::Args),
}

fn main() -> ExitCode {
    restore_sigpipe();
    faultline_collector::set_build_commit(env!("FAULTLINE_COMMIT"));
    let cli = Cli::parse();
    // The collector reports state changes and incidents at info; one-shot commands stay quiet.
    // async-snmp logs handled timeouts at ERROR: they are results here, not errors.
    init_tracing(
        match cli.command {
            Command::Run(_) | Command::Poller(_) => {
                "warn,faultline_collector=info,faultline_lab=info,faultline_cluster=info,faultline::cmd=info,async_snmp=off"
            }
            _ => "warn,async_snmp=off",
        },
        cli.log_format,
    );
    match cli.command {
        Command::Run(a) => cmd::run::run(a),
        Command::Status(a) => cmd::client::status(a),
        Command::Incidents(a) => cmd::client::incidents(a),
        Command::Timeline(a) => cmd::client::timeline(a),
        Command::Ready(a) => cmd::client::ready(a),
        Command::Lab(a) => cmd::client::lab(a),
        Command::Ack(a) => cmd::client::ack(a),
        Command::Unack(a) => cmd::client::unack(a),
        Command::Maintenance(a) => cmd::client::maintenance(a),
        Command::Replay(a) => cmd::replay::replay(a),
        Command::Poller(a) => cmd::poller::run(a),
        Command::Cluster(a) => cmd::cluster_status::run(a),
        Command::Check(a) => cmd::topo::check(a),
        Command::Impact(a) => cmd::topo::impact(a),
        Command::Why(a) => cmd::topo::why(a),
        Command::Spof(a) => cmd::topo::spof(a),
        Command::Graph(a) => cmd::topo::graph(a),
        Command::Generate(a) => cmd::topo::generate(a),
        Command::Probe(a) => cmd::probe::run(a),
        Command::Traps(a) => cmd::traps::run(a),
        Command::Poll(a) => cmd::poll::run(a),
        Command::Get(a) => cmd::get::get(a),
        Command::Walk(a) => cmd::get::walk(a),
        Command::Discover(a) => cmd::discover::run(a),
        Command::Drift(a) => cmd::drift::run(a),
        Command::Import(a) => cmd::import::run(a),
        Command::HashPassword(a) => cmd::hash_password::run(a),
        Command::TestPage(a) => cmd::test_page::run(a),
        Command::Outbox(a) => cmd::outbox::run(a),
        Command::Completions(a) => cmd::docs::completions(a, Cli::command()),
        Command::Man(a) => cmd::docs::man(a, Cli::command()),
        Command::Store(a) => cmd::store::run(a),
    }
}

/// `faultline why ... | head` must end quietly, like any Unix filter, instead of panicking on
/// a broken pipe: restore the default SIGPIPE action that the Rust runtime sets to ignore.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler
    // and signal(2) has no other preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Logs go to stderr so that `--json` output on stdout stays machine-readable. Colour codes
/// only reach a terminal: a journal, a file or a pipe gets plain text (and nobody gets colour
/// when NO_COLOR is set, <https://no-color.org>).
fn init_tracing(default: &str, format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("FAULTLINE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ansi = std::io::stderr().is_terminal() && !no_color;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
