//! Containers drop all Linux capabilities (capabilities.drop: [ALL])
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "capabilities-drop-all",
    category: "security",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Containers drop all Linux capabilities (capabilities.drop: [ALL])",
    why: "Container runtimes grant a default set of capabilities (NET_RAW, CHOWN, SETUID, …) that most apps never use; NET_RAW alone allows ARP and DNS spoofing inside the cluster network. Drop ALL and add back only what is needed. To bind a port below 1024 as non-root, adding NET_BIND_SERVICE does not help (a non-root process gets no ambient capabilities); lower the pod's `net.ipv4.ip_unprivileged_port_start` instead, a namespaced safe sysctl that Pod Security `restricted` allows and no rule flags (berth renders it for services with such ports).",
    fix: "securityContext:\n  capabilities:\n    drop: [ALL]\n# binding port 80 as non-root: in the pod securityContext\n#   sysctls: [{ name: net.ipv4.ip_unprivileged_port_start, value: \"80\" }]\n",
    hint: "set securityContext.capabilities.drop: [ALL]",
    equiv: [
        "",
        "drop-net-raw-capability",
        "insecureCapabilities",
        "CKV_K8S_37, CKV_K8S_28",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            let drops_all = c
                .node
                .path(&["securityContext", "capabilities", "drop"])
                .is_some_and(|d| {
                    d.seq()
                        .iter()
                        .any(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case("ALL")))
                });
            if !drops_all {
                cx.hit(
                    obj,
                    c.node
                        .path(&["securityContext", "capabilities"])
                        .or(Some(c.node)),
                    format!("{}.securityContext.capabilities.drop", c.path),
                    format!("container `{}` does not drop ALL capabilities", c.name),
                );
            }
        }
    }
}
