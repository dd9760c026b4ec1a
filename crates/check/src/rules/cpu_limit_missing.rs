//! Every container sets a CPU limit (advisory: CPU limits cause throttling).
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "cpu-limit-missing",
    category: "resources",
    severity: Some(Severity::Info),
    prod_severity: None,
    summary: "Each container sets a CPU limit (advisory)",
    why: "Without a CPU limit a busy container can use all idle CPU on its node, which makes its performance depend on its neighbours. Limits also cause CFS throttling, which is why this is advisory (info): set one when predictable latency matters more than burst capacity.",
    fix: "resources:\n  requests:\n    cpu: 250m\n  limits:\n    cpu: \"1\"\n",
    hint: "set resources.limits.cpu (or accept bursting)",
    equiv: ["container-resources", "", "cpuLimitsMissing", "CKV_K8S_11"],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            if c.node.path(&["resources", "limits", "cpu"]).is_none() {
                cx.hit(
                    obj,
                    c.node.get("resources").or(Some(c.node)),
                    format!("{}.resources.limits.cpu", c.path),
                    format!("container `{}` has no CPU limit", c.name),
                );
            }
        }
    }
}
