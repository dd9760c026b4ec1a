//! In-cluster Kafka from the generators of [`crate::kafka`]: KRaft combined-mode brokers in a
//! StatefulSet whose pods come from [`PodBuilder`] (per-pod `node.id` and `advertised.listeners`
//! on the headless names, storage formatted only when `meta.properties` is missing, one
//! `CLUSTER_ID` from a Secret, required anti-affinity), the declared topics by an idempotent Job,
//! a PodDisruptionBudget and NetworkPolicies — or, with `operator: strimzi`, Strimzi's `Kafka`,
//! `KafkaNodePool` and `KafkaTopic`s.
//!
//! Objects (dependency `NAME`): ServiceAccount `NAME`, ConfigMap `NAME-config` (server.properties,
//! entrypoint.sh), Secret `NAME-cluster-id` (key `CLUSTER_ID`, delivered by the secret mode with
//! the credentials, `data/mod.rs`), Services `NAME-headless` (9092,
//! 9093) and `NAME` (9092), StatefulSet `NAME`, PodDisruptionBudget `NAME` (2+ brokers),
//! NetworkPolicies `NAME` and `NAME-topics`, ConfigMap `NAME-topics` (topics.sh) and Job
//! `NAME-topics` (a Sync / post-install,post-upgrade hook). Pods carry
//! `app.kubernetes.io/name: NAME`, `app.kubernetes.io/component: broker`; the topic Job's
//! `app.kubernetes.io/name: NAME-topics`.

use super::generic::{self, relabel, user_peers};
use super::{DATA_WAVE, SETUP_WAVE, dep_labels, obj, service_account, with_wave};
use crate::Object;
use crate::kafka::{CLIENT_PORT, CONTROLLER_PORT, Cluster, Topic, USER};
use crate::labels::selector_labels;
use crate::pod::{PodBuilder, RestartPolicy};
use berth_spec::dependency::KafkaOperator;
use berth_spec::{App, ResolvedDependency};
use k8s_openapi::api::core::v1::{Affinity, Container, Volume};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const COMPONENT: &str = "broker";
/// Partitions of a topic created without one (the broker's `num.partitions`).
pub const DEFAULT_PARTITIONS: u32 = berth_spec::dependency::kafka::DEFAULT_PARTITIONS;

/// The declared topics as the generators take them.
fn topics(k: &berth_spec::dependency::kafka::Kafka) -> Vec<Topic> {
    k.topics
        .iter()
        .map(|t| Topic {
            name: t.name.clone(),
            partitions: t.partitions,
            replication_factor: t.replicas,
            config: t.config.clone(),
        })
        .collect()
}

/// The generator's cluster of an in-cluster Kafka dependency.
pub fn cluster(app: &App, dep: &ResolvedDependency) -> Option<Cluster> {
    let k = dep.kafka.as_ref()?;
    Some(Cluster {
        name: dep.name.clone(),
        namespace: app.namespace.clone(),
        brokers: k.brokers,
        topics: topics(k),
    })
}

/// The Secret holding the brokers' `CLUSTER_ID` (delivered by the secret mode, data/mod.rs).
pub fn cluster_id_secret(dep: &ResolvedDependency) -> String {
    berth_spec::dependency::kafka::cluster_id_secret(&dep.name)
}

pub fn topics_job_name(dep: &ResolvedDependency) -> String {
    format!("{}-topics", dep.name)
}

/// The brokers' pods as a policy peer / client target (Strimzi labels its own).
pub fn broker_selector(app: &App, dep: &ResolvedDependency) -> Value {
    if dep.kafka.as_ref().and_then(|k| k.operator) == Some(KafkaOperator::Strimzi) {
        json!({"matchLabels": {"strimzi.io/cluster": dep.name, "strimzi.io/kind": "Kafka"}})
    } else {
        json!({"matchLabels": selector_labels(app, &dep.name)})
    }
}

fn from_json<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("generator JSON is a Kubernetes type")
}

fn image_version(image: &str) -> &str {
    image
        .rsplit_once(':')
        .map(|(_, t)| t)
        .unwrap_or(crate::kafka::VERSION)
}

pub fn objects(app: &App, dep: &ResolvedDependency) -> Vec<Object> {
    let (Some(c), Some(k), Some(s)) = (cluster(app, dep), dep.kafka.as_ref(), dep.server.as_ref())
    else {
        return Vec::new();
    };
    let labels = dep_labels(app, &dep.name, COMPONENT);
    if k.operator == Some(KafkaOperator::Strimzi) {
        let resources = generic::resources(dep);
        return c
            .strimzi(
                image_version(&s.image),
                &s.storage.text,
                resources,
                DEFAULT_PARTITIONS,
            )
            .into_iter()
            .map(|mut v| {
                let kind = v["kind"].as_str().unwrap_or_default().to_owned();
                let name = v["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let mut l = labels.clone();
                if let Some(own) = v["metadata"]["labels"].as_object() {
                    for (k, val) in own {
                        l.insert(k.clone(), val.as_str().unwrap_or_default().to_owned());
                    }
                }
                v["metadata"]["labels"] = json!(l);
                if kind == "Kafka" {
                    // Strimzi writes the brokers' ingress NetworkPolicy; only the users may connect
                    // to the client listener (Strimzi's own operators are always allowed). Egress
                    // is berth's: `strimzi_egress`.
                    let peers = user_peers(app, dep);
                    if !peers.is_empty() {
                        v["spec"]["kafka"]["listeners"][0]["networkPolicyPeers"] = json!(peers);
                    }
                    super::exporters::strimzi(app, dep, &mut v);
                }
                let wave = if kind == "KafkaTopic" {
                    SETUP_WAVE
                } else {
                    DATA_WAVE
                };
                let api = v["apiVersion"].as_str().unwrap_or_default().to_owned();
                obj(app, &api, &kind, &name, with_wave(v, wave))
            })
            .chain([strimzi_egress(app, dep)])
            .collect();
    }
    let selector = selector_labels(app, &dep.name);
    let heap_mib = ((s.memory.limit.value / 1048576.0) / 2.0).max(256.0) as u64;
    let main: Container = from_json(c.container(
        &s.image,
        generic::resources(dep),
        heap_mib,
        &(
            cluster_id_secret(dep),
            berth_spec::dependency::kafka::CLUSTER_ID_KEY.into(),
        ),
    ));
    let mut pod = PodBuilder::new(&main.name, s.image.clone(), USER);
    pod.command(main.command.clone().unwrap_or_default())
        .resources(
            (&s.cpu.request.text, &s.cpu.limit.text),
            (&s.memory.request.text, &s.memory.limit.text),
        )
        .readiness(main.readiness_probe.clone())
        .liveness(main.liveness_probe.clone())
        .startup(main.startup_probe.clone())
        // A broker moves its partition leaderships away and flushes its log on SIGTERM.
        .grace_seconds(120)
        .service_account(&dep.name);
    for p in main.ports.iter().flatten() {
        pod.port(
            p.name.as_deref().unwrap_or("kafka"),
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
    pod.extra_volume(from_json(json!({"name": "config", "configMap": {"name": format!("{}-config", dep.name), "defaultMode": 0o444}})))
        .extra_volume(from_json(json!({"name": "run", "emptyDir": {"sizeLimit": "16Mi"}})));
    for l in [&labels, &selector] {
        for (k, v) in l {
            pod.label(k, v);
        }
    }
    pod.spread(crate::labels::selector(app, &dep.name));
    let mut template = pod.build();
    {
        // Required, not preferred: two brokers on one node cost two replicas of a partition at
        // once (with RF 3 and min.insync.replicas 2, writes stop).
        let spec = template.spec.as_mut().expect("pod spec");
        let affinity: Affinity = from_json(c.affinity(&json!(selector)));
        spec.affinity = Some(affinity);
    }
    let sts = crate::statefulset::stateful_set(crate::statefulset::StatefulParts {
        metadata: crate::labels::meta(app, &dep.name, labels.clone()),
        selector: crate::labels::selector(app, &dep.name),
        claim_labels: selector.clone(),
        replicas: Some(c.brokers as i32),
        template,
        volumes: vec![berth_spec::ResolvedVolume {
            name: "data".into(),
            path: crate::kafka::DATA_DIR.into(),
            size: s.storage.clone(),
            class: None,
            access: berth_spec::AccessMode::ReadWriteOnce,
        }],
        // Parallel: a KRaft controller becomes ready only once a majority of the voters runs,
        // so OrderedReady would wait for ever on pod 0.
        settings: berth_spec::StatefulSettings {
            pod_management: berth_spec::PodManagement::Parallel,
            ..Default::default()
        },
        service_name: crate::statefulset::headless_name(&dep.name),
    });
    let mut sts = Object::from_typed(&sts);
    sts.body = with_wave(sts.body, DATA_WAVE);
    super::exporters::attach(app, dep, &mut sts);

    let mut out = vec![
        service_account(app, &dep.name, json!(labels), None, false),
        obj(
            app,
            "v1",
            "ConfigMap",
            &format!("{}-config", dep.name),
            with_wave(
                json!({"metadata": {"labels": labels}, "data": c.config_files(DEFAULT_PARTITIONS)}),
                DATA_WAVE - 1,
            ),
        ),
        relabel(
            generic::service(
                app,
                dep,
                &crate::statefulset::headless_name(&dep.name),
                true,
                &[
                    ("kafka".into(), CLIENT_PORT),
                    ("controller".into(), CONTROLLER_PORT),
                ],
            ),
            &labels,
        ),
        relabel(
            generic::service(app, dep, &dep.name, false, &[("kafka".into(), CLIENT_PORT)]),
            &labels,
        ),
        sts,
    ];
    if c.brokers >= 2 {
        out.push(super::cache::pdb(app, dep, &labels));
    }
    let own = json!({"podSelector": {"matchLabels": selector}});
    let both: Vec<Value> = [CLIENT_PORT, CONTROLLER_PORT]
        .iter()
        .map(|p| json!({"port": p, "protocol": "TCP"}))
        .collect();
    let mut peers = user_peers(app, dep);
    if !c.topics.is_empty() {
        peers.push(
            json!({"podSelector": {"matchLabels": selector_labels(app, &topics_job_name(dep))}}),
        );
    }
    let mut policy = generic::policy(
        app,
        dep,
        &dep.name,
        json!({"matchLabels": selector}),
        peers,
        &[CLIENT_PORT],
        vec![json!({"to": [own.clone()], "ports": both.clone()})],
    );
    let rule = json!({"from": [own], "ports": both});
    match policy.body["spec"]["ingress"].as_array_mut() {
        Some(a) => a.push(rule),
        None => policy.body["spec"]["ingress"] = json!([rule]),
    }
    out.push(policy);
    if !c.topics.is_empty() {
        let main: Container = from_json(c.topic_container(&s.image));
        let egress = json!({"to": [{"podSelector": broker_selector(app, dep)}], "ports": [{"port": CLIENT_PORT, "protocol": "TCP"}]});
        out.extend(topics_job(
            app,
            dep,
            &c.topics,
            &s.image,
            main.env.unwrap_or_default(),
            None,
            egress,
        ));
    }
    out
}

/// A managed Kafka's declared topics (MSK, Confluent Cloud, any managed endpoint): the same
/// idempotent topic Job, against the provider's bootstrap servers over TLS, with the SASL user
/// and its password (a `secretKeyRef` to the credential the secret mode delivers) written into
/// a client properties file in the pod. Event Hubs gets none: its event hubs are Azure
/// resources (partition count fixed at creation outside Premium/Dedicated, retention set by the
/// tier), created with the namespace's own tooling — a warning says so.
/// Egress for every pod of a Strimzi cluster (brokers, entity operator, exporter), which the
/// namespace's default-deny would cut off: Strimzi writes only ingress policies. They reach each
/// other on any port (replication, KRaft controllers, the operators' admin clients) and the API
/// server (the topic and user operators, the brokers' rack and node-port lookups).
fn strimzi_egress(app: &App, dep: &ResolvedDependency) -> Object {
    let cluster = json!({"matchLabels": {"strimzi.io/cluster": dep.name}});
    obj(
        app,
        "networking.k8s.io/v1",
        "NetworkPolicy",
        &format!("{}-strimzi-egress", dep.name),
        with_wave(
            json!({
                "metadata": {"labels": dep_labels(app, &dep.name, "network-policy")},
                "spec": {
                    "podSelector": cluster,
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [{"podSelector": cluster}]}, super::postgres::api_egress()],
                },
            }),
            DATA_WAVE - 1,
        ),
    )
}

pub fn managed_objects(
    app: &App,
    dep: &ResolvedDependency,
    warnings: &mut Vec<crate::Warning>,
) -> Vec<Object> {
    let Some(k) = dep.kafka.as_ref().filter(|k| !k.topics.is_empty()) else {
        return Vec::new();
    };
    if k.provider == Some(berth_spec::dependency::Provider::EventHubs) {
        warnings.push(crate::Warning {
            path: format!("dependencies.{}.topics", dep.name),
            message: format!(
                "`{}` is Azure Event Hubs: berth creates no topics there (event hubs are Azure resources; their partition count is fixed at creation outside Premium/Dedicated and retention is set by the tier); create them with the namespace's Azure tooling (Bicep, Terraform, az eventhubs eventhub create) with the declared partitions and retention",
                dep.name
            ),
        });
        return Vec::new();
    }
    let image = format!("{}:{}", crate::kafka::IMAGE, crate::kafka::VERSION);
    let protocol = if k.sasl.is_some() { "SASL_SSL" } else { "SSL" };
    let value = |n: &str, v: &str| json!({"name": n, "value": v});
    let mut env = vec![
        value(
            "KAFKA_BOOTSTRAP_SERVERS",
            &format!("{}:{}", dep.host, dep.port),
        ),
        value("KAFKA_SECURITY_PROTOCOL", protocol),
    ];
    if let (Some(sasl), Some(cred)) = (
        &k.sasl,
        berth_spec::dependency::postgres::credentials(dep).first(),
    ) {
        env.push(value("KAFKA_SASL_MECHANISM", sasl.mechanism.kafka_name()));
        env.push(value("KAFKA_SASL_USERNAME", &sasl.username));
        env.push(json!({"name": "KAFKA_SASL_PASSWORD", "valueFrom": {"secretKeyRef": {"name": cred.secret, "key": "password", "optional": false}}}));
    }
    let mut ca = None;
    if dep.tls_ca.is_some() {
        let dir = format!("{}/{}", super::CA_DIR, dep.name);
        env.push(value("KAFKA_SSL_CA_FILE", &format!("{dir}/ca.pem")));
        ca = Some((
            from_json::<Volume>(json!({"name": "ca", "configMap": {"name": super::ca_map(dep)}})),
            dir,
        ));
    }
    env.push(value("KAFKA_HEAP_OPTS", "-Xms64m -Xmx192m"));
    env.push(value("LOG_DIR", "/tmp/kafka-logs"));
    let env = env.into_iter().map(from_json).collect();
    let topics = topics(k);
    topics_job(
        app,
        dep,
        &topics,
        &image,
        env,
        ca,
        super::egress_to(app, dep),
    )
}

/// The topic Job (an Argo CD Sync hook after the brokers, a Helm post-install/post-upgrade
/// hook), its script's ConfigMap and its NetworkPolicy (egress to the brokers only: `egress`).
/// `env` says where the brokers are; `ca` (a managed endpoint's CA bundle and its mount) makes
/// the script write the managed client settings.
fn topics_job(
    app: &App,
    dep: &ResolvedDependency,
    topics: &[Topic],
    image: &str,
    env: Vec<k8s_openapi::api::core::v1::EnvVar>,
    ca: Option<(Volume, String)>,
    egress: Value,
) -> Vec<Object> {
    let managed = dep.mode == berth_spec::dependency::DependencyMode::Managed;
    let name = topics_job_name(dep);
    let mut labels = dep_labels(app, &name, "topics");
    labels.extend(selector_labels(app, &name));
    let mut pod = PodBuilder::new("topics", image, USER);
    pod.restart_policy(RestartPolicy::Never)
        .command(vec![
            "sh".to_owned(),
            format!("{}/topics.sh", crate::kafka::CONFIG_MOUNT),
        ])
        .resources(("50m", "500m"), ("256Mi", "384Mi"))
        .volume(
            from_json::<Volume>(
                json!({"name": "topics", "configMap": {"name": name, "defaultMode": 0o444}}),
            ),
            crate::kafka::CONFIG_MOUNT,
        );
    if let Some((v, path)) = ca {
        pod.volume(v, &path);
    }
    for e in env {
        pod.env_var(e);
    }
    for (k, v) in &labels {
        pod.label(k, v);
    }
    let template = pod.build();
    let mut annotations = super::migrate::hook_annotations(SETUP_WAVE);
    // After the brokers on install too (a pre-upgrade hook would run before new brokers exist).
    annotations["helm.sh/hook"] = json!("post-install,post-upgrade");
    let job = obj(
        app,
        "batch/v1",
        "Job",
        &name,
        json!({
            "metadata": {"labels": labels, "annotations": annotations},
            "spec": {
                "backoffLimit": 2,
                // The script waits up to 5 minutes for the brokers.
                "activeDeadlineSeconds": 900,
                "template": serde_json::to_value(&template).expect("pod template"),
            },
        }),
    );
    let script = BTreeMap::from([(
        "topics.sh".to_string(),
        crate::kafka::topic_script(topics, managed),
    )]);
    let config = obj(
        app,
        "v1",
        "ConfigMap",
        &name,
        with_wave(
            json!({"metadata": {"labels": dep_labels(app, &dep.name, "topics")}, "data": script}),
            DATA_WAVE - 1,
        ),
    );
    let mut policy = generic::policy(
        app,
        dep,
        &name,
        json!({"matchLabels": selector_labels(app, &name)}),
        vec![],
        &[],
        vec![egress],
    );
    policy.body["metadata"]["labels"] = json!(dep_labels(app, &dep.name, "network-policy"));
    vec![config, job, policy]
}
