//! Containers set allowPrivilegeEscalation: false explicitly
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "privilege-escalation",
    category: "security",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "Containers set allowPrivilegeEscalation: false explicitly",
    why: "The default (unset) allows a process to gain more privileges than its parent (setuid binaries, file capabilities). Setting it to false sets no_new_privs on the container process.",
    fix: "securityContext:\n  allowPrivilegeEscalation: false\n",
    hint: "set securityContext.allowPrivilegeEscalation: false",
    equiv: [
        "",
        "privilege-escalation-container",
        "privilegeEscalationAllowed",
        "CKV_K8S_20",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            if c.node
                .bool_at(&["securityContext", "allowPrivilegeEscalation"])
                != Some(false)
            {
                cx.hit(
                    obj,
                    c.node
                        .path(&["securityContext", "allowPrivilegeEscalation"])
                        .or(Some(c.node)),
                    format!("{}.securityContext.allowPrivilegeEscalation", c.path),
                    format!(
                        "container `{}` does not set allowPrivilegeEscalation: false",
                        c.name
                    ),
                );
            }
        }
    }
}
