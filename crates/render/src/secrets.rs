//! The object that delivers a service's secrets into its Secret `NAME-secrets`, per the
//! environment's `secrets:` mode: a plain `Secret` (dev), a `SealedSecret` (Bitnami Sealed
//! Secrets, strict scope) or an `ExternalSecret` (External Secrets Operator). Without a
//! `secrets:` block nothing is rendered and the workloads only reference the Secret.
//!
//! Also what each mode adds to the service's config checksum, so that a changed value (or a
//! changed reference to one) rolls the pods. Plain values enter it only as their SHA-256.

use crate::Object;
use crate::config_map::secret_name;
use crate::labels::{meta_in, service_labels};
use berth_spec::{App, ResolvedService, SecretDelivery};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const SEALED_SECRET_API_VERSION: &str = "bitnami.com/v1alpha1";
pub const EXTERNAL_SECRET_API_VERSION: &str = "external-secrets.io/v1";

/// The object that fills `NAME-secrets` for `svc`, if the environment delivers its secrets.
pub fn object(app: &App, svc: &ResolvedService) -> Option<Object> {
    if svc.secret_keys().is_empty() {
        return None;
    }
    let name = secret_name(svc);
    let labels = service_labels(app, svc);
    match &app.secrets {
        SecretDelivery::References => None,
        SecretDelivery::Plain(plain) => {
            let values = plain.services.get(&svc.name)?;
            let data: BTreeMap<String, ByteString> = values
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), ByteString(v.as_ref()?.expose().to_vec()))))
                .collect();
            let secret = Secret {
                metadata: meta_in(&svc.namespace, &name, labels),
                type_: Some("Opaque".into()),
                data: Some(data),
                ..Default::default()
            };
            Some(Object::from_typed(&secret))
        }
        SecretDelivery::Sealed(sealed) => {
            let values = sealed.services.get(&svc.name)?;
            let encrypted: serde_json::Map<String, Value> = values
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), Value::String(v.clone()?))))
                .collect();
            // Strict scope: the values were sealed for exactly this namespace and name, so the
            // object carries no scope annotation (the controller derives the label from it).
            let body = json!({
                "apiVersion": SEALED_SECRET_API_VERSION,
                "kind": "SealedSecret",
                "metadata": {
                    "name": name,
                    "namespace": svc.namespace,
                    "labels": labels,
                },
                "spec": {
                    "encryptedData": encrypted,
                    "template": {
                        "metadata": {
                            "name": name,
                            "namespace": svc.namespace,
                            "labels": labels,
                        },
                        "type": "Opaque",
                    },
                },
            });
            Some(custom(
                SEALED_SECRET_API_VERSION,
                "SealedSecret",
                &name,
                &svc.namespace,
                body,
            ))
        }
        SecretDelivery::External(ext) => {
            let keys = ext.services.get(&svc.name)?;
            let remote_key = ext.remote_key(&svc.name);
            let data: Vec<Value> = keys
                .iter()
                .map(|k| {
                    json!({
                        "secretKey": k,
                        "remoteRef": { "key": remote_key, "property": k },
                    })
                })
                .collect();
            let body = json!({
                "apiVersion": EXTERNAL_SECRET_API_VERSION,
                "kind": "ExternalSecret",
                "metadata": {
                    "name": name,
                    "namespace": svc.namespace,
                    "labels": labels,
                },
                "spec": {
                    "refreshInterval": ext.refresh,
                    "secretStoreRef": { "name": ext.store, "kind": ext.store_kind.as_str() },
                    "target": { "name": name, "creationPolicy": "Owner" },
                    "data": data,
                },
            });
            Some(custom(
                EXTERNAL_SECRET_API_VERSION,
                "ExternalSecret",
                &name,
                &svc.namespace,
                body,
            ))
        }
    }
}

fn custom(api_version: &str, kind: &str, name: &str, namespace: &str, body: Value) -> Object {
    Object {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        namespace: Some(namespace.to_owned()),
        body,
    }
}

/// What the delivery of `svc`'s secrets adds to its config checksum: the sealed ciphertexts, the
/// ExternalSecret's references, or the SHA-256 of each plain value (never the value itself).
pub fn feed_checksum(hash: &mut Sha256, app: &App, svc: &ResolvedService) {
    if svc.secret_keys().is_empty() {
        return;
    }
    match &app.secrets {
        SecretDelivery::References => {}
        SecretDelivery::Plain(plain) => {
            for (k, v) in plain.services.get(&svc.name).into_iter().flatten() {
                let digest = v
                    .as_ref()
                    .map(|v| hex(&Sha256::digest(v.expose())))
                    .unwrap_or_default();
                feed(hash, &["plain", k, &digest]);
            }
        }
        SecretDelivery::Sealed(sealed) => {
            for (k, v) in sealed.services.get(&svc.name).into_iter().flatten() {
                feed(hash, &["sealed", k, v.as_deref().unwrap_or_default()]);
            }
        }
        SecretDelivery::External(ext) => {
            let remote_key = ext.remote_key(&svc.name);
            feed(
                hash,
                &[
                    "external",
                    &ext.store,
                    ext.store_kind.as_str(),
                    &remote_key,
                    &ext.refresh,
                ],
            );
            for k in ext.services.get(&svc.name).into_iter().flatten() {
                feed(hash, &["external-key", k]);
            }
        }
    }
}

fn feed(hash: &mut Sha256, parts: &[&str]) {
    for p in parts {
        hash.update(p.as_bytes());
        hash.update([0]);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
