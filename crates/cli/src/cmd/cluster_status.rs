//! `faultline cluster status --config F [--json]`: the distributed shape as NATS JetStream sees
//! it: which correlator leads (since when, how long its lease has left), the observation stream
//! (messages, bytes, replicas and the node leading it), each correlator's consumer lag, and each
//! zone's last batch (when, from which poller). Exit 0, 1 on a JetStream error, 2 on a bad
//! configuration, 3 when no NATS server answers.

use std::path::PathBuf;
use std::process::ExitCode;

use faultline_cluster::status::{ClusterStatus, cluster_status};
use faultline_cluster::{ClusterError, connect_now, jetstream};
use faultline_collector::config::Config;
use faultline_observe::time::{format_span, format_utc, now_ms};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Leader, stream (size, replicas, leading node), consumer lag, zones' last batches.
    Status(StatusArgs),
}

#[derive(clap::Args)]
pub struct StatusArgs {
    /// A correlator's or poller's configuration (its `[cluster] nats` servers are asked).
    #[arg(long, short, default_value = "faultline.toml")]
    pub config: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Exit codes, for `--help`.
pub const EXIT_CODES: &str =
    "Exit codes: 0 ok, 1 JetStream error, 2 bad configuration, 3 NATS unreachable";

pub fn run(a: Args) -> ExitCode {
    let Command::Status(a) = a.command;
    let cfg = match Config::load(&a.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("faultline cluster status: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(cluster) = cfg.cluster else {
        eprintln!(
            "faultline cluster status: {} has no [cluster] section (the single-process shape)",
            a.config.display()
        );
        return ExitCode::from(2);
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faultline cluster status: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let options = super::cluster::nats_options(&cluster);
    let status = rt.block_on(async {
        let client = connect_now(&options).await?;
        cluster_status(&jetstream(client)).await
    });
    match status {
        Ok(s) if a.json => match serde_json::to_string_pretty(&s) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("faultline cluster status: {e}");
                ExitCode::from(1)
            }
        },
        Ok(s) => {
            print!("{}", render(&s, now_ms()));
            ExitCode::SUCCESS
        }
        Err(e @ ClusterError::Connect { .. }) => {
            eprintln!("faultline cluster status: NATS unreachable: {e}");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("faultline cluster status: {e}");
            ExitCode::from(1)
        }
    }
}

/// The text form.
fn render(s: &ClusterStatus, now: u64) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    match &s.leader {
        Some(l) => {
            let _ = writeln!(
                out,
                "leader: {} since {} (lease {} left of {})",
                l.holder,
                format_utc(l.since),
                format_span(l.lease_left_ms),
                format_span(l.ttl_ms)
            );
        }
        None => out.push_str("leader: none (no correlator holds the lease)\n"),
    }
    let Some(st) = &s.stream else {
        out.push_str("stream: not created yet (no poller or correlator has connected)\n");
        return out;
    };
    let _ = writeln!(
        out,
        "stream {}: {} messages, {} bytes, last seq {}, leader {}",
        st.name,
        st.messages,
        st.bytes,
        st.last_seq,
        st.leader.as_deref().unwrap_or("none (election)")
    );
    for r in &st.replicas {
        let state = if r.offline {
            "offline"
        } else if r.current {
            "current"
        } else {
            "behind"
        };
        let lag = r.lag.map_or("-".to_string(), |l| l.to_string());
        let _ = writeln!(out, "  replica {:<12} {state:<8} lag {lag}", r.node);
    }
    out.push_str("consumers:\n");
    for c in &s.consumers {
        let _ = writeln!(
            out,
            "  {:<40} lag {:>8}  ack pending {:>6}  delivered seq {}",
            c.name, c.num_pending, c.ack_pending, c.delivered_seq
        );
    }
    out.push_str("zones:\n");
    for z in &s.zones {
        let last = z.last_at.map_or("-".to_string(), |t| {
            format!(
                "{} ({} ago)",
                format_utc(t),
                format_span(now.saturating_sub(t))
            )
        });
        let _ = writeln!(
            out,
            "  {:<32} {:>8} batches  last {last}  poller {}",
            z.subject,
            z.messages,
            z.poller.as_deref().unwrap_or("-")
        );
    }
    out
}
