//! A service's Ingress when it is exposed through one: the app's ingress class, TLS from
//! cert-manager, the typed ingress-nginx controls as annotations (`exposure.rs`).

use crate::labels::service_meta;
use berth_spec::{App, ResolvedService};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

fn tls_secret_name(svc: &ResolvedService) -> String {
    format!("{}-tls", svc.name)
}

pub(crate) fn ingress(app: &App, svc: &ResolvedService) -> Option<Ingress> {
    let expose = svc
        .expose
        .as_ref()
        .filter(|e| e.kind == berth_spec::ExposeType::Ingress)?;
    let port = expose.port.service_port;
    let mut m = service_meta(app, svc, &svc.name);
    let mut annotations = crate::exposure::ingress_annotations(app, svc, expose);
    if expose.tls {
        annotations.insert(
            "cert-manager.io/cluster-issuer".into(),
            app.ingress.issuer.clone(),
        );
    }
    m.annotations = (!annotations.is_empty()).then_some(annotations);
    Some(Ingress {
        metadata: m,
        spec: Some(IngressSpec {
            ingress_class_name: Some(app.ingress.class.clone()),
            tls: expose.tls.then(|| {
                vec![IngressTLS {
                    hosts: Some(vec![expose.host.clone()]),
                    secret_name: Some(tls_secret_name(svc)),
                }]
            }),
            rules: Some(vec![IngressRule {
                host: Some(expose.host.clone()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some(expose.path.clone()),
                        path_type: "Prefix".into(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: svc.name.clone(),
                                port: Some(ServiceBackendPort {
                                    number: Some(port.into()),
                                    ..Default::default()
                                }),
                            }),
                            ..Default::default()
                        },
                    }],
                }),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    })
}
