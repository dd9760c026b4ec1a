//! Offline recovery (`kubeseal --recovery-unseal`): decrypt a SealedSecret with the controller's
//! private keys, trying every key for every value.

use crate::crypto::{OpenError, hybrid_decrypt};
use crate::object::{ObjectMeta, SealedSecret};
use crate::{Scope, SealError, pem};
use aws_lc_rs::rsa::PrivateDecryptingKey;
use base64::Engine as _;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// One private key and where it came from.
pub struct RecoveryKey {
    /// e.g. `keys.yaml: Secret kube-system/sealed-secrets-key7x2k` or `key.pem (block 1)`.
    pub source: String,
    pub fingerprint: String,
    key: PrivateDecryptingKey,
}

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryKey")
            .field("source", &self.source)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl RecoveryKey {
    /// A key from PKCS#8 DER (for tests and callers that hold keys already).
    pub fn from_pkcs8(der: &[u8], source: &str) -> Result<RecoveryKey, SealError> {
        let key = PrivateDecryptingKey::from_pkcs8(der).map_err(|e| SealError::BadPrivateKey {
            source_name: source.into(),
            reason: format!("not an RSA private key of 2048–8192 bits ({e})"),
        })?;
        Ok(RecoveryKey {
            source: source.into(),
            fingerprint: crate::cert::fingerprint(&key.public_key()),
            key,
        })
    }

    pub fn key(&self) -> &PrivateDecryptingKey {
        &self.key
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyDoc {
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<ObjectMeta>,
    #[serde(default)]
    data: Option<IndexMap<String, Zeroizing<String>>>,
    #[serde(default)]
    string_data: Option<IndexMap<String, Zeroizing<String>>>,
    #[serde(default)]
    items: Option<Vec<KeyDoc>>,
}

/// Every RSA private key in `input`: PEM (`RSA PRIVATE KEY` = PKCS#1, `PRIVATE KEY` = PKCS#8; other
/// blocks such as certificates are skipped), or YAML/JSON Secrets (a `List`, several documents)
/// whose `tls.key` holds such a PEM, as `kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml` prints.
pub fn parse_private_keys(input: &[u8], source_name: &str) -> Result<Vec<RecoveryKey>, SealError> {
    let bad = |reason: String| SealError::BadPrivateKey {
        source_name: source_name.to_string(),
        reason,
    };
    let text = std::str::from_utf8(input).map_err(|_| bad("not text (PEM or YAML)".into()))?;
    if text.contains("-----BEGIN ") {
        return keys_from_pem(text, source_name, |i| {
            format!("{source_name} (PEM block {i})")
        });
    }
    let docs: Vec<KeyDoc> = serde_saphyr::from_multiple(text).map_err(|e| {
        bad(format!(
            "neither PEM nor a Secret manifest ({})",
            crate::error::scrub(&e.to_string())
        ))
    })?;
    let mut keys = Vec::new();
    let mut secrets = 0;
    let mut stack: Vec<KeyDoc> = docs;
    stack.reverse();
    while let Some(doc) = stack.pop() {
        if let Some(mut items) = doc.items {
            items.reverse();
            stack.extend(items);
            continue;
        }
        if doc.kind.as_deref() != Some("Secret") {
            continue;
        }
        secrets += 1;
        let ident = doc
            .metadata
            .as_ref()
            .map(|m| {
                format!(
                    "{}/{}",
                    m.namespace.as_deref().unwrap_or("?"),
                    m.name.as_deref().unwrap_or("?")
                )
            })
            .unwrap_or_else(|| "?".into());
        let pem_text: Zeroizing<String> =
            if let Some(v) = doc.string_data.as_ref().and_then(|d| d.get("tls.key")) {
                Zeroizing::new(v.to_string())
            } else if let Some(v) = doc.data.as_ref().and_then(|d| d.get("tls.key")) {
                let compact: Zeroizing<String> =
                    Zeroizing::new(v.chars().filter(|c| !c.is_whitespace()).collect());
                let bytes = Zeroizing::new(
                    base64::engine::general_purpose::STANDARD
                        .decode(compact.as_bytes())
                        .map_err(|_| bad(format!("Secret {ident}: data.tls.key is not base64")))?,
                );
                Zeroizing::new(
                    std::str::from_utf8(&bytes)
                        .map_err(|_| bad(format!("Secret {ident}: tls.key is not PEM")))?
                        .to_string(),
                )
            } else {
                continue;
            };
        keys.extend(keys_from_pem(&pem_text, source_name, |_| {
            format!("{source_name}: Secret {ident}")
        })?);
    }
    if keys.is_empty() {
        return Err(bad(if secrets == 0 {
            "no Secret found".into()
        } else {
            format!("{secrets} Secret(s) found, none with a `tls.key`")
        }));
    }
    Ok(keys)
}

fn keys_from_pem(
    text: &str,
    source_name: &str,
    name: impl Fn(usize) -> String,
) -> Result<Vec<RecoveryKey>, SealError> {
    let bad = |reason: String| SealError::BadPrivateKey {
        source_name: source_name.to_string(),
        reason,
    };
    let blocks = pem::blocks(text).map_err(bad)?;
    let mut keys = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let der = match b.label.as_str() {
            "RSA PRIVATE KEY" => pem::pkcs1_to_pkcs8(&b.der),
            "PRIVATE KEY" => b.der.clone(),
            _ => continue,
        };
        keys.push(RecoveryKey::from_pkcs8(&der, &name(i + 1))?);
    }
    if keys.is_empty() {
        return Err(bad("no `RSA PRIVATE KEY` or `PRIVATE KEY` PEM block".into()));
    }
    Ok(keys)
}

/// A decrypted Secret. Zeroized on drop.
#[derive(Debug)]
pub struct UnsealedSecret {
    pub metadata: ObjectMeta,
    pub type_: Option<String>,
    pub immutable: Option<bool>,
    pub data: IndexMap<String, Zeroizing<Vec<u8>>>,
    /// For each key of `data`, the index (into the keys given) of the private key that opened it.
    pub opened_by: IndexMap<String, usize>,
    /// Things the user should know (e.g. templates berth does not render).
    pub notes: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretOut<'a> {
    api_version: &'static str,
    kind: &'static str,
    metadata: &'a ObjectMeta,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    type_: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    immutable: Option<bool>,
    data: IndexMap<&'a str, Zeroizing<String>>,
}

impl UnsealedSecret {
    fn out(&self) -> SecretOut<'_> {
        SecretOut {
            api_version: "v1",
            kind: "Secret",
            metadata: &self.metadata,
            type_: self.type_.as_deref(),
            immutable: self.immutable,
            data: self
                .data
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str(),
                        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&v[..])),
                    )
                })
                .collect(),
        }
    }

    /// The `v1` Secret as YAML (values base64 in `data`, like `kubeseal --recovery-unseal`).
    pub fn to_yaml(&self) -> Zeroizing<String> {
        Zeroizing::new(crate::object::to_yaml(&self.out()))
    }

    pub fn to_json(&self) -> Zeroizing<String> {
        let mut s = serde_json::to_string_pretty(&self.out()).expect("serializable");
        s.push('\n');
        Zeroizing::new(s)
    }
}

/// Decrypts every value of `ss` with the first of `keys` that opens it. The label comes from the
/// SealedSecret's own metadata (name, namespace, scope annotations), as in the controller.
pub fn unseal(ss: &SealedSecret, keys: &[RecoveryKey]) -> Result<UnsealedSecret, SealError> {
    let scope = ss.scope();
    let namespace = ss.metadata.namespace.clone().unwrap_or_default();
    let name = ss.metadata.name.clone().unwrap_or_default();
    let ident = format!("{namespace}/{name}");
    let label = scope
        .label(&namespace, &name)
        .map_err(|_| SealError::BadSealedSecret {
            source_name: format!("SealedSecret {ident}"),
            reason: format!("the {scope} scope needs metadata.name and metadata.namespace"),
        })?;
    let mut data = IndexMap::new();
    let mut opened_by = IndexMap::new();
    for (k, v) in &ss.spec.encrypted_data {
        let blob = base64::engine::general_purpose::STANDARD
            .decode(v.trim())
            .map_err(|_| SealError::BadSealedSecret {
                source_name: format!("SealedSecret {ident}"),
                reason: format!("spec.encryptedData.{k} is not base64"),
            })?;
        let mut opened = None;
        let mut malformed = true;
        for (i, key) in keys.iter().enumerate() {
            match hybrid_decrypt(key.key(), &blob, &label) {
                Ok(plain) => {
                    opened = Some((i, plain));
                    break;
                }
                Err(OpenError::Rejected) => malformed = false,
                Err(OpenError::Malformed) => {}
            }
        }
        match opened {
            Some((i, plain)) => {
                data.insert(k.clone(), plain);
                opened_by.insert(k.clone(), i);
            }
            None if malformed && !keys.is_empty() => {
                return Err(SealError::BadSealedSecret {
                    source_name: format!("SealedSecret {ident}"),
                    reason: format!("spec.encryptedData.{k} is too short to be a sealed value"),
                });
            }
            None => {
                return Err(SealError::NoKeyDecrypts {
                    what: format!(
                        "`{k}` of SealedSecret {ident} (scope {scope}, label {:?})",
                        String::from_utf8_lossy(&label)
                    ),
                    tried: keys.len(),
                });
            }
        }
    }
    let mut metadata = ss.spec.template.metadata.cleaned_for_template();
    metadata.name = ss.metadata.name.clone();
    metadata.namespace = ss.metadata.namespace.clone();
    if scope == Scope::Strict
        && let Some(a) = metadata.annotations.as_mut()
    {
        a.shift_remove(crate::scope::NAMESPACE_WIDE_ANNOTATION);
        a.shift_remove(crate::scope::CLUSTER_WIDE_ANNOTATION);
    }
    let mut notes = Vec::new();
    if ss
        .spec
        .template
        .data
        .as_ref()
        .is_some_and(|d| !d.is_empty())
    {
        notes.push("spec.template.data holds Go templates, which the controller renders and berth does not: the Secret below has the decrypted values only".into());
    }
    Ok(UnsealedSecret {
        metadata,
        type_: ss.spec.template.type_.clone(),
        immutable: ss.spec.template.immutable,
        data,
        opened_by,
        notes,
    })
}
