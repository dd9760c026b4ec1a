//! A limit lower than its request is rejected by the API server.
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "limits-below-requests",
    category: "resources",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "No resource limit is lower than its request",
    why: "The API server rejects a pod whose limit is below its request (`must be greater than or equal to request`), so the workload never starts; schema validation alone does not catch it.",
    fix: "resources:\n  requests:\n    memory: 256Mi\n  limits:\n    memory: 512Mi   # >= the request\n",
    hint: "raise the limit to at least the request",
    equiv: ["", "", "", ""],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            for r in ["cpu", "memory", "ephemeral-storage"] {
                let req = c.node.path(&["resources", "requests", r]);
                let lim = c.node.path(&["resources", "limits", r]);
                if let (Some(req), Some(lim)) = (req, lim)
                    && let (Some(a), Some(b)) = (pod::quantity(req), pod::quantity(lim))
                    && b < a
                {
                    cx.hit(
                        obj,
                        Some(lim),
                        format!("{}.resources.limits.{r}", c.path),
                        format!(
                            "container `{}`: {r} limit {} is below its request {}",
                            c.name,
                            lim.scalar_text().unwrap_or_default(),
                            req.scalar_text().unwrap_or_default()
                        ),
                    );
                }
            }
        }
    }
}
