//! Containers do not bind host ports (hostPort)
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "host-port",
    category: "security",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Containers do not bind host ports (hostPort)",
    why: "A hostPort binds the port on the node itself: it bypasses Services and NetworkPolicies, limits scheduling to one such pod per node and exposes the app on every node address.",
    fix: "ports:\n  - name: http\n    containerPort: 8080      # no hostPort: expose through a Service\n",
    hint: "remove hostPort; expose the port through a Service",
    equiv: ["", "", "hostPortSet", "CKV_K8S_26"],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            for (i, p) in c
                .node
                .get("ports")
                .map(|p| p.seq())
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                if let Some(h) = p
                    .get("hostPort")
                    .filter(|h| h.as_i64().is_some_and(|v| v > 0))
                {
                    cx.hit(
                        obj,
                        Some(h),
                        format!("{}.ports[{i}].hostPort", c.path),
                        format!(
                            "container `{}` binds host port {}",
                            c.name,
                            h.as_i64().unwrap_or(0)
                        ),
                    );
                }
            }
        }
    }
}
