//! Pods do not mount hostPath volumes
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "host-path",
    category: "security",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Pods do not mount hostPath volumes",
    why: "A hostPath volume gives the pod the node filesystem. Paths like /, /etc, /var/run/docker.sock or /proc hand over the node outright; any writable hostPath lets a pod plant files other pods or the kubelet will read.",
    fix: "volumes:\n  - name: cache\n    emptyDir: {}          # or a PersistentVolumeClaim\n",
    hint: "use an emptyDir, a PVC, a ConfigMap or a CSI volume instead of hostPath",
    equiv: [
        "",
        "sensitive-host-mounts, docker-sock, writable-host-mount",
        "hostPathSet",
        "CKV_K8S_27",
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

        const SENSITIVE: &[&str] = &[
            "/",
            "/boot",
            "/dev",
            "/etc",
            "/lib",
            "/proc",
            "/sys",
            "/usr",
            "/var/run/docker.sock",
            "/run/containerd/containerd.sock",
            "/var/run/crio/crio.sock",
            "/var/lib/kubelet",
        ];
        if let Some(vols) = spec.get("volumes") {
            for (i, v) in vols.seq().iter().enumerate() {
                if let Some(p) = v.path(&["hostPath", "path"]) {
                    let path = p.as_str().unwrap_or("");
                    let sensitive = SENSITIVE.iter().any(|s| {
                        path.trim_end_matches('/') == s.trim_end_matches('/')
                            || (*s != "/" && path.starts_with(&format!("{s}/")))
                    });
                    let what = if sensitive {
                        " (a sensitive node path)"
                    } else {
                        ""
                    };
                    cx.hit(
                        obj,
                        Some(p),
                        format!("{spec_path}.volumes[{i}].hostPath"),
                        format!(
                            "volume `{}` mounts host path {path}{what}",
                            v.str_at(&["name"]).unwrap_or("")
                        ),
                    );
                }
            }
        }
    }
}
