//! Long-running containers have a readiness probe.
use crate::model::{Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "readiness-probe-missing",
    category: "probes",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Containers of long-running workloads (not Jobs) have a readinessProbe",
    why: "Without a readiness probe a pod receives traffic as soon as its process starts, before it can serve, and keeps receiving it while it is overloaded or shutting down; rolling updates then drop requests.",
    fix: "readinessProbe:\n  httpGet:\n    path: /healthz/ready\n    port: http\n  periodSeconds: 5\n",
    hint: "add a readinessProbe that checks the app can serve",
    equiv: ["pod-probes", "no-readiness-probe", "readinessProbeMissing", "CKV_K8S_9"],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        if !pod::long_running(obj) {
            return;
        }
        for c in pod::obj_containers(obj).into_iter().filter(|c| !c.init) {
            if c.node.get("readinessProbe").is_none() {
                cx.hit(obj, Some(c.node), &c.path, format!("container `{}` has no readinessProbe", c.name));
            }
        }
    }
}
