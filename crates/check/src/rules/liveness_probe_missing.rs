//! Long-running containers have a liveness probe (advisory).
use crate::model::{Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "liveness-probe-missing",
    category: "probes",
    severity: Some(Severity::Info),
    prod_severity: None,
    summary: "Containers of long-running workloads have a livenessProbe (advisory)",
    why: "A liveness probe restarts a container that is stuck (deadlocked, wedged event loop) but still running. It is advisory because a badly designed liveness probe does more harm than none: it must only fail when a restart helps.",
    fix: "livenessProbe:\n  httpGet:\n    path: /healthz/live\n    port: http\n  periodSeconds: 10\n  failureThreshold: 6\n",
    hint: "add a livenessProbe that fails only when a restart would help",
    equiv: [
        "pod-probes",
        "no-liveness-probe",
        "livenessProbeMissing",
        "CKV_K8S_8",
    ],
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
            if c.node.get("livenessProbe").is_none() {
                cx.hit(
                    obj,
                    Some(c.node),
                    &c.path,
                    format!("container `{}` has no livenessProbe", c.name),
                );
            }
        }
    }
}
