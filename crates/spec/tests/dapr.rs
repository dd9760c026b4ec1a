//! Dapr on a service: what it resolves to, and every mistake pointed at with a fix.

mod common;

use berth_spec::{Loaded, SpecError, load_str};
use std::path::Path;

const HEAD: &str = "app: shop\nversion: 1.0.0\n";
const DEPS: &str = "dependencies:\n  kafka: { type: kafka, host: k.example.internal }\n  events: { type: kafka, host: e.example.internal }\n  cache: { type: redis, host: c.example.internal }\n";

fn load(text: &str) -> Result<Loaded, Vec<SpecError>> {
    load_str(Path::new("berth.yaml"), text, &|_| Ok(Vec::new())).map_err(|e| e.errors)
}

#[track_caller]
fn expect_one(text: &str, message: &str, needle: &str, nth: usize) -> SpecError {
    let errs = match load(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e,
    };
    common::one_at(&errs, text, message, needle, nth)
}

#[test]
fn dapr_resolves_pubsub_state_and_defaults() {
    let text = format!(
        "{HEAD}services:\n  api:\n    image: api\n    port: 8000\n    uses: [kafka, cache]\n    dapr: {{ subscribe: {{ task.created: /events/created }}, publish: [task.updated] }}\n  web: {{ image: web, port: 80, dapr: true }}\n  off: {{ image: off, port: 80, dapr: false }}\n{DEPS}"
    );
    let loaded = load(&text).unwrap_or_else(|e| panic!("{e:#?}"));
    let app = loaded.app("default").expect("default environment");
    let api = app.services.iter().find(|s| s.name == "api").unwrap();
    let d = api.dapr.as_ref().unwrap();
    assert_eq!(d.app_id, "api");
    assert_eq!(d.app_port, Some(8000));
    assert_eq!(d.pubsub.as_deref(), Some("kafka"));
    assert_eq!(d.state, vec!["cache".to_string()]);
    assert_eq!(
        d.subscribe,
        vec![("task.created".to_string(), "/events/created".to_string())]
    );
    assert_eq!(d.cpu.request.text, "100m");
    let web = app.services.iter().find(|s| s.name == "web").unwrap();
    assert!(web.dapr.as_ref().unwrap().pubsub.is_none());
    assert!(
        app.services
            .iter()
            .find(|s| s.name == "off")
            .unwrap()
            .dapr
            .is_none()
    );
}

#[test]
fn pubsub_on_a_service_that_uses_no_broker() {
    let text = format!(
        "{HEAD}services:\n  api:\n    image: api\n    port: 8000\n    uses: [cache]\n    dapr:\n      subscribe: {{ task.created: /events/created }}\n{DEPS}"
    );
    let e = expect_one(
        &text,
        "Dapr pub/sub on `api`, which uses no broker",
        "{ task.created",
        0,
    );
    assert!(e.help.as_deref().unwrap().contains("uses: [kafka]"), "{e}");
    assert_eq!(e.path, "services.api.dapr.subscribe");
}

#[test]
fn publish_without_broker_points_at_publish() {
    let text =
        format!("{HEAD}services:\n  api:\n    image: api\n    dapr:\n      publish: [a]\n{DEPS}");
    expect_one(
        &text,
        "Dapr pub/sub on `api`, which uses no broker",
        "[a]",
        0,
    );
}

#[test]
fn several_brokers_need_pubsub_and_pubsub_must_be_used() {
    let text = format!(
        "{HEAD}services:\n  api:\n    image: api\n    uses: [kafka, events]\n    dapr:\n      publish: [a]\n{DEPS}"
    );
    let e = expect_one(
        &text,
        "uses several Kafka dependencies (kafka, events)",
        "publish: [a]",
        0,
    );
    assert!(e.help.as_deref().unwrap().contains("pubsub: kafka"), "{e}");
    let text = format!(
        "{HEAD}services:\n  api:\n    image: api\n    uses: [kafka]\n    dapr:\n      publish: [a]\n      pubsub: events\n{DEPS}"
    );
    expect_one(
        &text,
        "through `events`, which `api` does not use",
        "events\n",
        0,
    );
}

#[test]
fn bad_routes_protocols_and_missing_port() {
    let text = format!(
        "{HEAD}services:\n  api:\n    image: api\n    uses: [kafka]\n    dapr:\n      protocol: soap\n      subscribe: {{ t: events }}\n{DEPS}"
    );
    let errs = load(&text).unwrap_err();
    common::one_at(&errs, &text, "unknown Dapr app protocol `soap`", "soap", 0);
    common::one_at(
        &errs,
        &text,
        "route `events` of topic `t` is not a path",
        "{ t: events }",
        0,
    );
    common::one_at(
        &errs,
        &text,
        "subscribes to topics but has no port",
        "{ t: events }",
        0,
    );
}
