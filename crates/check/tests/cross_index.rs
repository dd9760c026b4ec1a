//! The cross-resource index answers by lookup (memoized Service selections, PDB coverage,
//! (file, kind) presence); these pin down that the lookups keep namespaces and files apart.

use berth_check::{Input, Options, check};

fn rules_on(text: &str) -> Vec<(String, String)> {
    let r = check(
        &[Input::Text {
            name: "t.yaml".into(),
            text: text.into(),
        }],
        &Options::default(),
    )
    .unwrap();
    r.findings
        .into_iter()
        .map(|f| (f.rule, f.object.map(|o| o.to_string()).unwrap_or_default()))
        .collect()
}

const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: web:1.0
        ports: [{name: http, containerPort: 8080}]
";

#[test]
fn same_selector_in_two_namespaces_is_matched_per_namespace() {
    let text = format!(
        "{DEPLOY}---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: a}}
spec: {{selector: {{app: web}}, ports: [{{port: 80, targetPort: http}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: b}}
spec: {{selector: {{app: web}}, ports: [{{port: 80, targetPort: http}}]}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: web, namespace: b}}
spec: {{maxUnavailable: 1, selector: {{matchLabels: {{app: web}}}}}}
"
    );
    let f = rules_on(&text);
    let has = |rule: &str, obj: &str| f.iter().any(|(r, o)| r == rule && o == obj);
    assert!(has("service-selects-nothing", "Service b/web"), "{f:#?}");
    assert!(!has("service-selects-nothing", "Service a/web"), "{f:#?}");
    assert!(!f.iter().any(|(r, _)| r == "service-target-port"), "{f:#?}");
    // The PDB in namespace b does not cover the Deployment in a.
    assert!(has("pdb-missing", "Deployment a/web"), "{f:#?}");
    assert!(has("readiness-probe-missing", "Deployment a/web"), "{f:#?}");

    // Moved to namespace a, the PDB covers it.
    let covered = text.replace(
        "kind: PodDisruptionBudget\nmetadata: {name: web, namespace: b}",
        "kind: PodDisruptionBudget\nmetadata: {name: web, namespace: a}",
    );
    let f = rules_on(&covered);
    assert!(!f.iter().any(|(r, _)| r == "pdb-missing"), "{f:#?}");
}

#[test]
fn a_wrong_target_port_is_reported_for_every_service_sharing_the_selector() {
    let mut text = DEPLOY.to_string();
    for (name, port) in [("web", "http"), ("web2", "http"), ("web3", "grpc")] {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: a}}\n\
             spec: {{selector: {{app: web}}, ports: [{{port: 80, targetPort: {port}}}]}}\n"
        ));
    }
    let f = rules_on(&text);
    let bad: Vec<_> = f
        .iter()
        .filter(|(r, _)| r == "service-target-port")
        .collect();
    assert_eq!(bad.len(), 1, "{f:#?}");
    assert_eq!(bad[0].1, "Service a/web3");
}
