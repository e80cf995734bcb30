//! `faultline probe`: one-shot reachability or service probe from the command line.
//!
//! Exit codes: 0 ok, 1 probe failed, 2 usage or permission problem (so scripts can tell "the
//! service is down" from "this check could not run").

use std::process::ExitCode;
use std::time::Duration;

use faultline_probe::{
    HttpCheck, HttpProber, IcmpOptions, IcmpProber, Target, resolve_host, tcp_probe,
};

#[derive(clap::Args)]
pub struct Args {
    /// URL (HTTP probe), HOST:PORT (TCP connect) or HOST (with --icmp)
    pub target: String,
    /// ICMP echo instead of a TCP/HTTP probe (needs root, CAP_NET_RAW or ping_group_range)
    #[arg(long)]
    pub icmp: bool,
    /// Accepted HTTP status (repeatable); default any 2xx
    #[arg(long = "expect-status", value_name = "CODE")]
    pub expect_status: Vec<u16>,
    /// The HTTP body must contain this text
    #[arg(long = "body-contains", value_name = "S")]
    pub body_contains: Option<String>,
    /// The HTTP body must match this regular expression
    #[arg(long = "body-regex", value_name = "RE")]
    pub body_regex: Option<String>,
    /// Timeout per probe, e.g. 5s, 500ms
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Number of probes (ICMP echo requests, or repeated TCP/HTTP probes)
    #[arg(long, default_value_t = 1)]
    pub count: u16,
    /// Print one JSON object per probe instead of text
    #[arg(long)]
    pub json: bool,
}

/// `--timeout`: a humantime duration (`5s`, `500ms`, `1m`) or a bare number of seconds, the
/// workspace's one rule for durations. Zero, negative and out-of-range values are refused
/// instead of panicking in `Duration::from_secs_f64`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let d = match s.parse::<f64>() {
        Ok(secs) => Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("duration out of range: {s:?}"))?,
        Err(_) => humantime::parse_duration(s)
            .map_err(|e| format!("invalid duration {s:?} ({e}; try 5s or 500ms)"))?,
    };
    if d.is_zero() {
        return Err(format!("duration must be positive: {s:?}"));
    }
    Ok(d)
}

pub fn run(args: Args) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faultline probe: cannot start runtime: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(run_async(args))
}

async fn run_async(args: Args) -> ExitCode {
    let target = match Target::parse(&args.target) {
        Ok(t) => t,
        Err(e) => return cannot_run(e),
    };
    let count = args.count.max(1);
    if args.icmp {
        return run_icmp(&args, &target, count).await;
    }
    let all_ok = match target {
        Target::Host(h) => {
            eprintln!(
                "faultline probe: {h:?} has no port: use HOST:PORT for TCP, a URL for HTTP, or --icmp"
            );
            return ExitCode::from(2);
        }
        Target::Http(url) => match run_http(&args, &url, count).await {
            Ok(ok) => ok,
            Err(code) => return code,
        },
        Target::Tcp { host, port } => match run_tcp(&args, &host, port, count).await {
            Ok(ok) => ok,
            Err(code) => return code,
        },
    };
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Report a problem that kept the check from running (exit code 2).
fn cannot_run(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("faultline probe: {e}");
    ExitCode::from(2)
}

/// `--icmp`: `count` echo requests to the target's host, one summary line (or object).
async fn run_icmp(args: &Args, target: &Target, count: u16) -> ExitCode {
    let host = match target {
        Target::Host(h) => h.clone(),
        Target::Tcp { host, .. } => host.clone(),
        Target::Http(_) => return cannot_run("--icmp needs a host, not a URL"),
    };
    let ip = match resolve_host(&host).await {
        Ok(ip) => ip,
        Err(e) => return cannot_run(e),
    };
    let prober = match IcmpProber::new() {
        Ok(p) => p,
        Err(e) => return cannot_run(e),
    };
    let opts = IcmpOptions {
        count,
        timeout: args.timeout,
        ..IcmpOptions::default()
    };
    let r = prober.ping(ip, &opts).await;
    if args.json {
        let v = serde_json::json!({
            "target": host, "address": ip, "signal": r.to_signal(),
            "sent": r.sent, "received": r.received, "min_rtt_ms": r.min_rtt_ms, "max_rtt_ms": r.max_rtt_ms,
            "error": r.last_error,
        });
        println!("{v}");
    } else {
        let rtt = r
            .rtt_ms
            .map(|v| format!(", rtt avg {v:.3} ms"))
            .unwrap_or_default();
        let err = r
            .last_error
            .as_ref()
            .filter(|_| r.received < r.sent)
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        println!(
            "icmp {host} ({ip}): {}/{} replies, loss {:.0}%{rtt}{err}",
            r.received,
            r.sent,
            r.loss() * 100.0
        );
    }
    if r.received > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `count` HTTP probes of `url`, each printed. `Ok(all passed)`, or the exit code when the
/// check could not run.
async fn run_http(args: &Args, url: &str, count: u16) -> Result<bool, ExitCode> {
    let prober = HttpProber::new().map_err(cannot_run)?;
    let mut check = HttpCheck::new(url.to_owned());
    check.expect_status = args.expect_status.clone();
    check.body_contains = args.body_contains.clone();
    check.timeout = args.timeout;
    if let Some(re) = &args.body_regex {
        check = check.with_regex(re).map_err(cannot_run)?;
    }
    let mut all_ok = true;
    for _ in 0..count {
        let o = prober.probe(&check).await;
        all_ok &= o.ok;
        print_outcome(url, &o, args.json);
    }
    Ok(all_ok)
}

/// `count` TCP connects to `host:port`, each printed. `Ok(all passed)`, or the exit code
/// when the host does not resolve.
async fn run_tcp(args: &Args, host: &str, port: u16, count: u16) -> Result<bool, ExitCode> {
    let ip = resolve_host(host).await.map_err(cannot_run)?;
    let name = format!("{host}:{port}");
    let mut all_ok = true;
    for _ in 0..count {
        let o = tcp_probe(std::net::SocketAddr::new(ip, port), args.timeout).await;
        all_ok &= o.ok;
        print_outcome(&name, &o, args.json);
    }
    Ok(all_ok)
}

fn print_outcome(target: &str, o: &faultline_probe::ProbeOutcome, json: bool) {
    if json {
        let v =
            serde_json::json!({ "target": target, "signal": o.to_signal(), "failure": o.failure });
        println!("{v}");
    } else {
        let status = o.status.map(|s| format!(" status {s}")).unwrap_or_default();
        let detail = o
            .detail
            .as_ref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        println!(
            "{} {target}:{status} in {:.1} ms{detail}",
            if o.ok { "OK  " } else { "FAIL" },
            o.latency_ms
        );
    }
}

#[cfg(test)]
mod duration_tests {
    use super::*;

    #[test]
    fn durations_parse_and_bad_ones_are_refused_without_panicking() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        for bad in ["0", "-1", "1e300", "inf", "NaN", "5 parsecs", ""] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
