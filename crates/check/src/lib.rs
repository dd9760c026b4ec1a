//! berth-check: schema validation, production-readiness and cross-resource rules over any
//! Kubernetes manifests.
//!
//! Entry point: [`check`] takes [`Input`]s — paths (files or directories), text (stdin) or
//! already-parsed objects (what `berth render` produces) — and returns a [`Report`].
//!
//! Pipeline: inputs are processed in parallel, one file at a time per worker: parse (one
//! malformed document does not hide the others), schema-validate, run the single-object
//! rules, then keep only a pruned copy of each object for the cross-resource index. Once
//! every file is done, custom resources whose CRD was in the input are validated and the
//! cross-resource rules run over the index.

pub mod config;
mod deprecations;
pub mod index;
mod layout;
pub mod model;
pub mod output;
pub mod pod;
pub mod rules;
pub mod schema;

pub use config::Config;
pub use model::{Finding, Obj, ObjRef, Origin, Severity};

use berth_yaml::{Limits, Node, Pos, Value as YValue};
use model::{NodeExt, json_to_node};
use rules::{Cx, Hit};
use schema::{CrdSchemas, KubeSchemas};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `berth.dev/ignore: "rule-id,other-id"` on an object suppresses those rules for it.
pub const IGNORE_ANNOTATION: &str = "berth.dev/ignore";
/// Why the rules are ignored; shown with the suppressed findings.
pub const IGNORE_REASON_ANNOTATION: &str = "berth.dev/ignore-reason";

/// Something to check.
#[derive(Debug, Clone)]
pub enum Input<'a> {
    /// A file, or a directory searched recursively for `.yaml`, `.yml` and `.json`.
    Path(PathBuf),
    /// Manifest text (e.g. stdin), reported under `name`.
    Text { name: String, text: String },
    /// Already-parsed objects (e.g. rendered by berth), reported under `name`; borrowed, since
    /// callers such as `berth build` go on using them.
    Objects {
        name: String,
        objects: Vec<&'a Value>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Kubernetes minor to validate against (`1.33`); default: the newest bundled.
    pub kube_version: Option<String>,
    /// Files or directories holding CustomResourceDefinitions.
    pub crd_paths: Vec<PathBuf>,
    pub config: Config,
    /// Production profile: prod-only rules (replicas, digests) at their prod severity.
    pub prod: bool,
    /// The input is a development-tier environment's render: the rules in
    /// [`config::dev_severity`] are milder (plain Secrets and untagged images are what the spec
    /// allows in dev). Set through [`Options::for_tier`].
    pub dev: bool,
    /// Worker threads; default: available parallelism.
    pub threads: Option<usize>,
}

impl Options {
    /// The options for one environment of a berth app, by its tier (`dev`, `staging`, `prod`):
    /// the one mapping from tier to check profile, used by `berth build` and `berth check APP`.
    /// `--prod` (`self.prod`) puts every environment on the prod profile.
    pub fn for_tier(&self, tier: &str) -> Options {
        let prod = self.prod || tier == "prod";
        Options {
            prod,
            dev: !prod && tier == "dev",
            ..self.clone()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("Kubernetes version `{0}` is not bundled (bundled: {1})")]
    UnknownKubeVersion(String, String),
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}: no CustomResourceDefinition found")]
    NoCrd(PathBuf),
}

/// The outcome of a check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub kube_version: &'static str,
    /// Findings that count, sorted by file, object and line.
    pub findings: Vec<Finding>,
    /// Findings suppressed by `berth.dev/ignore`, with the reason.
    pub suppressed: Vec<Finding>,
    /// Things the user should know that are not findings (binary files skipped, …).
    pub notices: Vec<String>,
    pub files: usize,
    pub objects: usize,
    /// Malformed documents and unreadable files.
    pub input_errors: usize,
}

impl Report {
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
    /// Does any finding reach `fail_on`?
    pub fn fails(&self, fail_on: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= fail_on)
    }
}

/// One piece of work for a worker; text and objects are borrowed from the caller's inputs.
enum Unit<'a> {
    File(PathBuf),
    Text(Arc<str>, &'a str),
    Objects(Arc<str>, Vec<&'a Value>),
}

#[derive(Default)]
struct UnitOut {
    hits: Vec<Hit>,
    objs: Vec<Obj>,
    crds: Vec<Value>,
    deferred: Vec<Obj>,
    notices: Vec<String>,
    objects: usize,
    input_errors: usize,
    files: usize,
}

struct Shared<'a> {
    kube: &'static KubeSchemas,
    crds: &'a CrdSchemas,
    single: Vec<&'static dyn rules::Rule>,
    prod: bool,
    dev: bool,
}

/// Checks the inputs.
pub fn check(inputs: &[Input], opts: &Options) -> Result<Report, CheckError> {
    let version = match &opts.kube_version {
        Some(v) => schema::normalize_version(v).ok_or_else(|| {
            CheckError::UnknownKubeVersion(
                v.clone(),
                schema::KUBE_VERSIONS
                    .iter()
                    .map(|(v, _)| *v)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })?,
        None => schema::default_version(),
    };
    let kube = schema::kube_schemas(version);

    let mut crds = CrdSchemas::bundled();
    for p in &opts.crd_paths {
        let mut n = 0;
        for f in collect_files(p)? {
            let text = std::fs::read_to_string(&f).map_err(|e| CheckError::Io(f.clone(), e))?;
            for d in berth_yaml::parse_stream(&text, Limits::default()) {
                if let Ok(Some(root)) = d.root {
                    let v = root.to_json();
                    if v["kind"] == "CustomResourceDefinition" {
                        n += crds.add_crd(&v);
                    }
                }
            }
        }
        if n == 0 {
            return Err(CheckError::NoCrd(p.clone()));
        }
    }

    let mut units = Vec::new();
    let mut layout_notices = Vec::new();
    for input in inputs {
        match input {
            Input::Path(p) => {
                let (files, notices) = layout::manifest_files(p)?;
                units.extend(files.into_iter().map(Unit::File));
                layout_notices.extend(notices);
            }
            Input::Text { name, text } => units.push(Unit::Text(name.as_str().into(), text)),
            Input::Objects { name, objects } => {
                units.push(Unit::Objects(name.as_str().into(), objects.clone()))
            }
        }
    }

    let enabled = |r: &&'static dyn rules::Rule| {
        opts.config
            .severity(r.meta(), opts.prod, opts.dev)
            .is_some()
    };
    let enabled = &enabled;
    let shared = Shared {
        kube,
        crds: &crds,
        single: rules::all()
            .iter()
            .copied()
            .filter(|r| !r.meta().cross)
            .filter(|r| enabled(r))
            .collect(),
        prod: opts.prod,
        dev: opts.dev,
    };

    // Parallel phase: one unit at a time per worker.
    let threads = opts
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, units.len().max(1));
    let next = AtomicUsize::new(0);
    let outs: Vec<UnitOut> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = UnitOut::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(unit) = units.get(i) else { break };
                        process_unit(unit, &shared, &mut out);
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("check worker panicked"))
            .collect()
    });

    let mut all = UnitOut {
        notices: layout_notices,
        ..UnitOut::default()
    };
    for o in outs {
        all.hits.extend(o.hits);
        all.objs.extend(o.objs);
        all.crds.extend(o.crds);
        all.deferred.extend(o.deferred);
        all.notices.extend(o.notices);
        all.objects += o.objects;
        all.input_errors += o.input_errors;
        all.files += o.files;
    }

    // Custom resources: validate against CRDs found in the input, else report once per kind.
    for crd in &all.crds {
        crds.add_crd(crd);
    }
    all.deferred
        .sort_by(|a, b| (&a.file, a.root.pos).cmp(&(&b.file, b.root.pos)));
    let mut unvalidated: HashMap<(String, String), (usize, Obj)> = HashMap::new();
    let mut cx = Cx::new(opts.prod, opts.dev);
    for obj in all.deferred {
        match crds.get(&obj.api_version, &obj.kind) {
            Some(v) => {
                cx.rule = rules::SCHEMA_VALID;
                validate_result(&obj, v, &mut cx);
            }
            None => {
                unvalidated
                    .entry((obj.api_version.clone(), obj.kind.clone()))
                    .or_insert((0, obj))
                    .0 += 1;
            }
        }
    }
    let mut unvalidated: Vec<_> = unvalidated.into_iter().collect();
    unvalidated.sort_by(|a, b| a.0.cmp(&b.0));
    cx.rule = rules::CRD_NOT_VALIDATED;
    for ((api, kind), (n, obj)) in unvalidated {
        cx.hit(
            &obj,
            obj.root.get("kind"),
            "",
            format!(
                "{kind} ({api}) is a custom resource with no schema: {n} object{} not validated \
                 (pass its CustomResourceDefinition with --crd FILE|DIR or include it in the input)",
                if n == 1 { "" } else { "s" }
            ),
        );
    }
    all.hits.extend(cx.hits);

    // Cross-resource phase.
    all.objs
        .sort_by(|a, b| (&a.file, a.root.pos).cmp(&(&b.file, b.root.pos)));
    let ix = index::Index::new(all.objs);
    let mut cx = Cx::new(opts.prod, opts.dev);
    for r in rules::all().iter().filter(|r| r.meta().cross && enabled(r)) {
        cx.rule = r.meta().id;
        r.check_index(&ix, &mut cx);
    }
    all.hits.extend(cx.hits);

    // Severities and suppressions.
    type IgnoreKey = (Arc<str>, usize, ObjRef);
    let mut ignores: HashMap<IgnoreKey, (Vec<String>, String)> = HashMap::new();
    for o in &ix.objs {
        let rules = o.ignored_rules();
        if !rules.is_empty() {
            let reason = o
                .annotation(IGNORE_REASON_ANNOTATION)
                .unwrap_or("")
                .to_string();
            ignores.insert(
                (o.file.clone(), o.root.pos.line, o.obj_ref()),
                (rules, reason),
            );
        }
    }
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    for h in all.hits {
        let Some(rule) = rules::find(h.rule) else {
            continue;
        };
        let Some(severity) = opts.config.severity(rule.meta(), opts.prod, opts.dev) else {
            continue;
        };
        let ignored = h.object.as_ref().and_then(|o| {
            let (rules, reason) = ignores.get(&(h.file.clone(), h.object_line, o.clone()))?;
            rules
                .iter()
                .any(|r| r == h.rule || r == "all")
                .then(|| reason.clone())
        });
        let f = Finding {
            rule: h.rule.to_string(),
            severity,
            message: h.message,
            file: h.file,
            line: h.pos.line,
            col: h.pos.col,
            object: h.object,
            object_line: h.object_line,
            path: h.path,
            hint: (!rule.meta().hint.is_empty()).then(|| rule.meta().hint.to_string()),
            suppressed: ignored.clone(),
            origin: None,
        };
        if ignored.is_some() {
            suppressed.push(f);
        } else {
            findings.push(f);
        }
    }
    let key = |f: &Finding| (f.file.clone(), f.object_line, f.line, f.col, f.rule.clone());
    findings.sort_by_key(key);
    suppressed.sort_by_key(key);
    all.notices.sort();
    Ok(Report {
        kube_version: version,
        findings,
        suppressed,
        notices: all.notices,
        files: all.files,
        objects: all.objects,
        input_errors: all.input_errors,
    })
}

/// Files under a path: the file itself, or `.yaml`/`.yml`/`.json` files found recursively
/// (hidden directories skipped), sorted.
pub fn collect_files(p: &Path) -> Result<Vec<PathBuf>, CheckError> {
    let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CheckError::NotFound(p.to_path_buf()),
        _ => CheckError::Io(p.to_path_buf(), e),
    })?;
    if !meta.is_dir() {
        return Ok(vec![p.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![p.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|e| CheckError::Io(dir.clone(), e))?;
        for entry in rd {
            let entry = entry.map_err(|e| CheckError::Io(dir.clone(), e))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ft = entry
                .file_type()
                .map_err(|e| CheckError::Io(path.clone(), e))?;
            if ft.is_dir() {
                if !name.starts_with('.') {
                    stack.push(path);
                }
            } else if name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn process_unit(unit: &Unit, sh: &Shared, out: &mut UnitOut) {
    match unit {
        Unit::File(path) => {
            out.files += 1;
            let name: Arc<str> = path.display().to_string().into();
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => {
                    out.input_errors += 1;
                    out.notices.push(format!("{name}: cannot read: {e}"));
                    return;
                }
            };
            if bytes[..bytes.len().min(8192)].contains(&0) {
                out.notices.push(format!("{name}: skipped: binary file"));
                return;
            }
            match String::from_utf8(bytes) {
                Ok(text) => process_text(&name, &text, sh, out),
                Err(_) => out
                    .notices
                    .push(format!("{name}: skipped: binary file (not UTF-8)")),
            }
        }
        Unit::Text(name, text) => {
            out.files += 1;
            process_text(name, text, sh, out)
        }
        Unit::Objects(name, objects) => {
            out.files += 1;
            for v in objects {
                expand(name, json_to_node(v), sh, out);
            }
        }
    }
}

fn process_text(name: &Arc<str>, text: &str, sh: &Shared, out: &mut UnitOut) {
    for doc in berth_yaml::parse_stream(text, Limits::default()) {
        match doc.root {
            Ok(Some(root)) => expand(name, root, sh, out),
            Ok(None) => {}
            Err(e) => {
                out.input_errors += 1;
                let mut message = format!("malformed YAML document: {}", e.message);
                if let Some(h) = &e.help {
                    message.push_str(&format!(" ({h})"));
                }
                out.hits.push(Hit {
                    rule: rules::YAML_SYNTAX,
                    file: name.clone(),
                    pos: e.pos,
                    object: None,
                    object_line: doc.line,
                    path: String::new(),
                    message,
                });
            }
        }
    }
}

/// A document: one object, or a `List` of them.
fn expand(name: &Arc<str>, root: Node, sh: &Shared, out: &mut UnitOut) {
    if !matches!(root.value, YValue::Map(_)) {
        if matches!(root.value, YValue::Null) {
            return;
        }
        out.input_errors += 1;
        out.hits.push(Hit {
            rule: rules::YAML_SYNTAX,
            file: name.clone(),
            pos: root.pos,
            object: None,
            object_line: root.pos.line,
            path: String::new(),
            message: format!(
                "document is {}, not a Kubernetes object",
                root.value.type_name()
            ),
        });
        return;
    }
    let is_list = root.str_at(&["kind"]).is_some_and(|k| k.ends_with("List"))
        && matches!(root.get("items").map(|i| &i.value), Some(YValue::Seq(_)));
    if is_list {
        let YValue::Map(entries) = root.value else {
            unreachable!()
        };
        for (k, v) in entries {
            if k.name == "items"
                && let YValue::Seq(items) = v.value
            {
                for item in items {
                    expand(name, item, sh, out);
                }
            }
        }
        return;
    }
    process_object(Obj::from_node(name.clone(), root), sh, out);
}

/// API groups served by Kubernetes itself (not CRDs), including ones since removed.
const LEGACY_GROUPS: &[&str] = &["", "extensions"];

fn is_builtin_group(kube: &KubeSchemas, group: &str) -> bool {
    LEGACY_GROUPS.contains(&group) || kube.knows_group(group)
}

fn process_object(obj: Obj, sh: &Shared, out: &mut UnitOut) {
    out.objects += 1;
    let mut cx = Cx::new(sh.prod, sh.dev);
    cx.rule = rules::SCHEMA_VALID;
    if obj.api_version.is_empty() || obj.kind.is_empty() {
        let missing = if obj.api_version.is_empty() {
            "apiVersion"
        } else {
            "kind"
        };
        cx.hit(
            &obj,
            None,
            "",
            format!("not a Kubernetes object: `{missing}` is missing"),
        );
        out.hits.extend(cx.hits);
        return;
    }
    let version = sh.kube.version;
    let mut removed = false;
    match deprecations::status(&obj.api_version, &obj.kind, version) {
        Some(deprecations::Status::Removed {
            removed_in,
            replacement,
        }) => {
            removed = true;
            cx.rule = rules::API_REMOVED;
            cx.hit(
                &obj,
                obj.root.get("apiVersion"),
                "apiVersion",
                format!(
                    "{} {} was removed in Kubernetes {removed_in} (checking against {version}): use {replacement}",
                    obj.api_version, obj.kind
                ),
            );
        }
        Some(deprecations::Status::Deprecated {
            deprecated_in,
            replacement,
        }) => {
            cx.rule = rules::API_DEPRECATED;
            cx.hit(
                &obj,
                obj.root.get("apiVersion"),
                "apiVersion",
                format!(
                    "{} {} is deprecated since Kubernetes {deprecated_in}: use {replacement}",
                    obj.api_version, obj.kind
                ),
            );
        }
        None => {}
    }
    cx.rule = rules::SCHEMA_VALID;
    if let Some(cell) = sh.kube.validator(&obj.api_version, &obj.kind) {
        match cell.get() {
            Some(Ok(v)) => validate_into(&obj, v, &mut cx),
            _ => cx.hit(
                &obj,
                None,
                "",
                "internal: the bundled schema for this kind did not compile",
            ),
        }
    } else if let Some(v) = sh.crds.get(&obj.api_version, &obj.kind) {
        validate_result(&obj, v, &mut cx);
    } else if !removed {
        if is_builtin_group(sh.kube, obj.group()) {
            let why = if sh.kube.knows_api_version(&obj.api_version) {
                format!("{} has no kind `{}`", obj.api_version, obj.kind)
            } else {
                format!("no API `{}`", obj.api_version)
            };
            cx.hit(
                &obj,
                obj.root.get("kind"),
                "kind",
                format!("unknown to Kubernetes {version}: {why}"),
            );
        } else {
            out.deferred.push(obj.clone());
        }
    }
    if obj.kind == "CustomResourceDefinition" {
        out.crds.push(obj.root.to_json());
    }
    for r in &sh.single {
        cx.rule = r.meta().id;
        r.check(&obj, &mut cx);
    }
    out.hits.extend(cx.hits);
    out.objs.push(index::prune(&obj));
}

fn validate_result(obj: &Obj, v: &Result<jsonschema::Validator, String>, cx: &mut Cx) {
    match v {
        Ok(v) => validate_into(obj, v, cx),
        Err(e) => cx.hit(
            obj,
            None,
            "",
            format!("the CRD schema for this kind does not compile: {e}"),
        ),
    }
}

/// Validates an object and reports each error at the closest line.
fn validate_into(obj: &Obj, v: &jsonschema::Validator, cx: &mut Cx) {
    let json = obj.root.to_json();
    for e in schema::validate(v, &json) {
        let node = node_near(&obj.root, &e.path, e.field.as_deref());
        let mut path = schema::dotted_path(&e.path);
        if let Some(f) = &e.field {
            path = if path.is_empty() {
                f.clone()
            } else {
                format!("{path}.{f}")
            };
        }
        cx.hit_at(obj, node, path, e.message);
    }
}

/// The node at a path, or its closest existing ancestor; with `field`, that key's position.
fn node_near(root: &Node, path: &[String], field: Option<&str>) -> Pos {
    for len in (0..=path.len()).rev() {
        if let Some(n) = root.at_path(&path[..len]) {
            if len == path.len()
                && let Some(f) = field
                && let YValue::Map(entries) = &n.value
                && let Some((k, _)) = entries.iter().find(|(k, _)| k.name == f)
            {
                return k.pos;
            }
            return n.pos;
        }
    }
    root.pos
}
