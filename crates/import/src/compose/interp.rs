//! `${VAR}` interpolation exactly as compose-go does it: `$$` escapes, `$VAR`, `${VAR}`,
//! `${VAR:-default}` / `${VAR-default}`, `${VAR:?error}` / `${VAR?error}`,
//! `${VAR:+replacement}` / `${VAR+replacement}`, defaults themselves interpolated. A `$` that
//! starts none of these stays literal (compose keeps `cost $5`).

/// Why a value could not be interpolated (a `${VAR:?message}` whose variable is missing).
#[derive(Debug, Clone, PartialEq)]
pub struct InterpError {
    pub message: String,
}

/// Interpolates `s`; `lookup` gives a variable's value (None = unset). Unset variables without
/// a default become empty and are reported through `unset`.
pub fn interpolate(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut dyn FnMut(&str),
) -> Result<String, InterpError> {
    if !s.contains('$') {
        return Ok(s.to_owned());
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut lit = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        out.push_str(&s[lit..i]);
        let next = b.get(i + 1).copied();
        match next {
            Some(b'$') => {
                out.push('$');
                i += 2;
            }
            Some(b'{') => {
                let Some(end) = closing_brace(s, i + 2) else {
                    // compose: "Invalid template"
                    return Err(InterpError {
                        message: format!("invalid interpolation format for {s:?}: unclosed `${{`"),
                    });
                };
                let inner = &s[i + 2..end];
                out.push_str(&braced(inner, s, lookup, unset)?);
                i = end + 1;
            }
            Some(c) if c == b'_' || c.is_ascii_alphabetic() => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && (b[j] == b'_' || b[j].is_ascii_alphanumeric()) {
                    j += 1;
                }
                let name = &s[start..j];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => unset(name),
                }
                i = j;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
        lit = i;
    }
    out.push_str(&s[lit..]);
    Ok(out)
}

/// Index of the `}` closing a `${` whose body starts at `from`, counting nested `${…}`.
fn closing_brace(s: &str, from: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 2;
                continue;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn braced(
    inner: &str,
    whole: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut dyn FnMut(&str),
) -> Result<String, InterpError> {
    let name_end = inner
        .bytes()
        .position(|c| !(c == b'_' || c.is_ascii_alphanumeric()))
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    let rest = &inner[name_end..];
    let valid_name = name
        .bytes()
        .next()
        .is_some_and(|c| c == b'_' || c.is_ascii_alphabetic());
    if !valid_name {
        return Err(InterpError {
            message: format!("invalid interpolation format for {whole:?}: `${{{inner}}}`"),
        });
    }
    let value = lookup(name);
    let (colon, op, arg) = if rest.is_empty() {
        (false, None, "")
    } else if let Some(r) = rest.strip_prefix(':') {
        let mut ch = r.chars();
        (true, ch.next(), ch.as_str())
    } else {
        let mut ch = rest.chars();
        (false, ch.next(), ch.as_str())
    };
    // `:` means "unset or empty", no colon means "unset".
    let missing = match &value {
        None => true,
        Some(v) => colon && v.is_empty(),
    };
    match op {
        None => match value {
            Some(v) => Ok(v),
            None => {
                unset(name);
                Ok(String::new())
            }
        },
        Some('-') => {
            if missing {
                interpolate(arg, lookup, unset)
            } else {
                Ok(value.unwrap_or_default())
            }
        }
        Some('?') => {
            if missing {
                let msg = interpolate(arg, lookup, unset)?;
                Err(InterpError {
                    message: format!("required variable {name} is missing a value: {msg}"),
                })
            } else {
                Ok(value.unwrap_or_default())
            }
        }
        Some('+') => {
            if missing {
                Ok(String::new())
            } else {
                interpolate(arg, lookup, unset)
            }
        }
        _ => Err(InterpError {
            message: format!("invalid interpolation format for {whole:?}: `${{{inner}}}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(s: &str, vars: &[(&str, &str)]) -> (Result<String, InterpError>, Vec<String>) {
        let env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut unset = Vec::new();
        let r = interpolate(s, &|k| env.get(k).cloned(), &mut |k| {
            unset.push(k.to_owned())
        });
        (r, unset)
    }

    fn ok(s: &str, vars: &[(&str, &str)]) -> String {
        run(s, vars).0.unwrap()
    }

    // Expected values are what `docker compose config` (compose-go 2.40.3) printed for the same
    // input with SET=s EMPTY= in the environment.
    #[test]
    fn matches_docker_compose() {
        let vars = [("SET", "s"), ("EMPTY", "")];
        assert_eq!(ok("${U:-def ${V:-inner}}", &vars), "def inner");
        assert_eq!(ok("${SET:+rep}", &vars), "rep");
        assert_eq!(ok("${EMPTY:+rep}", &vars), "");
        assert_eq!(ok("${EMPTY-dash}", &vars), "");
        assert_eq!(ok("${EMPTY:-colondash}", &vars), "colondash");
        assert_eq!(ok("$$HOME", &vars), "$HOME");
        assert_eq!(ok("$SET", &vars), "s");
        assert_eq!(ok("${SET}x${SET}", &vars), "sxs");
        assert_eq!(ok("cost $5 and $ x", &vars), "cost $5 and $ x");
        assert_eq!(ok("${SET-}", &vars), "s");
    }

    #[test]
    fn unset_variables_are_blank_and_reported() {
        let (r, unset) = run("a${UNSET}b$OTHER", &[]);
        assert_eq!(r.unwrap(), "ab");
        assert_eq!(unset, ["UNSET", "OTHER"]);
        // A default silences the warning.
        assert!(run("${UNSET:-x}", &[]).1.is_empty());
    }

    #[test]
    fn required_variables_fail_with_composes_wording() {
        let err = run("${REQ:?need it}", &[]).0.unwrap_err();
        assert_eq!(
            err.message,
            "required variable REQ is missing a value: need it"
        );
        assert!(run("${REQ?x}", &[("REQ", "")]).0.is_ok());
        assert!(run("${REQ:?x}", &[("REQ", "")]).0.is_err());
    }

    #[test]
    fn malformed_templates_are_errors() {
        assert!(run("${A", &[]).0.is_err());
        assert!(run("${1A}", &[]).0.is_err());
    }
}
