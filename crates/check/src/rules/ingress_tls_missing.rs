//! Every host an Ingress serves is covered by its tls section
#[allow(unused_imports)]
use crate::model::{NodeExt, Obj, Severity};
#[allow(unused_imports)]
use crate::pod;
use crate::rules::{Cx, Meta, Rule};

pub struct R;
pub static RULE: R = R;
static META: Meta = Meta {
    id: "ingress-tls-missing",
    category: "networking",
    severity: Some(Severity::Warning),
    prod_severity: None,
    summary: "Every host an Ingress serves is covered by its tls section",
    why: "Without TLS the traffic between clients and the ingress controller is readable and modifiable by anyone on the path, cookies and tokens included.",
    fix: "spec:\n  tls:\n    - hosts: [shop.example.com]\n      secretName: shop-tls     # e.g. issued by cert-manager\n  rules:\n    - host: shop.example.com\n",
    hint: "add spec.tls with the host and a certificate Secret",
    equiv: ["", "", "tlsSettingsMissing", ""],
    cross: false,
};

impl Rule for R {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn check(&self, obj: &Obj, cx: &mut Cx) {
        if obj.kind != "Ingress" {
            return;
        }
        let tls_hosts: Vec<&str> = obj
            .root
            .path(&["spec", "tls"])
            .map(|t| t.seq())
            .unwrap_or(&[])
            .iter()
            .flat_map(|t| {
                t.get("hosts")
                    .map(|h| h.seq())
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|h| h.as_str())
            })
            .collect();
        let has_tls = obj
            .root
            .path(&["spec", "tls"])
            .is_some_and(|t| !t.seq().is_empty());
        let rules = obj
            .root
            .path(&["spec", "rules"])
            .map(|r| r.seq())
            .unwrap_or(&[]);
        let mut any_host = false;
        for (i, r) in rules.iter().enumerate() {
            if let Some(h) = r.get("host")
                && let Some(host) = h.as_str()
            {
                any_host = true;
                let covered = tls_hosts.iter().any(|t| {
                    *t == host
                        || (t.starts_with("*.")
                            && host
                                .split_once('.')
                                .is_some_and(|(_, rest)| rest == &t[2..]))
                });
                if !covered {
                    cx.hit(
                        obj,
                        Some(h),
                        format!("spec.rules[{i}].host"),
                        format!("host {host} is served without TLS"),
                    );
                }
            }
        }
        if !any_host && !has_tls {
            cx.hit(
                obj,
                obj.root.get("spec"),
                "spec.tls",
                "the Ingress has no tls section",
            );
        }
    }
}
