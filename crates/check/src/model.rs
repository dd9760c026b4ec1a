//! The shapes rules work on: objects with positions, findings, severities.

use berth_yaml::{Node, Pos, Value};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjRef {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl fmt::Display for ObjRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One problem found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// Source file (or `<stdin>`, or the caller's source name).
    pub file: Arc<str>,
    /// 1-based; 0 when unknown (objects passed in without positions).
    pub line: usize,
    pub col: usize,
    /// The object, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjRef>,
    /// Line of the object's first key, for grouping.
    #[serde(skip)]
    pub object_line: usize,
    /// Path inside the object, e.g. `spec.template.spec.containers[0].image`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// How to fix it (the rule's short fix hint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Set on suppressed findings: the `berth.dev/ignore-reason`, or "" when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
    /// Set on findings about a berth app's render (`berth check APP`), whose `file`, `line`
    /// and `col` then point at the spec entry that produced the object.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// Where a finding on a rendered berth app comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    /// Spec path of the entry that produced the object: `services.backend`,
    /// `dependencies.postgres`, or `environments.dev` for the environment's own objects.
    pub spec_path: String,
    /// The environment rendered.
    pub environment: String,
    /// Line and column in the environment's rendered stream (`berth render --env ENV`).
    pub rendered_line: usize,
    pub rendered_col: usize,
}

/// One Kubernetes object as rules see it: its tree (with positions when parsed from text),
/// where it came from and its identity.
#[derive(Debug, Clone)]
pub struct Obj {
    pub file: Arc<str>,
    pub root: Node,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl Obj {
    pub fn from_node(file: Arc<str>, root: Node) -> Obj {
        let s = |p: &[&str]| {
            root.path(p)
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_string()
        };
        let api_version = s(&["apiVersion"]);
        let kind = s(&["kind"]);
        let name = {
            let n = s(&["metadata", "name"]);
            if n.is_empty() {
                s(&["metadata", "generateName"])
            } else {
                n
            }
        };
        let namespace = root
            .path(&["metadata", "namespace"])
            .and_then(Node::as_str)
            .map(str::to_string);
        Obj {
            file,
            root,
            api_version,
            kind,
            name,
            namespace,
        }
    }

    pub fn obj_ref(&self) -> ObjRef {
        ObjRef {
            kind: self.kind.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
        }
    }

    /// The namespace the object lands in when applied without `-n`: its own, or `default`.
    pub fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }

    pub fn group(&self) -> &str {
        match self.api_version.split_once('/') {
            Some((g, _)) => g,
            None => "",
        }
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.root
            .path(&["metadata", "labels", key])
            .and_then(Node::as_str)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.root
            .path(&["metadata", "annotations", key])
            .and_then(Node::as_str)
    }

    /// Rule ids listed in the `berth.dev/ignore` annotation.
    pub fn ignored_rules(&self) -> Vec<String> {
        self.annotation(crate::IGNORE_ANNOTATION)
            .map(|s| {
                s.split(',')
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Navigation helpers on position-carrying nodes.
pub trait NodeExt {
    fn path(&self, keys: &[&str]) -> Option<&Node>;
    fn seq(&self) -> &[Node];
    fn entries(&self) -> &[(berth_yaml::Key, Node)];
    fn as_i64(&self) -> Option<i64>;
    fn as_bool(&self) -> Option<bool>;
    fn str_at(&self, keys: &[&str]) -> Option<&str>;
    fn bool_at(&self, keys: &[&str]) -> Option<bool>;
    fn is_null(&self) -> bool;
}

impl NodeExt for Node {
    fn path(&self, keys: &[&str]) -> Option<&Node> {
        let mut n = self;
        for k in keys {
            n = n.get(k)?;
        }
        Some(n)
    }
    fn seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }
    fn entries(&self) -> &[(berth_yaml::Key, Node)] {
        match &self.value {
            Value::Map(e) => e,
            _ => &[],
        }
    }
    fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        }
    }
    fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn str_at(&self, keys: &[&str]) -> Option<&str> {
        self.path(keys).and_then(Node::as_str)
    }
    fn bool_at(&self, keys: &[&str]) -> Option<bool> {
        self.path(keys).and_then(NodeExt::as_bool)
    }
    fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
}

/// Converts JSON (objects handed in without source text) into a node tree without positions.
pub fn json_to_node(v: &serde_json::Value) -> Node {
    use serde_json::Value as J;
    let pos = Pos::default();
    let value = match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Value::Str(s.clone()),
        J::Array(a) => Value::Seq(a.iter().map(json_to_node).collect()),
        J::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| {
                    (
                        berth_yaml::Key {
                            name: k.clone(),
                            pos,
                        },
                        json_to_node(v),
                    )
                })
                .collect(),
        ),
    };
    Node::new(value, pos)
}
