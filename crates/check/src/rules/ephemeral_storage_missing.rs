//! Containers writing to emptyDir volumes bound their ephemeral storage.
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "ephemeral-storage-missing",
    category: "resources",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "A container that mounts a writable disk-backed emptyDir sets an ephemeral-storage request and limit",
    why: "emptyDir volumes live on the node's disk. Without an ephemeral-storage limit one pod can fill the node's disk, after which the kubelet evicts pods at random; without a request the scheduler ignores the space the pod needs.",
    fix: "resources:\n  requests:\n    ephemeral-storage: 100Mi\n  limits:\n    ephemeral-storage: 1Gi\n",
    hint: "set resources.requests/limits.ephemeral-storage (or use emptyDir.sizeLimit and medium: Memory for scratch)",
    equiv: ["container-ephemeral-storage-request-and-limit", "", "", ""],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        let Some((spec, _)) = pod::pod_spec(obj) else {
            return;
        };
        let disk_volumes: Vec<&str> = spec
            .get("volumes")
            .map(|v| v.seq())
            .unwrap_or(&[])
            .iter()
            .filter(|v| {
                v.get("emptyDir").is_some() && v.str_at(&["emptyDir", "medium"]) != Some("Memory")
            })
            .filter_map(|v| v.str_at(&["name"]))
            .collect();
        if disk_volumes.is_empty() {
            return;
        }
        for c in pod::obj_containers(obj) {
            let writes = c
                .node
                .get("volumeMounts")
                .map(|m| m.seq())
                .unwrap_or(&[])
                .iter()
                .any(|m| {
                    m.str_at(&["name"])
                        .is_some_and(|n| disk_volumes.contains(&n))
                        && m.bool_at(&["readOnly"]) != Some(true)
                });
            let bounded = c
                .node
                .path(&["resources", "limits", "ephemeral-storage"])
                .is_some()
                && c.node
                    .path(&["resources", "requests", "ephemeral-storage"])
                    .is_some();
            if writes && !bounded {
                cx.hit(
                    obj,
                    c.node.get("resources").or(Some(c.node)),
                    format!("{}.resources", c.path),
                    format!(
                        "container `{}` writes to an emptyDir volume but has no ephemeral-storage request and limit",
                        c.name
                    ),
                );
            }
        }
    }
}
