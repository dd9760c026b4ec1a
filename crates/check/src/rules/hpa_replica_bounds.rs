//! HorizontalPodAutoscaler minReplicas is at most maxReplicas
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "hpa-replica-bounds",
    category: "availability",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "HorizontalPodAutoscaler minReplicas is at most maxReplicas",
    why: "The API server rejects an HPA whose minReplicas exceeds maxReplicas; with min equal to max the autoscaler cannot scale at all.",
    fix: "spec:\n  minReplicas: 2\n  maxReplicas: 10\n",
    hint: "set minReplicas <= maxReplicas",
    equiv: [
        "horizontalpodautoscaler-replicas",
        "",
        "hpaMaxAvailability",
        "",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        if obj.kind != "HorizontalPodAutoscaler" {
            return;
        }
        let min = obj
            .root
            .path(&["spec", "minReplicas"])
            .and_then(NodeExt::as_i64)
            .unwrap_or(1);
        if let Some(max) = obj.root.path(&["spec", "maxReplicas"])
            && let Some(m) = max.as_i64()
        {
            if min > m {
                cx.hit(
                    obj,
                    Some(max),
                    "spec.maxReplicas",
                    format!("minReplicas {min} is greater than maxReplicas {m}"),
                );
            } else if min == m {
                cx.hit(
                    obj,
                    Some(max),
                    "spec.maxReplicas",
                    format!("minReplicas equals maxReplicas ({m}): the autoscaler cannot scale"),
                );
            }
        }
    }
}
