//! A service's Deployment: rolling updates that never drop below the desired count, around the
//! pod from [`PodBuilder::for_service`].

use crate::config_map::ServiceConfig;
use crate::labels::{meta, selector, service_labels};
use crate::pod::PodBuilder;
use berth_spec::{App, ResolvedService};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub(crate) fn deployment(app: &App, svc: &ResolvedService, config: &ServiceConfig) -> Deployment {
    Deployment {
        metadata: meta(app, &svc.name, service_labels(app, svc)),
        spec: Some(DeploymentSpec {
            replicas: Some(svc.replicas as i32),
            revision_history_limit: Some(5),
            selector: selector(app, &svc.name),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_unavailable: Some(IntOrString::Int(0)),
                    max_surge: Some(IntOrString::String("25%".into())),
                }),
            }),
            template: PodBuilder::for_service(app, svc, config).build(),
            ..Default::default()
        }),
        ..Default::default()
    }
}
