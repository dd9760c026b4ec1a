//! No container sets the same env var twice
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "env-duplicate",
    category: "config",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "No container sets the same env var twice",
    why: "When a name appears twice the last one silently wins, so the first value (often the intended one) is ignored; kubectl apply also computes broken patches for such lists.",
    fix: "env:\n  - {name: LOG_LEVEL, value: info}   # once\n",
    hint: "remove the duplicate entry",
    equiv: [
        "environment-variable-key-duplication",
        "duplicate-env-var",
        "",
        "",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            let mut seen: Vec<&str> = Vec::new();
            for (i, e) in c
                .node
                .get("env")
                .map(|e| e.seq())
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                let Some(n) = e.str_at(&["name"]) else {
                    continue;
                };
                if seen.contains(&n) {
                    cx.hit(
                        obj,
                        e.get("name"),
                        format!("{}.env[{i}].name", c.path),
                        format!("container `{}` sets env {n} more than once", c.name),
                    );
                } else {
                    seen.push(n);
                }
            }
        }
    }
}
