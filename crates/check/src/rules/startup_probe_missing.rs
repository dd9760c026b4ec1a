//! Slow starters use a startupProbe rather than a long liveness initialDelaySeconds.
use crate::model::{NodeExt, Obj, Severity};
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "startup-probe-missing",
    category: "probes",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "A container whose livenessProbe waits 30 s or more (initialDelaySeconds) has a startupProbe",
    why: "A long initialDelaySeconds is a guess: too short and a slow start is killed in a loop, too long and a deadlock right after start goes unnoticed. A startupProbe holds the liveness probe off exactly until the app has started.",
    fix: "startupProbe:\n  httpGet: {path: /healthz/live, port: http}\n  periodSeconds: 5\n  failureThreshold: 60      # up to 5 minutes to start\nlivenessProbe:\n  httpGet: {path: /healthz/live, port: http}\n",
    hint: "add a startupProbe and drop the liveness initialDelaySeconds",
    equiv: ["", "", "", ""],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        for c in pod::obj_containers(obj) {
            if let Some(delay) = c.node.path(&["livenessProbe", "initialDelaySeconds"])
                && delay.as_i64().is_some_and(|d| d >= 30)
                && c.node.get("startupProbe").is_none()
            {
                cx.hit(
                    obj,
                    Some(delay),
                    format!("{}.livenessProbe.initialDelaySeconds", c.path),
                    format!(
                        "container `{}` is a slow starter (liveness initialDelaySeconds {}) without a startupProbe",
                        c.name,
                        delay.as_i64().unwrap_or(0)
                    ),
                );
            }
        }
    }
}
