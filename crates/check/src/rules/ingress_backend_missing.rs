//! Every Ingress backend names a Service in the input and one of its ports
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "ingress-backend-missing",
    category: "networking",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "Every Ingress backend names a Service in the input and one of its ports",
    why: "A backend pointing at a missing Service or port answers 503 for that path: typically a renamed Service or a port given by number where the Service names it differently.",
    fix: "backend:\n  service:\n    name: web           # a Service in the same namespace\n    port: {name: http}  # one of its ports (name or number)\n",
    hint: "point the backend at an existing Service and one of its ports",
    equiv: ["ingress-targets-service", "dangling-ingress", "", ""],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        for ing in ix.kind("Ingress") {
            let mut backends: Vec<(&berth_yaml::Node, String)> = Vec::new();
            if let Some(b) = ing
                .root
                .path(&["spec", "defaultBackend"])
                .or(ing.root.path(&["spec", "backend"]))
            {
                backends.push((b, "spec.defaultBackend".into()));
            }
            for (i, r) in ing
                .root
                .path(&["spec", "rules"])
                .map(|r| r.seq())
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                for (j, p) in r
                    .path(&["http", "paths"])
                    .map(|p| p.seq())
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                {
                    if let Some(b) = p.get("backend") {
                        backends.push((b, format!("spec.rules[{i}].http.paths[{j}].backend")));
                    }
                }
            }
            for (b, path) in backends {
                let (name, port) = match b.get("service") {
                    Some(s) => (
                        s.str_at(&["name"]),
                        s.path(&["port", "number"]).or(s.path(&["port", "name"])),
                    ),
                    None => (b.str_at(&["serviceName"]), b.get("servicePort")),
                };
                let Some(name) = name else { continue };
                let Some(svc) = ix.find("Service", ing.ns(), name) else {
                    cx.hit(
                        ing,
                        Some(b),
                        path,
                        format!(
                            "backend Service {name} is not in the input (namespace {})",
                            ing.ns()
                        ),
                    );
                    continue;
                };
                let Some(port) = port else { continue };
                let ports = svc
                    .root
                    .path(&["spec", "ports"])
                    .map(|p| p.seq())
                    .unwrap_or(&[]);
                let found = ports.iter().any(|p| match port.as_i64() {
                    Some(n) => p.path(&["port"]).and_then(NodeExt::as_i64) == Some(n),
                    None => p.str_at(&["name"]) == port.as_str(),
                });
                if !found {
                    cx.hit(
                        ing,
                        Some(port),
                        path,
                        format!(
                            "Service {name} has no port {}",
                            port.scalar_text().unwrap_or_default()
                        ),
                    );
                }
            }
        }
    }
}
