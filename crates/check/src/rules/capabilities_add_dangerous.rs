//! No container adds dangerous capabilities (ALL, SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, DAC_READ_SEARCH, BPF)
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "capabilities-add-dangerous",
    category: "security",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "No container adds dangerous capabilities (ALL, SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, DAC_READ_SEARCH, BPF)",
    why: "These capabilities are close to root on the node: SYS_ADMIN alone allows mounting filesystems and escaping the container, SYS_PTRACE reading other processes memory, NET_ADMIN reconfiguring the node network.",
    fix: "securityContext:\n  capabilities:\n    drop: [ALL]\n    add: [NET_BIND_SERVICE]\n",
    hint: "remove the capability; redesign so the container does not need it",
    equiv: [
        "",
        "privilege-escalation-container",
        "dangerousCapabilities",
        "CKV_K8S_39, CKV_K8S_25",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        const DANGEROUS: &[&str] = &[
            "ALL",
            "SYS_ADMIN",
            "NET_ADMIN",
            "SYS_PTRACE",
            "SYS_MODULE",
            "DAC_READ_SEARCH",
            "BPF",
        ];
        for c in pod::obj_containers(obj) {
            if let Some(add) = c.node.path(&["securityContext", "capabilities", "add"]) {
                for (i, cap) in add.seq().iter().enumerate() {
                    if let Some(s) = cap.as_str()
                        && DANGEROUS
                            .contains(&s.trim_start_matches("CAP_").to_ascii_uppercase().as_str())
                    {
                        cx.hit(
                            obj,
                            Some(cap),
                            format!("{}.securityContext.capabilities.add[{i}]", c.path),
                            format!("container `{}` adds capability {s}", c.name),
                        );
                    }
                }
            }
        }
    }
}
