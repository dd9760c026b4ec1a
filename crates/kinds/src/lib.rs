//! What berth knows about each Kubernetes kind, in one table: the order to install it in, its
//! Argo CD sync wave, the order to remove it in, where its pod template is, and when it is
//! ready. `berth render` sorts by it, the Kustomize and Helm outputs take their sync waves
//! from it, `berth check` finds pod templates with it, and a deploy engine can wait on it.
//!
//! Install order follows Helm's (namespaces and policies first, then identities and
//! configuration, then Services, then workloads, then what points at workloads), with two
//! deliberate differences: CustomResourceDefinitions come right after Namespaces (before
//! the custom resources berth renders, such as SealedSecrets), and HorizontalPodAutoscalers come
//! after every workload they can target (Helm puts them between Deployments and StatefulSets).
//! Kinds the table does not know (custom resources) install last, by kind.
//!
//! Uninstall is the reverse of install: what points at a workload goes first, then the
//! workloads, then their configuration and identities, the Namespace last (and unknown custom
//! resources before anything, while their CRDs still exist).
//!
//! | wave | kinds |
//! | ---: | --- |
//! | 0 | Namespace, CustomResourceDefinition |
//! | 1 | policies, quotas, RBAC, ServiceAccount, Secret, SealedSecret, ExternalSecret, ConfigMap, PersistentVolumeClaim, PodDisruptionBudget, IngressClass |
//! | 2 | Service, EndpointSlice |
//! | 3–19 | the data tier (carried by its objects): servers 3, role setup 4, migrations 5 + step |
//! | 20 | workloads (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, …) and kinds the table does not know |
//! | 21 | HorizontalPodAutoscaler, Certificate, Ingress |
//!
//! Objects that carry their own `argocd.argoproj.io/sync-wave` (the data tier) keep it.
//!
//! Argo CD applies lower waves first and waits for them to be healthy, so the namespace exists
//! before anything goes in it, configuration before the pods that read it, Services before the
//! workloads behind them.

/// The sync-wave annotation Argo CD reads.
pub const WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";

/// Wave of a kind the table does not know: with the workloads (a custom resource is most often
/// something an operator runs).
pub const UNKNOWN_WAVE: i32 = 20;

/// When an applied object of a kind has done what it was applied for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// As soon as the API server has stored it (ConfigMap, Secret, RBAC, policies, …).
    Exists,
    /// `status.phase: Active` (Namespace).
    Active,
    /// Condition `Established` is `True` (CustomResourceDefinition).
    Established,
    /// `status.phase: Bound` (PersistentVolumeClaim).
    Bound,
    /// The rollout finished: `status.observedGeneration` has caught up and every desired
    /// replica is updated and ready (Deployment, StatefulSet, DaemonSet, ReplicaSet).
    Rollout,
    /// Condition `Ready` is `True`, or the pod has `Succeeded` when it runs to completion (Pod).
    PodReady,
    /// Condition `Complete` is `True`; `Failed` means it never will be (Job).
    Complete,
    /// A `LoadBalancer` Service has an address in `status.loadBalancer.ingress`; any other
    /// Service is ready once it exists.
    Service,
    /// `status.loadBalancer.ingress` has an address (Ingress).
    Ingress,
    /// The named status condition is `True` (custom resources whose controller reports one).
    Condition(&'static str),
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub kind: &'static str,
    /// Argo CD sync wave.
    pub wave: i32,
    /// Path to the object's pod template (the object holding `metadata` and `spec` of the pod);
    /// empty for a Pod itself, None for kinds that run no pods.
    pub pod_template: Option<&'static [&'static str]>,
    /// Has `spec.replicas` and the scale subresource (an HPA can target it).
    pub scalable: bool,
    pub ready: Readiness,
}

const TEMPLATE: Option<&[&str]> = Some(&["spec", "template"]);

const fn row(kind: &'static str, wave: i32, ready: Readiness) -> Kind {
    Kind {
        kind,
        wave,
        pod_template: None,
        scalable: false,
        ready,
    }
}

const fn workload(
    kind: &'static str,
    pod_template: Option<&'static [&'static str]>,
    scalable: bool,
    ready: Readiness,
) -> Kind {
    Kind {
        kind,
        // After the data tier and its migrations (waves 3–19, carried by those objects).
        wave: 20,
        pod_template,
        scalable,
        ready,
    }
}

use Readiness::*;

/// Every kind berth knows, in install order.
pub const KINDS: &[Kind] = &[
    row("Namespace", 0, Active),
    row("CustomResourceDefinition", 0, Established),
    row("NetworkPolicy", 1, Exists),
    row("ResourceQuota", 1, Exists),
    row("LimitRange", 1, Exists),
    row("PodDisruptionBudget", 1, Exists),
    row("ServiceAccount", 1, Exists),
    row("Secret", 1, Exists),
    row("SealedSecret", 1, Condition("Synced")),
    row("ExternalSecret", 1, Condition("Ready")),
    row("ConfigMap", 1, Exists),
    // Dapr: each sidecar loads its components, configuration and subscriptions when it starts.
    row("Configuration", 1, Exists),
    row("Component", 1, Exists),
    row("Subscription", 1, Exists),
    row("PersistentVolumeClaim", 1, Bound),
    row("ClusterRole", 1, Exists),
    row("ClusterRoleBinding", 1, Exists),
    row("Role", 1, Exists),
    row("RoleBinding", 1, Exists),
    row("IngressClass", 1, Exists),
    row("Service", 2, Service),
    // A selector-less Service's endpoints (an external dependency at an IP).
    row("EndpointSlice", 2, Exists),
    workload("DaemonSet", TEMPLATE, false, Rollout),
    workload("Pod", Some(&[]), false, PodReady),
    workload("ReplicationController", TEMPLATE, true, Rollout),
    workload("ReplicaSet", TEMPLATE, true, Rollout),
    workload("Deployment", TEMPLATE, true, Rollout),
    workload("StatefulSet", TEMPLATE, true, Rollout),
    workload("Job", TEMPLATE, false, Complete),
    workload(
        "CronJob",
        Some(&["spec", "jobTemplate", "spec", "template"]),
        false,
        Exists,
    ),
    row("HorizontalPodAutoscaler", 21, Exists),
    row("Certificate", 21, Condition("Ready")),
    row("Ingress", 21, Ingress),
];

/// The row of `kind`, if the table knows it.
pub fn get(kind: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// Position in install order; kinds the table does not know come after every known one.
pub fn install_rank(kind: &str) -> usize {
    KINDS
        .iter()
        .position(|k| k.kind == kind)
        .unwrap_or(KINDS.len())
}

/// Position in uninstall order (the reverse of install): unknown kinds first.
pub fn uninstall_rank(kind: &str) -> usize {
    KINDS.len() - install_rank(kind)
}

/// The Argo CD sync wave of `kind`.
pub fn wave(kind: &str) -> i32 {
    get(kind).map_or(UNKNOWN_WAVE, |k| k.wave)
}

/// Path to the pod template of a `kind` object (see [`Kind::pod_template`]).
pub fn pod_template(kind: &str) -> Option<&'static [&'static str]> {
    get(kind)?.pod_template
}

/// The sort key of an object in install order: rank, then kind (for unknown kinds), then
/// namespace and name.
pub fn install_key<'a>(
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
) -> (usize, &'a str, Option<&'a str>, &'a str) {
    (install_rank(kind), kind, namespace, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn before(a: &str, b: &str) {
        assert!(install_rank(a) < install_rank(b), "{a} installs before {b}");
        assert!(wave(a) <= wave(b), "{a}'s wave is not after {b}'s");
        assert!(
            uninstall_rank(a) > uninstall_rank(b),
            "{a} is removed after {b}"
        );
    }

    fn workloads() -> impl Iterator<Item = &'static Kind> {
        KINDS.iter().filter(|k| k.pod_template.is_some())
    }

    #[test]
    fn every_kind_once() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(install_rank(k.kind), i, "{} is listed twice", k.kind);
        }
    }

    #[test]
    fn namespace_first_and_removed_last() {
        assert_eq!(install_rank("Namespace"), 0);
        assert_eq!(wave("Namespace"), 0);
        for k in &KINDS[1..] {
            before("Namespace", k.kind);
        }
        before("Namespace", "SomeCustomResource");
    }

    #[test]
    fn crds_before_custom_resources() {
        for cr in [
            "SealedSecret",
            "ExternalSecret",
            "Certificate",
            "SomeCustomResource",
        ] {
            before("CustomResourceDefinition", cr);
        }
    }

    #[test]
    fn configuration_identity_and_services_before_workloads() {
        for w in workloads() {
            for dep in [
                "Secret",
                "SealedSecret",
                "ExternalSecret",
                "ConfigMap",
                "ServiceAccount",
                "PersistentVolumeClaim",
                "NetworkPolicy",
                "PodDisruptionBudget",
                "Role",
                "RoleBinding",
                "Service",
            ] {
                before(dep, w.kind);
                assert!(wave(dep) < w.wave, "{dep} is a wave before {}", w.kind);
            }
        }
    }

    #[test]
    fn what_points_at_workloads_comes_after_all_of_them() {
        for w in workloads() {
            for after in ["HorizontalPodAutoscaler", "Ingress", "Certificate"] {
                before(w.kind, after);
                assert!(w.wave < wave(after), "{after} is a wave after {}", w.kind);
            }
        }
        assert!(KINDS.iter().filter(|k| k.scalable).all(|k| k.wave == 20));
        before("IngressClass", "Ingress");
        before("Service", "Ingress");
    }

    #[test]
    fn waves_never_decrease_in_install_order() {
        for pair in KINDS.windows(2) {
            assert!(
                pair[0].wave <= pair[1].wave,
                "{} (wave {}) installs before {} (wave {})",
                pair[0].kind,
                pair[0].wave,
                pair[1].kind,
                pair[1].wave
            );
        }
    }

    #[test]
    fn unknown_kinds_install_last_and_uninstall_first() {
        for k in KINDS {
            assert!(install_rank(k.kind) < install_rank("Widget"));
            assert!(uninstall_rank(k.kind) > uninstall_rank("Widget"));
        }
        assert_eq!(wave("Widget"), UNKNOWN_WAVE);
        assert_eq!(pod_template("Widget"), None);
    }

    #[test]
    fn pod_templates() {
        assert_eq!(pod_template("Pod"), Some(&[][..]));
        assert_eq!(pod_template("Deployment"), Some(&["spec", "template"][..]));
        assert_eq!(
            pod_template("CronJob"),
            Some(&["spec", "jobTemplate", "spec", "template"][..])
        );
        assert_eq!(pod_template("Service"), None);
        assert!(get("StatefulSet").unwrap().scalable);
        assert!(!get("DaemonSet").unwrap().scalable);
    }
}
