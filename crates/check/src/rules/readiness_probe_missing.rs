//! Containers of long-running pods that a Service selects have a readiness probe.
//!
//! Readiness only decides whether a pod is an endpoint of the Services that select it, so
//! (as in kube-score) pod templates that no Service in the input selects — queue workers,
//! schedulers — are skipped. This is a cross-resource rule: it needs the Services.
use crate::index::Index;
use crate::model::{NodeExt, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};
use std::collections::HashSet;

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "readiness-probe-missing",
    category: "probes",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Containers of long-running workloads that a Service in the input selects have a readinessProbe (unselected workers are skipped)",
    why: "Without a readiness probe a pod receives traffic as soon as its process starts, before it can serve, and keeps receiving it while it is overloaded or shutting down; rolling updates then drop requests. Readiness only gates Service traffic, so, as in kube-score, pod templates that no Service in the input selects (queue workers, schedulers) are not checked; Jobs and CronJobs never are.",
    fix: "readinessProbe:\n  httpGet:\n    path: /healthz/ready\n    port: http\n  periodSeconds: 5\n",
    hint: "add a readinessProbe that checks the app can serve",
    equiv: [
        "pod-probes",
        "no-readiness-probe",
        "readinessProbeMissing",
        "CKV_K8S_9",
    ],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        // Services sharing a selector share one memoized selection: union each once.
        let mut seen: HashSet<*const usize> = HashSet::new();
        let mut selected: HashSet<usize> = HashSet::new();
        for s in ix.kind("Service") {
            if let Some(sel) = s.root.path(&["spec", "selector"]) {
                let ids = ix.service_selection(s.ns(), sel);
                if seen.insert(ids.as_ptr()) {
                    selected.extend(ids.iter().copied());
                }
            }
        }
        let mut selected: Vec<usize> = selected.into_iter().collect();
        selected.sort_unstable();
        for obj in selected.into_iter().map(|i| &ix.objs[i]) {
            if !pod::long_running(obj) {
                continue;
            }
            for c in pod::obj_containers(obj).into_iter().filter(|c| !c.init) {
                if c.node.get("readinessProbe").is_none() {
                    cx.hit(
                        obj,
                        Some(c.node),
                        &c.path,
                        format!(
                            "container `{}` has no readinessProbe and Services send traffic to it",
                            c.name
                        ),
                    );
                }
            }
        }
    }
}
