//! Small helpers over `berth_yaml::Node` trees, and the file index compose positions carry.
//!
//! A compose project spans several files (overrides, `extends`, `include`, `env_file`), but a
//! `Pos` has only line, column and byte offset. The loader stores the file's index (plus one)
//! in the top bits of `offset`, so every node still says which file it came from after merges.

use berth_yaml::{Key, Node, Pos, Value};

const FILE_SHIFT: u32 = 40;
const OFFSET_MASK: usize = (1 << FILE_SHIFT) - 1;

pub fn with_file(pos: Pos, file: usize) -> Pos {
    Pos {
        offset: (pos.offset & OFFSET_MASK) | ((file + 1) << FILE_SHIFT),
        ..pos
    }
}

/// The index of the file a position is in (None for synthesized nodes).
pub fn file_of(pos: Pos) -> Option<usize> {
    (pos.offset >> FILE_SHIFT).checked_sub(1)
}

/// Marks every node of a tree (and the tag table) with its file.
pub fn mark_file(node: &mut Node, file: usize) {
    node.pos = with_file(node.pos, file);
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| mark_file(n, file)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            k.pos = with_file(k.pos, file);
            mark_file(v, file)
        }),
        _ => {}
    }
}

pub fn str_node(s: impl Into<String>, pos: Pos) -> Node {
    Node::new(Value::Str(s.into()), pos)
}

pub fn key(name: impl Into<String>, pos: Pos) -> Key {
    Key {
        name: name.into(),
        pos,
    }
}

pub fn entries(node: &Node) -> &[(Key, Node)] {
    match &node.value {
        Value::Map(e) => e,
        _ => &[],
    }
}

pub fn items(node: &Node) -> &[Node] {
    match &node.value {
        Value::Seq(i) => i,
        _ => &[],
    }
}

pub fn get_mut<'a>(node: &'a mut Node, k: &str) -> Option<&'a mut Node> {
    match &mut node.value {
        Value::Map(e) => e.iter_mut().find(|(x, _)| x.name == k).map(|(_, v)| v),
        _ => None,
    }
}

pub fn remove(node: &mut Node, k: &str) -> Option<Node> {
    match &mut node.value {
        Value::Map(e) => {
            let i = e.iter().position(|(x, _)| x.name == k)?;
            Some(e.remove(i).1)
        }
        _ => None,
    }
}

/// Sets `k` (replacing in place, or appending).
pub fn set(node: &mut Node, k: &str, v: Node) {
    if let Value::Map(e) = &mut node.value {
        match e.iter_mut().find(|(x, _)| x.name == k) {
            Some((_, old)) => *old = v,
            None => {
                let pos = v.pos;
                e.push((key(k, pos), v))
            }
        }
    }
}

/// Scalar text of a node (strings, numbers, booleans).
pub fn text(node: &Node) -> Option<String> {
    node.scalar_text()
}

pub fn text_at(node: &Node, k: &str) -> Option<String> {
    node.get(k).and_then(text)
}

pub fn is_null(node: &Node) -> bool {
    matches!(node.value, Value::Null)
}
