//! `berth render --format …` and `berth build` writing every format, through the real binary.

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

#[test]
fn render_writes_each_format_into_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    for (format, marker) in [
        ("kustomize", "overlays/prod/kustomization.yaml"),
        ("helm", "Chart.yaml"),
        ("argocd", "root.yaml"),
        ("compose", "compose.yaml"),
    ] {
        let dir = tmp.path().join(format);
        let out = berth(&[
            "render",
            "examples/todo",
            "--format",
            format,
            "-o",
            dir.to_str().unwrap(),
            "--argocd-repo",
            "https://github.com/acme/deploy.git",
            "--argocd-path",
            "deploy",
        ]);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(dir.join(marker).is_file(), "{format}: no {marker}");
    }
    let argo = std::fs::read_to_string(tmp.path().join("argocd/apps/prod.yaml")).unwrap();
    assert!(
        argo.contains("repoURL: https://github.com/acme/deploy.git"),
        "{argo}"
    );
}

#[test]
fn only_manifests_go_to_stdout() {
    let out = berth(&["render", "examples/todo", "--format", "helm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-o DIR"));
    let out = berth(&[
        "render",
        "examples/todo",
        "--format",
        "kustomize",
        "--env",
        "dev",
        "-o",
        "/tmp/x",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn build_writes_every_format_and_reports_each() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let out = berth(&[
        "build",
        "examples/gateway",
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
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let formats: Vec<&str> = summary["formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(
        formats,
        [
            "manifests",
            "kustomize",
            "helm",
            "argocd",
            "compose",
            "monitoring",
            "capacity",
            "graph",
            "runbook"
        ]
    );
    for f in summary["formats"].as_array().unwrap() {
        assert_eq!(f["status"], "ok");
        assert!(f["files"].as_u64().unwrap() > 0);
    }
    for dir in [
        "dev",
        "prod",
        "kustomize/base",
        "helm/templates",
        "argocd/apps",
        "compose",
    ] {
        assert!(out_dir.join(dir).is_dir(), "no {dir}");
    }
    let table = berth(&[
        "build",
        "examples/gateway",
        "--out-dir",
        out_dir.to_str().unwrap(),
        // Outside the checkout: say where the output would be committed.
        "--argocd-path",
        "deploy",
    ]);
    let text = String::from_utf8_lossy(&table.stdout);
    for name in ["kustomize", "helm", "argocd", "compose"] {
        assert!(
            text.contains(&format!("{}", out_dir.join(name).display())),
            "{text}"
        );
    }
}
