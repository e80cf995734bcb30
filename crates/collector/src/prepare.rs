//! Construction: everything a configuration needs, built and checked before anything runs.
//!
//! [`Collector::prepare`](crate::Collector::prepare) loads the topology, builds the pager
//! receivers (secrets read), resolves every credential set, checks each device's credential set
//! and profile, the trap community and the store's location, and plans what to watch. It
//! reports *every* problem at once, starts nothing, binds nothing and creates no file. `run`
//! starts what it returns; `run --check` prints its summary; a reload builds the new
//! configuration this way while the old one keeps running, and swaps only when it succeeds.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultline_model::Topology;
use faultline_notify::Receivers;
use faultline_secret::{Secret, SecretRef};
use faultline_snmp::{Credentials, Profiles};

use crate::config::Config;
use crate::plan::{Plan, TargetOverrides};

/// One thing that stops the collector from running with a configuration.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The topology file does not load (all of its own problems, with positions).
    #[error("topology: {0}")]
    Topology(#[from] faultline_model::LoadError),
    /// A `[[notify.receivers]]` entry (or `[notify]` setting) cannot be built.
    #[error("[notify] {0}")]
    Notify(faultline_notify::ConfigProblem),
    /// A credential set's secret cannot be read.
    #[error("[credentials.{set}] {problem}")]
    Credentials { set: String, problem: String },
    /// A device names (`snmp: NAME`) a credential set the configuration does not define.
    #[error(
        "device `{device}`: credential set `{name}` (its `snmp:`) is not defined in [credentials]"
    )]
    MissingCredentials { name: String, device: String },
    /// A device names (`profile: NAME`) a profile that does not exist.
    #[error("device `{device}`: unknown profile `{profile}` (known: {known})")]
    UnknownProfile {
        device: String,
        profile: String,
        known: String,
    },
    /// The trap community cannot be read.
    #[error("[traps] {0}")]
    Traps(String),
    /// The API token cannot be read, or `[api.auth]` / `[api.tls]` cannot be used.
    #[error("[api] {0}")]
    Api(String),
    /// A listen address others can reach, without `[api.auth]`.
    #[error(
        "[api] listen = {addr} is reachable from other hosts, but [api.auth] defines no token or \
         user: anyone who reaches it could read everything and act (acknowledge, maintenance). \
         Configure [api.auth] (README: \"Securing the API\"), listen on loopback, or pass \
         --insecure-listen to accept this"
    )]
    InsecureListen { addr: std::net::SocketAddr },
    /// The store file cannot be created or opened where the configuration says.
    #[error("[store] {path}: {problem}")]
    Store { path: PathBuf, problem: String },
}

/// Every problem found constructing a collector (never empty).
#[derive(Debug, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} in the configuration:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// A collector constructed from a valid configuration, not yet running: start it with
/// [`Prepared::start`](crate::Prepared::start), or read its [`Summary`].
pub struct Prepared {
    pub(crate) cfg: Config,
    pub(crate) plan: Plan,
    pub(crate) receivers: Receivers,
    /// Accepted v1/v2c trap communities (empty: v1/v2c traps refused).
    pub(crate) trap_communities: Vec<Secret>,
    /// `[api.auth]` and `[api] token`, read.
    pub(crate) access: Arc<crate::http::auth::Access>,
    /// `[api.tls]`, loaded.
    pub(crate) tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    pub(crate) simulated: bool,
    pub(crate) routes: Option<axum::Router>,
    /// Set by [`Collector::prepare`](crate::Collector::prepare) from the start options.
    pub(crate) shape: crate::Shape,
}

/// What a prepared collector will watch, for `run --check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub topology: String,
    pub devices: usize,
    pub services: usize,
    /// Devices polled over SNMP.
    pub polled: usize,
    /// Services probed.
    pub probed: usize,
    pub credential_sets: Vec<String>,
    pub receivers: Vec<String>,
    pub store: PathBuf,
}

impl Prepared {
    /// What this collector will watch, with which credentials and receivers.
    pub fn summary(&self) -> Summary {
        let g = self.plan.graph.topology();
        Summary {
            topology: self.plan.topology_name.clone(),
            devices: g.devices.len(),
            services: g.services.len(),
            polled: self
                .plan
                .targets
                .iter()
                .filter(|t| t.snmp.is_some())
                .count(),
            probed: self.plan.probes.len(),
            credential_sets: self.cfg.credentials.keys().cloned().collect(),
            receivers: self
                .cfg
                .notify
                .receivers
                .iter()
                .map(|r| r.name.clone())
                .collect(),
            store: self.cfg.store.path.clone(),
        }
    }
}

/// Build everything `cfg` needs; see the module documentation.
pub(crate) async fn prepare(
    cfg: Config,
    topology: Option<Topology>,
    overrides: Option<Arc<dyn TargetOverrides>>,
    routes: Option<axum::Router>,
) -> Result<Prepared, Problems> {
    let mut problems = Vec::new();
    let topology = match topology {
        Some(t) => Some(t),
        None => Topology::load(&cfg.topology)
            .map_err(|e| problems.push(Problem::Topology(e)))
            .ok(),
    };
    let receivers = Receivers::build(&cfg.notify)
        .map_err(|e| problems.extend(e.0.into_iter().map(Problem::Notify)))
        .ok();
    let credentials = resolve_credentials(&cfg, &mut problems);
    if let Some(t) = &topology {
        check_devices(&cfg, t, &mut problems);
    }
    let trap_communities = match &cfg.traps {
        Some(t) => one_secret(
            "community",
            (&t.community, &t.community_env, &t.community_file),
        )
        .map_err(|e| problems.push(Problem::Traps(e)))
        .unwrap_or_default()
        .into_iter()
        .collect(),
        None => Vec::new(),
    };
    let (access, tls) = api_access(&cfg.api, &mut problems);
    if let Some(p) = store_problem(&cfg.store.path) {
        problems.push(p);
    }
    let (Some(topology), Some(receivers), Some(access), true) =
        (topology, receivers, access, problems.is_empty())
    else {
        return Err(Problems(problems));
    };
    let plan = Plan::new(&cfg, &credentials, topology, overrides.as_deref()).await;
    Ok(Prepared {
        cfg,
        plan,
        receivers,
        trap_communities,
        access: Arc::new(access),
        tls,
        simulated: overrides.is_some(),
        routes,
        shape: crate::Shape::Single,
    })
}

/// `[api] token`, `[api.auth]` and `[api.tls]`, read; and a non-loopback `listen` refused
/// without authentication (unless `--insecure-listen`).
fn api_access(
    api: &crate::config::ApiConfig,
    problems: &mut Vec<Problem>,
) -> (
    Option<crate::http::auth::Access>,
    Option<Arc<tokio_rustls::rustls::ServerConfig>>,
) {
    let token = one_secret("token", (&api.token, &api.token_env, &api.token_file))
        .map_err(|e| problems.push(Problem::Api(e)))
        .unwrap_or_default();
    let access = crate::http::auth::Access::build(&api.auth, token)
        .map_err(|e| problems.extend(e.into_iter().map(Problem::Api)))
        .ok();
    let tls = api.tls.as_ref().and_then(|t| {
        crate::http::tls::load(t)
            .map_err(|e| problems.push(Problem::Api(format!("tls: {e}"))))
            .ok()
    });
    if !api.listen.ip().is_loopback() && !api.auth.enabled() && !api.insecure_listen {
        problems.push(Problem::InsecureListen { addr: api.listen });
    }
    (access, tls)
}

/// Every credential set, resolved (whether a device uses it or not: a set that cannot be read
/// is a mistake either way).
fn resolve_credentials(cfg: &Config, problems: &mut Vec<Problem>) -> BTreeMap<String, Credentials> {
    let mut out = BTreeMap::new();
    for (name, set) in &cfg.credentials {
        match set.resolve() {
            Ok(c) => {
                out.insert(name.clone(), c);
            }
            Err(list) => problems.extend(list.into_iter().map(|problem| Problem::Credentials {
                set: name.clone(),
                problem,
            })),
        }
    }
    out
}

/// Each device's `snmp:` credential set is defined and its `profile:` exists.
fn check_devices(cfg: &Config, topology: &Topology, problems: &mut Vec<Problem>) {
    let profiles = Profiles::embedded();
    for d in &topology.devices {
        if let Some(name) = &d.snmp
            && !cfg.credentials.contains_key(name)
        {
            problems.push(Problem::MissingCredentials {
                name: name.clone(),
                device: d.id.clone(),
            });
        }
        if let Some(profile) = &d.profile
            && profiles.get(profile).is_none()
        {
            problems.push(Problem::UnknownProfile {
                device: d.id.clone(),
                profile: profile.clone(),
                known: profiles.names().collect::<Vec<_>>().join(", "),
            });
        }
    }
}

/// An optional secret given inline, as `{what}_env` or `{what}_file`, read now; the error
/// names the key.
fn one_secret(
    what: &str,
    (inline, env, file): (&Option<Secret>, &Option<String>, &Option<PathBuf>),
) -> Result<Option<Secret>, String> {
    let r = SecretRef::from_parts(what, inline.clone(), env.clone(), file.clone());
    r.and_then(|r| r.map(|r| r.resolve()).transpose())
        .map_err(|e| {
            let key = match &e {
                faultline_secret::SecretError::Env(_) => format!("{what}_env"),
                faultline_secret::SecretError::File { .. } => format!("{what}_file"),
                _ => what.to_string(),
            };
            format!("{key}: {e}")
        })
}

/// Can the store be opened (an existing file) or created (its directory exists)? Checked
/// without creating anything.
fn store_problem(path: &Path) -> Option<Problem> {
    let problem = |problem: String| Problem::Store {
        path: path.to_owned(),
        problem,
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => None,
        Ok(_) => Some(problem("is not a regular file".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => None,
                Ok(_) => Some(problem(format!("{} is not a directory", dir.display()))),
                Err(e) => Some(problem(format!(
                    "cannot create it: directory {}: {e}",
                    dir.display()
                ))),
            }
        }
        Err(e) => Some(problem(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("f.toml")).unwrap()
    }

    const TOPOLOGY: &str = "name: t\ndevices:\n  - {id: a, kind: switch, address: 192.0.2.1}\n  \
        - {id: b, kind: switch, address: 192.0.2.2, snmp: core, profile: nope}\n";

    #[tokio::test]
    async fn every_problem_is_reported_and_nothing_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("missing-dir").join("fl.redb");
        let cfg = config(&format!(
            "topology = \"t.yaml\"\n[store]\npath = \"{}\"\n\
             [traps]\nlisten = \"127.0.0.1:0\"\ncommunity_env = \"FL_SURELY_UNSET_TRAP_XYZ\"\n",
            store.display()
        ));
        let topology = Topology::from_yaml_str(TOPOLOGY, "t.yaml").unwrap();
        let Err(Problems(problems)) = prepare(cfg, Some(topology), None, None).await else {
            panic!("a named credential set must exist");
        };
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            matches!(&problems[0], Problem::MissingCredentials { name, device } if name == "core" && device == "b"),
            "{text:?}"
        );
        assert!(
            matches!(&problems[1], Problem::UnknownProfile { profile, .. } if profile == "nope")
        );
        assert!(
            text[2].contains("FL_SURELY_UNSET_TRAP_XYZ is not set"),
            "{text:?}"
        );
        assert!(text[3].contains("missing-dir"), "{text:?}");
        assert_eq!(problems.len(), 4, "{text:?}");
        assert!(!store.exists() && !store.parent().unwrap().exists());
    }
}
