//! `berth check` and `berth explain` through the real binary: files, directories, stdin, berth
//! apps; exit codes; every output format parses; and the dogfood proof that everything
//! `berth render` produces for the examples passes at warning level.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> PathBuf {
    repo().join("crates/check/tests/fixtures")
}

fn berth_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn berth(args: &[&str]) -> Output {
    berth_in(&repo(), args, None)
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        out(o),
        err(o)
    )
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&out(o))
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", show(o)))
}

fn fixture(rule: &str, which: &str) -> String {
    fixtures()
        .join(rule)
        .join(which)
        .to_string_lossy()
        .into_owned()
}

fn rules_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------- dogfood

/// Environments of an example, with their tier.
fn environments(app: &str) -> Vec<(String, String)> {
    let loaded = berth_spec::load(&repo().join("examples").join(app).join("berth.yaml"))
        .unwrap_or_else(|e| panic!("examples/{app} loads: {e:?}"));
    loaded
        .apps
        .iter()
        .map(|a| (a.env.clone(), a.tier.as_str().to_string()))
        .collect()
}

/// `berth check APP` renders and checks every environment (prod-tier ones with the prod
/// profile): nothing at warning level or above.
#[test]
fn dogfood_examples_pass_at_warning_level() {
    for app in ["todo", "gateway"] {
        let envs = environments(app);
        assert!(envs.len() >= 2, "examples/{app}: {envs:?}");
        let dir = format!("examples/{app}");
        let o = berth(&["check", &dir, "--fail-on", "warning", "-o", "json"]);
        let report = json(&o);
        let bad: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] != "info")
            .map(|f| {
                format!(
                    "{} {} {}:{} {}: {}",
                    f["severity"], f["rule"], f["file"], f["line"], f["path"], f["message"]
                )
            })
            .collect();
        assert!(bad.is_empty(), "examples/{app}:\n{}", bad.join("\n"));
        assert_eq!(code(&o), 0, "{}", show(&o));
        // Every environment was rendered and checked, none was empty.
        assert_eq!(
            report["summary"]["files"].as_u64().unwrap() as usize,
            envs.len(),
            "examples/{app}: one checked render per environment"
        );
        assert!(report["summary"]["objects"].as_u64().unwrap() > 10 * envs.len() as u64);
        assert_eq!(report["summary"]["inputErrors"], 0);
    }
}

/// The same, on the very text `berth render --env ENV` prints, checked as plain manifests on
/// stdin (prod profile for prod-tier environments). Plain manifests carry no tier, so a dev
/// environment's plain Secret (`secrets: {mode: plain}`) is flagged by `plaintext-secret` and by
/// nothing else; every other environment passes outright.
#[test]
fn dogfood_render_output_piped_to_check() {
    for app in ["todo", "gateway", "boutique"] {
        let dir = format!("examples/{app}");
        for (env, tier) in environments(app) {
            let r = berth(&["render", &dir, "--env", &env]);
            assert_eq!(code(&r), 0, "render {app} {env}: {}", show(&r));
            let manifests = out(&r);
            let mut args = vec!["check", "-", "--fail-on", "warning", "-o", "json"];
            if tier == "prod" {
                args.push("--prod");
            }
            let o = berth_in(&repo(), &args, Some(&manifests));
            let report = json(&o);
            let bad: Vec<String> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["severity"] != "info")
                .filter(|f| !(tier == "dev" && f["rule"] == "plaintext-secret"))
                .map(|f| {
                    format!(
                        "{} {} line {}: {}",
                        f["severity"], f["rule"], f["line"], f["message"]
                    )
                })
                .collect();
            assert!(bad.is_empty(), "{app} {env} ({tier}):\n{}", bad.join("\n"));
            let has_plain_secret = manifests
                .split("\n---")
                .any(|d| d.lines().any(|l| l == "kind: Secret") && d.contains("\ndata:"));
            let flagged = rules_of(&report).iter().any(|r| r == "plaintext-secret");
            assert_eq!(
                flagged, has_plain_secret,
                "{app} {env}: plaintext-secret must flag exactly the renders holding a plain Secret"
            );
            if tier != "dev" {
                assert!(
                    !has_plain_secret,
                    "{app} {env} ({tier}) renders a plaintext Secret"
                );
            }
        }
    }
}

// ---------------------------------------------------------------- inputs and exit codes

#[test]
fn files_exit_0_when_clean_and_1_on_findings() {
    let golden = fixtures().join("golden.yaml");
    let o = berth(&[
        "check",
        golden.to_str().unwrap(),
        "--prod",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(out(&o).contains("0 errors, 0 warnings"), "{}", show(&o));

    // An error-level finding fails with the default --fail-on error.
    let o = berth(&["check", &fixture("privileged", "fail.yaml")]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(out(&o).contains("privileged"), "{}", show(&o));

    // A warning-level finding fails only with --fail-on warning; --fail-on never never fails.
    let fail = fixture("readiness-probe-missing", "fail.yaml");
    assert_eq!(code(&berth(&["check", &fail])), 0);
    assert_eq!(code(&berth(&["check", &fail, "--fail-on", "warning"])), 1);
    let priv_fail = fixture("privileged", "fail.yaml");
    assert_eq!(
        code(&berth(&["check", &priv_fail, "--fail-on", "never"])),
        0
    );

    // -f works like a positional path; several files are checked together.
    let o = berth(&[
        "check",
        "-f",
        &fixture("privileged", "pass.yaml"),
        "-f",
        &fail,
        "-o",
        "json",
    ]);
    assert_eq!(json(&o)["summary"]["files"], 2, "{}", show(&o));
}

#[test]
fn directories_are_searched_recursively() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("a/b")).unwrap();
    std::fs::create_dir_all(tmp.path().join(".hidden")).unwrap();
    std::fs::copy(fixtures().join("golden.yaml"), tmp.path().join("a/ok.yaml")).unwrap();
    std::fs::copy(
        fixture("privileged", "fail.yaml"),
        tmp.path().join("a/b/bad.yml"),
    )
    .unwrap();
    std::fs::copy(
        fixture("privileged", "fail.yaml"),
        tmp.path().join(".hidden/ignored.yaml"),
    )
    .unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "kind: nope").unwrap();
    let o = berth(&["check", tmp.path().to_str().unwrap(), "-o", "json"]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let report = json(&o);
    assert_eq!(report["summary"]["files"], 2, "{}", show(&o));
    let files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "privileged")
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(
        !files.is_empty() && files.iter().all(|f| f.ends_with("a/b/bad.yml")),
        "{files:?}"
    );
}

#[test]
fn stdin_is_read_with_dash() {
    let golden = std::fs::read_to_string(fixtures().join("golden.yaml")).unwrap();
    let o = berth_in(
        &repo(),
        &["check", "-", "--prod", "--fail-on", "warning"],
        Some(&golden),
    );
    assert_eq!(code(&o), 0, "{}", show(&o));

    let bad = std::fs::read_to_string(fixture("privileged", "fail.yaml")).unwrap();
    let o = berth_in(&repo(), &["check", "-", "-o", "json"], Some(&bad));
    assert_eq!(code(&o), 1, "{}", show(&o));
    let report = json(&o);
    assert!(rules_of(&report).iter().any(|r| r == "privileged"));
    assert!(report["findings"][0]["file"] == "<stdin>", "{}", show(&o));

    // A malformed document is an input error (exit 2), reported with its line; the other
    // documents are still checked.
    let broken = format!(
        "{bad}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n    namespace: y\ndata: [\n"
    );
    let o = berth_in(&repo(), &["check", "-", "-o", "json"], Some(&broken));
    assert_eq!(code(&o), 2, "{}", show(&o));
    let report = json(&o);
    let rules = rules_of(&report);
    assert!(rules.iter().any(|r| r == "yaml-syntax"), "{rules:?}");
    assert!(rules.iter().any(|r| r == "privileged"), "{rules:?}");
}

#[test]
fn a_berth_app_is_checked_per_environment() {
    let o = berth(&["check", "examples/gateway"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let text = out(&o);
    assert!(
        text.contains(", env prod)") && text.contains(", env dev)"),
        "{}",
        show(&o)
    );
    // The spec file itself works too.
    let o = berth(&["check", "examples/gateway/berth.yaml", "-o", "json"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(json(&o)["summary"]["objects"].as_u64().unwrap() > 0);
}

#[test]
fn bad_input_and_usage_exit_2() {
    for args in [
        vec!["check"],
        vec!["check", "no/such/file.yaml"],
        vec!["check", "examples/gateway", "--kube-version", "1.2"],
        vec!["check", "examples/gateway", "-o", "markdown"],
        vec!["check", "examples/gateway", "--fail-on", "sometimes"],
        vec![
            "check",
            "examples/gateway",
            "--config",
            "no/such/.berth-check.yaml",
        ],
    ] {
        let o = berth(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", show(&o));
        assert!(!err(&o).trim().is_empty(), "{args:?}: says why on stderr");
    }
}

// ---------------------------------------------------------------- output formats

/// A minimal well-formedness check: tags balance, attributes are quoted, entities known.
fn assert_well_formed_xml(xml: &str) {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .expect("XML declaration");
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        for (j, _) in text.match_indices('&') {
            let ent = &text[j..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| ent.starts_with(e)),
                "bad entity in {text:?}"
            );
        }
        assert!(!text.contains('>'), "stray > in {text:?}");
        let end = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..end];
        assert!(!tag.contains('<'), "< inside tag {tag:?}");
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in {tag:?}"
        );
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap().to_string());
        }
        rest = &rest[end + 1..];
    }
    assert!(
        rest.trim().is_empty() && stack.is_empty(),
        "unclosed: {stack:?}"
    );
}

#[test]
fn output_formats_parse() {
    let bad = fixture("privileged", "fail.yaml");

    let o = berth(&["check", &bad, "-o", "json"]);
    assert_eq!(code(&o), 1);
    let report = json(&o);
    assert!(report["summary"]["error"].as_u64().unwrap() >= 1);
    let f = &report["findings"][0];
    for key in ["rule", "severity", "message", "file", "line", "col"] {
        assert!(!f[key].is_null(), "finding lacks {key}: {f}");
    }

    let o = berth(&["check", &bad, "-o", "sarif"]);
    assert_eq!(code(&o), 1);
    let sarif = json(&o);
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert!(run["tool"]["driver"]["rules"].as_array().unwrap().len() >= 40);
    let results = run["results"].as_array().unwrap();
    assert!(
        results.iter().any(|r| r["ruleId"] == "privileged"),
        "{sarif:#}"
    );
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].is_string(), "{r:#}");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1, "{r:#}");
    }

    let o = berth(&["check", &bad, "-o", "junit"]);
    assert_eq!(code(&o), 1);
    let xml = out(&o);
    assert_well_formed_xml(&xml);
    assert!(xml.contains("<failure"), "{xml}");

    // A clean run still yields a parseable report of each kind.
    let golden = fixtures().join("golden.yaml");
    let golden = golden.to_str().unwrap();
    let o = berth(&["check", golden, "-o", "junit"]);
    assert_eq!(code(&o), 0);
    assert_well_formed_xml(&out(&o));
    assert!(!out(&o).contains("<failure"));
    let o = berth(&["check", golden, "-o", "sarif"]);
    assert_eq!(json(&o)["version"], "2.1.0");
}

// ---------------------------------------------------------------- rule docs

#[test]
fn list_rules_and_explain() {
    let o = berth(&["check", "--list-rules", "-o", "json"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let rules = json(&o);
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.len() >= 40, "{ids:?}");
    for id in [
        "readiness-probe-missing",
        "plaintext-secret",
        "pdb-missing",
        "env-ref-missing",
    ] {
        assert!(ids.contains(&id), "{id} listed");
    }

    let o = berth(&["check", "--list-rules"]);
    assert_eq!(code(&o), 0);
    for id in &ids {
        assert!(out(&o).contains(id), "--list-rules table lists {id}");
    }

    let o = berth(&["explain", "readiness-probe-missing"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let text = out(&o);
    assert!(
        text.contains("readiness-probe-missing") && text.contains("readinessProbe:"),
        "{text}"
    );
    assert!(text.contains("kube-score"), "{text}");

    let o = berth(&["explain", "readiness"]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert!(
        err(&o).contains("readiness-probe-missing"),
        "suggests the rule: {}",
        show(&o)
    );
}

// ---------------------------------------------------------------- colour

#[test]
fn color_follows_the_global_flag() {
    let bad = fixture("privileged", "fail.yaml");
    let esc = |o: &Output| out(o).contains('\u{1b}');
    // Piped stdout: plain by default.
    assert!(!esc(&berth(&["check", &bad])));
    let o = berth(&["--color", "always", "check", &bad]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(esc(&o), "--color always colours the report: {}", show(&o));
    // The flag is global: after the subcommand too.
    assert!(esc(&berth(&["check", &bad, "--color", "always"])));
    assert!(!esc(&berth(&["check", &bad, "--color", "never"])));
    // JSON is never coloured.
    let o = berth(&["--color", "always", "check", &bad, "-o", "json"]);
    assert!(!esc(&o));
    json(&o);
}

/// A spec using what a service can say (several ports with protocols, gRPC/TCP/HTTP probes with
/// timing, a port below 1024 and its sysctl, a LoadBalancer, ingress-nginx controls, pod
/// metadata, custom metrics) renders objects `berth check` passes at warning level with the
/// prod profile, and the Kubernetes schemas accept.
#[test]
fn dogfood_ports_probes_and_exposure() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("berth.yaml"),
        r#"app: shop
registry: ghcr.io/acme
version: 1.0.0
services:
  cart:
    image: cartservice
    ports: { grpc: { port: 7070, protocol: grpc }, stats: { port: 8125, protocol: udp } }
    health: { ready: { grpc: grpc }, live: { grpc: "7070/hipstershop.Cart", period: 15s }, startup: { tcp: grpc, failures: 30 } }
    scale: { min: 2, max: 6, cpu: 70%, metrics: [{ pods: grpc_requests_per_second, average: "50" }] }
    uses: [cache]
  frontend:
    image: frontend
    ports: { web: 80, metrics: 9090 }
    health: { ready: { http: /_healthz, port: web, headers: { Cookie: probe=1 } }, live: { http: /_healthz, port: web, period: 20s } }
    uses: [cart]
    expose: { type: load-balancer, port: web, external-traffic-policy: local }
    labels: { team: storefront }
    annotations: { pod: { prometheus.io/scrape: "true" } }
    pod-env: { POD_IP: ip, NODE_NAME: node }
    replicas: 2
  api:
    image: api
    port: 8080
    health: { ready: /ready, live: /live }
    replicas: 2
    expose: { host: api.example.com, rate-limit: { rps: 10 }, cors: { origins: [https://shop.example.com] }, security-headers: true, body-size: 10m, timeouts: { read: 1m } }
dependencies:
  cache: { type: redis, host: cache.example.internal }
environments:
  prod: { namespace: shop }
"#,
    )
    .unwrap();
    let dir = tmp.path().to_str().unwrap();
    let o = berth(&["check", dir, "--fail-on", "warning", "--prod", "-o", "json"]);
    let report = json(&o);
    let bad: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| format!("{} {}: {}", f["severity"], f["rule"], f["message"]))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_eq!(code(&o), 0, "{}", show(&o));
    let r = berth(&["render", dir, "--env", "prod"]);
    assert_eq!(code(&r), 0, "{}", show(&r));
    let text = out(&r);
    assert!(text.contains("net.ipv4.ip_unprivileged_port_start"));
    assert!(text.contains("type: LoadBalancer"));
    let file = tmp.path().join("prod.yaml");
    std::fs::write(&file, &text).unwrap();
    let validate = std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"))
        .join("venv/bin/kubernetes-validate");
    assert!(
        validate.exists(),
        "{} is missing: run scripts/test (scripts/setup.d/00-python.sh installs kubernetes-validate)",
        validate.display()
    );
    for version in ["1.30.0", "1.33.0"] {
        let v = Command::new(&validate)
            .args(["--strict", "--quiet", "-k", version])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            v.status.success(),
            "Kubernetes {version} schema:\n{}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
    }
}
