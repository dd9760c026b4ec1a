//! A Service selector matches some pod template in the input (same namespace)
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "service-selects-nothing",
    category: "networking",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "A Service selector matches some pod template in the input (same namespace)",
    why: "A Service that selects no pods has no endpoints: every connection to it is refused, usually because of a label typo or a renamed app.",
    fix: "kind: Service\nspec:\n  selector: {app.kubernetes.io/name: web}   # the pod template labels\n",
    hint: "make spec.selector equal to (a subset of) the pod template labels",
    equiv: ["service-targets-pod", "dangling-service", "", ""],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        for s in ix.kind("Service") {
            let Some(sel) = s.root.path(&["spec", "selector"]) else {
                continue;
            };
            if sel.entries().is_empty() || s.root.str_at(&["spec", "type"]) == Some("ExternalName")
            {
                continue;
            }
            if ix.service_selection(s.ns(), sel).is_empty() {
                let text: Vec<String> = sel
                    .entries()
                    .iter()
                    .map(|(k, v)| format!("{}={}", k.name, v.scalar_text().unwrap_or_default()))
                    .collect();
                cx.hit(
                    s,
                    Some(sel),
                    "spec.selector",
                    format!(
                        "selector {} matches no pod template in namespace {}",
                        text.join(","),
                        s.ns()
                    ),
                );
            }
        }
    }
}
