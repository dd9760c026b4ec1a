//! env valueFrom configMapKeyRef/secretKeyRef (and envFrom) point at keys that exist, when the ConfigMap or Secret is in the input
use crate::index::Index;
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "env-ref-missing",
    category: "config",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "env valueFrom configMapKeyRef/secretKeyRef (and envFrom) point at keys that exist, when the ConfigMap or Secret is in the input",
    why: "A reference to a missing key (not marked optional) keeps the pod in CreateContainerConfigError: it never starts, and the error only shows in events.",
    fix: "env:\n  - name: DB_HOST\n    valueFrom:\n      configMapKeyRef: {name: db, key: host}   # db must have data.host\n",
    hint: "add the key to the ConfigMap/Secret, fix the name, or mark the reference optional: true",
    equiv: ["", "env-value-from", "", ""],
    cross: true,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check_index(&self, ix: &Index, cx: &mut Cx) {
        for w in ix
            .objs
            .iter()
            .filter(|o| berth_kinds::pod_template(&o.kind).is_some())
        {
            for c in pod::obj_containers(w) {
                for (i, e) in c
                    .node
                    .get("env")
                    .map(|e| e.seq())
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                {
                    for (refkey, kind) in
                        [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")]
                    {
                        let Some(r) = e.path(&["valueFrom", refkey]) else {
                            continue;
                        };
                        if r.bool_at(&["optional"]) == Some(true) {
                            continue;
                        }
                        let (Some(name), Some(key)) = (r.str_at(&["name"]), r.str_at(&["key"]))
                        else {
                            continue;
                        };
                        let Some(target) = ix.find(kind, w.ns(), name) else {
                            continue;
                        };
                        let has = ["data", "stringData", "binaryData"]
                            .iter()
                            .any(|d| target.root.path(&[d, key]).is_some());
                        if !has {
                            cx.hit(
                                w,
                                r.get("key").or(Some(r)),
                                format!("{}.env[{i}].valueFrom.{refkey}", c.path),
                                format!("container `{}`: {kind} {name} has no key `{key}`", c.name),
                            );
                        }
                    }
                }
                for (i, e) in c
                    .node
                    .get("envFrom")
                    .map(|e| e.seq())
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                {
                    for (refkey, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                        let Some(r) = e.get(refkey) else { continue };
                        if r.bool_at(&["optional"]) == Some(true) {
                            continue;
                        }
                        let Some(name) = r.str_at(&["name"]) else {
                            continue;
                        };
                        let same_input = ix.kind(kind).next().is_some();
                        if same_input
                            && ix.find(kind, w.ns(), name).is_none()
                            && ix.file_has_kind(&w.file, kind)
                        {
                            cx.hit(w, Some(r), format!("{}.envFrom[{i}].{refkey}", c.path), format!("container `{}`: {kind} {name} is not in the input (namespace {})", c.name, w.ns()));
                        }
                    }
                }
            }
        }
    }
}
