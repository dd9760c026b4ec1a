//! The rules, one file each. Every rule has an id, a default severity and docs (why, fix);
//! `all()` lists them in the order of `docs/rules.md`.

use crate::index::Index;
use crate::model::{Obj, ObjRef, Severity};
use berth_yaml::{Node, Pos};
use std::sync::Arc;

/// What a rule is, for docs, `--list-rules` and `berth explain`.
#[derive(Debug)]
pub struct Meta {
    pub id: &'static str,
    pub category: &'static str,
    /// Default severity; None = off unless enabled in `.berth-check.yaml`.
    pub severity: Option<Severity>,
    /// Severity with `--prod` when it differs.
    pub prod_severity: Option<Severity>,
    /// One line: what it checks.
    pub summary: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// A YAML snippet that passes.
    pub fix: &'static str,
    /// One-line fix hint shown with each finding.
    pub hint: &'static str,
    /// Equivalents: kube-score, kube-linter, Polaris, Checkov ("" = none).
    pub equiv: [&'static str; 4],
    /// Reads several objects together.
    pub cross: bool,
}

/// One raw hit, before severities and suppressions are applied.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: &'static str,
    pub file: Arc<str>,
    pub pos: Pos,
    pub object: Option<ObjRef>,
    pub object_line: usize,
    pub path: String,
    pub message: String,
}

/// Where rules report hits.
pub struct Cx {
    pub prod: bool,
    /// A development-tier environment's render (see `Options::dev`).
    pub dev: bool,
    pub(crate) rule: &'static str,
    pub(crate) hits: Vec<Hit>,
}

impl Cx {
    pub fn new(prod: bool, dev: bool) -> Cx {
        Cx {
            prod,
            dev,
            rule: "",
            hits: Vec::new(),
        }
    }

    /// Reports a problem on `obj`, at `node` when given (else at the object).
    pub fn hit(
        &mut self,
        obj: &Obj,
        node: Option<&Node>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        let pos = node.map(|n| n.pos).unwrap_or(obj.root.pos);
        self.hit_at(obj, pos, path, message);
    }

    /// Reports a problem on `obj` at a position.
    pub fn hit_at(
        &mut self,
        obj: &Obj,
        pos: Pos,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.hits.push(Hit {
            rule: self.rule,
            file: obj.file.clone(),
            pos,
            object: Some(obj.obj_ref()),
            object_line: obj.root.pos.line,
            path: path.into(),
            message: message.into(),
        });
    }
}

pub trait Rule: Sync + Send {
    fn meta(&self) -> &'static Meta;
    /// Single-object check (runs in parallel, on the full object).
    fn check(&self, _obj: &Obj, _cx: &mut Cx) {}
    /// Cross-resource check over the pruned index (runs once).
    fn check_index(&self, _ix: &Index, _cx: &mut Cx) {}
}

macro_rules! rules {
    ($($m:ident),* $(,)?) => {
        $(pub mod $m;)*
        /// Every rule, in documentation order.
        pub fn all() -> &'static [&'static dyn Rule] {
            static ALL: &[&dyn Rule] = &[$(&$m::RULE),*];
            ALL
        }
    };
}

rules!(
    // input and schema (reported by the engine)
    yaml_syntax,
    schema_valid,
    crd_not_validated,
    api_removed,
    api_deprecated,
    // resources
    requests_missing,
    memory_limit_missing,
    cpu_limit_missing,
    limits_below_requests,
    ephemeral_storage_missing,
    // probes
    readiness_probe_missing,
    liveness_probe_missing,
    probes_identical,
    startup_probe_missing,
    probe_port_undeclared,
    // security
    run_as_non_root,
    read_only_root_fs,
    privilege_escalation,
    privileged,
    capabilities_drop_all,
    capabilities_add_dangerous,
    host_namespaces,
    host_path,
    seccomp_profile,
    sa_token_automount,
    host_port,
    // images
    image_tag_mutable,
    image_digest,
    image_pull_policy,
    // availability
    replicas_min,
    selector_template_mismatch,
    pdb_missing,
    pdb_blocks_drain,
    spread_or_anti_affinity,
    hpa_replica_bounds,
    hpa_target_missing,
    hpa_metric_without_request,
    // networking
    service_selects_nothing,
    service_target_port,
    ingress_backend_missing,
    ingress_tls_missing,
    networkpolicy_default_deny_missing,
    networkpolicy_selects_nothing,
    service_type_exposed,
    // rbac and config hygiene
    rbac_wildcard,
    rbac_cluster_admin,
    credential_literal,
    plaintext_secret,
    env_ref_missing,
    env_duplicate,
    // labels
    recommended_labels,
);

pub fn find(id: &str) -> Option<&'static dyn Rule> {
    all().iter().copied().find(|r| r.meta().id == id)
}

/// The rule ids the engine itself reports (parse and schema stages).
pub const YAML_SYNTAX: &str = "yaml-syntax";
pub const SCHEMA_VALID: &str = "schema-valid";
pub const CRD_NOT_VALIDATED: &str = "crd-not-validated";
pub const API_REMOVED: &str = "api-removed";
pub const API_DEPRECATED: &str = "api-deprecated";

/// Declares a rule that only has metadata (reported by the engine).
macro_rules! engine_rule {
    ($meta:expr) => {
        pub struct R;
        pub static RULE: R = R;
        static META: crate::rules::Meta = $meta;
        impl crate::rules::Rule for R {
            fn meta(&self) -> &'static crate::rules::Meta {
                &META
            }
        }
    };
}
pub(crate) use engine_rule;
