//! Every namespace with workloads has a default-deny ingress NetworkPolicy (podSelector: {}, no ingress rules)
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "networkpolicy-default-deny-missing",
    category: "networking",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Every namespace with workloads has a default-deny ingress NetworkPolicy (podSelector: {}, no ingress rules)",
    why: "Pods accept traffic from anywhere in the cluster until a NetworkPolicy selects them. A default-deny policy per namespace makes every allowed flow explicit, so a compromised pod cannot reach everything else.",
    fix: "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
    hint: "add a default-deny NetworkPolicy to the namespace, then allow the flows you need",
    equiv: [
        "pod-networkpolicy",
        "non-isolated-pod",
        "missingNetworkPolicy",
        "CKV2_K8S_6",
    ],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        for ns in ix.namespaces_with_workloads() {
            let denied = ix.kind("NetworkPolicy").any(|p| {
                p.ns() == ns
                    && p.root
                        .path(&["spec", "podSelector"])
                        .is_some_and(|s| s.entries().is_empty())
                    && p.root
                        .path(&["spec", "policyTypes"])
                        .is_some_and(|t| t.seq().iter().any(|x| x.as_str() == Some("Ingress")))
                    && p.root
                        .path(&["spec", "ingress"])
                        .is_none_or(|i| i.seq().is_empty())
            });
            if !denied && let Some(first) = ix.workloads_in(ns).next() {
                let n = ix.workloads_in(ns).count();
                cx.hit(first, None, "", format!("namespace {ns} has {n} workload{} but no default-deny ingress NetworkPolicy", if n == 1 { "" } else { "s" }));
            }
        }
    }
}
