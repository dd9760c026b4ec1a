//! NetworkPolicies. Traffic is denied by default; each service accepts only the services that
//! `use` it (and the ingress controller when exposed) and reaches only what it `uses`, plus DNS.

use crate::labels::{app_labels, meta_in, selector, service_meta};
use berth_spec::{App, ResolvedService};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

const DEFAULT_DENY: &str = "default-deny";
const ALLOW_DNS: &str = "allow-dns";

fn namespace_selector(name: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([(
            "kubernetes.io/metadata.name".into(),
            name.to_owned(),
        )])),
        ..Default::default()
    }
}

fn tcp(port: u16) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(port.into())),
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

/// NetworkPolicy ports are matched after the Service's translation: container ports, with
/// their transport protocol.
fn container_ports(svc: &ResolvedService) -> Vec<NetworkPolicyPort> {
    svc.ports
        .iter()
        .map(|p| NetworkPolicyPort {
            port: Some(IntOrString::Int(p.port.into())),
            protocol: Some(p.protocol.transport().into()),
            ..Default::default()
        })
        .collect()
}

/// Default-deny for everything in each of the app's namespaces, and DNS for everything.
pub(crate) fn namespace_policies(app: &App) -> Vec<NetworkPolicy> {
    app.namespaces
        .iter()
        .flat_map(|n| policies_in(app, &n.name))
        .collect()
}

fn policies_in(app: &App, namespace: &str) -> Vec<NetworkPolicy> {
    let all_pods = LabelSelector::default();
    let deny = NetworkPolicy {
        metadata: meta_in(namespace, DEFAULT_DENY, app_labels(app, "network-policy")),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(all_pods.clone()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ..Default::default()
        }),
    };
    let dns_port = |protocol: &str| NetworkPolicyPort {
        port: Some(IntOrString::Int(53)),
        protocol: Some(protocol.into()),
        ..Default::default()
    };
    let dns = NetworkPolicy {
        metadata: meta_in(namespace, ALLOW_DNS, app_labels(app, "network-policy")),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(all_pods),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    namespace_selector: Some(namespace_selector("kube-system")),
                    pod_selector: Some(LabelSelector {
                        match_labels: Some(BTreeMap::from([("k8s-app".into(), "kube-dns".into())])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ports: Some(vec![dns_port("UDP"), dns_port("TCP")]),
            }]),
            ..Default::default()
        }),
    };
    vec![deny, dns]
}

/// The pods of `other` as seen from `svc`'s policy: by their labels, and by their namespace's
/// name when it is another namespace.
fn peer(app: &App, svc: &ResolvedService, other: &ResolvedService) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        pod_selector: Some(selector(app, &other.name)),
        namespace_selector: (other.namespace != svc.namespace)
            .then(|| namespace_selector(&other.namespace)),
        ..Default::default()
    }
}

/// Ingress from the services that use this one (and the ingress controller when exposed);
/// egress to what this one uses.
pub(crate) fn service_policy(
    app: &App,
    svc: &ResolvedService,
    o: &mut crate::origin::ObjectOrigins,
) -> NetworkPolicy {
    use crate::origin::{Origin, docs, spec_path};
    let uses = |name: &str| spec_path(&["services", name, "uses"]);
    let rule = |what: String, from: Vec<Vec<String>>| Origin::rule(what, docs::RENDERS, from);
    o.set(
        "/spec/podSelector",
        rule("the service's pods".into(), vec![]),
    )
    .set(
        "/spec/policyTypes",
        rule("both directions are policed".into(), vec![]),
    );
    let mut ingress = Vec::new();
    if !svc.ports.is_empty() {
        let mut from: Vec<NetworkPolicyPeer> = app
            .services
            .iter()
            .filter(|other| other.uses_services.contains(&svc.name))
            .map(|other| peer(app, svc, other))
            .collect();
        // Replicas of a StatefulSet reach each other (replication, cluster membership).
        if svc.is_stateful() {
            from.push(peer(app, svc, svc));
        }
        if !from.is_empty() {
            let users: Vec<_> = app
                .services
                .iter()
                .filter(|u| u.uses_services.contains(&svc.name))
                .map(|u| uses(&u.name))
                .collect();
            o.set(format!("/spec/ingress/{}", ingress.len()), rule(format!("ingress from the services that use `{}` (and its own replicas when stateful)", svc.name), users));
            ingress.push(NetworkPolicyIngressRule {
                from: Some(from),
                ports: Some(container_ports(svc)),
            });
        }
        // The ingress controller reaches only the exposed port; a LoadBalancer or NodePort
        // admits traffic from anywhere on it (no `from`: client and node addresses are not
        // known in advance).
        if let Some(expose) = &svc.expose {
            let through_ingress = expose.kind == berth_spec::ExposeType::Ingress;
            o.set(format!("/spec/ingress/{}", ingress.len()), rule("ingress to the exposed port from the ingress controller (anywhere for a LoadBalancer/NodePort)".into(), vec![spec_path(&["services", svc.name.as_str(), "expose"]), spec_path(&["ingress", "namespace"])]));
            ingress.push(NetworkPolicyIngressRule {
                from: through_ingress.then(|| {
                    vec![NetworkPolicyPeer {
                        namespace_selector: Some(namespace_selector(&app.ingress.namespace)),
                        ..Default::default()
                    }]
                }),
                ports: Some(vec![NetworkPolicyPort {
                    port: Some(IntOrString::Int(expose.port.port.into())),
                    protocol: Some(expose.port.protocol.transport().into()),
                    ..Default::default()
                }]),
            });
        }
    }
    let mut egress = Vec::new();
    for used in &svc.uses_services {
        if let Some(other) = app
            .services
            .iter()
            .find(|s| &s.name == used)
            .filter(|s| !s.ports.is_empty())
        {
            o.set(
                format!("/spec/egress/{}", egress.len()),
                rule(
                    format!("egress to `{used}`, which it uses"),
                    vec![uses(&svc.name)],
                ),
            );
            egress.push(NetworkPolicyEgressRule {
                to: Some(vec![peer(app, svc, other)]),
                ports: Some(container_ports(other)),
            });
        }
    }
    if svc.is_stateful() && !svc.ports.is_empty() {
        o.set(
            format!("/spec/egress/{}", egress.len()),
            rule(
                "a StatefulSet's replicas reach each other".into(),
                vec![spec_path(&["services", svc.name.as_str(), "storage"])],
            ),
        );
        egress.push(NetworkPolicyEgressRule {
            to: Some(vec![peer(app, svc, svc)]),
            ports: Some(container_ports(svc)),
        });
    }
    for used in &svc.uses_dependencies {
        if let Some(dep) = app.dependencies.iter().find(|d| &d.name == used) {
            // In-cluster: its pods (or its pooler); managed/external: its `cidr`, else its
            // port on any address (external endpoints have no pod labels).
            if let Ok(r) = serde_json::from_value(crate::data::egress_to(app, dep)) {
                o.set(format!("/spec/egress/{}", egress.len()), rule(format!("egress to dependency `{used}`, which it uses (its pods, its `cidr`, or its port)"), vec![uses(&svc.name), spec_path(&["dependencies", used.as_str()])]));
                egress.push(r);
            }
        }
    }
    if svc.sync.as_ref().is_some_and(|s| s.cloud.is_some()) {
        // The config-sync sidecar reads an object store over HTTPS.
        o.set(
            format!("/spec/egress/{}", egress.len()),
            rule(
                "HTTPS egress of the config-sync sidecar to its cloud source".into(),
                vec![spec_path(&[
                    "services",
                    svc.name.as_str(),
                    "config",
                    "source",
                ])],
            ),
        );
        egress.push(NetworkPolicyEgressRule {
            to: Some(vec![NetworkPolicyPeer {
                ip_block: Some(IPBlock {
                    cidr: "0.0.0.0/0".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ports: Some(vec![tcp(443)]),
        });
    }
    if svc.dapr.is_some() {
        let (i, e) = crate::dapr::policy_rules(&crate::dapr::sidecar_selector(app));
        let dapr = rule(
            "the Dapr sidecar: its control plane in dapr-system and the other sidecars".into(),
            vec![spec_path(&["services", svc.name.as_str(), "dapr"])],
        );
        for n in ingress.len()..ingress.len() + i.len() {
            o.set(format!("/spec/ingress/{n}"), dapr.clone());
        }
        for n in egress.len()..egress.len() + e.len() {
            o.set(format!("/spec/egress/{n}"), dapr.clone());
        }
        ingress.extend(
            i.into_iter()
                .map(|r| serde_json::from_value(r).expect("ingress rule")),
        );
        egress.extend(
            e.into_iter()
                .map(|r| serde_json::from_value(r).expect("egress rule")),
        );
    }
    NetworkPolicy {
        metadata: service_meta(app, svc, &svc.name),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(app, &svc.name)),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        }),
    }
}
