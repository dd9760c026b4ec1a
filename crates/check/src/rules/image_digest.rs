//! Images are pinned by digest (recommended in production; off by default, info with --prod)
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "image-digest",
    category: "images",
    severity: None,
    prod_severity: Some(Severity::Info),
    summary: "Images are pinned by digest (recommended in production; off by default, info with --prod)",
    why: "A tag can be moved to a different image, by a compromised registry account or a careless re-push. A digest names exactly one image, so what was tested is what runs.",
    fix: "image: ghcr.io/acme/web:1.4.2@sha256:0d5a…   # tag kept for humans\n",
    hint: "pin the image with @sha256:<digest>",
    equiv: ["", "", "", "CKV_K8S_43"],
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
            if pod::parse_image(s).2.is_none() {
                cx.hit(
                    obj,
                    Some(img),
                    format!("{}.image", c.path),
                    format!("container `{}`: image {s} is not pinned by digest", c.name),
                );
            }
        }
    }
}
