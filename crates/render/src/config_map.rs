//! ConfigMaps for a service's plain environment and config files, and the checksum that rolls
//! its pods whenever either (or the set of secret names it reads) changes.

use crate::labels::service_meta;
use berth_spec::{App, ResolvedService};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A service's ConfigMaps and what its pod reads from them.
pub struct ServiceConfig {
    /// The ConfigMaps to render.
    pub objects: Vec<ConfigMap>,
    /// Name of the ConfigMap holding the environment, if any.
    pub env_map: Option<String>,
    /// Name of the ConfigMap holding the files, if any.
    pub files_map: Option<String>,
    /// Per-service Secret the `secrets` are read from, if it has any.
    pub secret_name: Option<String>,
    /// SHA-256 over everything above, for the pod template annotation.
    pub checksum: String,
}

/// The origins of a ConfigMap of `svc` ([`config_maps`]): each variable is the spec's `env`
/// entry, else a connection variable of what it `uses`; each file a `config.files` entry.
pub(crate) fn trace(o: &mut crate::origin::ObjectOrigins, svc: &ResolvedService, c: &ConfigMap) {
    use crate::origin::{Origin, docs, escape, spec_path};
    let s = |rest: &[&str]| {
        let mut p = spec_path(&["services", svc.name.as_str()]);
        p.extend(rest.iter().map(|r| (*r).to_owned()));
        p
    };
    let env = c.metadata.name.as_deref() == Some(&format!("{}-env", svc.name));
    for k in c
        .data
        .iter()
        .flatten()
        .map(|(k, _)| k)
        .chain(c.binary_data.iter().flatten().map(|(k, _)| k))
    {
        let origin = if env {
            Origin::Spec {
                paths: vec![s(&["env", k])],
                otherwise: Some(Box::new(Origin::rule(
                    "a connection variable of a service or dependency it uses",
                    docs::CONNECTIONS,
                    vec![s(&["uses"])],
                ))),
            }
        } else {
            Origin::rule(
                "the contents of the config file",
                docs::SERVICES,
                vec![s(&["config", "files", k])],
            )
        };
        let field = if c.data.as_ref().is_some_and(|d| d.contains_key(k)) {
            "data"
        } else {
            "binaryData"
        };
        o.set(format!("/{field}/{}", escape(k)), origin);
    }
}

/// `NAME-secrets`: the Secret a service's `secrets` are read from.
pub fn secret_name(svc: &ResolvedService) -> String {
    format!("{}-secrets", svc.name)
}

/// The ConfigMaps of `svc` and its config checksum.
pub fn config_maps(app: &App, svc: &ResolvedService) -> ServiceConfig {
    let mut objects = Vec::new();
    let mut hash = Sha256::new();
    let mut env_map = None;
    if !svc.env.is_empty() {
        let name = format!("{}-env", svc.name);
        let data: BTreeMap<String, String> = svc.env.iter().cloned().collect();
        for (k, v) in &data {
            feed(&mut hash, &["env", k, v]);
        }
        objects.push(ConfigMap {
            metadata: service_meta(app, svc, &name),
            data: Some(data),
            ..Default::default()
        });
        env_map = Some(name);
    }
    let mut files_map = None;
    if !svc.files.is_empty() {
        let name = format!("{}-files", svc.name);
        let mut data = BTreeMap::new();
        let mut binary = BTreeMap::new();
        for (file, bytes) in &svc.files {
            hash.update(b"file\0");
            hash.update(file.as_bytes());
            hash.update([0]);
            hash.update(bytes);
            hash.update([0]);
            match String::from_utf8(bytes.clone()) {
                Ok(text) => {
                    data.insert(file.clone(), text);
                }
                Err(_) => {
                    binary.insert(file.clone(), ByteString(bytes.clone()));
                }
            }
        }
        objects.push(ConfigMap {
            metadata: service_meta(app, svc, &name),
            data: (!data.is_empty()).then_some(data),
            binary_data: (!binary.is_empty()).then_some(binary),
            ..Default::default()
        });
        files_map = Some(name);
    }
    let keys = svc.secret_keys();
    let secret_name = (!keys.is_empty()).then(|| secret_name(svc));
    for s in &svc.secrets {
        feed(&mut hash, &["secret", s]);
    }
    for f in &svc.secret_files {
        feed(&mut hash, &["secret-file", &f.path, &f.key]);
    }
    if let Some(sync) = &svc.sync {
        feed(
            &mut hash,
            &["sync", &sync.source, &sync.reload, &sync.image],
        );
    }
    crate::secrets::feed_checksum(&mut hash, app, svc);
    ServiceConfig {
        objects,
        env_map,
        files_map,
        secret_name,
        checksum: hex(&hash.finalize()),
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
