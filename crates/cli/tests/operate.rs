//! The operating commands through the real binary: exit codes, JSON for scripts, build outputs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn berth(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("berth runs")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn capacity_json_fit_and_exit_codes() {
    let out = berth(&["capacity", "examples/todo", "-o", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert_eq!(doc["environments"].as_array().unwrap().len(), 3);
    // The service pods plus the data tier (CloudNativePG instances, PgBouncer pods, three
    // Valkey pods with their Sentinels, three Kafka brokers).
    assert_eq!(doc["environments"][2]["max"]["pods"], 40);

    let out = berth(&[
        "capacity",
        "examples/gateway",
        "--env",
        "prod",
        "--nodes",
        "3x4cpu16Gi",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["environments"][0]["fit"]["max"]["fits"], true);
    let out = berth(&[
        "capacity",
        "examples/gateway",
        "--env",
        "prod",
        "--nodes",
        "1x1cpu2Gi",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("fit at max: NO"));
    let out = berth(&["capacity", "examples/gateway", "--nodes", "lots"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("3x4cpu16Gi"));
    let out = berth(&["capacity", "examples/gateway", "--env", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn quota_true_renders_the_quota_into_the_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(repo().join("examples/gateway/berth.yaml")).unwrap();
    let spec = src.replace(
        "    namespace: llm-gateway\n",
        "    namespace: llm-gateway\n    quota: true\n",
    );
    assert_ne!(spec, src);
    std::fs::write(dir.path().join("berth.yaml"), spec).unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    std::fs::copy(
        repo().join("examples/gateway/certs/rds-ca.TEST-ONLY.pem"),
        dir.path().join("certs/rds-ca.TEST-ONLY.pem"),
    )
    .unwrap();
    std::fs::copy(
        repo().join("examples/gateway/config/gateway.yaml"),
        dir.path().join("config/gateway.yaml"),
    )
    .unwrap();
    let app = dir.path().to_str().unwrap();
    let out = berth(&["render", app, "--env", "prod"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("kind: ResourceQuota") && text.contains("kind: LimitRange"),
        "{text}"
    );
    let out = berth(&["render", app, "--env", "staging"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ResourceQuota"));
    let printed = berth(&["capacity", app, "--env", "prod", "--quota"]);
    assert!(String::from_utf8_lossy(&printed.stdout).contains("name: llm-gateway-capacity"));
}

#[test]
fn build_writes_and_reports_every_operating_output() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = berth(&[
        "build",
        "examples/todo",
        "--out-dir",
        out_dir.to_str().unwrap(),
        // Outside the checkout: say where the output would be committed.
        "--argocd-path",
        "deploy",
        "-o",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    let formats: Vec<&str> = doc["formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    for name in ["capacity", "graph", "runbook"] {
        assert!(formats.contains(&name), "{formats:?}");
    }
    let runbook = std::fs::read_to_string(out_dir.join("runbook/prod.md")).unwrap();
    assert!(runbook.starts_with("# Runbook: todo (prod)"), "{runbook}");
    let svg = std::fs::read_to_string(out_dir.join("graph/prod.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("backend"));
    let readme = std::fs::read_to_string(out_dir.join("helm/README.md")).unwrap();
    assert!(readme.contains("```mermaid\nflowchart LR"), "{readme}");
    for env in ["dev", "staging", "prod"] {
        let plan: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out_dir.join(format!("capacity/{env}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(plan["environment"], env);
    }
}

#[test]
fn graph_formats() {
    for (format, needle) in [
        ("svg", "<svg"),
        ("mermaid", "flowchart LR"),
        ("dot", "digraph"),
        ("json", "\"edges\""),
    ] {
        let out = berth(&["graph", "examples/todo", "--env", "prod", "-o", format]);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(needle),
            "{format}"
        );
    }
    let doc = json(&berth(&[
        "graph",
        "examples/todo",
        "--env",
        "prod",
        "-o",
        "json",
    ]));
    assert!(
        doc["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == "frontend" && e["to"] == "backend")
    );
    // Several environments and no --env: which one?
    assert_eq!(berth(&["graph", "examples/todo"]).status.code(), Some(2));
}
