//! StatefulSets: a workload with persistent volumes, one claim per replica from its volume claim
//! templates, and the headless Service that gives every pod a stable DNS name.
//!
//! The building blocks are public so every stateful workload is made the same way (a berth
//! service with `storage`, an in-cluster database of the data tier):
//!
//! - [`stateful_set`] wraps a pod template from [`crate::pod::PodBuilder`] (mount each volume
//!   with [`PodBuilder::claim`](crate::pod::PodBuilder::claim)) with the claim templates,
//!   pod management, claim retention and the governing Service's name;
//! - [`volume_claim_template`] is one claim template (labels that never change: the claim
//!   templates of a StatefulSet are immutable);
//! - [`headless_service`] is the governing Service, named [`headless_name`].
//!
//! A StatefulSet replaces a pod only once the old one is gone, so two pods never run on the
//! same volume during a rollout, not even with one replica.

use crate::config_map::ServiceConfig;
use crate::labels::{meta_in, pod_selector_labels, selector, selector_labels, service_meta};
use crate::pod::PodBuilder;
use berth_spec::{App, ResolvedService, ResolvedVolume, StatefulSettings};
use k8s_openapi::api::apps::v1::{
    StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PodTemplateSpec, Service, ServicePort,
    ServiceSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

/// The headless Service governing StatefulSet `name`: pods are `NAME-0.NAME-headless`.
pub fn headless_name(name: &str) -> String {
    format!("{name}-headless")
}

/// One volume claim template. `labels` should be labels that never change (selector labels):
/// a StatefulSet's claim templates cannot be updated.
pub fn volume_claim_template(
    volume: &ResolvedVolume,
    labels: BTreeMap<String, String>,
) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(volume.name.clone()),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![volume.access.as_k8s().into()]),
            storage_class_name: volume.class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".into(),
                    Quantity(volume.size.text.clone()),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Everything a StatefulSet is made of.
pub struct StatefulParts {
    /// Name, namespace and labels of the StatefulSet.
    pub metadata: ObjectMeta,
    /// Selects the pods (immutable once created).
    pub selector: LabelSelector,
    /// Labels of the claims (stable ones: the claim templates are immutable).
    pub claim_labels: BTreeMap<String, String>,
    /// None where an autoscaler owns the count.
    pub replicas: Option<i32>,
    /// The pod, with each volume mounted by [`PodBuilder::claim`](crate::pod::PodBuilder::claim).
    pub template: PodTemplateSpec,
    pub volumes: Vec<ResolvedVolume>,
    pub settings: StatefulSettings,
    /// The governing (headless) Service, usually [`headless_name`] of the StatefulSet.
    pub service_name: String,
}

/// A StatefulSet from its parts: rolling updates (a pod is replaced after the old one stops),
/// the pod management policy, and what happens to the claims when it is deleted or scaled down.
pub fn stateful_set(parts: StatefulParts) -> StatefulSet {
    let retain = parts.settings.retain.as_k8s();
    StatefulSet {
        metadata: parts.metadata,
        spec: Some(StatefulSetSpec {
            replicas: parts.replicas,
            revision_history_limit: Some(5),
            selector: parts.selector,
            service_name: Some(parts.service_name),
            pod_management_policy: Some(parts.settings.pod_management.as_k8s().into()),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                ..Default::default()
            }),
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some(retain.into()),
                    when_scaled: Some(retain.into()),
                },
            ),
            template: parts.template,
            volume_claim_templates: Some(
                parts
                    .volumes
                    .iter()
                    .map(|v| volume_claim_template(v, parts.claim_labels.clone()))
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The headless Service governing a StatefulSet: `clusterIP: None` and every pod's address
/// published before it is ready, so members of a cluster find each other while they start.
/// Clients use the normal Service, which sends only to ready pods.
pub fn headless_service(
    metadata: ObjectMeta,
    selector: BTreeMap<String, String>,
    ports: Vec<ServicePort>,
) -> Service {
    Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            selector: Some(selector),
            ports: (!ports.is_empty()).then_some(ports),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The StatefulSet of a berth service with `storage`.
pub(crate) fn service_stateful_set(
    app: &App,
    svc: &ResolvedService,
    config: &ServiceConfig,
    o: &mut crate::origin::ObjectOrigins,
) -> StatefulSet {
    use crate::origin::{Origin, docs, spec_path};
    let (template, pod) = PodBuilder::for_service(app, svc, config).build_traced();
    o.nest("/spec/template", pod)
        .set("/spec/replicas", crate::origin::replicas(app, svc))
        .set(
            "/spec/serviceName",
            Origin::rule(
                "the headless Service `NAME-headless`",
                docs::STORAGE,
                vec![],
            ),
        )
        .set(
            "/spec/revisionHistoryLimit",
            Origin::rule("5 old revisions kept for rollbacks", docs::RENDERS, vec![]),
        )
        .set(
            "/spec/updateStrategy",
            Origin::rule("RollingUpdate, one pod at a time", docs::STORAGE, vec![]),
        )
        .set(
            "/spec/podManagementPolicy",
            Origin::spec_or_default(
                spec_path(&["services", svc.name.as_str(), "stateful", "pod-management"]),
                "ordered-ready",
                docs::SERVICES,
            ),
        )
        .set(
            "/spec/persistentVolumeClaimRetentionPolicy",
            Origin::spec_or_default(
                spec_path(&["services", svc.name.as_str(), "stateful", "retain"]),
                "retain",
                docs::SERVICES,
            ),
        )
        .set(
            "/spec/volumeClaimTemplates",
            Origin::rule(
                "a volume claim template per `storage` entry",
                docs::STORAGE,
                vec![spec_path(&["services", svc.name.as_str(), "storage"])],
            ),
        )
        .set(
            "/spec/selector",
            Origin::rule(
                "selector labels `name` and `instance` (or `adopt.selector`)",
                docs::RENDERS,
                vec![],
            ),
        );
    stateful_set(StatefulParts {
        metadata: service_meta(app, svc, &svc.name),
        selector: selector(app, &svc.name),
        claim_labels: selector_labels(app, &svc.name),
        replicas: crate::deployment::replicas(svc),
        template,
        volumes: svc.storage.clone(),
        settings: svc.stateful.unwrap_or_default(),
        service_name: headless_name(&svc.name),
    })
}

/// The headless Service of a berth service with `storage`, on the ports of its Service (the
/// node ports and load-balancer settings of an exposed Service do not apply to it).
pub(crate) fn service_headless(
    app: &App,
    svc: &ResolvedService,
    service: Option<&Service>,
) -> Service {
    let ports = service
        .and_then(|s| s.spec.as_ref())
        .and_then(|s| s.ports.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|p| ServicePort {
            node_port: None,
            ..p
        })
        .collect();
    let mut m = meta_in(
        &svc.namespace,
        &headless_name(&svc.name),
        Default::default(),
    );
    m.labels = service_meta(app, svc, &svc.name).labels;
    headless_service(m, pod_selector_labels(app, &svc.name), ports)
}
