//! A Docker Compose project as `docker compose config` resolves it: files found the way
//! compose finds them, `.env` / `--env-file`, interpolation, `include`, `extends`, several files
//! merged in order (`!reset` / `!override`), profiles, `env_file` and `environment` resolved,
//! implicit dependencies (`links`, `network_mode: service:…`, `volumes_from`). Every value keeps
//! the file, line and column it was written at.

pub mod canon;
pub mod dotenv;
pub mod interp;
pub mod merge;
pub mod tree;

use berth_yaml::{Limits, Node, Pos, Value, parse_stream};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use tree::{entries, file_of, get_mut, key, mark_file, remove, set, str_node, text, text_at};

/// Reads files for the loader, so tests and the CLI decide where they come from.
pub trait Files {
    fn read(&self, path: &Path) -> std::io::Result<String>;
    fn is_file(&self, path: &Path) -> bool;
}

/// The real file system.
pub struct RealFiles;

impl Files for RealFiles {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Compose files in merge order (`-f`); empty: found in `project_dir` as compose does.
    pub files: Vec<PathBuf>,
    /// Where relative paths and `.env` are resolved (default: the first file's directory).
    pub project_dir: Option<PathBuf>,
    /// `--env-file` files (default: `PROJECT_DIR/.env` when it exists).
    pub env_files: Vec<PathBuf>,
    /// `--profile` (default: `COMPOSE_PROFILES`).
    pub profiles: Vec<String>,
    /// The process environment; it wins over `.env` as in compose.
    pub environment: BTreeMap<String, String>,
}

/// A problem in the input: where (file, line, column) and what, in compose's words.
#[derive(Debug, Clone, PartialEq)]
pub struct Diag {
    pub file: Option<PathBuf>,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) if self.line > 0 => {
                write!(
                    f,
                    "{}:{}:{}: {}",
                    file.display(),
                    self.line,
                    self.col,
                    self.message
                )
            }
            Some(file) => write!(f, "{}: {}", file.display(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Every error of a project that cannot be loaded.
#[derive(Debug, Clone)]
pub struct LoadErrors(pub Vec<Diag>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

/// A resolved compose project.
#[derive(Debug, Clone)]
pub struct Project {
    /// `docker compose -p` default: the directory name, lowercased, other characters than
    /// `a-z0-9_-` turned into `-`.
    pub name: String,
    pub dir: PathBuf,
    /// Every file read, by the index positions carry (see `tree.rs`).
    pub files: Vec<PathBuf>,
    /// The compose files given or found, in merge order.
    pub compose_files: Vec<PathBuf>,
    /// The merged, canonical model (`services`, `volumes`, `networks`, `secrets`, `configs`).
    pub model: Node,
    /// Services left out by profiles: name and its profiles.
    pub disabled: Vec<(String, Vec<String>)>,
    /// Warnings compose would print (unset variables, …).
    pub warnings: Vec<Diag>,
    /// Variables `environment:`/`env_file` named that came from the interpolation environment:
    /// their values are not in the compose files.
    pub env_names: BTreeSet<String>,
}

impl Project {
    /// File, line and column of a position.
    pub fn locate(&self, pos: Pos) -> (Option<&Path>, usize, usize) {
        match file_of(pos) {
            Some(i) => (self.files.get(i).map(PathBuf::as_path), pos.line, pos.col),
            None => (None, 0, 0),
        }
    }

    pub fn services(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.model
            .get("services")
            .map(entries)
            .unwrap_or(&[])
            .iter()
            .map(|(k, v)| (k.name.as_str(), v))
    }

    pub fn section(&self, name: &str) -> &[(berth_yaml::Key, Node)] {
        self.model.get(name).map(entries).unwrap_or(&[])
    }
}

/// Compose's file names, in the order it looks for them.
pub const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// The compose files of a directory: the first default name found, plus its override.
pub fn find_files(dir: &Path, fs: &dyn Files) -> Option<Vec<PathBuf>> {
    let main = DEFAULT_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| fs.is_file(p))?;
    let mut files = vec![main];
    if let Some(o) = OVERRIDE_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| fs.is_file(p))
    {
        files.push(o);
    }
    Some(files)
}

const TOP_LEVEL: &[&str] = &[
    "version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models",
];

/// Service keys of the compose specification.
pub const SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_shares",
    "cpu_quota",
    "cpu_period",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "label_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "network_mode",
    "models",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "security_opt",
    "shm_size",
    "secrets",
    "sysctls",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "uts",
    "userns_mode",
    "volumes",
    "volumes_from",
    "working_dir",
];

struct Loader<'a> {
    fs: &'a dyn Files,
    files: Vec<PathBuf>,
    errors: Vec<Diag>,
    warnings: Vec<Diag>,
    unset: BTreeSet<String>,
}

/// A `!reset` / `!override` tag: the path of keys it was written at, and the tag.
type TaggedPath = (Vec<String>, String);

/// A loaded file: its tree, and the `!reset`/`!override` paths it wrote.
struct FileModel {
    root: Node,
    tagged: Vec<TaggedPath>,
}

impl Loader<'_> {
    fn diag(&self, pos: Pos, message: impl Into<String>) -> Diag {
        let file = file_of(pos).and_then(|i| self.files.get(i)).cloned();
        Diag {
            file,
            line: if file_of(pos).is_some() { pos.line } else { 0 },
            col: pos.col,
            message: message.into(),
            help: None,
        }
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>, help: Option<&str>) {
        let mut d = self.diag(pos, message);
        d.help = help.map(str::to_owned);
        self.errors.push(d);
    }

    fn file_error(&mut self, path: &Path, message: impl Into<String>) {
        self.errors.push(Diag {
            file: Some(path.to_owned()),
            line: 0,
            col: 0,
            message: message.into(),
            help: None,
        });
    }

    fn add_file(&mut self, path: &Path) -> usize {
        self.files.push(path.to_owned());
        self.files.len() - 1
    }

    /// Parses one YAML file into a tree marked with its file index.
    fn parse(&mut self, path: &Path) -> Option<(Node, Vec<TaggedPath>)> {
        let src = match self.fs.read(path) {
            Ok(s) => s,
            Err(e) => {
                self.file_error(path, format!("open {}: {}", path.display(), io_text(&e)));
                return None;
            }
        };
        let id = self.add_file(path);
        let mut root = Node::new(Value::Map(Vec::new()), tree::with_file(Pos::default(), id));
        let mut tagged = Vec::new();
        for doc in parse_stream(&src, Limits::default()) {
            match doc.root {
                Ok(Some(mut n)) => {
                    tagged.extend(merge::tagged_paths(&n, &doc.tags));
                    mark_file(&mut n, id);
                    if !matches!(n.value, Value::Map(_) | Value::Null) {
                        self.error(
                            n.pos,
                            format!(
                                "top-level object must be a mapping, found {}",
                                n.value.type_name()
                            ),
                            None,
                        );
                        return None;
                    }
                    root = merge::merge(root, n, &[]);
                }
                Ok(None) => {}
                Err(e) => {
                    let pos = tree::with_file(e.pos, id);
                    self.error(pos, format!("yaml: {}", e.message), e.help.as_deref());
                    return None;
                }
            }
        }
        Some((root, tagged))
    }

    fn validate_keys(&mut self, root: &Node) {
        for (k, v) in entries(root) {
            if !TOP_LEVEL.contains(&k.name.as_str()) && !k.name.starts_with("x-") {
                self.error(
                    k.pos,
                    format!("additional properties '{}' not allowed", k.name),
                    Some(&format!("top-level keys are: {}", TOP_LEVEL.join(", "))),
                );
            }
            if k.name == "services" {
                if !matches!(v.value, Value::Map(_) | Value::Null) {
                    self.error(v.pos, "services must be a mapping", None);
                    continue;
                }
                for (name, svc) in entries(v) {
                    for (sk, _) in entries(svc) {
                        if !SERVICE_KEYS.contains(&sk.name.as_str()) && !sk.name.starts_with("x-") {
                            let hint = suggest(&sk.name, SERVICE_KEYS);
                            self.error(
                                sk.pos,
                                format!(
                                    "services.{} additional properties '{}' not allowed",
                                    name.name, sk.name
                                ),
                                hint.as_deref(),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Interpolates every string value (not keys), as compose does before merging.
    fn interpolate(
        &mut self,
        node: &mut Node,
        path: &mut Vec<String>,
        env: &BTreeMap<String, String>,
    ) {
        match &mut node.value {
            Value::Str(s) => {
                let lookup = |k: &str| env.get(k).cloned();
                let mut unset = Vec::new();
                match interp::interpolate(s, &lookup, &mut |k| unset.push(k.to_owned())) {
                    Ok(v) => *s = v,
                    Err(e) => {
                        let pos = node.pos;
                        self.error(
                            pos,
                            format!("error while interpolating {}: {}", path.join("."), e.message),
                            Some("set the variable in the environment or in .env, or give it a default: ${VAR:-default}"),
                        );
                    }
                }
                for k in unset {
                    if self.unset.insert(k.clone()) {
                        let d = self.diag(
                            node.pos,
                            format!(
                                "The \"{k}\" variable is not set. Defaulting to a blank string."
                            ),
                        );
                        self.warnings.push(d);
                    }
                }
            }
            Value::Seq(items) => {
                for (i, n) in items.iter_mut().enumerate() {
                    path.push(format!("[{i}]"));
                    self.interpolate(n, path, env);
                    path.pop();
                }
            }
            Value::Map(e) => {
                for (k, n) in e.iter_mut() {
                    if k.name.starts_with("x-") && path.is_empty() {
                        continue;
                    }
                    path.push(k.name.clone());
                    self.interpolate(n, path, env);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// One compose file: parsed, checked, interpolated, canonical, its `extends` and `include`
    /// applied. `dir` is where its relative paths point.
    fn load_file(
        &mut self,
        path: &Path,
        env: &BTreeMap<String, String>,
        stack: &mut Vec<(PathBuf, String)>,
    ) -> Option<FileModel> {
        let (mut root, tagged) = self.parse(path)?;
        self.validate_keys(&root);
        self.interpolate(&mut root, &mut Vec::new(), env);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.canonical(&mut root, &dir);
        self.apply_extends(&mut root, path, env, &tagged, stack);
        if let Some(inc) = remove(&mut root, "include") {
            self.apply_include(&mut root, &inc, &dir, env);
        }
        Some(FileModel { root, tagged })
    }

    fn canonical(&mut self, root: &mut Node, dir: &Path) {
        let Some(services) = get_mut(root, "services") else {
            return;
        };
        if matches!(services.value, Value::Null) {
            services.value = Value::Map(Vec::new());
        }
        let Value::Map(list) = &mut services.value else {
            return;
        };
        let mut errs = Vec::new();
        for (_, svc) in list.iter_mut() {
            canon::service(svc, &mut errs);
            if let Value::Map(fields) = &mut svc.value {
                for (k, v) in fields.iter_mut() {
                    merge::unique(v, &["services", "*", &k.name]);
                }
            }
            // env_file paths are read later, from wherever the service ends up: make them
            // relative to this file's directory now.
            if let Some(Value::Seq(files)) = get_mut(svc, "env_file").map(|n| &mut n.value) {
                for f in files.iter_mut() {
                    if let Some(p) = get_mut(f, "path")
                        && let Value::Str(s) = &mut p.value
                    {
                        *s = dir.join(&*s).to_string_lossy().into_owned();
                    }
                }
            }
        }
        for e in errs {
            self.error(e.pos, e.message, None);
        }
    }

    fn apply_extends(
        &mut self,
        root: &mut Node,
        path: &Path,
        env: &BTreeMap<String, String>,
        tagged: &[TaggedPath],
        stack: &mut Vec<(PathBuf, String)>,
    ) {
        let names: Vec<String> = root
            .get("services")
            .map(entries)
            .unwrap_or(&[])
            .iter()
            .filter(|(_, s)| s.get("extends").is_some())
            .map(|(k, _)| k.name.clone())
            .collect();
        for name in names {
            let mut local = root.clone();
            if let Some(resolved) =
                self.resolve_extends(&mut local, &name, path, env, tagged, stack)
                && let Some(services) = get_mut(root, "services")
            {
                set(services, &name, resolved);
            }
        }
    }

    /// Service `name` of `file` (whose tree is `root`) with its `extends` chain applied.
    fn resolve_extends(
        &mut self,
        root: &mut Node,
        name: &str,
        file: &Path,
        env: &BTreeMap<String, String>,
        tagged: &[TaggedPath],
        stack: &mut Vec<(PathBuf, String)>,
    ) -> Option<Node> {
        let svc = root.get("services").and_then(|s| s.get(name)).cloned()?;
        let Some(ext) = svc.get("extends").cloned() else {
            return Some(svc);
        };
        let me = (file.to_owned(), name.to_owned());
        if stack.contains(&me) {
            let mut msg = String::from("Circular reference:");
            let start = stack.iter().position(|s| *s == me).unwrap_or(0);
            for (i, (f, s)) in stack[start..]
                .iter()
                .chain(std::iter::once(&me))
                .enumerate()
            {
                msg.push_str(&format!(
                    "\n  {}{} in {}",
                    if i == 0 { "" } else { "extends " },
                    s,
                    f.display()
                ));
            }
            self.error(
                ext.pos,
                msg,
                Some("remove one of the `extends` in the cycle"),
            );
            return None;
        }
        stack.push(me);
        let base_name = text_at(&ext, "service").unwrap_or_default();
        let base = match ext.get("file").and_then(text) {
            Some(f) => {
                let other = file.parent().unwrap_or(Path::new("")).join(&f);
                if !self.fs.is_file(&other) {
                    let pos = ext.get("file").map(|n| n.pos).unwrap_or(ext.pos);
                    self.error(
                        pos,
                        format!("open {}: no such file or directory", other.display()),
                        None,
                    );
                    stack.pop();
                    return None;
                }
                let mut model = self.load_file(&other, env, stack)?;
                let found = model
                    .root
                    .get("services")
                    .and_then(|s| s.get(&base_name))
                    .cloned();
                match found {
                    Some(_) => {
                        let rel = Path::new(&f)
                            .parent()
                            .map(Path::to_path_buf)
                            .unwrap_or_default();
                        let mut b = self.resolve_extends(
                            &mut model.root,
                            &base_name,
                            &other,
                            env,
                            &model.tagged,
                            stack,
                        )?;
                        rebase(&mut b, &rel);
                        Some(b)
                    }
                    None => None,
                }
            }
            None => {
                if root
                    .get("services")
                    .and_then(|s| s.get(&base_name))
                    .is_some()
                {
                    self.resolve_extends(root, &base_name, file, env, tagged, stack)
                } else {
                    None
                }
            }
        };
        stack.pop();
        let Some(mut base) = base else {
            let pos = ext.get("service").map(|n| n.pos).unwrap_or(ext.pos);
            self.error(
                pos,
                format!("cannot extend service \"{name}\": service \"{base_name}\" not found"),
                None,
            );
            return None;
        };
        let mut svc = svc;
        remove(&mut svc, "extends");
        // `!reset` / `!override` inside the extending service apply to what it inherits.
        for (p, tag) in tagged {
            if p.len() > 2 && p[0] == "services" && p[1] == name {
                merge::delete_path(&mut base, &p[2..]);
                if tag == "!reset" {
                    merge::delete_path(&mut svc, &p[2..]);
                }
            }
        }
        remove(&mut base, "extends");
        Some(merge::merge(base, svc, &["services", name]))
    }

    fn apply_include(
        &mut self,
        root: &mut Node,
        inc: &Node,
        dir: &Path,
        env: &BTreeMap<String, String>,
    ) {
        let list: Vec<Node> = match &inc.value {
            Value::Seq(l) => l.clone(),
            _ => vec![inc.clone()],
        };
        for item in list {
            let (paths, project_dir, env_files) = match &item.value {
                Value::Map(_) => {
                    let paths: Vec<String> = match item.get("path") {
                        Some(p) => match &p.value {
                            Value::Seq(l) => l.iter().filter_map(text).collect(),
                            _ => text(p).into_iter().collect(),
                        },
                        None => Vec::new(),
                    };
                    let env_files: Vec<String> = match item.get("env_file") {
                        Some(p) => match &p.value {
                            Value::Seq(l) => l.iter().filter_map(text).collect(),
                            _ => text(p).into_iter().collect(),
                        },
                        None => Vec::new(),
                    };
                    (paths, text_at(&item, "project_directory"), env_files)
                }
                _ => (text(&item).into_iter().collect(), None, Vec::new()),
            };
            if paths.is_empty() {
                self.error(item.pos, "include needs a `path`", None);
                continue;
            }
            let files: Vec<PathBuf> = paths.iter().map(|p| dir.join(p)).collect();
            let sub_dir = match &project_dir {
                Some(d) => dir.join(d),
                None => files[0].parent().map(Path::to_path_buf).unwrap_or_default(),
            };
            // The included project's .env adds to (never overrides) the including environment.
            let mut sub_env = env.clone();
            let env_paths: Vec<PathBuf> = if env_files.is_empty() {
                vec![sub_dir.join(".env")]
            } else {
                env_files.iter().map(|f| dir.join(f)).collect()
            };
            for p in env_paths {
                if let Ok(src) = self.fs.read(&p) {
                    let id = self.add_file(&p);
                    match dotenv::parse(&src, &|k| sub_env.get(k).cloned()) {
                        Ok(vars) => {
                            for v in vars {
                                sub_env.entry(v.key).or_insert(v.value);
                            }
                        }
                        Err(e) => self.error(
                            tree::with_file(
                                Pos {
                                    line: e.line,
                                    col: 1,
                                    offset: 0,
                                },
                                id,
                            ),
                            e.message,
                            None,
                        ),
                    }
                }
            }
            let mut acc: Option<Node> = None;
            for f in &files {
                if !self.fs.is_file(f) {
                    self.error(
                        item.pos,
                        format!("open {}: no such file or directory", f.display()),
                        None,
                    );
                    continue;
                }
                let Some(m) = self.load_file(f, &sub_env, &mut Vec::new()) else {
                    continue;
                };
                let mut n = m.root;
                rebase_all(&mut n, f.parent().unwrap_or(Path::new("")), dir);
                acc = Some(match acc {
                    None => n,
                    Some(a) => merge::merge(a, n, &[]),
                });
            }
            let Some(included) = acc else { continue };
            for section in ["services", "volumes", "networks", "secrets", "configs"] {
                for (k, v) in included.get(section).map(entries).unwrap_or(&[]).to_vec() {
                    if root.get(section).is_none() {
                        set(root, section, Node::new(Value::Map(Vec::new()), item.pos));
                    }
                    let target = get_mut(root, section).unwrap();
                    if matches!(target.value, Value::Null) {
                        target.value = Value::Map(Vec::new());
                    }
                    if let Some(existing) = target.get(&k.name) {
                        if existing.to_json() != v.to_json() {
                            let pos = existing.pos;
                            self.error(
                                pos,
                                format!("{section}.{} conflicts with imported resource", k.name),
                                Some("rename one of them, or remove it from one file"),
                            );
                        }
                        continue;
                    }
                    if let Value::Map(e) = &mut target.value {
                        e.push((k, v));
                    }
                }
            }
        }
    }
}

/// Relative paths of a service from a file in another directory, made relative to the project.
fn rebase(svc: &mut Node, rel: &Path) {
    if rel.as_os_str().is_empty() {
        return;
    }
    let fix = |s: &mut String| {
        if !s.starts_with('/') && !s.starts_with('~') {
            *s = clean_join(rel, s);
        }
    };
    if let Some(b) = get_mut(svc, "build")
        && let Some(c) = get_mut(b, "context")
        && let Value::Str(s) = &mut c.value
        && !s.contains("://")
    {
        fix(s);
    }
    if let Some(Value::Seq(vols)) = get_mut(svc, "volumes").map(|v| &mut v.value) {
        for v in vols {
            if text_at(v, "type").as_deref() == Some("bind")
                && let Some(src) = get_mut(v, "source")
                && let Value::Str(s) = &mut src.value
            {
                fix(s);
            }
        }
    }
}

/// `rel/s` without `.` segments, and `..` folded where it can be (as Go's `path.Join`).
fn clean_join(rel: &Path, s: &str) -> String {
    let joined = format!("{}/{}", rel.to_string_lossy(), s);
    let abs = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            seg => parts.push(seg),
        }
    }
    let body = parts.join("/");
    match (abs, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

fn rebase_all(root: &mut Node, from: &Path, to: &Path) {
    let rel = from
        .strip_prefix(to)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| from.to_path_buf());
    if let Some(Value::Map(list)) = get_mut(root, "services").map(|s| &mut s.value) {
        for (_, svc) in list {
            rebase(svc, &rel);
        }
    }
}

fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        _ => e.to_string(),
    }
}

fn suggest(given: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (edit_distance(given, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

fn edit_distance(a: &str, b: &str) -> usize {
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

/// `docker compose`'s default project name for a directory.
pub fn project_name(dir: &Path) -> String {
    let base = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|f| f.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".into());
    base.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Loads a project. Errors are everything compose would refuse, all together.
pub fn load(opts: &Options, fs: &dyn Files) -> Result<Project, LoadErrors> {
    let mut ld = Loader {
        fs,
        files: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        unset: BTreeSet::new(),
    };
    let dir0 = opts
        .project_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let compose_files = if opts.files.is_empty() {
        match find_files(&dir0, fs) {
            Some(f) => f,
            None => {
                return Err(LoadErrors(vec![Diag {
                    file: Some(dir0.clone()),
                    line: 0,
                    col: 0,
                    message: "no configuration file provided: not found".into(),
                    help: Some(format!(
                        "expected one of {} in {}",
                        DEFAULT_FILES.join(", "),
                        dir0.display()
                    )),
                }]));
            }
        }
    } else {
        opts.files.clone()
    };
    let dir = opts.project_dir.clone().unwrap_or_else(|| {
        compose_files[0]
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    });
    // The interpolation environment: .env (or --env-file), then the process environment wins.
    let mut env = opts.environment.clone();
    let env_paths: Vec<PathBuf> = if opts.env_files.is_empty() {
        let p = dir.join(".env");
        if fs.is_file(&p) { vec![p] } else { Vec::new() }
    } else {
        opts.env_files.clone()
    };
    for p in env_paths {
        match fs.read(&p) {
            Ok(src) => {
                let id = ld.add_file(&p);
                let so_far = env.clone();
                match dotenv::parse(&src, &|k| so_far.get(k).cloned()) {
                    Ok(vars) => {
                        for v in vars {
                            env.entry(v.key).or_insert(v.value);
                        }
                    }
                    Err(e) => ld.error(
                        tree::with_file(
                            Pos {
                                line: e.line,
                                col: 1,
                                offset: 0,
                            },
                            id,
                        ),
                        format!("failed to read {}: {}", p.display(), e.message),
                        None,
                    ),
                }
            }
            Err(e) => ld.file_error(
                &p,
                format!("couldn't find env file {}: {}", p.display(), io_text(&e)),
            ),
        }
    }
    let mut acc: Option<Node> = None;
    for f in &compose_files {
        let Some(m) = ld.load_file(f, &env, &mut Vec::new()) else {
            continue;
        };
        let mut n = m.root;
        acc = Some(match acc {
            None => {
                for (p, tag) in &m.tagged {
                    if tag == "!reset" {
                        merge::delete_path(&mut n, p);
                    }
                }
                n
            }
            Some(mut a) => {
                for (p, tag) in &m.tagged {
                    merge::delete_path(&mut a, p);
                    if tag == "!reset" {
                        merge::delete_path(&mut n, p);
                    }
                }
                merge::merge(a, n, &[])
            }
        });
    }
    if !ld.errors.is_empty() {
        return Err(LoadErrors(ld.errors));
    }
    let mut model = acc.unwrap_or_else(|| Node::new(Value::Map(Vec::new()), Pos::default()));
    let name = text_at(&model, "name")
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| project_name(&dir));
    // Profiles.
    let profiles: BTreeSet<String> = if opts.profiles.is_empty() {
        env.get("COMPOSE_PROFILES")
            .map(|p| {
                p.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    } else {
        opts.profiles
            .iter()
            .flat_map(|p| p.split(','))
            .map(|s| s.trim().to_owned())
            .collect()
    };
    let mut disabled = Vec::new();
    if let Some(services) = get_mut(&mut model, "services") {
        if matches!(services.value, Value::Null) {
            services.value = Value::Map(Vec::new());
        }
        if let Value::Map(list) = &mut services.value {
            list.retain(|(k, s)| {
                let own: Vec<String> = s
                    .get("profiles")
                    .map(tree::items)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(text)
                    .collect();
                let on = own.is_empty()
                    || profiles.contains("*")
                    || own.iter().any(|p| profiles.contains(p));
                if !on {
                    disabled.push((k.name.clone(), own));
                }
                on
            });
        }
    } else {
        ld.file_error(&compose_files[0], "no services defined");
    }
    let mut env_names = BTreeSet::new();
    finish_services(&mut ld, &mut model, &env, &mut env_names);
    if !ld.errors.is_empty() {
        return Err(LoadErrors(ld.errors));
    }
    Ok(Project {
        name,
        dir,
        files: ld.files,
        compose_files,
        model,
        disabled,
        warnings: ld.warnings,
        env_names,
    })
}

/// After the merge: implicit dependencies, dependency checks, `env_file` + `environment`.
fn finish_services(
    ld: &mut Loader<'_>,
    model: &mut Node,
    env: &BTreeMap<String, String>,
    env_names: &mut BTreeSet<String>,
) {
    let names: Vec<String> = model
        .get("services")
        .map(entries)
        .unwrap_or(&[])
        .iter()
        .map(|(k, _)| k.name.clone())
        .collect();
    let Some(Value::Map(list)) = get_mut(model, "services").map(|s| &mut s.value) else {
        return;
    };
    for (k, svc) in list.iter_mut() {
        let sname = k.name.clone();
        if svc.get("image").is_none() && svc.get("build").is_none() && svc.get("provider").is_none()
        {
            ld.error(
                k.pos,
                format!("service \"{sname}\" has neither an image nor a build context specified: invalid compose project"),
                Some("add `image:` (or `build:`)"),
            );
        }
        // Implicit dependencies, as compose-go adds them.
        let mut implied: Vec<(String, Pos, bool)> = Vec::new();
        for l in svc.get("links").map(tree::items).unwrap_or(&[]) {
            if let Some(t) = text(l) {
                implied.push((t.split(':').next().unwrap_or("").to_owned(), l.pos, true));
            }
        }
        for f in ["network_mode", "ipc", "pid"] {
            if let Some(n) = svc.get(f)
                && let Some(t) = text(n)
                && let Some(s) = t.strip_prefix("service:")
            {
                implied.push((s.to_owned(), n.pos, true));
            }
        }
        for v in svc.get("volumes_from").map(tree::items).unwrap_or(&[]) {
            if let Some(t) = text(v)
                && !t.starts_with("container:")
            {
                implied.push((t.split(':').next().unwrap_or("").to_owned(), v.pos, false));
            }
        }
        if !implied.is_empty() {
            if svc.get("depends_on").is_none() {
                let pos = implied[0].1;
                set(svc, "depends_on", Node::new(Value::Map(Vec::new()), pos));
            }
            let deps = get_mut(svc, "depends_on").unwrap();
            for (name, pos, restart) in implied {
                if deps.get(&name).is_none()
                    && let Value::Map(e) = &mut deps.value
                {
                    let mut d = vec![(key("condition", pos), str_node("service_started", pos))];
                    if restart {
                        d.push((key("restart", pos), Node::new(Value::Bool(true), pos)));
                    }
                    d.push((key("required", pos), Node::new(Value::Bool(true), pos)));
                    e.push((key(name, pos), Node::new(Value::Map(d), pos)));
                }
            }
        }
        if let Some(deps) = get_mut(svc, "depends_on")
            && let Value::Map(e) = &mut deps.value
        {
            let mut keep = Vec::new();
            for (dk, dv) in std::mem::take(e) {
                if names.contains(&dk.name) {
                    keep.push((dk, dv));
                } else if matches!(
                    dv.get("required").map(|r| &r.value),
                    Some(Value::Bool(false))
                ) {
                    let d = ld.diag(dk.pos, format!("service \"{sname}\" depends on undefined service \"{}\" (not required: ignored)", dk.name));
                    ld.warnings.push(d);
                } else {
                    ld.error(
                        dk.pos,
                        format!("service \"{sname}\" depends on undefined service \"{}\": invalid compose project", dk.name),
                        Some("define that service, enable its profile, or remove the dependency"),
                    );
                }
            }
            *e = keep;
        }
        // env_file first, environment on top; bare names from the environment.
        let mut vars: Vec<(berth_yaml::Key, Node)> = Vec::new();
        if let Some(files) = remove(svc, "env_file") {
            for f in tree::items(&files) {
                let path = PathBuf::from(text_at(f, "path").unwrap_or_default());
                let required = !matches!(
                    f.get("required").map(|r| &r.value),
                    Some(Value::Bool(false))
                );
                match ld.fs.read(&path) {
                    Ok(src) => {
                        let id = ld.add_file(&path);
                        let so_far: BTreeMap<String, String> = vars
                            .iter()
                            .filter_map(|(k, v)| v.as_str().map(|s| (k.name.clone(), s.to_owned())))
                            .collect();
                        let lookup = |k: &str| so_far.get(k).cloned().or_else(|| env.get(k).cloned());
                        match dotenv::parse(&src, &lookup) {
                            Ok(lines) => {
                                for l in lines {
                                    let pos = tree::with_file(Pos { line: l.line, col: 1, offset: 0 }, id);
                                    vars.retain(|(k, _)| k.name != l.key);
                                    vars.push((key(l.key, pos), str_node(l.value, pos)));
                                }
                            }
                            Err(e) => ld.error(
                                tree::with_file(Pos { line: e.line, col: 1, offset: 0 }, id),
                                format!("failed to read {}: {}", path.display(), e.message),
                                None,
                            ),
                        }
                    }
                    Err(_) if !required => {}
                    Err(e) => ld.error(
                        f.get("path").map(|p| p.pos).unwrap_or(f.pos),
                        format!("env file {} not found: stat {}: {}", path.display(), path.display(), io_text(&e)),
                        Some("create the file, or mark it optional: env_file: [{ path: FILE, required: false }]"),
                    ),
                }
            }
        }
        if let Some(environment) = svc.get("environment") {
            for (k, v) in entries(environment) {
                let v = match &v.value {
                    Value::Null => match env.get(&k.name) {
                        Some(val) => {
                            env_names.insert(k.name.clone());
                            str_node(val.clone(), v.pos)
                        }
                        None => v.clone(),
                    },
                    _ => v.clone(),
                };
                vars.retain(|(x, _)| x.name != k.name);
                vars.push((k.clone(), v));
            }
        }
        if !vars.is_empty() || svc.get("environment").is_some() {
            let pos = svc.get("environment").map(|e| e.pos).unwrap_or(svc.pos);
            set(svc, "environment", Node::new(Value::Map(vars), pos));
        }
    }
}
