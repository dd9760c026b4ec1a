//! imagePullPolicy is sane: not Never, and not IfNotPresent with a mutable tag
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "image-pull-policy",
    category: "images",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "imagePullPolicy is sane: not Never, and not IfNotPresent with a mutable tag",
    why: "Never only works when someone pre-loaded the image on every node. IfNotPresent with :latest (or no tag) keeps whatever stale image a node happened to cache, so pods of one workload run different builds.",
    fix: "image: ghcr.io/acme/web:1.4.2\nimagePullPolicy: IfNotPresent   # fine with an immutable tag\n",
    hint: "use an immutable tag with IfNotPresent, or Always",
    equiv: [
        "container-image-pull-policy",
        "",
        "pullPolicyNotAlways",
        "CKV_K8S_15",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            let Some(p) = c.node.get("imagePullPolicy") else {
                continue;
            };
            let policy = p.as_str().unwrap_or("");
            let image = c.node.str_at(&["image"]).unwrap_or("");
            let (_, tag, digest) = pod::parse_image(image);
            let mutable = digest.is_none() && matches!(tag, None | Some("latest"));
            if policy == "Never" {
                cx.hit(obj, Some(p), format!("{}.imagePullPolicy", c.path), format!("container `{}`: imagePullPolicy Never only works if the image was pre-loaded on every node", c.name));
            } else if policy == "IfNotPresent" && mutable {
                cx.hit(obj, Some(p), format!("{}.imagePullPolicy", c.path), format!("container `{}`: imagePullPolicy IfNotPresent with mutable image {image} runs whatever each node cached", c.name));
            }
        }
    }
}
