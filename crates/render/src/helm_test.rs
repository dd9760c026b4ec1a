//! The `helm test` hooks of an app: per service with an HTTP readiness check, a curl Pod (built
//! by the same [`PodBuilder`] as every workload, so it has the same hardening) that calls the
//! readiness path through the service's Service, and the two NetworkPolicies that let that call
//! through berth's default-deny. The Helm chart templates them (`templates/tests/`); plain
//! renders never contain them.

use crate::Object;
use crate::labels::{MANAGED_BY, selector};
use crate::pod::{PodBuilder, RestartPolicy};
use berth_spec::{App, DEFAULT_USER, ProbeAction, ResolvedService};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// Name of the test Pod's container (the JSON path `spec.containers[0]`).
pub const TEST_CONTAINER: &str = "ready";

/// One service's test hook.
#[derive(Debug, Clone, PartialEq)]
pub struct TestHook {
    pub service: String,
    /// The Service port the Pod calls.
    pub port: u16,
    /// The readiness path it calls.
    pub path: String,
    /// The egress and ingress NetworkPolicies (hook weight -1), then the Pod (weight 0).
    pub objects: Vec<Object>,
}

/// The test hooks of every service that has an HTTP readiness check, with the Pod running
/// `image` (a curl image).
pub fn helm_tests(app: &App, image: &str) -> Vec<TestHook> {
    app.services
        .iter()
        .filter_map(|svc| test_hook(app, svc, image))
        .collect()
}

fn test_hook(app: &App, svc: &ResolvedService, image: &str) -> Option<TestHook> {
    let ProbeAction::Http { path, port, .. } = &svc.ready.as_ref()?.action else {
        return None;
    };
    // The hook calls the Service, on the Service port of the probe's port.
    let port = svc.ports.iter().find(|p| &p.name == port)?.service_port;
    let test = format!("{}-test", svc.name);
    let meta = |name: String, weight: &str| ObjectMeta {
        name: Some(name),
        namespace: Some(svc.namespace.clone()),
        labels: Some(labels(app, &test)),
        annotations: Some(BTreeMap::from([
            ("helm.sh/hook".to_owned(), "test".to_owned()),
            ("helm.sh/hook-weight".to_owned(), weight.to_owned()),
            (
                "helm.sh/hook-delete-policy".to_owned(),
                "before-hook-creation,hook-succeeded".to_owned(),
            ),
        ])),
        ..Default::default()
    };
    let peer = |name: &str| NetworkPolicyPeer {
        pod_selector: Some(selector(app, name)),
        ..Default::default()
    };
    let ports = Some(vec![NetworkPolicyPort {
        port: Some(IntOrString::Int(port.into())),
        protocol: Some("TCP".into()),
        ..Default::default()
    }]);
    let egress = NetworkPolicy {
        metadata: meta(format!("{test}-egress"), "-1"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(app, &test)),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![peer(&svc.name)]),
                ports: ports.clone(),
            }]),
            ..Default::default()
        }),
    };
    let ingress = NetworkPolicy {
        metadata: meta(format!("{test}-ingress"), "-1"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(app, &svc.name)),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![peer(&test)]),
                ports,
            }]),
            ..Default::default()
        }),
    };
    let mut pod = PodBuilder::new(TEST_CONTAINER, image, DEFAULT_USER);
    pod.restart_policy(RestartPolicy::Never)
        .resources(("10m", "100m"), ("16Mi", "64Mi"))
        .args(
            [
                "--fail",
                "--silent",
                "--show-error",
                "--max-time",
                "5",
                "--retry",
                "10",
                "--retry-delay",
                "3",
                "--retry-all-errors",
            ]
            .into_iter()
            .map(str::to_owned)
            .chain([format!("http://{}:{port}{path}", svc.name)])
            .collect(),
        );
    let pod = pod.build_pod(meta(test.clone(), "0"));
    Some(TestHook {
        service: svc.name.clone(),
        port,
        path: path.clone(),
        objects: vec![
            Object::from_typed(&egress),
            Object::from_typed(&ingress),
            Object::from_typed(&pod),
        ],
    })
}

fn labels(app: &App, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/component".into(), "test".into()),
        ("app.kubernetes.io/instance".into(), app.name.clone()),
        ("app.kubernetes.io/managed-by".into(), MANAGED_BY.into()),
        ("app.kubernetes.io/name".into(), name.to_owned()),
        ("app.kubernetes.io/part-of".into(), app.name.clone()),
    ])
}
