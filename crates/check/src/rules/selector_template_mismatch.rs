//! A workload spec.selector matches its own pod template labels
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "selector-template-mismatch",
    category: "availability",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "A workload spec.selector matches its own pod template labels",
    why: "The API server rejects a Deployment, StatefulSet, DaemonSet or ReplicaSet whose selector does not match its template (`selector does not match template labels`), and a Job with a manual selector that does not match never sees its pods.",
    fix: "spec:\n  selector:\n    matchLabels: {app.kubernetes.io/name: web}\n  template:\n    metadata:\n      labels: {app.kubernetes.io/name: web}\n",
    hint: "make spec.selector match spec.template.metadata.labels",
    equiv: [
        "deployment-pod-selector-labels-match-template-metadata-labels",
        "mismatching-selector",
        "",
        "",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        if !matches!(
            obj.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController"
        ) {
            return;
        }
        let Some(sel) = obj.root.path(&["spec", "selector"]) else {
            return;
        };
        let labels = pod::template_labels(obj);
        let ok = if obj.kind == "ReplicationController" {
            pod::map_selects(sel, labels) || sel.entries().is_empty()
        } else {
            pod::label_selector_matches(sel, labels)
        };
        if !ok {
            cx.hit(
                obj,
                Some(sel),
                "spec.selector",
                "spec.selector does not match the pod template labels",
            );
        }
    }
}
