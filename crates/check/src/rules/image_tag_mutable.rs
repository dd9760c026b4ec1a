//! Images name a tag other than latest (or a digest)
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "image-tag-mutable",
    category: "images",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "Images name a tag other than latest (or a digest)",
    why: "An image without a tag means :latest. A mutable tag makes a rollout, a rollback and a node replacement pull whatever the tag points at that day: two pods of one ReplicaSet can run different code, and a rollback does not roll back.",
    fix: "image: ghcr.io/acme/web:1.4.2\n# or, pinned: ghcr.io/acme/web:1.4.2@sha256:…\n",
    hint: "use a version tag (or a digest), never latest",
    equiv: [
        "container-image-tag",
        "latest-tag",
        "tagNotSpecified",
        "CKV_K8S_14",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            let Some(img) = c.node.get("image") else {
                continue;
            };
            let Some(s) = img.as_str() else { continue };
            let (_, tag, digest) = pod::parse_image(s);
            if digest.is_none() && matches!(tag, None | Some("latest")) {
                let why = if tag.is_none() {
                    "has no tag (means :latest)"
                } else {
                    "uses the mutable tag :latest"
                };
                cx.hit(
                    obj,
                    Some(img),
                    format!("{}.image", c.path),
                    format!("container `{}`: image {s} {why}", c.name),
                );
            }
        }
    }
}
