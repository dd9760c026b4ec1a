//! Multi-replica Deployments and StatefulSets spread their pods (topologySpreadConstraints or podAntiAffinity)
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "spread-or-anti-affinity",
    category: "availability",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Multi-replica Deployments and StatefulSets spread their pods (topologySpreadConstraints or podAntiAffinity)",
    why: "Without spreading, the scheduler may put every replica on one node or zone, so a single node drain or failure takes the whole service down despite the replica count.",
    fix: "topologySpreadConstraints:\n  - maxSkew: 1\n    topologyKey: kubernetes.io/hostname\n    whenUnsatisfiable: ScheduleAnyway\n    labelSelector:\n      matchLabels: {app.kubernetes.io/name: web}\n",
    hint: "add topologySpreadConstraints over kubernetes.io/hostname (and topology.kubernetes.io/zone)",
    equiv: [
        "deployment-has-host-podantiaffinity",
        "no-anti-affinity",
        "topologySpreadConstraint",
        "",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        if !matches!(obj.kind.as_str(), "Deployment" | "StatefulSet") || pod::replicas(obj) < 2 {
            return;
        }
        let Some((spec, spec_path)) = pod::pod_spec(obj) else {
            return;
        };
        let spread = spec
            .get("topologySpreadConstraints")
            .is_some_and(|t| !t.seq().is_empty());
        let anti = spec.path(&["affinity", "podAntiAffinity"]).is_some();
        if !spread && !anti {
            cx.hit(obj, Some(spec), format!("{spec_path}.topologySpreadConstraints"), format!("{} replicas with neither topologySpreadConstraints nor podAntiAffinity: they may all land on one node", pod::replicas(obj)));
        }
    }
}
