//! One ServiceAccount per service: no API token, and the cloud identity the config-sync
//! sidecar reads its source with.

use crate::labels::service_meta;
use berth_spec::sync::Cloud;
use berth_spec::{App, ResolvedService};
use k8s_openapi::api::core::v1::ServiceAccount;
use std::collections::BTreeMap;

pub(crate) fn service_account(
    app: &App,
    svc: &ResolvedService,
    o: &mut crate::origin::ObjectOrigins,
) -> ServiceAccount {
    use crate::origin::{Origin, docs, escape, spec_path};
    let s = |rest: &[&str]| {
        let mut p = spec_path(&["services", svc.name.as_str()]);
        p.extend(rest.iter().map(|r| (*r).to_owned()));
        p
    };
    o.set(
        "/automountServiceAccountToken",
        Origin::rule(
            "berth's services do not call the Kubernetes API: no token",
            docs::RENDERS,
            vec![],
        ),
    );
    for k in svc.meta.service_account_annotations.keys() {
        o.set(
            format!("/metadata/annotations/{}", escape(k)),
            Origin::spec(s(&["annotations", "service-account", k])),
        );
    }
    if svc.sync.as_ref().is_some_and(|s| s.identity.is_some()) {
        for k in [
            "eks.amazonaws.com/role-arn",
            "iam.gke.io/gcp-service-account",
            "azure.workload.identity/client-id",
        ] {
            o.set(
                format!("/metadata/annotations/{}", escape(k)),
                Origin::spec(s(&["config", "identity"])),
            );
        }
    }
    let mut sa = ServiceAccount {
        metadata: service_meta(app, svc, &svc.name),
        // berth's services do not call the Kubernetes API; no token in their pods.
        automount_service_account_token: Some(false),
        ..Default::default()
    };
    // The config-sync sidecar reads its source with the pod's cloud identity, never static keys.
    if let Some(sync) = &svc.sync
        && let (Some(cloud), Some(id)) = (sync.cloud, &sync.identity)
    {
        let key = match cloud {
            Cloud::Aws => "eks.amazonaws.com/role-arn",
            Cloud::Gcp => "iam.gke.io/gcp-service-account",
            Cloud::Azure => "azure.workload.identity/client-id",
        };
        sa.metadata.annotations = Some(BTreeMap::from([(key.to_owned(), id.clone())]));
    }
    // The service's own (IRSA, Workload Identity…); the sidecar's identity above wins.
    if !svc.meta.service_account_annotations.is_empty() {
        let own = sa.metadata.annotations.take().unwrap_or_default();
        let mut all = svc.meta.service_account_annotations.clone();
        all.extend(own);
        sa.metadata.annotations = Some(all);
    }
    sa
}
