//! The KRaft `CLUSTER_ID` of in-cluster brokers is kept in a Secret (`DEP-cluster-id`, key
//! `CLUSTER_ID`) that the environment's secret mode delivers, like the data tier's credentials:
//! a plain Secret in dev (the dotenv key `KAFKA_CLUSTER_ID`), a SealedSecret in staging, an
//! ExternalSecret in prod; the brokers read it by `secretKeyRef`, and no ConfigMap carries it.
//! Strimzi generates its own. A plain value that is not a Kafka UUID is refused at load time,
//! without the value in the message.

use berth_render::{Object, render};
use serde_json::{Value, json};
use std::path::Path;

fn todo(env: &str) -> Vec<Object> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo");
    let loaded = berth_spec::load_env_with(&dir, &berth_spec::LoadOptions::default(), env)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let app = loaded.apps.iter().find(|a| a.env == env).unwrap();
    render(app).objects
}

fn broker_env(objects: &[Object]) -> Value {
    let sts = objects
        .iter()
        .find(|o| o.kind == "StatefulSet" && o.name == "kafka")
        .expect("the brokers' StatefulSet");
    let c = &sts.body["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "kafka");
    c["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "CLUSTER_ID")
        .cloned()
        .expect("CLUSTER_ID in the broker env")
}

fn named<'a>(objects: &'a [Object], name: &str) -> Vec<&'a Object> {
    objects.iter().filter(|o| o.name == name).collect()
}

#[test]
fn brokers_read_the_cluster_id_from_a_secret_in_every_secret_mode() {
    for env in ["dev", "staging", "prod"] {
        let o = todo(env);
        assert_eq!(
            broker_env(&o)["valueFrom"],
            json!({"secretKeyRef": {"name": "kafka-cluster-id", "key": "CLUSTER_ID"}}),
            "{env}"
        );
        let objs = named(&o, "kafka-cluster-id");
        assert_eq!(objs.len(), 1, "{env}: one object named kafka-cluster-id");
        let obj = objs[0];
        assert_ne!(obj.kind, "ConfigMap", "{env}: the ID is not in a ConfigMap");
        // Before the brokers (wave 3) that read it.
        assert_eq!(
            obj.body["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "2",
            "{env}"
        );
        match env {
            "dev" => {
                // mode: plain — the value of `.env.dev`, and only there.
                assert_eq!(obj.kind, "Secret");
                assert_eq!(obj.body["type"], "Opaque");
                let b64 = obj.body["data"]["CLUSTER_ID"].as_str().unwrap();
                let id = String::from_utf8(base64_decode(b64)).unwrap();
                let dotenv = std::fs::read_to_string(
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo/.env.dev"),
                )
                .unwrap();
                assert!(dotenv.contains(&format!("\nKAFKA_CLUSTER_ID={id}\n")));
                assert!(berth_spec::dependency::kafka::decode_uuid(&id).is_some());
                // Nowhere else in the output: not in a ConfigMap, an env value or a script.
                let elsewhere = o
                    .iter()
                    .filter(|x| x.name != "kafka-cluster-id")
                    .any(|x| serde_json::to_string(&x.body).unwrap().contains(&id));
                assert!(!elsewhere, "the cluster ID leaked outside its Secret");
            }
            "staging" => {
                assert_eq!(obj.kind, "SealedSecret");
                assert_eq!(obj.body["spec"]["template"]["type"], "Opaque");
                let sealed = obj.body["spec"]["encryptedData"]["CLUSTER_ID"]
                    .as_str()
                    .unwrap();
                assert!(berth_spec::is_sealed_value(sealed));
            }
            _ => {
                assert_eq!(obj.kind, "ExternalSecret");
                assert_eq!(
                    obj.body["spec"]["data"],
                    json!([{"secretKey": "CLUSTER_ID", "remoteRef": {"key": "todo/prod/kafka-cluster-id", "property": "CLUSTER_ID"}}])
                );
                assert_eq!(obj.body["spec"]["target"]["name"], "kafka-cluster-id");
            }
        }
    }
}

const SPEC: &str = "app: shop
version: 1.0.0
services:
  api: { image: api, port: 8080, uses: [events] }
dependencies:
  events: { type: kafka, brokers: 1 }
environments:
  dev: { namespace: shop-dev, secrets: { mode: plain, from: .env } }
";

fn load(spec: &str, dotenv: &str) -> Result<berth_spec::Loaded, berth_spec::SpecErrors> {
    let dotenv = dotenv.to_owned();
    berth_spec::load_str(Path::new("berth.yaml"), spec, &move |p| {
        if p == Path::new(".env") {
            Ok(dotenv.clone().into_bytes())
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    })
}

#[test]
fn a_plain_cluster_id_must_be_a_kafka_uuid_and_is_never_echoed() {
    let ok = load(SPEC, "EVENTS_CLUSTER_ID=MkU3OEVBNTcwNTJENDM2Qg\n").expect("a valid ID loads");
    let o = render(&ok.apps[0]).objects;
    assert_eq!(named(&o, "events-cluster-id")[0].kind, "Secret");

    let bad = "not-a-kafka-uuid-value-0451";
    let e = load(SPEC, &format!("EVENTS_CLUSTER_ID={bad}\n")).expect_err("refused");
    let text: Vec<String> = e.errors.iter().map(|e| e.one_line()).collect();
    let all = text.join("\n");
    assert_eq!(text.len(), 1, "{all}");
    assert!(
        all.contains("EVENTS_CLUSTER_ID") && all.contains("not a Kafka cluster ID"),
        "{all}"
    );
    assert!(all.contains("berth.yaml:"), "file:line:col: {all}");
    assert!(all.contains("random-uuid"), "a fix: {all}");
    assert!(!all.contains(bad), "the value is echoed: {all}");

    let missing = load(SPEC, "OTHER=1\n").expect_err("a missing ID is refused");
    let all: Vec<String> = missing.errors.iter().map(|e| e.one_line()).collect();
    assert!(
        all.iter().any(|l| l.contains("EVENTS_CLUSTER_ID")),
        "{all:?}"
    );
}

#[test]
fn strimzi_generates_its_own_cluster_id() {
    let spec = SPEC.replace("brokers: 1", "operator: strimzi");
    let loaded = load(&spec, "").expect("no cluster ID needed with Strimzi");
    let o = render(&loaded.apps[0]).objects;
    assert!(named(&o, "events-cluster-id").is_empty());
}

fn base64_decode(s: &str) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | A.iter().position(|a| *a == c).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
