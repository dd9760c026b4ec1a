//! Services: a ClusterIP Service per service with a port, and per external dependency an
//! ExternalName Service (a host name) or a selector-less Service with its EndpointSlice (an IP).

use crate::Object;
use crate::labels::{app_labels, meta, pod_selector_labels, service_meta};
use berth_spec::{App, ResolvedDependency, ResolvedService};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// An external dependency in the cluster's DNS: apps connect to `postgres:5432` and the
/// endpoint can move (or move in-cluster) without touching them. A host name becomes an
/// ExternalName Service; an IP, which cluster DNS never resolves as an ExternalName, a Service
/// without selector whose one EndpointSlice holds the address.
pub(crate) fn external_objects(app: &App, dep: &ResolvedDependency) -> Vec<Object> {
    let mut labels = app_labels(app, "dependency");
    labels.insert("app.kubernetes.io/name".into(), dep.name.clone());
    let port_name = dep.kind.as_str().to_owned();
    let port = ServicePort {
        name: Some(port_name.clone()),
        port: dep.port.into(),
        protocol: Some("TCP".into()),
        ..Default::default()
    };
    let Some(ip) = dep.host_ip() else {
        return vec![Object::from_typed(&Service {
            metadata: meta(app, &dep.name, labels),
            spec: Some(ServiceSpec {
                type_: Some("ExternalName".into()),
                external_name: Some(dep.host.clone()),
                ports: Some(vec![port]),
                ..Default::default()
            }),
            ..Default::default()
        })];
    };
    let service = Service {
        metadata: meta(app, &dep.name, labels.clone()),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            ports: Some(vec![ServicePort {
                target_port: Some(IntOrString::Int(dep.port.into())),
                ..port
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    // The EndpointSlice controller leaves slices of a selector-less Service alone; the
    // service-name label ties this one to it, and its port is found by the Service's port name.
    labels.insert("kubernetes.io/service-name".into(), dep.name.clone());
    labels.insert(
        "endpointslice.kubernetes.io/managed-by".into(),
        "berth".into(),
    );
    let slice = EndpointSlice {
        metadata: meta(app, &dep.name, labels),
        address_type: if ip.is_ipv4() { "IPv4" } else { "IPv6" }.into(),
        endpoints: vec![Endpoint {
            addresses: vec![ip.to_string()],
            ..Default::default()
        }],
        ports: Some(vec![EndpointPort {
            name: Some(port_name),
            port: Some(dep.port.into()),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
    };
    vec![Object::from_typed(&service), Object::from_typed(&slice)]
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
