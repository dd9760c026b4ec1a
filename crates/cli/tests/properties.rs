//! Properties of rendering over generated specs: it never panics, the output parses back to
//! exactly the objects rendered, every name is a DNS label, and every selector selects.

use berth_yaml::{Limits, parse_stream};
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Clone)]
struct GenService {
    port: Option<u16>,
    /// Indices of earlier services (so `uses` never forms a cycle) and of dependencies.
    uses_services: Vec<usize>,
    uses_deps: Vec<usize>,
    expose: bool,
    scale: Option<(u32, u32, u8)>,
    replicas: Option<u32>,
    env: Vec<(String, String)>,
    secrets: Vec<String>,
    cpu: (u32, u32),
    health: bool,
}

const DEPS: &[(&str, &str)] = &[("db", "postgres"), ("cache", "redis"), ("queue", "kafka")];

fn service() -> impl Strategy<Value = GenService> {
    (
        proptest::option::of(1024u16..65535),
        proptest::collection::vec(0usize..8, 0..3),
        proptest::collection::vec(0usize..3, 0..3),
        any::<bool>(),
        proptest::option::of((1u32..4, 0u32..6, 1u8..=100)),
        proptest::option::of(1u32..5),
        proptest::collection::vec(("[A-Z][A-Z0-9_]{0,8}", "[ -~]{0,20}"), 0..3),
        proptest::collection::vec("[A-Z][A-Z_]{0,10}", 0..3),
        (1u32..2000, 0u32..2000),
        any::<bool>(),
    )
        .prop_map(
            |(
                port,
                uses_services,
                uses_deps,
                expose,
                scale,
                replicas,
                env,
                secrets,
                cpu,
                health,
            )| GenService {
                port,
                uses_services,
                uses_deps,
                expose,
                scale: scale.map(|(min, extra, pct)| (min, min + extra, pct)),
                replicas,
                env,
                secrets,
                cpu,
                health,
            },
        )
}

fn spec_text(
    app: &str,
    names: &[String],
    services: &[GenService],
    dev_replicas: Option<u32>,
) -> String {
    let mut s =
        format!("app: {app}\nregistry: registry.example.com/team\nversion: 2.0.1\nservices:\n");
    for (i, (name, svc)) in names.iter().zip(services).enumerate() {
        s.push_str(&format!("  {name}:\n    image: img-{i}\n"));
        if let Some(p) = svc.port {
            s.push_str(&format!("    port: {p}\n"));
            if svc.health {
                s.push_str("    health: { ready: /ready, live: /live }\n");
            }
            if svc.expose {
                s.push_str(&format!("    expose: {{ host: {name}.example.com }}\n"));
            }
        }
        let mut uses: Vec<String> = svc
            .uses_services
            .iter()
            // Only earlier services (no cycles) that listen on a port (workers are not called).
            .filter(|u| **u < i && services[**u].port.is_some())
            .map(|u| names[*u].clone())
            .collect();
        uses.extend(svc.uses_deps.iter().map(|d| DEPS[*d].0.to_owned()));
        uses.sort();
        uses.dedup();
        if !uses.is_empty() {
            s.push_str(&format!("    uses: [{}]\n", uses.join(", ")));
        }
        let mut env: Vec<_> = svc.env.clone();
        env.sort();
        env.dedup_by(|a, b| a.0 == b.0);
        let secrets: Vec<_> = {
            let mut v: Vec<_> = svc
                .secrets
                .iter()
                .filter(|k| !env.iter().any(|(e, _)| e == *k))
                .cloned()
                .collect();
            v.sort();
            v.dedup();
            v
        };
        if !env.is_empty() {
            s.push_str("    env:\n");
            for (k, v) in &env {
                s.push_str(&format!(
                    "      {k}: {}\n",
                    serde_json::to_string(v).unwrap()
                ));
            }
        }
        if !secrets.is_empty() {
            s.push_str(&format!("    secrets: [{}]\n", secrets.join(", ")));
        }
        let (req, extra) = svc.cpu;
        s.push_str(&format!(
            "    resources: {{ cpu: {req}m/{}m }}\n",
            req + extra
        ));
        if let Some((min, max, pct)) = svc.scale {
            s.push_str(&format!(
                "    scale: {{ min: {min}, max: {max}, cpu: {pct}% }}\n"
            ));
        } else if let Some(r) = svc.replicas {
            s.push_str(&format!("    replicas: {r}\n"));
        }
    }
    s.push_str("dependencies:\n");
    for (name, kind) in DEPS {
        s.push_str(&format!(
            "  {name}: {{ type: {kind}, host: {name}.internal }}\n"
        ));
    }
    s.push_str("environments:\n");
    match dev_replicas {
        Some(r) => s.push_str(&format!("  dev: {{ replicas: {r} }}\n")),
        None => s.push_str("  dev: {}\n"),
    }
    s.push_str("  staging: {}\n  prod: { namespace: live }\n");
    s
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn matches(selector: &Value, labels: &Value) -> bool {
    selector["matchLabels"]
        .as_object()
        .map(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)))
        .unwrap_or(true)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn any_valid_spec_renders_to_objects_that_hold_together(
        app in "[a-z][a-z0-9]{0,12}",
        names in proptest::collection::btree_set("[a-z][a-z0-9-]{0,20}[a-z0-9]", 1..7),
        services in proptest::collection::vec(service(), 7),
        dev_replicas in proptest::option::of(1u32..3),
    ) {
        let names: Vec<String> = names.into_iter().filter(|n| !DEPS.iter().any(|(d, _)| d == n)).collect();
        prop_assume!(!names.is_empty());
        let text = spec_text(&app, &names, &services[..names.len()], dev_replicas);
        let loaded = berth_spec::load_str(Path::new("berth.yaml"), &text, &|_| unreachable!())
            .map_err(|e| TestCaseError::fail(format!("{}\n{text}", e.errors.iter().map(|e| e.one_line()).collect::<Vec<_>>().join("\n"))))?;
        prop_assert_eq!(loaded.apps.len(), 3);
        for app in &loaded.apps {
            let rendered = berth_render::render(app);
            let stream = berth_emit::stream(&rendered);

            // The stream parses back to exactly the rendered objects.
            let docs = parse_stream(&stream, Limits::default());
            prop_assert_eq!(docs.len(), rendered.objects.len());
            for (doc, obj) in docs.iter().zip(&rendered.objects) {
                let parsed = doc.root.as_ref().map_err(|e| TestCaseError::fail(e.message.clone()))?.as_ref().unwrap().to_json();
                prop_assert_eq!(&parsed, &obj.body);
            }

            let pods: Vec<&Value> = rendered.objects.iter().filter(|o| o.kind == "Deployment")
                .map(|o| &o.body["spec"]["template"]["metadata"]["labels"]).collect();
            for obj in &rendered.objects {
                prop_assert!(is_dns_label(&obj.name), "name {} of {}", obj.name, obj.kind);
                for (k, v) in obj.body["metadata"]["labels"].as_object().unwrap() {
                    let v = v.as_str().unwrap();
                    prop_assert!(v.len() <= 63, "label {k}={v}");
                }
                match obj.kind.as_str() {
                    "Service" if obj.body["spec"]["type"] != "ExternalName" => {
                        let sel = &obj.body["spec"]["selector"];
                        let deployment = rendered.objects.iter().find(|o| o.kind == "Deployment" && o.name == obj.name).unwrap();
                        let labels = &deployment.body["spec"]["template"]["metadata"]["labels"];
                        prop_assert!(sel.as_object().unwrap().iter().all(|(k, v)| labels.get(k) == Some(v)));
                    }
                    "NetworkPolicy" => {
                        let sel = &obj.body["spec"]["podSelector"];
                        prop_assert!(pods.iter().any(|l| matches(sel, l)), "policy {} selects nothing", obj.name);
                        for rule in obj.body["spec"]["ingress"].as_array().into_iter().flatten()
                            .chain(obj.body["spec"]["egress"].as_array().into_iter().flatten()) {
                            for peer in rule["from"].as_array().into_iter().flatten().chain(rule["to"].as_array().into_iter().flatten()) {
                                if peer.get("podSelector").is_some() && peer.get("namespaceSelector").is_none() {
                                    prop_assert!(pods.iter().any(|l| matches(&peer["podSelector"], l)), "peer of {} selects nothing", obj.name);
                                }
                            }
                        }
                    }
                    "HorizontalPodAutoscaler" | "PodDisruptionBudget" => {
                        prop_assert!(rendered.objects.iter().any(|o| o.kind == "Deployment" && o.name == obj.name));
                    }
                    _ => {}
                }
            }
        }
    }
}
