//! Containers run with a seccomp profile (RuntimeDefault or Localhost, container over pod)
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "seccomp-profile",
    category: "security",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Containers run with a seccomp profile (RuntimeDefault or Localhost, container over pod)",
    why: "Without a seccomp profile a container can call every syscall, including the rarely used ones most kernel exploits go through. RuntimeDefault blocks them at no cost for ordinary apps.",
    fix: "securityContext:          # pod level\n  seccompProfile:\n    type: RuntimeDefault\n",
    hint: "set securityContext.seccompProfile.type: RuntimeDefault at pod level",
    equiv: [
        "container-seccomp-profile",
        "",
        "linuxHardening",
        "CKV_K8S_31",
    ],
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
            let t =
                pod::effective(spec, c.node, &["seccompProfile", "type"]).and_then(|n| n.as_str());
            if !matches!(t, Some("RuntimeDefault" | "Localhost")) {
                let node = c
                    .node
                    .path(&["securityContext", "seccompProfile"])
                    .or(Some(c.node));
                cx.hit(
                    obj,
                    node,
                    format!("{}.securityContext.seccompProfile", c.path),
                    format!(
                        "container `{}` runs {}",
                        c.name,
                        match t {
                            Some(t) => format!("with seccomp profile {t}"),
                            None => "without a seccomp profile".to_string(),
                        }
                    ),
                );
            }
        }
    }
}
