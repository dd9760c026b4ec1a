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

/// Whether the NetworkPolicies let a pod labelled `from` open a connection to a pod labelled `to`
/// on `port` (same namespace), as far as egress goes: pods no Egress policy selects are open;
/// otherwise some selecting policy must have a rule whose peer selects `to` (or an ipBlock when
/// `to` is None: the API server) and whose ports include `port`.
fn egress_allowed(
    objects: &[Value],
    from: &[(&str, &str)],
    to: Option<&[(&str, &str)]>,
    port: u16,
) -> bool {
    let selects = |sel: &Value, labels: &[(&str, &str)]| {
        sel["matchLabels"]
            .as_object()
            .into_iter()
            .flatten()
            .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && v == lv))
    };
    let policies: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "NetworkPolicy")
        .filter(|p| {
            p["spec"]["policyTypes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "Egress")
        })
        .filter(|p| selects(&p["spec"]["podSelector"], from))
        .collect();
    if policies.is_empty() {
        return true;
    }
    policies.iter().any(|p| {
        p["spec"]["egress"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|rule| {
                let port_ok = match rule["ports"].as_array() {
                    None => true,
                    Some(ps) => ps.iter().any(|x| x["port"] == port),
                };
                let peer_ok = rule["to"].as_array().is_none_or(|peers| {
                    peers.iter().any(|peer| match to {
                        Some(labels) => {
                            peer["namespaceSelector"].is_null()
                                && peer["ipBlock"].is_null()
                                && selects(&peer["podSelector"], labels)
                        }
                        None => peer["ipBlock"]["cidr"] == "0.0.0.0/0",
                    })
                });
                port_ok && peer_ok
            })
    })
}

#[test]
fn strimzi_pods_reach_each_other_and_the_api_server_under_default_deny() {
    let (objects, _) = findings("strimzi");
    assert!(
        objects.iter().any(|o| o["kind"] == "NetworkPolicy"
            && o["spec"]["podSelector"]
                .as_object()
                .is_some_and(|s| s.is_empty())
            && o["spec"]["policyTypes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "Egress")),
        "the namespace denies egress by default"
    );
    // Labels Strimzi puts on its pods (strimzi.io/cluster on every one).
    let broker = [
        ("strimzi.io/cluster", "events"),
        ("strimzi.io/kind", "Kafka"),
        ("strimzi.io/name", "events-kafka"),
        ("strimzi.io/pool-name", "events-combined"),
    ];
    let entity = [
        ("strimzi.io/cluster", "events"),
        ("strimzi.io/kind", "Kafka"),
        ("strimzi.io/name", "events-entity-operator"),
    ];
    for port in [9090, 9091, 9092] {
        assert!(
            egress_allowed(&objects, &broker, Some(&broker), port),
            "broker → broker :{port}"
        );
    }
    assert!(
        egress_allowed(&objects, &entity, Some(&broker), 9091),
        "topic operator → brokers"
    );
    assert!(
        egress_allowed(&objects, &entity, None, 443),
        "topic operator → API server"
    );
    // A user pod still reaches only the client listener.
    let api = [
        ("app.kubernetes.io/instance", "shop"),
        ("app.kubernetes.io/name", "api"),
    ];
    assert!(egress_allowed(&objects, &api, Some(&broker), 9092));
    assert!(
        !egress_allowed(&objects, &api, Some(&broker), 9091),
        "the replication listener is not the users'"
    );
}
