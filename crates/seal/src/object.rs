//! The `bitnami.com/v1alpha1` `SealedSecret` object, as kubeseal writes it.

use crate::{Scope, SealError};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const API_VERSION: &str = "bitnami.com/v1alpha1";
pub const KIND: &str = "SealedSecret";

/// Annotations that must never be copied into a SealedSecret: they hold the whole applied object,
/// plaintext included (sealed-secrets #227).
pub const LEAKY_ANNOTATIONS: [&str; 2] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
];

/// The parts of Kubernetes `ObjectMeta` berth reads; everything else is kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<IndexMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<IndexMap<String, String>>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl ObjectMeta {
    /// What kubeseal keeps of an input Secret's metadata for `spec.template.metadata`: no
    /// last-applied annotations, no owner references, no server-set fields.
    pub fn cleaned_for_template(&self) -> ObjectMeta {
        let mut m = self.clone();
        if let Some(a) = m.annotations.as_mut() {
            for k in LEAKY_ANNOTATIONS {
                a.shift_remove(k);
            }
            if a.is_empty() {
                m.annotations = None;
            }
        }
        for k in [
            "ownerReferences",
            "selfLink",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields",
        ] {
            m.extra.remove(k);
        }
        m
    }
}

/// `spec.template`: the shape of the Secret the controller creates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretTemplate {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    /// Go templates over the decrypted values (rendered by the controller, not by berth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<IndexMap<String, String>>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretSpec {
    #[serde(default)]
    pub encrypted_data: IndexMap<String, String>,
    #[serde(default)]
    pub template: SecretTemplate,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecret {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: SealedSecretSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

impl SealedSecret {
    /// Builds a SealedSecret from values already sealed for (`namespace`, `name`, `scope`)
    /// (see [`crate::seal_value`]). The scope annotation goes on the object's own metadata (the
    /// controller derives the label from it) and on `spec.template.metadata`, like kubeseal.
    pub fn new(
        name: &str,
        namespace: &str,
        scope: Scope,
        template: SecretTemplate,
        encrypted_data: IndexMap<String, String>,
    ) -> SealedSecret {
        let mut template = template;
        template.metadata.name = Some(name.to_string());
        template.metadata.namespace = (!namespace.is_empty()).then(|| namespace.to_string());
        let mut tmpl_ann = template.metadata.annotations.take().unwrap_or_default();
        scope.apply_to(&mut tmpl_ann);
        template.metadata.annotations = (!tmpl_ann.is_empty()).then_some(tmpl_ann);
        template
            .metadata
            .extra
            .insert("creationTimestamp".into(), Value::Null);

        let mut ann = IndexMap::new();
        scope.apply_to(&mut ann);
        let mut extra = serde_json::Map::new();
        extra.insert("creationTimestamp".into(), Value::Null);
        SealedSecret {
            api_version: API_VERSION.into(),
            kind: KIND.into(),
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
                labels: None,
                annotations: (!ann.is_empty()).then_some(ann),
                extra,
            },
            spec: SealedSecretSpec {
                encrypted_data,
                template,
                extra: serde_json::Map::new(),
            },
            status: None,
        }
    }

    /// The scope the controller will use: from this object's own annotations.
    pub fn scope(&self) -> Scope {
        Scope::from_annotations(self.metadata.annotations.as_ref())
    }

    /// Parses one SealedSecret (YAML or JSON). A List or several documents holding exactly one
    /// SealedSecret are accepted too.
    pub fn parse(input: &str, source_name: &str) -> Result<SealedSecret, SealError> {
        let bad = |reason: String| SealError::BadSealedSecret {
            source_name: source_name.to_string(),
            reason,
        };
        let docs: Vec<Value> = serde_saphyr::from_multiple(input).map_err(|e| {
            bad(format!(
                "not YAML or JSON ({})",
                crate::error::scrub(&e.to_string())
            ))
        })?;
        let mut found = Vec::new();
        for doc in docs {
            collect_kind(doc, KIND, &mut found);
        }
        let doc = match found.len() {
            0 => return Err(bad(format!("no object of kind {KIND} found"))),
            1 => found.pop().expect("one"),
            n => {
                return Err(bad(format!("{n} SealedSecrets found; pass one at a time")));
            }
        };
        let ss: SealedSecret =
            serde_json::from_value(doc).map_err(|e| bad(crate::error::scrub(&e.to_string())))?;
        if ss.api_version != API_VERSION {
            return Err(bad(format!(
                "apiVersion is `{}`, expected `{API_VERSION}`",
                ss.api_version
            )));
        }
        if ss.spec.encrypted_data.is_empty() {
            return Err(bad(
                "spec.encryptedData is empty (the deprecated spec.data format is not supported)"
                    .into(),
            ));
        }
        Ok(ss)
    }

    pub fn to_yaml(&self) -> String {
        to_yaml(self)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a SealedSecret serializes");
        s.push('\n');
        s
    }
}

/// YAML as berth writes manifests: block style, long base64 strings on one line.
pub fn to_yaml<T: Serialize>(value: &T) -> String {
    let mut opts = serde_saphyr::SerializerOptions::default();
    opts.prefer_block_scalars = false;
    serde_saphyr::to_string_with_options(value, opts).expect("serializable")
}

/// Pushes every object of `kind` found in `doc` (itself, or the items of a `List`).
pub(crate) fn collect_kind(doc: Value, kind: &str, out: &mut Vec<Value>) {
    match doc.get("kind").and_then(Value::as_str) {
        Some(k) if k == kind => out.push(doc),
        Some(k) if k.ends_with("List") => {
            if let Some(Value::Array(items)) = doc.get("items").cloned() {
                for item in items {
                    collect_kind(item, kind, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_puts_scope_annotation_on_both_metadata() {
        let ss = SealedSecret::new(
            "db",
            "prod",
            Scope::NamespaceWide,
            SecretTemplate {
                type_: Some("Opaque".into()),
                ..Default::default()
            },
            IndexMap::from([("password".to_string(), "AgB=".to_string())]),
        );
        assert_eq!(ss.scope(), Scope::NamespaceWide);
        let t = ss.spec.template.metadata.annotations.as_ref().unwrap();
        assert_eq!(t[crate::scope::NAMESPACE_WIDE_ANNOTATION], "true");
        let y = ss.to_yaml();
        assert!(
            y.starts_with("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"),
            "{y}"
        );
        let back = SealedSecret::parse(&y, "t").unwrap();
        assert_eq!(back, ss);
        let back = SealedSecret::parse(&ss.to_json(), "t").unwrap();
        assert_eq!(back, ss);
    }

    #[test]
    fn cleaned_metadata_drops_leaky_annotations() {
        let m: ObjectMeta = serde_json::from_value(serde_json::json!({
            "name": "x",
            "uid": "123",
            "ownerReferences": [],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{}}", "keep": "1"}
        }))
        .unwrap();
        let c = m.cleaned_for_template();
        assert_eq!(
            c.annotations.unwrap().keys().collect::<Vec<_>>(),
            vec!["keep"]
        );
        assert!(c.extra.is_empty());
    }

    #[test]
    fn parse_rejects_wrong_objects() {
        assert!(SealedSecret::parse("kind: Secret\napiVersion: v1\n", "t").is_err());
        assert!(
            SealedSecret::parse(
                "kind: SealedSecret\napiVersion: bitnami.com/v1\nspec: {encryptedData: {a: b}}\n",
                "t"
            )
            .is_err()
        );
        assert!(
            SealedSecret::parse(
                "kind: SealedSecret\napiVersion: bitnami.com/v1alpha1\nspec: {}\n",
                "t"
            )
            .is_err()
        );
        assert!(SealedSecret::parse(": : :\n\t- [", "t").is_err());
    }
}
