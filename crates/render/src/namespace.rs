//! The app's Namespace, enforcing the Pod Security `restricted` profile.

use crate::labels::app_labels;
use berth_spec::App;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub(crate) fn namespace(app: &App) -> Namespace {
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
            name: Some(app.namespace.clone()),
            labels: Some(labels),
            ..Default::default()
        },
        ..Default::default()
    }
}
