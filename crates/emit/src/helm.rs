//! A Helm chart generated from the per-environment renders.
//!
//! The renders of all environments are lined up object by object ([`crate::variants`]); where
//! every environment agrees, the template holds the literal value; where they differ, the
//! template reads a value (`{{ index .Values … | toJson }}` for scalars, `toYaml | nindent`
//! for maps and lists) whose key mirrors the object and field it sets
//! (`deployment.backend.spec.replicas`, list items by their `name` where they have one). An
//! object only some environments render is wrapped in `{{- if …enabled }}`. `values.yaml`
//! holds the value most environments share, `values-ENV.yaml` only that environment's
//! differences, `values.schema.json` every key with its type (`additionalProperties: false`).
//!
//! Templates are one file per service (`templates/backend.yaml`: each of its objects a
//! document with its own conditions) plus one for the app's own objects
//! ([`crate::variants::SHARED_FILE`]); the test hooks are one file, `templates/tests/APP-tests.yaml`.
//!
//! Helm's own additions, documented in docs/formats.md: every top-level object carries the
//! `helm.sh/chart` label; `syncWaves: true` adds the Argo CD sync-wave annotations; test hooks
//! (`templates/tests/`) are Pods and NetworkPolicies that only `helm test` creates.

use crate::files::FileSet;
use crate::variants::{self, Group, Key};
use crate::yaml::{join_docs, to_yaml};
use berth_operate::graph::Graph;
use berth_render::Rendered;
use berth_spec::App;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The image of the `helm test` Pods (curl, pinned).
pub const TEST_IMAGE: &str = "curlimages/curl:8.11.1";

/// What Helm adds to every top-level object beyond `berth render`: this label.
pub const CHART_LABEL: &str = "helm.sh/chart";

/// A template tree: literal values where every environment agrees, values where they differ.
#[derive(Debug, Clone)]
enum Node {
    Lit(Value),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    Var(Var),
    /// An inline template expression (`{{ … }}` included).
    Expr(String),
    /// Template lines at the current indentation; `{INDENT}` is replaced by it.
    Raw(Vec<String>),
}

#[derive(Debug, Clone)]
struct Var {
    path: Vec<String>,
    optional: bool,
    complex: bool,
}

/// One environment's value at a varying position.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Value(Value),
    /// The field is absent in this environment.
    Absent,
    /// The object is not rendered in this environment: any value will do.
    Any,
}

struct Values {
    entries: Vec<(Vec<String>, Vec<Slot>)>,
    /// Paths of Secret values: never a literal in a template, never in values.yaml or the
    /// README, only in the values file of the environment that has them.
    secret: Vec<Vec<String>>,
}

/// The chart, from every environment of one app (`apps[i]` rendered is `rendered[i]`).
pub fn helm(apps: &[App], rendered: &[Rendered]) -> FileSet {
    let graphs: Vec<Graph> = apps
        .iter()
        .zip(rendered)
        .map(|(app, r)| berth_operate::graph::graph(r, &app.ingress.namespace))
        .collect();
    helm_with_graphs(apps, rendered, &graphs)
}

/// [`helm`] with each environment's graph (`berth_operate::graph::graph`, for the README's
/// architecture) computed by the caller, who needs it too (`berth build`'s `graph/`).
pub fn helm_with_graphs(apps: &[App], rendered: &[Rendered], graphs: &[Graph]) -> FileSet {
    let first = &apps[0];
    let chart = first.name.clone();
    let mut values = Values {
        entries: Vec::new(),
        secret: Vec::new(),
    };
    values.entries.push((
        vec!["namespace".into(), "name".into()],
        rendered
            .iter()
            .map(|r| Slot::Value(r.namespace.clone().into()))
            .collect(),
    ));

    // An app over several namespaces: each namespace group's objects go to
    // `groups.GROUP.namespace` (its namespace in each environment's values file; override it
    // like `namespace.name`), the rest to the app's namespace.
    let all = variants::collect(rendered, "");
    let mut roles: Vec<String> = all
        .iter()
        .map(|v| v.key.role.clone())
        .filter(|r| !r.is_empty())
        .collect();
    roles.sort();
    roles.dedup();
    for role in &roles {
        // Where the group goes in each environment (its namespace may be the app's there).
        let slots = apps
            .iter()
            .zip(rendered)
            .map(|(a, r)| {
                a.services
                    .iter()
                    .find(|s| s.namespace_group.as_deref() == Some(role.as_str()))
                    .map(|s| s.namespace.clone())
                    .or_else(|| {
                        r.objects
                            .iter()
                            .find(|o| variants::role_of(r, o) == **role)
                            .and_then(|o| o.namespace.clone())
                    })
                    .map_or(Slot::Any, |ns| Slot::Value(ns.into()))
            })
            .collect();
        values.entries.push((role_namespace_path(role), slots));
    }

    let mut files = FileSet::default();
    let mut groups: BTreeMap<Group, Vec<String>> = BTreeMap::new();
    for v in all {
        let present: Vec<bool> = v.bodies.iter().map(Option::is_some).collect();
        let root = value_root(&v.key);
        let mut node = if v.key.kind == "Secret" && v.key.api_version == "v1" {
            secret_node(&v.bodies, &present, &root, &mut values)
        } else {
            let refs: Vec<Option<&Value>> = v.bodies.iter().map(Option::as_ref).collect();
            unify(&refs, &present, root.clone(), &mut values)
        };
        decorate(&mut node, &v.key, &chart);
        let mut text = String::new();
        emit_map_node(&node, 0, &mut text);
        // Each document brings its own separator, inside its condition: a disabled object
        // leaves nothing behind (a `---` of its own would make Helm emit an empty document,
        // a comment outside the condition a comment-only one).
        let doc = format!("---\n# {} {}\n{text}", v.key.kind, display_name(&v.key));
        // The Namespace is the chart's only on request (`helm install -n NS
        // --create-namespace` creates it otherwise, and would conflict with an own one).
        let doc = if v.key.kind == "Namespace" && v.key.api_version == "v1" {
            format!("{{{{- if .Values.namespace.create }}}}\n{doc}{{{{- end }}}}\n")
        } else {
            doc
        };
        let doc = if v.in_all() {
            doc
        } else {
            let mut path = root;
            path.push("enabled".into());
            values.entries.push((
                path.clone(),
                present.iter().map(|p| Slot::Value((*p).into())).collect(),
            ));
            format!("{{{{- if {} }}}}\n{doc}{{{{- end }}}}\n", expr(&path))
        };
        groups.entry(Group::of_variants(&v)).or_default().push(doc);
    }
    for (group, docs) in groups {
        let what = match &group {
            Group::Shared => "The app's own objects (no service's)".to_owned(),
            Group::Service(s) => format!("Every object of service {s}"),
        };
        // A template comment: it renders to nothing, so it never becomes a document.
        files.insert(
            format!("templates/{}", group.file_name()),
            format!(
                "{{{{- /* {what}, one document each, in apply order. Generated by berth; do not edit. */}}}}\n{}",
                docs.concat()
            ),
        );
    }

    let envs: Vec<&str> = rendered.iter().map(|r| r.env.as_str()).collect();
    let (base, per_env) = split_values(&values, envs.len());
    let mut base = base;
    if let Some(ns) = base.get_mut("namespace").and_then(Value::as_object_mut) {
        ns.insert("create".into(), false.into());
    }
    base.insert("syncWaves".into(), false.into());
    base.insert("tests".into(), json!({"image": TEST_IMAGE}));
    files.insert(
        "values.yaml",
        format!(
            "# Defaults: the value most environments of {chart} share. values-ENV.yaml holds only an\n# environment's differences: helm install {chart} . -f values-ENV.yaml\n{}",
            to_yaml(&Value::Object(base.clone()))
        ),
    );
    for (env, overrides) in envs.iter().zip(&per_env) {
        let text = if overrides.is_empty() {
            "{}\n".to_owned()
        } else {
            to_yaml(&Value::Object(overrides.clone()))
        };
        files.insert(
            format!("values-{env}.yaml"),
            format!("# {env}: only what differs from values.yaml.\n{text}"),
        );
    }
    files.insert(
        "values.schema.json",
        serde_json::to_string_pretty(&schema(&values, &chart)).expect("json") + "\n",
    );
    files.insert("Chart.yaml", chart_yaml(first));
    files.insert("templates/_helpers.tpl", helpers(&chart));
    let psa = pod_security_labels(rendered);
    files.insert("templates/NOTES.txt", notes(first, &psa));
    // Every service's test hooks in one file: Helm finds hooks by annotation, not by file.
    let hooks: Vec<String> = berth_render::helm_test::helm_tests(first, TEST_IMAGE)
        .iter()
        .map(|hook| {
            // In the namespace of the service it tests: its group's, when the group has one.
            let svc = first.services.iter().find(|s| s.name == hook.service);
            let ns_expr = match svc.and_then(|s| s.namespace_group.as_deref()) {
                Some(g) if roles.iter().any(|r| r == g) => {
                    format!("{{{{ {} }}}}", expr(&role_namespace_path(g)))
                }
                _ => format!("{{{{ include \"{chart}.namespace\" . }}}}"),
            };
            let ns = svc.map_or(rendered[0].namespace.as_str(), |s| s.namespace.as_str());
            test_hook(ns, &ns_expr, hook)
        })
        .collect();
    if !hooks.is_empty() {
        files.insert(
            format!("templates/tests/{chart}-tests.yaml"),
            join_docs(&hooks),
        );
    }
    files.insert(".helmignore", "*.orig\n*.tmp\n.git/\n");
    let namespaces: Vec<&str> = rendered.iter().map(|r| r.namespace.as_str()).collect();
    let mut doc = readme(first, &values, &envs, &namespaces, &psa, &base);
    doc.push_str(&architecture(rendered, graphs));
    files.insert("README.md", doc);
    files
}

/// The connections each environment's NetworkPolicies allow, as Mermaid (GitHub and most Helm
/// repository browsers draw it), computed from the rendered objects (`berth graph`).
fn architecture(rendered: &[Rendered], graphs: &[Graph]) -> String {
    let mut s = String::from(
        "\n## Architecture\n\nWhat may connect to what, on which ports, as the NetworkPolicies allow it (`berth graph APP --env ENV`).\n",
    );
    for (r, g) in rendered.iter().zip(graphs) {
        let _ = write!(s, "\n### {}\n\n```mermaid\n{}```\n", r.env, g.to_mermaid());
    }
    s
}

fn display_name(key: &Key) -> String {
    match (key.name.is_empty(), key.role.is_empty()) {
        (true, true) => "(the app's namespace)".to_owned(),
        (true, false) => format!("(the {} namespace)", key.role),
        (false, _) => key.name.clone(),
    }
}

/// `deployment.backend`, `namespaceObject` (the global `namespace` value is the name); in a
/// namespace group's namespace under `groups.GROUP.` (`groups.GROUP.namespace` is its name).
fn value_root(key: &Key) -> Vec<String> {
    let mut kind = key.kind.clone();
    if let Some(first) = kind.get_mut(0..1) {
        first.make_ascii_lowercase();
    }
    let mut root = if key.role.is_empty() {
        Vec::new()
    } else {
        vec!["groups".to_owned(), key.role.clone()]
    };
    if key.name.is_empty() {
        root.push(format!("{kind}Object"));
    } else {
        root.extend([kind, key.name.clone()]);
    }
    root
}

/// The value naming namespace group `role`'s namespace.
fn role_namespace_path(role: &str) -> Vec<String> {
    vec!["groups".into(), role.into(), "namespace".into()]
}

/// A Secret's template: like any object, except that every `data`/`stringData` value is read
/// from the values, even where every environment agrees, so no template (which every
/// environment's release carries) ever holds a secret value.
fn secret_node(
    bodies: &[Option<Value>],
    present: &[bool],
    root: &[String],
    values: &mut Values,
) -> Node {
    const FIELDS: [&str; 2] = ["data", "stringData"];
    let mut rest: Vec<Option<Value>> = bodies.to_vec();
    for b in rest.iter_mut().flatten() {
        if let Some(o) = b.as_object_mut() {
            for f in FIELDS {
                o.shift_remove(f);
            }
        }
    }
    let refs: Vec<Option<&Value>> = rest.iter().map(Option::as_ref).collect();
    let mut node = unify(&refs, present, root.to_vec(), values);
    let Node::Map(entries) = &mut node else {
        return node;
    };
    let first = bodies
        .iter()
        .zip(present)
        .find_map(|(b, p)| b.as_ref().filter(|_| *p));
    for field in FIELDS {
        let mut keys: Vec<&String> = Vec::new();
        for b in bodies.iter().flatten() {
            for k in b
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        if keys.is_empty() {
            continue;
        }
        let items = keys
            .into_iter()
            .map(|k| {
                let mut path = root.to_vec();
                path.extend([field.to_owned(), k.clone()]);
                let slots: Vec<Slot> = bodies
                    .iter()
                    .zip(present)
                    .map(
                        |(b, p)| match (b.as_ref().and_then(|b| b[field].get(k)), p) {
                            (_, false) => Slot::Any,
                            (Some(v), true) => Slot::Value(v.clone()),
                            (None, true) => Slot::Absent,
                        },
                    )
                    .collect();
                let optional = slots.contains(&Slot::Absent);
                values.entries.push((path.clone(), slots));
                values.secret.push(path.clone());
                (
                    k.clone(),
                    Node::Var(Var {
                        path,
                        optional,
                        complex: false,
                    }),
                )
            })
            .collect();
        // Where the field was in the rendered object (the order only reads better).
        let at = first
            .and_then(Value::as_object)
            .and_then(|o| o.keys().position(|k| k == field))
            .unwrap_or(entries.len())
            .min(entries.len());
        entries.insert(at, (field.to_owned(), Node::Map(items)));
    }
    node
}

fn unify(
    vals: &[Option<&Value>],
    present: &[bool],
    path: Vec<String>,
    values: &mut Values,
) -> Node {
    let live: Vec<Option<&Value>> = vals
        .iter()
        .zip(present)
        .filter(|(_, p)| **p)
        .map(|(v, _)| *v)
        .collect();
    let first = live[0];
    if let Some(f) = first
        && live.iter().all(|v| *v == Some(f))
    {
        return literal(f);
    }
    if live.iter().all(|v| v.is_some_and(Value::is_object)) {
        let mut keys: Vec<&String> = Vec::new();
        for v in live.iter().flatten() {
            for k in v.as_object().expect("object").keys() {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        let entries = keys
            .into_iter()
            .map(|k| {
                let sub: Vec<Option<&Value>> =
                    vals.iter().map(|v| v.and_then(|o| o.get(k))).collect();
                let mut p = path.clone();
                p.push(k.clone());
                (k.clone(), unify(&sub, present, p, values))
            })
            .collect();
        return Node::Map(entries);
    }
    let len = first.and_then(Value::as_array).map(Vec::len);
    if let Some(len) = len
        && live
            .iter()
            .all(|v| v.and_then(Value::as_array).map(Vec::len) == Some(len))
    {
        let segments = item_segments(&live, len);
        let items = (0..len)
            .map(|i| {
                let sub: Vec<Option<&Value>> =
                    vals.iter().map(|v| v.and_then(|a| a.get(i))).collect();
                let mut p = path.clone();
                p.push(segments[i].clone());
                unify(&sub, present, p, values)
            })
            .collect();
        return Node::Seq(items);
    }
    let slots: Vec<Slot> = vals
        .iter()
        .zip(present)
        .map(|(v, p)| match (v, p) {
            (_, false) => Slot::Any,
            (Some(v), true) => Slot::Value((*v).clone()),
            (None, true) => Slot::Absent,
        })
        .collect();
    let optional = slots.contains(&Slot::Absent);
    let complex = slots
        .iter()
        .any(|s| matches!(s, Slot::Value(Value::Object(_) | Value::Array(_))));
    values.entries.push((path.clone(), slots));
    Node::Var(Var {
        path,
        optional,
        complex,
    })
}

/// List items are keyed by their `name` when every item has a distinct one, else by index.
fn item_segments(live: &[Option<&Value>], len: usize) -> Vec<String> {
    let names: Option<Vec<String>> = (0..len)
        .map(|i| {
            let name = live[0]?.get(i)?.get("name")?.as_str()?;
            live.iter()
                .all(|v| {
                    v.and_then(|a| a.get(i))
                        .and_then(|x| x.get("name"))
                        .and_then(Value::as_str)
                        == Some(name)
                })
                .then(|| name.to_owned())
        })
        .collect();
    match names {
        Some(n)
            if {
                let mut s = n.clone();
                s.sort();
                s.dedup();
                s.len() == n.len() && n.iter().all(|x| x.parse::<usize>().is_err())
            } =>
        {
            n
        }
        _ => (0..len).map(|i| i.to_string()).collect(),
    }
}

fn literal(v: &Value) -> Node {
    match v {
        Value::Object(m) => Node::Map(m.iter().map(|(k, v)| (k.clone(), literal(v))).collect()),
        Value::Array(a) => Node::Seq(a.iter().map(literal).collect()),
        other => Node::Lit(other.clone()),
    }
}

/// Puts back the namespace, and adds the chart label and the optional sync wave.
fn decorate(node: &mut Node, key: &Key, chart: &str) {
    let Node::Map(top) = node else { return };
    let Some((_, Node::Map(meta))) = top.iter_mut().find(|(k, _)| k == "metadata") else {
        return;
    };
    let ns = if key.role.is_empty() {
        format!("{{{{ include \"{chart}.namespace\" . }}}}")
    } else {
        format!("{{{{ {} }}}}", expr(&role_namespace_path(&key.role)))
    };
    if key.kind == "Namespace" {
        if let Some((_, name)) = meta.iter_mut().find(|(k, _)| k == "name") {
            *name = Node::Expr(ns);
        }
    } else {
        let at = meta
            .iter()
            .position(|(k, _)| k == "name")
            .map_or(meta.len(), |i| i + 1);
        meta.insert(at, ("namespace".into(), Node::Expr(ns)));
    }
    if let Some((_, Node::Map(labels))) = meta.iter_mut().find(|(k, _)| k == "labels") {
        labels.push((
            String::new(),
            Node::Raw(vec![format!(
                "{{{{- include \"{chart}.chartLabels\" . | nindent {{INDENT}} }}}}"
            )]),
        ));
    }
    // Objects that carry their own wave (the data tier, migration hooks) keep it.
    if let Some((_, Node::Map(annotations))) = meta.iter().find(|(k, _)| k == "annotations")
        && annotations
            .iter()
            .any(|(k, _)| k == berth_kinds::WAVE_ANNOTATION)
    {
        return;
    }
    let wave = berth_kinds::wave(&key.kind);
    let line = format!(
        "{}: {}",
        berth_kinds::WAVE_ANNOTATION,
        to_yaml(&Value::String(wave.to_string())).trim_end()
    );
    match meta.iter_mut().find(|(k, _)| k == "annotations") {
        Some((_, Node::Map(annotations))) => annotations.push((
            String::new(),
            Node::Raw(vec![
                "{{- if .Values.syncWaves }}".into(),
                line,
                "{{- end }}".into(),
            ]),
        )),
        Some((k, node)) => {
            // The annotations themselves vary: merge the wave into whatever the value holds.
            let e = match node {
                Node::Var(var) => expr(&var.path),
                _ => return,
            };
            k.clear();
            *node = Node::Raw(vec![
                format!("{{{{- $annotations := {e} | default (dict) }}}}"),
                "{{- if .Values.syncWaves }}".into(),
                format!(
                    "{{{{- $annotations = merge (dict {} {}) $annotations }}}}",
                    Value::String(berth_kinds::WAVE_ANNOTATION.into()),
                    Value::String(wave.to_string())
                ),
                "{{- end }}".into(),
                "{{- with $annotations }}".into(),
                "annotations:".into(),
                "  {{- toYaml . | nindent {INDENT2} }}".into(),
                "{{- end }}".into(),
            ]);
        }
        None => meta.insert(
            0,
            (
                String::new(),
                Node::Raw(vec![
                    "{{- if .Values.syncWaves }}".into(),
                    "annotations:".into(),
                    format!("  {line}"),
                    "{{- end }}".into(),
                ]),
            ),
        ),
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `.Values.a.b`, or `(index .Values "a" "b-c")` when a key is not an identifier.
fn expr(path: &[String]) -> String {
    if path.iter().all(|s| is_ident(s)) {
        format!(".Values.{}", path.join("."))
    } else {
        let keys: Vec<String> = path
            .iter()
            .map(|s| Value::String(s.clone()).to_string())
            .collect();
        format!("(index .Values {})", keys.join(" "))
    }
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

/// A scalar as YAML text; a string Helm would read as a template goes through `toJson`.
fn scalar(v: &Value, indent: usize) -> String {
    if let Value::String(s) = v
        && (s.contains("{{") || s.contains("}}"))
    {
        return format!("{{{{ {} | toJson }}}}", Value::String(s.clone()));
    }
    let text = to_yaml(v);
    let text = text.trim_end_matches('\n');
    // Block scalars: continuation lines indented under the key.
    let mut lines = text.lines();
    let mut out = lines.next().unwrap_or_default().to_owned();
    for l in lines {
        out.push('\n');
        if !l.is_empty() {
            out.push_str(&pad(indent));
        }
        out.push_str(l);
    }
    out
}

fn key_text(k: &str) -> String {
    to_yaml(&Value::String(k.to_owned())).trim_end().to_owned()
}

fn emit_map_node(node: &Node, indent: usize, out: &mut String) {
    match node {
        Node::Map(entries) => emit_map(entries, indent, out),
        _ => unreachable!("objects are maps"),
    }
}

fn emit_map(entries: &[(String, Node)], indent: usize, out: &mut String) {
    let p = pad(indent);
    for (k, node) in entries {
        match node {
            Node::Raw(lines) => {
                for l in lines {
                    let l = l
                        .replace("{INDENT2}", &(indent + 2).to_string())
                        .replace("{INDENT}", &indent.to_string());
                    let _ = writeln!(out, "{p}{l}");
                }
            }
            Node::Lit(v) => {
                let _ = writeln!(out, "{p}{}: {}", key_text(k), scalar(v, indent + 2));
            }
            Node::Expr(e) => {
                let _ = writeln!(out, "{p}{}: {e}", key_text(k));
            }
            Node::Map(m) if m.is_empty() => {
                let _ = writeln!(out, "{p}{}: {{}}", key_text(k));
            }
            Node::Map(m) => {
                let _ = writeln!(out, "{p}{}:", key_text(k));
                emit_map(m, indent + 2, out);
            }
            Node::Seq(s) if s.is_empty() => {
                let _ = writeln!(out, "{p}{}: []", key_text(k));
            }
            Node::Seq(s) => {
                let _ = writeln!(out, "{p}{}:", key_text(k));
                emit_seq(s, indent, out);
            }
            Node::Var(var) => {
                let e = expr(&var.path);
                if var.optional {
                    let _ = writeln!(out, "{p}{{{{- if not (kindIs \"invalid\" {e}) }}}}");
                }
                if var.complex {
                    let _ = writeln!(out, "{p}{}:", key_text(k));
                    let _ = writeln!(
                        out,
                        "{}{{{{- toYaml {e} | nindent {} }}}}",
                        pad(indent + 2),
                        indent + 2
                    );
                } else {
                    let _ = writeln!(out, "{p}{}: {{{{ {e} | toJson }}}}", key_text(k));
                }
                if var.optional {
                    let _ = writeln!(out, "{p}{{{{- end }}}}");
                }
            }
        }
    }
}

fn emit_seq(items: &[Node], indent: usize, out: &mut String) {
    let p = pad(indent);
    for item in items {
        match item {
            Node::Lit(v) => {
                let _ = writeln!(out, "{p}- {}", scalar(v, indent + 2));
            }
            Node::Expr(e) => {
                let _ = writeln!(out, "{p}- {e}");
            }
            Node::Var(var) if !var.complex => {
                let _ = writeln!(out, "{p}- {{{{ {} | toJson }}}}", expr(&var.path));
            }
            Node::Var(var) => {
                let _ = writeln!(out, "{p}-");
                let _ = writeln!(
                    out,
                    "{}{{{{- toYaml {} | nindent {} }}}}",
                    pad(indent + 2),
                    expr(&var.path),
                    indent + 2
                );
            }
            Node::Map(m) if m.is_empty() => {
                let _ = writeln!(out, "{p}- {{}}");
            }
            Node::Seq(s) if s.is_empty() => {
                let _ = writeln!(out, "{p}- []");
            }
            Node::Map(_) | Node::Seq(_) => {
                let mut inner = String::new();
                match item {
                    Node::Map(m) => emit_map(m, indent + 2, &mut inner),
                    Node::Seq(s) => emit_seq(s, indent + 2, &mut inner),
                    _ => unreachable!(),
                }
                let inner_pad = pad(indent + 2);
                match inner.strip_prefix(&inner_pad) {
                    Some(rest) if !rest.starts_with("{{") => {
                        let _ = write!(out, "{p}- {rest}");
                    }
                    _ => {
                        let _ = writeln!(out, "{p}-");
                        out.push_str(&inner);
                    }
                }
            }
            Node::Raw(lines) => {
                for l in lines {
                    let _ = writeln!(out, "{p}{l}");
                }
            }
        }
    }
}

/// The value most environments share (ties: the latest), among those that care.
fn majority(slots: &[Slot]) -> Option<&Slot> {
    let mut best: Option<(&Slot, usize)> = None;
    for s in slots.iter().filter(|s| **s != Slot::Any) {
        let n = slots.iter().filter(|o| *o == s).count();
        if best.is_none_or(|(_, c)| n >= c) {
            best = Some((s, n));
        }
    }
    best.map(|(s, _)| s)
}

fn set(tree: &mut Map<String, Value>, path: &[String], value: Value) {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut node = tree;
    for p in parents {
        node = node
            .entry(p.clone())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("values paths do not collide");
    }
    node.insert(last.clone(), value);
}

fn slot_value(s: &Slot) -> Value {
    match s {
        Slot::Value(v) => v.clone(),
        Slot::Absent | Slot::Any => Value::Null,
    }
}

/// values.yaml (the majority) and each environment's differences from it.
fn split_values(values: &Values, envs: usize) -> (Map<String, Value>, Vec<Map<String, Value>>) {
    let mut base = Map::new();
    let mut per_env = vec![Map::new(); envs];
    for (path, slots) in &values.entries {
        // A secret value is never shared through values.yaml: each environment's own file.
        let b = if values.secret.contains(path) {
            Slot::Absent
        } else {
            majority(slots).cloned().unwrap_or(Slot::Absent)
        };
        set(&mut base, path, slot_value(&b));
        for (i, s) in slots.iter().enumerate() {
            if *s != Slot::Any && *s != b {
                set(&mut per_env[i], path, slot_value(s));
            }
        }
    }
    (base, per_env)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn schema(values: &Values, chart: &str) -> Value {
    let mut root = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": format!("values of the {chart} chart (generated by berth)"),
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "syncWaves": {"type": "boolean", "description": "Add Argo CD sync-wave annotations (namespace and config first, workloads after)."},
            "namespace": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"create": {"type": "boolean", "description": "Create the Namespace (with its Pod Security labels) as part of the release; off, for `helm install -n NS --create-namespace`."}},
            },
            "tests": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"image": {"type": "string", "description": "Image of the `helm test` Pods (runs curl)."}},
            },
        },
    });
    for (path, slots) in &values.entries {
        let mut types: Vec<&str> = Vec::new();
        for s in slots {
            let t = match s {
                Slot::Value(v) => json_type(v),
                Slot::Absent => "null",
                Slot::Any => continue,
            };
            if !types.contains(&t) {
                types.push(t);
            }
        }
        // values.yaml leaves a secret value null (see `split_values`).
        if values.secret.contains(path) && !types.contains(&"null") {
            types.push("null");
        }
        if types.contains(&"integer") && types.contains(&"number") {
            types.retain(|t| *t != "integer");
        }
        let mut node = &mut root;
        for p in path {
            let props = node["properties"].as_object_mut().expect("object schema");
            node = props.entry(p.clone()).or_insert_with(
                || json!({"type": "object", "additionalProperties": false, "properties": {}}),
            );
        }
        *node = if types.len() == 1 {
            json!({"type": types[0]})
        } else {
            json!({"type": types})
        };
    }
    root
}

fn chart_yaml(app: &App) -> String {
    let version = app
        .version
        .as_deref()
        .filter(|v| is_semver(v))
        .unwrap_or("0.1.0");
    let mut doc = Map::new();
    doc.insert("apiVersion".into(), "v2".into());
    doc.insert("name".into(), app.name.clone().into());
    doc.insert(
        "description".into(),
        format!(
            "{}: every environment, generated by berth from berth.yaml",
            app.name
        )
        .into(),
    );
    doc.insert("type".into(), "application".into());
    doc.insert("version".into(), version.into());
    if let Some(v) = &app.version {
        doc.insert("appVersion".into(), v.clone().into());
    }
    doc.insert("annotations".into(), json!({"berth.dev/generated": "true"}));
    format!(
        "# Generated by berth from berth.yaml; do not edit (`berth build` rewrites it).\n{}",
        to_yaml(&Value::Object(doc))
    )
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

fn helpers(chart: &str) -> String {
    format!(
        r#"{{{{/* Generated by berth. The usual helpers; berth's own labels are literal in each template. */}}}}

{{{{/* The chart name. */}}}}
{{{{- define "{chart}.name" -}}}}
{{{{- .Chart.Name | trunc 63 | trimSuffix "-" }}}}
{{{{- end }}}}

{{{{/* The release's full name (berth objects keep their own names; used by test hooks). */}}}}
{{{{- define "{chart}.fullname" -}}}}
{{{{- if contains .Chart.Name .Release.Name }}}}
{{{{- .Release.Name | trunc 63 | trimSuffix "-" }}}}
{{{{- else }}}}
{{{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}}}
{{{{- end }}}}
{{{{- end }}}}

{{{{/* name-version, for the helm.sh/chart label. */}}}}
{{{{- define "{chart}.chart" -}}}}
{{{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}}}
{{{{- end }}}}

{{{{/* The namespace every object goes to: the `namespace.name` value, else the release namespace. */}}}}
{{{{- define "{chart}.namespace" -}}}}
{{{{- .Values.namespace.name | default .Release.Namespace }}}}
{{{{- end }}}}

{{{{/* Helm's label, added to every top-level object (berth's app.kubernetes.io labels are already there). */}}}}
{{{{- define "{chart}.chartLabels" -}}}}
helm.sh/chart: {{{{ include "{chart}.chart" . }}}}
{{{{- end }}}}

{{{{/* Selector labels of one component: (dict "name" "backend" "context" $). */}}}}
{{{{- define "{chart}.selectorLabels" -}}}}
app.kubernetes.io/name: {{{{ .name }}}}
app.kubernetes.io/instance: {{{{ include "{chart}.name" .context }}}}
{{{{- end }}}}

{{{{/* Full labels of one component: (dict "name" "backend" "component" "test" "context" $). */}}}}
{{{{- define "{chart}.labels" -}}}}
{{{{ include "{chart}.selectorLabels" . }}}}
app.kubernetes.io/component: {{{{ .component }}}}
app.kubernetes.io/part-of: {{{{ include "{chart}.name" .context }}}}
app.kubernetes.io/managed-by: berth
app.kubernetes.io/version: {{{{ .context.Chart.AppVersion | quote }}}}
{{{{ include "{chart}.chartLabels" .context }}}}
{{{{- end }}}}
"#
    )
}

/// The Pod Security labels berth puts on the namespace (`key=value`), for `kubectl label`
/// when the chart does not create the Namespace.
fn pod_security_labels(rendered: &[Rendered]) -> String {
    let labels = rendered
        .iter()
        .flat_map(|r| &r.objects)
        .find(|o| o.kind == "Namespace")
        .and_then(|o| o.body["metadata"]["labels"].as_object());
    labels
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("pod-security.kubernetes.io/"))
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn notes(app: &App, psa: &str) -> String {
    let chart = &app.name;
    let mut s = format!(
        "{{{{ .Chart.Name }}}} {{{{ .Chart.AppVersion }}}} is installed in namespace {{{{ include \"{chart}.namespace\" . }}}}.\n\nServices:\n"
    );
    for svc in &app.services {
        match svc.port {
            Some(p) => {
                let _ = writeln!(s, "  - {} (port {p})", svc.name);
            }
            None => {
                let _ = writeln!(s, "  - {} (worker)", svc.name);
            }
        }
    }
    let _ = write!(
        s,
        "\nWatch the rollout:\n  kubectl -n {{{{ include \"{chart}.namespace\" . }}}} get deployments,pods,services,ingresses\n\nCheck every service answers its readiness endpoint:\n  helm test {{{{ .Release.Name }}}} -n {{{{ .Release.Namespace }}}}\n"
    );
    if !psa.is_empty() {
        let _ = write!(
            s,
            "{{{{- if not .Values.namespace.create }}}}\n\nThe chart does not create the namespace (namespace.create: false); give it berth's Pod Security labels once:\n  kubectl label namespace {{{{ include \"{chart}.namespace\" . }}}} {psa} --overwrite\n{{{{- end }}}}\n"
        );
    }
    s
}

/// A `helm test` hook (built by the renderer) as a template: the app's namespace and the
/// Pod's image read the chart's values.
fn test_hook(namespace: &str, ns_expr: &str, hook: &berth_render::helm_test::TestHook) -> String {
    let docs: Vec<String> = hook
        .objects
        .iter()
        .map(|obj| {
            let mut node = literal(&obj.body);
            if obj.namespace.as_deref() == Some(namespace) {
                set_node(
                    &mut node,
                    &["metadata", "namespace"],
                    Node::Expr(ns_expr.to_owned()),
                );
            }
            if obj.kind == "Pod" {
                set_node(
                    &mut node,
                    &["spec", "containers", "0", "image"],
                    Node::Expr("{{ .Values.tests.image | quote }}".into()),
                );
            }
            let mut text = String::new();
            emit_map_node(&node, 0, &mut text);
            text
        })
        .collect();
    format!(
        "# `helm test`: {} answers its readiness endpoint {} on port {}.\n{}",
        hook.service,
        hook.path,
        hook.port,
        join_docs(&docs)
    )
}

/// Replaces the value at `path` (map keys, list indices) of a template tree; the path exists.
fn set_node(node: &mut Node, path: &[&str], value: Node) {
    let Some((first, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    let child = match node {
        Node::Map(entries) => entries.iter_mut().find(|(k, _)| k == first).map(|(_, v)| v),
        Node::Seq(items) => first.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    };
    set_node(
        child.unwrap_or_else(|| panic!("no `{first}` in the test hook")),
        rest,
        value,
    );
}

fn readme(
    app: &App,
    values: &Values,
    envs: &[&str],
    namespaces: &[&str],
    psa: &str,
    base: &Map<String, Value>,
) -> String {
    let chart = &app.name;
    let mut s = format!(
        "# {chart} Helm chart\n\nGenerated by [berth](https://github.com/berth-dev/berth) from `berth.yaml`: do not edit by hand;\nchange the spec and run `berth build`. Every environment is a values file:\n\n```sh\n"
    );
    for (env, ns) in envs.iter().zip(namespaces) {
        let _ = writeln!(
            s,
            "helm upgrade --install {chart} . -n {ns} --create-namespace -f values-{env}.yaml"
        );
        if !psa.is_empty() {
            let _ = writeln!(s, "kubectl label namespace {ns} {psa} --overwrite");
        }
    }
    let _ = write!(
        s,
        "helm test {chart}\n```\n\nThe chart leaves the namespace to `--create-namespace` (a Namespace of its own would conflict\nwith it); `kubectl label` gives it berth's Pod Security labels. `--set namespace.create=true` makes the\nNamespace, labels included, part of the release instead.\n\n`helm template {chart} . -f values-ENV.yaml --set namespace.create=true` renders exactly what `berth render --env ENV` prints,\nplus Helm's `{CHART_LABEL}` label on every top-level object. `values.schema.json` rejects unknown keys\nand wrong types.\n\n## Values\n\nKeys mirror the object and field they set; list items are keyed by their `name`.\n\n| Key | Type | Default |"
    );
    for env in envs {
        let _ = write!(s, " {env} |");
    }
    s.push_str("\n| --- | --- | --- |");
    for _ in envs {
        s.push_str(" --- |");
    }
    s.push('\n');
    let cell = |v: &Value| {
        let t = match v {
            Value::String(x) => x.clone(),
            other => other.to_string(),
        };
        let t = if t.len() > 60 {
            format!(
                "{}…",
                &t[..t.char_indices().nth(57).map_or(t.len(), |(i, _)| i)]
            )
        } else {
            t
        };
        format!("`{}`", t.replace('|', "\\|").replace('\n', " "))
    };
    let mut rows: Vec<(String, String, String, Vec<String>)> = vec![
        (
            "syncWaves".into(),
            "boolean".into(),
            cell(&base["syncWaves"]),
            vec![String::new(); envs.len()],
        ),
        (
            "namespace.create".into(),
            "boolean".into(),
            cell(&base["namespace"]["create"]),
            vec![String::new(); envs.len()],
        ),
        (
            "tests.image".into(),
            "string".into(),
            cell(&json!(TEST_IMAGE)),
            vec![String::new(); envs.len()],
        ),
    ];
    for (path, slots) in &values.entries {
        if values.secret.contains(path) {
            // Never a secret value in the README; only where it is.
            let per = slots
                .iter()
                .map(|x| match x {
                    Slot::Value(_) => "(secret)".to_owned(),
                    _ => String::new(),
                })
                .collect();
            rows.push((path.join("."), "string".into(), "`null`".into(), per));
            continue;
        }
        let b = majority(slots).cloned().unwrap_or(Slot::Absent);
        let ty = slots
            .iter()
            .find_map(|s| match s {
                Slot::Value(v) => Some(json_type(v)),
                _ => None,
            })
            .unwrap_or("null");
        let per: Vec<String> = slots
            .iter()
            .map(|x| {
                if *x == b || *x == Slot::Any {
                    String::new()
                } else {
                    cell(&slot_value(x))
                }
            })
            .collect();
        rows.push((path.join("."), ty.into(), cell(&slot_value(&b)), per));
    }
    for (k, t, d, per) in rows {
        let _ = write!(s, "| `{k}` | {t} | {d} |");
        for p in per {
            let _ = write!(s, " {p} |");
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_and_semver() {
        assert_eq!(expr(&["a".into(), "b".into()]), ".Values.a.b");
        assert_eq!(
            expr(&["deployment".into(), "recurring-tasks".into()]),
            "(index .Values \"deployment\" \"recurring-tasks\")"
        );
        assert!(is_semver("1.4.2"));
        assert!(is_semver("2.1.0-rc.1"));
        assert!(!is_semver("1.4"));
        assert!(!is_semver("01.4.2"));
    }

    #[test]
    fn strings_that_look_like_templates_are_escaped() {
        assert_eq!(
            scalar(&json!("a {{ b }}"), 0),
            "{{ \"a {{ b }}\" | toJson }}"
        );
        assert_eq!(scalar(&json!("1.0"), 0), "\"1.0\"");
    }
}
