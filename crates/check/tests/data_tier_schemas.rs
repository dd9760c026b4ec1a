//! The data tier's Kubernetes-only resources, as berth renders them, validated against the
//! bundled schemas: Strimzi Kafka / KafkaNodePool / KafkaTopic and Dapr Component /
//! Configuration / Subscription against their vendored CRDs, and the Redis/Valkey and Kafka
//! StatefulSets and topic Job against the Kubernetes schema. A negative control proves a wrong
//! field is caught.

use berth_check::{Input, Options, check};
use berth_render::{dapr, kafka, redis};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn schema_findings(objects: &[Value]) -> Vec<String> {
    let refs: Vec<&Value> = objects.iter().collect();
    let report = check(
        &[Input::Objects {
            name: "data-tier".into(),
            objects: refs,
        }],
        &Options::default(),
    )
    .unwrap();
    report
        .findings
        .iter()
        .filter(|f| f.rule == "schema-valid" || f.rule == "crd-not-validated")
        .map(|f| format!("{} {:?}: {}", f.rule, f.object, f.message))
        .collect()
}

fn cluster() -> kafka::Cluster {
    kafka::Cluster {
        name: "kafka".into(),
        namespace: "todo".into(),
        brokers: 3,
        topics: ["task.created", "task.updated"]
            .iter()
            .map(|n| kafka::Topic {
                name: n.to_string(),
                partitions: 3,
                replication_factor: 3,
                config: BTreeMap::from([("retention.ms".into(), "604800000".into())]),
            })
            .collect(),
    }
}

fn resources() -> Value {
    json!({"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}})
}

fn statefulset(
    name: &str,
    replicas: u32,
    containers: Vec<Value>,
    volumes: Vec<Value>,
    affinity: Option<Value>,
) -> Value {
    let selector = json!({"app.kubernetes.io/name": name});
    let mut spec = json!({
        "automountServiceAccountToken": false,
        "securityContext": {"runAsNonRoot": true, "fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": containers,
        "volumes": volumes,
    });
    if let Some(a) = affinity {
        spec["affinity"] = a;
    }
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "todo"},
        "spec": {
            "replicas": replicas,
            "serviceName": format!("{name}-headless"),
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": selector}, "spec": spec},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}}],
        },
    })
}

#[test]
fn strimzi_resources_match_the_vendored_crds() {
    let objs = cluster().strimzi("4.1.0", "100Gi", resources(), 3);
    assert_eq!(objs.len(), 4);
    assert_eq!(schema_findings(&objs), Vec::<String>::new());
}

#[test]
fn a_wrong_strimzi_field_is_caught() {
    let mut objs = cluster().strimzi("4.1.0", "100Gi", resources(), 3);
    objs[2]["spec"]["partitionCount"] = json!(3);
    let f = schema_findings(&objs[2..3]);
    assert!(
        !f.is_empty(),
        "an unknown KafkaTopic field must be reported"
    );
}

#[test]
fn dapr_resources_match_the_vendored_crds() {
    let pw = dapr::SecretRef {
        name: "cache-credentials".into(),
        key: "password".into(),
    };
    let scopes = vec!["backend".to_string(), "notifications".to_string()];
    let objs = vec![
        dapr::pubsub_kafka(
            "pubsub",
            "todo",
            &cluster().bootstrap_servers(),
            &dapr::KafkaAuth::None,
            false,
            &scopes,
        ),
        dapr::pubsub_kafka(
            "pubsub-managed",
            "todo",
            "b-1.msk.example:9096",
            &dapr::KafkaAuth::Password {
                username: dapr::SecretRef {
                    name: "kafka-credentials".into(),
                    key: "username".into(),
                },
                password: dapr::SecretRef {
                    name: "kafka-credentials".into(),
                    key: "password".into(),
                },
                mechanism: "SHA-512".into(),
            },
            true,
            &scopes,
        ),
        dapr::state_redis(
            "statestore",
            "todo",
            &dapr::RedisTarget::Sentinel {
                sentinels: "a:26379,b:26379,c:26379".into(),
                master: "cache".into(),
            },
            Some(&pw),
            false,
            &scopes[..1],
        ),
        dapr::configuration(
            "todo",
            "todo",
            Some(&dapr::Tracing {
                endpoint: "otel-collector.observability:4317".into(),
                sampling: "0.1".into(),
                protocol: "grpc".into(),
                secure: false,
            }),
        ),
        dapr::subscription(
            "task-created",
            "todo",
            "pubsub",
            "task.created",
            "/events/task-created",
            Some("task.dead"),
            &scopes[1..],
        ),
    ];
    assert_eq!(schema_findings(&objs), Vec::<String>::new());
}

#[test]
fn redis_and_kafka_pods_match_the_kubernetes_schema() {
    let secret = ("cache-credentials".to_string(), "password".to_string());
    let mut objs = Vec::new();
    for sentinel in [None, Some(2)] {
        let t = redis::Topology {
            name: "cache".into(),
            namespace: "todo".into(),
            flavor: redis::Flavor::Valkey,
            persistence: redis::Persistence::Aof,
            maxmemory: None,
            sentinel: sentinel.map(|replicas| redis::Sentinel {
                replicas,
                down_after_ms: redis::DOWN_AFTER_MS,
                failover_timeout_ms: redis::FAILOVER_TIMEOUT_MS,
            }),
        };
        let image = redis::Flavor::Valkey.image(None);
        objs.push(statefulset(
            "cache",
            t.pods(),
            t.containers(&image, resources(), &secret),
            t.volumes("cache-config"),
            None,
        ));
        objs.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cache-config", "namespace": "todo"}, "data": t.config_files()}));
    }
    let c = cluster();
    let image = format!("{}:{}", kafka::IMAGE, kafka::VERSION);
    let id = ("kafka-cluster-id".to_string(), "CLUSTER_ID".to_string());
    let vols = vec![
        json!({"name": "config", "configMap": {"name": "kafka-config"}}),
        json!({"name": "run", "emptyDir": {}}),
        json!({"name": "tmp", "emptyDir": {}}),
    ];
    objs.push(statefulset(
        "kafka",
        3,
        vec![c.container(&image, resources(), 1024, &id)],
        vols,
        Some(c.affinity(&json!({"app.kubernetes.io/name": "kafka"}))),
    ));
    objs.push(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "kafka-topics", "namespace": "todo"},
        "spec": {"backoffLimit": 2, "template": {"spec": {
            "restartPolicy": "OnFailure",
            "containers": [c.topic_container(&image)],
            "volumes": [json!({"name": "topics", "configMap": {"name": "kafka-topics"}}), json!({"name": "tmp", "emptyDir": {}})],
        }}},
    }));
    assert_eq!(schema_findings(&objs), Vec::<String>::new());
}
