//! Every Deployment or StatefulSet with 2 or more replicas is covered by a PodDisruptionBudget
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::index::Index;
use crate::rules::{Cx, Meta, Rule};

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
    equiv: ["deployment-has-poddisruptionbudget, statefulset-has-poddisruptionbudget", "", "missingPodDisruptionBudget", ""],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {

        for kind in ["Deployment", "StatefulSet"] {
            for o in ix.kind(kind) {
                if ix.min_replicas(o) < 2 {
                    continue;
                }
                let labels = pod::template_labels(o);
                let covered = ix.kind("PodDisruptionBudget").any(|p| p.ns() == o.ns() && p.root.path(&["spec", "selector"]).is_some_and(|s| !s.entries().is_empty() && pod::label_selector_matches(s, labels)));
                if !covered {
                    cx.hit(o, None, "", format!("{} with {} replicas has no PodDisruptionBudget", o.kind, ix.min_replicas(o)));
                }
            }
        }
    }
}
