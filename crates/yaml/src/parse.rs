use crate::node::{Key, Node, Pos, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::collections::HashMap;

/// Budgets that keep hostile input from hanging the process or exhausting memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of mappings and lists.
    pub max_depth: usize,
    /// Most nodes one document may expand to, aliases counted at their expanded size.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 20,
            max_depth: 128,
            max_nodes: 2_000_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub pos: Pos,
    /// A hint on how to fix it, when there is one.
    pub help: Option<String>,
}

impl YamlError {
    fn new(message: impl Into<String>, pos: Pos) -> Self {
        YamlError {
            message: message.into(),
            pos,
            help: None,
        }
    }
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// One document of a stream: its parsed root (None when the document is empty), or the
/// error that stopped it. Documents are parsed independently, so one malformed document
/// does not hide the others.
#[derive(Debug, Clone)]
pub struct Document {
    /// 1-based line where the document's text starts.
    pub line: usize,
    pub root: Result<Option<Node>, YamlError>,
    /// Local tags (`!reset`, `!override`, … — handle `!`, not the core `!!` ones) by the byte
    /// offset of the node they are written on. Docker Compose gives such tags meaning; berth.yaml
    /// and manifests do not, so they live beside the tree rather than in every node.
    pub tags: Vec<(usize, String)>,
}

/// Parses a (multi-document) YAML stream.
/// An input over `limits.max_bytes` gives a single failed document.
pub fn parse_stream(src: &str, limits: Limits) -> Vec<Document> {
    if src.len() > limits.max_bytes {
        return vec![Document {
            line: 1,
            root: Err(YamlError::new(
                format!(
                    "input is {} bytes, more than the limit of {} bytes",
                    src.len(),
                    limits.max_bytes
                ),
                Pos {
                    line: 1,
                    col: 1,
                    offset: 0,
                },
            )
            .help("split it into smaller files")),
            tags: Vec::new(),
        }];
    }
    split_documents(src)
        .into_iter()
        .filter_map(|chunk| {
            let text = &src[chunk.start..chunk.end];
            let (root, tags) = match parse_one(text, chunk, limits) {
                Ok((root, tags)) => (Ok(root), tags),
                Err(e) => (Err(e), Vec::new()),
            };
            match root {
                // A chunk holding only comments or blank lines is not a document.
                Ok(None) => None,
                Ok(Some(Node {
                    value: Value::Null, ..
                })) if only_comments(text) => None,
                root => Some(Document {
                    line: chunk.line,
                    root,
                    tags,
                }),
            }
        })
        .collect()
}

fn only_comments(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t.starts_with("--- ") || t == "..."
    })
}

#[derive(Debug, Clone, Copy)]
struct Chunk {
    start: usize,
    end: usize,
    /// 1-based line of `start`.
    line: usize,
}

/// Splits on `---` lines at column 0, the separators kubectl and Helm split on too.
fn split_documents(src: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (idx, line) in src.split_inclusive('\n').enumerate() {
        let body = line.trim_end_matches(['\n', '\r']);
        let is_sep = body == "---" || body.starts_with("--- ") || body.starts_with("---\t");
        if is_sep && offset > start {
            chunks.push(Chunk {
                start,
                end: offset,
                line: start_line,
            });
            start = offset;
            start_line = idx + 1;
        }
        offset += line.len();
    }
    chunks.push(Chunk {
        start,
        end: src.len(),
        line: start_line,
    });
    chunks
}

enum Frame {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<(Key, Node)>,
        merges: Vec<Node>,
        pending: Option<Key>,
        pos: Pos,
        anchor: usize,
    },
}

struct Builder<'a> {
    text: &'a str,
    chunk: Chunk,
    /// Byte offset of each line start within `text`.
    line_starts: Vec<usize>,
    limits: Limits,
    nodes: usize,
    anchors: HashMap<usize, (Node, usize)>,
    stack: Vec<Frame>,
    root: Option<Node>,
    docs_seen: usize,
    tags: Vec<(usize, String)>,
}

type Parsed = (Option<Node>, Vec<(usize, String)>);

fn parse_one(text: &str, chunk: Chunk, limits: Limits) -> Result<Parsed, YamlError> {
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let mut b = Builder {
        text,
        chunk,
        line_starts,
        limits,
        nodes: 0,
        anchors: HashMap::new(),
        stack: Vec::new(),
        root: None,
        docs_seen: 0,
        tags: Vec::new(),
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            YamlError::new(
                format!("invalid YAML: {}", e.info()),
                b.pos_of(m.line(), m.col()),
            )
        })?;
        b.event(event, span)?;
    }
    Ok((b.root, b.tags))
}

impl Builder<'_> {
    /// `line` is 1-based, `col` 0-based in characters, both relative to the chunk.
    fn pos_of(&self, line: usize, col: usize) -> Pos {
        let li = line.saturating_sub(1).min(self.line_starts.len() - 1);
        let ls = self.line_starts[li];
        let rest = &self.text[ls..];
        let byte_col = rest
            .char_indices()
            .nth(col)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        Pos {
            line: self.chunk.line + li,
            col: col + 1,
            offset: self.chunk.start + ls + byte_col,
        }
    }

    fn pos(&self, span: &Span) -> Pos {
        self.pos_of(span.start.line(), span.start.col())
    }

    fn count(&mut self, n: usize, pos: Pos) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > self.limits.max_nodes {
            return Err(YamlError::new(
                format!(
                    "document expands to more than {} values (an alias bomb?)",
                    self.limits.max_nodes
                ),
                pos,
            )
            .help("remove the nested anchors and aliases, or split the document"));
        }
        Ok(())
    }

    fn push(&mut self, frame: Frame, pos: Pos) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(YamlError::new(
                format!("nesting deeper than {} levels", self.limits.max_depth),
                pos,
            )
            .help("flatten the structure"));
        }
        self.count(1, pos)?;
        self.stack.push(frame);
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let pos = self.pos(&span);
        if let Event::SequenceStart(_, Some(tag))
        | Event::MappingStart(_, Some(tag))
        | Event::Scalar(_, _, _, Some(tag)) = &event
            && tag.handle == "!"
        {
            self.tags.push((pos.offset, format!("!{}", tag.suffix)));
        }
        match event {
            Event::DocumentStart(_) => {
                self.docs_seen += 1;
                if self.docs_seen > 1 {
                    return Err(YamlError::new(
                        "a second document starts here without a `---` line at column 1",
                        pos,
                    ));
                }
            }
            Event::SequenceStart(anchor, _) => self.push(
                Frame::Seq {
                    items: Vec::new(),
                    pos,
                    anchor,
                },
                pos,
            )?,
            Event::MappingStart(anchor, _) => self.push(
                Frame::Map {
                    entries: Vec::new(),
                    merges: Vec::new(),
                    pending: None,
                    pos,
                    anchor,
                },
                pos,
            )?,
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, pos, anchor }) = self.stack.pop() {
                    self.complete(Node::new(Value::Seq(items), pos), anchor)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut entries,
                    merges,
                    pos,
                    anchor,
                    ..
                }) = self.stack.pop()
                {
                    apply_merges(&mut entries, merges);
                    self.complete(Node::new(Value::Map(entries), pos), anchor)?;
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, pos)?;
                let value = resolve_scalar(&text, style, tag.as_deref());
                self.complete(Node::new(value, pos), anchor)?;
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    return Err(YamlError::new("alias to an unknown anchor", pos));
                };
                let (mut node, size) = (node.clone(), *size);
                self.count(size, pos)?;
                node.pos = pos;
                self.complete(node, 0)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor > 0 {
            let size = count_nodes(&node);
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                merges,
                pending,
                ..
            }) => match pending.take() {
                None => {
                    let name = match &node.value {
                        Value::Str(s) => s.clone(),
                        Value::Null => String::new(),
                        Value::Seq(_) | Value::Map(_) => {
                            return Err(YamlError::new(
                                "a list or mapping used as a mapping key",
                                node.pos,
                            )
                            .help("use a plain string key"));
                        }
                        _ => node.scalar_text().unwrap_or_default(),
                    };
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == name) {
                        return Err(YamlError::new(
                            format!(
                                "duplicate key `{name}` (first defined at line {})",
                                first.pos.line
                            ),
                            node.pos,
                        )
                        .help("remove one of the two entries; YAML keys must be unique"));
                    }
                    *pending = Some(Key {
                        name,
                        pos: node.pos,
                    });
                }
                Some(key) if key.name == "<<" => merges.push(node),
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

/// `<<: *anchor` merge keys: entries from the merged mappings fill in keys not written explicitly.
fn apply_merges(entries: &mut Vec<(Key, Node)>, merges: Vec<Node>) {
    let mut sources = Vec::new();
    for m in merges {
        match m.value {
            Value::Map(e) => sources.push(e),
            Value::Seq(items) => sources.extend(items.into_iter().filter_map(|n| match n.value {
                Value::Map(e) => Some(e),
                _ => None,
            })),
            _ => {}
        }
    }
    for source in sources {
        for (k, v) in source {
            if !entries.iter().any(|(e, _)| e.name == k.name) {
                entries.push((k, v));
            }
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries.iter().map(|(_, v)| 1 + count_nodes(v)).sum(),
        _ => 0,
    }
}

fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag
        && (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:")
    {
        match tag.suffix.as_str() {
            "str" | "binary" => return Value::Str(text.to_owned()),
            "null" => return Value::Null,
            _ => {}
        }
    }
    if style != ScalarStyle::Plain {
        return Value::Str(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    if looks_like_float(text)
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

fn parse_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// YAML 1.2 core float: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn looks_like_float(text: &str) -> bool {
    let t = text.trim_start_matches(['-', '+']);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (!a.is_empty() || !b.is_empty())
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.trim_start_matches(['-', '+']);
        !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exp_ok && text.len() - t.len() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Result<Option<Node>, YamlError> {
        let mut docs = parse_stream(src, Limits::default());
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0).root
    }

    #[test]
    fn positions_are_one_based_and_point_at_values() {
        let root = one("app: todo\nservices:\n  web:\n    port: 3000\n")
            .unwrap()
            .unwrap();
        let port = root.at_path(["services", "web", "port"]).unwrap();
        assert_eq!(port.value, Value::Int(3000));
        assert_eq!((port.pos.line, port.pos.col), (4, 11));
        assert_eq!(
            &"app: todo\nservices:\n  web:\n    port: 3000\n"[port.pos.offset..][..4],
            "3000"
        );
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let root = one("a: yes\nb: true\nc: '1'\nd: 1.5\ne: ~\nf: 0x10\ng: 1e3\nh: 1.2.3\n")
            .unwrap()
            .unwrap();
        let j = root.to_json();
        assert_eq!(j["a"], "yes");
        assert_eq!(j["b"], true);
        assert_eq!(j["c"], "1");
        assert_eq!(j["d"], 1.5);
        assert!(j["e"].is_null());
        assert_eq!(j["f"], 16);
        assert_eq!(j["g"], 1000.0);
        assert_eq!(j["h"], "1.2.3");
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_key() {
        let err = one("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(err.message.contains("duplicate key `a`"), "{err:?}");
        assert!(err.message.contains("line 1"));
        assert_eq!(err.pos.line, 3);
    }

    #[test]
    fn syntax_errors_carry_their_position() {
        let err = one("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{err:?}");
        assert!(err.pos.line >= 1);
    }

    #[test]
    fn one_bad_document_does_not_hide_the_others() {
        let docs = parse_stream("a: 1\n---\nb: [\n---\nc: 3\n", Limits::default());
        assert_eq!(docs.len(), 3);
        assert!(docs[0].root.is_ok());
        assert!(docs[1].root.is_err());
        assert_eq!(docs[1].line, 2);
        let third = docs[2].root.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(third.get("c").unwrap().pos.line, 5);
    }

    #[test]
    fn empty_and_comment_only_documents_are_dropped() {
        let docs = parse_stream("---\n# only a comment\n---\na: 1\n---\n", Limits::default());
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = one(&src).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = one(&src).unwrap_err();
        assert!(
            err.message.contains("nesting deeper") || err.message.contains("recursion limit"),
            "{err:?}"
        );
    }

    #[test]
    fn huge_input_is_refused_before_parsing() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        let docs = parse_stream("a: 0123456789\n", limits);
        assert!(docs[0].root.as_ref().unwrap_err().message.contains("limit"));
    }

    #[test]
    fn local_tags_are_kept_by_offset() {
        let src = "a: !reset []\nb: !override {x: 1}\nc: !!str 1\n";
        let doc = parse_stream(src, Limits::default()).remove(0);
        let root = doc.root.unwrap().unwrap();
        let a = root.get("a").unwrap().pos.offset;
        let b = root.get("b").unwrap().pos.offset;
        assert_eq!(
            doc.tags,
            vec![(a, "!reset".to_owned()), (b, "!override".to_owned())]
        );
    }

    #[test]
    fn merge_keys_fill_in_missing_entries() {
        let root = one("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n")
            .unwrap()
            .unwrap();
        let j = root.to_json();
        assert_eq!(j["thing"]["x"], 1);
        assert_eq!(j["thing"]["y"], 3);
    }
}
