//! When an HPA scales on CPU or memory utilisation, every container of its target requests that resource
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "hpa-metric-without-request",
    category: "availability",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "When an HPA scales on CPU or memory utilisation, every container of its target requests that resource",
    why: "Utilisation is usage divided by request. If a container has no request for the resource, the HPA cannot compute it and does not scale at all (FailedGetResourceMetric).",
    fix: "containers:\n  - name: web\n    resources:\n      requests: {cpu: 200m}   # what the HPA utilisation target is relative to\n",
    hint: "set resources.requests for the metric resource on every container",
    equiv: ["", "", "", ""],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        for h in ix.kind("HorizontalPodAutoscaler") {
            let Some(r) = h.root.path(&["spec", "scaleTargetRef"]) else {
                continue;
            };
            let Some(t) = ix.find(
                r.str_at(&["kind"]).unwrap_or(""),
                h.ns(),
                r.str_at(&["name"]).unwrap_or(""),
            ) else {
                continue;
            };
            let mut resources: Vec<(String, String)> = Vec::new();
            if h.root
                .path(&["spec", "targetCPUUtilizationPercentage"])
                .is_some()
            {
                resources.push(("cpu".into(), "spec.targetCPUUtilizationPercentage".into()));
            }
            for (i, m) in h
                .root
                .path(&["spec", "metrics"])
                .map(|m| m.seq())
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                if m.str_at(&["type"]) == Some("Resource")
                    && let Some(name) = m.str_at(&["resource", "name"])
                {
                    let util = m
                        .path(&["resource", "target", "type"])
                        .and_then(|t| t.as_str())
                        == Some("Utilization")
                        || m.path(&["resource", "targetAverageUtilization"]).is_some();
                    if util {
                        resources.push((name.to_string(), format!("spec.metrics[{i}]")));
                    }
                }
            }
            for (res, path) in resources {
                for c in pod::obj_containers(t).into_iter().filter(|c| !c.init) {
                    if c.node.path(&["resources", "requests", &res]).is_none() {
                        cx.hit(h, h.root.get("spec"), path.clone(), format!("scales on {res} utilisation but container `{}` of {} {} has no {res} request", c.name, t.kind, t.name));
                    }
                }
            }
        }
    }
}
