//! Every container sets a memory limit.
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "memory-limit-missing",
    category: "resources",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Each container sets a memory limit",
    why: "A container without a memory limit can grow until the node runs out of memory, and the kernel's OOM killer then picks victims among every pod on the node, not just the leaking one.",
    fix: "resources:\n  requests:\n    memory: 256Mi\n  limits:\n    memory: 256Mi\n",
    hint: "set resources.limits.memory",
    equiv: [
        "container-resources",
        "unset-memory-requirements",
        "memoryLimitsMissing",
        "CKV_K8S_13",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            if c.node.path(&["resources", "limits", "memory"]).is_none() {
                cx.hit(
                    obj,
                    c.node.get("resources").or(Some(c.node)),
                    format!("{}.resources.limits.memory", c.path),
                    format!("container `{}` has no memory limit", c.name),
                );
            }
        }
    }
}
