//! In-cluster Redis / Valkey from the generators of [`crate::redis`]: the rendered
//! `redis.conf`/`valkey.conf`, `sentinel.conf` and entrypoint in a ConfigMap, a StatefulSet
//! whose pods are built by [`PodBuilder`] (the data node is the main container; with Sentinel,
//! the Sentinel is a native sidecar, so it outlives the data node's preStop handover), the
//! headless Service of the stable pod names, a client Service, a PodDisruptionBudget that never
//! blocks a drain, and NetworkPolicies: the users and the data pods themselves only.
//!
//! Objects (dependency `NAME`): ServiceAccount `NAME`, ConfigMap `NAME-config`, Services
//! `NAME-headless` and `NAME` (with Sentinel: the Sentinel port only — writes must go to the
//! master the Sentinels name), StatefulSet `NAME`, PodDisruptionBudget `NAME` (Sentinel),
//! NetworkPolicy `NAME`; pods carry `app.kubernetes.io/name: NAME`,
//! `app.kubernetes.io/component: cache`.

use super::generic::{self, relabel, user_peers};
use super::{DATA_WAVE, dep_labels, obj, service_account, with_wave};
use crate::Object;
use crate::labels::selector_labels;
use crate::pod::PodBuilder;
use crate::redis::{Flavor, PORT, Persistence, SENTINEL_PORT, Sentinel, Topology, USER};
use berth_spec::dependency::Persistence as SpecPersistence;
use berth_spec::dependency::postgres::credentials_secret;
use berth_spec::{App, DependencyKind, ResolvedDependency};
use k8s_openapi::api::core::v1::{Container, Lifecycle, Volume};
use serde_json::{Value, json};

pub const COMPONENT: &str = "cache";

/// The generator's topology of an in-cluster Redis/Valkey dependency.
pub fn topology(app: &App, dep: &ResolvedDependency) -> Option<Topology> {
    let r = dep.redis.as_ref()?;
    let s = dep.server.as_ref()?;
    Some(Topology {
        name: dep.name.clone(),
        namespace: app.namespace.clone(),
        flavor: match dep.kind {
            DependencyKind::Valkey => Flavor::Valkey,
            _ => Flavor::Redis,
        },
        persistence: match r.persistence {
            SpecPersistence::Aof => Persistence::Aof,
            SpecPersistence::Rdb => Persistence::Rdb,
        },
        // Three quarters of the memory limit: the rest is the fork of a snapshot/AOF rewrite
        // (copy-on-write), buffers and the allocator's overhead.
        maxmemory: Some((s.memory.limit.value * 0.75) as u64),
        sentinel: r.sentinel.map(|s| Sentinel {
            replicas: s.replicas,
            down_after_ms: s.down_after_ms,
            failover_timeout_ms: s.failover_timeout_ms,
        }),
    })
}

/// The password's Secret and key.
pub fn password_secret(dep: &ResolvedDependency) -> (String, String) {
    (
        credentials_secret(&dep.name, berth_spec::dependency::cache::ROLE),
        "password".into(),
    )
}

pub fn config_map_name(dep: &ResolvedDependency) -> String {
    format!("{}-config", dep.name)
}

/// The client ports of the data pods: the data port, and the Sentinel port with HA.
pub fn client_ports(dep: &ResolvedDependency) -> Vec<u16> {
    match dep.redis.as_ref().and_then(|r| r.sentinel) {
        Some(_) => vec![PORT, SENTINEL_PORT],
        None => vec![PORT],
    }
}

fn from_json<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("generator JSON is a Kubernetes type")
}

pub fn objects(app: &App, dep: &ResolvedDependency) -> Vec<Object> {
    let Some(topo) = topology(app, dep) else {
        return Vec::new();
    };
    let s = dep.server.as_ref().expect("in-cluster");
    let labels = dep_labels(app, &dep.name, COMPONENT);
    let selector = selector_labels(app, &dep.name);
    let secret = password_secret(dep);
    let ha = topo.sentinel.is_some();
    let mut containers: Vec<Container> = topo
        .containers(&s.image, generic::resources(dep), &secret)
        .into_iter()
        .map(from_json)
        .collect();
    let main = containers.remove(0);

    let mut pod = PodBuilder::new(&main.name, s.image.clone(), USER);
    pod.command(main.command.clone().unwrap_or_default())
        .resources(
            (&s.cpu.request.text, &s.cpu.limit.text),
            (&s.memory.request.text, &s.memory.limit.text),
        )
        .readiness(main.readiness_probe.clone())
        .liveness(main.liveness_probe.clone())
        .grace_seconds(if ha { 60 } else { 30 });
    for p in main.ports.iter().flatten() {
        pod.port(
            p.name.as_deref().unwrap_or("redis"),
            p.container_port as u16,
        );
    }
    for e in main.env.iter().flatten() {
        pod.env_var(e.clone());
    }
    for m in main.volume_mounts.iter().flatten() {
        match m.name.as_str() {
            "tmp" => {}
            "data" => {
                pod.claim("data", &m.mount_path);
            }
            _ => {
                pod.mount(m.clone());
            }
        }
    }
    for v in topo.volumes(&config_map_name(dep)) {
        let v: Volume = from_json(v);
        if v.name != "tmp" {
            pod.extra_volume(v);
        }
    }
    for l in [&labels, &selector] {
        for (k, v) in l {
            pod.label(k, v);
        }
    }
    pod.service_account(&dep.name)
        .spread(crate::labels::selector(app, &dep.name));
    for mut c in containers {
        // The Sentinel writes its rewritten config to the run volume and logs.
        if let Some(r) = c.resources.as_mut() {
            use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
            for (map, v) in [(&mut r.requests, "16Mi"), (&mut r.limits, "128Mi")] {
                map.get_or_insert_with(Default::default)
                    .insert("ephemeral-storage".into(), Quantity(v.into()));
            }
        }
        pod.sidecar(c);
    }
    let mut template = pod.build();
    if ha {
        // The data node hands the master role over before it stops (the generator's preStop),
        // instead of the builder's plain sleep.
        let spec = template.spec.as_mut().expect("pod spec");
        spec.containers[0].lifecycle = main.lifecycle.clone().or(Some(Lifecycle::default()));
    }
    let sts = crate::statefulset::stateful_set(crate::statefulset::StatefulParts {
        metadata: crate::labels::meta(app, &dep.name, labels.clone()),
        selector: crate::labels::selector(app, &dep.name),
        claim_labels: selector.clone(),
        replicas: Some(topo.pods() as i32),
        template,
        volumes: vec![berth_spec::ResolvedVolume {
            name: "data".into(),
            path: "/data".into(),
            size: s.storage.clone(),
            class: None,
            access: berth_spec::AccessMode::ReadWriteOnce,
        }],
        // Ordered: a pod starts once the one before it is ready (never two fresh masters at once,
        // the split brain of `Parallel` after a full restart); claims are kept.
        settings: berth_spec::StatefulSettings::default(),
        service_name: crate::statefulset::headless_name(&dep.name),
    });
    let mut sts = Object::from_typed(&sts);
    sts.body = with_wave(sts.body, DATA_WAVE);
    super::exporters::attach(app, dep, &mut sts);

    let ports: Vec<(String, u16)> = if ha {
        vec![("redis".into(), PORT), ("sentinel".into(), SENTINEL_PORT)]
    } else {
        vec![("redis".into(), PORT)]
    };
    let service_ports: Vec<(String, u16)> = if ha {
        vec![("sentinel".into(), SENTINEL_PORT)]
    } else {
        ports.clone()
    };
    let mut out = vec![
        service_account(app, &dep.name, json!(labels), None, false),
        obj(
            app,
            "v1",
            "ConfigMap",
            &config_map_name(dep),
            with_wave(
                json!({"metadata": {"labels": labels}, "data": topo.config_files()}),
                DATA_WAVE - 1,
            ),
        ),
        relabel(
            generic::service(
                app,
                dep,
                &crate::statefulset::headless_name(&dep.name),
                true,
                &ports,
            ),
            &labels,
        ),
        relabel(
            generic::service(app, dep, &dep.name, false, &service_ports),
            &labels,
        ),
        sts,
    ];
    if ha {
        out.push(pdb(app, dep, &labels));
    }
    // Users on the client ports; the data pods among themselves (replication, Sentinel gossip,
    // the entrypoint's master lookup) on both.
    let own = json!({"podSelector": {"matchLabels": selector}});
    let all: Vec<Value> = ports
        .iter()
        .map(|(_, p)| json!({"port": p, "protocol": "TCP"}))
        .collect();
    let mut policy = generic::policy(
        app,
        dep,
        &dep.name,
        json!({"matchLabels": selector}),
        user_peers(app, dep),
        &client_ports(dep),
        if ha {
            vec![json!({"to": [own.clone()], "ports": all.clone()})]
        } else {
            vec![]
        },
    );
    if ha {
        let rule = json!({"from": [own], "ports": all});
        match policy.body["spec"]["ingress"].as_array_mut() {
            Some(a) => a.push(rule),
            None => policy.body["spec"]["ingress"] = json!([rule]),
        }
    }
    out.push(policy);
    out
}

/// A PodDisruptionBudget that lets a drain through one pod at a time and never blocks it on an
/// unhealthy pod (`unhealthyPodEvictionPolicy: AlwaysAllow`): a drain waits for the Sentinel
/// set to be whole again, never for ever.
pub(crate) fn pdb(
    app: &App,
    dep: &ResolvedDependency,
    labels: &std::collections::BTreeMap<String, String>,
) -> Object {
    obj(
        app,
        "policy/v1",
        "PodDisruptionBudget",
        &dep.name,
        with_wave(
            json!({
                "metadata": {"labels": labels},
                "spec": {
                    "maxUnavailable": 1,
                    "unhealthyPodEvictionPolicy": "AlwaysAllow",
                    "selector": {"matchLabels": selector_labels(app, &dep.name)},
                },
            }),
            DATA_WAVE - 1,
        ),
    )
}

/// The client env a user of `dep` gets in its pod (besides the plain variables of
/// `berth_spec::resolved_dependency_vars` in its ConfigMap): `X_PASSWORD` from the Secret and,
/// without Sentinel, `X_URL` composed from it by Kubernetes (`$(X_PASSWORD)`), so no manifest
/// holds the password.
pub fn client_env(dep: &ResolvedDependency, host: &str) -> Vec<Value> {
    let Some(r) = &dep.redis else {
        return Vec::new();
    };
    let p = berth_spec::env_prefix(&dep.name);
    let (secret, key) = password_secret(dep);
    let mut env = vec![
        json!({"name": format!("{p}_PASSWORD"), "valueFrom": {"secretKeyRef": {"name": secret, "key": key, "optional": false}}}),
    ];
    if r.sentinel.is_none() {
        let scheme = if r.tls { "rediss" } else { "redis" };
        env.push(json!({"name": format!("{p}_URL"), "value": format!("{scheme}://:$({p}_PASSWORD)@{host}:{}/0", dep.port)}));
    }
    env
}
