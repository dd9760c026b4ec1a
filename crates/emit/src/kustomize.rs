//! Kustomize: a `base/` with every object all environments share, an `overlays/ENV/` per
//! environment with only its differences, and `components/argocd-sync-waves/` for Argo CD.
//! Objects are written one file per service (`base/backend.yaml`, every object of it as a
//! document) plus one for the app's own ([`crate::variants::SHARED_FILE`]).
//!
//! - Namespaces are normalised first: the overlay's `namespace:` sets `metadata.namespace` of
//!   every object and renames the Namespace object, so an object that differs between
//!   environments only by namespace is "the same" and lives in the base once.
//! - An object rendered in every environment goes to the base, in the form most environments
//!   share; each overlay patches it to its own form. Replica counts go through `replicas:`,
//!   image changes through `images:` (when every container of that image changes the same
//!   way), everything else through one JSON6902 patch per object (`patches/KIND-NAME.yaml`).
//! - An object several but not all environments render (a PodDisruptionBudget that dev does
//!   not need) lives once in a component, `components/in-staging-prod/`, that those overlays
//!   include (and patch like the base); an object one environment renders is a plain resource
//!   of its overlay.
//!
//! `kubectl kustomize overlays/ENV` builds exactly what `berth render --env ENV` prints
//! (proved in the test suite with the real kubectl).

use crate::files::FileSet;
use crate::jsonpatch::{self, Op};
use crate::variants::role_of;
use crate::variants::{self, Group, Key, Variants};
use crate::yaml::{join_docs, to_yaml};
use berth_render::Rendered;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const SYNC_WAVES_COMPONENT: &str = "components/argocd-sync-waves";

/// The Kustomize tree for every environment. `app` names the base's Namespace object (each
/// overlay renames it to its own namespace).
pub fn kustomize(app: &str, rendered: &[Rendered]) -> FileSet {
    let roles = namespace_roles(rendered);
    if roles.len() <= 1 {
        return kustomize_one(app, rendered);
    }
    // An app over several namespaces: one tree per namespace group (its own base, components
    // and overlays, each overlay setting that group's namespace) under `namespaces/GROUP/`
    // (`namespaces/_default/` for the environment's own namespace), and `overlays/ENV/`
    // gathering the groups the environment renders. An overlay's `namespace:` moves every
    // object it holds, so each namespace needs an overlay of its own.
    let mut files = FileSet::default();
    let mut per_env: Vec<Vec<Value>> = vec![Vec::new(); rendered.len()];
    for role in &roles {
        let dir = if role.is_empty() {
            "_default"
        } else {
            role.as_str()
        };
        let mut subset = Vec::new();
        for (i, r) in rendered.iter().enumerate() {
            let objects: Vec<_> = r
                .objects
                .iter()
                .filter(|o| role_of(r, o) == *role)
                .cloned()
                .collect();
            let Some(ns) = objects.iter().find_map(|o| o.namespace.clone()) else {
                continue;
            };
            per_env[i].push(Value::from(format!(
                "../../namespaces/{dir}/overlays/{}",
                r.env
            )));
            subset.push(Rendered {
                env: r.env.clone(),
                namespace: ns,
                namespaces: Vec::new(),
                objects,
                warnings: Vec::new(),
            });
        }
        let mut sub = kustomize_one(app, &subset);
        sub.remove_prefix(SYNC_WAVES_COMPONENT);
        files.nest(format!("namespaces/{dir}"), sub);
    }
    for (r, resources) in rendered.iter().zip(per_env) {
        files.insert(
            format!("overlays/{}/kustomization.yaml", r.env),
            header(
                "Kustomization",
                &format!("the {} environment: each of its namespaces", r.env),
            ) + &to_yaml(&json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": resources,
            })),
        );
    }
    files.nest(
        SYNC_WAVES_COMPONENT,
        sync_waves_component(&variants::collect(rendered, app)),
    );
    files
}

/// Every namespace group with objects in some environment, the environment's own first.
fn namespace_roles(rendered: &[Rendered]) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for r in rendered {
        for o in &r.objects {
            let role = role_of(r, o);
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
    }
    roles.sort_by_key(|r| !r.is_empty());
    roles
}

/// The Kustomize tree of objects that share one namespace per environment.
fn kustomize_one(app: &str, rendered: &[Rendered]) -> FileSet {
    let mut files = FileSet::default();
    let all = variants::collect(rendered, app);

    // Base: every object all environments render, in the form most of them share.
    let mut base_groups = Documents::new();
    let mut base_bodies: BTreeMap<&Key, &Value> = BTreeMap::new();
    for v in all.iter().filter(|v| v.in_all()) {
        let (_, body) = v.majority().expect("in every environment");
        base_groups
            .entry(Group::of_variants(v))
            .or_default()
            .push(to_yaml(body));
        base_bodies.insert(&v.key, body);
    }
    let base_resources = insert_groups(&mut files, "base", base_groups);
    files.insert(
        "base/kustomization.yaml",
        header(
            "Kustomization",
            &format!("every object all environments of {app} share"),
        ) + &to_yaml(&json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": base_resources,
        })),
    );

    // Objects several (not all) environments render: a component those overlays include
    // (`components/in-staging-prod/`), in the form most of them share.
    let mut components: BTreeMap<String, (Vec<&str>, Documents)> = BTreeMap::new();
    let mut component_of: BTreeMap<&Key, String> = BTreeMap::new();
    for v in all.iter().filter(|v| !v.in_all()) {
        let envs: Vec<&str> = rendered
            .iter()
            .zip(&v.bodies)
            .filter(|(_, b)| b.is_some())
            .map(|(r, _)| r.env.as_str())
            .collect();
        if envs.len() < 2 {
            continue;
        }
        // Environment names may hold dashes: two sets that would share a name get a suffix.
        let mut name = format!("in-{}", envs.join("-"));
        let mut n = 1;
        while components.get(&name).is_some_and(|(e, _)| *e != envs) {
            n += 1;
            name = format!("in-{}-{n}", envs.join("-"));
        }
        let (_, body) = v.majority().expect("present somewhere");
        components
            .entry(name.clone())
            .or_insert_with(|| (envs.clone(), BTreeMap::new()))
            .1
            .entry(Group::of_variants(v))
            .or_default()
            .push(to_yaml(body));
        base_bodies.insert(&v.key, body);
        component_of.insert(&v.key, name);
    }
    for (name, (envs, groups)) in components {
        let resources = insert_groups(&mut files, &format!("components/{name}"), groups);
        let envs = envs.join(", ");
        files.insert(
            format!("components/{name}/kustomization.yaml"),
            header(
                "Component",
                &format!("objects only some environments render ({envs})"),
            ) + &to_yaml(&json!({
                "apiVersion": "kustomize.config.k8s.io/v1alpha1",
                "kind": "Component",
                "resources": resources,
            })),
        );
    }

    for (i, r) in rendered.iter().enumerate() {
        let overlay = overlay(i, r, &all, &base_bodies, &component_of);
        files.nest(format!("overlays/{}", r.env), overlay);
    }

    files.nest(SYNC_WAVES_COMPONENT, sync_waves_component(&all));
    files
}

/// YAML documents by the file they go to.
type Documents = BTreeMap<Group, Vec<String>>;

/// Writes one multi-document file per group under `dir` and returns their names, in
/// `resources:` order (the shared file first, then the services by name).
fn insert_groups(
    files: &mut FileSet,
    dir: &str,
    groups: BTreeMap<Group, Vec<String>>,
) -> Vec<String> {
    groups
        .into_iter()
        .map(|(group, docs)| {
            let file = group.file_name();
            let path = if dir.is_empty() {
                file.clone()
            } else {
                format!("{dir}/{file}")
            };
            files.insert(path, join_docs(&docs));
            file
        })
        .collect()
}

fn header(kind: &str, what: &str) -> String {
    format!(
        "# {kind}: {what}.\n# Generated by berth from berth.yaml; do not edit by hand (`berth build` rewrites it).\n"
    )
}

struct ImageChange {
    old: String,
    new: String,
}

/// One overlay. `base` holds the body each object starts from (in the base or in a component),
/// `component_of` the component that brings an object in.
fn overlay(
    env: usize,
    r: &Rendered,
    all: &[Variants],
    base: &BTreeMap<&Key, &Value>,
    component_of: &BTreeMap<&Key, String>,
) -> FileSet {
    let mut files = FileSet::default();
    let mut resources = vec![Value::from("../../base")];
    let mut components: Vec<Value> = Vec::new();
    let mut replicas = Vec::new();
    let mut patches = Vec::new();
    let mut patch_ops: Vec<(&Key, Vec<Op>)> = Vec::new();
    // (old image → new image) of every container of this environment, to decide `images:`.
    let mut image_pairs: Vec<(String, String)> = Vec::new();

    let mut own = Documents::new();
    for v in all {
        let Some(body) = &v.bodies[env] else { continue };
        match base.get(&v.key) {
            None => {
                own.entry(Group::of(body)).or_default().push(to_yaml(body));
                for (_, image) in container_images(body) {
                    image_pairs.push((image.clone(), image));
                }
            }
            Some(base_body) => {
                if let Some(c) = component_of.get(&v.key) {
                    let path = Value::from(format!("../../components/{c}"));
                    if !components.contains(&path) {
                        components.push(path);
                    }
                }
                for (ptr, old) in container_images(base_body) {
                    if let Some(new) = body.pointer(&ptr).and_then(Value::as_str) {
                        image_pairs.push((old, new.to_owned()));
                    }
                }
                let ops = jsonpatch::diff(base_body, body);
                if !ops.is_empty() {
                    patch_ops.push((&v.key, ops));
                }
            }
        }
    }

    resources.extend(
        insert_groups(&mut files, "", own)
            .into_iter()
            .map(Value::from),
    );

    // `images:` for a repository whose every container moves to the same new image.
    let mut by_repo: BTreeMap<String, Vec<&(String, String)>> = BTreeMap::new();
    for pair in &image_pairs {
        by_repo.entry(repository(&pair.0)).or_default().push(pair);
    }
    let mut images = Vec::new();
    let mut image_changes: Vec<ImageChange> = Vec::new();
    for (repo, pairs) in &by_repo {
        let new = &pairs[0].1;
        if pairs.iter().all(|(_, n)| n == new) && pairs.iter().any(|(o, n)| o != n) {
            images.push(image_entry(repo, new));
            for (old, _) in pairs {
                image_changes.push(ImageChange {
                    old: old.clone(),
                    new: new.clone(),
                });
            }
        }
    }

    for (key, ops) in patch_ops {
        let mut rest = Vec::new();
        for op in ops {
            // A count the base leaves to an autoscaler (none there) is set the same way.
            if let Op::Add(path, value) = &op
                && key.kind == "Deployment"
                && path == "/spec/replicas"
                && value.is_u64()
            {
                replicas.push(json!({"name": key.name, "count": value}));
                continue;
            }
            if let Op::Replace(path, value) = &op {
                if key.kind == "Deployment" && path == "/spec/replicas" && value.is_u64() {
                    replicas.push(json!({"name": key.name, "count": value}));
                    continue;
                }
                if is_image_path(path)
                    && value.as_str().is_some_and(|new| {
                        let old = base[key].pointer(path).and_then(Value::as_str);
                        image_changes
                            .iter()
                            .any(|c| Some(c.old.as_str()) == old && c.new == new)
                    })
                {
                    continue;
                }
            }
            rest.push(op);
        }
        if rest.is_empty() {
            continue;
        }
        let file = format!("patches/{}.yaml", key.file_stem());
        let ops: Vec<Value> = rest.iter().map(Op::to_json).collect();
        files.insert(file.clone(), to_yaml(&Value::Array(ops)));
        let mut target = serde_json::Map::new();
        if !key.group().is_empty() {
            target.insert("group".into(), key.group().into());
        }
        target.insert("version".into(), key.version().into());
        target.insert("kind".into(), key.kind.clone().into());
        // The Namespace is renamed by `namespace:`; it is the only one of its kind.
        if !key.name.is_empty() {
            target.insert("name".into(), key.name.clone().into());
        }
        patches.push(json!({"path": file, "target": target}));
    }

    let mut k = serde_json::Map::new();
    k.insert(
        "apiVersion".into(),
        "kustomize.config.k8s.io/v1beta1".into(),
    );
    k.insert("kind".into(), "Kustomization".into());
    k.insert("namespace".into(), r.namespace.clone().into());
    k.insert("resources".into(), resources.into());
    if !components.is_empty() {
        k.insert("components".into(), components.into());
    }
    if !replicas.is_empty() {
        k.insert("replicas".into(), replicas.into());
    }
    if !images.is_empty() {
        k.insert("images".into(), images.into());
    }
    if !patches.is_empty() {
        k.insert("patches".into(), patches.into());
    }
    files.insert(
        "kustomization.yaml",
        header(
            "Kustomization",
            &format!(
                "the {} environment: the base plus only its differences",
                r.env
            ),
        ) + &to_yaml(&Value::Object(k)),
    );
    files
}

/// Adds `argocd.argoproj.io/sync-wave` to every object by kind (see [`berth_kinds`]). Argo CD
/// Applications include it (`spec.source.kustomize.components`); plain overlays do not.
fn sync_waves_component(all: &[Variants]) -> FileSet {
    let mut kinds: Vec<&Key> = Vec::new();
    for v in all {
        if !kinds.iter().any(|k| k.kind == v.key.kind) {
            kinds.push(&v.key);
        }
    }
    let patches: Vec<Value> = kinds
        .iter()
        .map(|k| {
            let patch = json!({
                "apiVersion": k.api_version,
                "kind": k.kind,
                "metadata": {
                    "name": "any",
                    "annotations": {berth_kinds::WAVE_ANNOTATION: berth_kinds::wave(&k.kind).to_string()},
                },
            });
            // Objects that carry their own wave (the data tier, migration hooks) keep it.
            json!({"target": {"kind": k.kind, "annotationSelector": format!("!{}", berth_kinds::WAVE_ANNOTATION)}, "patch": to_yaml(&patch)})
        })
        .collect();
    let mut files = FileSet::default();
    files.insert(
        "kustomization.yaml",
        header(
            "Component",
            "Argo CD sync waves by kind (namespace and config first, workloads after)",
        ) + &to_yaml(&json!({
            "apiVersion": "kustomize.config.k8s.io/v1alpha1",
            "kind": "Component",
            "patches": patches,
        })),
    );
    files
}

/// JSON pointers and images of every container of a workload body.
pub(crate) fn container_images(body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for pod in [
        "/spec/template/spec",
        "/spec/jobTemplate/spec/template/spec",
    ] {
        for list in ["containers", "initContainers"] {
            let ptr = format!("{pod}/{list}");
            if let Some(items) = body.pointer(&ptr).and_then(Value::as_array) {
                for (i, c) in items.iter().enumerate() {
                    if let Some(image) = c["image"].as_str() {
                        out.push((format!("{ptr}/{i}/image"), image.to_owned()));
                    }
                }
            }
        }
    }
    out
}

fn is_image_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() >= 4
        && parts[parts.len() - 1] == "image"
        && parts[parts.len() - 2].parse::<usize>().is_ok()
        && matches!(parts[parts.len() - 3], "containers" | "initContainers")
}

/// `ghcr.io/acme/app:1.2@sha256:…` → `ghcr.io/acme/app`.
pub(crate) fn repository(image: &str) -> String {
    let (rest, _) = split_digest(image);
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match rest[last_slash..].rfind(':') {
        Some(i) => rest[..last_slash + i].to_owned(),
        None => rest.to_owned(),
    }
}

fn split_digest(image: &str) -> (&str, Option<&str>) {
    match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    }
}

/// A Kustomize `images:` entry turning every `repo` image into `new`.
fn image_entry(repo: &str, new: &str) -> Value {
    let (rest, digest) = split_digest(new);
    let new_repo = repository(new);
    let tag = rest[new_repo.len()..].strip_prefix(':');
    let mut e = serde_json::Map::new();
    e.insert("name".into(), repo.into());
    if new_repo != repo {
        e.insert("newName".into(), new_repo.into());
    }
    if let Some(t) = tag {
        e.insert("newTag".into(), t.into());
    }
    if let Some(d) = digest {
        e.insert("digest".into(), d.into());
    }
    Value::Object(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_parts() {
        assert_eq!(repository("ghcr.io/acme/a:1.2"), "ghcr.io/acme/a");
        assert_eq!(repository("localhost:5000/a"), "localhost:5000/a");
        assert_eq!(repository("a@sha256:00"), "a");
        assert_eq!(
            image_entry("ghcr.io/acme/a", "ghcr.io/acme/a:1.3"),
            json!({"name": "ghcr.io/acme/a", "newTag": "1.3"})
        );
        assert_eq!(
            image_entry("ghcr.io/acme/a", "eu.gcr.io/x/a@sha256:00"),
            json!({"name": "ghcr.io/acme/a", "newName": "eu.gcr.io/x/a", "digest": "sha256:00"})
        );
        assert!(is_image_path("/spec/template/spec/containers/0/image"));
        assert!(!is_image_path("/spec/template/spec/containers/0/name"));
    }
}
