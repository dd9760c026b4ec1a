//! Pods do not share the node network, PID or IPC namespace (hostNetwork, hostPID, hostIPC)
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "host-namespaces",
    category: "security",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "Pods do not share the node network, PID or IPC namespace (hostNetwork, hostPID, hostIPC)",
    why: "hostNetwork exposes every node interface and localhost-only services to the pod and bypasses NetworkPolicies; hostPID lets it see and signal every process on the node; hostIPC shares the node shared memory.",
    fix: "spec:\n  hostNetwork: false   # the default: just remove the field\n  hostPID: false\n  hostIPC: false\n",
    hint: "remove hostNetwork/hostPID/hostIPC",
    equiv: [
        "",
        "host-network, host-pid, host-ipc",
        "hostNetworkSet, hostPIDSet, hostIPCSet",
        "CKV_K8S_19, CKV_K8S_17, CKV_K8S_18",
    ],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        let Some((spec, spec_path)) = pod::pod_spec(obj) else {
            return;
        };

        for key in ["hostNetwork", "hostPID", "hostIPC"] {
            if let Some(n) = spec.get(key).filter(|n| n.as_bool() == Some(true)) {
                cx.hit(
                    obj,
                    Some(n),
                    format!("{spec_path}.{key}"),
                    format!("pod sets {key}: true"),
                );
            }
        }
    }
}
