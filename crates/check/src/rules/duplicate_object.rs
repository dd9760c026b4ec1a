//! No object (API group, kind, namespace, name) is in the input twice.
use crate::index::Index;
use crate::model::{NodeExt, Obj, Severity};
use crate::rules::{Cx, Meta, Rule};
use std::collections::HashMap;

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "duplicate-object",
    category: "input",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "No object (API group, kind, namespace, name) is in the input twice",
    why: "Kubernetes keeps one object per group, kind, namespace and name: of two copies in one apply, the last one silently wins, so a stale or conflicting copy (an old file left in a directory, a stream concatenated with its own parts, two overlays of one app) decides what runs. Two identical copies also count every finding twice.",
    fix: "# one definition per object; for `berth build` output check the environment directory\n# (berth check out/prod), which reads each object once\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n",
    hint: "keep one copy of the object (delete or rename the other)",
    equiv: ["", "", "", ""],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        let mut first: HashMap<(&str, &str, &str, &str), &Obj> = HashMap::new();
        for o in &ix.objs {
            if o.name.is_empty() || o.kind.is_empty() {
                continue;
            }
            let key = (o.group(), o.kind.as_str(), o.ns(), o.name.as_str());
            match first.get(&key) {
                None => {
                    first.insert(key, o);
                }
                Some(earlier) => {
                    // The pruned trees differ: the copies certainly conflict.
                    let conflict = earlier.root.to_json() != o.root.to_json();
                    let name = o.root.path(&["metadata", "name"]);
                    cx.hit(
                        o,
                        name,
                        "metadata.name",
                        format!(
                            "{} is already defined at {}:{}{}; only the copy applied last takes effect",
                            o.obj_ref(),
                            earlier.file,
                            earlier.root.pos.line,
                            if conflict { ", and this copy differs" } else { "" }
                        ),
                    );
                }
            }
        }
    }
}
