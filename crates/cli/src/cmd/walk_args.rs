//! The SNMP options of the commands that walk the network (`discover`, `drift`): the same
//! credential flags and environment variables as `faultline poll`, secrets never printed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use faultline_discover::WalkOptions;
use faultline_snmp::Profiles;

use super::credentials::CredentialArgs;
pub use super::credentials::SECRETS_HELP;

/// SNMP credentials and request settings.
#[derive(clap::Args, Debug)]
pub struct SnmpArgs {
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// SNMP port of devices reached through an announced management address.
    #[arg(long, default_value_t = 161)]
    pub port: u16,
    /// Directory of extra/overriding profile TOML files.
    #[arg(long, value_name = "DIR")]
    pub profiles_dir: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 2.0)]
    pub timeout: f64,
    /// Retries per request after a timeout.
    #[arg(long, default_value_t = 1)]
    pub retries: u32,
}

impl SnmpArgs {
    /// Walk options for `seeds` (each HOST, HOST:PORT or an IP address).
    pub fn walk_options(
        &self,
        seeds: &[String],
        max_depth: u32,
        max_devices: usize,
    ) -> Result<WalkOptions, String> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout < 3600.0) {
            return Err("--timeout must be a positive number of seconds".into());
        }
        let seeds = seeds
            .iter()
            .map(|s| seed(s, self.port))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WalkOptions {
            seeds,
            credentials: self.credentials.credentials()?,
            port: self.port,
            max_depth,
            max_devices,
            timeout: Duration::from_secs_f64(self.timeout),
            retries: self.retries,
            max_repetitions: 25,
            profiles: Profiles::load(self.profiles_dir.as_deref()).map_err(|e| e.to_string())?,
        })
    }
}

/// `HOST[:PORT]` with `port` as the default.
fn seed(s: &str, port: u16) -> Result<SocketAddr, String> {
    let mut addr = super::poll::resolve(s)?;
    let explicit = s.parse::<SocketAddr>().is_ok()
        || (s.parse::<std::net::IpAddr>().is_err()
            && s.rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok()));
    if !explicit {
        addr.set_port(port);
    }
    Ok(addr)
}

/// Run a walk on a current-thread runtime, with a progress line on stderr when it is a
/// terminal (and a summary line always).
pub fn run_walk(opts: &WalkOptions) -> Result<faultline_discover::Discovery, String> {
    use std::io::IsTerminal;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let tty = std::io::stderr().is_terminal();
    let mut last = None;
    let d = rt.block_on(faultline_discover::walk(opts, &mut |p| {
        if tty {
            eprint!(
                "\rdepth {}: {} polled, {} unreachable, {} queued   ",
                p.depth, p.polled, p.unreachable, p.queued
            );
        }
        last = Some(p);
    }));
    if let Some(p) = last {
        eprintln!(
            "{}walked to depth {}: {} polled, {} unreachable",
            if tty { "\r" } else { "" },
            p.depth,
            p.polled,
            p.unreachable
        );
    }
    Ok(d)
}
