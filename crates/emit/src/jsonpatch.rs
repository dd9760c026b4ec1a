//! The smallest RFC 6902 patch from one JSON value to another: maps are compared key by key,
//! lists of equal length item by item; anything else that differs is replaced whole.

use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Add(String, Value),
    Remove(String),
    Replace(String, Value),
}

impl Op {
    #[cfg(test)]
    pub(crate) fn path(&self) -> &str {
        match self {
            Op::Add(p, _) | Op::Remove(p) | Op::Replace(p, _) => p,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        match self {
            Op::Add(p, v) => json!({"op": "add", "path": p, "value": v}),
            Op::Remove(p) => json!({"op": "remove", "path": p}),
            Op::Replace(p, v) => json!({"op": "replace", "path": p, "value": v}),
        }
    }
}

/// One JSON-pointer segment: `~` → `~0`, `/` → `~1`.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

pub(crate) fn diff(from: &Value, to: &Value) -> Vec<Op> {
    let mut ops = Vec::new();
    walk(from, to, "", &mut ops);
    ops
}

fn walk(from: &Value, to: &Value, path: &str, ops: &mut Vec<Op>) {
    if from == to {
        return;
    }
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => maps(a, b, path, ops),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                walk(x, y, &format!("{path}/{i}"), ops);
            }
        }
        _ => ops.push(Op::Replace(path.to_owned(), to.clone())),
    }
}

fn maps(a: &Map<String, Value>, b: &Map<String, Value>, path: &str, ops: &mut Vec<Op>) {
    for (k, x) in a {
        let p = format!("{path}/{}", escape(k));
        match b.get(k) {
            Some(y) => walk(x, y, &p, ops),
            None => ops.push(Op::Remove(p)),
        }
    }
    for (k, y) in b {
        if !a.contains_key(k) {
            ops.push(Op::Add(format!("{path}/{}", escape(k)), y.clone()));
        }
    }
}

/// Applies a patch made by [`diff`] (tests use it to prove the round trip).
#[cfg(test)]
pub(crate) fn apply(value: &mut Value, ops: &[Op]) {
    for op in ops {
        let (parent, last) = op.path().rsplit_once('/').expect("pointer has a segment");
        let last = last.replace("~1", "/").replace("~0", "~");
        let target = value.pointer_mut(parent).expect("parent exists");
        match (op, target) {
            (Op::Remove(_), Value::Object(m)) => {
                m.shift_remove(&last);
            }
            (Op::Add(_, v) | Op::Replace(_, v), Value::Object(m)) => {
                m.insert(last, v.clone());
            }
            (Op::Replace(_, v), Value::Array(a)) => {
                a[last.parse::<usize>().expect("index")] = v.clone();
            }
            _ => panic!("unsupported op {op:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_round_trip() {
        let a = json!({"metadata": {"labels": {"app.kubernetes.io/version": "1", "x": 1}},
            "spec": {"replicas": 2, "list": [1, 2], "items": [{"a": 1}, {"a": 2}]}});
        let b = json!({"metadata": {"labels": {"app.kubernetes.io/version": "2", "y": 1}},
            "spec": {"replicas": 1, "list": [1], "items": [{"a": 1}, {"a": 3}]}});
        let ops = diff(&a, &b);
        assert!(ops.contains(&Op::Replace(
            "/metadata/labels/app.kubernetes.io~1version".into(),
            json!("2")
        )));
        assert!(ops.contains(&Op::Remove("/metadata/labels/x".into())));
        assert!(ops.contains(&Op::Replace("/spec/list".into(), json!([1]))));
        assert!(ops.contains(&Op::Replace("/spec/items/1/a".into(), json!(3))));
        let mut patched = a.clone();
        apply(&mut patched, &ops);
        assert_eq!(patched, b);
        assert!(diff(&a, &a).is_empty());
    }
}
