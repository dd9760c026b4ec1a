//! `.berth-check.yaml`: per-rule severities and disabled rules.
//!
//! ```yaml
//! rules:
//!   image-digest: warning      # error | warning | info | off
//!   cpu-limit-missing: off
//! disable: [recommended-labels]
//! ```

use crate::model::{NodeExt, Severity};
use crate::rules;
use std::collections::HashMap;

/// The default config file name, looked up in the current directory.
pub const FILE_NAME: &str = ".berth-check.yaml";

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Rule id → severity (None = off).
    pub severities: HashMap<String, Option<Severity>>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl Config {
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let err = |pos: berth_yaml::Pos, message: String| ConfigError {
            file: file.to_string(),
            line: pos.line,
            col: pos.col,
            message,
        };
        let mut cfg = Config::default();
        let docs = berth_yaml::parse_stream(text, berth_yaml::Limits::default());
        let Some(doc) = docs.into_iter().next() else {
            return Ok(cfg);
        };
        let root = match doc.root {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(cfg),
            Err(e) => return Err(err(e.pos, e.message)),
        };
        let known = |id: &str, pos| {
            if rules::find(id).is_some() {
                Ok(())
            } else {
                let ids: Vec<&str> = rules::all().iter().map(|r| r.meta().id).collect();
                let near = ids
                    .iter()
                    .min_by_key(|k| strsim_distance(k, id))
                    .copied()
                    .unwrap_or("");
                Err(err(
                    pos,
                    format!("unknown rule `{id}` (did you mean `{near}`?)"),
                ))
            }
        };
        for (k, v) in root.entries() {
            match k.name.as_str() {
                "rules" => {
                    for (id, sev) in v.entries() {
                        known(&id.name, id.pos)?;
                        let s = sev.scalar_text().unwrap_or_default();
                        let sev = match s.as_str() {
                            "off" | "false" => None,
                            s => Some(Severity::parse(s).ok_or_else(|| {
                                err(
                                    sev.pos,
                                    format!(
                                        "`{s}` is not a severity: use error, warning, info or off"
                                    ),
                                )
                            })?),
                        };
                        cfg.severities.insert(id.name.clone(), sev);
                    }
                }
                "disable" => {
                    for id in v.seq() {
                        let s = id.scalar_text().unwrap_or_default();
                        known(&s, id.pos)?;
                        cfg.severities.insert(s, None);
                    }
                }
                other => {
                    return Err(err(
                        k.pos,
                        format!("unknown key `{other}` (expected `rules` or `disable`)"),
                    ));
                }
            }
        }
        Ok(cfg)
    }

    /// The effective severity of a rule (None = off) in a profile (`prod`, `dev`: see
    /// [`crate::Options`]); `.berth-check.yaml` has the last word.
    pub fn severity(&self, meta: &rules::Meta, prod: bool, dev: bool) -> Option<Severity> {
        if let Some(s) = self.severities.get(meta.id) {
            return *s;
        }
        if prod && meta.prod_severity.is_some() {
            return meta.prod_severity;
        }
        if dev && let Some(s) = dev_severity(meta.id) {
            return s;
        }
        meta.severity
    }
}

/// Rules that are milder in the dev profile, the one list of them: what berth's spec loader
/// allows in a dev-tier environment is at most a warning there, so `berth build` and
/// `berth check APP` never fail a render the loader accepted.
const DEV_SEVERITY: &[(&str, Option<Severity>)] = &[
    // The loader allows untagged and `latest` images in dev only.
    ("image-tag-mutable", Some(Severity::Warning)),
    // A dev environment's `secrets: {mode: plain}` Secret is expected there.
    ("plaintext-secret", None),
];

/// A rule's severity in the dev profile, when it differs (`Some(None)`: off).
pub fn dev_severity(id: &str) -> Option<Option<Severity>> {
    DEV_SEVERITY.iter().find(|(r, _)| *r == id).map(|(_, s)| *s)
}

/// Levenshtein distance, for "did you mean".
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let c = Config::parse("c", "rules:\n  image-digest: warning\n  cpu-limit-missing: off\ndisable: [recommended-labels]\n").unwrap();
        assert_eq!(c.severities["image-digest"], Some(Severity::Warning));
        assert_eq!(c.severities["cpu-limit-missing"], None);
        assert_eq!(c.severities["recommended-labels"], None);
        let e = Config::parse("c", "rules:\n  image-digets: warning\n").unwrap_err();
        assert!(e.to_string().contains("did you mean `image-digest`"), "{e}");
        assert_eq!(e.line, 2);
        assert!(Config::parse("c", "rules:\n  image-digest: loud\n").is_err());
    }
}
