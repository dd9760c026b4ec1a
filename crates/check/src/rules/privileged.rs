//! No container runs privileged
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "privileged",
    category: "security",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "No container runs privileged",
    why: "A privileged container has every capability and access to all host devices: it is root on the node.",
    fix: "securityContext:\n  privileged: false\n",
    hint: "remove privileged: true; add only the capabilities the app needs",
    equiv: [
        "container-security-context-privileged",
        "privileged-container",
        "runAsPrivileged",
        "CKV_K8S_16",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            if let Some(p) = c
                .node
                .path(&["securityContext", "privileged"])
                .filter(|p| p.as_bool() == Some(true))
            {
                cx.hit(
                    obj,
                    Some(p),
                    format!("{}.securityContext.privileged", c.path),
                    format!("container `{}` is privileged", c.name),
                );
            }
        }
    }
}
