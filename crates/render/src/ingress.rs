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

pub(crate) fn ingress(
    app: &App,
    svc: &ResolvedService,
    o: &mut crate::origin::ObjectOrigins,
) -> Option<Ingress> {
    use crate::origin::{Origin, docs, escape, spec_path};
    let expose = svc
        .expose
        .as_ref()
        .filter(|e| e.kind == berth_spec::ExposeType::Ingress)?;
    let e = |k: &str| spec_path(&["services", svc.name.as_str(), "expose", k]);
    o.set(
        "/spec/ingressClassName",
        Origin::spec_or_default(spec_path(&["ingress", "class"]), "nginx", docs::EXPOSURE),
    )
    .set("/spec/rules/0/host", Origin::spec(e("host")))
    .set(
        "/spec/tls",
        Origin::rule(
            "TLS from cert-manager (`expose.tls`, default true), certificate in Secret `NAME-tls`",
            docs::EXPOSURE,
            vec![e("tls")],
        ),
    )
    .set("/spec/tls/0/hosts/0", Origin::spec(e("host")))
    .set(
        "/spec/rules/0/http/paths/0/path",
        Origin::spec_or_default(e("path"), "/", docs::SERVICES),
    )
    .set(
        "/spec/rules/0/http/paths/0/pathType",
        Origin::rule("a prefix path", docs::SERVICES, vec![]),
    )
    .set(
        "/spec/rules/0/http/paths/0/backend",
        Origin::rule(
            "the service's exposed port",
            docs::EXPOSURE,
            vec![e("port")],
        ),
    )
    .set(
        "/metadata/annotations",
        Origin::rule(
            "ingress-nginx controls from `expose`",
            docs::EXPOSURE,
            vec![spec_path(&["services", svc.name.as_str(), "expose"])],
        ),
    )
    .set(
        format!(
            "/metadata/annotations/{}",
            escape("cert-manager.io/cluster-issuer")
        ),
        Origin::spec_or_default(
            spec_path(&["ingress", "issuer"]),
            "letsencrypt-prod",
            docs::EXPOSURE,
        ),
    );
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
