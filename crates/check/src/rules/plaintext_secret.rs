//! No Secret object carries its data in plaintext in files meant for git
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "plaintext-secret",
    category: "config",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "No Secret object carries its data in plaintext in files meant for git (outside dev)",
    why: "Base64 is an encoding, not encryption: a Secret manifest committed to git is readable by everyone with repository access, forever (history). Commit a SealedSecret or an ExternalSecret instead. Applies to any manifests and to every rendered environment except dev-tier ones (`berth check APP` on a `tier: dev` environment, whose `secrets: {mode: plain}` Secret is expected), so a plain Secret rendered for staging or prod (e.g. with --allow-plain-secrets) is flagged.",
    fix: "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret        # berth seal turns a Secret into this\nmetadata: {name: db}\nspec:\n  encryptedData:\n    password: AgB…\n",
    hint: "commit a SealedSecret (berth seal) or an ExternalSecret instead",
    equiv: ["", "", "", ""],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        if obj.kind != "Secret" || obj.api_version != "v1" {
            return;
        }
        for field in ["data", "stringData"] {
            if let Some(d) = obj.root.get(field)
                && !d.entries().is_empty()
            {
                cx.hit(
                    obj,
                    Some(d),
                    field,
                    format!(
                        "Secret holds {} key{} in plaintext ({field}); do not commit it to git",
                        d.entries().len(),
                        if d.entries().len() == 1 { "" } else { "s" }
                    ),
                );
            }
        }
    }
}
