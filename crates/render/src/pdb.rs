//! PodDisruptionBudgets that can never block a node drain.

use crate::labels::{selector, service_meta};
use berth_spec::{App, ResolvedService};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// `maxUnavailable: 1` always lets one pod go, so a drain can proceed; with a single replica a
/// PDB could only block drains, so there is none.
pub(crate) fn pdb(
    app: &App,
    svc: &ResolvedService,
    o: &mut crate::origin::ObjectOrigins,
) -> Option<PodDisruptionBudget> {
    use crate::origin::{Origin, docs, spec_path};
    if svc.replicas < 2 {
        return None;
    }
    let s = |k: &str| spec_path(&["services", svc.name.as_str(), k]);
    o.set(
        "/spec/maxUnavailable",
        Origin::rule(
            format!(
                "maxUnavailable 1 (never blocks a drain), as the service runs {} replicas",
                svc.replicas
            ),
            docs::RENDERS,
            vec![
                spec_path(&["environments", &app.env, "replicas"]),
                s("scale"),
                s("replicas"),
            ],
        ),
    )
    .set(
        "/spec/unhealthyPodEvictionPolicy",
        Origin::rule(
            "AlwaysAllow: a broken rollout cannot wedge drains",
            docs::RENDERS,
            vec![],
        ),
    )
    .set(
        "/spec/selector",
        Origin::rule(
            "selector labels of the service's pods",
            docs::RENDERS,
            vec![],
        ),
    );
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
