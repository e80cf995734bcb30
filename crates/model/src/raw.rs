//! The file format as written, before validation. Every id and reference keeps its source
//! position (`Spanned`) so that validation errors can point at the exact token.

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::validate::{Diagnostic, LoadError};
use crate::{DeviceKind, ProbeSpec, Tier};

pub(crate) type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTopology {
    pub name: S<String>,
    #[serde(default)]
    pub collector: Option<S<String>>,
    #[serde(default)]
    pub devices: Vec<RawDevice>,
    #[serde(default)]
    pub links: Vec<S<RawLink>>,
    #[serde(default)]
    pub groups: Vec<RawGroup>,
    #[serde(default)]
    pub services: Vec<RawService>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDevice {
    pub id: S<String>,
    pub kind: DeviceKind,
    #[serde(default)]
    pub address: Option<S<String>>,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub snmp: Option<String>,
    #[serde(default)]
    pub requires: Vec<S<String>>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The zone whose poller watches the device (distributed shape only).
    #[serde(default)]
    pub zone: Option<String>,
}

/// `[a:if, b:if]` or `{a: a:if, b: b:if}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawLink {
    Pair(Vec<String>),
    Ends { a: String, b: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGroup {
    pub id: S<String>,
    pub mode: S<String>,
    #[serde(default)]
    pub min: Option<S<i64>>,
    #[serde(default)]
    pub members: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawService {
    pub id: S<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub tier: Tier,
    #[serde(default)]
    pub requires: Vec<S<String>>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub probe: Option<ProbeSpec>,
    /// The zone whose poller probes the service (distributed shape only).
    #[serde(default)]
    pub zone: Option<String>,
}

pub(crate) fn parse_yaml(text: &str, file: &str) -> Result<RawTopology, LoadError> {
    serde_saphyr::from_str_with_options(text, yaml_options(text)).map_err(|e| {
        let (line, col) = e
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((0, 0));
        LoadError::from(vec![Diagnostic::new(file, line, col, message(&e))])
    })
}

/// Parser limits. The defaults bound nesting depth (64: the schema needs 5) and anchors and
/// aliases (bombs); their counts of events, nodes and scalar bytes suit a hand-written file,
/// and a generated data centre of a million lines is far beyond them while no more dangerous
/// than its length, so those three grow with the input.
pub(crate) fn yaml_options(text: &str) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    let scaled = text.len().saturating_mul(2).saturating_add(1024);
    budget.max_events = budget.max_events.max(scaled);
    budget.max_nodes = budget.max_nodes.max(scaled);
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(text.len());
    serde_saphyr::options! { budget: Some(budget) }
}

pub(crate) fn parse_json(text: &str, file: &str) -> Result<RawTopology, LoadError> {
    serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; we print the position in front instead.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        LoadError::from(vec![Diagnostic::new(
            file,
            e.line() as u32,
            e.column() as u32,
            msg,
        )])
    })
}

/// The parser's message alone: its `Display` adds the position ("at line 1 column 2") and a
/// source snippet, and the diagnostic already leads with `file:line:col`.
fn message(e: &serde_saphyr::Error) -> String {
    use serde_saphyr::MessageFormatter;
    let text = serde_saphyr::DefaultMessageFormatter.format_message(e.without_snippet());
    // Control characters and line breaks would break the one-line-per-problem output.
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}
