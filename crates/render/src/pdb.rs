//! PodDisruptionBudgets that can never block a node drain.

use crate::labels::{selector, service_meta};
use berth_spec::{App, ResolvedService};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// `maxUnavailable: 1` always lets one pod go, so a drain can proceed; with a single replica a
/// PDB could only block drains, so there is none.
pub(crate) fn pdb(app: &App, svc: &ResolvedService) -> Option<PodDisruptionBudget> {
    if svc.replicas < 2 {
        return None;
    }
    Some(PodDisruptionBudget {
        metadata: service_meta(app, svc, &svc.name),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(selector(app, &svc.name)),
            // Pods that never became ready may be evicted, so a broken rollout cannot wedge drains.
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
            ..Default::default()
        }),
        ..Default::default()
    })
}
