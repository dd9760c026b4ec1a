//! Credentials written as literals: env values and ConfigMap entries whose key names a
//! credential, or whose value looks like one (high entropy, private-key headers).
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "credential-literal",
    category: "config",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "No credential is written as a literal env value or ConfigMap entry (by key name such as *PASSWORD*/*TOKEN*/*SECRET*, by entropy, or a private-key header)",
    why: "Literal env values and ConfigMaps are stored unencrypted, shown by `kubectl describe`, readable by anyone who can read the workload, and committed to git with the manifest. Credentials belong in a Secret (sealed or external) referenced with secretKeyRef.",
    fix: "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: {name: db, key: password}\n",
    hint: "move the value into a Secret and reference it with valueFrom.secretKeyRef",
    equiv: [
        "",
        "env-var-secret",
        "sensitiveContainerEnvVar, sensitiveConfigmapContent",
        "",
    ],
    cross: false,
};

const NAME_PARTS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "privatekey",
    "private_key",
    "private-key",
    "accesskey",
    "access_key",
    "access-key",
    "credential",
    "client_secret",
    "connectionstring",
    "dsn",
];
/// Names that contain a credential word but hold no credential.
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "_file",
    "_path",
    "_dir",
    "_name",
    "_url_file",
    "_ref",
    "_key_id",
    "_id",
    "_user",
    "_username",
    "_length",
    "_ttl",
    "_expiry",
    "_timeout",
    "_header",
];

pub fn credential_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    NAME_PARTS.iter().any(|p| n.contains(p))
        && !NOT_SECRET_SUFFIXES
            .iter()
            .any(|s| n.ends_with(s) || n.ends_with(&s.replace('_', "-")))
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// A value that looks like a generated credential: long, no spaces, mixed character classes,
/// high entropy; or a private key.
pub fn credential_value(v: &str) -> bool {
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY") {
        return true;
    }
    // `$(OTHER_VAR)` references are expanded by Kubernetes from other variables: judge only
    // the literal text around them (`$(POD_NAME).db-headless.ns.svc.cluster.local` is a name).
    let mut literal = String::new();
    let mut rest = v.trim();
    while let Some(i) = rest.find("$(") {
        literal.push_str(&rest[..i]);
        match rest[i..].find(')') {
            Some(j) => rest = &rest[i + j + 1..],
            None => {
                rest = &rest[i..];
                break;
            }
        }
    }
    literal.push_str(rest);
    let v = literal.as_str();
    if v.len() < 20
        || v.len() > 200
        || v.contains(char::is_whitespace)
        || v.contains("://")
        || v.contains('/') && !v.contains('+')
    {
        return false;
    }
    let classes = [
        v.bytes().any(|b| b.is_ascii_lowercase()),
        v.bytes().any(|b| b.is_ascii_uppercase()),
        v.bytes().any(|b| b.is_ascii_digit()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    classes == 3 && entropy(v) >= 4.0
}

/// `$(OTHER_VAR)` expansions and empty values are not credentials.
fn is_literal(v: &str) -> bool {
    let t = v.trim();
    let expansion =
        (t.starts_with("$(") && t.ends_with(')')) || (t.starts_with("${") && t.ends_with('}'));
    !t.is_empty() && !expansion
}

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            for (i, e) in c
                .node
                .get("env")
                .map(|e| e.seq())
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                let (Some(name), Some(value)) = (e.str_at(&["name"]), e.get("value")) else {
                    continue;
                };
                let Some(text) = value.scalar_text() else {
                    continue;
                };
                if !is_literal(&text) {
                    continue;
                }
                let why = if credential_name(name) {
                    "its name says it is a credential"
                } else if credential_value(&text) {
                    "its value looks like a generated credential"
                } else {
                    continue;
                };
                cx.hit(
                    obj,
                    Some(value),
                    format!("{}.env[{i}].value", c.path),
                    format!(
                        "container `{}`: env {name} is a literal value and {why}",
                        c.name
                    ),
                );
            }
        }
        if obj.kind == "ConfigMap" {
            for (k, v) in obj.root.get("data").map(|d| d.entries()).unwrap_or(&[]) {
                let text = v.scalar_text().unwrap_or_default();
                let why = if credential_value(&text) {
                    "its value looks like a credential"
                } else if credential_name(&k.name) && is_literal(&text) && !text.contains('\n') {
                    "its key says it is a credential"
                } else {
                    continue;
                };
                cx.hit(
                    obj,
                    Some(v),
                    format!("data.{}", k.name),
                    format!("ConfigMap key `{}`: {why}", k.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        assert!(credential_name("DB_PASSWORD"));
        assert!(credential_name("github-token"));
        assert!(!credential_name("DB_PASSWORD_FILE"));
        assert!(!credential_name("LOG_LEVEL"));
        assert!(credential_value("AKIAIOSFODNN7EXAMPLEwJalrXUtnFEMIK7MDENG"));
        assert!(credential_value("ghp_x9Qm2LzT7vKc4RbN8sWfY3pD6hJ1aE5uGiOo"));
        assert!(!credential_value("hello-world-this-is-long"));
        assert!(!credential_value("https://example.com/Path/To1/Thing2"));
        assert!(!credential_value("1.2.3"));
        // A pod's stable name composed from the downward API is not a credential.
        assert!(!credential_value(
            "$(POD_NAME).redis-headless.kompose-v3.svc.cluster.local"
        ));
        assert!(credential_value(
            "$(PREFIX)ghp_x9Qm2LzT7vKc4RbN8sWfY3pD6hJ1aE5uGiOo"
        ));
        assert!(credential_value(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"
        ));
    }
}
