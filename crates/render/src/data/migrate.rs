//! Migrations as hooks: one Job per database, with the service's image, env and secrets (its
//! Deployment's pod, command replaced), connected to the writer directly (never through a
//! transaction pool).
//!
//! Ordering: Argo CD runs them as `Sync` hooks in waves `MIGRATION_WAVE + step` — after the
//! credentials and ConfigMaps (wave 1), the database servers (wave 3) and the role setup
//! (wave 4), before the workloads — and Helm as `post-install,pre-upgrade` hooks with the same
//! weights. Not `PreSync`/`pre-install`: those run before any object of the app exists, so on a
//! fresh install the Job would wait forever for a Secret or database the same sync creates. A
//! failed migration stops the sync before the new workloads either way. Hooks are re-created
//! each sync (`BeforeHookCreation`), failed Jobs stay for their logs, and no
//! `ttlSecondsAfterFinished` races Argo CD for the result.

use super::{MIGRATION_WAVE, WAVE_ANNOTATION, connection, connection_env, dep_labels, obj};
use crate::Object;
use crate::labels::selector_labels;
use berth_spec::dependency::postgres::{ResolvedMigration, object_part};
use berth_spec::{App, ResolvedDependency, ResolvedService};
use serde_json::{Value, json};

pub fn job_name(svc: &ResolvedService, m: &ResolvedMigration) -> String {
    format!("{}-migrate-{}", svc.name, object_part(&m.database))
}

pub fn wave(m: &ResolvedMigration) -> i32 {
    MIGRATION_WAVE + m.step as i32
}

/// Argo CD and Helm hook annotations for a Job at `wave`.
pub fn hook_annotations(wave: i32) -> Value {
    json!({
        "argocd.argoproj.io/hook": "Sync",
        "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        WAVE_ANNOTATION: wave.to_string(),
        "helm.sh/hook": "post-install,pre-upgrade",
        "helm.sh/hook-weight": wave.to_string(),
        "helm.sh/hook-delete-policy": "before-hook-creation",
    })
}

pub fn objects(
    app: &App,
    svc: &ResolvedService,
    dep: &ResolvedDependency,
    m: &ResolvedMigration,
) -> Vec<Object> {
    let Some(conn) = connection(dep, &m.database, true) else {
        return Vec::new();
    };
    let name = job_name(svc, m);
    let config = crate::config_map::config_maps(app, svc);
    let mut builder = crate::pod::PodBuilder::for_service(app, svc, &config);
    builder
        .restart_policy(crate::pod::RestartPolicy::Never)
        .command(m.command.clone());
    let template = builder.build();
    let mut pod = serde_json::to_value(&template).expect("json");
    // Its own labels: the service's Service, PDB and policies must not select migration pods.
    let mut labels = dep_labels(app, &name, "migration");
    labels.extend(selector_labels(app, &name));
    labels.insert(
        "berth.dev/migrates".into(),
        format!("{}.{}", m.dependency, m.database),
    );
    pod["metadata"]["labels"] = json!(labels);
    let spec = &mut pod["spec"];
    spec["restartPolicy"] = json!("Never");
    if let Some(o) = spec.as_object_mut() {
        for k in [
            "initContainers",
            "topologySpreadConstraints",
            "affinity",
            "shareProcessNamespace",
        ] {
            o.remove(k);
        }
    }
    let c = &mut spec["containers"][0];
    c["name"] = json!("migrate");
    c["command"] = json!(m.command);
    if let Some(o) = c.as_object_mut() {
        for k in [
            "args",
            "ports",
            "readinessProbe",
            "livenessProbe",
            "startupProbe",
            "lifecycle",
        ] {
            o.remove(k);
        }
    }
    let taken = |n: &str| {
        svc.secrets.iter().any(|s| s == n)
            || svc.env.iter().any(|(k, _)| k == n && !k.starts_with("PG"))
    };
    // The direct connection replaces the pooled one the service's pod has.
    let direct = connection_env(&[(String::new(), conn)], &taken);
    let mut env: Vec<Value> = c["env"].as_array().cloned().unwrap_or_default();
    env.retain(|v| !direct.iter().any(|d| d["name"] == v["name"]));
    env.extend(direct);
    c["env"] = json!(env);
    let mut annotations = hook_annotations(wave(m));
    annotations["berth.dev/migrates"] = json!(format!("{}/{}", m.dependency, m.database));
    let job = obj(
        app,
        "batch/v1",
        "Job",
        &name,
        json!({
            "metadata": {"labels": labels, "annotations": annotations},
            "spec": {
                "backoffLimit": 1,
                "activeDeadlineSeconds": m.timeout_seconds,
                "template": pod,
            },
        }),
    );
    // The Job reaches the writer (and nothing else but DNS).
    let writer = match super::client_target(app, dep) {
        Some(_) => {
            let pg = dep.postgres.as_ref().expect("postgres");
            json!({"to": [{"podSelector": super::postgres::server_selector(app, dep, pg.topology)}], "ports": [{"port": dep.port, "protocol": "TCP"}]})
        }
        None => super::egress_to(app, dep),
    };
    let policy = super::generic::policy(
        app,
        dep,
        &name,
        json!({"matchLabels": selector_labels(app, &name)}),
        vec![],
        &[],
        vec![writer],
    );
    vec![job, policy]
}
