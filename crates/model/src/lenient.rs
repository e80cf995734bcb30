//! The slow path for a file that does not fit the schema: every schema problem in one run.
//!
//! The fast path (serde straight into [`RawTopology`]) stops at the first mismatch, so a file
//! with four bad entries took four runs to fix. When the fast path fails, the text is read again
//! into a generic tree of nodes that keeps every position ([`Node`]), and the raw types are
//! deserialized from that tree piece by piece: the top level without its lists, then every entry
//! of every list on its own, so one bad device does not hide the next. Within an entry, the
//! field holding an error is dropped and the entry tried again, so an unknown field and a wrong
//! type in the same entry are both reported. The serde derives in `raw` stay the one definition
//! of the schema: this module only decides what to feed them.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde_saphyr::{Location, Spanned};

use crate::raw::{RawDevice, RawGroup, RawLink, RawService, RawTopology};
use crate::validate::{Diagnostic, LoadError};

/// Retries per entry: each one drops a field, and no entry of the schema has more fields.
const MAX_PROBLEMS_PER_ENTRY: usize = 12;

/// The top-level keys that hold lists of entries checked one by one.
const LISTS: [&str; 4] = ["devices", "links", "groups", "services"];

/// A YAML (or JSON) value with the positions of its parts.
#[derive(Debug, Clone)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// A deserialization error from the tree, with the position of the innermost node it concerns.
#[derive(Debug)]
struct TreeError {
    message: String,
    at: Option<Location>,
}

impl TreeError {
    fn at(mut self, loc: Location) -> Self {
        if self.at.is_none() {
            self.at = Some(loc);
        }
        self
    }
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TreeError {}

impl de::Error for TreeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TreeError {
            message: msg.to_string(),
            at: None,
        }
    }
}

/// Feeds one node of the tree to a serde `Deserialize`, as the YAML parser would have.
struct NodeDe<'a>(&'a Spanned<Node>);

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = TreeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        let r = match &self.0.value {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(*b),
            Node::Int(i) => visitor.visit_i64(*i),
            Node::UInt(u) => visitor.visit_u64(*u),
            Node::Float(x) => visitor.visit_f64(*x),
            Node::Str(s) => visitor.visit_str(s),
            Node::Seq(items) => visitor.visit_seq(SeqDe(items.iter())),
            Node::Map(entries) => visitor.visit_map(MapDe {
                entries: entries.iter(),
                value: None,
            }),
        };
        r.map_err(|e| e.at(self.0.referenced))
    }

    /// YAML reads a plain scalar as a string where a string is wanted (`id: 42`); null is not.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        let r = match &self.0.value {
            Node::Bool(b) => visitor.visit_string(b.to_string()),
            Node::Int(i) => visitor.visit_string(i.to_string()),
            Node::UInt(u) => visitor.visit_string(u.to_string()),
            Node::Float(x) => visitor.visit_string(x.to_string()),
            _ => return self.deserialize_any(visitor),
        };
        r.map_err(|e: TreeError| e.at(self.0.referenced))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self.0.value {
            Node::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        match &self.0.value {
            Node::Str(s) => visitor
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e: TreeError| e.at(self.0.referenced)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct SeqDe<'a>(std::slice::Iter<'a, Spanned<Node>>);

impl<'de> de::SeqAccess<'de> for SeqDe<'_> {
    type Error = TreeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TreeError> {
        match self.0.next() {
            Some(item) => seed.deserialize(NodeDe(item)).map(Some),
            None => Ok(None),
        }
    }
}

struct MapDe<'a> {
    entries: std::slice::Iter<'a, (Spanned<String>, Spanned<Node>)>,
    value: Option<&'a Spanned<Node>>,
}

impl<'de> de::MapAccess<'de> for MapDe<'_> {
    type Error = TreeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TreeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let d: de::value::StrDeserializer<'_, TreeError> = key.value.as_str().into_deserializer();
        seed.deserialize(d)
            .map(Some)
            .map_err(|e| e.at(key.referenced))
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, TreeError> {
        match self.value.take() {
            Some(v) => seed.deserialize(NodeDe(v)),
            None => Err(de::Error::custom("value without a key")),
        }
    }
}

/// Every schema problem of `text`, or `None` when the text cannot be read as a tree (a syntax
/// error: the fast path's message already says where) or the tree shows no schema problem.
pub(crate) fn schema_problems(text: &str, file: &str) -> Option<LoadError> {
    let root: Spanned<Node> =
        serde_saphyr::from_str_with_options(text, crate::raw::yaml_options(text)).ok()?;
    let mut diags = Vec::new();
    let Node::Map(top) = &root.value else {
        check_entry::<RawTopology>(&root, &mut |e| {
            diags.push(diagnostic(file, None, e, root.referenced));
        });
        return (!diags.is_empty()).then(|| diags.into());
    };
    // The top level with its lists emptied: name, unknown keys, lists that are not lists.
    let shell: Vec<_> = top
        .iter()
        .map(|(k, v)| match &v.value {
            Node::Seq(_) if LISTS.contains(&k.value.as_str()) => (
                k.clone(),
                Spanned::new(Node::Seq(Vec::new()), v.referenced, v.defined),
            ),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let shell = Spanned::new(Node::Map(shell), root.referenced, root.defined);
    check_entry::<RawTopology>(&shell, &mut |e| {
        diags.push(diagnostic(file, None, e, root.referenced));
    });
    for (key, value) in top {
        let Node::Seq(items) = &value.value else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let mut report = |kind: &str, e| {
                let what = entry_name(kind, i, item);
                diags.push(diagnostic(file, Some(what), e, item.referenced));
            };
            match key.value.as_str() {
                "devices" => check_entry::<RawDevice>(item, &mut |e| report("device", e)),
                "links" => check_entry::<RawLink>(item, &mut |e| report("link", e)),
                "groups" => check_entry::<RawGroup>(item, &mut |e| report("group", e)),
                "services" => check_entry::<RawService>(item, &mut |e| report("service", e)),
                _ => {}
            }
        }
    }
    if diags.is_empty() {
        return None;
    }
    diags.sort_by_key(|d| (d.line, d.column));
    Some(diags.into())
}

fn diagnostic(file: &str, what: Option<String>, e: TreeError, fallback: Location) -> Diagnostic {
    let loc = e.at.unwrap_or(fallback);
    let message = match what {
        Some(w) => format!("{w}: {}", friendlier(&e.message)),
        None => friendlier(&e.message),
    };
    Diagnostic::new(file, loc.line() as u32, loc.column() as u32, message)
}

/// Deserialize one entry as `T`, reporting each error; after an error inside a field, drop
/// that field and try again.
fn check_entry<T: DeserializeOwned>(entry: &Spanned<Node>, report: &mut dyn FnMut(TreeError)) {
    let mut current = entry.clone();
    let mut dropped: Vec<String> = Vec::new();
    for _ in 0..MAX_PROBLEMS_PER_ENTRY {
        let Err(e) = T::deserialize(NodeDe(&current)) else {
            break;
        };
        // A required field we dropped for being wrong is not also missing.
        if dropped
            .iter()
            .any(|f| e.message == format!("missing field `{f}`"))
        {
            break;
        }
        // A missing field is reported at the entry itself: there is no field to drop.
        let missing = e.message.starts_with("missing field");
        let field =
            e.at.filter(|_| !missing)
                .and_then(|at| field_containing(&current, at));
        report(e);
        let (Some(i), Node::Map(entries)) = (field, &mut current.value) else {
            break;
        };
        dropped.push(entries.remove(i).0.value);
    }
}

/// The index of the field of a map entry whose key or value holds position `at`: the last field
/// starting at or before it (fields appear in file order).
fn field_containing(entry: &Spanned<Node>, at: Location) -> Option<usize> {
    let Node::Map(entries) = &entry.value else {
        return None;
    };
    let pos = |l: Location| (l.line(), l.column());
    entries
        .iter()
        .rposition(|(k, _)| pos(k.referenced) <= pos(at))
}

/// `device `fw-a`` when the entry has a usable id, else `device 3` (1-based).
fn entry_name(kind: &str, index: usize, entry: &Spanned<Node>) -> String {
    if let Node::Map(fields) = &entry.value
        && let Some((_, id)) = fields.iter().find(|(k, _)| k.value == "id")
        && let Node::Str(id) = &id.value
    {
        return format!("{kind} `{id}`");
    }
    format!("{kind} {}", index + 1)
}

/// serde's messages name Rust types where the file has mappings; say what the file should hold.
fn friendlier(message: &str) -> String {
    if message.contains("untagged enum RawLink") {
        return "a link is `[device:interface, device:interface]` or `{a: device:interface, b: device:interface}`".into();
    }
    match message.split_once("expected struct Raw") {
        Some((head, _)) => format!("{head}expected a mapping"),
        None => message.to_string(),
    }
}
