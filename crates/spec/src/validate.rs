//! Checks that need the whole (merged) spec: names, references, cycles, clashes, images.
//! Every problem is collected, not just the first.

use crate::de::suggest;
use crate::error::{Source, SpecError};
use crate::model::{Environment, Spec, Tier};
use crate::resolve::{image_ref, service_registry, tier_of};
use berth_yaml::Node;
use std::collections::{HashMap, HashSet};

pub(crate) struct Ctx<'a> {
    pub source: &'a Source,
    /// The merged spec of this environment.
    pub root: &'a Node,
    /// The environment's own node (settings and overrides), when it has one.
    pub env_root: Option<&'a Node>,
    pub env: &'a str,
}

impl Ctx<'_> {
    /// An error at the node of `path` in the merged spec (or its nearest ancestor that exists).
    pub(crate) fn err(
        &self,
        path: &[&str],
        message: impl Into<String>,
        help: Option<String>,
    ) -> SpecError {
        let mut node = self.root;
        for seg in path {
            match node.at_path([*seg]) {
                Some(child) => node = child,
                None => break,
            }
        }
        SpecError::new(self.source, node.pos, display_path(path), message, help)
    }

    /// An error about a mapping key itself (a path, a name), at the key's position; `path`
    /// ends with the key.
    pub(crate) fn key_at(
        &self,
        path: &[&str],
        message: impl Into<String>,
        help: Option<String>,
    ) -> SpecError {
        let (parent, key) = path.split_at(path.len().saturating_sub(1));
        let pos = self
            .root
            .at_path(parent.iter().copied())
            .and_then(|n| key_pos(n, key.first().copied().unwrap_or_default()));
        match pos {
            Some(pos) => SpecError::new(self.source, pos, display_path(path), message, help),
            None => self.err(path, message, help),
        }
    }

    /// An error about key `sub` of the environment setting `key` (a mapping), at that key.
    pub(crate) fn env_key_err(
        &self,
        key: &str,
        sub: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> SpecError {
        match self
            .env_root
            .and_then(|n| n.get(key))
            .and_then(|n| key_pos(n, sub))
        {
            Some(pos) => SpecError::new(
                self.source,
                pos,
                format!("environments.{}.{key}.{sub}", self.env),
                message,
                help,
            ),
            None => self.env_err(key, message, help),
        }
    }

    /// An error about an environment setting, at its node.
    pub(crate) fn env_err(
        &self,
        key: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> SpecError {
        let node = self
            .env_root
            .and_then(|n| n.get(key))
            .or(self.env_root)
            .unwrap_or(self.root);
        SpecError::new(
            self.source,
            node.pos,
            format!("environments.{}.{key}", self.env),
            message,
            help,
        )
    }

    /// A mapping key's own position (for errors about a name).
    pub(crate) fn key_err(
        &self,
        section: &str,
        name: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> SpecError {
        let pos = self
            .root
            .get(section)
            .and_then(|n| match &n.value {
                berth_yaml::Value::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.name == name)
                    .map(|(k, _)| k.pos),
                _ => None,
            })
            .unwrap_or(self.root.pos);
        SpecError::new(self.source, pos, format!("{section}.{name}"), message, help)
    }
}

fn key_pos(map: &Node, key: &str) -> Option<berth_yaml::Pos> {
    match &map.value {
        berth_yaml::Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, _)| k.pos),
        _ => None,
    }
}

fn display_path(path: &[&str]) -> String {
    let mut out = String::new();
    for seg in path {
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// A DNS-1123 label: lowercase alphanumerics and `-`, starting and ending alphanumeric, ≤ 63.
pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Longest service or dependency name: derived names (`NAME-secrets`, `NAME-files`) must stay
/// DNS labels too.
pub(crate) const MAX_NAME_LEN: usize = 50;

/// A name that becomes a Service: a DNS-1035 label (starts with a letter), short enough for
/// the names derived from it.
pub(crate) fn is_object_name(s: &str) -> bool {
    is_dns_label(s) && s.len() <= MAX_NAME_LEN && s.starts_with(|c: char| c.is_ascii_lowercase())
}

fn name_hint(s: &str) -> String {
    if is_dns_label(s) && s.len() > MAX_NAME_LEN {
        return format!(
            "shorten it to at most {MAX_NAME_LEN} characters (berth derives longer names from it)"
        );
    }
    if is_dns_label(s) {
        return format!("start it with a letter, e.g. `s{s}`");
    }
    dns_label_hint(s)
}

fn dns_label_hint(s: &str) -> String {
    let fixed: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let fixed = fixed.trim_matches('-');
    let fixed = &fixed[..fixed.len().min(63)];
    format!("use lowercase letters, digits and `-` (at most 63), e.g. `{fixed}`")
}

/// An environment variable name Kubernetes accepts (C identifier, which is also what shells accept).
pub(crate) fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(crate) fn validate(ctx: &Ctx, spec: &Spec, env: &Environment) -> Result<(), Vec<SpecError>> {
    let mut errors = Vec::new();
    let tier = tier_of(ctx.env, env);

    if !is_dns_label(&spec.app) {
        errors.push(ctx.err(
            &["app"],
            format!("app name `{}` is not a DNS-1123 label", spec.app),
            Some(dns_label_hint(&spec.app)),
        ));
    }
    if !is_dns_label(ctx.env) && ctx.env != "default" {
        errors.push(ctx.env_err(
            "",
            format!("environment name `{}` is not a DNS-1123 label", ctx.env),
            Some(dns_label_hint(ctx.env)),
        ));
    }
    if let Some(ns) = &env.namespace
        && !is_dns_label(ns)
    {
        errors.push(ctx.env_err(
            "namespace",
            format!("namespace `{ns}` is not a DNS-1123 label"),
            Some(dns_label_hint(ns)),
        ));
    }
    if env.namespace.is_none() && ctx.env != "default" {
        let ns = crate::resolve::default_namespace(&spec.app, ctx);
        if is_dns_label(&spec.app) && !is_dns_label(&ns) {
            errors.push(ctx.env_err(
                "",
                format!("the default namespace `{ns}` is longer than 63 characters"),
                Some("set `namespace:` for this environment".into()),
            ));
        }
    }
    if env.replicas == Some(0) {
        errors.push(ctx.env_err("replicas", "replicas must be at least 1", None));
    }
    if spec.services.is_empty() {
        errors.push(ctx.err(
            &["services"],
            "the spec defines no services",
            Some("add a `services:` mapping with at least one service".into()),
        ));
    }

    let service_names: Vec<&str> = spec.services.keys().map(String::as_str).collect();
    let dependency_names: Vec<&str> = spec.dependencies.keys().map(String::as_str).collect();
    let all_targets: Vec<&str> = service_names
        .iter()
        .chain(&dependency_names)
        .copied()
        .collect();

    for name in spec.dependencies.keys() {
        if !is_object_name(name) {
            errors.push(ctx.key_err(
                "dependencies",
                name,
                format!("dependency name `{name}` is not a DNS-1035 label of at most {MAX_NAME_LEN} characters"),
                Some(name_hint(name)),
            ));
        }
        if service_names.contains(&name.as_str()) {
            errors.push(ctx.key_err(
                "dependencies",
                name,
                format!("`{name}` is both a service and a dependency"),
                Some("rename one of them; both become a Service object of that name".into()),
            ));
        }
        // Type, mode, host and port: crate::dependency::postgres::resolve_dependencies.
    }

    let mut exposed: HashMap<(String, String), &str> = HashMap::new();
    for (name, svc) in &spec.services {
        let at = |rest: &[&str]| -> Vec<String> {
            let mut v = vec!["services".to_owned(), name.clone()];
            v.extend(rest.iter().map(|s| s.to_string()));
            v
        };
        let err = |rest: &[&str], msg: String, help: Option<String>| {
            let p = at(rest);
            let refs: Vec<&str> = p.iter().map(String::as_str).collect();
            ctx.err(&refs, msg, help)
        };
        if !is_object_name(name) {
            errors.push(ctx.key_err(
                "services",
                name,
                format!("service name `{name}` is not a DNS-1035 label of at most {MAX_NAME_LEN} characters"),
                Some(name_hint(name)),
            ));
        }
        match &svc.image {
            None => errors.push(err(&[], format!("service `{name}` has no `image`"), Some("add `image: NAME` (resolved against `registry` and `version`) or a full reference".into()))),
            Some(image) => {
                let resolved = image_ref(image, service_registry(spec, svc), spec.version.as_deref());
                if image.trim().is_empty() || image.contains(char::is_whitespace) {
                    errors.push(err(&["image"], format!("`{image}` is not an image reference"), None));
                } else if tier != Tier::Dev && (resolved.tag.is_none() && resolved.digest.is_none()) {
                    errors.push(err(
                        &["image"],
                        format!("image `{image}` has no tag, and the spec sets no `version` (environment `{}` is {})", ctx.env, tier.as_str()),
                        Some("pin it: `image: NAME:TAG`, or set `version:` for all images; untagged images are allowed only in dev".into()),
                    ));
                } else if tier != Tier::Dev && resolved.tag.as_deref() == Some("latest") && resolved.digest.is_none() {
                    errors.push(err(&["image"], format!("image `{image}` uses the `latest` tag (environment `{}` is {})", ctx.env, tier.as_str()), Some("pin a version tag or a digest; `latest` is allowed only in dev".into())));
                }
            }
        }
        if let Some(expose) = &svc.expose {
            // Missing ports and hosts are reported when the exposure resolves (`expose.rs`).
            match &expose.host {
                None => {}
                Some(host) => {
                    let valid = !host.is_empty()
                        && host.len() <= 253
                        && host.trim_start_matches("*.").split('.').all(is_dns_label);
                    if !valid {
                        errors.push(err(
                            &["expose", "host"],
                            format!("`{host}` is not a valid host name"),
                            Some("lowercase DNS name such as `app.example.com`".into()),
                        ));
                    }
                    let path = expose.path.clone().unwrap_or_else(|| "/".into());
                    if !path.starts_with('/') {
                        errors.push(err(
                            &["expose", "path"],
                            format!("path `{path}` must start with `/`"),
                            None,
                        ));
                    }
                    if let Some(other) = exposed.insert((host.clone(), path.clone()), name) {
                        errors.push(err(
                            &["expose", "host"],
                            format!("`{name}` and `{other}` are both exposed on {host}{path}"),
                            Some("give one of them another `host` or `path`".into()),
                        ));
                    }
                }
            }
        }
        for (i, used) in svc.uses.iter().flatten().enumerate() {
            let idx = i.to_string();
            if used == name {
                errors.push(err(
                    &["uses", &idx],
                    format!("`{name}` uses itself"),
                    Some("remove it from `uses`".into()),
                ));
            } else if let Some((dep, db)) = used.split_once('/')
                && spec.dependencies.contains_key(dep)
            {
                let d = &spec.dependencies[dep];
                let dbs = d.databases.clone().unwrap_or_else(|| {
                    vec![crate::dependency::postgres::default_database(&spec.app)]
                });
                if !dbs.iter().any(|x| x == db) {
                    errors.push(err(
                        &["uses", &idx],
                        format!("`{name}` uses `{used}`, but `{dep}` has no database `{db}`"),
                        Some(format!(
                            "one of: {}",
                            dbs.iter()
                                .map(|x| format!("`{dep}/{x}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    ));
                }
            } else if !all_targets.contains(&used.as_str()) {
                errors.push(err(
                    &["uses", &idx],
                    format!("`{name}` uses `{used}`, which is neither a service nor a dependency"),
                    Some(suggest(used, &all_targets)),
                ));
            } else if spec
                .services
                .get(used)
                .is_some_and(|u| !crate::ports::has_ports(u))
            {
                errors.push(err(
                    &["uses", &idx],
                    format!("`{name}` uses `{used}`, which has no `port` to call"),
                    Some(format!(
                        "give `{used}` a `port`, or remove it from `uses` (workers are not called)"
                    )),
                ));
            }
        }
        for (key, _) in svc.env.iter().flatten() {
            if !is_env_name(key) {
                errors.push(err(
                    &["env", key],
                    format!("`{key}` is not a valid environment variable name"),
                    Some("use letters, digits and `_`, not starting with a digit".into()),
                ));
            }
        }
        for (i, secret) in svc.secrets.iter().flatten().enumerate() {
            if !is_env_name(secret) {
                errors.push(err(
                    &["secrets", &i.to_string()],
                    format!("`{secret}` is not a valid environment variable name"),
                    Some("use letters, digits and `_`, not starting with a digit".into()),
                ));
            }
            if svc.env.as_ref().is_some_and(|e| e.contains_key(secret)) {
                errors.push(err(
                    &["secrets", &i.to_string()],
                    format!("`{secret}` is both in `env` and in `secrets`"),
                    Some(
                        "keep it only under `secrets`; its value must not live in the spec".into(),
                    ),
                ));
            }
        }
        if let Some(scale) = &svc.scale {
            let min = scale.min.unwrap_or(2);
            match scale.max {
                None => errors.push(err(
                    &["scale"],
                    "missing required key `max`".into(),
                    Some(format!("e.g. `max: {}`", (min * 3).max(2))),
                )),
                Some(max) if min > max => errors.push(err(
                    &["scale", "min"],
                    format!("scale.min ({min}) is greater than scale.max ({max})"),
                    Some(format!("set `min` to at most {max}, or raise `max`")),
                )),
                _ => {}
            }
            if scale.min == Some(0) {
                errors.push(err(
                    &["scale", "min"],
                    "scale.min must be at least 1".into(),
                    None,
                ));
            }
            if scale.cpu.is_none()
                && scale.memory.is_none()
                && scale.metrics.as_ref().is_none_or(Vec::is_empty)
            {
                errors.push(err(
                    &["scale"],
                    "autoscaling needs a target: `cpu: 70%`, `memory: 80%` and/or `metrics:`"
                        .into(),
                    None,
                ));
            }
        }
        if svc.replicas == Some(0) {
            errors.push(err(
                &["replicas"],
                "replicas must be at least 1".into(),
                Some("remove the service instead, or scale it at deploy time".into()),
            ));
        }
        crate::storage::validate(ctx, name, svc, &mut errors);
        crate::containers::validate(ctx, name, svc, tier == Tier::Dev, &mut errors);
        if let Some(mount) = svc.config.as_ref().and_then(|c| c.mount.as_ref())
            && !mount.starts_with('/')
        {
            errors.push(err(
                &["config", "mount"],
                format!("mount path `{mount}` must be absolute"),
                None,
            ));
        }
        if svc.user == Some(0) {
            errors.push(err(
                &["user"],
                "user 0 is root; berth runs containers as non-root".into(),
                Some("pick a UID above 1000, e.g. 10001".into()),
            ));
        }
    }

    crate::storage::validate_env(ctx, env, &mut errors);
    let default_ns = env
        .namespace
        .clone()
        .unwrap_or_else(|| crate::resolve::default_namespace(&spec.app, ctx));
    crate::placement::validate(ctx, spec, env, &default_ns, &mut errors);

    if let Some(cycle) = find_cycle(spec) {
        let first = &cycle[0];
        let next = &cycle[1 % cycle.len()];
        let idx = spec.services[first]
            .uses
            .iter()
            .flatten()
            .position(|u| u == next)
            .unwrap_or(0)
            .to_string();
        errors.push(ctx.err(
            &["services", first, "uses", &idx],
            format!(
                "services use each other in a cycle: {} → {}",
                cycle.join(" → "),
                first
            ),
            Some("a cycle means no service can start first; remove one of these `uses`".into()),
        ));
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A cycle in the services' `uses` graph, as the services on it in order.
fn find_cycle(spec: &Spec) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        spec: &Spec,
        name: &str,
        marks: &mut HashMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(name) {
            Some(Mark::Done) => return None,
            Some(Mark::Visiting) => {
                let start = stack.iter().position(|s| s == name).unwrap_or(0);
                return Some(stack[start..].to_vec());
            }
            None => {}
        }
        marks.insert(name.to_owned(), Mark::Visiting);
        stack.push(name.to_owned());
        if let Some(svc) = spec.services.get(name) {
            for used in svc.uses.iter().flatten() {
                if used != name
                    && spec.services.contains_key(used)
                    && let Some(c) = visit(spec, used, marks, stack)
                {
                    return Some(c);
                }
            }
        }
        stack.pop();
        marks.insert(name.to_owned(), Mark::Done);
        None
    }
    let mut marks = HashMap::new();
    let mut seen = HashSet::new();
    for name in spec.services.keys() {
        if seen.insert(name) {
            let mut stack = Vec::new();
            if let Some(c) = visit(spec, name, &mut marks, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}
