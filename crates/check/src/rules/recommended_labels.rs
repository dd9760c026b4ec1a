//! Objects carry the recommended app.kubernetes.io/name and app.kubernetes.io/instance labels
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "recommended-labels",
    category: "labels",
    severity: Some(Severity::Info),
    prod_severity: None,
    summary: "Objects carry the recommended app.kubernetes.io/name and app.kubernetes.io/instance labels",
    why: "The recommended labels let kubectl, dashboards, cost tools and your own selectors find every object of an app and tell two installs of it apart.",
    fix: "metadata:\n  labels:\n    app.kubernetes.io/name: web\n    app.kubernetes.io/instance: web-prod\n    app.kubernetes.io/version: 1.4.2\n    app.kubernetes.io/part-of: shop\n    app.kubernetes.io/managed-by: berth\n",
    hint: "add the app.kubernetes.io/name and app.kubernetes.io/instance labels",
    equiv: [
        "",
        "required-label-owner",
        "metadataAndInstanceMismatched",
        "",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        const KINDS: &[&str] = &[
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "CronJob",
            "Pod",
            "ReplicaSet",
            "Service",
            "Ingress",
            "ConfigMap",
            "Secret",
            "ServiceAccount",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "NetworkPolicy",
        ];
        if !KINDS.contains(&obj.kind.as_str()) {
            return;
        }
        let missing: Vec<&str> = ["app.kubernetes.io/name", "app.kubernetes.io/instance"]
            .into_iter()
            .filter(|l| obj.label(l).is_none())
            .collect();
        if !missing.is_empty() {
            cx.hit(
                obj,
                obj.root
                    .path(&["metadata", "labels"])
                    .or(obj.root.get("metadata")),
                "metadata.labels",
                format!(
                    "missing recommended label{} {}",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", ")
                ),
            );
        }
    }
}
