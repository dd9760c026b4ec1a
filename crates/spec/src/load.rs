//! Reading berth.yaml (the IO edge of this crate) and turning it into validated, resolved apps.

use crate::de::{DeErrorKind, NodeDe, suggest};
use crate::error::{Source, SpecError, SpecErrors};
use crate::merge::merge;
use crate::model::{OVERRIDE_KEYS, Spec};
use crate::resolve::{App, resolve};
use crate::secrets::{LoadOptions, resolve_secrets};
use crate::validate::validate;
use berth_yaml::{Limits, Node, Pos, Value, parse_stream};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const SPEC_FILE: &str = "berth.yaml";

/// A spec is a few kilobytes; anything near this is a mistake (or an attack), refused before reading.
const MAX_SPEC_BYTES: u64 = 4 << 20;

/// The result of loading a spec: the typed base spec and one resolved app per environment.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: PathBuf,
    pub spec: Spec,
    /// One per environment, in the spec's order.
    pub apps: Vec<App>,
    /// With [`load_env_with`]: the errors of the other environments, which do not stop the
    /// one asked for (each is shown as a warning).
    pub warnings: Vec<SpecError>,
    /// The spec as parsed, for [`Loaded::position`].
    root: Node,
}

impl Loaded {
    /// Line and column (1-based) of the key at a spec path (`["services", "backend"]`) in the
    /// spec file, so what is built from an entry can point back at it.
    pub fn position(&self, path: &[&str]) -> Option<(usize, usize)> {
        let (last, parents) = path.split_last()?;
        let parent = self.root.at_path(parents)?;
        match &parent.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.name == *last)
                .map(|(k, _)| (k.pos.line, k.pos.col)),
            _ => None,
        }
    }

    /// Where the spec sets the value at `path` (`["services", "backend", "resources", "cpu"]`)
    /// for environment `env`: the environment's override when it has one (`environments.ENV.…`
    /// for `registry`, `version`, `ingress`, `services`, `dependencies`), else the base. A
    /// path under `environments` is looked up as written. `None` when the spec does not set it
    /// (or an override removes it with `null`), so the renderer's default applies.
    pub fn locate(&self, env: &str, path: &[String]) -> Option<Located> {
        let first = path.first()?;
        if first == "environments" {
            let layer = Layer::Environment(path.get(1)?.clone());
            return locate_in(&self.root, path).map(|(line, col)| Located { line, col, layer });
        }
        if OVERRIDE_KEYS.contains(&first.as_str()) {
            let env_root = self.root.get("environments").and_then(|e| e.get(env));
            if let Some(env_root) = env_root {
                match walk(env_root, path) {
                    Walk::Found(line, col) => {
                        return Some(Located {
                            line,
                            col,
                            layer: Layer::Environment(env.to_owned()),
                        });
                    }
                    // `null` removes; a list or scalar replaces the base's value whole.
                    Walk::Removed | Walk::Replaced => return None,
                    Walk::Absent => {}
                }
            }
        }
        // The base: the document less `environments`, which `first` is not.
        locate_in(&self.root, path).map(|(line, col)| Located {
            line,
            col,
            layer: Layer::Base,
        })
    }

    pub fn app(&self, env: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.env == env)
    }
    pub fn env_names(&self) -> Vec<&str> {
        self.apps.iter().map(|a| a.env.as_str()).collect()
    }
}

/// Which layer of the spec set a value: the base, or an environment's override (merged onto
/// the base, docs/spec.md#merge-rules) or setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    Base,
    Environment(String),
}

/// A position in the spec file ([`Loaded::locate`]): 1-based line and column of the key that
/// holds the value (of the item, in a list), and the layer that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub line: usize,
    pub col: usize,
    pub layer: Layer,
}

enum Walk {
    Found(usize, usize),
    Absent,
    Removed,
    Replaced,
}

/// Follows `path` from `node`: found, absent, removed by a `null` on the way, or cut short by a
/// list or scalar that replaces whatever the base has below it.
fn walk(node: &Node, path: &[String]) -> Walk {
    let mut node = node;
    let mut key_pos = None;
    for seg in path {
        let next = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.name == *seg)
                .map(|(k, v)| (Some(k.pos), v)),
            Value::Seq(items) => seg
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|v| (None, v)),
            Value::Null => return Walk::Removed,
            _ => return Walk::Replaced,
        };
        match next {
            Some((k, v)) => {
                key_pos = k;
                node = v;
            }
            None if matches!(node.value, Value::Seq(_)) => return Walk::Replaced,
            None => return Walk::Absent,
        }
    }
    match &node.value {
        Value::Null => Walk::Removed,
        // The key that holds it (`cpu: 100m/500m`), or the list item.
        _ => {
            let p = key_pos.unwrap_or(node.pos);
            Walk::Found(p.line, p.col)
        }
    }
}

fn locate_in(root: &Node, path: &[String]) -> Option<(usize, usize)> {
    match walk(root, path) {
        Walk::Found(line, col) => Some((line, col)),
        _ => None,
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("no {SPEC_FILE} in {}", .0.display())]
    #[diagnostic(
        code(berth::spec::not_found),
        help("pass the app directory that holds berth.yaml, or the spec file itself")
    )]
    NotFound(PathBuf),
    #[error("cannot read {}: {source}", .path.display())]
    #[diagnostic(code(berth::spec::io))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is {size} bytes; a berth.yaml is limited to {MAX_SPEC_BYTES} bytes", .path.display())]
    #[diagnostic(
        code(berth::spec::too_large),
        help("is this the right file? specs are usually a few kilobytes")
    )]
    TooLarge { path: PathBuf, size: u64 },
    #[error("{} is not UTF-8 text (invalid byte at offset {offset})", .path.display())]
    #[diagnostic(code(berth::spec::not_text), help("save berth.yaml as UTF-8"))]
    NotText { path: PathBuf, offset: usize },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(#[from] SpecErrors),
}

impl LoadError {
    /// Bad input (exit 2) as opposed to an IO failure (exit 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, LoadError::Io { .. })
    }
}

/// `DIR` → `DIR/berth.yaml`; a file path is taken as the spec itself.
pub fn find_spec(path: &Path) -> Result<PathBuf, LoadError> {
    if path.is_dir() {
        for name in [SPEC_FILE, "berth.yml"] {
            let candidate = path.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        return Err(LoadError::NotFound(path.to_owned()));
    }
    if path.is_file() {
        return Ok(path.to_owned());
    }
    Err(LoadError::NotFound(path.to_owned()))
}

/// Loads, validates and resolves a spec from disk (config files are read relative to it).
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    load_with(path, &LoadOptions::default())
}

/// [`load`] with options from the command line.
pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Loaded, LoadError> {
    load_from_disk(path, options, None)
}

/// [`load_with`] for a command that uses one environment (`berth render --env ENV`): only
/// `env`'s errors (and the whole document's) fail the load; the other environments' errors
/// are returned in [`Loaded::warnings`], and those environments are left out of `apps`.
pub fn load_env_with(path: &Path, options: &LoadOptions, env: &str) -> Result<Loaded, LoadError> {
    load_from_disk(path, options, Some(env))
}

fn load_from_disk(
    path: &Path,
    options: &LoadOptions,
    only: Option<&str>,
) -> Result<Loaded, LoadError> {
    let file = find_spec(path)?;
    let io = |source| LoadError::Io {
        path: file.clone(),
        source,
    };
    let size = std::fs::metadata(&file).map_err(io)?.len();
    if size > MAX_SPEC_BYTES {
        return Err(LoadError::TooLarge { path: file, size });
    }
    let bytes = std::fs::read(&file).map_err(io)?;
    let text = String::from_utf8(bytes).map_err(|e| LoadError::NotText {
        path: file.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    let dir = file.parent().map(Path::to_owned).unwrap_or_default();
    let read = |rel: &Path| std::fs::read(dir.join(rel));
    Ok(load_text(&file, &text, &read, options, only)?)
}

/// Loads from text; `read_file` reads config files named in the spec (relative to it).
pub fn load_str(
    file: &Path,
    text: &str,
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Loaded, SpecErrors> {
    load_str_with(file, text, read_file, &LoadOptions::default())
}

/// [`load_str`] with options from the command line.
pub fn load_str_with(
    file: &Path,
    text: &str,
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    options: &LoadOptions,
) -> Result<Loaded, SpecErrors> {
    load_text(file, text, read_file, options, None)
}

fn load_text(
    file: &Path,
    text: &str,
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    options: &LoadOptions,
    only: Option<&str>,
) -> Result<Loaded, SpecErrors> {
    let source = Source::new(file, text.to_owned());
    let fail = |errors: Vec<SpecError>| SpecErrors {
        file: file.to_owned(),
        errors,
    };
    let limits = Limits {
        max_bytes: MAX_SPEC_BYTES as usize,
        max_depth: 64,
        max_nodes: 200_000,
    };
    let mut docs = parse_stream(text, limits);
    let start = Pos {
        line: 1,
        col: 1,
        offset: 0,
    };
    let root = match docs.len() {
        0 => None,
        1 => Some(docs.remove(0)),
        _ => {
            return Err(fail(vec![SpecError::new(
                &source,
                Pos {
                    line: docs[1].line,
                    col: 1,
                    offset: line_offset(text, docs[1].line),
                },
                "",
                "berth.yaml holds more than one YAML document",
                Some(
                    "keep one document: remove the `---` line and what follows, or merge it".into(),
                ),
            )]));
        }
    };
    let root = match root.map(|d| d.root) {
        Some(Ok(Some(node))) => node,
        Some(Err(e)) => {
            return Err(fail(vec![SpecError::new(
                &source, e.pos, "", e.message, e.help,
            )]));
        }
        None | Some(Ok(None)) => {
            return Err(fail(vec![SpecError::new(
                &source,
                start,
                "",
                "the spec is empty",
                Some("start with `app: NAME` and a `services:` mapping".into()),
            )]));
        }
    };
    if !matches!(root.value, Value::Map(_)) {
        return Err(fail(vec![SpecError::new(
            &source,
            root.pos,
            "",
            format!(
                "expected a mapping at the top level, found {}",
                root.value.type_name()
            ),
            Some("start with `app: NAME` and a `services:` mapping".into()),
        )]));
    }

    // The whole document, overrides included, must have the right shape.
    let spec = decode_all(&source, &root).map_err(fail)?;

    let mut errors: Vec<SpecError> = Vec::new();
    // The environment each error was found in (`errors[i]` in `owners[i]`).
    let mut owners: Vec<String> = Vec::new();
    let mut apps = Vec::new();
    let base = without_key(&root, "environments");
    let envs: Vec<(String, Option<Node>)> = match root.get("environments") {
        Some(Node {
            value: Value::Map(entries),
            ..
        }) if !entries.is_empty() => entries
            .iter()
            .map(|(k, v)| (k.name.clone(), Some(v.clone())))
            .collect(),
        // No environments: one implicit `default` environment.
        _ => vec![("default".to_owned(), None)],
    };
    for (env_name, env_node) in envs {
        let mut merged = base.clone();
        if let Some(env_node) = &env_node {
            // Overrides of undefined services are reported once, then left out of the merge.
            let env_node =
                &check_override_targets(&source, &root, &env_name, env_node, &mut errors);
            for key in OVERRIDE_KEYS {
                if let Some(over) = env_node.get(key) {
                    let mut wrapper = Node::new(Value::Map(vec![]), over.pos);
                    if let Value::Map(entries) = &mut wrapper.value {
                        let k = match &env_node.value {
                            Value::Map(e) => e
                                .iter()
                                .find(|(k, _)| k.name == *key)
                                .map(|(k, _)| k.clone()),
                            _ => None,
                        };
                        if let Some(k) = k {
                            entries.push((k, over.clone()));
                        }
                    }
                    merge(&mut merged, &wrapper);
                }
            }
        }
        let env_spec = match decode(&source, &merged) {
            Ok(s) => s,
            Err(e) => {
                errors.push(e);
                owners.resize(errors.len(), env_name.clone());
                continue;
            }
        };
        let settings = spec
            .environments
            .get(&env_name)
            .cloned()
            .unwrap_or_default();
        let ctx = crate::validate::Ctx {
            source: &source,
            root: &merged,
            env_root: env_node.as_ref(),
            env: &env_name,
        };
        // Resolution finds mistakes too (ports, probes, exposure); it runs even when validation
        // failed, so every error of the spec is reported together.
        let valid = validate(&ctx, &env_spec, &settings);
        let app = resolve(&ctx, &env_spec, &settings, read_file);
        match valid {
            Ok(()) => {
                let deps = app
                    .as_ref()
                    .map(|a| a.dependencies.as_slice())
                    .unwrap_or(&[]);
                let secrets = resolve_secrets(&ctx, &env_spec, &settings, read_file, options, deps);
                let foreign = match &app {
                    Ok(a) => crate::secrets::sealed_across_namespaces(&ctx, &settings, a),
                    Err(_) => Vec::new(),
                };
                match (app, secrets) {
                    (Ok(mut app), Ok(secrets)) if foreign.is_empty() => {
                        app.secrets = secrets;
                        apps.push(app);
                    }
                    (app, secrets) => {
                        errors.extend(foreign);
                        errors.extend(app.err().unwrap_or_default());
                        errors.extend(secrets.err().unwrap_or_default());
                    }
                }
            }
            Err(mut e) => {
                errors.append(&mut e);
                errors.extend(app.err().unwrap_or_default());
            }
        }
        owners.resize(errors.len(), env_name.clone());
    }
    let mut warnings = Vec::new();
    if let Some(only) = only {
        let mut mine = Vec::new();
        for (e, env) in errors.into_iter().zip(owners) {
            if env == only {
                mine.push(e);
            } else {
                warnings.push(e);
            }
        }
        errors = mine;
        // A base mistake found through another environment first is this one's too.
        warnings.retain(|w| !errors.iter().any(|e| same_error(e, w)));
        dedupe(&mut warnings);
    }
    if !errors.is_empty() {
        dedupe(&mut errors);
        return Err(fail(errors));
    }
    Ok(Loaded {
        file: file.to_owned(),
        spec,
        apps,
        warnings,
        root,
    })
}

/// The same mistake, found through two environments.
fn same_error(a: &SpecError, b: &SpecError) -> bool {
    (a.line, a.col, &a.message) == (b.line, b.col, &b.message)
}

/// The same base mistake shows up once per environment: report it once, in file order.
fn dedupe(errors: &mut Vec<SpecError>) {
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert((e.line, e.col, e.message.clone())));
    errors.sort_by_key(|e| (e.line, e.col));
}

fn decode(source: &Source, node: &Node) -> Result<Spec, SpecError> {
    Spec::deserialize(NodeDe::new(node, "", &source.text)).map_err(|e| {
        let (pos, path) = e.at.unwrap_or((node.pos, String::new()));
        SpecError::new(source, pos, path, e.message, e.help)
    })
}

/// Serde stops at the first error; a spec's author wants them all. After each error the bad
/// part (the unknown key, the value that does not fit) is taken out and the document decoded
/// again, until it decodes or nothing more can be taken out.
fn decode_all(source: &Source, root: &Node) -> Result<Spec, Vec<SpecError>> {
    // Each round takes a node out, so this only bounds the work on a pathological document.
    const MAX_ERRORS: usize = 100;
    let mut tree = root.clone();
    let mut errors = Vec::new();
    // (mapping, key) pairs whose value was taken out: that key is then missing, as a
    // consequence already reported.
    let mut taken: Vec<(usize, String)> = Vec::new();
    while errors.len() < MAX_ERRORS {
        let e = match Spec::deserialize(NodeDe::new(&tree, "", &source.text)) {
            Ok(spec) if errors.is_empty() => return Ok(spec),
            Ok(_) => break,
            Err(e) => e,
        };
        let (pos, path) = e.at.clone().unwrap_or((tree.pos, String::new()));
        let consequence = matches!(e.kind, DeErrorKind::Missing(k)
            if taken.contains(&(pos.offset, k.to_owned())));
        if !consequence {
            errors.push(SpecError::new(source, pos, path, e.message, e.help));
        }
        match take_out(&mut tree, pos.offset, e.kind) {
            Some(taken_from) => taken.push(taken_from),
            None => break,
        }
    }
    Err(errors)
}

/// Removes the map entry (or list item) an error is about; returns the mapping's offset and
/// the key removed (for a list item, an empty key).
fn take_out(node: &mut Node, offset: usize, kind: DeErrorKind) -> Option<(usize, String)> {
    let here = node.pos.offset;
    match &mut node.value {
        Value::Map(entries) => {
            let hit = entries.iter().position(|(k, v)| match kind {
                DeErrorKind::Key => k.pos.offset == offset,
                DeErrorKind::Value | DeErrorKind::Missing(_) => v.pos.offset == offset,
            });
            if let Some(i) = hit {
                let (k, _) = entries.remove(i);
                return Some((here, k.name));
            }
            entries
                .iter_mut()
                .find_map(|(_, v)| take_out(v, offset, kind))
        }
        Value::Seq(items) => {
            if let Some(i) = items.iter().position(|v| v.pos.offset == offset) {
                items.remove(i);
                return Some((here, String::new()));
            }
            items.iter_mut().find_map(|v| take_out(v, offset, kind))
        }
        _ => None,
    }
}

fn without_key(node: &Node, key: &str) -> Node {
    let mut out = node.clone();
    if let Value::Map(entries) = &mut out.value {
        entries.retain(|(k, _)| k.name != key);
    }
    out
}

/// An override must name a service or dependency the base spec defines. Returns the
/// environment without the overrides that do not.
fn check_override_targets(
    source: &Source,
    root: &Node,
    env: &str,
    env_node: &Node,
    errors: &mut Vec<SpecError>,
) -> Node {
    let mut pruned = env_node.clone();
    for section in ["services", "dependencies"] {
        let defined: Vec<&str> = match root.get(section).map(|n| &n.value) {
            Some(Value::Map(entries)) => entries.iter().map(|(k, _)| k.name.as_str()).collect(),
            _ => vec![],
        };
        if let Some(Node {
            value: Value::Map(overrides),
            ..
        }) = env_node.get(section)
        {
            for (key, _) in overrides {
                if !defined.contains(&key.name.as_str()) {
                    let singular = match section {
                        "services" => "service",
                        _ => "dependency",
                    };
                    errors.push(SpecError::new(
                        source,
                        key.pos,
                        format!("environments.{env}.{section}.{}", key.name),
                        format!(
                            "environment `{env}` overrides {singular} `{}`, which is not defined under `{section}`",
                            key.name
                        ),
                        Some(if defined.is_empty() {
                            format!("define it under `{section}` first")
                        } else {
                            suggest(&key.name, &defined)
                        }),
                    ));
                }
            }
        }
        if let Value::Map(sections) = &mut pruned.value
            && let Some((
                _,
                Node {
                    value: Value::Map(overrides),
                    ..
                },
            )) = sections.iter_mut().find(|(k, _)| k.name == section)
        {
            overrides.retain(|(k, _)| defined.contains(&k.name.as_str()));
        }
    }
    pruned
}

fn line_offset(text: &str, line: usize) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum()
}
