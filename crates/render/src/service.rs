//! Services: a ClusterIP Service per service with a port, and an ExternalName Service per
//! external dependency.

use crate::labels::{app_labels, meta, pod_selector_labels, service_meta};
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

/// Each port forwards its Service port to the container port by name, with the protocol's
/// `appProtocol`.
pub(crate) fn service(app: &App, svc: &ResolvedService) -> Option<Service> {
    if svc.ports.is_empty() {
        return None;
    }
    let mut m = service_meta(app, svc, &svc.name);
    if !svc.meta.service_annotations.is_empty() {
        m.annotations = Some(svc.meta.service_annotations.clone());
    }
    Some(Service {
        metadata: m,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(pod_selector_labels(app, &svc.name)),
            ports: Some(
                svc.ports
                    .iter()
                    .map(|p| ServicePort {
                        name: Some(p.name.clone()),
                        port: p.service_port.into(),
                        target_port: Some(IntOrString::String(p.name.clone())),
                        protocol: Some(p.protocol.transport().into()),
                        app_protocol: p.protocol.app_protocol().map(str::to_owned),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    })
}
