//! Standby readiness checks: profile data that says which facts to read so the engine can
//! tell, hours before a failover, whether a spare could take over (issue #10).
//!
//! A profile's `[[readiness]]` entries ([`ReadinessSpec`], as written in TOML) are checked and
//! compiled at load time into [`ReadinessCheck`]s. Every poll reads their objects (scalars in
//! the GETs the poll makes anyway, table columns in the walk of the HA columns) and
//! [`decode`] turns the answers into one [`Fact`] per check. Reading only; judging members
//! against each other is the engine's job.
//!
//! A fact is [`Fact::Absent`] when the agent said the object is not there (noSuchObject,
//! noSuchInstance, endOfMibView, v1 noSuchName, or a table column without rows). When the
//! object was not read at all (the request failed) the check emits nothing.

use std::collections::{BTreeMap, BTreeSet};

use faultline_observe::{Fact, Observation, ReadinessRule, Signal, Subject, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::decode::{RawPoll, SnmpValue};

/// Longest text fact kept; longer strings (a broken agent) are cut at a char boundary.
const MAX_TEXT: usize = 256;

/// Default tolerance of `within_percent_of_active` when the profile gives none.
pub const DEFAULT_TOLERANCE_PERCENT: f64 = 10.0;

/// One `[[readiness]]` entry as written in a profile.
///
/// ```toml
/// [[readiness]]
/// name = "ip_forwarding"
/// oid = "1.3.6.1.2.1.4.1.0"        # a scalar ...
/// rule = "match_active"
/// values = { "1" = "forwarding", "2" = "notForwarding" }
///
/// [[readiness]]
/// name = "vrrp_priority"
/// table = "1.3.6.1.2.1.68.1.3.1"   # ... or a table entry, a column and an aggregate
/// column = 5
/// aggregate = "min"
/// rule = "not_equal"
/// value = 0
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessSpec {
    /// The check's name, unique within the profile (a vendor profile's check replaces the
    /// generic profile's check of the same name).
    pub name: String,
    /// A scalar instance (ends in `.0`, or a fixed table cell).
    #[serde(default)]
    pub oid: Option<String>,
    /// Read when `oid` is absent (e.g. ipCidrRouteNumber for inetCidrRouteNumber).
    #[serde(default)]
    pub fallback_oid: Option<String>,
    /// A table entry OID (`...Entry`, the parent of the columns).
    #[serde(default)]
    pub table: Option<String>,
    /// The column number under `table` to aggregate.
    #[serde(default)]
    pub column: Option<u32>,
    /// Only rows whose index starts with this (walks only that slice of the column).
    #[serde(default)]
    pub index_prefix: Option<String>,
    /// Only these row indices count.
    #[serde(default)]
    pub rows: Vec<String>,
    #[serde(default)]
    pub aggregate: Option<AggregateKind>,
    /// Values `count_where` and `any_equal` look for (integers or strings).
    #[serde(default)]
    pub matching: Vec<ProfileValue>,
    /// `own_row`: the column whose value identifies the answering member ...
    #[serde(default)]
    pub key_column: Option<u32>,
    /// ... and the scalar that holds that identity on the member (e.g. its serial number).
    #[serde(default)]
    pub key_oid: Option<String>,
    pub rule: RuleKind,
    /// `equal` / `not_equal`: the value.
    #[serde(default)]
    pub value: Option<ProfileValue>,
    /// `at_least`: the minimum.
    #[serde(default)]
    pub min: Option<i64>,
    /// `within_percent_of_active`: the tolerance (default 10).
    #[serde(default)]
    pub tolerance_percent: Option<f64>,
    /// Raw value (decimal or text, case-insensitive; `absent` for Absent) → what humans read.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Lower-case text facts (vendors that vary the case of their status strings); text in
    /// `value` and `matching` is lower-cased too.
    #[serde(default)]
    pub lowercase: bool,
}

/// How the rows of a table column become one fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateKind {
    /// Number of rows.
    Count,
    /// Number of rows whose value is one of `matching`.
    CountWhere,
    /// Smallest numeric value.
    Min,
    /// Largest numeric value.
    Max,
    /// 1 if any row's value is one of `matching`, else 0.
    AnyEqual,
    /// The value in the row that belongs to the answering member (`key_column` = `key_oid`).
    OwnRow,
}

/// The rule as written in TOML; its parameters are separate keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    MatchActive,
    Equal,
    NotEqual,
    WithinPercentOfActive,
    AtLeast,
}

/// An integer or a string in a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProfileValue {
    Int(i64),
    Text(String),
}

impl ProfileValue {
    /// As a fact; text lower-cased when the check lower-cases what it reads, so that rule
    /// values compare with the facts as read.
    fn fact(&self, lowercase: bool) -> Fact {
        match self {
            ProfileValue::Int(i) => Fact::Int(*i),
            ProfileValue::Text(t) if lowercase => Fact::Text(t.to_lowercase()),
            ProfileValue::Text(t) => Fact::Text(t.clone()),
        }
    }
}

/// A checked, compiled readiness check.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadinessCheck {
    pub name: String,
    pub read: FactRead,
    pub rule: ReadinessRule,
    /// Lower-cased raw value → shown form.
    shown: BTreeMap<String, String>,
    lowercase: bool,
}

/// Where a check's fact comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum FactRead {
    Scalar {
        oid: String,
        fallback: Option<String>,
    },
    Table {
        /// `table.column`.
        column: String,
        /// What is walked: `column`, or `column.index_prefix`.
        root: String,
        rows: Vec<String>,
        aggregate: Aggregate,
    },
}

/// A compiled table aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum Aggregate {
    Count,
    CountWhere(Vec<Fact>),
    Min,
    Max,
    AnyEqual(Vec<Fact>),
    OwnRow { key_column: String, key_oid: String },
}

/// What one check read in one poll (for the report).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadinessReport {
    pub check: String,
    pub value: Fact,
    pub shown: Option<String>,
    pub rule: ReadinessRule,
}

impl ReadinessCheck {
    /// Scalars to GET.
    pub(crate) fn scalars(&self) -> Vec<&str> {
        match &self.read {
            FactRead::Scalar { oid, fallback } => {
                let mut v = vec![oid.as_str()];
                v.extend(fallback.as_deref());
                v
            }
            FactRead::Table {
                aggregate: Aggregate::OwnRow { key_oid, .. },
                ..
            } => vec![key_oid.as_str()],
            FactRead::Table { .. } => vec![],
        }
    }

    /// Walk roots.
    pub(crate) fn walks(&self) -> Vec<&str> {
        match &self.read {
            FactRead::Scalar { .. } => vec![],
            FactRead::Table {
                root, aggregate, ..
            } => {
                let mut v = vec![root.as_str()];
                if let Aggregate::OwnRow { key_column, .. } = aggregate {
                    v.push(key_column.as_str());
                }
                v
            }
        }
    }

    /// The shown form of a fact, from the profile's value map.
    fn shown(&self, fact: &Fact) -> Option<String> {
        let key = match fact {
            Fact::Int(i) => i.to_string(),
            Fact::Text(t) => t.to_lowercase(),
            Fact::Absent => "absent".to_owned(),
        };
        self.shown.get(&key).cloned()
    }
}

/// Check a spec and compile it. The error says what is wrong, without the file (the caller
/// adds it).
pub fn compile(spec: &ReadinessSpec) -> Result<ReadinessCheck, String> {
    if spec.name.trim().is_empty() {
        return Err("a readiness check needs a name".into());
    }
    let read = match (&spec.oid, &spec.table) {
        (Some(oid), None) => {
            if spec.column.is_some()
                || spec.aggregate.is_some()
                || spec.index_prefix.is_some()
                || !spec.rows.is_empty()
                || spec.key_column.is_some()
            {
                return Err("`oid` reads a scalar: `column`, `aggregate`, `index_prefix`, `rows` and `key_column` need `table`".into());
            }
            FactRead::Scalar {
                oid: oid_text(oid, "oid")?,
                fallback: spec
                    .fallback_oid
                    .as_deref()
                    .map(|o| oid_text(o, "fallback_oid"))
                    .transpose()?,
            }
        }
        (None, Some(table)) => compile_table(spec, &oid_text(table, "table")?)?,
        _ => return Err("give exactly one of `oid` (a scalar) or `table`".into()),
    };
    let rule = compile_rule(spec)?;
    Ok(ReadinessCheck {
        name: spec.name.clone(),
        read,
        rule,
        shown: spec
            .values
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.clone()))
            .collect(),
        lowercase: spec.lowercase,
    })
}

fn compile_table(spec: &ReadinessSpec, table: &str) -> Result<FactRead, String> {
    if spec.fallback_oid.is_some() {
        return Err("`fallback_oid` is for scalars (`oid`)".into());
    }
    let col = spec.column.ok_or("`table` needs `column`")?;
    let kind = spec.aggregate.ok_or("`table` needs `aggregate`")?;
    let column = format!("{table}.{col}");
    let root = match &spec.index_prefix {
        Some(p) => format!("{column}.{}", oid_text(p, "index_prefix")?),
        None => column.clone(),
    };
    let needs_matching = matches!(kind, AggregateKind::CountWhere | AggregateKind::AnyEqual);
    if needs_matching == spec.matching.is_empty() {
        return Err(if needs_matching {
            "`count_where` and `any_equal` need `matching`".into()
        } else {
            "`matching` only goes with `count_where` or `any_equal`".into()
        });
    }
    let own_row = kind == AggregateKind::OwnRow;
    if own_row != (spec.key_column.is_some() && spec.key_oid.is_some())
        || (!own_row && (spec.key_column.is_some() || spec.key_oid.is_some()))
    {
        return Err(
            "`own_row` needs both `key_column` and `key_oid` (and only it takes them)".into(),
        );
    }
    if own_row && spec.index_prefix.is_some() {
        return Err("`own_row` reads whole columns: drop `index_prefix`".into());
    }
    let matching = || {
        spec.matching
            .iter()
            .map(|v| v.fact(spec.lowercase))
            .collect()
    };
    let aggregate = match kind {
        AggregateKind::Count => Aggregate::Count,
        AggregateKind::CountWhere => Aggregate::CountWhere(matching()),
        AggregateKind::Min => Aggregate::Min,
        AggregateKind::Max => Aggregate::Max,
        AggregateKind::AnyEqual => Aggregate::AnyEqual(matching()),
        AggregateKind::OwnRow => Aggregate::OwnRow {
            key_column: format!("{table}.{}", spec.key_column.unwrap_or_default()),
            key_oid: oid_text(spec.key_oid.as_deref().unwrap_or_default(), "key_oid")?,
        },
    };
    Ok(FactRead::Table {
        column,
        root,
        rows: spec.rows.clone(),
        aggregate,
    })
}

fn compile_rule(spec: &ReadinessSpec) -> Result<ReadinessRule, String> {
    let extra = |allowed: &[&str]| -> Result<(), String> {
        let given = [
            ("value", spec.value.is_some()),
            ("min", spec.min.is_some()),
            ("tolerance_percent", spec.tolerance_percent.is_some()),
        ];
        match given.iter().find(|(k, set)| *set && !allowed.contains(k)) {
            Some((k, _)) => Err(format!("rule {:?} takes no `{k}`", spec.rule)),
            None => Ok(()),
        }
    };
    Ok(match spec.rule {
        RuleKind::MatchActive => {
            extra(&[])?;
            ReadinessRule::MatchActive
        }
        RuleKind::Equal | RuleKind::NotEqual => {
            extra(&["value"])?;
            let value = spec
                .value
                .as_ref()
                .ok_or("rules `equal` and `not_equal` need `value`")?
                .fact(spec.lowercase);
            if spec.rule == RuleKind::Equal {
                ReadinessRule::Equal { value }
            } else {
                ReadinessRule::NotEqual { value }
            }
        }
        RuleKind::WithinPercentOfActive => {
            extra(&["tolerance_percent"])?;
            let percent = spec.tolerance_percent.unwrap_or(DEFAULT_TOLERANCE_PERCENT);
            if !percent.is_finite() || percent < 0.0 {
                return Err(format!("tolerance_percent {percent} must be >= 0"));
            }
            ReadinessRule::WithinPercentOfActive { percent }
        }
        RuleKind::AtLeast => {
            extra(&["min"])?;
            ReadinessRule::AtLeast {
                min: spec.min.ok_or("rule `at_least` needs `min`")?,
            }
        }
    })
}

/// The dotted form of an OID from a profile, checked.
fn oid_text(s: &str, field: &str) -> Result<String, String> {
    let t = s.trim_start_matches('.');
    match async_snmp::Oid::parse(t) {
        Ok(o) if !o.is_empty() => Ok(o.to_string()),
        _ => Err(format!("invalid OID {s:?} in `{field}`")),
    }
}

/// The effective checks of a profile: the generic profile's, replaced or extended by the
/// profile's own (same name: the profile's wins), in file order.
pub fn merge(generic: &[ReadinessCheck], own: &[ReadinessCheck]) -> Vec<ReadinessCheck> {
    let own_names: BTreeSet<&str> = own.iter().map(|c| c.name.as_str()).collect();
    generic
        .iter()
        .filter(|c| !own_names.contains(c.name.as_str()))
        .chain(own)
        .cloned()
        .collect()
}

/// A value as a fact: integers as `Int`, text as `Text` (hex when not printable).
pub fn fact_of(v: &SnmpValue, lowercase: bool) -> Fact {
    match v {
        SnmpValue::Int(i) => Fact::Int(*i),
        SnmpValue::Uint(u) => {
            i64::try_from(*u).map_or_else(|_| Fact::Text(u.to_string()), Fact::Int)
        }
        SnmpValue::Oid(o) => Fact::Text(o.clone()),
        SnmpValue::Bytes(b) => {
            let trimmed = b
                .iter()
                .rposition(|c| *c != 0)
                .map_or(&b[..0], |end| &b[..=end]);
            let text = match std::str::from_utf8(trimmed) {
                Ok(s) if !s.chars().any(char::is_control) => s.trim().to_owned(),
                _ => format!("0x{}", hex::encode(trimmed)),
            };
            let mut text = if lowercase { text.to_lowercase() } else { text };
            if text.len() > MAX_TEXT {
                let mut cut = MAX_TEXT;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
            }
            Fact::Text(text)
        }
    }
}

/// Whether two facts are the same value: text compared case-insensitively, and an integer
/// equal to text that spells it (agents that send numbers as strings).
fn same(a: &Fact, b: &Fact) -> bool {
    match (a, b) {
        (Fact::Int(x), Fact::Int(y)) => x == y,
        (Fact::Text(x), Fact::Text(y)) => x.eq_ignore_ascii_case(y),
        (Fact::Int(i), Fact::Text(t)) | (Fact::Text(t), Fact::Int(i)) => t.trim() == i.to_string(),
        (Fact::Absent, Fact::Absent) => true,
        _ => false,
    }
}

/// Read one check's fact from a poll's raw answers; `None` when its objects were not read.
pub fn read_fact(check: &ReadinessCheck, raw: &RawPoll) -> Option<Fact> {
    let lc = check.lowercase;
    match &check.read {
        FactRead::Scalar { oid, fallback } => match raw.scalars.get(oid) {
            Some(v) => Some(fact_of(v, lc)),
            None => {
                let primary_absent = raw.absent.contains(oid);
                match fallback {
                    Some(f) if primary_absent => match raw.scalars.get(f) {
                        Some(v) => Some(fact_of(v, lc)),
                        None => raw.absent.contains(f).then_some(Fact::Absent),
                    },
                    _ => primary_absent.then_some(Fact::Absent),
                }
            }
        },
        FactRead::Table {
            column,
            root,
            rows,
            aggregate,
        } => {
            if !raw.walked.contains(root) {
                return None;
            }
            let cells: Vec<&SnmpValue> = raw
                .columns
                .get(root)
                .into_iter()
                .flatten()
                .filter(|(idx, _)| rows.is_empty() || rows.contains(idx))
                .map(|(_, v)| v)
                .collect();
            // A column without any row is "not there" (the MIB may be unimplemented), so
            // counts over it are Absent, not 0. A walk of a slice (`index_prefix`) that found
            // nothing while the column does have rows is a real 0.
            let column_has_rows = raw.columns.get(root).is_some_and(|c| !c.is_empty())
                || (root != column
                    && raw.beyond.get(root).is_some_and(|o| {
                        o.strip_prefix(column.as_str())
                            .is_some_and(|r| r.starts_with('.'))
                    }));
            let one_of = |set: &[Fact], v: &SnmpValue| {
                let f = fact_of(v, lc);
                set.iter().any(|m| same(&f, m))
            };
            let count = |n: usize| Fact::Int(i64::try_from(n).unwrap_or(i64::MAX));
            Some(match aggregate {
                _ if !column_has_rows && !matches!(aggregate, Aggregate::OwnRow { .. }) => {
                    Fact::Absent
                }
                Aggregate::Count => count(cells.len()),
                Aggregate::CountWhere(set) => {
                    count(cells.iter().filter(|v| one_of(set, v)).count())
                }
                Aggregate::AnyEqual(set) => {
                    Fact::Int(i64::from(cells.iter().any(|v| one_of(set, v))))
                }
                Aggregate::Min => cells
                    .iter()
                    .filter_map(|v| v.as_i64())
                    .min()
                    .map_or(Fact::Absent, Fact::Int),
                Aggregate::Max => cells
                    .iter()
                    .filter_map(|v| v.as_i64())
                    .max()
                    .map_or(Fact::Absent, Fact::Int),
                Aggregate::OwnRow {
                    key_column,
                    key_oid,
                } => {
                    if !raw.walked.contains(key_column) {
                        return None;
                    }
                    let Some(me) = raw.scalars.get(key_oid).map(SnmpValue::text) else {
                        return raw.absent.contains(key_oid).then_some(Fact::Absent);
                    };
                    let own_index = raw
                        .columns
                        .get(key_column)
                        .and_then(|keys| {
                            keys.iter().find(|(_, k)| !me.is_empty() && k.text() == me)
                        })
                        .map(|(idx, _)| idx)
                        .filter(|idx| rows.is_empty() || rows.contains(idx));
                    own_index
                        .and_then(|idx| raw.columns.get(root)?.get(idx))
                        .map_or(Fact::Absent, |v| fact_of(v, lc))
                }
            })
        }
    }
}

/// Facts of all `checks` from one poll: report entries and `Readiness` observations about
/// `device`, in check order. Checks whose objects were not read are left out.
pub fn decode(
    checks: &[ReadinessCheck],
    raw: &RawPoll,
    device: &str,
    at: UnixMillis,
) -> (Vec<ReadinessReport>, Vec<Observation>) {
    let mut reports = Vec::with_capacity(checks.len());
    let mut obs = Vec::with_capacity(checks.len());
    for check in checks {
        let Some(value) = read_fact(check, raw) else {
            continue;
        };
        let shown = check.shown(&value);
        obs.push(Observation::new(
            at,
            Subject::device(device),
            Signal::Readiness {
                check: check.name.clone(),
                value: value.clone(),
                shown: shown.clone(),
                rule: check.rule.clone(),
            },
        ));
        reports.push(ReadinessReport {
            check: check.name.clone(),
            value,
            shown,
            rule: check.rule.clone(),
        });
    }
    (reports, obs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profiles;
    use proptest::prelude::*;

    /// A poll's raw answers, built up in tests.
    #[derive(Default)]
    struct Raw(RawPoll);

    impl Raw {
        fn scalar(mut self, oid: &str, v: SnmpValue) -> Self {
            self.0.scalars.insert(oid.into(), v);
            self
        }
        fn absent(mut self, oid: &str) -> Self {
            self.0.absent.insert(oid.into());
            self
        }
        /// A walked column (possibly without rows).
        fn column(mut self, root: &str, rows: &[(&str, SnmpValue)]) -> Self {
            self.0.walked.insert(root.into());
            let c = self.0.columns.entry(root.into()).or_default();
            for (idx, v) in rows {
                c.insert((*idx).into(), v.clone());
            }
            self
        }
        fn beyond(mut self, root: &str, oid: &str) -> Self {
            self.0.beyond.insert(root.into(), oid.into());
            self
        }
    }

    fn text(s: &str) -> SnmpValue {
        SnmpValue::Bytes(s.as_bytes().to_vec())
    }

    /// Facts of one profile's effective checks, by check name.
    fn facts(profile: &str, raw: &Raw) -> BTreeMap<String, (Fact, Option<String>)> {
        let p = Profiles::embedded();
        let (reports, obs) = decode(p.readiness(profile), &raw.0, "dev", 5);
        assert_eq!(reports.len(), obs.len());
        for o in &obs {
            assert_eq!(o.subject, Subject::device("dev"));
            assert!(matches!(o.signal, Signal::Readiness { .. }));
        }
        reports
            .into_iter()
            .map(|r| (r.check, (r.value, r.shown)))
            .collect()
    }

    fn rule_of(profile: &str, check: &str) -> ReadinessRule {
        let p = Profiles::embedded();
        p.readiness(profile)
            .iter()
            .find(|c| c.name == check)
            .map(|c| c.rule.clone())
            .unwrap_or_else(|| panic!("{profile} has no check {check}"))
    }

    const V4_DEFAULT: &str = "1.3.6.1.2.1.4.24.7.1.7.1.4.0.0.0.0.0";

    #[test]
    fn generic_ip_forwarding_routes_and_absent() {
        let raw = Raw::default()
            .scalar("1.3.6.1.2.1.4.1.0", SnmpValue::Int(2))
            .absent("1.3.6.1.2.1.4.25.0")
            .absent("1.3.6.1.2.1.4.24.6.0")
            .scalar("1.3.6.1.2.1.4.24.3.0", SnmpValue::Uint(812))
            .column(V4_DEFAULT, &[("2.0.0.1.4.192.0.2.1", SnmpValue::Int(4))]);
        let f = facts("generic", &raw);
        assert_eq!(
            f["ip_forwarding"],
            (Fact::Int(2), Some("notForwarding".into()))
        );
        assert_eq!(f["ipv6_forwarding"], (Fact::Absent, None));
        // inetCidrRouteNumber absent: ipCidrRouteNumber is read instead.
        assert_eq!(f["route_count"].0, Fact::Int(812));
        assert_eq!(f["default_route_v4"].0, Fact::Int(1));
        // The IPv6 slice was not walked in this raw poll: no fact rather than a wrong one.
        assert!(!f.contains_key("default_route_v6"));
        assert_eq!(
            rule_of("generic", "ip_forwarding"),
            ReadinessRule::MatchActive
        );
        assert_eq!(
            rule_of("generic", "route_count"),
            ReadinessRule::WithinPercentOfActive { percent: 10.0 }
        );
        assert_eq!(
            rule_of("generic", "default_route_v4"),
            ReadinessRule::AtLeast { min: 1 }
        );
    }

    #[test]
    fn default_route_zero_versus_table_not_implemented() {
        // Routes exist, none is a default: the walk of the slice ran into another route.
        let raw = Raw::default().column(V4_DEFAULT, &[]).beyond(
            V4_DEFAULT,
            "1.3.6.1.2.1.4.24.7.1.7.1.4.10.0.0.0.8.3.0.0.4.1.4.0.0.0.0",
        );
        assert_eq!(facts("generic", &raw)["default_route_v4"].0, Fact::Int(0));
        // The walk ran past the whole column: the agent has no inetCidrRouteTable rows.
        let raw = Raw::default()
            .column(V4_DEFAULT, &[])
            .beyond(V4_DEFAULT, "1.3.6.1.2.1.4.24.7.1.8.2.16.0");
        assert_eq!(facts("generic", &raw)["default_route_v4"].0, Fact::Absent);
        // endOfMibView (nothing recorded past the root) is the same.
        let raw = Raw::default().column(V4_DEFAULT, &[]);
        assert_eq!(facts("generic", &raw)["default_route_v4"].0, Fact::Absent);
        // Nothing read: no fact.
        assert!(facts("generic", &Raw::default()).is_empty());
    }

    const FG_TABLE: &str = "1.3.6.1.4.1.12356.101.13.2.1.1";

    fn fortigate(own_serial: &str, sums: [&str; 2]) -> Raw {
        let col = |c: u32| format!("{FG_TABLE}.{c}");
        Raw::default()
            .scalar("1.3.6.1.4.1.12356.100.1.1.1.0", text(own_serial))
            .scalar("1.3.6.1.4.1.12356.101.13.1.1.0", SnmpValue::Int(3))
            .scalar("1.3.6.1.4.1.12356.101.13.1.2.0", SnmpValue::Int(0))
            .scalar("1.3.6.1.4.1.12356.101.13.1.7.0", text("FG3000D"))
            .column(&col(2), &[("1", text("FGT-A")), ("2", text("FGT-B"))])
            .column(
                &col(12),
                &[("1", SnmpValue::Int(1)), ("2", SnmpValue::Int(0))],
            )
            .column(&col(15), &[("1", text(sums[0])), ("2", text(sums[1]))])
    }

    #[test]
    fn fortigate_own_row_checksum_and_sync() {
        let a = facts("fortigate", &fortigate("FGT-A", ["AA11", "BB22"]));
        let b = facts("fortigate", &fortigate("FGT-B", ["AA11", "BB22"]));
        assert_eq!(a["config_checksum"].0, Fact::Text("AA11".into()));
        assert_eq!(b["config_checksum"].0, Fact::Text("BB22".into()));
        assert_eq!(
            a["config_sync"],
            (Fact::Int(1), Some("synchronized".into()))
        );
        assert_eq!(
            b["config_sync"],
            (Fact::Int(0), Some("unsynchronized".into()))
        );
        assert_eq!(a["ha_members"].0, Fact::Int(2));
        assert_eq!(a["ha_mode"], (Fact::Int(3), Some("activePassive".into())));
        assert_eq!(a["ha_group_id"].0, Fact::Int(0));
        assert_eq!(a["ha_group_name"].0, Fact::Text("FG3000D".into()));
        // A unit whose serial is in no row has no own row.
        let c = facts("fortigate", &fortigate("FGT-C", ["AA11", "BB22"]));
        assert_eq!(c["config_checksum"].0, Fact::Absent);
        // Generic checks apply to vendor devices too (here: not read, so absent from facts).
        assert!(!c.contains_key("ip_forwarding"));
        assert_eq!(
            rule_of("fortigate", "config_sync"),
            ReadinessRule::Equal {
                value: Fact::Int(1)
            }
        );
    }

    #[test]
    fn checkpoint_status_strings_are_normalised() {
        let raw = Raw::default()
            .scalar("1.3.6.1.4.1.2620.1.5.101.0", SnmpValue::Int(1))
            .scalar("1.3.6.1.4.1.2620.1.5.7.0", text("OK"))
            .scalar("1.3.6.1.4.1.2620.1.1.1.0", text("Installed"))
            .scalar("1.3.6.1.4.1.2620.1.1.25.1.0", text("Standard"));
        let f = facts("checkpoint", &raw);
        assert_eq!(
            f["ha_stat_code"],
            (Fact::Int(1), Some("cannot switch role".into()))
        );
        assert_eq!(f["ha_block_state"].0, Fact::Text("ok".into()));
        assert_eq!(f["policy_installed"].0, Fact::Text("installed".into()));
        assert_eq!(f["policy_name"].0, Fact::Text("Standard".into()));
        assert_eq!(
            rule_of("checkpoint", "policy_installed"),
            ReadinessRule::Equal {
                value: Fact::Text("installed".into())
            }
        );
    }

    #[test]
    fn paloalto_versions() {
        let raw = Raw::default()
            .scalar("1.3.6.1.4.1.25461.2.1.2.1.13.0", text("Active-Passive"))
            .scalar("1.3.6.1.4.1.25461.2.1.2.1.1.0", text("10.1.9"))
            .scalar("1.3.6.1.4.1.25461.2.1.2.1.7.0", text("8700-8123"))
            .absent("1.3.6.1.4.1.25461.2.1.2.1.9.0");
        let f = facts("paloalto", &raw);
        assert_eq!(f["ha_mode"].0, Fact::Text("active-passive".into()));
        assert_eq!(f["sw_version"].0, Fact::Text("10.1.9".into()));
        assert_eq!(f["app_version"].0, Fact::Text("8700-8123".into()));
        assert_eq!(f["threat_version"].0, Fact::Absent);
    }

    #[test]
    fn cisco_asa_failover_units_and_link() {
        let status = "1.3.6.1.4.1.9.9.147.1.2.1.1.1.3";
        let raw = Raw::default()
            .scalar(&format!("{status}.4"), SnmpValue::Int(2))
            .absent("1.3.6.1.4.1.9.9.491.1.4.1.9.0")
            .column(
                status,
                &[
                    ("4", SnmpValue::Int(2)),
                    ("6", SnmpValue::Int(9)),
                    ("7", SnmpValue::Int(10)),
                ],
            );
        let f = facts("cisco-asa", &raw);
        assert_eq!(f["failover_link"], (Fact::Int(2), Some("up".into())));
        assert_eq!(f["failover_units_ready"].0, Fact::Int(2));
        assert_eq!(f["sw_version"].0, Fact::Absent);
        // The secondary failed: one unit left in active/standby (row 4 never counts).
        let raw = Raw::default().column(
            status,
            &[
                ("4", SnmpValue::Int(9)),
                ("6", SnmpValue::Int(9)),
                ("7", SnmpValue::Int(4)),
            ],
        );
        assert_eq!(
            facts("cisco-asa", &raw)["failover_units_ready"].0,
            Fact::Int(1)
        );
    }

    #[test]
    fn juniper_keepalived_and_vrrp_tables() {
        let raw = Raw::default().column(
            "1.3.6.1.4.1.2636.3.1.14.1.7",
            &[
                ("1.1.0.0", SnmpValue::Int(2)),
                ("1.2.0.0", SnmpValue::Int(4)),
            ],
        );
        assert_eq!(facts("juniper", &raw)["re_not_ready"].0, Fact::Int(1));

        let state = "1.3.6.1.4.1.9586.100.5.2.3.1.4";
        let raw = Raw::default().column(
            state,
            &[
                ("1", SnmpValue::Int(1)),
                ("2", SnmpValue::Int(3)),
                ("3", SnmpValue::Int(1)),
            ],
        );
        let f = facts("keepalived", &raw);
        assert_eq!(f["vrrp_instances_fault"].0, Fact::Int(1));
        assert_eq!(f["vrrp_instances_ready"].0, Fact::Int(2));
        // keepalived's MIB not there (no rows): absent, not "0 faults".
        let f = facts("keepalived", &Raw::default().column(state, &[]));
        assert_eq!(f["vrrp_instances_fault"].0, Fact::Absent);

        let entry = "1.3.6.1.2.1.68.1.3.1";
        let raw = Raw::default()
            .column(
                &format!("{entry}.5"),
                &[("1.10", SnmpValue::Int(100)), ("1.20", SnmpValue::Int(0))],
            )
            .column(
                &format!("{entry}.3"),
                &[("1.10", SnmpValue::Int(2)), ("1.20", SnmpValue::Int(3))],
            )
            .column(
                &format!("{entry}.4"),
                &[("1.10", SnmpValue::Int(1)), ("1.20", SnmpValue::Int(1))],
            );
        let f = facts("vrrp", &raw);
        assert_eq!(f["vrrp_priority"].0, Fact::Int(0));
        assert_eq!(f["vrrp_routers"].0, Fact::Int(2));
        assert_eq!(f["vrrp_admin_down"].0, Fact::Int(0));
        assert_eq!(
            rule_of("vrrp", "vrrp_priority"),
            ReadinessRule::NotEqual {
                value: Fact::Int(0)
            }
        );
    }

    #[test]
    fn values_become_facts() {
        assert_eq!(fact_of(&SnmpValue::Uint(7), false), Fact::Int(7));
        assert_eq!(
            fact_of(&SnmpValue::Uint(u64::MAX), false),
            Fact::Text(u64::MAX.to_string())
        );
        assert_eq!(
            fact_of(&SnmpValue::Bytes(b"Synced \0\0".to_vec()), false),
            Fact::Text("Synced".into())
        );
        assert_eq!(
            fact_of(&SnmpValue::Bytes(vec![0xde, 0xad, 0x01]), false),
            Fact::Text("0xdead01".into())
        );
        assert_eq!(
            fact_of(&SnmpValue::Bytes(b"ACTIVE".to_vec()), true),
            Fact::Text("active".into())
        );
        let Fact::Text(long) = fact_of(&SnmpValue::Bytes("é".repeat(300).into_bytes()), false)
        else {
            panic!("text")
        };
        assert!(long.len() <= MAX_TEXT);
        assert!(same(&Fact::Int(2), &Fact::Text("2".into())));
        assert!(!same(&Fact::Int(2), &Fact::Absent));
    }

    fn spec(toml_text: &str) -> Result<ReadinessCheck, String> {
        let spec: ReadinessSpec = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        compile(&spec)
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let cases = [
            ("name = \"x\"\nrule = \"match_active\"\n", "exactly one of"),
            (
                "name = \"x\"\noid = \"1.3.6.1.2.1.4.1.0\"\ntable = \"1.3.6.1\"\nrule = \"match_active\"\n",
                "exactly one of",
            ),
            (
                "name = \"x\"\noid = \"1.3.x\"\nrule = \"match_active\"\n",
                "invalid OID",
            ),
            (
                "name = \"x\"\noid = \"1.3.6.1.2.1.4.1.0\"\nrule = \"equal\"\n",
                "need `value`",
            ),
            (
                "name = \"x\"\noid = \"1.3.6.1.2.1.4.1.0\"\nrule = \"at_least\"\n",
                "needs `min`",
            ),
            (
                "name = \"x\"\noid = \"1.3.6.1.2.1.4.1.0\"\nrule = \"match_active\"\nmin = 1\n",
                "takes no `min`",
            ),
            (
                "name = \"x\"\noid = \"1.3.6.1.2.1.4.1.0\"\nrule = \"within_percent_of_active\"\ntolerance_percent = -1.0\n",
                "must be >= 0",
            ),
            (
                "name = \"x\"\ntable = \"1.3.6.1.2.1.68.1.3.1\"\ncolumn = 3\nrule = \"match_active\"\n",
                "needs `aggregate`",
            ),
            (
                "name = \"x\"\ntable = \"1.3.6.1.2.1.68.1.3.1\"\ncolumn = 3\naggregate = \"count_where\"\nrule = \"match_active\"\n",
                "need `matching`",
            ),
            (
                "name = \"x\"\ntable = \"1.3.6.1.2.1.68.1.3.1\"\ncolumn = 3\naggregate = \"own_row\"\nkey_column = 2\nrule = \"match_active\"\n",
                "own_row",
            ),
            (
                "name = \"x\"\noid = \"1.3.6.1.2.1.4.1.0\"\naggregate = \"min\"\nrule = \"match_active\"\n",
                "need `table`",
            ),
            (
                "name = \"x\"\noid = \"1.3.6.1.2.1.4.1.0\"\nrule = \"bigger\"\n",
                "unknown variant",
            ),
            (
                "name = \" \"\noid = \"1.3.6.1.2.1.4.1.0\"\nrule = \"match_active\"\n",
                "needs a name",
            ),
        ];
        for (text, want) in cases {
            let err = spec(text).expect_err(text);
            assert!(err.contains(want), "{text}: {err}");
        }
        let ok = spec(
            "name = \"x\"\ntable = \".1.3.6.1.2.1.68.1.3.1\"\ncolumn = 5\naggregate = \"max\"\nrule = \"within_percent_of_active\"\n",
        )
        .unwrap();
        assert_eq!(
            ok.rule,
            ReadinessRule::WithinPercentOfActive {
                percent: DEFAULT_TOLERANCE_PERCENT
            }
        );
        assert_eq!(ok.walks(), vec!["1.3.6.1.2.1.68.1.3.1.5"]);
    }

    #[test]
    fn vendor_checks_replace_generic_ones_by_name() {
        let generic = vec![
            spec("name = \"a\"\noid = \"1.3.6.1.2.1.4.1.0\"\nrule = \"match_active\"\n").unwrap(),
            spec("name = \"b\"\noid = \"1.3.6.1.2.1.4.25.0\"\nrule = \"match_active\"\n").unwrap(),
        ];
        let own = vec![
            spec("name = \"b\"\noid = \"1.3.6.1.2.1.4.25.0\"\nrule = \"equal\"\nvalue = 1\n")
                .unwrap(),
            spec("name = \"c\"\noid = \"1.3.6.1.2.1.1.7.0\"\nrule = \"match_active\"\n").unwrap(),
        ];
        let m = merge(&generic, &own);
        let names: Vec<&str> = m.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(
            m[1].rule,
            ReadinessRule::Equal {
                value: Fact::Int(1)
            }
        );
    }

    fn value() -> impl Strategy<Value = SnmpValue> {
        prop_oneof![
            any::<i64>().prop_map(SnmpValue::Int),
            any::<u64>().prop_map(SnmpValue::Uint),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(SnmpValue::Bytes),
            "[0-9.]{0,20}".prop_map(SnmpValue::Oid),
        ]
    }

    proptest! {
        // Whatever an agent answers for any object a readiness check reads, every profile's
        // checks decode without panicking, and only read objects yield facts.
        #[test]
        fn readiness_decode_never_panics(
            cells in proptest::collection::vec((0usize..64, "[0-9]{1,3}(\\.[0-9]{1,4}){0,3}", value()), 0..60),
            scalars in proptest::collection::vec((0usize..64, proptest::option::of(value())), 0..30),
            walked in proptest::collection::vec(0usize..64, 0..20),
        ) {
            let p = Profiles::embedded();
            let all: Vec<&ReadinessCheck> = p.names().flat_map(|n| p.readiness(n)).collect();
            let roots: Vec<String> = all.iter().flat_map(|c| c.walks()).map(String::from).collect();
            let scal: Vec<String> = all.iter().flat_map(|c| c.scalars()).map(String::from).collect();
            let mut raw = RawPoll::default();
            for (c, idx, v) in cells {
                raw.columns.entry(roots[c % roots.len()].clone()).or_default().insert(idx, v);
            }
            for (s, v) in scalars {
                let oid = scal[s % scal.len()].clone();
                match v {
                    Some(v) => { raw.scalars.insert(oid, v); }
                    None => { raw.absent.insert(oid); }
                }
            }
            for w in walked {
                raw.walked.insert(roots[w % roots.len()].clone());
            }
            for name in p.names() {
                let (reports, obs) = decode(p.readiness(name), &raw, "d", 1);
                prop_assert_eq!(reports.len(), obs.len());
                prop_assert!(reports.len() <= p.readiness(name).len());
            }
        }
    }
}
