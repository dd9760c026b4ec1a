//! examples/gateway is a LiteLLM proxy. Its config (taken from the rendered ConfigMap; prod syncs
//! the same file from S3) must consume what berth gives the container in every environment:
//! one Redis (dev) and ElastiCache (prod) as `REDIS_URL`; the Sentinels (staging) as the master
//! name `REDIS_MASTER_NAME` and the password, with the nodes in the JSON form LiteLLM reads
//! (`REDIS_SENTINEL_NODES`, `[[host, port]]`) naming berth's Sentinel Service. A setting read
//! from a variable the container does not have would leave the router without its shared
//! Redis (rate limits and usage counted per replica).

use berth_render::{Object, render};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/gateway")
}

fn objects(env: &str) -> Vec<Object> {
    let loaded = berth_spec::load_env_with(
        &dir(),
        &berth_spec::LoadOptions {
            allow_plain_secrets: true,
            secret_values_optional: true,
        },
        env,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    render(loaded.apps.iter().find(|a| a.env == env).unwrap()).objects
}

fn find<'a>(o: &'a [Object], kind: &str, name: &str) -> Option<&'a Object> {
    o.iter().find(|x| x.kind == kind && x.name == name)
}

/// The variable names (and plain values) the gateway container gets, as Kubernetes builds them:
/// `envFrom` ConfigMaps and Secrets, then `env`.
fn container_env(o: &[Object]) -> Vec<(String, Option<String>)> {
    let d = find(o, "Deployment", "gateway").expect("the gateway Deployment");
    let c = &d.body["spec"]["template"]["spec"]["containers"][0];
    let mut out = Vec::new();
    for from in c["envFrom"].as_array().cloned().unwrap_or_default() {
        if let Some(cm) = from["configMapRef"]["name"].as_str() {
            let m = find(o, "ConfigMap", cm).unwrap_or_else(|| panic!("no ConfigMap {cm}"));
            for (k, v) in m.body["data"].as_object().unwrap() {
                out.push((k.clone(), v.as_str().map(str::to_owned)));
            }
        }
        if let Some(s) = from["secretRef"]["name"].as_str() {
            // The Secret is delivered by the secret mode or created outside berth: its keys are
            // the service's `secrets`.
            assert_eq!(s, "gateway-secrets");
            for k in ["LITELLM_MASTER_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"] {
                out.push((k.into(), None));
            }
        }
    }
    for e in c["env"].as_array().cloned().unwrap_or_default() {
        out.push((
            e["name"].as_str().unwrap().to_owned(),
            e["value"].as_str().map(str::to_owned),
        ));
    }
    out
}

/// Every `os.environ/NAME` under `v`, with the top-level section it is in.
fn reads(v: &serde_json::Value, section: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => {
            if let Some(n) = s.strip_prefix("os.environ/") {
                out.push((section.to_owned(), n.to_owned()));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| reads(x, section, out)),
        Value::Object(m) => m.values().for_each(|x| reads(x, section, out)),
        _ => {}
    }
}

#[test]
fn litellm_reads_only_what_berth_gives_it_in_every_environment() {
    let shipped: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(dir().join("config/gateway.yaml")).unwrap(),
    )
    .unwrap();
    for env in ["dev", "staging", "prod"] {
        let o = objects(env);
        let vars = container_env(&o);
        let names: BTreeSet<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
        let value = |k: &str| {
            vars.iter()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.clone())
        };
        // dev and staging mount the rendered ConfigMap; prod syncs the same file from S3.
        let config: Value = match o
            .iter()
            .find(|x| x.kind == "ConfigMap" && x.body["data"]["config.yaml"].is_string())
        {
            Some(cm) => {
                serde_saphyr::from_str(cm.body["data"]["config.yaml"].as_str().unwrap()).unwrap()
            }
            None => {
                assert_eq!(env, "prod");
                shipped.clone()
            }
        };
        let mut read = Vec::new();
        for (section, v) in config.as_object().unwrap() {
            reads(v, section, &mut read);
        }
        let sentinel = names.contains("REDIS_SENTINEL_NODES");
        assert_ne!(
            sentinel,
            names.contains("REDIS_URL"),
            "{env}: exactly one of REDIS_URL and REDIS_SENTINEL_NODES: {names:?}"
        );
        for (section, n) in &read {
            // The master name is read for Sentinel only; with REDIS_URL LiteLLM connects by URL.
            let optional = n == "REDIS_MASTER_NAME" && !sentinel;
            assert!(
                optional || names.contains(n.as_str()),
                "{env}: {section} reads os.environ/{n}, which the container does not have: {names:?}"
            );
        }
        if sentinel {
            // berth's own names for the Sentinels.
            assert_eq!(value("REDIS_MASTER_NAME").as_deref(), Some("redis"));
            assert!(names.contains("REDIS_PASSWORD") && names.contains("REDIS_SENTINELS"));
            let nodes: Vec<(String, u16)> =
                serde_json::from_str(&value("REDIS_SENTINEL_NODES").unwrap())
                    .expect("REDIS_SENTINEL_NODES is LiteLLM's JSON [[host, port], ...]");
            assert!(!nodes.is_empty());
            for (host, port) in nodes {
                let svc = find(&o, "Service", &host)
                    .unwrap_or_else(|| panic!("{env}: no Service {host} for the Sentinels"));
                let ports: Vec<u64> = svc.body["spec"]["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|p| p["port"].as_u64())
                    .collect();
                assert_eq!(
                    ports,
                    vec![port as u64],
                    "{env}: {host} serves the Sentinels only"
                );
                assert_eq!(port, 26379);
            }
        } else {
            let url = value("REDIS_URL").unwrap();
            assert!(
                url.starts_with("redis://") || url.starts_with("rediss://"),
                "{url}"
            );
        }
    }
}
