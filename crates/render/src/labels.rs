//! The recommended `app.kubernetes.io/*` labels. Selectors use only `name` and `instance`, which
//! never change across versions, so an upgrade never orphans pods.

use berth_spec::{App, ResolvedService};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

pub(crate) const MANAGED_BY: &str = "berth";

/// Labels of an object that belongs to one service.
pub(crate) fn service_labels(app: &App, svc: &ResolvedService) -> BTreeMap<String, String> {
    let mut l = selector_labels(app, &svc.name);
    l.insert(
        "app.kubernetes.io/version".into(),
        label_value(
            svc.image
                .tag
                .as_deref()
                .or(app.version.as_deref())
                .unwrap_or("unversioned"),
        ),
    );
    l.insert(
        "app.kubernetes.io/component".into(),
        (if svc.port.is_some() {
            "server"
        } else {
            "worker"
        })
        .into(),
    );
    l.insert("app.kubernetes.io/part-of".into(), app.name.clone());
    l.insert("app.kubernetes.io/managed-by".into(), MANAGED_BY.into());
    l
}

/// Labels of an object that belongs to the app as a whole (namespace, shared policies).
pub(crate) fn app_labels(app: &App, component: &str) -> BTreeMap<String, String> {
    let mut l = selector_labels(app, &app.name);
    l.insert(
        "app.kubernetes.io/version".into(),
        label_value(app.version.as_deref().unwrap_or("unversioned")),
    );
    l.insert("app.kubernetes.io/component".into(), component.into());
    l.insert("app.kubernetes.io/part-of".into(), app.name.clone());
    l.insert("app.kubernetes.io/managed-by".into(), MANAGED_BY.into());
    l
}

pub(crate) fn selector_labels(app: &App, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".into(), name.to_owned()),
        ("app.kubernetes.io/instance".into(), app.name.clone()),
    ])
}

/// The labels that select the pods of `name`: an adopted install's selector (`adopt.selector`),
/// else berth's `name` and `instance`.
pub(crate) fn pod_selector_labels(app: &App, name: &str) -> BTreeMap<String, String> {
    app.services
        .iter()
        .find(|s| s.name == name)
        .and_then(|s| s.adopt_selector.clone())
        .unwrap_or_else(|| selector_labels(app, name))
}

/// The selector of the pods of `name` (a service, or anything else berth labels by name).
pub(crate) fn selector(app: &App, name: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(pod_selector_labels(app, name)),
        ..Default::default()
    }
}

/// The labels of a service's pods: its object labels plus an adopted selector's.
pub(crate) fn pod_labels(app: &App, svc: &ResolvedService) -> BTreeMap<String, String> {
    let mut l = service_labels(app, svc);
    if let Some(adopted) = &svc.adopt_selector {
        l.extend(adopted.clone());
    }
    l
}

/// Metadata of an object of the app as a whole, in the environment's namespace.
pub(crate) fn meta(app: &App, name: &str, labels: BTreeMap<String, String>) -> ObjectMeta {
    meta_in(&app.namespace, name, labels)
}

/// Metadata of an object in namespace `namespace`.
pub(crate) fn meta_in(namespace: &str, name: &str, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        labels: Some(labels),
        ..Default::default()
    }
}

/// Metadata of an object of service `svc` (named `name`): in the service's namespace, with
/// its labels.
pub(crate) fn service_meta(app: &App, svc: &ResolvedService, name: &str) -> ObjectMeta {
    meta_in(&svc.namespace, name, service_labels(app, svc))
}

/// Label values are at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric at both ends.
fn label_value(v: &str) -> String {
    let cleaned: String = v
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    cleaned
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}
