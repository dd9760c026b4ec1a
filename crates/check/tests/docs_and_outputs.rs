//! docs/rules.md is generated from the rule definitions; output formats; suppression; inputs.

use berth_check::{Config, Input, Options, Severity, check, output, rules};
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
}

#[test]
fn docs_rules_md_is_fresh() {
    let path = repo().join("docs/rules.md");
    let want = output::rules_markdown();
    if std::env::var_os("BERTH_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is stale: regenerate with `berth check --list-rules -o markdown > docs/rules.md` \
         or `BERTH_UPDATE_DOCS=1 cargo test -p berth-check --test docs_and_outputs`"
    );
    for r in rules::all() {
        let m = r.meta();
        assert!(have.contains(&format!("#### {}", m.id)));
        assert!(
            !m.why.is_empty() && !m.fix.is_empty() && !m.hint.is_empty(),
            "{} lacks docs",
            m.id
        );
    }
}

#[test]
fn rule_ids_are_unique_kebab_case() {
    let mut seen = std::collections::HashSet::new();
    for r in rules::all() {
        let id = r.meta().id;
        assert!(seen.insert(id), "duplicate {id}");
        assert!(
            id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{id}"
        );
    }
    assert!(rules::all().len() >= 40);
}

const BAD: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    berth.dev/ignore: \"image-tag-mutable, replicas-min\"
    berth.dev/ignore-reason: \"dev image, rebuilt on every push\"
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: nginx
          bogusField: 1
---
apiVersion: v1
kind: ConfigMap
metadata: {name: broken
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata: {name: api}
    spec:
      selector: {app: nope}
      ports: [{port: 80}]
";

fn run(text: &str) -> berth_check::Report {
    check(
        &[Input::Text {
            name: "bad.yaml".into(),
            text: text.into(),
        }],
        &Options::default(),
    )
    .unwrap()
}

#[test]
fn malformed_document_does_not_hide_the_others_and_lists_expand() {
    let r = run(BAD);
    assert_eq!(r.input_errors, 1);
    let syntax = r
        .findings
        .iter()
        .find(|f| f.rule == "yaml-syntax")
        .expect("yaml-syntax finding");
    assert!(syntax.line >= 19, "{syntax:?}");
    let unknown = r
        .findings
        .iter()
        .find(|f| f.rule == "schema-valid")
        .expect("schema finding");
    assert_eq!(unknown.line, 16, "points at the unknown key: {unknown:?}");
    assert_eq!(unknown.path, "spec.template.spec.containers[0].bogusField");
    // The Service inside the List is checked (and cross-checked).
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "service-selects-nothing" && f.line == 29),
        "{:#?}",
        r.findings
    );
    assert_eq!(r.objects, 2);
}

#[test]
fn ignore_annotation_suppresses_with_reason() {
    let r = run(BAD);
    assert!(!r.findings.iter().any(|f| f.rule == "image-tag-mutable"));
    let s = r
        .suppressed
        .iter()
        .find(|f| f.rule == "image-tag-mutable")
        .expect("suppressed finding kept");
    assert_eq!(
        s.suppressed.as_deref(),
        Some("dev image, rebuilt on every push")
    );
    let human = output::human(&r, false);
    assert!(
        human.contains("reason: dev image, rebuilt on every push"),
        "{human}"
    );
    assert!(human.contains("suppressed"), "{human}");
}

#[test]
fn config_changes_severities_and_disables() {
    let config = Config::parse(
        "c",
        "rules:\n  schema-valid: info\ndisable: [service-selects-nothing]\n",
    )
    .unwrap();
    let r = check(
        &[Input::Text {
            name: "bad.yaml".into(),
            text: BAD.into(),
        }],
        &Options {
            config,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        r.findings
            .iter()
            .filter(|f| f.rule == "schema-valid")
            .all(|f| f.severity == Severity::Info)
    );
    assert!(
        !r.findings
            .iter()
            .any(|f| f.rule == "service-selects-nothing")
    );
}

#[test]
fn parsed_objects_are_accepted() {
    let obj = serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}], "tyype": "ClusterIP"}});
    let r = check(
        &[Input::Objects {
            name: "rendered".into(),
            objects: vec![&obj],
        }],
        &Options::default(),
    )
    .unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "schema-valid")
        .expect("unknown field found");
    assert_eq!(f.path, "spec.tyype");
    assert_eq!(f.line, 0);
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "service-selects-nothing")
    );
}

#[test]
fn kube_version_selects_schemas_and_deprecations() {
    let text = "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\n";
    let opts = |v: &str| Options {
        kube_version: Some(v.into()),
        ..Default::default()
    };
    let inp = [Input::Text {
        name: "e.yaml".into(),
        text: text.into(),
    }];
    assert!(
        check(&inp, &opts("1.32"))
            .unwrap()
            .findings
            .iter()
            .all(|f| f.rule != "api-deprecated")
    );
    assert!(
        check(&inp, &opts("1.33"))
            .unwrap()
            .findings
            .iter()
            .any(|f| f.rule == "api-deprecated")
    );
    assert!(check(&inp, &opts("1.12")).is_err());
}

#[test]
fn crd_in_input_validates_custom_resources() {
    let text = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec: {size: big}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g2}
";
    let r = run(text);
    let bad = r
        .findings
        .iter()
        .find(|f| f.rule == "schema-valid")
        .expect("Widget validated");
    assert_eq!((bad.line, bad.path.as_str()), (24, "spec.size"));
    let nv: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == "crd-not-validated")
        .collect();
    assert_eq!(nv.len(), 1, "once per kind: {nv:?}");
    assert!(nv[0].message.contains("2 objects"));
}

#[test]
fn sarif_and_junit_shapes() {
    let r = run(BAD);
    let s: serde_json::Value =
        serde_json::from_str(&output::sarif(&r, &Config::default(), false)).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .all(|x| x["ruleId"].is_string() && x["level"].is_string())
    );
    let located = results
        .iter()
        .find(|x| x["ruleId"] == "schema-valid")
        .unwrap();
    assert_eq!(
        located["locations"][0]["physicalLocation"]["region"]["startLine"],
        16
    );
    assert!(results.iter().any(|x| x["suppressions"].is_array()));
    let idx = located["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(
        s["runs"][0]["tool"]["driver"]["rules"][idx]["id"],
        "schema-valid"
    );
    let j = output::junit(&r, Severity::Error);
    assert!(
        j.starts_with("<?xml") && j.contains("<failure type=\"error\""),
        "{j}"
    );
    let js: serde_json::Value = serde_json::from_str(&output::json(&r)).unwrap();
    assert!(js["summary"]["error"].as_u64().unwrap() >= 2);
}

#[test]
fn secret_values_never_appear_in_output() {
    let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: SuperSecretValue123}\ndata: {token: 12}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: nginx:1\n      env: [{name: API_TOKEN, value: SuperSecretValue123}]\n";
    let r = run(text);
    assert!(r.findings.iter().any(|f| f.rule == "credential-literal"));
    assert!(
        r.findings.iter().any(|f| f.rule == "schema-valid"),
        "data.token must be a string"
    );
    for out in [
        output::json(&r),
        output::human(&r, false),
        output::sarif(&r, &Config::default(), false),
    ] {
        assert!(!out.contains("SuperSecretValue123"));
    }
}

#[test]
fn binary_files_are_skipped_with_a_notice() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.yaml"), b"\x00\x01\x02binary").unwrap();
    std::fs::write(
        d.path().join("b.yml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .unwrap();
    std::fs::write(d.path().join("notes.txt"), "ignored").unwrap();
    let r = check(&[Input::Path(d.path().to_path_buf())], &Options::default()).unwrap();
    assert_eq!(r.files, 2);
    assert_eq!(r.objects, 1);
    assert!(
        r.notices
            .iter()
            .any(|n| n.contains("a.yaml") && n.contains("binary")),
        "{:?}",
        r.notices
    );
}
