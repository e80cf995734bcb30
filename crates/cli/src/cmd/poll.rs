//! `faultline poll`: poll one SNMP agent once and print what its profile sees.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use faultline_observe::PollFailure;
use faultline_snmp::{DeviceReport, PollerConfig, Profiles, SnmpPoller, Target};

use super::credentials::{CredentialArgs, SECRETS_HELP};

const EXIT_CODES: &str = "\
Exit codes:
  0  the agent answered
  1  local or configuration error, or a malformed answer
  2  authentication failure (wrong v3 user, passphrase or protocol), or a usage error
  3  timeout: no answer (dead agent, unreachable, or a wrong v1/v2c community, which agents
     silently drop)";

#[derive(clap::Args)]
#[command(after_help = format!("{SECRETS_HELP}\n\n{EXIT_CODES}"))]
pub struct Args {
    /// Agent address, HOST or HOST:PORT (default port 161).
    pub host: String,
    #[command(flatten)]
    pub snmp: CredentialArgs,
    /// Profile name; default: chosen from sysObjectID.
    #[arg(long)]
    pub profile: Option<String>,
    /// Directory of extra/overriding profile TOML files.
    #[arg(long, value_name = "DIR")]
    pub profiles_dir: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 2.0)]
    pub timeout: f64,
    /// Retries per request after a timeout.
    #[arg(long, default_value_t = 1)]
    pub retries: u32,
    /// GETBULK max-repetitions.
    #[arg(long, default_value_t = 25)]
    pub max_repetitions: u32,
    /// Poll twice this many seconds apart and show traffic rates.
    #[arg(long, value_name = "SECS")]
    pub rates: Option<f64>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn resolve(host: &str) -> Result<SocketAddr, String> {
    // Accept a bare IPv6 address, HOST, or HOST:PORT.
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, 161));
    }
    let with_port = if host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host.to_owned()
    } else {
        format!("{host}:161")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} resolves to nothing"))
}

pub fn run(args: Args) -> ExitCode {
    let json = args.json;
    // A credential flag problem is a usage error; its text names flags, never a secret.
    if let Err(msg) = args.snmp.credentials() {
        eprintln!("faultline poll: {msg}");
        return ExitCode::from(2);
    }
    match execute(args) {
        Ok(report) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("faultline poll: {e}");
                        return ExitCode::from(1);
                    }
                }
            } else {
                print_human(&report);
            }
            ExitCode::from(exit_code(&report))
        }
        Err(msg) => {
            eprintln!("faultline poll: {msg}");
            ExitCode::from(1)
        }
    }
}

/// The documented exit code for a poll's outcome.
fn exit_code(report: &DeviceReport) -> u8 {
    match report.failure() {
        None => 0,
        Some(PollFailure::AuthFailure) => 2,
        Some(PollFailure::Timeout) => 3,
        Some(_) => 1,
    }
}

/// Poll as the arguments say; `Err` for usage and configuration errors.
fn execute(args: Args) -> Result<DeviceReport, String> {
    let credentials = args.snmp.credentials()?;
    let addr = resolve(&args.host)?;
    let profiles = Profiles::load(args.profiles_dir.as_deref()).map_err(|e| e.to_string())?;
    if let Some(p) = &args.profile
        && profiles.get(p).is_none()
    {
        let known: Vec<&str> = profiles.names().collect();
        return Err(format!(
            "unknown profile {p:?}; known: {}",
            known.join(", ")
        ));
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err("--timeout must be a positive number of seconds".into());
    }
    let target = Target {
        device_id: args.host.clone(),
        addr,
        credentials,
        profile: args.profile.clone(),
        max_repetitions: args.max_repetitions,
        timeout: Duration::from_secs_f64(args.timeout),
        retries: args.retries,
        poll_interval: None,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let report = rt.block_on(async {
        let poller = SnmpPoller::new(PollerConfig {
            profiles,
            ..PollerConfig::default()
        });
        let first = poller.poll(&target, None).await;
        match args.rates {
            Some(secs) if first.report.failure().is_none() && secs.is_finite() && secs > 0.0 => {
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                poller.poll(&target, Some(&first.state)).await.report
            }
            _ => first.report,
        }
    });
    Ok(report)
}

fn uptime(cs: u64) -> String {
    let s = cs / 100;
    format!(
        "{}d {:02}h{:02}m{:02}s",
        s / 86_400,
        s / 3600 % 24,
        s / 60 % 60,
        s % 60
    )
}

fn opt<T: std::fmt::Debug>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| format!("{v:?}").to_lowercase())
}

fn print_human(r: &DeviceReport) {
    println!(
        "device   {} ({}, SNMP {})",
        r.device_id, r.address, r.version
    );
    if let Some(s) = &r.system {
        println!("profile  {}", r.profile.as_deref().unwrap_or("-"));
        println!("sysName  {}", s.name);
        println!("sysObjectID {}", s.object_id);
        println!("sysDescr {}", s.descr.lines().next().unwrap_or_default());
        println!(
            "uptime   {}   engine boots {}",
            s.uptime_cs.map_or("-".into(), uptime),
            s.engine_boots.map_or("-".into(), |b| b.to_string())
        );
    }
    if let Some(ha) = &r.ha {
        println!(
            "HA       role {}   peer {}   in sync {}   (raw {:?})",
            opt(Some(ha.role)),
            opt(ha.peer),
            opt(ha.in_sync),
            ha.raw
        );
    }
    if !r.interfaces.is_empty() {
        println!("\ninterfaces ({})", r.interfaces.len());
        println!(
            "  {:>6}  {:<24} {:<8} {:<8} {:>12} {:>12} {:>12} {:>8}",
            "index", "name", "oper", "admin", "last change", "in B/s", "out B/s", "errors"
        );
        for i in &r.interfaces {
            let rate = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
            println!(
                "  {:>6}  {:<24} {:<8} {:<8} {:>12} {:>12} {:>12} {:>8}",
                i.index,
                i.name,
                opt(Some(i.oper)),
                opt(Some(i.admin)),
                i.last_change_cs.map_or("-".into(), uptime),
                rate(i.in_bps),
                rate(i.out_bps),
                i.in_errors.unwrap_or(0) + i.out_errors.unwrap_or(0)
            );
        }
    }
    if !r.neighbors.is_empty() {
        println!("\nLLDP neighbours ({})", r.neighbors.len());
        for n in &r.neighbors {
            println!(
                "  port {} ({}) -> {} port {}",
                n.local_port_num,
                n.local_port.as_deref().unwrap_or("-"),
                n.remote_sysname,
                n.remote_port_id
            );
        }
    }
    for e in &r.errors {
        eprintln!("error ({:?}): {}", e.kind, e.message);
    }
}

/// The real-peer helpers of faultline-snmp's tests (snmpd on a free port, killed on Drop).
#[cfg(test)]
#[path = "../../../snmp/tests/support/mod.rs"]
mod test_support;

#[cfg(test)]
mod tests {
    //! End to end against a real snmpd, through the same code path as the binary.
    use super::*;
    use clap::Parser;

    use super::test_support as support;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn poll(argv: &[&str]) -> Result<DeviceReport, String> {
        let mut full = vec!["poll"];
        full.extend_from_slice(argv);
        execute(Cli::try_parse_from(full).map_err(|e| e.to_string())?.args)
    }

    #[test]
    fn exit_codes_success_auth_failure_timeout() {
        let Some(agent) = support::Snmpd::start() else {
            return;
        };
        let addr = agent.addr.to_string();
        let ok = poll(&[&addr, "-c", "public"]).expect("poll");
        assert_eq!(exit_code(&ok), 0);
        assert_eq!(ok.system.map(|s| s.name), Some(agent.sys_name()));

        // Passphrases come from environment variables named on the command line; unique names
        // keep parallel tests apart.
        let var = format!("FL_TEST_POLL_PASS_{}", std::process::id());
        // SAFETY: set_var is unsafe in edition 2024 because other threads may read the
        // environment concurrently; this variable name is unique to this test and process.
        unsafe { std::env::set_var(&var, support::V3_AUTH) };
        let v3 = |user: &str| {
            poll(&[
                &addr,
                "--version",
                "3",
                "-u",
                user,
                "--auth-proto",
                "sha256",
                "--auth-pass-env",
                &var,
                "--timeout",
                "0.5",
                "--retries",
                "0",
            ])
        };
        // The SHA-256 user has its own passphrase: the one in `var` is wrong for it.
        let wrong_pass = v3(support::V3_SHA256_USER);
        assert_eq!(wrong_pass.as_ref().map(exit_code), Ok(2), "{wrong_pass:?}");
        assert_eq!(v3("nosuchuser").as_ref().map(exit_code), Ok(2));
        let json = serde_json::to_string(&wrong_pass.expect("report")).expect("json");
        assert!(!json.contains(support::V3_AUTH), "secret in JSON: {json}");
        // SAFETY: as above, a variable only this test uses.
        unsafe { std::env::set_var(&var, support::V3_SHA256_AUTH) };
        let right = v3(support::V3_SHA256_USER);
        assert_eq!(right.as_ref().map(exit_code), Ok(0), "{right:?}");

        let dead = format!("127.0.0.1:{}", support::free_udp_port());
        let r = poll(&[&dead, "--timeout", "0.3", "--retries", "0"]).expect("poll");
        assert_eq!(exit_code(&r), 3);
        assert!(
            poll(&[&addr, "--version", "3"]).is_err(),
            "v3 without --user is a usage error"
        );
        assert!(poll(&[&addr, "--profile", "no-such-profile"]).is_err());
    }
}
