//! Proof (a): the resolved compose model agrees with `docker compose config` (the corpus's
//! `docker-compose-config.yaml`, printed by Docker Compose v2.40.3) on every service, image,
//! port, environment variable, volume and dependency of every corpus project.

mod common;
use common::*;
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `docker compose config` prints `$` as `$$` (so its output can be read back).
fn unescape(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("$$", "$")),
        other => other.clone(),
    }
}

fn ports(svc: &Value) -> Vec<String> {
    let mut out: Vec<String> = svc["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{}|{}|{}|{}",
                s(&p["host_ip"]),
                s(&p["published"]),
                s(&p["target"]),
                s(&p["protocol"])
            )
        })
        .collect();
    out.sort();
    out
}

fn volumes(svc: &Value) -> Vec<String> {
    svc["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            format!(
                "{}|{}|{}|{}",
                s(&v["type"]),
                s(&v["source"]),
                s(&v["target"]),
                v["read_only"].as_bool().unwrap_or(false)
            )
        })
        .collect()
}

fn deps(svc: &Value) -> Vec<String> {
    let mut out: Vec<String> = svc["depends_on"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, d)| format!("{k}|{}", s(&d["condition"])))
        .collect();
    out.sort();
    out
}

fn env(svc: &Value) -> Value {
    match svc["environment"].as_object() {
        Some(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), unescape(v))).collect()),
        None => json!({}),
    }
}

#[test]
fn every_corpus_project_resolves_like_docker_compose() {
    let mut failures = Vec::new();
    let projects = corpus_projects();
    for (name, dir) in &projects {
        let want = yaml(&dir.join("docker-compose-config.yaml"));
        let project = match load(dir) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name}: does not load: {e}"));
                continue;
            }
        };
        let got = project.model.to_json();
        let want_services = want["services"].as_object().cloned().unwrap_or_default();
        let got_services = got["services"].as_object().cloned().unwrap_or_default();
        let mut a: Vec<&String> = want_services.keys().collect();
        let mut b: Vec<&String> = got_services.keys().collect();
        a.sort();
        b.sort();
        if a != b {
            failures.push(format!("{name}: services {b:?}, docker compose: {a:?}"));
            continue;
        }
        for (svc, w) in &want_services {
            let g = &got_services[svc];
            let checks: [(&str, Value, Value); 6] = [
                ("image", unescape(&w["image"]), unescape(&g["image"])),
                ("ports", json!(ports(w)), json!(ports(g))),
                ("environment", env(w), env(g)),
                ("volumes", json!(volumes(w)), json!(volumes(g))),
                ("depends_on", json!(deps(w)), json!(deps(g))),
                ("expose", w["expose"].clone(), g["expose"].clone()),
            ];
            for (what, w, g) in checks {
                if w != g {
                    failures.push(format!(
                        "{name}: services.{svc}.{what}: {g} — docker compose: {w}"
                    ));
                }
            }
        }
    }
    println!(
        "{} projects compared, {} differences",
        projects.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
