//! `berth explain APP OBJECT [FIELD]` and `berth diff-env` through the real binary, judged
//! against the renders themselves (loaded and rendered in-process), not against their own output.

use serde_json::Value;
use std::collections::BTreeSet;
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

fn json(args: &[&str]) -> Value {
    let o = berth(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("json")
}

fn render(env: &str) -> berth_render::Rendered {
    let loaded = berth_spec::load(&repo().join("examples/todo")).expect("todo loads");
    berth_render::render(loaded.app(env).expect("env"))
}

fn find<'a>(
    r: &'a berth_render::Rendered,
    kind: &str,
    name: &str,
) -> Option<&'a berth_render::Object> {
    r.objects.iter().find(|o| o.kind == kind && o.name == name)
}

fn spec_line(n: u64) -> String {
    let text = std::fs::read_to_string(repo().join("examples/todo/berth.yaml")).unwrap();
    text.lines().nth(n as usize - 1).unwrap().to_owned()
}

#[test]
fn a_field_set_in_the_spec_points_at_its_line() {
    let field = "spec.template.spec.containers[0].resources.limits.memory";
    let out = json(&[
        "explain",
        "examples/todo",
        "--env",
        "prod",
        "deployment/frontend",
        field,
        "-o",
        "json",
    ]);
    let f = &out["fields"][0];
    let prod = render("prod");
    let rendered = find(&prod, "Deployment", "frontend").unwrap();
    let want = rendered
        .body
        .pointer("/spec/template/spec/containers/0/resources/limits/memory")
        .unwrap();
    assert_eq!(&f["value"], want);
    let origin = &f["origin"];
    assert_eq!(origin["source"], "spec");
    assert_eq!(origin["path"], "services.frontend.resources.memory");
    assert_eq!(origin["layer"], "base");
    let line = spec_line(origin["line"].as_u64().unwrap());
    assert!(line.contains(want.as_str().unwrap()), "{line}");
    assert_eq!(origin["text"], line.trim_end());

    // The text form quotes the line too.
    let text = String::from_utf8(
        berth(&[
            "explain",
            "examples/todo",
            "--env",
            "prod",
            "deployment/frontend",
            field,
        ])
        .stdout,
    )
    .unwrap();
    assert!(
        text.contains("services.frontend.resources.memory (base)") && text.contains(line.trim()),
        "{text}"
    );
}

#[test]
fn defaults_rules_and_environment_settings() {
    let prod = json(&[
        "explain",
        "examples/todo",
        "--env",
        "prod",
        "deployment/backend",
        "-o",
        "json",
    ]);
    let fields = prod["fields"].as_array().unwrap();
    let prod_render = render("prod");
    let rendered = find(&prod_render, "Deployment", "backend").unwrap();
    let mut leaves = 0;
    for f in fields {
        // Every field listed is the render's, with an origin.
        assert_eq!(
            rendered.body.pointer(f["pointer"].as_str().unwrap()),
            Some(&f["value"]),
            "{f}"
        );
        assert!(
            ["spec", "default", "rule"].contains(&f["origin"]["source"].as_str().unwrap()),
            "{f}"
        );
        leaves += 1;
    }
    assert!(leaves > 50);
    let by = |p: &str| {
        fields
            .iter()
            .find(|f| f["pointer"] == p)
            .unwrap_or_else(|| panic!("{p}"))
    };
    // backend sets no resources: the documented default.
    let cpu = &by("/spec/template/spec/containers/0/resources/limits/cpu")["origin"];
    assert_eq!(cpu["source"], "default");
    assert_eq!(cpu["value"], "100m/500m");
    assert_eq!(cpu["doc"], "docs/spec.md#services");
    // Hardening is the pod builder's rule.
    let ro =
        &by("/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem")["origin"];
    assert_eq!(ro["source"], "rule");
    assert!(ro["rule"].as_str().unwrap().contains("hardening"));

    let dev = json(&[
        "explain",
        "examples/todo",
        "--env",
        "dev",
        "deployment/backend",
        "spec.replicas",
        "-o",
        "json",
    ]);
    let o = &dev["fields"][0]["origin"];
    assert_eq!(o["path"], "environments.dev.replicas");
    assert_eq!(o["layer"], "environment");
    assert!(spec_line(o["line"].as_u64().unwrap()).contains("replicas: 1"));

    let pdb = json(&[
        "explain",
        "examples/todo",
        "--env",
        "prod",
        "pdb/backend",
        "spec.maxUnavailable",
        "-o",
        "json",
    ]);
    assert_eq!(pdb["fields"][0]["origin"]["source"], "rule");
}

#[test]
fn unknown_objects_and_fields_exit_2_and_name_the_closest() {
    let o = berth(&[
        "explain",
        "examples/todo",
        "--env",
        "prod",
        "deployment/backnd",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("did you mean `deployment/backend`"), "{err}");
    let o = berth(&[
        "explain",
        "examples/todo",
        "--env",
        "prod",
        // Not autoscaled in prod, so it declares its replicas (defect 9).
        "deployment/notifications",
        "spec.replica",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`spec.replicas`") && err.contains("strategy"),
        "{err}"
    );
    // A check rule is still explained.
    assert!(
        berth(&["explain", "readiness-probe-missing"])
            .status
            .success()
    );
}

#[test]
fn diff_env_todo_dev_prod_matches_the_renders() {
    let d = json(&["diff-env", "examples/todo", "dev", "prod", "-o", "json"]);
    let (dev, prod) = (render("dev"), render("prod"));
    let key = |o: &berth_render::Object| format!("{}/{}", o.kind, o.name);
    let keys = |r: &berth_render::Rendered| r.objects.iter().map(key).collect::<BTreeSet<_>>();
    let listed = |env: &str| {
        d["only"][env]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["name"].as_str().unwrap()
                )
            })
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        listed("dev"),
        keys(&dev).difference(&keys(&prod)).cloned().collect()
    );
    assert_eq!(
        listed("prod"),
        keys(&prod).difference(&keys(&dev)).cloned().collect()
    );
    // Autoscalers and disruption budgets exist only in prod (dev runs one replica each).
    for k in [
        "HorizontalPodAutoscaler/backend",
        "HorizontalPodAutoscaler/frontend",
        "PodDisruptionBudget/backend",
    ] {
        assert!(listed("prod").contains(k), "{k}");
    }

    // Every reported difference is one, with each side's value from its render.
    let objects = d["objects"].as_array().unwrap();
    for o in objects {
        let (kind, name) = (o["kind"].as_str().unwrap(), o["name"].as_str().unwrap());
        let (a, b) = (
            find(&dev, kind, name).unwrap(),
            find(&prod, kind, name).unwrap(),
        );
        for f in o["fields"].as_array().unwrap() {
            let p = f["pointer"].as_str().unwrap();
            let va = a.body.pointer(p).cloned();
            let vb = b.body.pointer(p).cloned();
            assert_ne!(va, vb, "{kind}/{name} {p}");
            if kind != "Secret" {
                assert_eq!(
                    f["dev"]["value"],
                    va.clone().unwrap_or(Value::Null),
                    "{kind}/{name} {p}"
                );
                assert_eq!(
                    f["prod"]["value"],
                    vb.clone().unwrap_or(Value::Null),
                    "{kind}/{name} {p}"
                );
            }
            for side in ["dev", "prod"] {
                if !f[side].is_null() {
                    assert!(
                        ["spec", "default", "rule"]
                            .contains(&f[side]["origin"]["source"].as_str().unwrap()),
                        "{f}"
                    );
                }
            }
        }
    }
    // Every object of both renders whose bodies differ beyond the namespace is reported.
    for a in &dev.objects {
        if let Some(b) = find(&prod, &a.kind, &a.name) {
            let strip = |o: &berth_render::Object| {
                let mut v = o.body.clone();
                v["metadata"].as_object_mut().unwrap().remove("namespace");
                v
            };
            let reported = objects
                .iter()
                .any(|o| o["kind"] == a.kind.as_str() && o["name"] == a.name.as_str());
            assert_eq!(strip(a) != strip(b), reported, "{}", key(a));
        }
    }
    // The replica count: 1 from dev's `replicas`, prod's from the autoscaler's minimum.
    let backend = objects
        .iter()
        .find(|o| o["kind"] == "Deployment" && o["name"] == "backend")
        .unwrap();
    let replicas = backend["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["pointer"] == "/spec/replicas")
        .unwrap();
    assert_eq!(replicas["dev"]["value"], 1);
    assert_eq!(
        replicas["dev"]["origin"]["path"],
        "environments.dev.replicas"
    );
    assert_eq!(
        replicas["prod"]["value"],
        find(&prod, "Deployment", "backend").unwrap().body["spec"]["replicas"]
    );
    // Autoscaled in prod: the HPA owns the count, the Deployment declares none (defect 9).
    assert!(replicas["prod"]["value"].is_null(), "{replicas:#}");
    assert!(
        find(&prod, "HorizontalPodAutoscaler", "backend").is_some(),
        "backend is autoscaled in prod"
    );
}
