//! Each Service targetPort exists on the containers it selects (named ports by name, numbers among declared containerPorts)
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::index::Index;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "service-target-port",
    category: "networking",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "Each Service targetPort exists on the containers it selects (named ports by name, numbers among declared containerPorts)",
    why: "A targetPort naming a port the pods do not declare makes the endpoints unready for that port: the Service accepts connections and drops them.",
    fix: "ports:\n  - name: http\n    port: 80\n    targetPort: http        # a containerPort name of the selected pods\n",
    hint: "use a port name or number the selected containers declare",
    equiv: ["", "invalid-target-ports", "", ""],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {

        for s in ix.kind("Service") {
            let Some(sel) = s.root.path(&["spec", "selector"]) else { continue };
            let pods = ix.select_by_map(s.ns(), sel);
            if pods.is_empty() {
                continue;
            }
            let mut names: Vec<String> = Vec::new();
            let mut numbers: Vec<i64> = Vec::new();
            for w in &pods {
                for c in pod::obj_containers(w).into_iter().filter(|c| !c.init) {
                    for p in c.node.get("ports").map(|p| p.seq()).unwrap_or(&[]) {
                        if let Some(n) = p.str_at(&["name"]) { names.push(n.to_string()); }
                        if let Some(n) = p.path(&["containerPort"]).and_then(NodeExt::as_i64) { numbers.push(n); }
                    }
                }
            }
            for (i, p) in s.root.path(&["spec", "ports"]).map(|p| p.seq()).unwrap_or(&[]).iter().enumerate() {
                let Some(tp) = p.get("targetPort").or(p.get("port")) else { continue };
                if let Some(n) = tp.as_i64() {
                    if !numbers.is_empty() && !numbers.contains(&n) {
                        cx.hit(s, Some(tp), format!("spec.ports[{i}].targetPort"), format!("targetPort {n} is not a containerPort of the selected pods (they declare {numbers:?})"));
                    }
                } else if let Some(name) = tp.as_str() && !names.iter().any(|x| x == name) {
                    if name.parse::<i64>().is_ok() { continue; }
                    cx.hit(s, Some(tp), format!("spec.ports[{i}].targetPort"), format!("targetPort `{name}` is not a port name of the selected pods ({})", pods.iter().map(|w| format!("{} {}", w.kind, w.name)).collect::<Vec<_>>().join(", ")));
                }
            }
        }
    }
}
