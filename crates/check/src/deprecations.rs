//! Deprecated and removed apiVersions, from the Kubernetes deprecated API migration guide.

/// (apiVersion, kinds ("*" = all), deprecated in, removed in (None = not yet), replacement)
type Entry = (
    &'static str,
    &'static [&'static str],
    (u32, u32),
    Option<(u32, u32)>,
    &'static str,
);

const TABLE: &[Entry] = &[
    (
        "extensions/v1beta1",
        &["Deployment", "DaemonSet", "ReplicaSet"],
        (1, 9),
        Some((1, 16)),
        "apps/v1",
    ),
    (
        "extensions/v1beta1",
        &["NetworkPolicy"],
        (1, 9),
        Some((1, 16)),
        "networking.k8s.io/v1",
    ),
    (
        "extensions/v1beta1",
        &["PodSecurityPolicy"],
        (1, 11),
        Some((1, 16)),
        "policy/v1beta1 (itself removed in 1.25: use Pod Security Admission)",
    ),
    (
        "extensions/v1beta1",
        &["Ingress"],
        (1, 14),
        Some((1, 22)),
        "networking.k8s.io/v1",
    ),
    ("apps/v1beta1", &["*"], (1, 9), Some((1, 16)), "apps/v1"),
    ("apps/v1beta2", &["*"], (1, 9), Some((1, 16)), "apps/v1"),
    (
        "networking.k8s.io/v1beta1",
        &["Ingress", "IngressClass"],
        (1, 19),
        Some((1, 22)),
        "networking.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        &["*"],
        (1, 17),
        Some((1, 22)),
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io/v1alpha1",
        &["*"],
        (1, 17),
        Some((1, 22)),
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "apiextensions.k8s.io/v1beta1",
        &["*"],
        (1, 16),
        Some((1, 22)),
        "apiextensions.k8s.io/v1",
    ),
    (
        "apiregistration.k8s.io/v1beta1",
        &["*"],
        (1, 19),
        Some((1, 22)),
        "apiregistration.k8s.io/v1",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        &["*"],
        (1, 16),
        Some((1, 22)),
        "admissionregistration.k8s.io/v1",
    ),
    (
        "authentication.k8s.io/v1beta1",
        &["*"],
        (1, 19),
        Some((1, 22)),
        "authentication.k8s.io/v1",
    ),
    (
        "authorization.k8s.io/v1beta1",
        &["*"],
        (1, 19),
        Some((1, 22)),
        "authorization.k8s.io/v1",
    ),
    (
        "certificates.k8s.io/v1beta1",
        &["*"],
        (1, 19),
        Some((1, 22)),
        "certificates.k8s.io/v1",
    ),
    (
        "coordination.k8s.io/v1beta1",
        &["*"],
        (1, 19),
        Some((1, 22)),
        "coordination.k8s.io/v1",
    ),
    (
        "scheduling.k8s.io/v1beta1",
        &["*"],
        (1, 14),
        Some((1, 22)),
        "scheduling.k8s.io/v1",
    ),
    (
        "scheduling.k8s.io/v1alpha1",
        &["*"],
        (1, 14),
        Some((1, 17)),
        "scheduling.k8s.io/v1",
    ),
    (
        "storage.k8s.io/v1beta1",
        &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"],
        (1, 19),
        Some((1, 22)),
        "storage.k8s.io/v1",
    ),
    (
        "storage.k8s.io/v1beta1",
        &["CSIStorageCapacity"],
        (1, 24),
        Some((1, 27)),
        "storage.k8s.io/v1",
    ),
    (
        "batch/v1beta1",
        &["CronJob"],
        (1, 21),
        Some((1, 25)),
        "batch/v1",
    ),
    (
        "policy/v1beta1",
        &["PodDisruptionBudget"],
        (1, 21),
        Some((1, 25)),
        "policy/v1",
    ),
    (
        "policy/v1beta1",
        &["PodSecurityPolicy"],
        (1, 21),
        Some((1, 25)),
        "Pod Security Admission (namespace labels pod-security.kubernetes.io/*)",
    ),
    (
        "autoscaling/v2beta1",
        &["HorizontalPodAutoscaler"],
        (1, 22),
        Some((1, 25)),
        "autoscaling/v2",
    ),
    (
        "autoscaling/v2beta2",
        &["HorizontalPodAutoscaler"],
        (1, 23),
        Some((1, 26)),
        "autoscaling/v2",
    ),
    (
        "discovery.k8s.io/v1beta1",
        &["EndpointSlice"],
        (1, 21),
        Some((1, 25)),
        "discovery.k8s.io/v1",
    ),
    (
        "events.k8s.io/v1beta1",
        &["Event"],
        (1, 19),
        Some((1, 25)),
        "events.k8s.io/v1",
    ),
    (
        "node.k8s.io/v1beta1",
        &["RuntimeClass"],
        (1, 20),
        Some((1, 25)),
        "node.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        &["*"],
        (1, 23),
        Some((1, 26)),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        &["*"],
        (1, 26),
        Some((1, 29)),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        &["*"],
        (1, 29),
        Some((1, 32)),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    (
        "v1",
        &["ComponentStatus"],
        (1, 19),
        None,
        "none (query the components' health endpoints)",
    ),
    (
        "v1",
        &["Endpoints"],
        (1, 33),
        None,
        "discovery.k8s.io/v1 EndpointSlice",
    ),
];

pub(crate) enum Status {
    Removed {
        removed_in: String,
        replacement: &'static str,
    },
    Deprecated {
        deprecated_in: String,
        replacement: &'static str,
    },
}

/// The status of `apiVersion`/`kind` in Kubernetes `version` ("1.33").
pub(crate) fn status(api_version: &str, kind: &str, version: &str) -> Option<Status> {
    let (maj, min) = version.split_once('.')?;
    let v = (maj.parse::<u32>().ok()?, min.parse::<u32>().ok()?);
    let (_, _, dep, rem, repl) = TABLE.iter().find(|(api, kinds, ..)| {
        *api == api_version && (kinds.contains(&"*") || kinds.contains(&kind))
    })?;
    let fmt = |(a, b): (u32, u32)| format!("{a}.{b}");
    match rem {
        Some(r) if v >= *r => Some(Status::Removed {
            removed_in: fmt(*r),
            replacement: repl,
        }),
        _ if v >= *dep => Some(Status::Deprecated {
            deprecated_in: fmt(*dep),
            replacement: repl,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert!(matches!(
            status("extensions/v1beta1", "Ingress", "1.30"),
            Some(Status::Removed { .. })
        ));
        assert!(matches!(
            status("v1", "Endpoints", "1.33"),
            Some(Status::Deprecated { .. })
        ));
        assert!(status("v1", "Endpoints", "1.32").is_none());
        assert!(status("apps/v1", "Deployment", "1.37").is_none());
    }
}
