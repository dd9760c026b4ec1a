//! Containers run as a non-root user (runAsNonRoot: true or runAsUser > 0, container over pod)
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "run-as-non-root",
    category: "security",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "Containers run as a non-root user (runAsNonRoot: true or runAsUser > 0, container over pod)",
    why: "A process running as root inside a container is root on the host if it escapes (kernel or runtime bug, mounted socket). runAsNonRoot makes the kubelet refuse to start an image that would run as root.",
    fix: "securityContext:          # pod level\n  runAsNonRoot: true\n  runAsUser: 10001\n  runAsGroup: 10001\n",
    hint: "set securityContext.runAsNonRoot: true (and a non-zero runAsUser)",
    equiv: ["", "run-as-non-root", "runAsRootAllowed", "CKV_K8S_23"],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        let Some((spec, _)) = pod::pod_spec(obj) else {
            return;
        };

        for c in pod::obj_containers(obj) {
            let user = pod::effective(spec, c.node, &["runAsUser"]);
            let non_root =
                pod::effective(spec, c.node, &["runAsNonRoot"]).and_then(NodeExt::as_bool);
            if let Some(u) = user.filter(|u| u.as_i64() == Some(0)) {
                cx.hit(
                    obj,
                    Some(u),
                    format!("{}.securityContext.runAsUser", c.path),
                    format!("container `{}` runs as root (runAsUser: 0)", c.name),
                );
            } else if non_root != Some(true)
                && user.and_then(NodeExt::as_i64).is_none_or(|u| u <= 0)
            {
                cx.hit(obj, Some(c.node), format!("{}.securityContext.runAsNonRoot", c.path), format!("container `{}` may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is set", c.name));
            }
        }
    }
}
