//! Each Service targetPort exists on the containers it selects (named ports by name, numbers among declared containerPorts)
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};
use std::collections::{BTreeSet, HashMap};

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
        // Port names and numbers per distinct selection (Services often share selectors).
        struct Ports {
            names: BTreeSet<String>,
            numbers: BTreeSet<i64>,
            pods: String,
        }
        let mut memo: HashMap<*const usize, Ports> = HashMap::new();
        for s in ix.kind("Service") {
            let Some(sel) = s.root.path(&["spec", "selector"]) else {
                continue;
            };
            let ids = ix.service_selection(s.ns(), sel);
            if ids.is_empty() {
                continue;
            }
            let ports = memo.entry(ids.as_ptr()).or_insert_with(|| {
                let mut names = BTreeSet::new();
                let mut numbers = BTreeSet::new();
                let mut pods = BTreeSet::new();
                for w in ids.iter().map(|&i| &ix.objs[i]) {
                    pods.insert(format!("{} {}", w.kind, w.name));
                    // Native sidecars (init containers with `restartPolicy: Always`) serve
                    // for the pod's whole life, so their ports are Service targets too.
                    for c in pod::obj_containers(w).into_iter().filter(|c| {
                        !c.init
                            || c.node
                                .get("restartPolicy")
                                .and_then(|n| n.scalar_text())
                                .as_deref()
                                == Some("Always")
                    }) {
                        for p in c.node.get("ports").map(|p| p.seq()).unwrap_or(&[]) {
                            if let Some(n) = p.str_at(&["name"]) {
                                names.insert(n.to_string());
                            }
                            if let Some(n) = p.path(&["containerPort"]).and_then(NodeExt::as_i64) {
                                numbers.insert(n);
                            }
                        }
                    }
                }
                let n = pods.len();
                let mut pods: Vec<String> = pods.into_iter().take(5).collect();
                if n > 5 {
                    pods.push(format!("and {} more", n - 5));
                }
                Ports {
                    names,
                    numbers,
                    pods: pods.join(", "),
                }
            });
            for (i, p) in s
                .root
                .path(&["spec", "ports"])
                .map(|p| p.seq())
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                let Some(tp) = p.get("targetPort").or(p.get("port")) else {
                    continue;
                };
                if let Some(n) = tp.as_i64() {
                    if !ports.numbers.is_empty() && !ports.numbers.contains(&n) {
                        cx.hit(s, Some(tp), format!("spec.ports[{i}].targetPort"), format!("targetPort {n} is not a containerPort of the selected pods (they declare {:?})", ports.numbers.iter().collect::<Vec<_>>()));
                    }
                } else if let Some(name) = tp.as_str()
                    && !ports.names.contains(name)
                {
                    if name.parse::<i64>().is_ok() {
                        continue;
                    }
                    cx.hit(
                        s,
                        Some(tp),
                        format!("spec.ports[{i}].targetPort"),
                        format!(
                            "targetPort `{name}` is not a port name of the selected pods ({})",
                            ports.pods
                        ),
                    );
                }
            }
        }
    }
}
