//! Device profiles: data (TOML) that tells the poller which vendor objects carry the HA role
//! and how their values map onto [`HaRole`], and which standby-readiness facts to read
//! ([`crate::readiness`]). Defaults are embedded; a user directory can add or override
//! profiles at runtime, so a new vendor or a new check needs no recompilation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_snmp::Oid;
use faultline_observe::HaRole;
use serde::{Deserialize, Serialize};

use crate::readiness::{self, ReadinessCheck, ReadinessSpec};

/// The profiles shipped with faultline (file name, TOML text).
const EMBEDDED: &[(&str, &str)] = &[
    ("generic.toml", include_str!("../profiles/generic.toml")),
    ("cisco-asa.toml", include_str!("../profiles/cisco-asa.toml")),
    ("fortigate.toml", include_str!("../profiles/fortigate.toml")),
    ("paloalto.toml", include_str!("../profiles/paloalto.toml")),
    (
        "checkpoint.toml",
        include_str!("../profiles/checkpoint.toml"),
    ),
    ("juniper.toml", include_str!("../profiles/juniper.toml")),
    (
        "keepalived.toml",
        include_str!("../profiles/keepalived.toml"),
    ),
    ("vrrp.toml", include_str!("../profiles/vrrp.toml")),
];

/// One device profile as written in its TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// sysObjectID prefixes this profile matches (dotted numeric). The longest match wins.
    #[serde(default)]
    pub sys_object_id_prefixes: Vec<String>,
    /// If set, sysDescr must also contain one of these (case-insensitive). For vendors whose
    /// product ids share a subtree with unrelated products (Cisco ASA vs Cisco switches).
    #[serde(default)]
    pub sys_descr_contains: Vec<String>,
    #[serde(default)]
    pub ha: Option<HaSpec>,
    /// Standby-readiness checks (`[[readiness]]`). The generic profile's checks apply to every
    /// device; a vendor profile adds its own and replaces generic ones of the same name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readiness: Vec<ReadinessSpec>,
}

/// Where the HA role lives in a vendor MIB. Three shapes cover the vendors we know:
/// plain scalars (PAN-OS, Check Point), a table with one row per member or instance (Cisco
/// ASA, Juniper, keepalived, VRRP) and the FortiGate "which row's serial is the primary" table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum HaSpec {
    Scalar {
        role_oid: String,
        #[serde(default)]
        peer_oid: Option<String>,
        #[serde(default)]
        sync_oid: Option<String>,
        #[serde(default)]
        mode_oid: Option<String>,
        #[serde(default)]
        standalone_values: Vec<String>,
        #[serde(default)]
        roles: BTreeMap<String, HaRole>,
        #[serde(default)]
        sync_values: BTreeMap<String, bool>,
    },
    Table {
        role_column: String,
        /// Read when `role_column` has no rows (e.g. VRRPv3 instead of RFC 2787).
        #[serde(default)]
        fallback_role_column: Option<String>,
        /// Only these row indices count (e.g. ASA primaryUnit 6 / secondaryUnit 7).
        #[serde(default)]
        row_indices: Vec<String>,
        /// The row whose `self_column` contains `self_contains` is this member; otherwise the
        /// first row is.
        #[serde(default)]
        self_column: Option<String>,
        #[serde(default)]
        self_contains: Option<String>,
        /// Combine all rows into one role (instances of one member) instead of self/peer rows.
        #[serde(default)]
        aggregate: bool,
        #[serde(default)]
        sync_column: Option<String>,
        #[serde(default)]
        roles: BTreeMap<String, HaRole>,
        #[serde(default)]
        sync_values: BTreeMap<String, bool>,
    },
    Serial {
        #[serde(default)]
        mode_oid: Option<String>,
        #[serde(default)]
        standalone_values: Vec<String>,
        self_serial_oid: String,
        serial_column: String,
        primary_serial_column: String,
        #[serde(default)]
        sync_column: Option<String>,
        #[serde(default)]
        checksum_column: Option<String>,
        #[serde(default)]
        sync_values: BTreeMap<String, bool>,
    },
}

impl HaSpec {
    /// Scalars to GET and table columns to walk for this spec.
    pub(crate) fn objects(&self) -> (Vec<&str>, Vec<&str>) {
        match self {
            HaSpec::Scalar {
                role_oid,
                peer_oid,
                sync_oid,
                mode_oid,
                ..
            } => {
                let mut s = vec![role_oid.as_str()];
                s.extend(
                    [peer_oid, sync_oid, mode_oid]
                        .into_iter()
                        .flatten()
                        .map(String::as_str),
                );
                (s, vec![])
            }
            HaSpec::Table {
                role_column,
                fallback_role_column,
                self_column,
                sync_column,
                ..
            } => {
                let mut c = vec![role_column.as_str()];
                c.extend(
                    [fallback_role_column, self_column, sync_column]
                        .into_iter()
                        .flatten()
                        .map(String::as_str),
                );
                (vec![], c)
            }
            HaSpec::Serial {
                mode_oid,
                self_serial_oid,
                serial_column,
                primary_serial_column,
                sync_column,
                checksum_column,
                ..
            } => {
                let mut s = vec![self_serial_oid.as_str()];
                s.extend(mode_oid.iter().map(String::as_str));
                let mut c = vec![serial_column.as_str(), primary_serial_column.as_str()];
                c.extend(
                    [sync_column, checksum_column]
                        .into_iter()
                        .flatten()
                        .map(String::as_str),
                );
                (s, c)
            }
        }
    }
}

/// Errors loading profiles. Each names the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("profile directory {dir}: {source}")]
    ReadDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("profile {file}: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("profile {file}: {source}")]
    Parse {
        file: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("profile {file}: invalid OID {oid:?} in {field}")]
    BadOid {
        file: PathBuf,
        field: &'static str,
        oid: String,
    },
    #[error("profile {file}: readiness check {check:?}: {reason}")]
    Readiness {
        file: PathBuf,
        check: String,
        reason: String,
    },
}

/// The set of known profiles, by name.
#[derive(Debug, Clone)]
pub struct Profiles {
    by_name: BTreeMap<String, Profile>,
    /// Effective readiness checks per profile name (generic merged with the profile's own).
    readiness: BTreeMap<String, Vec<ReadinessCheck>>,
}

impl Profiles {
    /// The embedded defaults plus every `*.toml` in `user_dir`. A user profile with the name of
    /// an embedded one replaces it.
    pub fn load(user_dir: Option<&Path>) -> Result<Profiles, ProfileError> {
        let mut by_name = BTreeMap::new();
        let mut own = BTreeMap::new();
        for (file, text) in EMBEDDED {
            let (p, checks) = parse(Path::new(file), text)?;
            own.insert(p.name.clone(), checks);
            by_name.insert(p.name.clone(), p);
        }
        if let Some(dir) = user_dir {
            let entries = std::fs::read_dir(dir).map_err(|source| ProfileError::ReadDir {
                dir: dir.to_owned(),
                source,
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            // Sorted so that two files declaring one name resolve the same way every time.
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file).map_err(|source| ProfileError::Read {
                    file: file.clone(),
                    source,
                })?;
                let (p, checks) = parse(&file, &text)?;
                own.insert(p.name.clone(), checks);
                by_name.insert(p.name.clone(), p);
            }
        }
        let generic = own.get("generic").cloned().unwrap_or_default();
        let readiness = own
            .iter()
            .map(|(name, checks)| (name.clone(), readiness::merge(&generic, checks)))
            .collect();
        Ok(Profiles { by_name, readiness })
    }

    /// Only the embedded defaults (cannot fail: they are checked by a unit test).
    pub fn embedded() -> Profiles {
        Profiles::load(None).unwrap_or_else(|_| Profiles {
            by_name: BTreeMap::new(),
            readiness: BTreeMap::new(),
        })
    }

    /// The readiness checks that apply to a device with profile `name`: the generic
    /// profile's, then the profile's own (which replace generic ones of the same name).
    pub fn readiness(&self, name: &str) -> &[ReadinessCheck] {
        self.readiness.get(name).map_or(&[], Vec::as_slice)
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// The profile whose longest sysObjectID prefix matches (on OID arc boundaries), else
    /// `generic`. Profiles that also require a sysDescr match are skipped; the poller uses
    /// [`Profiles::select_with_descr`].
    pub fn select(&self, sys_object_id: &str) -> Option<&Profile> {
        self.select_inner(sys_object_id, None)
    }

    /// Like [`Profiles::select`], also honouring `sys_descr_contains`.
    pub fn select_with_descr(&self, sys_object_id: &str, sys_descr: &str) -> Option<&Profile> {
        self.select_inner(sys_object_id, Some(sys_descr))
    }

    fn select_inner(&self, sys_object_id: &str, sys_descr: Option<&str>) -> Option<&Profile> {
        let oid = sys_object_id.trim_start_matches('.');
        let descr = sys_descr.map(str::to_ascii_lowercase);
        let mut best: Option<(&Profile, usize)> = None;
        for p in self.by_name.values() {
            if !p.sys_descr_contains.is_empty() {
                let Some(d) = &descr else { continue };
                if !p
                    .sys_descr_contains
                    .iter()
                    .any(|c| d.contains(&c.to_ascii_lowercase()))
                {
                    continue;
                }
            }
            for prefix in &p.sys_object_id_prefixes {
                let prefix = prefix.trim_start_matches('.');
                let matches = oid == prefix
                    || (oid.starts_with(prefix) && oid.as_bytes().get(prefix.len()) == Some(&b'.'));
                if matches && best.is_none_or(|(_, len)| prefix.len() > len) {
                    best = Some((p, prefix.len()));
                }
            }
        }
        best.map(|(p, _)| p).or_else(|| self.by_name.get("generic"))
    }
}

fn parse(file: &Path, text: &str) -> Result<(Profile, Vec<ReadinessCheck>), ProfileError> {
    let p: Profile = toml::from_str(text).map_err(|e| ProfileError::Parse {
        file: file.to_owned(),
        source: Box::new(e),
    })?;
    let bad = |field: &'static str, oid: &str| ProfileError::BadOid {
        file: file.to_owned(),
        field,
        oid: oid.to_owned(),
    };
    for prefix in &p.sys_object_id_prefixes {
        check_oid(prefix).ok_or_else(|| bad("sys_object_id_prefixes", prefix))?;
    }
    if let Some(ha) = &p.ha {
        let (scalars, columns) = ha.objects();
        for o in scalars.into_iter().chain(columns) {
            check_oid(o).ok_or_else(|| bad("ha", o))?;
        }
    }
    let mut checks: Vec<ReadinessCheck> = Vec::with_capacity(p.readiness.len());
    for spec in &p.readiness {
        let err = |reason: String| ProfileError::Readiness {
            file: file.to_owned(),
            check: spec.name.clone(),
            reason,
        };
        let check = readiness::compile(spec).map_err(err)?;
        if checks.iter().any(|c| c.name == check.name) {
            return Err(err("defined twice in this profile".into()));
        }
        checks.push(check);
    }
    Ok((p, checks))
}

fn check_oid(s: &str) -> Option<Oid> {
    let o = Oid::parse(s.trim_start_matches('.')).ok()?;
    (o.len() >= 2).then_some(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_profiles_parse_and_select() {
        let p = Profiles::load(None).unwrap();
        assert!(p.names().count() >= 8);
        assert_eq!(
            p.select("1.3.6.1.4.1.25461.2.3.18").unwrap().name,
            "paloalto"
        );
        assert_eq!(
            p.select(".1.3.6.1.4.1.12356.101.1.10004").unwrap().name,
            "fortigate"
        );
        assert_eq!(
            p.select("1.3.6.1.4.1.2636.1.1.1.2.25").unwrap().name,
            "juniper"
        );
        // Cisco: an ASA by sysDescr, a Catalyst switch in the same subtree stays generic.
        assert_eq!(
            p.select_with_descr(
                "1.3.6.1.4.1.9.1.2313",
                "Cisco Adaptive Security Appliance Version 9.16"
            )
            .unwrap()
            .name,
            "cisco-asa"
        );
        assert_eq!(
            p.select_with_descr("1.3.6.1.4.1.9.1.617", "Cisco IOS Software, C3560 Software")
                .unwrap()
                .name,
            "generic"
        );
        assert_eq!(p.select("1.3.6.1.4.1.9.1.2313").unwrap().name, "generic");
        // Arc boundary: .253 must not match the .25 prefix of anything.
        assert_eq!(p.select("1.3.6.1.4.1.25461").unwrap().name, "generic");
        assert_eq!(p.select("1.3.6.1.4.1.8072.3.2.10").unwrap().name, "generic");
    }

    #[test]
    fn user_dir_adds_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("acme.toml"),
            "name = \"acme\"\nsys_object_id_prefixes = [\"1.3.6.1.4.1.99999\"]\n[ha]\nkind = \"scalar\"\nrole_oid = \"1.3.6.1.4.1.99999.1.0\"\n[ha.roles]\n\"1\" = \"active\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("pa.toml"),
            "name = \"paloalto\"\nsys_object_id_prefixes = [\"1.3.6.1.4.1.25461.9\"]\n",
        )
        .unwrap();
        let p = Profiles::load(Some(dir.path())).unwrap();
        assert_eq!(p.select("1.3.6.1.4.1.99999.5").unwrap().name, "acme");
        assert_eq!(
            p.select("1.3.6.1.4.1.25461.2.3.18").unwrap().name,
            "generic"
        );
        assert_eq!(p.select("1.3.6.1.4.1.25461.9.1").unwrap().name, "paloalto");
    }

    #[test]
    fn user_profile_adds_readiness_checks_without_code() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("acme.toml"),
            r#"
name = "acme"
sys_object_id_prefixes = ["1.3.6.1.4.1.99999"]

[[readiness]]
name = "acme_sync"
oid = "1.3.6.1.4.1.99999.7.1.0"
rule = "equal"
value = "in-sync"
lowercase = true
values = { "in-sync" = "synchronised" }

# Replaces the generic check of the same name for this vendor only.
[[readiness]]
name = "route_count"
oid = "1.3.6.1.4.1.99999.7.2.0"
rule = "within_percent_of_active"
tolerance_percent = 25
"#,
        )
        .unwrap();
        let p = Profiles::load(Some(dir.path())).unwrap();
        let names =
            |n: &str| -> Vec<String> { p.readiness(n).iter().map(|c| c.name.clone()).collect() };
        let acme = names("acme");
        assert!(acme.contains(&"acme_sync".to_string()), "{acme:?}");
        assert!(acme.contains(&"ip_forwarding".to_string()), "{acme:?}");
        assert_eq!(acme.iter().filter(|n| *n == "route_count").count(), 1);
        let rc = p
            .readiness("acme")
            .iter()
            .find(|c| c.name == "route_count")
            .unwrap();
        assert_eq!(
            rc.rule,
            faultline_observe::ReadinessRule::WithinPercentOfActive { percent: 25.0 }
        );
        // Other profiles keep the generic check.
        let generic_rc = p
            .readiness("fortigate")
            .iter()
            .find(|c| c.name == "route_count")
            .unwrap();
        assert_eq!(
            generic_rc.rule,
            faultline_observe::ReadinessRule::WithinPercentOfActive { percent: 10.0 }
        );
        assert!(p.readiness("no-such-profile").is_empty());
    }

    #[test]
    fn bad_readiness_check_names_file_and_check() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("broken.toml"),
            "name = \"x\"\n[[readiness]]\nname = \"prio\"\noid = \"1.3.6.1.2.1.4.1.0\"\nrule = \"at_least\"\n",
        )
        .unwrap();
        let err = Profiles::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("broken.toml") && err.contains("prio") && err.contains("min"),
            "{err}"
        );
        std::fs::write(
            dir.path().join("broken.toml"),
            "name = \"x\"\n[[readiness]]\nname = \"a\"\noid = \"1.3.6.1.2.1.4.1.0\"\nrule = \"match_active\"\n[[readiness]]\nname = \"a\"\noid = \"1.3.6.1.2.1.4.1.0\"\nrule = \"match_active\"\n",
        )
        .unwrap();
        let err = Profiles::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("defined twice"), "{err}");
    }

    #[test]
    fn bad_profile_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("broken.toml"),
            "name = \"x\"\nsys_object_id_prefixes = [\"not.an.oid\"]\n",
        )
        .unwrap();
        let err = Profiles::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("broken.toml") && err.contains("not.an.oid"),
            "{err}"
        );
        std::fs::write(dir.path().join("broken.toml"), "name = [").unwrap();
        let err = Profiles::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("broken.toml"), "{err}");
    }
}
