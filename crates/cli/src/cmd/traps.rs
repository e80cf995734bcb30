//! `faultline traps`: listen for SNMP traps and informs and print them as they arrive.

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use faultline_snmp::names;
use faultline_trap::{
    AuthProtocol, PrivProtocol, Secret, TrapConfig, TrapEvent, TrapReceiver, V3User,
};

#[derive(clap::Args)]
pub struct Args {
    /// UDP address to listen on
    #[arg(long, default_value = "127.0.0.1:1162")]
    pub listen: SocketAddr,
    /// Accepted v1/v2c community (repeatable). Without any, every community is accepted.
    /// Prefer FAULTLINE_TRAP_COMMUNITY to keep it out of the process list.
    #[arg(
        long = "community",
        value_name = "C",
        env = "FAULTLINE_TRAP_COMMUNITY",
        hide_env_values = true
    )]
    pub communities: Vec<String>,
    /// Accepted source, as IP or IP=DEVICE_ID (repeatable). Without any, every source is
    /// accepted and named by its address.
    #[arg(long = "allow-source", value_name = "IP[=DEVICE]")]
    pub allow_source: Vec<String>,
    /// Accept SNMPv3 traps/informs from this USM user (authNoPriv or authPriv). Pass phrases
    /// come from FAULTLINE_TRAP_V3_AUTH_PASS and FAULTLINE_TRAP_V3_PRIV_PASS, never from flags.
    #[arg(long = "v3-user", value_name = "NAME")]
    pub v3_user: Option<String>,
    /// v3 authentication protocol: md5, sha, sha224, sha256, sha384, sha512
    #[arg(long = "v3-auth", default_value = "sha")]
    pub v3_auth: String,
    /// v3 privacy protocol: none, aes, aes192, aes256
    #[arg(long = "v3-priv", default_value = "aes")]
    pub v3_priv: String,
    /// File keeping the v3 engine id and boots across restarts
    #[arg(long = "engine-state", value_name = "PATH")]
    pub engine_state: Option<std::path::PathBuf>,
    /// Print one JSON object per trap (and the final counters as JSON)
    #[arg(long)]
    pub json: bool,
}

fn v3_user(args: &Args) -> Result<Option<V3User>, String> {
    let Some(name) = args.v3_user.clone() else {
        return Ok(None);
    };
    let auth = match args.v3_auth.to_ascii_lowercase().as_str() {
        "md5" => AuthProtocol::Md5,
        "sha" | "sha1" => AuthProtocol::Sha1,
        "sha224" => AuthProtocol::Sha224,
        "sha256" => AuthProtocol::Sha256,
        "sha384" => AuthProtocol::Sha384,
        "sha512" => AuthProtocol::Sha512,
        other => {
            return Err(format!(
                "--v3-auth {other:?}: expected md5, sha, sha224, sha256, sha384 or sha512"
            ));
        }
    };
    let auth_pass = std::env::var("FAULTLINE_TRAP_V3_AUTH_PASS").map_err(|_| {
        "--v3-user needs FAULTLINE_TRAP_V3_AUTH_PASS in the environment".to_string()
    })?;
    let privacy = match args.v3_priv.to_ascii_lowercase().as_str() {
        "none" => None,
        p => {
            let proto = match p {
                "aes" | "aes128" => PrivProtocol::Aes128,
                "aes192" => PrivProtocol::Aes192Blumenthal,
                "aes256" => PrivProtocol::Aes256Blumenthal,
                other => {
                    return Err(format!(
                        "--v3-priv {other:?}: expected none, aes, aes192 or aes256"
                    ));
                }
            };
            let pass = std::env::var("FAULTLINE_TRAP_V3_PRIV_PASS").map_err(|_| {
                "--v3-priv needs FAULTLINE_TRAP_V3_PRIV_PASS in the environment".to_string()
            })?;
            Some((proto, Secret::new(pass)))
        }
    };
    Ok(Some(V3User {
        name,
        auth,
        auth_pass: Secret::new(auth_pass),
        privacy,
    }))
}

pub fn run(args: Args) -> ExitCode {
    // One thread: the front, the decoder and the printer hand traps to each other within it,
    // without waking another thread (a context switch and a futex call per hand-off).
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faultline traps: cannot start runtime: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(run_async(args))
}

fn parse_sources(list: &[String]) -> Result<HashMap<IpAddr, String>, String> {
    let mut out = HashMap::new();
    for s in list {
        let (ip, id) = match s.split_once('=') {
            Some((ip, id)) => (ip, id.to_string()),
            None => (s.as_str(), s.clone()),
        };
        let ip: IpAddr = ip
            .trim()
            .parse()
            .map_err(|_| format!("--allow-source {s:?}: not an IP address"))?;
        out.insert(ip, id);
    }
    Ok(out)
}

async fn run_async(args: Args) -> ExitCode {
    let sources = match parse_sources(&args.allow_source) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("faultline traps: {e}");
            return ExitCode::from(2);
        }
    };
    let user = match v3_user(&args) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("faultline traps: {e}");
            return ExitCode::from(2);
        }
    };
    let mut config = TrapConfig::new(args.listen);
    config.v3_users = user.into_iter().collect();
    config.engine_state = args.engine_state.clone();
    config.accept_unknown_sources = sources.is_empty();
    config.sources = sources;
    config.accept_any_community = args.communities.is_empty();
    config.communities = args.communities.into_iter().map(Secret::new).collect();
    let (receiver, mut events) = match TrapReceiver::bind(config).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("faultline traps: {e}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "listening for traps on {} (Ctrl-C to stop)",
        receiver.local_addr()
    );
    // Every trap delivered since the last wakeup is printed into one buffer and written at
    // once: one write per batch, not one per line.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut batch = Vec::with_capacity(EVENT_BATCH);
    let mut text = Vec::with_capacity(PRINT_BUFFER);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => break,
            n = events.recv_many(&mut batch, EVENT_BATCH) => {
                if n == 0 {
                    break;
                }
                if let Err(e) = print_batch(&batch, args.json, &mut text) {
                    eprintln!("faultline traps: cannot write output: {e}");
                    break;
                }
                batch.clear();
            }
        }
    }
    let stats = receiver.stats();
    if args.json {
        println!("{}", serde_json::json!({ "stats": stats }));
    } else {
        eprintln!(
            "received {} decoded {} rejected_source {} rejected_auth {} malformed {} dropped_queue_full {}",
            stats.received,
            stats.decoded,
            stats.rejected_source,
            stats.rejected_auth,
            stats.malformed,
            stats.dropped_queue_full
        );
    }
    receiver.shutdown().await;
    ExitCode::SUCCESS
}

/// Traps taken off the receiver per wakeup at most (and so printed per write).
const EVENT_BATCH: usize = 256;

/// The text of a batch is built here before its one write; kept between batches.
const PRINT_BUFFER: usize = 64 << 10;

/// Print a batch of traps to stdout with one write: the text is built in `text` (cleared
/// first, its allocation kept for the next batch).
fn print_batch(batch: &[TrapEvent], json: bool, text: &mut Vec<u8>) -> std::io::Result<()> {
    text.clear();
    for e in batch {
        print_event(text, e, json)?;
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text)?;
    stdout.flush()
}

/// One trap as it arrived: with `json`, the event as one JSON object plus `trap_name` and
/// `varbind_names` (the names faultline knows, `IF-MIB::linkDown`); otherwise a header line,
/// the varbinds by name (`IF-MIB::ifOperStatus.3 = down(2)`) and the observations.
fn print_event(out: &mut impl Write, e: &TrapEvent, json: bool) -> std::io::Result<()> {
    if json {
        let mut doc = match serde_json::to_value(e) {
            Ok(doc) => doc,
            Err(err) => {
                eprintln!("cannot encode event: {err}");
                return Ok(());
            }
        };
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("trap_name".into(), names::display(&e.trap_oid).into());
            let shown: Vec<String> = e.varbinds.iter().map(|(o, _)| names::display(o)).collect();
            obj.insert("varbind_names".into(), shown.into());
        }
        return writeln!(out, "{doc}");
    }
    let device = e.device_id.as_deref().unwrap_or("?");
    writeln!(
        out,
        "{} {} {} {}{} trap {}",
        e.received_at,
        e.source,
        device,
        e.version,
        if e.inform { " inform" } else { "" },
        names::display(&e.trap_oid)
    )?;
    for (oid, value) in &e.varbinds {
        out.write_all(b"    ")?;
        write_varbind(out, oid, value)?;
        out.write_all(b"\n")?;
    }
    for o in &e.observations {
        out.write_all(b"    -> ")?;
        if let Err(err) = serde_json::to_writer(&mut *out, o) {
            eprintln!("cannot encode observation: {err}");
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// `NAME = VALUE` written straight to `out`: an INTEGER with an enumeration as net-snmp shows
/// it (`IF-MIB::ifOperStatus.3 = down(2)`).
fn write_varbind(out: &mut impl Write, oid: &str, value: &str) -> std::io::Result<()> {
    let label = value
        .parse::<i64>()
        .ok()
        .and_then(|v| names::enum_label(oid, v).map(|l| (l, v)));
    match label {
        Some((l, v)) => write!(out, "{} = {l}({v})", names::display(oid)),
        None => write!(out, "{} = {value}", names::display(oid)),
    }
}

/// [`write_varbind`] into a string.
#[cfg(test)]
fn varbind_line(oid: &str, value: &str) -> String {
    let mut line = Vec::new();
    let _ = write_varbind(&mut line, oid, value);
    String::from_utf8_lossy(&line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::varbind_line;

    #[test]
    fn trap_varbinds_by_name() {
        assert_eq!(
            varbind_line("1.3.6.1.2.1.2.2.1.8.3", "2"),
            "IF-MIB::ifOperStatus.3 = down(2)"
        );
        assert_eq!(
            varbind_line("1.3.6.1.2.1.2.2.1.1.3", "3"),
            "IF-MIB::ifIndex.3 = 3"
        );
        assert_eq!(
            varbind_line("1.3.6.1.4.1.99999.1", "x"),
            "SNMPv2-SMI::enterprises.99999.1 = x"
        );
    }
}
