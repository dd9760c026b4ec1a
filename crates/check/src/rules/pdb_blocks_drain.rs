//! A PodDisruptionBudget can allow at least one eviction: not maxUnavailable 0, not minAvailable 100% or >= the replicas (HPA minReplicas) of what it selects
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "pdb-blocks-drain",
    category: "availability",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "A PodDisruptionBudget can allow at least one eviction: not maxUnavailable 0, not minAvailable 100% or >= the replicas (HPA minReplicas) of what it selects",
    why: "A PDB that never allows an eviction blocks every node drain: cluster upgrades and autoscaler scale-downs hang until someone deletes the PDB by hand.",
    fix: "spec:\n  maxUnavailable: 1       # always allows one eviction\n  selector:\n    matchLabels: {app.kubernetes.io/name: web}\n",
    hint: "use maxUnavailable: 1, or a minAvailable below the replica count",
    equiv: [
        "poddisruptionbudget-has-policy",
        "pdb-min-available, pdb-max-unavailable",
        "pdbDisruptionsIsZero, pdbMinAvailableGreaterThanHPAMinReplicas",
        "",
    ],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        for p in ix.kind("PodDisruptionBudget") {
            let spec = p.root.get("spec");
            if let Some(mu) = p.root.path(&["spec", "maxUnavailable"])
                && (mu.as_i64() == Some(0)
                    || mu
                        .as_str()
                        .is_some_and(|s| s.trim_end_matches('%').trim() == "0"))
            {
                cx.hit(
                    p,
                    Some(mu),
                    "spec.maxUnavailable",
                    "maxUnavailable is 0: no pod can ever be evicted, node drains will hang",
                );
                continue;
            }
            let Some(ma) = p.root.path(&["spec", "minAvailable"]) else {
                if spec.is_some_and(|s| s.get("maxUnavailable").is_none()) {
                    cx.hit(
                        p,
                        spec,
                        "spec",
                        "sets neither minAvailable nor maxUnavailable",
                    );
                }
                continue;
            };
            if ma.as_str() == Some("100%") {
                cx.hit(
                    p,
                    Some(ma),
                    "spec.minAvailable",
                    "minAvailable is 100%: no pod can ever be evicted, node drains will hang",
                );
                continue;
            }
            let Some(sel) = p.root.path(&["spec", "selector"]) else {
                continue;
            };
            for w in ix.select(p.ns(), sel) {
                if !pod::replicated(w) {
                    continue;
                }
                let replicas = ix.min_replicas(w);
                if let Some(min) = pod::int_or_percent(ma, replicas, true)
                    && min >= replicas
                {
                    let what = if ix.hpa_for(w).is_some() {
                        "its HPA minReplicas"
                    } else {
                        "its replicas"
                    };
                    cx.hit(p, Some(ma), "spec.minAvailable", format!("minAvailable {} >= {what} ({replicas}) of {} {}: at that scale no pod can be evicted, node drains will hang", ma.scalar_text().unwrap_or_default(), w.kind, w.name));
                    break;
                }
            }
        }
    }
}
