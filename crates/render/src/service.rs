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
pub(crate) fn service(
    app: &App,
    svc: &ResolvedService,
    o: &mut crate::origin::ObjectOrigins,
) -> Option<Service> {
    use crate::origin::{Origin, docs, escape, spec_path};
    if svc.ports.is_empty() {
        return None;
    }
    let mut m = service_meta(app, svc, &svc.name);
    if !svc.meta.service_annotations.is_empty() {
        m.annotations = Some(svc.meta.service_annotations.clone());
    }
    let s = |rest: &[&str]| {
        let mut p = spec_path(&["services", svc.name.as_str()]);
        p.extend(rest.iter().map(|r| (*r).to_owned()));
        p
    };
    for k in svc.meta.service_annotations.keys() {
        o.set(
            format!("/metadata/annotations/{}", escape(k)),
            Origin::spec(s(&["annotations", "service", k])),
        );
    }
    o.set(
        "/spec/type",
        Origin::rule(
            "ClusterIP: in-cluster callers (an exposed port gets its own NAME-external Service)",
            docs::RENDERS,
            vec![],
        ),
    );
    o.set(
        "/spec/selector",
        Origin::rule(
            "selector labels of the service's pods",
            docs::RENDERS,
            vec![],
        ),
    );
    for (i, p) in svc.ports.iter().enumerate() {
        let at = format!("/spec/ports/{i}");
        o.set(
            &at,
            Origin::rule(
                "a declared port: Service port → container port by name, appProtocol by protocol",
                docs::PORTS,
                vec![s(&["ports"]), s(&["port"])],
            ),
        )
        .set(
            format!("{at}/port"),
            Origin::Spec {
                paths: vec![
                    s(&["ports", &p.name, "service-port"]),
                    s(&["ports", &p.name, "port"]),
                    s(&["ports", &p.name]),
                    s(&["port"]),
                ],
                otherwise: None,
            },
        )
        .set(
            format!("{at}/name"),
            Origin::Spec {
                paths: vec![s(&["ports", &p.name])],
                otherwise: Some(Box::new(Origin::rule(
                    "`port: N` is one port named `http` (or after a known server image)",
                    docs::SERVICES,
                    vec![s(&["port"])],
                ))),
            },
        );
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
