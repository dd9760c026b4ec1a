//! Regression tests for the defects found while moving real applications to berth (issue 10),
//! each through the real binary. Every test here failed before its fix.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn berth_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("berth runs")
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", show(o)))
}

/// A temporary app directory holding `spec` as its berth.yaml.
fn app(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("berth.yaml"), spec).unwrap();
    dir
}

// ------------------------------------------------ 1: one tier → check profile mapping

/// An untagged image is allowed in dev by the spec loader; `berth build` and `berth check APP`
/// judge the render with the same profile, so both accept it (as a warning), and outside dev the
/// loader refuses it before any check runs.
#[test]
fn an_untagged_image_in_dev_builds_and_checks_like_the_loader_says() {
    let spec = "app: shop\nservices:\n  web: { image: nginx, port: 8080, health: { ready: /healthz, live: /healthz } }\nenvironments:\n  dev: {}\n";
    let dir = app(spec);
    let build = berth_in(dir.path(), &["build", ".", "-o", "json"]);
    assert_eq!(build.status.code(), Some(0), "{}", show(&build));
    let summary = json(&build);
    let check = &summary["environments"][0]["check"];
    assert_eq!(check["errors"], 0, "{summary:#}");
    assert!(check["warnings"].as_u64().unwrap() >= 1, "{summary:#}");

    let checked = berth_in(dir.path(), &["check", ".", "-o", "json"]);
    assert_eq!(checked.status.code(), Some(0), "{}", show(&checked));
    let report = json(&checked);
    let tag = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "image-tag-mutable")
        .unwrap_or_else(|| panic!("image-tag-mutable still reported in dev: {report:#}"));
    assert_eq!(tag["severity"], "warning");

    let staging = app(&spec.replace("dev: {}", "staging: {}"));
    let o = berth_in(staging.path(), &["build", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
}

/// For every example environment `berth build`'s check summary and `berth check APP` count the
/// same errors, warnings and infos: one place maps a tier to a check profile.
#[test]
fn build_and_check_judge_every_environment_alike() {
    for example in ["todo", "gateway"] {
        let dir = repo().join("examples").join(example);
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let build = berth_in(
            &repo(),
            &[
                "build",
                dir.to_str().unwrap(),
                "--out-dir",
                out.to_str().unwrap(),
                "-o",
                "json",
            ],
        );
        let summary = json(&build);
        let check = berth_in(&repo(), &["check", dir.to_str().unwrap(), "-o", "json"]);
        let report = json(&check);
        for env in summary["environments"].as_array().unwrap() {
            let name = env["environment"].as_str().unwrap();
            let count = |severity: &str| {
                report["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["severity"] == severity)
                    .filter(|f| f["environment"] == name)
                    .count() as u64
            };
            assert_eq!(
                [
                    env["check"]["errors"].as_u64(),
                    env["check"]["warnings"].as_u64(),
                    env["check"]["info"].as_u64()
                ],
                [
                    Some(count("error")),
                    Some(count("warning")),
                    Some(count("info"))
                ],
                "{example}/{name}: build and check disagree"
            );
        }
    }
}

// ------------------------------------------------ 2: findings point at the spec entry

/// `berth check APP` used to report lines of the rendered stream under the spec's name
/// (`./berth.yaml (env dev):830:16` for a short spec). Each finding now points at the spec entry
/// of the service that produced the object, and keeps the rendered position as its origin.
#[test]
fn check_of_an_app_points_findings_at_the_spec_entry() {
    let spec = "app: shop\nversion: 1.0.0\nservices:\n  web:\n    image: web\n    port: 8080\n    health: { ready: /ready, live: /live }\n  worker:\n    image: worker\nenvironments:\n  dev: {}\n  prod: {}\n";
    let lines = spec.lines().count();
    let dir = app(spec);
    let o = berth_in(
        dir.path(),
        &["check", ".", "-o", "json", "--fail-on", "never"],
    );
    let report = json(&o);
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{report:#}");
    for f in findings {
        assert_eq!(f["file"], "./berth.yaml", "{f:#}");
        let line = f["line"].as_u64().unwrap() as usize;
        assert!(
            (1..=lines).contains(&line),
            "line {line} is not in the spec: {f:#}"
        );
        assert!(f["renderedLine"].as_u64().unwrap() > 0, "{f:#}");
        assert!(
            ["dev", "prod"].contains(&f["environment"].as_str().unwrap()),
            "{f:#}"
        );
        if f["object"]["name"] == "worker" && f["object"]["kind"] == "Deployment" {
            assert_eq!(f["specPath"], "services.worker", "{f:#}");
            assert_eq!(
                (f["line"].as_u64(), f["col"].as_u64()),
                (Some(8), Some(3)),
                "{f:#}"
            );
        }
    }
    let worker = findings
        .iter()
        .find(|f| f["rule"] == "liveness-probe-missing")
        .unwrap_or_else(|| panic!("the worker has no liveness probe: {report:#}"));
    assert_eq!(worker["specPath"], "services.worker");

    let human = berth_in(dir.path(), &["check", ".", "--fail-on", "never"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("./berth.yaml:8 (services.worker, env dev)"),
        "{text}"
    );
    assert!(!text.contains("(env dev):"), "{text}");
}
