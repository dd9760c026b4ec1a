//! `berth explain APP OBJECT [FIELD]`: where a rendered field's value came from, and
//! `berth diff-env APP A B`: the fields that differ between two environments, with both origins.
//! The origins are the renderer's own records ([`berth_render::origin`]); this module only
//! looks their spec paths up in the loaded spec and prints them.

use super::app::{load_app, load_app_env, pick_env, render_traced};
use super::timing::phase;
use crate::cli::{DiffEnvArgs, ExplainArgs, ProvenanceFormat};
use crate::failure::{CmdResult, Failure};
use berth_render::Object;
use berth_render::origin::{self, Provenance, Resolved};
use berth_spec::{Layer, LoadOptions, Loaded, Located};
use miette::miette;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// `berth explain`: a check rule when the first argument is not an app.
pub(super) fn explain(args: ExplainArgs) -> CmdResult {
    let is_app = Path::new(&args.rule).exists();
    if !is_app && args.object.is_none() {
        return super::check::explain_rule(args);
    }
    if !is_app {
        return Err(Failure::bad_input(miette!(
            help = "pass the app directory (holding berth.yaml) or the spec file, then KIND/NAME",
            "no app at `{}`",
            args.rule
        )));
    }
    let loaded = phase("load", || match &args.env {
        Some(env) => load_app_env(Path::new(&args.rule), &LoadOptions::default(), env),
        None => load_app(Path::new(&args.rule)),
    })?;
    let app = pick_env(&loaded, args.env.as_deref())?;
    let (rendered, prov) = phase("render traced", || render_traced(app));
    let Some(wanted) = &args.object else {
        return list_objects(&rendered.objects, &app.env, args.output);
    };
    let obj = find_object(
        &rendered.objects,
        wanted,
        args.namespace.as_deref(),
        &app.env,
    )?;
    let (pointer, value) = match &args.field {
        None => (String::new(), &obj.body),
        Some(f) => find_field(obj, f)?,
    };
    let spec_text = std::fs::read_to_string(&loaded.file).unwrap_or_default();
    let ctx = Ctx {
        loaded: &loaded,
        env: &app.env,
        lines: spec_text.lines().collect(),
    };
    let mut fields = Vec::new();
    leaves(value, pointer.clone(), &mut fields);
    let leaf = fields.len() == 1 && fields[0].0 == pointer && args.field.is_some();
    match args.output {
        ProvenanceFormat::Json => {
            let fields: Vec<Value> = fields
                .iter()
                .map(|(p, v)| {
                    json!({
                        "path": display(p),
                        "pointer": p,
                        "value": shown(obj, p, v),
                        "origin": ctx.origin_json(&prov, obj, p),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "environment": app.env,
                    "file": loaded.file.display().to_string(),
                    "object": object_json(obj),
                    "fields": fields,
                }))
                .expect("json")
            );
        }
        ProvenanceFormat::Text => {
            let mut out = format!("{} ({})\n", title(obj), where_(obj, &app.env));
            if leaf {
                let (p, v) = &fields[0];
                let _ = writeln!(out, "{}: {}", display(p), text(&shown(obj, p, v)));
                out.push_str(&ctx.origin_text(&prov, obj, p, "  "));
            } else {
                for (p, v) in &fields {
                    let _ = writeln!(
                        out,
                        "{} = {}  # {}",
                        display(p),
                        short(&text(&shown(obj, p, v))),
                        ctx.origin_short(&prov, obj, p)
                    );
                }
            }
            print!("{out}");
        }
    }
    super::app::free_at_exit((rendered, prov, loaded));
    Ok(ExitCode::SUCCESS)
}

/// `berth diff-env APP A B`.
pub(super) fn diff_env(args: DiffEnvArgs) -> CmdResult {
    let loaded = load_app(&args.app)?;
    let a = pick_env(&loaded, Some(&args.from))?;
    let b = pick_env(&loaded, Some(&args.to))?;
    let (ra, pa) = render_traced(a);
    let (rb, pb) = render_traced(b);
    let spec_text = std::fs::read_to_string(&loaded.file).unwrap_or_default();
    let lines: Vec<&str> = spec_text.lines().collect();
    let ca = Ctx {
        loaded: &loaded,
        env: &a.env,
        lines: lines.clone(),
    };
    let cb = Ctx {
        loaded: &loaded,
        env: &b.env,
        lines,
    };
    let key = |o: &Object| (o.kind.clone(), o.name.clone());
    let only_a: Vec<&Object> = ra
        .objects
        .iter()
        .filter(|o| !rb.objects.iter().any(|p| key(p) == key(o)))
        .collect();
    let only_b: Vec<&Object> = rb
        .objects
        .iter()
        .filter(|o| !ra.objects.iter().any(|p| key(p) == key(o)))
        .collect();
    let mut changed = Vec::new();
    for oa in &ra.objects {
        let Some(ob) = rb.objects.iter().find(|p| key(p) == key(oa)) else {
            continue;
        };
        let (mut la, mut lb) = (Vec::new(), Vec::new());
        leaves(&oa.body, String::new(), &mut la);
        leaves(&ob.body, String::new(), &mut lb);
        let mut pointers: Vec<&String> = la.iter().chain(lb.iter()).map(|(p, _)| p).collect();
        pointers.sort();
        pointers.dedup();
        let mut fields = Vec::new();
        for p in pointers {
            // Each environment's own namespace is in the header, not on every object.
            if p == "/metadata/namespace" {
                continue;
            }
            let va = la
                .iter()
                .find(|(q, _)| q == p)
                .map(|(_, v)| shown(oa, p, v));
            let vb = lb
                .iter()
                .find(|(q, _)| q == p)
                .map(|(_, v)| shown(ob, p, v));
            if va == vb {
                continue;
            }
            fields.push((p.clone(), va, vb));
        }
        if !fields.is_empty() {
            changed.push((oa, ob, fields));
        }
    }
    match args.output {
        ProvenanceFormat::Json => {
            let side = |c: &Ctx, prov: &Provenance, o: &Object, p: &str, v: &Option<Value>| match v
            {
                Some(v) => json!({ "value": v, "origin": c.origin_json(prov, o, p) }),
                None => Value::Null,
            };
            let objects: Vec<Value> = changed
                .iter()
                .map(|(oa, ob, fields)| {
                    json!({
                        "kind": oa.kind,
                        "name": oa.name,
                        "namespaces": { &a.env: oa.namespace, &b.env: ob.namespace },
                        "fields": fields.iter().map(|(p, va, vb)| json!({
                            "path": display(p),
                            "pointer": p,
                            (&a.env): side(&ca, &pa, oa, p, va),
                            (&b.env): side(&cb, &pb, ob, p, vb),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "from": a.env,
                    "to": b.env,
                    "namespaces": { &a.env: a.namespace, &b.env: b.namespace },
                    "objects": objects,
                    "only": {
                        (&a.env): only_a.iter().map(|o| object_json(o)).collect::<Vec<_>>(),
                        (&b.env): only_b.iter().map(|o| object_json(o)).collect::<Vec<_>>(),
                    },
                }))
                .expect("json")
            );
        }
        ProvenanceFormat::Text => {
            let mut out = format!(
                "{} → {} (namespace {} → {})\n",
                a.env, b.env, a.namespace, b.namespace
            );
            for (env, only) in [(&a.env, &only_a), (&b.env, &only_b)] {
                if !only.is_empty() {
                    let _ = writeln!(
                        out,
                        "only in {env}: {}",
                        only.iter().map(|o| title(o)).collect::<Vec<_>>().join(", ")
                    );
                }
            }
            for (oa, ob, fields) in &changed {
                let _ = writeln!(out, "\n{}", title(oa));
                for (p, va, vb) in fields {
                    let show = |v: &Option<Value>| match v {
                        Some(v) => short(&text(v)),
                        None => "(unset)".into(),
                    };
                    let _ = writeln!(out, "  {}: {} → {}", display(p), show(va), show(vb));
                    if va.is_some() {
                        let _ = writeln!(out, "    {}: {}", a.env, ca.origin_short(&pa, oa, p));
                    }
                    if vb.is_some() {
                        let _ = writeln!(out, "    {}: {}", b.env, cb.origin_short(&pb, ob, p));
                    }
                }
            }
            print!("{out}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

struct Ctx<'a> {
    loaded: &'a Loaded,
    env: &'a str,
    lines: Vec<&'a str>,
}

impl Ctx<'_> {
    fn resolve(&self, prov: &Provenance, o: &Object, pointer: &str) -> Option<Resolved> {
        prov.lookup(o, pointer)
            .map(|(_, origin)| origin::resolve(self.loaded, self.env, origin))
    }

    fn file(&self) -> String {
        self.loaded.file.display().to_string()
    }

    fn layer(&self, at: &Located, path: &str) -> String {
        match &at.layer {
            Layer::Base => "base".into(),
            Layer::Environment(e) if path.starts_with("environments.") => {
                format!("environment `{e}`")
            }
            Layer::Environment(e) => format!("environment `{e}` override, merged onto the base"),
        }
    }

    fn line(&self, at: &Located) -> &str {
        self.lines.get(at.line - 1).copied().unwrap_or_default()
    }

    fn spec_json(&self, path: &str, at: &Located) -> Value {
        let (layer, env) = match &at.layer {
            Layer::Base => ("base", None),
            Layer::Environment(e) => ("environment", Some(e.clone())),
        };
        json!({
            "path": path,
            "file": self.file(),
            "line": at.line,
            "column": at.col,
            "layer": layer,
            "environment": env,
            "text": self.line(at).trim_end(),
        })
    }

    fn origin_json(&self, prov: &Provenance, o: &Object, pointer: &str) -> Value {
        let recorded = prov.lookup(o, pointer).map(|(p, _)| p.to_owned());
        let mut v = match self.resolve(prov, o, pointer) {
            None => json!({ "source": "none" }),
            Some(Resolved::Spec { path, at }) => {
                let mut v = self.spec_json(&path, &at);
                v["source"] = "spec".into();
                v
            }
            Some(Resolved::Default { value, doc, unset }) => {
                json!({ "source": "default", "value": value, "doc": doc, "unset": unset })
            }
            Some(Resolved::Rule { rule, doc, from }) => json!({
                "source": "rule",
                "rule": rule,
                "doc": doc,
                "from": from.iter().map(|(p, at)| self.spec_json(p, at)).collect::<Vec<_>>(),
            }),
            Some(Resolved::Unset { paths }) => json!({ "source": "unset", "paths": paths }),
        };
        v["recordedAt"] = recorded.into();
        v
    }

    /// One line: `berth.yaml:30:16 services.backend.resources.cpu (base)`.
    fn origin_short(&self, prov: &Provenance, o: &Object, pointer: &str) -> String {
        match self.resolve(prov, o, pointer) {
            None => "no origin recorded".into(),
            Some(Resolved::Spec { path, at }) => format!(
                "{}:{}:{} {path} ({})",
                self.file(),
                at.line,
                at.col,
                self.layer(&at, &path)
            ),
            Some(Resolved::Default { value, doc, .. }) => format!("default {value} ({doc})"),
            Some(Resolved::Rule { rule, from, .. }) => {
                let from: Vec<String> = from
                    .iter()
                    .map(|(p, a)| format!("{p}@{}", a.line))
                    .collect();
                if from.is_empty() {
                    format!("rule: {rule}")
                } else {
                    format!("rule: {rule} (from {})", from.join(", "))
                }
            }
            Some(Resolved::Unset { paths }) => format!("not set: {}", paths.join(", ")),
        }
    }

    /// The full story, with the spec lines.
    fn origin_text(&self, prov: &Provenance, o: &Object, pointer: &str, indent: &str) -> String {
        let mut out = String::new();
        let quote = |out: &mut String, at: &Located| {
            let _ = writeln!(
                out,
                "{indent}  {:>5} | {}",
                at.line,
                self.line(at).trim_end()
            );
        };
        match self.resolve(prov, o, pointer) {
            None => {
                let _ = writeln!(out, "{indent}no origin recorded");
            }
            Some(Resolved::Spec { path, at }) => {
                let _ = writeln!(
                    out,
                    "{indent}set in {}:{}:{} at {path} ({})",
                    self.file(),
                    at.line,
                    at.col,
                    self.layer(&at, &path)
                );
                quote(&mut out, &at);
            }
            Some(Resolved::Default { value, doc, unset }) => {
                let _ = writeln!(out, "{indent}default {value}, documented in {doc}");
                if !unset.is_empty() {
                    let _ = writeln!(out, "{indent}(the spec sets none of: {})", unset.join(", "));
                }
            }
            Some(Resolved::Rule { rule, doc, from }) => {
                let _ = writeln!(out, "{indent}derived: {rule} ({doc})");
                for (p, at) in &from {
                    let _ = writeln!(
                        out,
                        "{indent}from {p} at {}:{}:{} ({})",
                        self.file(),
                        at.line,
                        at.col,
                        self.layer(at, p)
                    );
                    quote(&mut out, at);
                }
            }
            Some(Resolved::Unset { paths }) => {
                let _ = writeln!(
                    out,
                    "{indent}from {}, which the spec does not set",
                    paths.join(" or ")
                );
            }
        }
        out
    }
}

/// A Secret's values are never printed.
fn shown(o: &Object, pointer: &str, v: &Value) -> Value {
    if o.kind == "Secret" && (pointer.starts_with("/data/") || pointer.starts_with("/stringData/"))
    {
        return "(secret value not shown)".into();
    }
    v.clone()
}

fn object_json(o: &Object) -> Value {
    json!({ "kind": o.kind, "name": o.name, "namespace": o.namespace })
}

fn title(o: &Object) -> String {
    format!("{}/{}", o.kind, o.name)
}

fn where_(o: &Object, env: &str) -> String {
    match &o.namespace {
        Some(ns) => format!("namespace {ns}, environment {env}"),
        None => format!("cluster-scoped, environment {env}"),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One line of a listing: the first line, at most 80 characters.
fn short(s: &str) -> String {
    let first = s.lines().next().unwrap_or_default();
    let cut: String = first.chars().take(80).collect();
    if cut.len() < s.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// Every scalar (and empty container) under `v`, with its JSON pointer.
fn leaves(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                leaves(v, format!("{at}/{}", origin::escape(k)), out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, v) in a.iter().enumerate() {
                leaves(v, format!("{at}/{i}"), out);
            }
        }
        _ => out.push((at, v.clone())),
    }
}

/// `/spec/template/spec/containers/0/image` → `spec.template.spec.containers[0].image`;
/// keys that are not plain words are bracketed (`metadata.labels["app.kubernetes.io/name"]`).
fn display(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.parse::<usize>().is_ok() {
            let _ = write!(out, "[{seg}]");
        } else if !seg.is_empty()
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        } else {
            let _ = write!(out, "[{}]", serde_json::to_string(&seg).expect("json"));
        }
    }
    out
}

/// Segments of a field path: kubectl's dotted form with `[N]`, `["key"]`, `[name]`, a
/// leading `.` or `{…}`, or a JSON pointer.
fn parse_field(field: &str) -> Result<Vec<String>, String> {
    let f = field.trim();
    let f = f
        .strip_prefix('{')
        .and_then(|f| f.strip_suffix('}'))
        .unwrap_or(f);
    if let Some(p) = f.strip_prefix('/') {
        return Ok(p
            .split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect());
    }
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut chars = f.strip_prefix('.').unwrap_or(f).chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            '.' => segs.push(std::mem::take(&mut cur)),
            '[' => {
                if !cur.is_empty() {
                    segs.push(std::mem::take(&mut cur));
                }
                let mut inner = String::new();
                let quote = chars.peek().copied().filter(|c| *c == '"' || *c == '\'');
                if quote.is_some() {
                    chars.next();
                }
                loop {
                    match chars.next() {
                        None => return Err("an unclosed `[`".into()),
                        Some(c) if Some(c) == quote => {
                            if chars.next() != Some(']') {
                                return Err("expected `]` after the quoted key".into());
                            }
                            break;
                        }
                        Some(']') if quote.is_none() => break,
                        Some(c) => inner.push(c),
                    }
                }
                segs.push(inner);
                // `[0].image`: the dot after a bracket only separates.
                if chars.peek() == Some(&'.') {
                    chars.next();
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        segs.push(cur);
    }
    if segs.iter().any(String::is_empty) {
        return Err("an empty segment (two dots in a row?)".into());
    }
    Ok(segs)
}

fn find_field<'a>(obj: &'a Object, field: &str) -> Result<(String, &'a Value), Failure> {
    let segs = parse_field(field).map_err(|e| {
        Failure::bad_input(miette!(
            help = "write it as kubectl does: spec.template.spec.containers[0].image",
            "cannot read field path `{field}`: {e}"
        ))
    })?;
    let mut v = &obj.body;
    let mut pointer = String::new();
    for seg in &segs {
        let next = match v {
            Value::Object(m) => m.get(seg.as_str()).map(|n| (origin::escape(seg), n)),
            Value::Array(a) => match seg.parse::<usize>() {
                Ok(i) => a.get(i).map(|n| (i.to_string(), n)),
                // `containers[backend]`: the item of that name.
                Err(_) => a
                    .iter()
                    .position(|item| item["name"].as_str() == Some(seg.as_str()))
                    .map(|i| (i.to_string(), &a[i])),
            },
            _ => None,
        };
        match next {
            Some((s, n)) => {
                pointer.push('/');
                pointer.push_str(&s);
                v = n;
            }
            None => {
                let here = if pointer.is_empty() {
                    "the object".to_owned()
                } else {
                    format!("`{}`", display(&pointer))
                };
                let children: Vec<String> = match v {
                    Value::Object(m) => m.keys().cloned().collect(),
                    Value::Array(a) => (0..a.len())
                        .map(|i| match a[i]["name"].as_str() {
                            Some(n) => format!("[{i}] ({n})"),
                            None => format!("[{i}]"),
                        })
                        .collect(),
                    _ => vec![],
                };
                let mut all = Vec::new();
                let mut ls = Vec::new();
                nodes(&obj.body, String::new(), &mut all);
                leaves(&obj.body, String::new(), &mut ls);
                let wanted = segs.join(".");
                let closest = all
                    .iter()
                    .map(|p| display(p))
                    .min_by_key(|d| distance(&d.replace(['[', ']'], "."), &wanted));
                let mut help = String::new();
                if let Some(c) = closest {
                    let _ = write!(help, "did you mean `{c}`? ");
                }
                if children.is_empty() {
                    let _ = write!(help, "{here} is a value, with no fields below it");
                } else {
                    let _ = write!(help, "{here} has: {}", children.join(", "));
                }
                return Err(Failure::bad_input(miette!(
                    help = help,
                    "{} has no field `{}` (no `{seg}` in {here})",
                    title(obj),
                    field
                )));
            }
        }
    }
    Ok((pointer, v))
}

/// Every node's pointer (objects and lists too), for suggestions.
fn nodes(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let p = format!("{at}/{}", origin::escape(k));
                out.push(p.clone());
                nodes(v, p, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                nodes(v, p, out);
            }
        }
        _ => {}
    }
}

/// Levenshtein distance (suggestions only).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// kubectl's short names and plurals for the kinds berth renders.
fn kind_matches(kind: &str, wanted: &str) -> bool {
    let k = kind.to_ascii_lowercase();
    let w = wanted.to_ascii_lowercase();
    let w = w.split('.').next().unwrap_or_default();
    if k == w || format!("{k}s") == w || (k.ends_with('s') && format!("{k}es") == w) {
        return true;
    }
    let short = match k.as_str() {
        "deployment" => "deploy",
        "service" => "svc",
        "configmap" => "cm",
        "horizontalpodautoscaler" => "hpa",
        "poddisruptionbudget" => "pdb",
        "networkpolicy" => "netpol",
        "serviceaccount" => "sa",
        "namespace" => "ns",
        "ingress" => "ing",
        "statefulset" => "sts",
        "cronjob" => "cj",
        "persistentvolumeclaim" => "pvc",
        "resourcequota" => "quota",
        "limitrange" => "limits",
        "networkpolicies" => "netpol",
        _ => return w == "networkpolicies" && k == "networkpolicy",
    };
    w == short
}

fn find_object<'a>(
    objects: &'a [Object],
    wanted: &str,
    namespace: Option<&str>,
    env: &str,
) -> Result<&'a Object, Failure> {
    let all: Vec<String> = objects
        .iter()
        .map(|o| format!("{}/{}", o.kind.to_ascii_lowercase(), o.name))
        .collect();
    let Some((kind, name)) = wanted.split_once('/') else {
        return Err(Failure::bad_input(miette!(
            help = format!("e.g. `{}`", all.first().cloned().unwrap_or_default()),
            "name the object as KIND/NAME, not `{wanted}`"
        )));
    };
    let hits: Vec<&Object> = objects
        .iter()
        .filter(|o| o.name == name && kind_matches(&o.kind, kind))
        .filter(|o| namespace.is_none_or(|n| o.namespace.as_deref() == Some(n)))
        .collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => {
            let wanted_l = wanted.to_ascii_lowercase();
            let closest = all
                .iter()
                .min_by_key(|a| distance(a, &wanted_l))
                .cloned()
                .unwrap_or_default();
            let same_kind: Vec<&String> = objects
                .iter()
                .zip(&all)
                .filter(|(o, _)| kind_matches(&o.kind, kind))
                .map(|(_, a)| a)
                .collect();
            let listed = if same_kind.is_empty() {
                all.iter().collect()
            } else {
                same_kind
            };
            Err(Failure::bad_input(miette!(
                help = format!(
                    "did you mean `{closest}`? the {env} render has: {}",
                    listed
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "no `{wanted}` in the {env} render{}",
                namespace
                    .map(|n| format!(" in namespace {n}"))
                    .unwrap_or_default()
            )))
        }
        many => Err(Failure::bad_input(miette!(
            help = format!(
                "pick one with -n: {}",
                many.iter()
                    .filter_map(|o| o.namespace.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "`{wanted}` is in {} namespaces",
            many.len()
        ))),
    }
}

fn list_objects(objects: &[Object], env: &str, output: ProvenanceFormat) -> CmdResult {
    match output {
        ProvenanceFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "environment": env,
                "objects": objects.iter().map(object_json).collect::<Vec<_>>(),
            }))
            .expect("json")
        ),
        ProvenanceFormat::Text => {
            let mut out = format!(
                "objects of the {env} render (berth explain APP --env {env} KIND/NAME [FIELD]):\n"
            );
            for o in objects {
                let _ = writeln!(
                    out,
                    "  {}/{}{}",
                    o.kind.to_ascii_lowercase(),
                    o.name,
                    o.namespace
                        .as_deref()
                        .map(|n| format!("  (namespace {n})"))
                        .unwrap_or_default()
                );
            }
            print!("{out}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_read_as_kubectl_writes_them() {
        assert_eq!(
            parse_field("spec.template.spec.containers[0].resources.limits.cpu").unwrap(),
            [
                "spec",
                "template",
                "spec",
                "containers",
                "0",
                "resources",
                "limits",
                "cpu"
            ]
        );
        assert_eq!(
            parse_field(r#"metadata.labels["app.kubernetes.io/name"]"#).unwrap(),
            ["metadata", "labels", "app.kubernetes.io/name"]
        );
        assert_eq!(
            parse_field(r"{.metadata.labels.a\.b/c}").unwrap(),
            ["metadata", "labels", "a.b/c"]
        );
        assert_eq!(
            parse_field("/metadata/labels/a~1b").unwrap(),
            ["metadata", "labels", "a/b"]
        );
        assert!(parse_field("spec..replicas").is_err());
        assert_eq!(
            display("/spec/containers/0/env/1/name"),
            "spec.containers[0].env[1].name"
        );
        assert_eq!(
            display("/metadata/labels/app.kubernetes.io~1name"),
            r#"metadata.labels["app.kubernetes.io/name"]"#
        );
        for p in [
            "/spec/containers/0/image",
            "/metadata/labels/app.kubernetes.io~1name",
        ] {
            let segs = parse_field(&display(p)).unwrap();
            let back: String = segs
                .iter()
                .map(|s| format!("/{}", origin::escape(s)))
                .collect();
            assert_eq!(back, p, "display and parse round-trip");
        }
    }

    #[test]
    fn kinds_by_kubectl_names() {
        assert!(kind_matches("Deployment", "deploy"));
        assert!(kind_matches("Deployment", "deployments"));
        assert!(kind_matches("HorizontalPodAutoscaler", "hpa"));
        assert!(kind_matches("NetworkPolicy", "netpol"));
        assert!(kind_matches("Ingress", "ingresses"));
        assert!(!kind_matches("Service", "deploy"));
    }
}
