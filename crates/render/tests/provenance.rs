//! Provenance of every rendered field (`berth explain`): every field of every object of every
//! example's every environment has an origin the renderer recorded while building it; no object
//! is left to the unclaimed fallback; every spec origin resolves (to a position or a documented
//! default); and a spec position really holds the rendered value.

use berth_render::origin::{self, Origin, Resolved};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("examples/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("berth.yaml").is_file())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 4,
        "examples not found under {}",
        root.display()
    );
    dirs
}

/// Every scalar (and empty container) of `v` with its JSON pointer.
fn leaves(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                leaves(v, format!("{at}/{}", origin::escape(k)), out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, v) in a.iter().enumerate() {
                leaves(v, format!("{at}/{i}"), out);
            }
        }
        _ => out.push((at, v.clone())),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Does the spec text from the position on hold `value`? As written, or as the same quantity
/// (`0.5` for `500m`, `1Gi` for `1024Mi`).
fn holds(line: &str, value: &str) -> bool {
    if line.contains(value) {
        return true;
    }
    // Spec enums in kebab case become Kubernetes' CamelCase (`ordered-ready` → `OrderedReady`).
    let fold = |s: &str| s.to_ascii_lowercase().replace('-', "");
    if !value.is_empty() && fold(line).contains(&fold(value)) {
        return true;
    }
    let Ok(want) = berth_spec::quantity::Quantity::parse(value) else {
        return false;
    };
    line.split(|c: char| c.is_whitespace() || ",{}[]:/\"'".contains(c))
        .filter_map(|t| berth_spec::quantity::Quantity::parse(t).ok())
        .any(|q| (q.value - want.value).abs() < 1e-9)
}

/// Built by one of the service modules (Deployment, StatefulSet, Service, HPA, PDB, Ingress,
/// ServiceAccount, NetworkPolicy of a service), which record their fields one by one; the
/// data tier's and Dapr's JSON-built objects are covered by their module's rule as a whole.
fn service_module(o: &berth_render::Object, prov: &origin::Provenance) -> bool {
    match prov.lookup(o, "") {
        Some(("", Origin::Rule { rule, .. })) => [
            "the service's Deployment",
            "a service with storage runs as a StatefulSet",
            "the service's ClusterIP Service",
            "a HorizontalPodAutoscaler",
            "a PodDisruptionBudget",
            "the service's Ingress",
            "the service's ServiceAccount",
            "the service's NetworkPolicy",
        ]
        .iter()
        .any(|r| rule.starts_with(r)),
        _ => false,
    }
}

#[test]
fn every_field_of_every_example_has_an_origin_and_spec_lines_hold_their_values() {
    let mut problems = Vec::new();
    let (mut fields, mut spec_fields, mut defaults, mut rules) = (0, 0, 0, 0);
    // Fields only the object's module rule covers, by kind (for the report; the data tier's
    // JSON-built objects are covered by their module's rule as a whole).
    let mut root_only = std::collections::BTreeMap::new();
    for dir in examples() {
        let loaded = berth_spec::load(&dir).unwrap_or_else(|e| panic!("{}: {e:?}", dir.display()));
        let text_of = std::fs::read_to_string(&loaded.file).unwrap();
        let lines: Vec<&str> = text_of.lines().collect();
        for app in &loaded.apps {
            let (rendered, prov) = berth_render::render_traced(app);
            assert_eq!(
                rendered,
                berth_render::render(app),
                "tracing changes nothing"
            );
            for o in &rendered.objects {
                let mut ls = Vec::new();
                leaves(&o.body, String::new(), &mut ls);
                for (ptr, value) in ls {
                    fields += 1;
                    let at = format!("{} {} {}/{} {ptr}", dir.display(), app.env, o.kind, o.name);
                    if let Some(("", _)) = prov.lookup(o, &ptr)
                        && ptr != "/apiVersion"
                        && ptr != "/kind"
                    {
                        *root_only.entry(o.kind.clone()).or_insert(0usize) += 1;
                        if service_module(o, &prov) {
                            problems.push(format!("{at}: only under the module's claim"));
                        }
                    }
                    let Some((_, origin)) = prov.lookup(o, &ptr) else {
                        problems.push(format!("{at}: no origin"));
                        continue;
                    };
                    if let Origin::Rule { rule, .. } = origin
                        && rule == origin::UNCLAIMED
                    {
                        problems.push(format!("{at}: only the unclaimed fallback"));
                        continue;
                    }
                    match origin::resolve(&loaded, &app.env, origin) {
                        Resolved::Unset { paths } => problems.push(format!(
                            "{at}: spec origin {paths:?} is not set and has no default"
                        )),
                        Resolved::Spec { path, at: pos } => {
                            spec_fields += 1;
                            let line = lines.get(pos.line - 1).copied().unwrap_or_default();
                            let from = line.get(pos.col - 1..).unwrap_or_default();
                            if !holds(from, &text(&value)) {
                                problems.push(format!(
                                    "{at} = {}: origin {path} at {}:{} reads `{from}`",
                                    text(&value),
                                    pos.line,
                                    pos.col
                                ));
                            }
                        }
                        Resolved::Default { .. } => defaults += 1,
                        Resolved::Rule { .. } => rules += 1,
                    }
                }
            }
        }
    }
    eprintln!(
        "{fields} fields: {spec_fields} from spec lines, {defaults} documented defaults, {rules} rules"
    );
    eprintln!("covered by the object's module rule only, by kind: {root_only:?}");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        spec_fields > 100 && defaults > 50,
        "spec and default origins are recorded"
    );
}
