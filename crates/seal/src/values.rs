//! `KEY=@file`, `KEY=env:VAR` and `KEY=-` value arguments, and reading them into zeroized memory.

use crate::SealError;
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const VALUE_ARG_HELP: &str = "values are given as KEY=@FILE, KEY=env:VARIABLE or KEY=- (standard input); literal values are refused because they would land in shell history and the process list";

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    File(PathBuf),
    Env(String),
    Stdin,
}

impl ValueSource {
    pub fn describe(&self) -> String {
        match self {
            ValueSource::File(p) => format!("file {}", p.display()),
            ValueSource::Env(v) => format!("environment variable {v}"),
            ValueSource::Stdin => "standard input".into(),
        }
    }
}

/// One value argument. `key` is `None` for the keyless forms (`@FILE`, `env:VAR`, `-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueArg {
    pub key: Option<String>,
    pub source: ValueSource,
}

fn parse_source(s: &str) -> Option<ValueSource> {
    if let Some(p) = s.strip_prefix('@') {
        (!p.is_empty()).then(|| ValueSource::File(PathBuf::from(p)))
    } else if let Some(v) = s.strip_prefix("env:") {
        (!v.is_empty()).then(|| ValueSource::Env(v.to_string()))
    } else if s == "-" {
        Some(ValueSource::Stdin)
    } else {
        None
    }
}

impl ValueArg {
    /// Parses argument number `position` (1-based, used in messages instead of the argument's text,
    /// which could be a mistyped secret).
    pub fn parse(arg: &str, position: usize) -> Result<ValueArg, SealError> {
        if let Some(source) = parse_source(arg) {
            return Ok(ValueArg { key: None, source });
        }
        let Some((key, rest)) = arg.split_once('=') else {
            return Err(SealError::BadValueArg(format!(
                "value argument {position} is not KEY=@FILE, KEY=env:VARIABLE or KEY=-"
            )));
        };
        validate_key(key).map_err(|reason| {
            SealError::BadValueArg(format!("value argument {position}: {reason}"))
        })?;
        let Some(source) = parse_source(rest) else {
            return Err(SealError::BadValueArg(format!(
                "the value of `{key}` (argument {position}) must be @FILE, env:VARIABLE or - (a literal value is refused)"
            )));
        };
        Ok(ValueArg {
            key: Some(key.to_string()),
            source,
        })
    }

    /// The key to store the value under: the given one, or a file's name (like
    /// `kubectl create secret --from-file=PATH`).
    pub fn key_or_default(&self) -> Option<String> {
        self.key.clone().or_else(|| match &self.source {
            ValueSource::File(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
            _ => None,
        })
    }

    /// Reads the value. `stdin` is only touched for [`ValueSource::Stdin`].
    pub fn read(&self, stdin: &mut dyn Read) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let key = self.key_or_default().unwrap_or_else(|| "the value".into());
        let fail = |reason: String| SealError::ValueUnreadable {
            key: key.clone(),
            from: self.source.describe(),
            reason,
        };
        match &self.source {
            ValueSource::File(p) => read_file(p).map_err(|e| fail(e.to_string())),
            ValueSource::Env(v) => match std::env::var_os(v) {
                Some(os) => Ok(Zeroizing::new(os_into_bytes(os))),
                None => Err(fail("the variable is not set".into())),
            },
            ValueSource::Stdin => read_all(stdin, 0).map_err(|e| fail(e.to_string())),
        }
    }
}

#[cfg(unix)]
fn os_into_bytes(os: std::ffi::OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    os.into_vec()
}

#[cfg(not(unix))]
fn os_into_bytes(os: std::ffi::OsString) -> Vec<u8> {
    os.to_string_lossy().into_owned().into_bytes()
}

/// Reads a whole file into zeroized memory (no intermediate copies left behind).
pub fn read_file(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut f = std::fs::File::open(path)?;
    let hint = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
    read_all(&mut f, hint)
}

/// Reads everything from `r`. The buffer grows by copying into a new zeroized buffer, so no freed
/// allocation keeps a copy of the plaintext.
pub fn read_all(r: &mut dyn Read, size_hint: usize) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(size_hint.saturating_add(1).max(64)));
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        let n = match r.read(&mut chunk[..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.len() + n > buf.capacity() {
            let mut bigger =
                Zeroizing::new(Vec::with_capacity((buf.len() + n).max(buf.capacity() * 2)));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(buf)
}

/// A Secret data key: `[-._a-zA-Z0-9]+`, at most 253 characters.
pub fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("a key is empty".into());
    }
    if key.len() > 253 {
        return Err("a key is longer than 253 characters".into());
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!(
            "key `{key}` has the character {c:?}; Secret keys may hold only letters, digits, `-`, `_` and `.`"
        ));
    }
    if key == "." || key == ".." {
        return Err(format!("key `{key}` is not allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let p = |s: &str| ValueArg::parse(s, 1).unwrap();
        assert_eq!(
            p("A=@x/y.txt"),
            ValueArg {
                key: Some("A".into()),
                source: ValueSource::File("x/y.txt".into())
            }
        );
        assert_eq!(
            p("A=env:V"),
            ValueArg {
                key: Some("A".into()),
                source: ValueSource::Env("V".into())
            }
        );
        assert_eq!(
            p("a.b-c_d=-"),
            ValueArg {
                key: Some("a.b-c_d".into()),
                source: ValueSource::Stdin
            }
        );
        assert_eq!(
            p("@dir/tls.crt").key_or_default().as_deref(),
            Some("tls.crt")
        );
        assert_eq!(p("-").key, None);
        assert_eq!(p("A=@p=q").source, ValueSource::File("p=q".into()));
    }

    #[test]
    fn literals_are_refused_without_echoing_them() {
        for arg in ["PASSWORD=hunter2", "hunter2", "bad key=@f", "A=env:", "A=@"] {
            let e = ValueArg::parse(arg, 3).unwrap_err();
            let m = e.to_string();
            assert!(!m.contains("hunter2"), "{m}");
            assert!(e.is_bad_input());
        }
    }

    #[test]
    fn reads_stdin_env_and_files_exactly() {
        let mut stdin: &[u8] = b"line\n";
        let v = ValueArg::parse("K=-", 1).unwrap().read(&mut stdin).unwrap();
        assert_eq!(&v[..], b"line\n");
        let big: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let mut r: &[u8] = &big;
        assert_eq!(&read_all(&mut r, 0).unwrap()[..], &big[..]);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("v.bin");
        std::fs::write(&f, [0u8, 255, 10]).unwrap();
        let arg = ValueArg::parse(&format!("K=@{}", f.display()), 1).unwrap();
        assert_eq!(&arg.read(&mut &b""[..]).unwrap()[..], &[0u8, 255, 10]);
        let missing = ValueArg::parse("K=env:BERTH_SEAL_TEST_SURELY_UNSET", 1).unwrap();
        assert!(missing.read(&mut &b""[..]).unwrap_err().is_bad_input());
    }
}
