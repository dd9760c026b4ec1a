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

// The rule modules, declared here (not inside `rules!`) so rustfmt formats them. The registry
// below lists the same names in documentation order; a test checks every file in this
// directory is registered.
pub mod api_deprecated;
pub mod api_removed;
pub mod capabilities_add_dangerous;
pub mod capabilities_drop_all;
pub mod cpu_limit_missing;
pub mod crd_not_validated;
pub mod credential_literal;
pub mod duplicate_object;
pub mod env_duplicate;
pub mod env_ref_missing;
pub mod ephemeral_storage_missing;
pub mod host_namespaces;
pub mod host_path;
pub mod host_port;
pub mod hpa_metric_without_request;
pub mod hpa_replica_bounds;
pub mod hpa_target_missing;
pub mod image_digest;
pub mod image_pull_policy;
pub mod image_tag_mutable;
pub mod ingress_backend_missing;
pub mod ingress_tls_missing;
pub mod limits_below_requests;
pub mod liveness_probe_missing;
pub mod memory_limit_missing;
pub mod networkpolicy_default_deny_missing;
pub mod networkpolicy_selects_nothing;
pub mod pdb_blocks_drain;
pub mod pdb_missing;
pub mod plaintext_secret;
pub mod privilege_escalation;
pub mod privileged;
pub mod probe_port_undeclared;
pub mod probes_identical;
pub mod rbac_cluster_admin;
pub mod rbac_wildcard;
pub mod read_only_root_fs;
pub mod readiness_probe_missing;
pub mod recommended_labels;
pub mod replicas_min;
pub mod requests_missing;
pub mod run_as_non_root;
pub mod sa_token_automount;
pub mod schema_valid;
pub mod seccomp_profile;
pub mod selector_template_mismatch;
pub mod service_selects_nothing;
pub mod service_target_port;
pub mod service_type_exposed;
pub mod spread_or_anti_affinity;
pub mod startup_probe_missing;
pub mod yaml_syntax;

macro_rules! rules {
    ($($m:ident),* $(,)?) => {
        /// Every rule, in documentation order.
        pub fn all() -> &'static [&'static dyn Rule] {
            static ALL: &[&dyn Rule] = &[$(&$m::RULE),*];
            ALL
        }

        /// The module name of every registered rule, as in [`all`].
        #[cfg(test)]
        const MODULES: &[&str] = &[$(stringify!($m)),*];
    };
}

rules!(
    yaml_syntax,
    schema_valid,
    crd_not_validated,
    api_removed,
    api_deprecated,
    duplicate_object,
    requests_missing,
    memory_limit_missing,
    cpu_limit_missing,
    limits_below_requests,
    ephemeral_storage_missing,
    readiness_probe_missing,
    liveness_probe_missing,
    probes_identical,
    startup_probe_missing,
    probe_port_undeclared,
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
    image_tag_mutable,
    image_digest,
    image_pull_policy,
    replicas_min,
    selector_template_mismatch,
    pdb_missing,
    pdb_blocks_drain,
    spread_or_anti_affinity,
    hpa_replica_bounds,
    hpa_target_missing,
    hpa_metric_without_request,
    service_selects_nothing,
    service_target_port,
    ingress_backend_missing,
    ingress_tls_missing,
    networkpolicy_default_deny_missing,
    networkpolicy_selects_nothing,
    service_type_exposed,
    rbac_wildcard,
    rbac_cluster_admin,
    credential_literal,
    plaintext_secret,
    env_ref_missing,
    env_duplicate,
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

#[cfg(test)]
mod tests {
    #[test]
    fn every_rule_file_is_declared_and_registered_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .filter(|stem| stem != "mod")
            .collect();
        files.sort();
        let mut registered: Vec<String> = super::MODULES.iter().map(|m| m.to_string()).collect();
        registered.sort();
        assert_eq!(
            files, registered,
            "every file in src/rules/ is in `rules!` (once)"
        );
        assert_eq!(super::all().len(), super::MODULES.len());
    }
}
