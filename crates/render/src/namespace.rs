//! The app's Namespaces (the environment's, and one per namespace group), enforcing the Pod
//! Security `restricted` profile.

use crate::labels::app_labels;
use berth_spec::App;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// One Namespace per namespace the environment deploys into, its own first.
pub(crate) fn namespaces(app: &App) -> Vec<Namespace> {
    app.namespaces
        .iter()
        .map(|n| namespace(app, &n.name))
        .collect()
}

fn namespace(app: &App, name: &str) -> Namespace {
    let mut labels = app_labels(app, "namespace");
    // Pod Security Admission: the restricted profile, which berth's pods satisfy.
    labels.insert(
        "pod-security.kubernetes.io/enforce".into(),
        "restricted".into(),
    );
    labels.insert(
        "pod-security.kubernetes.io/enforce-version".into(),
        "latest".into(),
    );
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels),
            ..Default::default()
        },
        ..Default::default()
    }
}
