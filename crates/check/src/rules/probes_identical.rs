//! Liveness and readiness probes are not identical.
use crate::model::{Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "probes-identical",
    category: "probes",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "livenessProbe is not identical to readinessProbe",
    why: "When a pod is merely busy, its readiness probe should fail so traffic goes elsewhere. If the liveness probe is the same check, it fails at the same moment and the kubelet kills a healthy-but-busy pod, turning load into a restart cascade.",
    fix: "readinessProbe:\n  httpGet: {path: /healthz/ready, port: http}\n  periodSeconds: 5\nlivenessProbe:\n  httpGet: {path: /healthz/live, port: http}   # a cheaper check\n  periodSeconds: 10\n  failureThreshold: 6                          # and more patient\n",
    hint: "make the liveness probe a cheaper check, or more patient (failureThreshold, periodSeconds)",
    equiv: ["pod-probes-identical", "", "", ""],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            if let (Some(l), Some(r)) = (c.node.get("livenessProbe"), c.node.get("readinessProbe"))
                && l.to_json() == r.to_json()
            {
                cx.hit(
                    obj,
                    Some(l),
                    format!("{}.livenessProbe", c.path),
                    format!(
                        "container `{}`: livenessProbe is identical to readinessProbe",
                        c.name
                    ),
                );
            }
        }
    }
}
