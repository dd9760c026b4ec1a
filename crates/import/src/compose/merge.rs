//! compose-go's merge rules (`override/merge.go`, `override/uncity.go`), on canonical trees
//! (every short syntax already expanded, see `canon.rs`): mappings merge key by key, `command`,
//! `entrypoint` and `healthcheck.test` are replaced, other sequences concatenate and then keep
//! one entry per identity (a port's address, a volume's target, …), the later entry winning in
//! the earlier one's place.

use super::tree::{entries, text, text_at};
use berth_yaml::{Node, Value};

/// Merges `over` onto `base`; `path` is where they are (`["services", "web"]`).
pub fn merge(base: Node, over: Node, path: &[&str]) -> Node {
    if is_override(path) {
        return over;
    }
    if matches!(over.value, Value::Null) && !path.is_empty() {
        return base;
    }
    let pos = base.pos;
    match (base.value, over.value) {
        (Value::Map(mut b), Value::Map(o)) => {
            for (k, v) in o {
                let mut p = path.to_vec();
                p.push(&k.name);
                match b.iter().position(|(x, _)| x.name == k.name) {
                    Some(i) => {
                        let old = std::mem::replace(&mut b[i].1, Node::new(Value::Null, pos));
                        b[i].1 = merge(old, v, &p);
                    }
                    None => b.push((k, v)),
                }
            }
            Node::new(Value::Map(b), pos)
        }
        (Value::Seq(mut b), Value::Seq(o)) => {
            b.extend(o);
            let mut n = Node::new(Value::Seq(b), pos);
            unique(&mut n, path);
            n
        }
        (_, o) => Node::new(o, pos),
    }
}

fn matches(path: &[&str], pattern: &[&str]) -> bool {
    path.len() == pattern.len() && path.iter().zip(pattern).all(|(a, b)| *b == "*" || a == b)
}

fn is_override(path: &[&str]) -> bool {
    [
        &["services", "*", "command"][..],
        &["services", "*", "entrypoint"],
        &["services", "*", "healthcheck", "test"],
    ]
    .iter()
    .any(|p| matches(path, p))
}

/// One entry per identity in the sequences compose de-duplicates.
pub fn unique(node: &mut Node, path: &[&str]) {
    let Some(index) = indexer(path) else { return };
    let Value::Seq(items) = &mut node.value else {
        return;
    };
    let mut out: Vec<Node> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for item in std::mem::take(items) {
        let k = index(&item);
        match keys.iter().position(|x| *x == k) {
            Some(j) => out[j] = item,
            None => {
                keys.push(k);
                out.push(item);
            }
        }
    }
    *items = out;
}

type Indexer = fn(&Node) -> String;

fn indexer(path: &[&str]) -> Option<Indexer> {
    let svc = |leaf: &[&str]| {
        let mut p = vec!["services", "*"];
        p.extend_from_slice(leaf);
        matches(path, &p)
    };
    if svc(&["ports"]) {
        return Some(|n| {
            format!(
                "{}:{}:{}/{}",
                text_at(n, "host_ip").unwrap_or_default(),
                text_at(n, "published").unwrap_or_default(),
                text_at(n, "target").unwrap_or_default(),
                text_at(n, "protocol").unwrap_or_default()
            )
        });
    }
    if svc(&["volumes"]) || svc(&["devices"]) {
        return Some(|n| text_at(n, "target").or_else(|| text(n)).unwrap_or_default());
    }
    if svc(&["secrets"]) || svc(&["configs"]) {
        return Some(|n| {
            text_at(n, "target")
                .or_else(|| text_at(n, "source"))
                .unwrap_or_default()
        });
    }
    if svc(&["env_file"]) {
        return Some(|n| text_at(n, "path").or_else(|| text(n)).unwrap_or_default());
    }
    let plain = [
        "cap_add",
        "cap_drop",
        "dns",
        "dns_opt",
        "dns_search",
        "expose",
        "links",
        "profiles",
        "tmpfs",
        "external_links",
        "extra_hosts",
        "security_opt",
        "group_add",
    ];
    if plain.iter().any(|p| svc(&[p])) || svc(&["networks", "*", "aliases"]) {
        return Some(|n| text(n).unwrap_or_else(|| format!("{:?}", n.to_json())));
    }
    None
}

/// Deletes the value at `path` (keys only), for `!reset` / `!override`.
pub fn delete_path(node: &mut Node, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if let Value::Map(e) = &mut node.value {
        if rest.is_empty() {
            e.retain(|(k, _)| k.name != *first);
        } else if let Some((_, child)) = e.iter_mut().find(|(k, _)| k.name == *first) {
            delete_path(child, rest);
        }
    }
}

/// The `!reset` / `!override` tags of a tree: (path of keys, tag).
pub fn tagged_paths(node: &Node, tags: &[(usize, String)]) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    if tags.is_empty() {
        return out;
    }
    fn walk(
        n: &Node,
        path: &mut Vec<String>,
        tags: &[(usize, String)],
        out: &mut Vec<(Vec<String>, String)>,
    ) {
        for (k, v) in entries(n) {
            path.push(k.name.clone());
            if let Some((_, t)) = tags.iter().find(|(o, _)| *o == v.pos.offset) {
                out.push((path.clone(), t.clone()));
            } else {
                walk(v, path, tags, out);
            }
            path.pop();
        }
    }
    walk(node, &mut Vec::new(), tags, &mut out);
    out
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
    fn mappings_merge_sequences_concatenate_commands_replace() {
        let b = node("services: {a: {image: x, cap_add: [A, B], command: [x, y], labels: {l: 1}}}");
        let o = node("services: {a: {image: y, cap_add: [B, C], command: [z], labels: {m: 2}}}");
        let m = merge(b, o, &[]).to_json();
        assert_eq!(m["services"]["a"]["image"], "y");
        assert_eq!(
            m["services"]["a"]["cap_add"],
            serde_json::json!(["A", "B", "C"])
        );
        assert_eq!(m["services"]["a"]["command"], serde_json::json!(["z"]));
        assert_eq!(
            m["services"]["a"]["labels"],
            serde_json::json!({"l": 1, "m": 2})
        );
    }

    #[test]
    fn volumes_are_unique_by_target_later_wins_in_place() {
        let b = node("services: {a: {volumes: [{target: /a, source: x}, {target: /b}]}}");
        let o = node("services: {a: {volumes: [{target: /a, source: y}, {target: /c}]}}");
        let m = merge(b, o, &[]).to_json();
        let v = &m["services"]["a"]["volumes"];
        assert_eq!(v.as_array().unwrap().len(), 3);
        assert_eq!(v[0]["source"], "y");
        assert_eq!(v[2]["target"], "/c");
    }

    #[test]
    fn tags_find_their_paths() {
        let src = "services:\n  a:\n    ports: !reset []\n    env: !override {A: 1}\n";
        let doc = parse_stream(src, Limits::default()).remove(0);
        let root = doc.root.unwrap().unwrap();
        let paths = tagged_paths(&root, &doc.tags);
        assert_eq!(paths.len(), 2);
        assert_eq!(paths[0].0, ["services", "a", "ports"]);
        assert_eq!(paths[0].1, "!reset");
        assert_eq!(paths[1].1, "!override");
    }
}
