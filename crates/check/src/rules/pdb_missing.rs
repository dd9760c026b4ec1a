//! Every Deployment or StatefulSet with 2 or more replicas is covered by a PodDisruptionBudget
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};
use std::collections::HashSet;

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "pdb-missing",
    category: "availability",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Every Deployment or StatefulSet with 2 or more replicas is covered by a PodDisruptionBudget",
    why: "Without a PDB a node drain (cluster upgrade, autoscaler scale-down) may evict every replica at once. A PDB makes voluntary disruptions wait until enough replicas are ready elsewhere.",
    fix: "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels: {app.kubernetes.io/name: web}\n",
    hint: "add a PodDisruptionBudget (maxUnavailable: 1) selecting the pods",
    equiv: [
        "deployment-has-poddisruptionbudget, statefulset-has-poddisruptionbudget",
        "",
        "missingPodDisruptionBudget",
        "",
    ],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        // Each PDB marks the workloads its selector matches (label-indexed lookup within its
        // namespace), so every workload is then answered by a set lookup.
        let mut covered: HashSet<*const Obj> = HashSet::new();
        for p in ix.kind("PodDisruptionBudget") {
            if let Some(s) = p.root.path(&["spec", "selector"])
                && !s.entries().is_empty()
            {
                covered.extend(ix.select(p.ns(), s).into_iter().map(|o| o as *const Obj));
            }
        }
        for kind in ["Deployment", "StatefulSet"] {
            for o in ix.kind(kind) {
                let min = ix.min_replicas(o);
                if min < 2 || covered.contains(&(o as *const Obj)) {
                    continue;
                }
                cx.hit(
                    o,
                    None,
                    "",
                    format!("{} with {min} replicas has no PodDisruptionBudget", o.kind),
                );
            }
        }
    }
}
