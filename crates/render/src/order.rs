//! Apply order: the order Helm installs kinds in (namespaces and policies first, then identities
//! and configuration, then Services, then workloads, then what points at workloads), and within a
//! kind, by name. Kinds berth does not know go last, by kind.

use crate::Object;

pub const APPLY_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SealedSecret",
    "ExternalSecret",
    "ConfigMap",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Pod",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "Certificate",
    "IngressClass",
    "Ingress",
];

pub fn rank(kind: &str) -> usize {
    APPLY_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(APPLY_ORDER.len())
}

pub fn sort(objects: &mut [Object]) {
    objects.sort_by(|a, b| {
        (rank(&a.kind), &a.kind, &a.namespace, &a.name).cmp(&(
            rank(&b.kind),
            &b.kind,
            &b.namespace,
            &b.name,
        ))
    });
}
