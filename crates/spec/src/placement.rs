//! Where a service lands and which pods it owns: namespace groups (`namespace: services` on a
//! service, `namespaces: { services: shop-svc }` on an environment) and the adoption of an
//! existing install's selector (`adopt: { selector }`).

use crate::error::SpecError;
use crate::model::{Environment, Spec};
use crate::validate::{Ctx, is_dns_label};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Keep an existing install's pods: its selector labels become the workload's selector (and
/// its Service's, PodDisruptionBudget's and NetworkPolicy's), and are added to the pod labels.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Adopt {
    /// The existing Deployment's or StatefulSet's `spec.selector.matchLabels`, exactly
    /// (`kubectl get deploy NAME -o jsonpath='{.spec.selector.matchLabels}'`).
    #[serde(default)]
    pub selector: Option<IndexMap<String, String>>,
}

/// A namespace of a resolved app: the default one (no group) or a group's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceGroup {
    /// None for the environment's own namespace.
    pub group: Option<String>,
    pub name: String,
}

/// The namespace a group goes to: the environment's mapping, else `DEFAULT-GROUP`.
pub fn group_namespace(env: &Environment, default_ns: &str, group: &str) -> String {
    env.namespaces
        .as_ref()
        .and_then(|m| m.get(group).cloned())
        .unwrap_or_else(|| format!("{default_ns}-{group}"))
}

/// Every namespace group the spec's services name, in order of first use.
pub(crate) fn groups(spec: &Spec) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for svc in spec.services.values() {
        if let Some(g) = &svc.namespace
            && !out.contains(g)
        {
            out.push(g.clone());
        }
    }
    out
}

/// The namespaces of an environment: its own first, then each group's in order of first use.
/// Two groups (or a group and the default) may share a namespace; each name appears once.
pub(crate) fn namespaces(spec: &Spec, env: &Environment, default_ns: &str) -> Vec<NamespaceGroup> {
    let mut out = vec![NamespaceGroup {
        group: None,
        name: default_ns.to_owned(),
    }];
    for g in groups(spec) {
        let name = group_namespace(env, default_ns, &g);
        if !out.iter().any(|n| n.name == name) {
            out.push(NamespaceGroup {
                group: Some(g),
                name,
            });
        }
    }
    out
}

/// The host name `caller_ns` reaches Service `name` in `target_ns` by: the short name in the
/// same namespace, the full in-cluster name across namespaces.
pub fn service_host(name: &str, target_ns: &str, caller_ns: &str) -> String {
    if target_ns == caller_ns {
        name.to_owned()
    } else {
        format!("{name}.{target_ns}.svc.cluster.local")
    }
}

/// Checks the environment's `namespaces` mapping and the services' groups.
pub(crate) fn validate(
    ctx: &Ctx,
    spec: &Spec,
    env: &Environment,
    default_ns: &str,
    errors: &mut Vec<SpecError>,
) {
    let used = groups(spec);
    for (name, svc) in &spec.services {
        if let Some(g) = &svc.namespace {
            if !is_dns_label(g) {
                errors.push(ctx.err(
                    &["services", name, "namespace"],
                    format!("namespace group `{g}` is not a DNS-1123 label"),
                    Some("a short role name such as `services`, `gateway` or `data`".into()),
                ));
                continue;
            }
            let ns = group_namespace(env, default_ns, g);
            let mapped = env.namespaces.as_ref().is_some_and(|m| m.contains_key(g));
            if !mapped && !is_dns_label(&ns) {
                errors.push(ctx.err(
                    &["services", name, "namespace"],
                    format!("group `{g}` goes to namespace `{ns}` in environment `{}`, which is longer than 63 characters", ctx.env),
                    Some(format!("map it: `environments.{}.namespaces: {{ {g}: NAME }}`", ctx.env)),
                ));
            }
        }
        if let Some(adopt) = &svc.adopt {
            validate_adopt(ctx, spec, name, adopt, errors);
        }
    }
    for (group, ns) in env.namespaces.iter().flatten() {
        if !is_dns_label(ns) {
            errors.push(ctx.env_key_err(
                "namespaces",
                group,
                format!("namespace `{ns}` (group `{group}`) is not a DNS-1123 label"),
                Some("lowercase letters, digits and `-`, at most 63".into()),
            ));
        }
        if !used.contains(group) {
            let candidates: Vec<&str> = used.iter().map(String::as_str).collect();
            errors.push(ctx.env_key_err(
                "namespaces",
                group,
                format!(
                    "environment `{}` maps namespace group `{group}`, which no service names",
                    ctx.env
                ),
                Some(if candidates.is_empty() {
                    "set `namespace: GROUP` on the services that go there, or remove the mapping"
                        .into()
                } else {
                    crate::de::suggest(group, &candidates)
                }),
            ));
        }
    }
}

fn is_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A label key: `[prefix/]name`, the prefix a DNS subdomain.
pub(crate) fn is_label_key(s: &str) -> bool {
    match s.rsplit_once('/') {
        Some((prefix, name)) => crate::storage::is_dns_subdomain(prefix) && is_label_name(name),
        None => is_label_name(s),
    }
}

fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name(s)
}

fn validate_adopt(ctx: &Ctx, spec: &Spec, name: &str, adopt: &Adopt, errors: &mut Vec<SpecError>) {
    fn at<'a>(name: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
        let mut p = vec!["services", name, "adopt"];
        p.extend_from_slice(rest);
        p
    }
    let Some(selector) = adopt.selector.as_ref().filter(|s| !s.is_empty()) else {
        errors.push(ctx.err(
            &at(name, &[]),
            "`adopt` needs the existing workload's `selector`",
            Some(format!(
                "copy it: `kubectl get deploy {name} -o jsonpath='{{.spec.selector.matchLabels}}'`"
            )),
        ));
        return;
    };
    for (k, v) in selector {
        if !is_label_key(k) {
            errors.push(ctx.key_at(
                &at(name, &["selector", k]),
                format!("`{k}` is not a label key"),
                Some(
                    "`[prefix/]name`, the name at most 63 of letters, digits, `-`, `_`, `.`".into(),
                ),
            ));
        }
        if !is_label_value(v) {
            errors.push(
                ctx.err(
                    &at(name, &["selector", k]),
                    format!("`{v}` is not a label value"),
                    Some(
                        "at most 63 of letters, digits, `-`, `_`, `.`, alphanumeric at both ends"
                            .into(),
                    ),
                ),
            );
        }
    }
    // Labels berth puts on every pod of the app: a selector made only of them selects all.
    let common: BTreeMap<&str, &str> = BTreeMap::from([
        ("app.kubernetes.io/instance", spec.app.as_str()),
        ("app.kubernetes.io/part-of", spec.app.as_str()),
        ("app.kubernetes.io/managed-by", "berth"),
    ]);
    if selector
        .iter()
        .all(|(k, v)| common.get(k.as_str()) == Some(&v.as_str()))
    {
        errors.push(ctx.err(
            &at(name, &["selector"]),
            "this selector matches the pods of every service of the app",
            Some("use the existing workload's own selector labels".into()),
        ));
    }
    // Another adopted service whose pods this selector would also select.
    for (other, svc) in &spec.services {
        if other == name {
            continue;
        }
        let Some(theirs) = svc.adopt.as_ref().and_then(|a| a.selector.as_ref()) else {
            continue;
        };
        if selector.iter().all(|(k, v)| theirs.get(k) == Some(v)) {
            errors.push(ctx.err(
                &at(name, &["selector"]),
                format!("this selector also selects the pods of `{other}` (its `adopt.selector` holds every label of it)"),
                Some("each service's selector must tell its pods apart; add the label that differs".into()),
            ));
        }
    }
}

/// The adopted selector of a service, as ordered labels.
pub(crate) fn adopted_selector(adopt: &Option<Adopt>) -> Option<BTreeMap<String, String>> {
    let s = adopt.as_ref()?.selector.as_ref()?;
    (!s.is_empty()).then(|| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}
