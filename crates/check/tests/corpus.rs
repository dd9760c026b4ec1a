//! The third-party corpus (../shared/corpus beside the repo): every manifest set, kustomize
//! and helm output runs without a crash; a hand-reviewed subset of findings is asserted; and
//! schema validation is cross-checked against kubernetes-validate (an independent validator).

use berth_check::{Input, Options, Report, check};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus() -> PathBuf {
    let c = repo().join("../shared/corpus");
    assert!(
        c.is_dir(),
        "{} is absent: the corpus must sit beside the clone (see docs/development.md)",
        c.display()
    );
    c
}

fn run(p: &Path) -> Report {
    check(&[Input::Path(p.to_path_buf())], &Options::default())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn sets() -> Vec<PathBuf> {
    let c = corpus();
    let mut v = Vec::new();
    for e in std::fs::read_dir(c.join("manifests")).unwrap() {
        v.push(e.unwrap().path());
    }
    for e in std::fs::read_dir(c.join("kustomize")).unwrap() {
        let p = e.unwrap().path().join("expected.yaml");
        if p.is_file() {
            v.push(p);
        }
    }
    for e in std::fs::read_dir(c.join("helm")).unwrap() {
        for f in std::fs::read_dir(e.unwrap().path()).unwrap() {
            let f = f.unwrap().path();
            let n = f.file_name().unwrap().to_string_lossy().to_string();
            if n.starts_with("expected") && n.ends_with(".yaml") {
                v.push(f);
            }
        }
    }
    v.sort();
    v
}

#[test]
fn every_corpus_input_runs() {
    let sets = sets();
    assert!(
        sets.len() >= 30,
        "corpus looks incomplete: {} sets",
        sets.len()
    );
    let mut objects = 0;
    for s in &sets {
        let r = run(s);
        assert_eq!(
            r.input_errors,
            0,
            "{}: {:?}",
            s.display(),
            r.findings
                .iter()
                .filter(|f| f.rule == "yaml-syntax")
                .collect::<Vec<_>>()
        );
        objects += r.objects;
    }
    assert!(objects > 300, "{objects}");
}

/// Findings reviewed by hand against the manifests.
#[test]
fn hand_reviewed_findings() {
    let c = corpus();
    let has = |set: &str, rule: &str, file_end: &str, line: usize, needle: &str| {
        let r = run(&c.join(set));
        assert!(
            r.findings.iter().any(|f| f.rule == rule
                && f.file.ends_with(file_end)
                && f.line == line
                && f.message.contains(needle)),
            "{set}: expected {rule} at {file_end}:{line} containing {needle:?}; got {:#?}",
            r.findings
                .iter()
                .filter(|f| f.rule == rule)
                .map(|f| format!("{}:{} {}", f.file, f.line, f.message))
                .collect::<Vec<_>>()
        );
    };
    // es-svc.yaml selects component=elasticsearch; the set has no pods with that label.
    has(
        "manifests/k8s-examples-elasticsearch",
        "service-selects-nothing",
        "es-svc.yaml",
        10,
        "component=elasticsearch",
    );
    // POSTGRES_PASSWORD: "postgres" as a literal env value.
    has(
        "manifests/voting-app-k8s-specifications",
        "credential-literal",
        "db-deployment.yaml",
        24,
        "POSTGRES_PASSWORD",
    );
    // policy/v1beta1 PodSecurityPolicy was removed in 1.25.
    has(
        "manifests/k8s-examples-podsecuritypolicy",
        "api-removed",
        ".yaml",
        1,
        "PodSecurityPolicy",
    );
    // kubectl kustomize output: an Ingress still on networking.k8s.io/v1beta1, backends not in the input.
    has(
        "kustomize/kustomize-examples-md-jsonpatch/expected.yaml",
        "api-removed",
        "expected.yaml",
        1,
        "use networking.k8s.io/v1",
    );
    has(
        "kustomize/kustomize-examples-md-jsonpatch/expected.yaml",
        "ingress-backend-missing",
        "expected.yaml",
        11,
        "homepage",
    );
    // Deployments patched without a selector: apps/v1 requires one.
    has(
        "kustomize/kustomize-examples-md-patchMultipleObjects/expected.yaml",
        "schema-valid",
        "expected.yaml",
        8,
        "missing required field `selector`",
    );
    // `apiVersion: v1` + `kind: Deployment` (a deliberately odd example).
    has(
        "kustomize/kustomize-examples-transformerconfigs-images/expected.yaml",
        "schema-valid",
        "expected.yaml",
        3,
        "v1 has no kind `Deployment`",
    );
    // Istio resources are custom resources without a CRD: reported once per kind, not silently passed.
    has(
        "helm/microservices-demo/expected-all-features.yaml",
        "crd-not-validated",
        "expected-all-features.yaml",
        1742,
        "AuthorizationPolicy",
    );
    // microservices-demo release manifests: identical readiness and liveness probes.
    has(
        "manifests/microservices-demo-release",
        "probes-identical",
        "kubernetes-manifests.yaml",
        951,
        "identical",
    );
    // The helm chart's default output is schema-valid.
    let r = run(&c.join("helm/microservices-demo/expected.yaml"));
    assert!(
        !r.findings.iter().any(|f| f.rule == "schema-valid"),
        "{:#?}",
        r.findings
            .iter()
            .filter(|f| f.rule == "schema-valid")
            .collect::<Vec<_>>()
    );
}

fn python() -> PathBuf {
    let tools = std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"));
    let py = tools.join("venv/bin/python");
    assert!(
        py.exists(),
        "{} is missing: run scripts/test (scripts/setup.d/00-python.sh installs kubernetes-validate)",
        py.display()
    );
    py
}

const VALIDATE: &str = r#"
import json, sys
import kubernetes_validate as kv
objs = json.load(sys.stdin)
out = []
for o in objs:
    try:
        kv.validate(o, sys.argv[1], strict=True)
        out.append(None)
    except kv.ValidationError as e:
        out.append(str(e.message)[:200])
    except Exception as e:  # no schema for the kind (CRDs, removed APIs)
        out.append("SKIP " + type(e).__name__)
print(json.dumps(out))
"#;

/// Every built-in object of the corpus, validated strictly by kubernetes-validate and by us
/// (Kubernetes 1.32). Whatever it rejects we reject; what only we reject is explained by our
/// extra strictness (enums and quantities upstream leaves as free strings).
#[test]
fn schema_validation_agrees_with_kubernetes_validate() {
    let mut objs: Vec<(String, serde_json::Value)> = Vec::new();
    for s in sets() {
        let files = berth_check::collect_files(&s).unwrap();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, d) in berth_yaml::parse_stream(&text, berth_yaml::Limits::default())
                .into_iter()
                .enumerate()
            {
                if let Ok(Some(root)) = d.root {
                    let v = root.to_json();
                    if v["kind"].as_str().is_some_and(|k| !k.ends_with("List")) {
                        objs.push((format!("{}#{i}", f.display()), v));
                    }
                }
            }
        }
    }
    let input = serde_json::to_string(&objs.iter().map(|(_, v)| v).collect::<Vec<_>>()).unwrap();
    let mut child = Command::new(python())
        .args(["-c", VALIDATE, "1.32.0"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kubernetes-validate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<Option<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs.len(), objs.len());

    let opts = Options {
        kube_version: Some("1.32".into()),
        ..Default::default()
    };
    let (mut both, mut only_them, mut only_us) = (0, Vec::new(), BTreeMap::new());
    let mut compared = 0;
    for ((id, v), their) in objs.iter().zip(&theirs) {
        if their.as_deref().is_some_and(|t| t.starts_with("SKIP")) {
            continue;
        }
        compared += 1;
        let r = check(
            &[Input::Objects {
                name: id.clone(),
                objects: vec![v],
            }],
            &opts,
        )
        .unwrap();
        let ours: Vec<String> = r
            .findings
            .iter()
            .filter(|f| f.rule == "schema-valid")
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect();
        match (their, ours.is_empty()) {
            (Some(_), false) => both += 1,
            (Some(t), true) => only_them.push(format!("{id}: {t}")),
            (None, false) => {
                only_us.insert(id.clone(), ours);
            }
            (None, true) => {}
        }
    }
    assert!(compared > 250, "only {compared} objects compared");
    assert!(
        only_them.is_empty(),
        "kubernetes-validate rejects, berth accepts:\n{}",
        only_them.join("\n")
    );
    for (id, msgs) in &only_us {
        assert!(
            msgs.iter()
                .all(|m| m.contains("must be one of") || m.contains("invalid quantity")),
            "{id}: berth rejects what kubernetes-validate accepts, beyond enums/quantities: {msgs:?}"
        );
    }
    eprintln!(
        "compared {compared} objects: both reject {both}, only berth (enums/quantities) {}",
        only_us.len()
    );
}
