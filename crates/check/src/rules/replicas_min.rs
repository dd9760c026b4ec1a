//! Deployments and StatefulSets run at least 2 replicas (or an HPA with minReplicas >= 2); warning with --prod
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "replicas-min",
    category: "availability",
    severity: Some(Severity::Info),
    prod_severity: Some(Severity::Warning),
    summary: "Deployments and StatefulSets run at least 2 replicas (or an HPA with minReplicas >= 2); warning with --prod",
    why: "One replica means every rollout, node drain, eviction or crash is an outage. With two or more (spread over nodes) the service survives the loss of one pod.",
    fix: "spec:\n  replicas: 2     # or an HPA with minReplicas: 2\n",
    hint: "run at least 2 replicas",
    equiv: [
        "deployment-replicas",
        "minimum-three-replicas",
        "deploymentMissingReplicas",
        "",
    ],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        for kind in ["Deployment", "StatefulSet"] {
            for o in ix.kind(kind) {
                let min = ix.min_replicas(o);
                if min < 2 {
                    let via = if ix.hpa_for(o).is_some() {
                        "its HPA minReplicas is"
                    } else {
                        "replicas is"
                    };
                    cx.hit(
                        o,
                        o.root.path(&["spec", "replicas"]),
                        "spec.replicas",
                        format!("runs a single replica ({via} {min}): any disruption is an outage"),
                    );
                }
            }
        }
    }
}
