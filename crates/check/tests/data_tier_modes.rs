//! Every mode of the Redis/Valkey and Kafka dependencies, rendered from a spec and judged by
//! `berth check` at warning level with the environment's tier profile: Strimzi resources against
//! the vendored CRDs, managed endpoints (ElastiCache cluster mode, Confluent Cloud SASL), and
//! the in-cluster StatefulSets. Nothing at warning level or above may be found.

use berth_check::{Input, Options, Severity, check};
use serde_json::Value;
use std::path::Path;

const SPEC: &str = include_str!("data-tier-modes/berth.yaml");

fn findings(env: &str) -> (Vec<Value>, Vec<String>) {
    let loaded = berth_spec::load_str(Path::new("berth.yaml"), SPEC, &|_| {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, "absent"))
    })
    .unwrap_or_else(|e| panic!("{:#?}", e.errors));
    let app = loaded.apps.iter().find(|a| a.env == env).unwrap();
    let rendered = berth_render::render(app);
    let objects: Vec<Value> = rendered.objects.iter().map(|o| o.body.clone()).collect();
    let refs: Vec<&Value> = objects.iter().collect();
    let tier = app.tier.as_str();
    let report = check(
        &[Input::Objects {
            name: env.into(),
            objects: refs,
        }],
        &Options::default().for_tier(tier),
    )
    .unwrap();
    let found = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| format!("{} {:?} {}: {}", f.rule, f.object, f.path, f.message))
        .collect();
    (objects, found)
}

fn kinds(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn in_cluster_single_and_sentinel_are_clean() {
    let (objects, found) = findings("dev");
    assert!(found.is_empty(), "dev: {found:#?}");
    let k = kinds(&objects);
    assert!(k.contains(&"StatefulSet/cache".to_string()), "{k:?}");
    assert!(k.contains(&"Job/events-topics".to_string()), "{k:?}");
}

#[test]
fn strimzi_resources_render_and_validate() {
    let (objects, found) = findings("strimzi");
    assert!(found.is_empty(), "{found:#?}");
    let k = kinds(&objects);
    for want in [
        "Kafka/events",
        "KafkaNodePool/events-combined",
        "KafkaTopic/orders",
        "StatefulSet/cache",
        "PodDisruptionBudget/cache",
    ] {
        assert!(k.contains(&want.to_string()), "{want} not in {k:?}");
    }
    assert!(
        !k.contains(&"StatefulSet/events".to_string()),
        "Strimzi runs the brokers"
    );
    let topic = objects.iter().find(|o| o["kind"] == "KafkaTopic").unwrap();
    assert_eq!(topic["spec"]["replicas"], 3);
    assert_eq!(topic["spec"]["config"]["retention.ms"], "259200000");
    // The users reach Strimzi's bootstrap Service.
    let cm = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["data"]["EVENTS_BOOTSTRAP_SERVERS"].is_string())
        .unwrap();
    assert_eq!(
        cm["data"]["EVENTS_BOOTSTRAP_SERVERS"],
        "events-kafka-bootstrap:9092"
    );
}

#[test]
fn managed_cache_and_broker_render_no_servers() {
    let (objects, found) = findings("managed");
    assert!(found.is_empty(), "{found:#?}");
    let k = kinds(&objects);
    assert!(!k.iter().any(|k| k.starts_with("StatefulSet/")), "{k:?}");
    assert!(
        k.contains(&"ExternalSecret/cache-default-credentials".to_string()),
        "{k:?}"
    );
    assert!(
        k.contains(&"ExternalSecret/events-sasl-credentials".to_string()),
        "{k:?}"
    );
    let pubsub = objects
        .iter()
        .find(|o| o["kind"] == "Component" && o["spec"]["type"] == "pubsub.kafka")
        .unwrap();
    let meta = |n: &str| {
        pubsub["spec"]["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        meta("brokers")["value"],
        "pkc-123.eu-west-1.aws.confluent.cloud:9092"
    );
    assert_eq!(meta("authType")["value"], "password");
    assert_eq!(meta("saslMechanism")["value"], "PLAIN");
    assert_eq!(
        meta("saslPassword")["secretKeyRef"]["name"],
        "events-sasl-credentials"
    );
    assert_eq!(meta("disableTls")["value"], "false");
}
