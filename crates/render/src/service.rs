//! Services: a ClusterIP Service per service with a port, and an ExternalName Service per
//! external dependency.

use crate::labels::{app_labels, meta, selector_labels, service_labels};
use crate::pod::PORT_NAME;
use berth_spec::{App, ResolvedDependency, ResolvedService};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// An external dependency as an ExternalName Service: apps connect to `postgres:5432` and the
/// endpoint can move (or move in-cluster) without touching them.
pub(crate) fn external_service(app: &App, dep: &ResolvedDependency) -> Service {
    let mut labels = app_labels(app, "dependency");
    labels.insert("app.kubernetes.io/name".into(), dep.name.clone());
    Service {
        metadata: meta(app, &dep.name, labels),
        spec: Some(ServiceSpec {
            type_: Some("ExternalName".into()),
            external_name: Some(dep.host.clone()),
            ports: Some(vec![ServicePort {
                name: Some(dep.kind.as_str().into()),
                port: dep.port.into(),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn service(app: &App, svc: &ResolvedService) -> Option<Service> {
    let port = svc.port?;
    Some(Service {
        metadata: meta(app, &svc.name, service_labels(app, svc)),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector_labels(app, &svc.name)),
            ports: Some(vec![ServicePort {
                name: Some(PORT_NAME.into()),
                port: port.into(),
                target_port: Some(IntOrString::String(PORT_NAME.into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    })
}
