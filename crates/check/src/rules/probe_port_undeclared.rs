//! Probes that name a port name it in the container's ports.
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "probe-port-undeclared",
    category: "probes",
    severity: Some(Severity::Error),
    prod_severity: None,
    summary: "A probe's named port (httpGet/tcpSocket) is declared in the container's ports",
    why: "A probe that names a port the container does not declare can never succeed: the readiness probe keeps the pod out of service forever, the liveness probe restarts it in a loop.",
    fix: "ports:\n  - name: http\n    containerPort: 8080\nreadinessProbe:\n  httpGet: {path: /ready, port: http}\n",
    hint: "declare the port in `ports` or use the port number",
    equiv: ["", "liveness-port, readiness-port, startup-port", "", ""],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            let names: Vec<&str> = c
                .node
                .get("ports")
                .map(|p| p.seq())
                .unwrap_or(&[])
                .iter()
                .filter_map(|p| p.str_at(&["name"]))
                .collect();
            for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
                for handler in ["httpGet", "tcpSocket"] {
                    if let Some(port) = c.node.path(&[probe, handler, "port"])
                        && let Some(name) = port.as_str()
                        && name.parse::<u16>().is_err()
                        && !names.contains(&name)
                    {
                        cx.hit(
                            obj,
                            Some(port),
                            format!("{}.{probe}.{handler}.port", c.path),
                            format!("container `{}`: {probe} uses port `{name}`, which the container does not declare", c.name),
                        );
                    }
                }
            }
        }
    }
}
