//! Every container requests CPU and memory.
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "requests-missing",
    category: "resources",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Each container sets CPU and memory requests",
    why: "The scheduler places pods by their requests. Without them a pod can land on a full node, gets BestEffort QoS (first to be evicted under pressure), and an HPA on CPU or memory utilisation cannot compute a percentage.",
    fix: "resources:\n  requests:\n    cpu: 100m\n    memory: 128Mi\n",
    hint: "set resources.requests.cpu and resources.requests.memory",
    equiv: [
        "container-resources",
        "unset-cpu-requirements",
        "cpuRequestsMissing, memoryRequestsMissing",
        "CKV_K8S_10, CKV_K8S_12",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            let missing: Vec<&str> = ["cpu", "memory"]
                .into_iter()
                .filter(|r| c.node.path(&["resources", "requests", r]).is_none())
                .collect();
            if !missing.is_empty() {
                cx.hit(
                    obj,
                    c.node.get("resources").or(Some(c.node)),
                    format!("{}.resources.requests", c.path),
                    format!(
                        "container `{}` has no {} request",
                        c.name,
                        missing.join(" or ")
                    ),
                );
            }
        }
    }
}
