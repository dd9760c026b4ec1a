//! A HorizontalPodAutoscaler scaleTargetRef names a workload in the input
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "hpa-target-missing",
    category: "availability",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "A HorizontalPodAutoscaler scaleTargetRef names a workload in the input",
    why: "An HPA whose target does not exist (typo, renamed Deployment, wrong kind) scales nothing and reports nothing: the app silently runs at its static replica count.",
    fix: "spec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web            # must exist in the same namespace\n",
    hint: "point scaleTargetRef at the workload (kind and name)",
    equiv: [
        "horizontalpodautoscaler-has-target",
        "dangling-horizontalpodautoscaler",
        "",
        "",
    ],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        for h in ix.kind("HorizontalPodAutoscaler") {
            let Some(r) = h.root.path(&["spec", "scaleTargetRef"]) else {
                continue;
            };
            let (kind, name) = (
                r.str_at(&["kind"]).unwrap_or(""),
                r.str_at(&["name"]).unwrap_or(""),
            );
            if ix.find(kind, h.ns(), name).is_none() {
                cx.hit(
                    h,
                    r.get("name").or(Some(r)),
                    "spec.scaleTargetRef",
                    format!(
                        "scale target {kind} {name} is not in the input (namespace {})",
                        h.ns()
                    ),
                );
            }
        }
    }
}
