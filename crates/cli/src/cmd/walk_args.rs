//! The SNMP options of the commands that walk the network (`discover`, `drift`): the same
//! credential flags and environment variables as `faultline poll`, secrets never printed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use faultline_discover::WalkOptions;
use faultline_snmp::{AuthProto, Credentials, PrivProto, Profiles, Secret};

/// Shown under `--help`.
pub const SECRETS_HELP: &str = "\
Keep secrets out of shell history and process lists by passing them in the environment:
  FAULTLINE_COMMUNITY   community (v1/v2c), instead of --community
  FAULTLINE_AUTH_PASS   v3 authentication passphrase (or the variable named by --auth-pass-env)
  FAULTLINE_PRIV_PASS   v3 privacy passphrase (or the variable named by --priv-pass-env)";

/// SNMP credentials and request settings.
#[derive(clap::Args, Debug)]
pub struct SnmpArgs {
    /// SNMP version: 1, 2c or 3.
    #[arg(long = "version", value_name = "1|2c|3", default_value = "2c")]
    pub snmp_version: String,
    /// Community (v1/v2c).
    #[arg(
        long,
        short = 'c',
        env = "FAULTLINE_COMMUNITY",
        hide_env_values = true,
        default_value = "public"
    )]
    pub community: Secret,
    /// SNMPv3 user name.
    #[arg(long, short = 'u')]
    pub user: Option<String>,
    /// SNMPv3 authentication protocol: md5, sha, sha224, sha256, sha384, sha512.
    #[arg(long)]
    pub auth_proto: Option<AuthProto>,
    /// Name of the environment variable holding the authentication passphrase.
    #[arg(long, value_name = "VAR", default_value = "FAULTLINE_AUTH_PASS")]
    pub auth_pass_env: String,
    /// SNMPv3 privacy protocol: des, aes, aes192, aes256.
    #[arg(long)]
    pub priv_proto: Option<PrivProto>,
    /// Name of the environment variable holding the privacy passphrase.
    #[arg(long, value_name = "VAR", default_value = "FAULTLINE_PRIV_PASS")]
    pub priv_pass_env: String,
    /// SNMPv3 context name.
    #[arg(long, default_value = "")]
    pub context: String,
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
    fn credentials(&self) -> Result<Credentials, String> {
        match self.snmp_version.as_str() {
            "1" | "v1" => Ok(Credentials::V1 {
                community: self.community.clone(),
            }),
            "2c" | "v2c" | "2" => Ok(Credentials::V2c {
                community: self.community.clone(),
            }),
            "3" | "v3" => {
                let user = self.user.clone().ok_or("--version 3 needs --user")?;
                let secret = |var: &str, what: &str| {
                    Secret::from_env(var).map_err(|e| format!("{what} passphrase: {e}"))
                };
                let auth = match self.auth_proto {
                    Some(p) => Some((p, secret(&self.auth_pass_env, "auth")?)),
                    None => None,
                };
                let privacy = match self.priv_proto {
                    Some(p) => Some((p, secret(&self.priv_pass_env, "privacy")?)),
                    None => None,
                };
                Ok(Credentials::V3 {
                    user,
                    auth,
                    privacy,
                    context: self.context.clone(),
                })
            }
            other => Err(format!("unknown SNMP version {other:?} (use 1, 2c or 3)")),
        }
    }

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
            credentials: self.credentials()?,
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
