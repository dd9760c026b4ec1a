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
                "--argocd-path",
                "out",
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

// ------------------------------------------------ 3: a dependency at an IP address

fn docs(text: &str) -> Vec<Value> {
    berth_yaml::parse_stream(text, berth_yaml::Limits::default())
        .into_iter()
        .filter_map(|d| d.root.expect("valid YAML").map(|n| n.to_json()))
        .collect()
}

fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// The egress rule of `svc`'s NetworkPolicy on `port`: its ipBlock CIDRs.
fn egress_cidrs(objs: &[Value], svc: &str, port: u64) -> Vec<String> {
    find(objs, "NetworkPolicy", svc)["spec"]["egress"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ports"][0]["port"] == port)
        .flat_map(|r| r["to"].as_array().unwrap().clone())
        .filter_map(|peer| peer["ipBlock"]["cidr"].as_str().map(str::to_owned))
        .collect()
}

/// A dependency whose host is an IP rendered `type: ExternalName` with `externalName:
/// 10.0.0.3`, which cluster DNS never resolves, and its users' egress was `0.0.0.0/0`. An IP
/// (v4 or v6) is now a selector-less Service with an EndpointSlice holding the address under
/// the Service's port name, and egress goes to that address (or the declared `cidr`) alone.
/// The output passes berth's own schema check; kubectl kustomize and helm template
/// equivalence for IP dependencies is in the emit tests (SHAPES).
#[test]
fn a_dependency_at_an_ip_is_an_endpoint_slice_and_egress_to_that_address() {
    let spec = "app: shop\nversion: 1.0.0\nservices:\n  web: { image: web, port: 8080, health: { ready: /ready, live: /live }, uses: [ledger, cache, search, sessions, mail] }\ndependencies:\n  ledger: { type: postgres, host: 10.0.0.3 }\n  cache: { type: redis, host: \"fd00:10::7\" }\n  search: { type: elasticsearch, host: 10.1.2.3, cidr: 10.1.0.0/16 }\n  sessions: { type: redis, mode: managed, host: 10.9.0.5, port: 6380 }\n  mail: { type: tcp, host: smtp.example.com, port: 587 }\nenvironments:\n  prod: {}\n";
    let dir = app(spec);
    let o = berth_in(dir.path(), &["render", ".", "--env", "prod"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let objs = docs(&text);
    for (name, ip, family, port) in [
        ("ledger", "10.0.0.3", "IPv4", 5432),
        ("cache", "fd00:10::7", "IPv6", 6379),
        ("search", "10.1.2.3", "IPv4", 9200),
    ] {
        let svc = find(&objs, "Service", name);
        assert_ne!(svc["spec"]["type"], "ExternalName", "{svc:#}");
        assert!(svc["spec"].get("externalName").is_none(), "{svc:#}");
        assert!(svc["spec"].get("selector").is_none(), "{svc:#}");
        let port_name = svc["spec"]["ports"][0]["name"].as_str().unwrap();
        let slice = find(&objs, "EndpointSlice", name);
        assert_eq!(slice["apiVersion"], "discovery.k8s.io/v1");
        assert_eq!(
            slice["metadata"]["labels"]["kubernetes.io/service-name"],
            name
        );
        assert_eq!(slice["metadata"]["namespace"], svc["metadata"]["namespace"]);
        assert_eq!(slice["addressType"], family, "{slice:#}");
        assert_eq!(slice["endpoints"][0]["addresses"][0], ip, "{slice:#}");
        assert_eq!(slice["ports"][0]["name"], port_name, "{slice:#}");
        assert_eq!(slice["ports"][0]["port"], port, "{slice:#}");
    }
    assert_eq!(egress_cidrs(&objs, "web", 5432), ["10.0.0.3/32"]);
    assert_eq!(egress_cidrs(&objs, "web", 6379), ["fd00:10::7/128"]);
    assert_eq!(egress_cidrs(&objs, "web", 9200), ["10.1.0.0/16"]);
    // Managed: clients use the address itself (no Service), egress to it alone.
    assert_eq!(egress_cidrs(&objs, "web", 6380), ["10.9.0.5/32"]);
    let web = find(&objs, "ConfigMap", "web-env").to_string();
    assert!(web.contains("redis://cache:6379"), "{web}");
    assert!(web.contains(r#""SESSIONS_HOST":"10.9.0.5""#), "{web}");
    // A host name keeps its ExternalName Service and any address on its port.
    assert_eq!(
        find(&objs, "Service", "mail")["spec"]["type"],
        "ExternalName"
    );
    assert_eq!(egress_cidrs(&objs, "web", 587), ["0.0.0.0/0"]);
    assert!(
        !objs
            .iter()
            .any(|o| o["kind"] == "EndpointSlice" && o["metadata"]["name"] == "mail")
    );

    // Schema-valid (berth's own check of the rendered stream, strict schemas).
    let file = dir.path().join("prod.yaml");
    std::fs::write(&file, &text).unwrap();
    let checked = berth_in(
        dir.path(),
        &["check", "prod.yaml", "-o", "json", "--fail-on", "never"],
    );
    let report = json(&checked);
    let schema: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "schema-valid")
        .collect();
    assert!(schema.is_empty(), "{schema:#?}");
    // And an independent judge: the Kubernetes OpenAPI schemas, strict.
    let tools = std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"));
    let validate = tools.join("venv/bin/kubernetes-validate");
    assert!(
        validate.exists(),
        "{} is missing: run scripts/setup.d/00-python.sh",
        validate.display()
    );
    let v = Command::new(validate)
        .args(["--strict", "--quiet", "-k", "1.33.0"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", show(&v));

    // A declared network must contain the address.
    let bad = app(&spec.replace("cidr: 10.1.0.0/16", "cidr: 10.2.0.0/16"));
    let o = berth_in(bad.path(), &["render", ".", "--env", "prod"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not contain"),
        "{}",
        show(&o)
    );
}

// ------------------------------------------------ 5: build output read once, duplicates found

/// `berth check out/prod` read every object twice (`all.yaml` and the per-object files), and a
/// second, conflicting copy of an object passed silently. Berth's output layout is now read
/// once (a build root: only its environment directories), and `duplicate-object` reports what
/// is left.
#[test]
fn check_of_build_output_reads_each_object_once_and_flags_copies() {
    let spec = "app: shop\nversion: 1.0.0\nservices:\n  web: { image: web, port: 8080, health: { ready: /ready, live: /live }, replicas: 2 }\nenvironments:\n  dev: {}\n  prod: {}\n";
    let dir = app(spec);
    let build = berth_in(dir.path(), &["build", "."]);
    assert_eq!(build.status.code(), Some(0), "{}", show(&build));
    let objects = |env: &str| {
        std::fs::read_dir(dir.path().join("out").join(env))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != "all.yaml")
            .count() as u64
    };
    let duplicates = |report: &Value| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "duplicate-object")
            .cloned()
            .collect::<Vec<_>>()
    };
    let prod = json(&berth_in(dir.path(), &["check", "out/prod", "-o", "json"]));
    assert_eq!(
        prod["summary"]["objects"].as_u64(),
        Some(objects("prod")),
        "{prod:#}"
    );
    assert!(duplicates(&prod).is_empty(), "{prod:#}");
    assert!(prod["notices"].to_string().contains("all.yaml"), "{prod:#}");

    let root = json(&berth_in(dir.path(), &["check", "out", "-o", "json"]));
    assert_eq!(
        root["summary"]["objects"].as_u64(),
        Some(objects("prod") + objects("dev")),
        "{root:#}"
    );
    assert_eq!(root["summary"]["inputErrors"], 0, "{root:#}");
    assert!(duplicates(&root).is_empty(), "{root:#}");

    // A stale, conflicting copy left in the directory.
    let deployment = dir.path().join("out/prod/deployment-web.yaml");
    let stale = std::fs::read_to_string(&deployment)
        .unwrap()
        .replace("replicas: 2", "replicas: 7");
    std::fs::write(dir.path().join("out/prod/web-old.yaml"), stale).unwrap();
    let o = berth_in(dir.path(), &["check", "out/prod", "-o", "json"]);
    let report = json(&o);
    let dups = duplicates(&report);
    assert!(
        dups.iter().any(|f| f["object"]["name"] == "web"
            && f["object"]["kind"] == "Deployment"
            && f["severity"] == "error"
            && f["message"].as_str().unwrap().contains("differs")),
        "{report:#}"
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
}

// ------------------------------------------------ 7: render validates what it renders

/// `berth render --env dev` failed on an error only prod has (an untagged image is an error
/// outside dev). Render now validates the environment it renders; the other environments'
/// errors are warnings there, and `render --env prod`, `build` and `check APP` still fail.
#[test]
fn render_of_one_environment_is_not_blocked_by_another() {
    let spec = "app: shop\nservices:\n  web: { image: web, port: 8080, health: { ready: /ready } }\nenvironments:\n  dev: {}\n  prod: {}\n";
    let dir = app(spec);
    let dev = berth_in(dir.path(), &["render", ".", "--env", "dev"]);
    assert_eq!(dev.status.code(), Some(0), "{}", show(&dev));
    assert!(String::from_utf8_lossy(&dev.stdout).contains("kind: Deployment"));
    let err = String::from_utf8_lossy(&dev.stderr);
    assert!(
        err.contains("warning") && err.contains("prod") && err.contains("berth.yaml:3:"),
        "the prod error is still shown, as a warning: {err}"
    );
    let out = dir.path().join("dev-out");
    let files = berth_in(
        dir.path(),
        &["render", ".", "--env", "dev", "-o", out.to_str().unwrap()],
    );
    assert_eq!(files.status.code(), Some(0), "{}", show(&files));
    for args in [
        &["render", ".", "--env", "prod"][..],
        &["build", "."],
        &["check", "."],
        &["render", ".", "--format", "helm", "-o", "chart"],
    ] {
        let o = berth_in(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", show(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("has no tag"),
            "{args:?}: {}",
            show(&o)
        );
    }
    // A mistake every environment has still stops the render of any one.
    let broken = app(&spec.replace("health:", "uses: [nope], health:"));
    let o = berth_in(broken.path(), &["render", ".", "--env", "dev"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
}

// ------------------------------------------------ 11: Argo CD path of an out-of-checkout output

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(o.status.success(), "git {args:?}: {}", show(&o));
}

/// `--out-dir` outside the git checkout holding the app wrote Argo CD Applications whose
/// `path` named a directory that is not in the repository. That is refused with the fix (write
/// inside the checkout, or `--argocd-path`), before anything is written; inside the checkout
/// the path is relative to its root.
#[test]
fn an_output_outside_the_checkout_needs_its_repository_path() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let app_dir = repo.path().join("apps/shop");
    std::fs::create_dir_all(&app_dir).unwrap();
    std::fs::write(
        app_dir.join("berth.yaml"),
        "app: shop\nversion: 1.0.0\nservices:\n  web: { image: web, port: 8080, health: { ready: /ready } }\nenvironments:\n  dev: {}\n",
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("out");
    let o = berth_in(
        &app_dir,
        &["build", ".", "--out-dir", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--argocd-path") && err.contains("outside"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written");
    let o = berth_in(
        &app_dir,
        &[
            "render",
            ".",
            "--format",
            "argocd",
            "-o",
            out.join("argocd").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));

    // Told where it is committed: that path.
    let o = berth_in(
        &app_dir,
        &[
            "build",
            ".",
            "--out-dir",
            out.to_str().unwrap(),
            "--argocd-path",
            "deploy/shop",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let app = std::fs::read_to_string(out.join("argocd/apps/dev.yaml")).unwrap();
    assert!(
        app.contains("path: deploy/shop/kustomize/overlays/dev"),
        "{app}"
    );

    // Inside the checkout: relative to its root.
    let o = berth_in(&app_dir, &["build", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let app = std::fs::read_to_string(app_dir.join("out/argocd/apps/dev.yaml")).unwrap();
    assert!(
        app.contains("path: apps/shop/out/kustomize/overlays/dev"),
        "{app}"
    );
}
