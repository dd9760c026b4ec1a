//! Exposure beyond the ClusterIP Service: a LoadBalancer/NodePort Service `NAME-external` for the
//! exposed port, and the ingress-nginx annotations (plus the response-headers ConfigMap) of an
//! exposed Ingress. berth maps the spec's typed controls; users never write annotations.

use crate::labels::{meta, selector_labels, service_labels};
use berth_spec::{App, ExposeType, Exposure, ResolvedService};
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

const NGINX: &str = "nginx.ingress.kubernetes.io";

pub(crate) fn external_service_name(svc: &ResolvedService) -> String {
    format!("{}-external", svc.name)
}

pub(crate) fn headers_config_map_name(svc: &ResolvedService) -> String {
    format!("{}-headers", svc.name)
}

/// A LoadBalancer or NodePort Service carrying only the exposed port, beside the ClusterIP
/// Service the other services call (as Online Boutique's `frontend-external` does).
pub(crate) fn external_service(app: &App, svc: &ResolvedService) -> Option<Service> {
    let e = svc.expose.as_ref()?;
    if e.kind == ExposeType::Ingress {
        return None;
    }
    let mut m = meta(app, &external_service_name(svc), service_labels(app, svc));
    if !e.annotations.is_empty() {
        m.annotations = Some(e.annotations.clone());
    }
    Some(Service {
        metadata: m,
        spec: Some(ServiceSpec {
            type_: Some(e.kind.service_type().into()),
            selector: Some(selector_labels(app, &svc.name)),
            external_traffic_policy: e.external_traffic_policy.map(|p| p.as_k8s().into()),
            ports: Some(vec![ServicePort {
                name: Some(e.port.name.clone()),
                port: e.port.service_port.into(),
                target_port: Some(IntOrString::String(e.port.name.clone())),
                protocol: Some(e.port.protocol.transport().into()),
                app_protocol: e.port.protocol.app_protocol().map(str::to_owned),
                node_port: e.node_port.map(i32::from),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The ingress-nginx annotations for an exposed service's typed controls.
pub(crate) fn ingress_annotations(
    app: &App,
    svc: &ResolvedService,
    e: &Exposure,
) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        a.insert(format!("{NGINX}/{k}"), v);
    };
    if e.port.protocol == berth_spec::Protocol::Grpc {
        set("backend-protocol", "GRPC".into());
    }
    let c = &e.controls;
    if let Some(rps) = c.rps {
        set("limit-rps", rps.to_string());
    }
    if let Some(rpm) = c.rpm {
        set("limit-rpm", rpm.to_string());
    }
    if let Some(cors) = &c.cors {
        set("enable-cors", "true".into());
        set("cors-allow-origin", cors.origins.join(", "));
        if !cors.methods.is_empty() {
            set("cors-allow-methods", cors.methods.join(", "));
        }
        if !cors.headers.is_empty() {
            set("cors-allow-headers", cors.headers.join(", "));
        }
        set("cors-allow-credentials", cors.credentials.to_string());
        if let Some(age) = cors.max_age {
            set("cors-max-age", age.to_string());
        }
    }
    if !c.headers.is_empty() {
        set(
            "custom-headers",
            format!("{}/{}", app.namespace, headers_config_map_name(svc)),
        );
    }
    if let Some(size) = &c.body_size {
        set("proxy-body-size", size.clone());
    }
    for (key, v) in [
        ("proxy-connect-timeout", c.connect_timeout),
        ("proxy-read-timeout", c.read_timeout),
        ("proxy-send-timeout", c.send_timeout),
    ] {
        if let Some(v) = v {
            set(key, v.to_string());
        }
    }
    a
}

/// The response headers an exposed service asked for, read by ingress-nginx's `custom-headers`
/// (the controller must list them in `global-allowed-response-headers`; docs/spec.md).
pub(crate) fn headers_config_map(app: &App, svc: &ResolvedService) -> Option<ConfigMap> {
    let e = svc.expose.as_ref()?;
    if e.kind != ExposeType::Ingress || e.controls.headers.is_empty() {
        return None;
    }
    Some(ConfigMap {
        metadata: meta(app, &headers_config_map_name(svc), service_labels(app, svc)),
        data: Some(e.controls.headers.iter().cloned().collect()),
        ..Default::default()
    })
}
