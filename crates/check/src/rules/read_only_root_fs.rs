//! Containers set readOnlyRootFilesystem: true
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "read-only-root-fs",
    category: "security",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Containers set readOnlyRootFilesystem: true",
    why: "A writable root filesystem lets an attacker who gets code execution drop binaries or modify the app. Mount an emptyDir where the app needs to write (e.g. /tmp) instead.",
    fix: "securityContext:\n  readOnlyRootFilesystem: true\nvolumeMounts:\n  - {name: tmp, mountPath: /tmp}\n",
    hint: "set securityContext.readOnlyRootFilesystem: true and mount emptyDirs where the app writes",
    equiv: [
        "container-security-context-readonlyrootfilesystem",
        "no-read-only-root-fs",
        "notReadOnlyRootFilesystem",
        "CKV_K8S_22",
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
                .bool_at(&["securityContext", "readOnlyRootFilesystem"])
                != Some(true)
            {
                cx.hit(
                    obj,
                    c.node.get("securityContext").or(Some(c.node)),
                    format!("{}.securityContext.readOnlyRootFilesystem", c.path),
                    format!("container `{}` has a writable root filesystem", c.name),
                );
            }
        }
    }
}
