//! `.env` and `env_file` files as compose-go's dotenv parser reads them: `KEY=value`,
//! `export KEY=value`, `# comments` (inline after whitespace), single quotes literal, double
//! quotes with escapes, unquoted and double-quoted values interpolated, a bare `KEY` taken from
//! the environment when it is set there.

use super::interp::{InterpError, interpolate};

/// One variable and the 1-based line it was written on.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvLine {
    pub key: String,
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DotenvError {
    pub message: String,
    pub line: usize,
}

/// Parses `src`; `lookup` resolves variables the file does not define itself (the process
/// environment). Later definitions of a key win over earlier ones, as in compose.
pub fn parse(
    src: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<EnvLine>, DotenvError> {
    let mut out: Vec<EnvLine> = Vec::new();
    let lines: Vec<&str> = src.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let raw = lines[i].trim_start_matches('\u{feff}');
        i += 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = t.strip_prefix("export ").map(str::trim_start).unwrap_or(t);
        let (key, rest) = match t.find(['=', ':']) {
            Some(at) => (t[..at].trim(), Some(t[at + 1..].trim_start())),
            None => (t, None),
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']'))
        {
            return Err(DotenvError {
                message: format!("unexpected character in variable name {key:?}"),
                line: line_no,
            });
        }
        let defined = |k: &str, out: &[EnvLine]| {
            out.iter()
                .rev()
                .find(|e| e.key == k)
                .map(|e| e.value.clone())
        };
        let Some(rest) = rest else {
            // A bare KEY: only when the environment has it.
            if let Some(v) = lookup(key) {
                out.push(EnvLine {
                    key: key.to_owned(),
                    value: v,
                    line: line_no,
                });
            }
            continue;
        };
        let value = if let Some(body) = rest.strip_prefix('\'') {
            let mut text = body.to_owned();
            while !text.contains('\'') && i < lines.len() {
                text.push('\n');
                text.push_str(lines[i]);
                i += 1;
            }
            match text.find('\'') {
                Some(end) => text[..end].to_owned(),
                None => {
                    return Err(DotenvError {
                        message: "unterminated single-quoted value".into(),
                        line: line_no,
                    });
                }
            }
        } else if let Some(body) = rest.strip_prefix('"') {
            let mut text = body.to_owned();
            while closing_quote(&text).is_none() && i < lines.len() {
                text.push('\n');
                text.push_str(lines[i]);
                i += 1;
            }
            let Some(end) = closing_quote(&text) else {
                return Err(DotenvError {
                    message: "unterminated double-quoted value".into(),
                    line: line_no,
                });
            };
            let unescaped = unescape(&text[..end]);
            expand(&unescaped, &out, lookup, &defined).map_err(|e| DotenvError {
                message: e.message,
                line: line_no,
            })?
        } else {
            let v = match rest.find(" #").or_else(|| rest.find("\t#")) {
                Some(at) => &rest[..at],
                None if rest.starts_with('#') => "",
                None => rest,
            };
            expand(v.trim(), &out, lookup, &defined).map_err(|e| DotenvError {
                message: e.message,
                line: line_no,
            })?
        };
        out.push(EnvLine {
            key: key.to_owned(),
            value,
            line: line_no,
        });
    }
    // Keep the last definition of each key, in first-definition order.
    let mut merged: Vec<EnvLine> = Vec::new();
    for e in out {
        match merged.iter_mut().find(|m| m.key == e.key) {
            Some(m) => *m = e,
            None => merged.push(e),
        }
    }
    Ok(merged)
}

fn expand(
    v: &str,
    out: &[EnvLine],
    lookup: &dyn Fn(&str) -> Option<String>,
    defined: &dyn Fn(&str, &[EnvLine]) -> Option<String>,
) -> Result<String, InterpError> {
    interpolate(v, &|k| lookup(k).or_else(|| defined(k, out)), &mut |_| {})
}

fn closing_quote(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(c @ ('"' | '\\' | '$' | '\'')) => {
                if c == '$' {
                    out.push_str("$$");
                } else {
                    out.push(c)
                }
            }
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(src: &str) -> Vec<(String, String)> {
        parse(src, &|k| (k == "HOSTVAR").then(|| "fromhost".to_owned()))
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    #[test]
    fn reads_the_usual_forms() {
        let v = vars(
            "# comment\nA=1\nexport B = two \nC='lit ${A}'\nD=\"q ${A}\\n\"\nE=x # note\nF=a#b\nHOSTVAR\nMISSING\nG=\n",
        );
        assert_eq!(
            v,
            [
                ("A", "1"),
                ("B", "two"),
                ("C", "lit ${A}"),
                ("D", "q 1\n"),
                ("E", "x"),
                ("F", "a#b"),
                ("HOSTVAR", "fromhost"),
                ("G", ""),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }

    #[test]
    fn values_refer_to_earlier_ones_and_defaults() {
        // kompose-envfile-interpolation's .env, as docker compose resolved it.
        let v = vars("DOC_ENGINE=${DOC_ENGINE:-elasticsearch}\nCOMPOSE_PROFILES=${DOC_ENGINE}\n");
        assert_eq!(v[1], ("COMPOSE_PROFILES".into(), "elasticsearch".into()));
    }

    #[test]
    fn multiline_quotes_and_errors() {
        let v = vars("K=\"a\nb\"\nL=1\n");
        assert_eq!(v[0].1, "a\nb");
        assert_eq!(v[1].1, "1");
        let err = parse("K=\"open\n", &|_| None).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(parse("BAD KEY=1\n", &|_| None).is_err());
    }
}
