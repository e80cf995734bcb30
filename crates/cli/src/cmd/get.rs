//! `faultline get HOST OID...` and `faultline walk HOST [OID]`: net-snmp's `snmpget` and
//! `snmpwalk` with the names faultline knows (`IF-MIB::ifOperStatus.3 = INTEGER: up(1)`).

use std::process::ExitCode;
use std::time::Duration;

use faultline_snmp::{PollerConfig, ShownVarbind, SnmpPoller, Target, names};

use super::credentials::{CredentialArgs, SECRETS_HELP};

const EXIT_CODES: &str = "\
OIDs are numeric (1.3.6.1.2.1.1.5.0, with or without the leading dot) or names faultline knows
(IF-MIB::ifOperStatus.3, ifOperStatus.3, sysName.0, IF-MIB::ifTable).

Exit codes:
  0  the agent answered (noSuchObject / noSuchInstance are answers, printed as net-snmp does)
  1  no answer, authentication failure, or an error from the agent
  2  usage error (flags, unknown object names, credentials)";

/// The default walk: the whole MIB-2 subtree, as `snmpwalk` without an OID.
const MIB_2: &str = "1.3.6.1.2.1";

/// Flags shared by `get` and `walk`.
#[derive(clap::Args)]
pub struct QueryArgs {
    #[command(flatten)]
    snmp: CredentialArgs,
    /// Per-request timeout in seconds (net-snmp's -t).
    #[arg(long, short = 't', default_value_t = 2.0)]
    timeout: f64,
    /// Retries per request after a timeout (net-snmp's -r).
    #[arg(long, short = 'r', default_value_t = 1)]
    retries: u32,
    /// Output options as net-snmp's -O; `-On` prints OIDs numerically.
    #[arg(short = 'O', value_name = "n")]
    output: Option<String>,
    /// Print the varbinds as JSON (numeric OID, name, type, value).
    #[arg(long)]
    json: bool,
}

/// `faultline get`.
#[derive(clap::Args)]
#[command(after_help = format!("{SECRETS_HELP}\n\n{EXIT_CODES}"))]
pub struct GetArgs {
    /// Agent address, HOST or HOST:PORT (default port 161; a `udp:` prefix is accepted).
    host: String,
    /// Objects to get, in one request.
    #[arg(required = true, value_name = "OID")]
    oids: Vec<String>,
    #[command(flatten)]
    query: QueryArgs,
}

/// `faultline walk`.
#[derive(clap::Args)]
#[command(after_help = format!("{SECRETS_HELP}\n\n{EXIT_CODES}"))]
pub struct WalkArgs {
    /// Agent address, HOST or HOST:PORT (default port 161; a `udp:` prefix is accepted).
    host: String,
    /// Subtree to walk; default the whole MIB-2 (1.3.6.1.2.1).
    #[arg(value_name = "OID")]
    oid: Option<String>,
    #[command(flatten)]
    query: QueryArgs,
}

/// A problem with the command line: exit 2.
struct Usage(String);

/// The target and whether `-On` was given.
fn prepare(host: &str, q: &QueryArgs) -> Result<(Target, bool), Usage> {
    let numeric = match q.output.as_deref() {
        None => false,
        Some(opts) => match opts.chars().find(|c| *c != 'n') {
            None => opts.contains('n'),
            Some(c) => {
                return Err(Usage(format!(
                    "-O{c}: only -On (numeric OIDs) is supported"
                )));
            }
        },
    };
    if !(q.timeout.is_finite() && q.timeout > 0.0 && q.timeout < 3600.0) {
        return Err(Usage(
            "--timeout must be a positive number of seconds".into(),
        ));
    }
    let credentials = q.snmp.credentials().map_err(Usage)?;
    let host = host.strip_prefix("udp:").unwrap_or(host);
    let addr = super::poll::resolve(host).map_err(Usage)?;
    let mut target = Target::new(host, addr, credentials);
    target.timeout = Duration::from_secs_f64(q.timeout);
    target.retries = q.retries;
    Ok((target, numeric))
}

fn resolve_all(given: &[String]) -> Result<Vec<String>, Usage> {
    given
        .iter()
        .map(|g| names::resolve(g).map_err(|e| Usage(e.to_string())))
        .collect()
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// Print the varbinds as lines or one JSON document; `error` goes to stderr (and the JSON).
fn print(varbinds: &[ShownVarbind], error: Option<String>, numeric: bool, json: bool) {
    if json {
        let doc = serde_json::json!({ "varbinds": varbinds, "error": error });
        match serde_json::to_string_pretty(&doc) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("cannot encode JSON: {e}"),
        }
    } else {
        for v in varbinds {
            println!("{}", v.line(numeric));
        }
    }
}

fn usage(cmd: &str, Usage(msg): Usage) -> ExitCode {
    eprintln!("faultline {cmd}: {msg}");
    ExitCode::from(2)
}

/// `faultline get`.
pub fn get(args: GetArgs) -> ExitCode {
    let (target, numeric) = match prepare(&args.host, &args.query) {
        Ok(t) => t,
        Err(u) => return usage("get", u),
    };
    let oids = match resolve_all(&args.oids) {
        Ok(o) => o,
        Err(u) => return usage("get", u),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faultline get: {e}");
            return ExitCode::from(1);
        }
    };
    let asked: Vec<&str> = oids.iter().map(String::as_str).collect();
    let poller = SnmpPoller::new(PollerConfig::default());
    match rt.block_on(poller.get_varbinds(&target, &asked)) {
        Ok(varbinds) => {
            print(&varbinds, None, numeric, args.query.json);
            ExitCode::SUCCESS
        }
        Err(e) => {
            if args.query.json {
                print(&[], Some(e.to_string()), numeric, true);
            }
            eprintln!("faultline get: {e}");
            ExitCode::from(1)
        }
    }
}

/// `faultline walk`.
pub fn walk(args: WalkArgs) -> ExitCode {
    let (target, numeric) = match prepare(&args.host, &args.query) {
        Ok(t) => t,
        Err(u) => return usage("walk", u),
    };
    let root = match args.oid.as_deref().map(names::resolve).transpose() {
        Ok(r) => r.unwrap_or_else(|| MIB_2.to_owned()),
        Err(e) => return usage("walk", Usage(e.to_string())),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faultline walk: {e}");
            return ExitCode::from(1);
        }
    };
    let poller = SnmpPoller::new(PollerConfig::default());
    let (varbinds, error) = match rt.block_on(poller.walk_varbinds(&target, &root)) {
        Ok(w) => (w.varbinds, w.error.map(|e| e.to_string())),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    print(&varbinds, error.clone(), numeric, args.query.json);
    match error {
        None => ExitCode::SUCCESS,
        Some(e) => {
            eprintln!("faultline walk: {e}");
            ExitCode::from(1)
        }
    }
}
