//! The file format as written, before validation. Every id and reference keeps its source
//! position ([`S`]) so that validation errors can point at the exact token.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::validate::{Diagnostic, LoadError};
use crate::{DeviceKind, ProbeSpec, Tier};

/// A value with the line and column of its token (0 where the parser gives none: JSON).
///
/// Read through `serde_saphyr::Spanned` and kept as two `u32`s: the parser's `Spanned` holds
/// two full locations (88 bytes around a `String`), and a data centre's file has one of these
/// per id and per requirement.
#[derive(Debug)]
pub(crate) struct S<T> {
    pub value: T,
    pub line: u32,
    pub column: u32,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for S<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<T>::deserialize(d)?;
        Ok(S {
            value: s.value,
            line: s.referenced.line() as u32,
            column: s.referenced.column() as u32,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTopology {
    pub name: S<String>,
    #[serde(default)]
    pub collector: Option<S<String>>,
    /// Zone → the device its poller runs on (or next to): `{outside: ext-probe-1}`.
    #[serde(default)]
    pub zone_collectors: BTreeMap<String, S<String>>,
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
///
/// Read by hand rather than as an untagged enum of a list and a mapping: serde buffers every
/// untagged value into a generic tree before trying the variants (a second copy of every link
/// of the file), and the ends are written straight into the link's id, the one string the
/// model keeps for a link.
#[derive(Debug)]
pub(crate) enum RawLink {
    /// Two ends, as the link id `a--b`; `sep` is the byte offset of the `--`.
    Ends { id: String, sep: u32 },
    /// A list of other than two ends: how many.
    Count(usize),
}

/// What serde said for an untagged enum that matched no variant; `lenient` turns it into the
/// schema's words, so the message stays the one the derive gave.
const NO_LINK: &str = "data did not match any variant of untagged enum RawLink";

impl<'de> Deserialize<'de> for RawLink {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LinkVisitor)
    }
}

/// Appends a string value to a buffer, without a `String` of its own.
struct AppendTo<'a>(&'a mut String);

impl<'de> de::DeserializeSeed<'de> for AppendTo<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for AppendTo<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a link end")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
}

struct LinkVisitor;

impl LinkVisitor {
    fn ends(a: &str, b: &str) -> RawLink {
        let mut id = String::with_capacity(a.len() + 2 + b.len());
        id.push_str(a);
        id.push_str("--");
        id.push_str(b);
        RawLink::Ends {
            id,
            sep: a.len() as u32,
        }
    }
}

impl<'de> Visitor<'de> for LinkVisitor {
    type Value = RawLink;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a link")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawLink, A::Error> {
        let no_link = |_| de::Error::custom(NO_LINK);
        let mut id = String::new();
        if seq
            .next_element_seed(AppendTo(&mut id))
            .map_err(no_link)?
            .is_none()
        {
            return Ok(RawLink::Count(0));
        }
        let sep = id.len() as u32;
        id.push_str("--");
        if seq
            .next_element_seed(AppendTo(&mut id))
            .map_err(no_link)?
            .is_none()
        {
            return Ok(RawLink::Count(1));
        }
        let mut n = 2;
        while seq.next_element::<String>().map_err(no_link)?.is_some() {
            n += 1;
        }
        if n != 2 {
            return Ok(RawLink::Count(n));
        }
        id.shrink_to_fit();
        Ok(RawLink::Ends { id, sep })
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawLink, A::Error> {
        let no_link = |_| de::Error::custom(NO_LINK);
        let (mut a, mut b) = (None, None);
        while let Some(key) = map.next_key::<String>().map_err(no_link)? {
            let slot = match key.as_str() {
                "a" => &mut a,
                "b" => &mut b,
                _ => {
                    // As with the derive: other keys of the mapping are ignored.
                    map.next_value::<de::IgnoredAny>().map_err(no_link)?;
                    continue;
                }
            };
            let value = map.next_value::<String>().map_err(no_link)?;
            if slot.replace(value).is_some() {
                return Err(de::Error::custom(NO_LINK));
            }
        }
        match (a, b) {
            (Some(a), Some(b)) => Ok(Self::ends(&a, &b)),
            _ => Err(de::Error::custom(NO_LINK)),
        }
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<RawLink, E> {
        Err(E::custom(NO_LINK))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawLink, E> {
        Err(E::custom(NO_LINK))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawLink, E> {
        Err(E::custom(NO_LINK))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawLink, E> {
        Err(E::custom(NO_LINK))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawLink, E> {
        Err(E::custom(NO_LINK))
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawLink, E> {
        Err(E::custom(NO_LINK))
    }
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
    /// The zone whose poller probes the service (distributed shape only): the one-zone form
    /// of `zones`.
    #[serde(default)]
    pub zone: Option<S<String>>,
    /// The zones whose pollers probe the service, each a vantage point of its own.
    #[serde(default)]
    pub zones: Vec<S<String>>,
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
