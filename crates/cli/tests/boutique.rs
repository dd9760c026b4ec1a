//! examples/boutique is Online Boutique (microservices-demo) written in berth. This test renders it
//! and compares the result with the project's own release manifests (from ../shared/corpus), field
//! by field wherever both say something: images, container ports, Service ports, probe kinds,
//! ports, paths, headers and timings, environment (names and values, wherever berth delivers
//! them: inline, or the ConfigMap behind `envFrom`), and resources. The deliberate differences
//! (hardening, labels, names) are listed in docs/examples.md and are not compared here.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn docs(text: &str) -> Vec<Value> {
    berth_yaml::parse_stream(text, berth_yaml::Limits::default())
        .into_iter()
        .filter_map(|d| d.root.expect("valid YAML").map(|n| n.to_json()))
        .collect()
}

fn official() -> Vec<Value> {
    let path = repo()
        .join("../shared/corpus/manifests/microservices-demo-release/kubernetes-manifests.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} — the corpus must sit beside the clone as ../shared/corpus",
            path.display()
        )
    });
    docs(&text)
}

fn rendered(env: &str) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["render", "examples/boutique", "--env", env])
        .current_dir(repo())
        .output()
        .expect("berth runs");
    assert!(
        out.status.success(),
        "berth render examples/boutique --env {env}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    docs(&String::from_utf8(out.stdout).unwrap())
}

fn find<'a>(objs: &'a [Value], kinds: &[&str], name: &str) -> Option<&'a Value> {
    objs.iter().find(|o| {
        kinds.contains(&o["kind"].as_str().unwrap_or_default()) && o["metadata"]["name"] == name
    })
}

/// The main container of a workload: the one named like the workload, else the first.
fn main_container<'a>(workload: &'a Value, name: &str) -> &'a Value {
    let cs = workload["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    cs.iter().find(|c| c["name"] == name).unwrap_or(&cs[0])
}

/// A port reference resolved to its number through the container's named ports.
fn port_number(container: &Value, port: &Value) -> i64 {
    match port {
        Value::Number(n) => n.as_i64().unwrap(),
        Value::String(s) => container["ports"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == *s))
            .and_then(|p| p["containerPort"].as_i64())
            .unwrap_or_else(|| panic!("named port {s} not in the container")),
        other => panic!("port {other}"),
    }
}

/// What a probe checks, independent of how the port is referenced.
fn probe_shape(container: &Value, probe: &Value) -> Value {
    let mut shape = serde_json::Map::new();
    if let Some(g) = probe.get("grpc") {
        shape.insert("kind".into(), "grpc".into());
        shape.insert("port".into(), g["port"].clone());
        if let Some(s) = g.get("service") {
            shape.insert("service".into(), s.clone());
        }
    } else if let Some(h) = probe.get("httpGet") {
        shape.insert("kind".into(), "http".into());
        shape.insert("port".into(), port_number(container, &h["port"]).into());
        shape.insert("path".into(), h["path"].clone());
        if let Some(hd) = h.get("httpHeaders") {
            shape.insert("headers".into(), hd.clone());
        }
    } else if let Some(t) = probe.get("tcpSocket") {
        shape.insert("kind".into(), "tcp".into());
        shape.insert("port".into(), port_number(container, &t["port"]).into());
    } else if let Some(e) = probe.get("exec") {
        shape.insert("kind".into(), "exec".into());
        shape.insert("command".into(), e["command"].clone());
    }
    Value::Object(shape)
}

/// Environment as the container sees it: inline values and the ConfigMaps behind envFrom.
fn environment(objs: &[Value], ns: Option<&str>, container: &Value) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for from in container["envFrom"].as_array().into_iter().flatten() {
        if let Some(name) = from["configMapRef"]["name"].as_str() {
            let cm = objs
                .iter()
                .find(|o| {
                    o["kind"] == "ConfigMap"
                        && o["metadata"]["name"] == name
                        && (ns.is_none() || o["metadata"]["namespace"].as_str() == ns)
                })
                .unwrap_or_else(|| panic!("ConfigMap {name} is not rendered"));
            for (k, v) in cm["data"].as_object().into_iter().flatten() {
                env.insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    for e in container["env"].as_array().into_iter().flatten() {
        let value = match e.get("value") {
            Some(v) => v.as_str().unwrap_or_default().to_owned(),
            None => "<from>".to_owned(),
        };
        env.insert(e["name"].as_str().unwrap().to_owned(), value);
    }
    env
}

#[test]
fn boutique_matches_the_official_manifests_where_both_say_something() {
    let theirs = official();
    let ours = rendered("prod");
    let mut compared = 0;
    let mut problems = Vec::new();
    for deploy in theirs.iter().filter(|o| o["kind"] == "Deployment") {
        let name = deploy["metadata"]["name"].as_str().unwrap();
        let Some(workload) = find(&ours, &["Deployment", "StatefulSet"], name) else {
            problems.push(format!("{name}: no Deployment or StatefulSet rendered"));
            continue;
        };
        let ns = workload["metadata"]["namespace"].as_str();
        let t = &deploy["spec"]["template"]["spec"]["containers"][0];
        let o = main_container(workload, name);
        let mut check = |what: &str, a: Value, b: Value| {
            compared += 1;
            if a != b {
                problems.push(format!("{name} {what}: official {a}, berth {b}"));
            }
        };
        check("image", t["image"].clone(), o["image"].clone());
        let ports = |c: &Value| -> Value {
            let mut p: Vec<i64> = c["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["containerPort"].as_i64())
                .collect();
            p.sort();
            p.into()
        };
        check("container ports", ports(t), ports(o));
        for probe in ["readinessProbe", "livenessProbe"] {
            let (tp, op) = (&t[probe], &o[probe]);
            if tp.is_null() {
                continue;
            }
            if op.is_null() {
                check(probe, tp.clone(), Value::Null);
                continue;
            }
            check(probe, probe_shape(t, tp), probe_shape(o, op));
            for timing in ["initialDelaySeconds", "periodSeconds"] {
                if !tp[timing].is_null() {
                    check(
                        &format!("{probe}.{timing}"),
                        tp[timing].clone(),
                        op[timing].clone(),
                    );
                }
            }
        }
        let their_env = environment(&theirs, None, t);
        let our_env = environment(&ours, ns, o);
        for (k, v) in &their_env {
            check(
                &format!("env {k}"),
                Value::from(v.as_str()),
                our_env
                    .get(k)
                    .map(|s| Value::from(s.as_str()))
                    .unwrap_or(Value::Null),
            );
        }
        for (side, key) in [
            ("requests", "cpu"),
            ("requests", "memory"),
            ("limits", "cpu"),
            ("limits", "memory"),
        ] {
            check(
                &format!("resources.{side}.{key}"),
                t["resources"][side][key].clone(),
                o["resources"][side][key].clone(),
            );
        }
    }
    for svc in theirs.iter().filter(|o| o["kind"] == "Service") {
        let name = svc["metadata"]["name"].as_str().unwrap();
        // `expose: { type: load-balancer }` renders the load balancer as NAME-external beside
        // the in-cluster Service, as the official manifests do.
        let ours_name = name.strip_suffix("-external").unwrap_or(name);
        let Some(o) = find(&ours, &["Service"], name) else {
            problems.push(format!("Service {name}: not rendered"));
            continue;
        };
        let workload = find(&ours, &["Deployment", "StatefulSet"], ours_name).unwrap();
        let container = main_container(workload, ours_name);
        let pairs = |s: &Value, c: Option<&Value>| -> Value {
            let mut p: Vec<(i64, i64)> = s["spec"]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let target = match c {
                        Some(c) => port_number(c, &p["targetPort"]),
                        None => p["targetPort"].as_i64().unwrap(),
                    };
                    (p["port"].as_i64().unwrap(), target)
                })
                .collect();
            p.sort();
            serde_json::to_value(p).unwrap()
        };
        compared += 1;
        if pairs(svc, None) != pairs(o, Some(container)) {
            problems.push(format!(
                "Service {name} ports: official {}, berth {}",
                pairs(svc, None),
                pairs(o, Some(container))
            ));
        }
        if svc["spec"]["type"] == "LoadBalancer" {
            compared += 1;
            if o["spec"]["type"] != "LoadBalancer" {
                problems.push(format!(
                    "Service {name}: official is a LoadBalancer, berth's is {}",
                    o["spec"]["type"]
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // 12 Deployments × (image, ports, probes, env, resources) and 13 Services.
    assert!(compared > 150, "only {compared} fields compared");
}

#[test]
fn redis_cart_keeps_its_data_on_a_persistent_volume() {
    let ours = rendered("prod");
    let sts = find(&ours, &["StatefulSet"], "redis-cart").expect("redis-cart is a StatefulSet");
    let claims = sts["spec"]["volumeClaimTemplates"]
        .as_array()
        .expect("volume claims");
    assert_eq!(claims.len(), 1);
    let container = main_container(sts, "redis-cart");
    let claim = claims[0]["metadata"]["name"].as_str().unwrap();
    assert!(
        container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == claim && m["mountPath"] == "/data"),
        "{container}"
    );
}
