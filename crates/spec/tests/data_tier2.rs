//! Redis/Valkey and Kafka dependencies: what they resolve to, the client variables, and every
//! mistake pointed at (file, line, column, spec path) with a fix — all of a spec's errors at once.

mod common;

use berth_spec::dependency::DependencyMode;
use berth_spec::{Loaded, SpecError, load_str};
use std::path::Path;

const HEAD: &str = "app: shop\nversion: 1.0.0\n";

fn load_with_lock(text: &str, lock: Option<&str>) -> Result<Loaded, Vec<SpecError>> {
    let lock = lock.map(|l| l.as_bytes().to_vec());
    load_str(Path::new("berth.yaml"), text, &move |p| {
        if p == Path::new("berth.lock")
            && let Some(l) = &lock
        {
            return Ok(l.clone());
        }
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, "absent"))
    })
    .map_err(|e| e.errors)
}

fn errors(text: &str, lock: Option<&str>) -> Vec<SpecError> {
    match load_with_lock(text, lock) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e,
    }
}

fn env<'a>(l: &'a Loaded, name: &str) -> &'a berth_spec::App {
    l.apps.iter().find(|a| a.env == name).unwrap()
}

fn var<'a>(app: &'a berth_spec::App, svc: &str, key: &str) -> Option<&'a str> {
    app.services
        .iter()
        .find(|s| s.name == svc)
        .unwrap()
        .env
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

const SPEC: &str = "services:\n  api: { image: api, port: 8000, uses: [cache, kafka] }\ndependencies:\n  cache:\n    type: valkey\n    ha: { replicas: 2, sentinel: true }\n  kafka:\n    type: kafka\n    brokers: 3\n    topics:\n      task.created: { partitions: 3, retention: 7d }\nenvironments:\n  dev: { namespace: shop-dev, dependencies: { cache: { ha: false }, kafka: { brokers: 1 } } }\n  prod: { namespace: shop }\n";

#[test]
fn sentinel_and_brokers_resolve_with_client_variables() {
    let l = load_with_lock(&format!("{HEAD}{SPEC}"), None).unwrap();
    let prod = env(&l, "prod");
    let cache = prod
        .dependencies
        .iter()
        .find(|d| d.name == "cache")
        .unwrap();
    assert_eq!(cache.mode, DependencyMode::InCluster);
    let s = cache.redis.as_ref().unwrap().sentinel.unwrap();
    assert_eq!(
        (s.replicas, s.down_after_ms, s.failover_timeout_ms),
        (2, 5000, 18000)
    );
    assert_eq!(
        var(prod, "api", "CACHE_SENTINELS"),
        Some(
            "cache-0.cache-headless.shop.svc.cluster.local:26379,cache-1.cache-headless.shop.svc.cluster.local:26379,cache-2.cache-headless.shop.svc.cluster.local:26379"
        )
    );
    assert_eq!(var(prod, "api", "CACHE_MASTER_NAME"), Some("cache"));
    // No fixed master address with Sentinel, and the URL (with the password) is composed in the pod.
    assert_eq!(var(prod, "api", "CACHE_URL"), None);
    assert_eq!(var(prod, "api", "CACHE_HOST"), None);
    assert_eq!(
        var(prod, "api", "KAFKA_BOOTSTRAP_SERVERS"),
        Some(
            "kafka-0.kafka-headless.shop.svc.cluster.local:9092,kafka-1.kafka-headless.shop.svc.cluster.local:9092,kafka-2.kafka-headless.shop.svc.cluster.local:9092"
        )
    );
    let k = prod
        .dependencies
        .iter()
        .find(|d| d.name == "kafka")
        .unwrap()
        .kafka
        .as_ref()
        .unwrap();
    assert_eq!(k.topics[0].replicas, 3);
    assert_eq!(k.topics[0].config["retention.ms"], "604800000");

    let dev = env(&l, "dev");
    assert_eq!(var(dev, "api", "CACHE_HOST"), Some("cache"));
    assert_eq!(var(dev, "api", "CACHE_SENTINELS"), None);
    let k = dev
        .dependencies
        .iter()
        .find(|d| d.name == "kafka")
        .unwrap()
        .kafka
        .as_ref()
        .unwrap();
    assert_eq!((k.brokers, k.topics[0].replicas), (1, 1));
    // The password goes through the secret mode.
    let creds = berth_spec::dependency::postgres::credentials(
        dev.dependencies.iter().find(|d| d.name == "cache").unwrap(),
    );
    assert_eq!(creds[0].secret, "cache-default-credentials");
}

#[test]
fn sentinel_with_one_replica_too_many_topic_replicas_all_reported_together() {
    let text = format!(
        "{HEAD}services:\n  api: {{ image: api, port: 8000, uses: [cache, kafka] }}\ndependencies:\n  cache:\n    type: redis\n    ha: {{ replicas: 1, sentinel: true }}\n  kafka:\n    type: kafka\n    brokers: 2\n    topics:\n      orders: {{ partitions: 3, replicas: 3 }}\n"
    );
    let errs = errors(&text, None);
    let e = common::one_at(
        &errs,
        &text,
        "`sentinel: true` with 1 replica",
        "1, sentinel",
        0,
    );
    assert_eq!(e.path, "dependencies.cache.ha.replicas");
    assert!(e.help.as_deref().unwrap().contains("replicas: 2"), "{e}");
    let e = common::one_at(
        &errs,
        &text,
        "topic `orders` wants 3 replicas but `kafka` has 2 brokers",
        "3 }",
        0,
    );
    assert_eq!(e.path, "dependencies.kafka.topics.orders.replicas");
    assert!(e.help.as_deref().unwrap().contains("brokers: 3"), "{e}");
    assert_eq!(errs.len(), 2, "{errs:#?}");
}

#[test]
fn partition_decrease_and_replication_change_refused_against_the_lock() {
    let lock = r#"{"kafka-topics": {"prod": {"kafka": {"task.created": {"partitions": 6, "replicas": 3}, "task.done": {"partitions": 3, "replicas": 2}}}}}"#;
    let text = format!(
        "{HEAD}services:\n  api: {{ image: api, port: 8000, uses: [kafka] }}\ndependencies:\n  kafka:\n    type: kafka\n    brokers: 3\n    topics:\n      task.created: {{ partitions: 3 }}\n      task.done: {{ partitions: 3 }}\nenvironments:\n  prod: {{ namespace: shop }}\n"
    );
    let errs = errors(&text, Some(lock));
    let e = common::one_at(&errs, &text, "partitions 6 → 3", "3 }\n      task.done", 0);
    assert!(e.message.contains("cannot remove partitions"), "{e}");
    assert!(e.help.as_deref().unwrap().contains("partitions: 6"), "{e}");
    let e = common::one_at(
        &errs,
        &text,
        "replication factor 2 → 3",
        "{ partitions: 3 }\nenv",
        0,
    );
    assert!(
        e.help
            .as_deref()
            .unwrap()
            .contains("kafka-reassign-partitions"),
        "{e}"
    );
    // Growing partitions is fine.
    let grow = text
        .replace(
            "task.created: { partitions: 3 }",
            "task.created: { partitions: 9 }",
        )
        .replace(
            "task.done: { partitions: 3 }",
            "task.done: { partitions: 3, replicas: 2 }",
        );
    load_with_lock(&grow, Some(lock)).unwrap();
}

#[test]
fn keys_of_other_types_and_modes_are_refused() {
    let text = format!(
        "{HEAD}dependencies:\n  db: {{ type: postgres, brokers: 3 }}\n  cache: {{ type: redis, mode: managed, host: c.example.com, persistence: aof }}\n  bus: {{ type: kafka, ha: true }}\n  ext: {{ type: kafka, host: k.example.com, topics: {{ a: {{}} }} }}\n"
    );
    let errs = errors(&text, None);
    common::one_at(
        &errs,
        &text,
        "`brokers` does not apply to `postgres`",
        "3 }\n  cache",
        0,
    );
    common::one_at(
        &errs,
        &text,
        "`persistence` does not apply to `mode: managed`",
        "aof",
        0,
    );
    common::one_at(&errs, &text, "`ha` does not apply to kafka", "true }", 0);
    common::one_at(
        &errs,
        &text,
        "`topics` does not apply to `mode: external`",
        "{ a: {} }",
        0,
    );
}

#[test]
fn managed_redis_and_kafka_client_variables() {
    let text = format!(
        "{HEAD}services:\n  api: {{ image: api, port: 8000, uses: [cache, bus] }}\ndependencies:\n  cache: {{ type: redis, mode: managed, provider: azure-cache, host: x.redis.cache.windows.net, cluster-mode: true }}\n  bus: {{ type: kafka, mode: managed, provider: msk, host: b-1.msk.example.com, sasl: {{ username: shop }} }}\n"
    );
    let l = load_with_lock(&text, None).unwrap();
    let app = &l.apps[0];
    assert_eq!(var(app, "api", "CACHE_PORT"), Some("6380"));
    assert_eq!(var(app, "api", "CACHE_TLS"), Some("true"));
    assert_eq!(var(app, "api", "CACHE_CLUSTER_MODE"), Some("true"));
    assert_eq!(
        var(app, "api", "BUS_BOOTSTRAP_SERVERS"),
        Some("b-1.msk.example.com:9096")
    );
    assert_eq!(var(app, "api", "BUS_SECURITY_PROTOCOL"), Some("SASL_SSL"));
    assert_eq!(var(app, "api", "BUS_SASL_MECHANISM"), Some("SCRAM-SHA-512"));
    assert_eq!(var(app, "api", "BUS_SASL_USERNAME"), Some("shop"));
    let bus = app.dependencies.iter().find(|d| d.name == "bus").unwrap();
    assert_eq!(
        berth_spec::dependency::postgres::credentials(bus)[0].secret,
        "bus-sasl-credentials"
    );
}
