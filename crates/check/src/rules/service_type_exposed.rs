//! Services are not of type NodePort
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "service-type-exposed",
    category: "networking",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Services are not of type NodePort",
    why: "A NodePort opens the port on every node address, usually outside any ingress, TLS or authentication layer, and the 30000-32767 range tends to slip through firewall reviews.",
    fix: "spec:\n  type: ClusterIP      # expose through an Ingress or a LoadBalancer\n",
    hint: "use ClusterIP behind an Ingress (or a LoadBalancer)",
    equiv: ["service-type", "exposed-services", "", ""],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        if obj.kind == "Service"
            && let Some(t) = obj.root.path(&["spec", "type"])
            && t.as_str() == Some("NodePort")
        {
            cx.hit(
                obj,
                Some(t),
                "spec.type",
                "Service is of type NodePort: exposed on every node",
            );
        }
    }
}
