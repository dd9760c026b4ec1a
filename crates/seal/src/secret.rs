//! A plain `v1` `Secret` manifest to seal (the kubeseal habit:
//! `kubectl create secret generic NAME --from-literal=... --dry-run=client -o yaml | berth seal`).

use crate::object::{ObjectMeta, SealedSecret, SecretTemplate};
use crate::{Scope, SealError, SealingCert, seal_value};
use base64::Engine as _;
use indexmap::IndexMap;
use serde::Deserialize;
use zeroize::Zeroizing;

/// A Secret's identity and decoded values (zeroized on drop).
#[derive(Debug, Default)]
pub struct PlainSecret {
    pub metadata: ObjectMeta,
    pub type_: Option<String>,
    pub immutable: Option<bool>,
    pub data: IndexMap<String, Zeroizing<Vec<u8>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSecret {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(rename = "type", default)]
    type_: Option<String>,
    #[serde(default)]
    immutable: Option<bool>,
    #[serde(default)]
    data: Option<IndexMap<String, Zeroizing<String>>>,
    #[serde(default)]
    string_data: Option<IndexMap<String, Zeroizing<String>>>,
}

impl PlainSecret {
    /// Parses one Secret (YAML or JSON). Values are decoded (`data` from base64, `stringData` as
    /// UTF-8; `stringData` wins for a key in both, as in the API server). Errors never quote values.
    pub fn parse(input: &str, source_name: &str) -> Result<PlainSecret, SealError> {
        let bad = |reason: String| SealError::BadSecret {
            source_name: source_name.to_string(),
            reason,
        };
        let mut docs: Vec<RawSecret> = serde_saphyr::from_multiple(input).map_err(|e| {
            bad(match e.location() {
                Some(l) => format!(
                    "unreadable at line {} column {} ({})",
                    l.line(),
                    l.column(),
                    crate::error::scrub(&e.to_string())
                ),
                None => format!("unreadable ({})", crate::error::scrub(&e.to_string())),
            })
        })?;
        let raw = match docs.len() {
            0 => return Err(bad("it is empty".into())),
            1 => docs.pop().expect("one"),
            n => {
                return Err(bad(format!(
                    "{n} YAML documents; pass one Secret at a time"
                )));
            }
        };
        match raw.kind.as_deref() {
            Some("Secret") => {}
            Some(other) => return Err(bad(format!("kind is `{other}`, expected `Secret`"))),
            None => return Err(bad("it has no `kind`".into())),
        }
        if raw.api_version.as_deref() != Some("v1") {
            return Err(bad("apiVersion must be `v1`".into()));
        }
        let mut data = IndexMap::new();
        for (k, v) in raw.data.into_iter().flatten() {
            crate::values::validate_key(&k).map_err(&bad)?;
            let compact: Zeroizing<String> =
                Zeroizing::new(v.chars().filter(|c| !c.is_whitespace()).collect());
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| bad(format!("data.{k} is not valid base64")))?;
            data.insert(k, Zeroizing::new(bytes));
        }
        for (k, v) in raw.string_data.into_iter().flatten() {
            crate::values::validate_key(&k).map_err(&bad)?;
            data.insert(k, Zeroizing::new(v.as_bytes().to_vec()));
        }
        Ok(PlainSecret {
            metadata: raw.metadata,
            type_: raw.type_,
            immutable: raw.immutable,
            data,
        })
    }

    /// Resolves the namespace and name to seal for, from the manifest and the flags (kubeseal's
    /// rule: a flag that contradicts the manifest is an error).
    pub fn identity(
        &self,
        namespace_flag: Option<&str>,
        name_flag: Option<&str>,
        scope: Scope,
    ) -> Result<(String, String), SealError> {
        let pick = |what: &str, manifest: Option<&str>, flag: Option<&str>| match (manifest, flag) {
            (Some(m), Some(f)) if m != f => Err(SealError::BadSecret {
                source_name: "the input".into(),
                reason: format!("its {what} is `{m}` but `{f}` was passed on the command line"),
            }),
            (Some(m), _) => Ok(m.to_string()),
            (None, Some(f)) => Ok(f.to_string()),
            (None, None) => Ok(String::new()),
        };
        let namespace = pick(
            "namespace",
            self.metadata.namespace.as_deref(),
            namespace_flag,
        )?;
        let name = pick("name", self.metadata.name.as_deref(), name_flag)?;
        if name.is_empty() {
            return Err(SealError::BadSecret {
                source_name: "the input".into(),
                reason: "it has no metadata.name (pass --name NAME)".into(),
            });
        }
        scope.label(&namespace, &name)?;
        Ok((namespace, name))
    }

    /// Seals every value into a SealedSecret for `namespace`/`name` (see [`PlainSecret::identity`]).
    pub fn seal(
        &self,
        cert: &SealingCert,
        scope: Scope,
        namespace: &str,
        name: &str,
    ) -> Result<SealedSecret, SealError> {
        let mut encrypted = IndexMap::new();
        for (k, v) in &self.data {
            encrypted.insert(k.clone(), seal_value(cert, scope, namespace, name, v)?);
        }
        let mut metadata = self.metadata.cleaned_for_template();
        metadata.name = None;
        metadata.namespace = None;
        let template = SecretTemplate {
            metadata,
            type_: Some(self.type_.clone().unwrap_or_else(|| "Opaque".into())),
            immutable: self.immutable,
            data: None,
            extra: Default::default(),
        };
        Ok(SealedSecret::new(
            name, namespace, scope, template, encrypted,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECTL: &str = "apiVersion: v1\ndata:\n  a: Yg==\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: x\n";

    #[test]
    fn parses_kubectl_dry_run_output() {
        let s = PlainSecret::parse(KUBECTL, "stdin").unwrap();
        assert_eq!(s.metadata.name.as_deref(), Some("x"));
        assert_eq!(&s.data["a"][..], b"b");
        assert_eq!(
            s.identity(Some("ns"), None, Scope::Strict).unwrap(),
            ("ns".into(), "x".into())
        );
        assert!(s.identity(None, None, Scope::Strict).is_err());
        assert!(s.identity(Some("ns"), Some("y"), Scope::Strict).is_err());
        assert_eq!(
            s.identity(None, None, Scope::ClusterWide).unwrap(),
            ("".into(), "x".into())
        );
    }

    #[test]
    fn string_data_wins_and_keeps_yaml_booleans_as_text() {
        let s = PlainSecret::parse(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: n}\ndata: {a: Yg==}\nstringData: {a: yes, b: \"0123\", c: 0123}\n",
            "t",
        )
        .unwrap();
        assert_eq!(&s.data["a"][..], b"yes");
        assert_eq!(&s.data["b"][..], b"0123");
        assert_eq!(&s.data["c"][..], b"0123");
    }

    #[test]
    fn errors_do_not_quote_values() {
        for input in [
            "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: hunter2\n",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {a: \"hunter2!!\"}\n",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: [hunter2]\n",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {a: [hunter2}\n",
            "apiVersion: v1\nkind: ConfigMap\ndata: {a: hunter2}\n",
        ] {
            let e = PlainSecret::parse(input, "t").unwrap_err();
            let msg = format!("{e} {e:?}");
            assert!(e.is_bad_input());
            assert!(!msg.contains("hunter2"), "{msg}");
        }
    }
}
