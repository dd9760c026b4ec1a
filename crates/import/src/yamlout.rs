//! A small YAML writer for the generated berth.yaml: keys in the order we give them, comments
//! where a person should look, strings quoted only when YAML would misread them.

use std::fmt::Write as _;

#[derive(Debug, Clone)]
pub enum Y {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Inline list of scalars (`[a, b]`) when short, else block.
    List(Vec<Y>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub value: Y,
    /// Comment lines written above the key.
    pub above: Vec<String>,
    /// Comment after the value on the same line (scalars and inline values only).
    pub trailing: Option<String>,
}

impl Entry {
    pub fn new(key: impl Into<String>, value: Y) -> Entry {
        Entry {
            key: key.into(),
            value,
            above: Vec::new(),
            trailing: None,
        }
    }
    pub fn note(mut self, c: impl Into<String>) -> Entry {
        self.trailing = Some(c.into());
        self
    }
    pub fn above(mut self, c: impl Into<String>) -> Entry {
        self.above.push(c.into());
        self
    }
}

pub fn s(v: impl Into<String>) -> Y {
    Y::Str(v.into())
}

pub fn strs<I: IntoIterator<Item = S>, S: Into<String>>(v: I) -> Y {
    Y::List(v.into_iter().map(|x| Y::Str(x.into())).collect())
}

/// Quotes a string when plain YAML would read it as something else.
pub fn scalar(v: &str) -> String {
    let plain_ok = !v.is_empty()
        && v.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '_' | '-' | '.' | '/' | '@' | '+' | '=' | '%' | '~' | ':')
        })
        && !v.starts_with(['-', '.', ':', '@', '%', '~', '=', '+'])
        && !v.ends_with(':')
        && !v.contains(": ")
        && !looks_typed(v);
    if plain_ok {
        return v.to_owned();
    }
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Would YAML 1.1 or 1.2 read this as a number, boolean or null?
fn looks_typed(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    if matches!(
        l.as_str(),
        "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | "null"
            | "~"
            | ".inf"
            | "-.inf"
            | ".nan"
    ) {
        return true;
    }
    let t = v.trim_start_matches(['-', '+']);
    !t.is_empty()
        && (t
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '_' | ':' | '-' | '+'))
            && t.chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == '.')
            || t.starts_with("0x")
            || t.starts_with("0o"))
}

fn inline(y: &Y) -> Option<String> {
    match y {
        Y::Str(v) => Some(scalar(v)),
        Y::Int(i) => Some(i.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        Y::List(items) => {
            let parts: Option<Vec<String>> = items
                .iter()
                .map(|i| match i {
                    Y::List(_) | Y::Map(_) => None,
                    other => inline(other),
                })
                .collect();
            let parts = parts?;
            let text = format!("[{}]", parts.join(", "));
            (text.len() <= 100).then_some(text)
        }
        Y::Map(entries) if entries.is_empty() => Some("{}".into()),
        Y::Map(_) => None,
    }
}

fn comment(out: &mut String, indent: usize, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{:indent$}# {line}", "");
    }
}

pub fn write_map(out: &mut String, entries: &[Entry], indent: usize) {
    for e in entries {
        for c in &e.above {
            comment(out, indent, c);
        }
        let k = scalar(&e.key);
        match inline(&e.value) {
            Some(v) => {
                let _ = write!(out, "{:indent$}{k}: {v}", "");
                if let Some(t) = &e.trailing {
                    let _ = write!(out, "   # {t}");
                }
                out.push('\n');
            }
            None => {
                let _ = write!(out, "{:indent$}{k}:", "");
                if let Some(t) = &e.trailing {
                    let _ = write!(out, "   # {t}");
                }
                out.push('\n');
                match &e.value {
                    Y::Map(m) => write_map(out, m, indent + 2),
                    Y::List(items) => {
                        for i in items {
                            match inline(i) {
                                Some(v) => {
                                    let _ = writeln!(out, "{:w$}- {v}", "", w = indent + 2);
                                }
                                None => {
                                    if let Y::Map(m) = i {
                                        let mut sub = String::new();
                                        write_map(&mut sub, m, 0);
                                        for (n, line) in sub.lines().enumerate() {
                                            let lead = if n == 0 { "- " } else { "  " };
                                            let _ = writeln!(
                                                out,
                                                "{:w$}{lead}{line}",
                                                "",
                                                w = indent + 2
                                            );
                                        }
                                    }
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_yaml_would_misread() {
        for v in [
            "", "yes", "no", "on", "1.10", "007", "1e3", "null", "a: b", "#x", "- x", "*a", "8080",
            "3.8", "12:30",
        ] {
            assert!(scalar(v).starts_with('"'), "{v}");
        }
        for v in [
            "nginx",
            "redis:7-alpine",
            "/healthz",
            "db.example.com",
            "a_b",
            "v1.2",
        ] {
            assert_eq!(scalar(v), v);
        }
        assert_eq!(scalar("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
    }

    #[test]
    fn writes_nested_maps_lists_and_comments() {
        let mut out = String::new();
        write_map(
            &mut out,
            &[
                Entry::new("app", s("shop")).above("generated"),
                Entry::new(
                    "services",
                    Y::Map(vec![Entry::new(
                        "web",
                        Y::Map(vec![Entry::new("port", Y::Int(80)).note("review")]),
                    )]),
                ),
                Entry::new("args", strs(["a", "b c"])),
            ],
            0,
        );
        assert_eq!(
            out,
            "# generated\napp: shop\nservices:\n  web:\n    port: 80   # review\nargs: [a, \"b c\"]\n"
        );
    }
}
