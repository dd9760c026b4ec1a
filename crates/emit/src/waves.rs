//! The Argo CD sync-wave plan (`argocd.argoproj.io/sync-wave`): Argo CD applies lower waves
//! first and waits for them to be healthy, so the namespace exists before anything goes in it,
//! identities, policies and configuration exist before the pods that read them, Services before
//! the workloads behind them, and what points at a workload (autoscaler, ingress) comes last.
//!
//! | wave | kinds |
//! | ---: | --- |
//! | 0 | Namespace |
//! | 1 | NetworkPolicy, ResourceQuota, LimitRange, ServiceAccount, RBAC, Secret, SealedSecret, ExternalSecret, ConfigMap, PersistentVolumeClaim, PodDisruptionBudget |
//! | 2 | Service |
//! | 3 | Deployment, StatefulSet, DaemonSet, Job, CronJob (and kinds berth does not know) |
//! | 4 | HorizontalPodAutoscaler, Certificate, Ingress |
//!
//! Plain `berth render` output carries no Argo CD annotation: the waves are added only where
//! Argo CD applies the objects (a Kustomize component, a Helm value), see docs/formats.md.

pub const ANNOTATION: &str = "argocd.argoproj.io/sync-wave";

pub fn wave(kind: &str) -> i32 {
    match kind {
        "Namespace" => 0,
        "NetworkPolicy"
        | "ResourceQuota"
        | "LimitRange"
        | "ServiceAccount"
        | "Role"
        | "RoleBinding"
        | "ClusterRole"
        | "ClusterRoleBinding"
        | "Secret"
        | "SealedSecret"
        | "ExternalSecret"
        | "ConfigMap"
        | "PersistentVolumeClaim"
        | "PodDisruptionBudget" => 1,
        "Service" => 2,
        "HorizontalPodAutoscaler" | "Certificate" | "Ingress" => 4,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_and_config_come_before_workloads() {
        assert!(wave("Namespace") < wave("ConfigMap"));
        assert!(wave("ConfigMap") < wave("Deployment"));
        assert!(wave("ServiceAccount") < wave("Deployment"));
        assert!(wave("Service") < wave("Deployment"));
        assert!(wave("Deployment") < wave("HorizontalPodAutoscaler"));
        assert!(wave("Deployment") < wave("Ingress"));
    }
}
