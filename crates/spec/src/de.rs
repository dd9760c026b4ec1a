//! A serde deserializer over `berth_yaml::Node` trees that knows, for every value, its spec path
//! and source position, so serde's own errors (unknown key, wrong type, missing key) come out
//! pointing at the right line and column.

use berth_yaml::{Key, Node, Pos, Value};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::fmt;

#[derive(Debug)]
pub(crate) struct DeError {
    pub message: String,
    pub help: Option<String>,
    /// Where: position and spec path. Filled in by the innermost node the error passes through.
    pub at: Option<(Pos, String)>,
    /// What the position is of, so the loader can take the bad part out and decode on.
    pub kind: DeErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeErrorKind {
    /// A value that does not fit; `at` is the value's position.
    Value,
    /// An unknown key; `at` is the key's position.
    Key,
    /// A required key is missing from the mapping at `at`.
    Missing(&'static str),
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            help: None,
            at: None,
            kind: DeErrorKind::Value,
        }
    }

    fn invalid_type(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        Self::custom(format!("expected {exp}, found {}", describe(unexp)))
    }

    fn invalid_value(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        Self::custom(format!("expected {exp}, found {}", describe(unexp)))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError {
            message: format!("unknown key `{field}`"),
            help: Some(suggest(field, expected)),
            at: None,
            kind: DeErrorKind::Key,
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError {
            message: format!("unknown value `{variant}`"),
            help: Some(suggest(variant, expected)),
            at: None,
            kind: DeErrorKind::Value,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DeError {
            message: format!("missing required key `{field}`"),
            help: Some(format!("add `{field}:` here")),
            at: None,
            kind: DeErrorKind::Missing(field),
        }
    }
}

fn describe(unexp: de::Unexpected) -> String {
    match unexp {
        de::Unexpected::Unit => "null".into(),
        de::Unexpected::Map => "a mapping".into(),
        de::Unexpected::Seq => "a list".into(),
        other => other.to_string(),
    }
}

/// "did you mean `x`?" when one candidate is close, else the list of candidates.
pub(crate) fn suggest(given: &str, candidates: &[&str]) -> String {
    let best = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(given, c), *c))
        // Close by letters, or one or two typos away (`wbe` → `web`).
        .filter(|(score, c)| {
            *score > 0.8 || strsim::damerau_levenshtein(given, c) <= given.len().min(c.len()) / 3
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, c)) => format!("did you mean `{c}`?"),
        None if candidates.is_empty() => "remove it".into(),
        None => format!(
            "expected one of: {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub(crate) struct NodeDe<'a> {
    pub node: &'a Node,
    pub path: String,
    pub src: &'a str,
}

impl<'a> NodeDe<'a> {
    pub(crate) fn new(node: &'a Node, path: impl Into<String>, src: &'a str) -> Self {
        NodeDe {
            node,
            path: path.into(),
            src,
        }
    }

    fn locate<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|mut e| {
            if e.at.is_none() {
                e.at = Some((self.node.pos, self.path.clone()));
            }
            e
        })
    }

    fn child(&self, node: &'a Node, segment: Segment<'_>) -> NodeDe<'a> {
        NodeDe {
            node,
            path: join(&self.path, segment),
            src: self.src,
        }
    }

    /// The text of a plain scalar exactly as written (`1.10` stays `1.10`).
    fn raw_scalar(&self) -> Option<&'a str> {
        let rest = self.src.get(self.node.pos.offset..)?;
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '#'))
            .unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

pub(crate) enum Segment<'s> {
    Key(&'s str),
    Index(usize),
}

pub(crate) fn join(path: &str, segment: Segment<'_>) -> String {
    match segment {
        Segment::Key(k) if path.is_empty() => k.to_owned(),
        Segment::Key(k) => format!("{path}.{k}"),
        Segment::Index(i) => format!("{path}[{i}]"),
    }
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_str(s),
            Value::Seq(items) => visitor.visit_seq(SeqDe {
                items: items.iter().enumerate(),
                parent: &self,
            }),
            Value::Map(entries) => visitor.visit_map(MapDe {
                entries: entries.iter(),
                value: None,
                parent: &self,
            }),
        };
        self.locate(r)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Str(s) => visitor.visit_str(s),
            // Scalars YAML read as numbers or booleans are taken exactly as written
            // (`007`, `1.10`, `True`), since the field wants text.
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => match self.raw_scalar() {
                Some(raw) => visitor.visit_str(raw),
                None => visitor.visit_string(self.node.scalar_text().unwrap_or_default()),
            },
            _ => return self.deserialize_any(visitor),
        };
        self.locate(r)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(de::Error::custom(format!(
                "expected a string, found {}",
                other.type_name()
            ))),
        };
        self.locate(r)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct SeqDe<'p, 'a, I> {
    items: I,
    parent: &'p NodeDe<'a>,
}

impl<'de, 'a, I: Iterator<Item = (usize, &'a Node)>> de::SeqAccess<'de> for SeqDe<'_, 'a, I> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => seed
                .deserialize(self.parent.child(node, Segment::Index(i)))
                .map(Some),
        }
    }
}

struct MapDe<'p, 'a, I> {
    entries: I,
    value: Option<(&'a Key, &'a Node)>,
    parent: &'p NodeDe<'a>,
}

impl<'de, 'a, I: Iterator<Item = &'a (Key, Node)>> de::MapAccess<'de> for MapDe<'_, 'a, I> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        let r: Result<K::Value, DeError> =
            seed.deserialize(de::value::StrDeserializer::<DeError>::new(&key.name));
        r.map(Some).map_err(|mut e| {
            if e.at.is_none() {
                e.at = Some((key.pos, join(&self.parent.path, Segment::Key(&key.name))));
            }
            e
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, node) = self.value.take().expect("value after key");
        seed.deserialize(self.parent.child(node, Segment::Key(&key.name)))
    }
}
