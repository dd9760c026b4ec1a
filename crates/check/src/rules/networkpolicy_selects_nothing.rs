//! A NetworkPolicy podSelector (and each same-namespace peer podSelector) matches some pod template in the input
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "networkpolicy-selects-nothing",
    category: "networking",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "A NetworkPolicy podSelector (and each same-namespace peer podSelector) matches some pod template in the input",
    why: "A policy that selects nothing protects nothing; a peer selector that matches nothing allows nothing. Both usually come from a label typo, and the intended isolation silently does not exist.",
    fix: "spec:\n  podSelector:\n    matchLabels: {app.kubernetes.io/name: web}   # labels of real pods\n",
    hint: "make the selector match the pod template labels",
    equiv: [
        "networkpolicy-targets-pod",
        "dangling-networkpolicy, dangling-networkpolicypeer-podselector",
        "",
        "",
    ],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        for p in ix.kind("NetworkPolicy") {
            if let Some(sel) = p.root.path(&["spec", "podSelector"])
                && !sel.entries().is_empty()
                && ix.select(p.ns(), sel).is_empty()
                && !ix.selects_operator_pods(p.ns(), sel)
            {
                cx.hit(
                    p,
                    Some(sel),
                    "spec.podSelector",
                    format!(
                        "podSelector matches no pod template in namespace {}",
                        p.ns()
                    ),
                );
            }
            for dir in ["ingress", "egress"] {
                let peers_key = if dir == "ingress" { "from" } else { "to" };
                for (i, r) in p
                    .root
                    .path(&["spec", dir])
                    .map(|r| r.seq())
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                {
                    for (j, peer) in r
                        .get(peers_key)
                        .map(|x| x.seq())
                        .unwrap_or(&[])
                        .iter()
                        .enumerate()
                    {
                        if peer.get("namespaceSelector").is_some() {
                            continue;
                        }
                        if let Some(sel) = peer.get("podSelector")
                            && !sel.entries().is_empty()
                            && ix.select(p.ns(), sel).is_empty()
                            && !ix.selects_operator_pods(p.ns(), sel)
                        {
                            cx.hit(p, Some(sel), format!("spec.{dir}[{i}].{peers_key}[{j}].podSelector"), format!("{dir} peer podSelector matches no pod template in namespace {}", p.ns()));
                        }
                    }
                }
            }
        }
    }
}
