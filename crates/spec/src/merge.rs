//! Environment overrides deep-merge onto the base spec: mappings merge key by key, lists and
//! scalars replace, and `null` removes the key. Merged nodes keep their own positions, so an
//! error in an override points at the override.

use berth_yaml::{Node, Value};

pub(crate) fn merge(base: &mut Node, over: &Node) {
    match (&mut base.value, &over.value) {
        (Value::Map(entries), Value::Map(overrides)) => {
            for (key, value) in overrides {
                let existing = entries.iter().position(|(k, _)| k.name == key.name);
                match (existing, &value.value) {
                    (Some(i), Value::Null) => {
                        entries.remove(i);
                    }
                    (None, Value::Null) => {}
                    (Some(i), _) => merge(&mut entries[i].1, value),
                    (None, _) => entries.push((key.clone(), value.clone())),
                }
            }
        }
        _ => *base = over.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_yaml::{Limits, parse_stream};

    fn node(src: &str) -> Node {
        parse_stream(src, Limits::default())
            .remove(0)
            .root
            .unwrap()
            .unwrap()
    }

    #[test]
    fn maps_merge_lists_replace_null_removes() {
        let mut base = node("a: {x: 1, y: 2}\nl: [1, 2]\ngone: 1\nkeep: k\n");
        let over = node("a: {y: 3, z: 4}\nl: [9]\ngone: null\nnew: n\n");
        merge(&mut base, &over);
        assert_eq!(
            base.to_json(),
            serde_json::json!({"a": {"x": 1, "y": 3, "z": 4}, "l": [9], "keep": "k", "new": "n"})
        );
        // The overridden value carries the override's position.
        assert_eq!(base.at_path(["a", "y"]).unwrap().pos.line, 1);
        assert_eq!(base.at_path(["l"]).unwrap().pos.line, 2);
    }
}
