//! Roles and ClusterRoles do not use * in apiGroups, resources or verbs
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "rbac-wildcard",
    category: "rbac",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Roles and ClusterRoles do not use * in apiGroups, resources or verbs",
    why: "A wildcard grants every present and future resource or verb, including ones added by CRDs installed later (secrets, pods/exec, escalate). Least privilege means listing them.",
    fix: "rules:\n  - apiGroups: [\"\"]\n    resources: [configmaps]\n    verbs: [get, list, watch]\n",
    hint: "list the apiGroups, resources and verbs explicitly",
    equiv: ["", "wildcard-in-rules", "", "CKV_K8S_49"],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        if !matches!(obj.kind.as_str(), "Role" | "ClusterRole") {
            return;
        }
        for (i, r) in obj
            .root
            .get("rules")
            .map(|r| r.seq())
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            for field in ["apiGroups", "resources", "verbs"] {
                if let Some(list) = r.get(field)
                    && let Some(star) = list.seq().iter().find(|v| v.as_str() == Some("*"))
                {
                    cx.hit(
                        obj,
                        Some(star),
                        format!("rules[{i}].{field}"),
                        format!("rule {i} grants * in {field}"),
                    );
                }
            }
        }
    }
}
