//! What a service adds to its pods and objects: labels, annotations (pod, ServiceAccount,
//! Service), and environment variables from the downward API.

use crate::error::SpecError;
use crate::validate::Ctx;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Annotations by the object they go on.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Annotations {
    /// On the pod template (e.g. `prometheus.io/scrape: "true"`, Istio's `sidecar.istio.io/…`).
    #[serde(default)]
    pub pod: Option<IndexMap<String, String>>,
    /// On the ServiceAccount (e.g. `eks.amazonaws.com/role-arn`, `iam.gke.io/gcp-service-account`).
    #[serde(default)]
    pub service_account: Option<IndexMap<String, String>>,
    /// On the (ClusterIP) Service.
    #[serde(default)]
    pub service: Option<IndexMap<String, String>>,
}

/// A pod or node field the downward API exposes as an environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PodField {
    /// The pod's IP address (`status.podIP`).
    Ip,
    /// The node's name (`spec.nodeName`).
    Node,
    /// The node's IP address (`status.hostIP`).
    NodeIp,
    /// The pod's name (`metadata.name`).
    Name,
    /// The pod's namespace (`metadata.namespace`).
    Namespace,
    /// The pod's ServiceAccount (`spec.serviceAccountName`).
    ServiceAccount,
}

impl PodField {
    pub fn field_path(self) -> &'static str {
        match self {
            PodField::Ip => "status.podIP",
            PodField::Node => "spec.nodeName",
            PodField::NodeIp => "status.hostIP",
            PodField::Name => "metadata.name",
            PodField::Namespace => "metadata.namespace",
            PodField::ServiceAccount => "spec.serviceAccountName",
        }
    }
}

/// Labels and annotations a service asked for, and its downward-API variables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodMeta {
    pub labels: BTreeMap<String, String>,
    pub pod_annotations: BTreeMap<String, String>,
    pub service_account_annotations: BTreeMap<String, String>,
    pub service_annotations: BTreeMap<String, String>,
    /// (variable, fieldPath).
    pub pod_env: Vec<(String, String)>,
}

/// A qualified name as Kubernetes checks label and annotation keys: optional DNS-subdomain
/// prefix and `/`, then a name of at most 63 alphanumerics, `-`, `_`, `.`, alphanumeric at both ends.
pub(crate) fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty() && p.len() <= 253 && p.split('.').all(crate::validate::is_dns_label)
    });
    name_ok && prefix_ok
}

fn is_label_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && v.as_bytes()[0].is_ascii_alphanumeric()
            && v.as_bytes()[v.len() - 1].is_ascii_alphanumeric())
}

/// Labels berth sets itself; a service may not change them (selectors and tooling rely on them).
const RESERVED_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
];

pub(crate) fn resolve_pod_meta(
    ctx: &Ctx,
    name: &str,
    svc: &crate::model::Service,
    errors: &mut Vec<SpecError>,
) -> PodMeta {
    let mut out = PodMeta::default();
    for (k, v) in svc.labels.iter().flatten() {
        let at = ["services", name, "labels", k.as_str()];
        if !is_qualified_name(k) {
            errors.push(ctx.err(
                &at,
                format!("`{k}` is not a valid label key"),
                Some("`[prefix/]name`: a name of at most 63 letters, digits, `-`, `_`, `.`, e.g. `team`".into()),
            ));
        } else if RESERVED_LABELS.contains(&k.as_str()) {
            errors.push(ctx.err(
                &at,
                format!("berth sets `{k}` itself"),
                Some("use another key, e.g. `team` or `example.com/tier`".into()),
            ));
        }
        if !is_label_value(v) {
            errors.push(ctx.err(
                &at,
                format!("`{v}` is not a valid label value"),
                Some("at most 63 letters, digits, `-`, `_`, `.`, alphanumeric at both ends; put free text in an annotation".into()),
            ));
        }
        out.labels.insert(k.clone(), v.clone());
    }
    if let Some(a) = &svc.annotations {
        for (key, map, target) in [
            ("pod", &a.pod, &mut out.pod_annotations),
            (
                "service-account",
                &a.service_account,
                &mut out.service_account_annotations,
            ),
            ("service", &a.service, &mut out.service_annotations),
        ] {
            for (k, v) in map.iter().flatten() {
                if !is_qualified_name(k) {
                    errors.push(ctx.err(
                        &["services", name, "annotations", key, k],
                        format!("`{k}` is not a valid annotation key"),
                        Some("`[prefix/]name`, e.g. `prometheus.io/scrape`".into()),
                    ));
                } else if k.starts_with("berth.dev/") {
                    errors.push(ctx.err(
                        &["services", name, "annotations", key, k],
                        format!("`{k}` is berth's own annotation"),
                        None,
                    ));
                }
                target.insert(k.clone(), v.clone());
            }
        }
    }
    for (var, field) in svc.pod_env.iter().flatten() {
        let Some(field) = field else { continue };
        let at = ["services", name, "pod-env", var.as_str()];
        if !crate::validate::is_env_name(var) {
            errors.push(ctx.err(
                &at,
                format!("`{var}` is not a valid environment variable name"),
                Some("use letters, digits and `_`, not starting with a digit".into()),
            ));
        }
        if svc
            .env
            .as_ref()
            .is_some_and(|e| e.get(var).is_some_and(Option::is_some))
            || svc.secrets.iter().flatten().any(|s| s == var)
        {
            errors.push(ctx.err(
                &at,
                format!("`{var}` is also set in `env` or `secrets`"),
                Some("keep one of them".into()),
            ));
        }
        out.pod_env
            .push((var.clone(), field.field_path().to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::is_qualified_name;

    #[test]
    fn qualified_names() {
        for ok in [
            "team",
            "prometheus.io/scrape",
            "eks.amazonaws.com/role-arn",
            "a_b.c",
        ] {
            assert!(is_qualified_name(ok), "{ok}");
        }
        for bad in ["", "/x", "Foo_/x", "-a", "a/", "x y", "UPPER.io/x"] {
            assert!(!is_qualified_name(bad), "{bad}");
        }
    }
}
