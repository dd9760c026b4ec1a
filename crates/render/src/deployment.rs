//! A service's Deployment: rolling updates that never drop below the desired count, around the
//! pod from [`PodBuilder::for_service`].

use crate::config_map::ServiceConfig;
use crate::labels::{selector, service_meta};
use crate::origin::{ObjectOrigins, Origin, docs};
use crate::pod::PodBuilder;
use berth_spec::{App, ResolvedService};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub(crate) fn deployment(
    app: &App,
    svc: &ResolvedService,
    config: &ServiceConfig,
    o: &mut ObjectOrigins,
) -> Deployment {
    let (template, pod) = PodBuilder::for_service(app, svc, config).build_traced();
    o.nest("/spec/template", pod)
        .set("/spec/replicas", crate::origin::replicas(app, svc))
        .set("/spec/revisionHistoryLimit", Origin::rule("5 old ReplicaSets kept for rollbacks", docs::RENDERS, vec![]))
        .set("/spec/selector", Origin::rule("selector labels `name` and `instance` (or `adopt.selector`)", docs::RENDERS, vec![crate::origin::spec_path(&["services", svc.name.as_str(), "adopt"])]))
        .set("/spec/strategy", Origin::rule("RollingUpdate with maxUnavailable 0 and maxSurge 25% (Recreate when the pod mounts a claim)", docs::RENDERS, vec![]));
    Deployment {
        metadata: service_meta(app, svc, &svc.name),
        spec: Some(DeploymentSpec {
            replicas: replicas(svc),
            revision_history_limit: Some(5),
            selector: selector(app, &svc.name),
            strategy: Some(strategy_for(&template)),
            template,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The replica count a service's workload declares: none under an autoscaler, which owns it
/// (a declared count would be reset on every apply or Argo CD self-heal, fighting the HPA;
/// the Argo CD Applications ignore `/spec/replicas` of these workloads).
pub(crate) fn replicas(svc: &ResolvedService) -> Option<i32> {
    svc.autoscale.is_none().then_some(svc.replicas as i32)
}

/// The rollout of a Deployment with this pod: rolling, never below the desired count (surge
/// 25%), unless the pod mounts a PersistentVolumeClaim. A surged pod would then run beside the
/// old one on the same data (or wait forever for a volume only one node can attach), so such a
/// Deployment is `Recreate`: the old pod stops before the new one starts. Every Deployment
/// berth writes takes its strategy from here; state that must survive a rollout belongs in a
/// StatefulSet (`storage:`).
pub fn strategy_for(template: &PodTemplateSpec) -> DeploymentStrategy {
    let mounts_claim = template
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .is_some_and(|v| v.iter().any(|v| v.persistent_volume_claim.is_some()));
    if mounts_claim {
        return DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        };
    }
    DeploymentStrategy {
        type_: Some("RollingUpdate".into()),
        rolling_update: Some(RollingUpdateDeployment {
            max_unavailable: Some(IntOrString::Int(0)),
            max_surge: Some(IntOrString::String("25%".into())),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PersistentVolumeClaimVolumeSource, Volume};

    #[test]
    fn a_pod_with_a_claim_is_never_surged() {
        let mut pod = PodBuilder::new("app", "app:1", 10001);
        let rolling = strategy_for(&pod.clone().build());
        assert_eq!(rolling.type_.as_deref(), Some("RollingUpdate"));
        pod.extra_volume(Volume {
            name: "data".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: "data".into(),
                read_only: None,
            }),
            ..Default::default()
        });
        let s = strategy_for(&pod.build());
        assert_eq!(s.type_.as_deref(), Some("Recreate"));
        assert!(s.rolling_update.is_none());
    }
}
