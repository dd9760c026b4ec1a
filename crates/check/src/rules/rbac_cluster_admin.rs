//! No RoleBinding or ClusterRoleBinding grants cluster-admin
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "rbac-cluster-admin",
    category: "rbac",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "No RoleBinding or ClusterRoleBinding grants cluster-admin",
    why: "cluster-admin is every permission on every resource: whoever holds the bound identity (a pod token, a CI job) owns the cluster.",
    fix: "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: my-app-reader     # a role with only what is needed\n",
    hint: "bind a role with only the permissions needed",
    equiv: [
        "",
        "cluster-admin-role-binding",
        "clusterrolebindingClusterAdmin",
        "",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        if !matches!(obj.kind.as_str(), "RoleBinding" | "ClusterRoleBinding") {
            return;
        }
        if let Some(n) = obj.root.path(&["roleRef", "name"])
            && n.as_str() == Some("cluster-admin")
        {
            cx.hit(
                obj,
                Some(n),
                "roleRef.name",
                format!("{} grants cluster-admin", obj.kind),
            );
        }
    }
}
