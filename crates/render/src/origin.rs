//! Provenance: where every field of a rendered object came from (`berth explain`).
//!
//! The renderer records origins while it builds, next to the code that sets the value: each
//! object gets the rule of the module that built it at its root (`""`), and more specific
//! origins on the fields that module (or the pod builder) takes from the spec, from a
//! documented default or from a rule of its own. A field's origin is the one recorded at the
//! longest JSON-pointer prefix of its path, so a whole subtree (a hardened securityContext, a
//! label set) is one record. Spec origins name spec paths only; the loader
//! ([`berth_spec::Loaded::locate`]) turns them into file, line, column and layer (base or
//! environment override), so rendering stays IO-free and position-free.

use crate::Object;
use std::cell::Cell;
use std::collections::BTreeMap;

thread_local! {
    /// Off while [`crate::render`] runs: only [`crate::render_traced`] wants the origins, and
    /// recording them is about half of a render's work (allocations, mostly).
    static RECORDING: Cell<bool> = const { Cell::new(true) };
}

fn recording() -> bool {
    RECORDING.with(Cell::get)
}

/// Runs `f` with origin recording off on this thread: [`ObjectOrigins`] and the render's
/// [`Provenance`] stay empty. The previous state comes back afterwards, also on a panic.
pub(crate) fn untraced<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            RECORDING.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(RECORDING.with(|r| r.replace(false)));
    f()
}

/// A path in berth.yaml, one segment per key or list index (`services.backend.resources.cpu`).
pub type SpecPath = Vec<String>;

/// `spec_path("services", &["backend", "port"])`-style helper: segments to a [`SpecPath`].
pub fn spec_path<S: AsRef<str>>(segments: &[S]) -> SpecPath {
    segments.iter().map(|s| s.as_ref().to_owned()).collect()
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Written in berth.yaml: the first of `paths` the spec sets (an environment's own setting
    /// is listed before the service's); when it sets none of them, `otherwise`.
    Spec {
        paths: Vec<SpecPath>,
        otherwise: Option<Box<Origin>>,
    },
    /// A documented default: the value, and the docs section that states it.
    Default { value: String, doc: &'static str },
    /// Derived by a rule of the renderer, from these spec paths (those the spec sets).
    Rule {
        rule: String,
        doc: &'static str,
        from: Vec<SpecPath>,
    },
}

/// Docs sections origins point at.
pub mod docs {
    pub const SERVICES: &str = "docs/spec.md#services";
    pub const ENVIRONMENTS: &str = "docs/spec.md#environments";
    pub const RENDERS: &str = "docs/spec.md#what-each-environment-renders";
    pub const HEALTH: &str = "docs/spec.md#health-checks";
    pub const PORTS: &str = "docs/spec.md#ports-and-protocols";
    pub const EXPOSURE: &str = "docs/spec.md#exposure";
    pub const IMAGES: &str = "docs/spec.md#images";
    pub const CONNECTIONS: &str = "docs/spec.md#connection-variables";
    pub const STORAGE: &str = "docs/spec.md#storage-statefulsets";
    pub const NAMESPACES: &str = "docs/spec.md#several-namespaces";
    pub const DEPENDENCIES: &str = "docs/dependencies.md";
    pub const SECRETS: &str = "docs/secrets.md";
    pub const DAPR: &str = "docs/spec.md#dapr";
    pub const CONFIG_SYNC: &str = "docs/config-sync.md";
    pub const OPERATE: &str = "docs/operate.md";
}

impl Origin {
    /// Set at `path` in the spec, else the documented default `value`.
    pub fn spec_or_default(path: SpecPath, value: impl Into<String>, doc: &'static str) -> Origin {
        Origin::Spec {
            paths: vec![path],
            otherwise: Some(Box::new(Origin::Default {
                value: value.into(),
                doc,
            })),
        }
    }

    /// Written at `path` (and nowhere else).
    pub fn spec(path: SpecPath) -> Origin {
        Origin::Spec {
            paths: vec![path],
            otherwise: None,
        }
    }

    /// Derived by `rule` (documented at `doc`) from `from`.
    pub fn rule(rule: impl Into<String>, doc: &'static str, from: Vec<SpecPath>) -> Origin {
        Origin::Rule {
            rule: rule.into(),
            doc,
            from,
        }
    }
}

/// The origins of one object's fields, by JSON pointer (RFC 6901) into its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectOrigins {
    by_pointer: BTreeMap<String, Origin>,
}

impl ObjectOrigins {
    /// Records `origin` for the field (or subtree) at `pointer`; a later record wins.
    pub fn set(&mut self, pointer: impl Into<String>, origin: Origin) -> &mut Self {
        if recording() {
            self.by_pointer.insert(pointer.into(), origin);
        }
        self
    }

    /// Records `origin` at `pointer` unless something more specific was recorded there already.
    pub fn set_default(&mut self, pointer: impl Into<String>, origin: Origin) -> &mut Self {
        if recording() {
            self.by_pointer.entry(pointer.into()).or_insert(origin);
        }
        self
    }

    /// Every record of `other`, under `prefix` (a pod template's records under
    /// `/spec/template`).
    pub fn nest(&mut self, prefix: &str, other: ObjectOrigins) -> &mut Self {
        for (p, o) in other.by_pointer {
            self.by_pointer.insert(format!("{prefix}{p}"), o);
        }
        self
    }

    /// The origin of the field at `pointer`: the record at its longest recorded prefix, with
    /// that prefix.
    pub fn lookup(&self, pointer: &str) -> Option<(&str, &Origin)> {
        let mut p = pointer;
        loop {
            if let Some((k, o)) = self.by_pointer.get_key_value(p) {
                return Some((k.as_str(), o));
            }
            if p.is_empty() {
                return None;
            }
            p = &p[..p.rfind('/').unwrap_or(0)];
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_pointer.is_empty()
    }
}

/// An object's identity in a render.
pub type ObjectKey = (String, Option<String>, String);

/// The origins of every object of a render.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    objects: BTreeMap<ObjectKey, ObjectOrigins>,
}

/// The rule origin the fallback gives an object no module claimed: the walk test refuses it,
/// so an object added without recording its origins fails a test instead of passing silently.
pub const UNCLAIMED: &str = "built outside a recording module";

impl Provenance {
    pub fn key(o: &Object) -> ObjectKey {
        (o.kind.clone(), o.namespace.clone(), o.name.clone())
    }

    pub fn of(&self, o: &Object) -> Option<&ObjectOrigins> {
        self.objects.get(&Provenance::key(o))
    }

    /// The origin of the field at `pointer` of `o`.
    pub fn lookup<'a>(&'a self, o: &Object, pointer: &str) -> Option<(&'a str, &'a Origin)> {
        self.of(o)?.lookup(pointer)
    }

    /// Records `origins` (on top of what `o` already has).
    pub fn add(&mut self, o: &Object, mut origins: ObjectOrigins) {
        let entry = self.objects.entry(Provenance::key(o)).or_default();
        if entry.by_pointer.is_empty() {
            // The usual case (a module's records of the object it just built): moved whole.
            *entry = origins;
        } else {
            entry.by_pointer.append(&mut origins.by_pointer);
        }
    }

    /// `o` was built by `rule` (its root origin), unless already claimed.
    pub fn claim(&mut self, o: &Object, rule: Origin) {
        let entry = self.objects.entry(Provenance::key(o)).or_default();
        entry.by_pointer.entry(String::new()).or_insert(rule);
    }
}

/// Records as [`crate::render`] pushes: every object pushed since the last call belongs to one
/// module.
#[derive(Debug, Default)]
pub(crate) struct Tracer {
    seen: usize,
    pub(crate) table: Provenance,
}

impl Tracer {
    /// The objects pushed since the last call were built by the module `rule` names.
    pub(crate) fn took(&mut self, objects: &[Object], rule: Origin) {
        if recording() {
            for o in &objects[self.seen..] {
                self.table.claim(o, rule.clone());
            }
        }
        self.seen = objects.len();
    }

    /// The last object pushed, with the field origins its module recorded.
    pub(crate) fn took_one(&mut self, objects: &[Object], origins: ObjectOrigins, rule: Origin) {
        if recording()
            && let Some(o) = objects.last()
        {
            self.table.add(o, origins);
        }
        self.took(objects, rule);
    }
}

/// Escapes a key for a JSON pointer segment.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The origins of a service object's metadata (`service_meta`): its name is the service's key,
/// its namespace the environment's (or the service's group's), its labels berth's.
pub(crate) fn service_meta(
    o: &mut ObjectOrigins,
    app: &berth_spec::App,
    svc: &berth_spec::ResolvedService,
    named_by_service: bool,
) {
    let s = |rest: &[&str]| {
        let mut p = spec_path(&["services", svc.name.as_str()]);
        p.extend(rest.iter().map(|r| (*r).to_owned()));
        p
    };
    o.set(
        "/metadata/name",
        if named_by_service {
            Origin::spec(s(&[]))
        } else {
            Origin::rule("named after the service", docs::RENDERS, vec![s(&[])])
        },
    );
    o.set(
        "/metadata/namespace",
        namespace(app, svc.namespace_group.as_deref()),
    );
    o.set(
        "/metadata/labels",
        Origin::rule(
            "berth's app.kubernetes.io/* labels: the service's name, the app, the image tag or version",
            docs::RENDERS,
            vec![s(&[]), spec_path(&["app"]), s(&["image"]), spec_path(&["version"])],
        ),
    );
}

/// A service's replica count: the environment's `replicas`, else the autoscaler's minimum, else
/// the service's `replicas`, else 2.
pub(crate) fn replicas(app: &berth_spec::App, svc: &berth_spec::ResolvedService) -> Origin {
    let s = |k: &[&str]| {
        let mut p = spec_path(&["services", svc.name.as_str()]);
        p.extend(k.iter().map(|r| (*r).to_owned()));
        p
    };
    let paths = if svc.autoscale.is_some() {
        vec![s(&["scale", "min"])]
    } else {
        vec![
            spec_path(&["environments", app.env.as_str(), "replicas"]),
            s(&["scale", "min"]),
            s(&["replicas"]),
        ]
    };
    Origin::Spec {
        paths,
        otherwise: Some(Box::new(Origin::Default {
            value: "2".into(),
            doc: docs::SERVICES,
        })),
    }
}

/// The origin of an object's namespace: the environment's `namespace` (default `APP-ENV`), or
/// the namespace group's.
pub(crate) fn namespace(app: &berth_spec::App, group: Option<&str>) -> Origin {
    let env = app.env.as_str();
    match group {
        Some(g) => Origin::Spec {
            paths: vec![spec_path(&["environments", env, "namespaces", g])],
            otherwise: Some(Box::new(Origin::rule(
                format!("namespace group `{g}` unmapped: the environment's namespace + `-{g}`"),
                docs::NAMESPACES,
                vec![spec_path(&["environments", env, "namespace"])],
            ))),
        },
        None => Origin::spec_or_default(
            spec_path(&["environments", env, "namespace"]),
            if app.namespace == app.name {
                "APP".to_owned()
            } else {
                "APP-ENV".to_owned()
            },
            docs::ENVIRONMENTS,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_recorded_prefix_wins() {
        let mut o = ObjectOrigins::default();
        o.set("", Origin::rule("module", docs::RENDERS, vec![]));
        o.set(
            "/spec/replicas",
            Origin::spec(spec_path(&["services", "a", "replicas"])),
        );
        assert!(matches!(
            o.lookup("/spec/replicas"),
            Some(("/spec/replicas", Origin::Spec { .. }))
        ));
        assert!(matches!(
            o.lookup("/spec/replicasX"),
            Some(("", Origin::Rule { .. }))
        ));
        assert!(matches!(o.lookup("/spec/template/spec"), Some(("", _))));
    }
}

/// An origin with its spec paths looked up in the loaded spec ([`resolve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Set in the spec at this position.
    Spec {
        path: String,
        at: berth_spec::Located,
    },
    /// A documented default; `unset` are the spec paths that would have set it.
    Default {
        value: String,
        doc: &'static str,
        unset: Vec<String>,
    },
    /// Derived by a rule from the spec values at `from` (those the spec sets).
    Rule {
        rule: String,
        doc: &'static str,
        from: Vec<(String, berth_spec::Located)>,
    },
    /// A spec origin none of whose paths the spec sets, and no default: a renderer bug the
    /// provenance test refuses.
    Unset { paths: Vec<String> },
}

/// `services.backend.resources.cpu`
pub fn display_path(p: &[String]) -> String {
    p.join(".")
}

/// Looks the spec paths of `origin` up in `loaded` for environment `env`: the first that is set
/// wins, else its `otherwise`.
pub fn resolve(loaded: &berth_spec::Loaded, env: &str, origin: &Origin) -> Resolved {
    match origin {
        Origin::Spec { paths, otherwise } => {
            for p in paths {
                if let Some(at) = loaded.locate(env, p) {
                    return Resolved::Spec {
                        path: display_path(p),
                        at,
                    };
                }
            }
            let unset: Vec<String> = paths.iter().map(|p| display_path(p)).collect();
            match otherwise.as_deref() {
                Some(Origin::Default { value, doc }) => Resolved::Default {
                    value: value.clone(),
                    doc,
                    unset,
                },
                Some(other) => match resolve(loaded, env, other) {
                    Resolved::Default {
                        value,
                        doc,
                        unset: mut more,
                    } => {
                        let mut all = unset;
                        all.append(&mut more);
                        Resolved::Default {
                            value,
                            doc,
                            unset: all,
                        }
                    }
                    r => r,
                },
                None => Resolved::Unset { paths: unset },
            }
        }
        Origin::Default { value, doc } => Resolved::Default {
            value: value.clone(),
            doc,
            unset: vec![],
        },
        Origin::Rule { rule, doc, from } => Resolved::Rule {
            rule: rule.clone(),
            doc,
            from: from
                .iter()
                .filter_map(|p| loaded.locate(env, p).map(|at| (display_path(p), at)))
                .collect(),
        },
    }
}
