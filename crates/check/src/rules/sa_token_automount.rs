//! Pods using the default service account do not automount its token
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "sa-token-automount",
    category: "security",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Pods using the default service account do not automount its token",
    why: "Every pod gets an API token unless told otherwise. A pod running as the namespace default service account almost never calls the API, so the token only helps an attacker; if the pod does call the API, give it its own service account.",
    fix: "spec:\n  automountServiceAccountToken: false\n# or, for pods that call the API:\n  serviceAccountName: my-app\n",
    hint: "set automountServiceAccountToken: false (or give the pod its own service account)",
    equiv: [
        "",
        "default-service-account",
        "automountServiceAccountToken",
        "CKV_K8S_38",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        let Some((spec, spec_path)) = pod::pod_spec(obj) else {
            return;
        };

        let sa = spec
            .str_at(&["serviceAccountName"])
            .or(spec.str_at(&["serviceAccount"]))
            .unwrap_or("default");
        if sa == "default" && spec.bool_at(&["automountServiceAccountToken"]) != Some(false) {
            cx.hit(
                obj,
                Some(spec),
                format!("{spec_path}.automountServiceAccountToken"),
                "pod runs as the default service account and automounts its API token",
            );
        }
    }
}
