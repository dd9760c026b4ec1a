//! The same object across environments. Kustomize and Helm both start here: every rendered
//! object is keyed by (apiVersion, kind, name), its namespace is normalised away (the
//! environment's namespace lands in exactly two places: `metadata.namespace` of namespaced
//! objects and `metadata.name` of the Namespace), and the per-environment bodies are lined up
//! so that what is the same can go to a base and only the differences to each environment.

use berth_render::Rendered;
use serde_json::Value;

/// Identity of an object across environments. The Namespace object is one object whatever its
/// (per-environment) name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    /// The namespace group it is in ("" for the environment's own namespace): an app over
    /// several namespaces has a Namespace object and default policies of the same name in each.
    pub role: String,
    pub api_version: String,
    pub kind: String,
    /// Empty for the Namespace object.
    pub name: String,
}

impl Key {
    /// `deployment-backend`, `namespace`.
    pub(crate) fn file_stem(&self) -> String {
        if self.name.is_empty() {
            self.kind.to_ascii_lowercase()
        } else {
            format!("{}-{}", self.kind.to_ascii_lowercase(), self.name)
        }
    }

    /// The `group` of the apiVersion (`apps` for `apps/v1`; empty for core).
    pub(crate) fn group(&self) -> &str {
        match self.api_version.split_once('/') {
            Some((g, _)) => g,
            None => "",
        }
    }

    pub(crate) fn version(&self) -> &str {
        match self.api_version.split_once('/') {
            Some((_, v)) => v,
            None => &self.api_version,
        }
    }
}

/// The file an object goes to where a format groups objects per service (the Helm chart's
/// templates, the Kustomize base, components and overlays): every object of one service in one
/// multi-document file, and the app's own objects (Namespace, app-wide NetworkPolicies, the
/// Services standing for dependencies) in one shared file. Fewer files is most of a build's
/// time (creating inodes), and one file per component is how charts and bases are usually laid
/// out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Group {
    /// Objects of the app as a whole. Ordered first: it holds the Namespace.
    Shared,
    Service(String),
}

/// The shared file's name. Service names are DNS-1035 labels (they start with a letter), so a
/// name starting with a digit is never a service's, and `00-` lists it first, as it applies
/// first (the Namespace).
pub(crate) const SHARED_FILE: &str = "00-shared.yaml";

impl Group {
    /// The service an object belongs to, from the labels render puts on it: objects of a service
    /// carry `app.kubernetes.io/name: SERVICE` with component `server` or `worker`; the app's
    /// own objects carry the app's name with another component (`namespace`, `network-policy`,
    /// `dependency`), which also keeps them apart when a service is named like the app.
    pub(crate) fn of(body: &Value) -> Group {
        let labels = &body["metadata"]["labels"];
        match (
            labels["app.kubernetes.io/name"].as_str(),
            labels["app.kubernetes.io/component"].as_str(),
        ) {
            (Some(name), Some("server" | "worker")) if !name.is_empty() => {
                Group::Service(name.to_owned())
            }
            _ => Group::Shared,
        }
    }

    /// The group of an object across environments: from its first rendered body (the labels
    /// that decide it do not vary between environments).
    pub(crate) fn of_variants(v: &Variants) -> Group {
        v.bodies
            .iter()
            .flatten()
            .next()
            .map_or(Group::Shared, Group::of)
    }

    /// `backend.yaml`, [`SHARED_FILE`]. A service named `kustomization` would shadow the
    /// directory's `kustomization.yaml`; it gets a name no service can have instead.
    pub(crate) fn file_name(&self) -> String {
        match self {
            Group::Shared => SHARED_FILE.to_owned(),
            Group::Service(s) if s == "kustomization" => format!("00-service-{s}.yaml"),
            Group::Service(s) => format!("{s}.yaml"),
        }
    }
}

/// One object in every environment: `bodies[i]` is its body in environment `i`
/// (namespace-normalised), or None where the environment does not render it.
#[derive(Debug, Clone)]
pub(crate) struct Variants {
    pub key: Key,
    pub bodies: Vec<Option<Value>>,
}

impl Variants {
    pub(crate) fn in_all(&self) -> bool {
        self.bodies.iter().all(Option::is_some)
    }

    /// The body most environments share (ties: the latest environment, usually the most
    /// production-like), and its index.
    pub(crate) fn majority(&self) -> Option<(usize, &Value)> {
        let mut best: Option<(usize, usize)> = None; // (env index, count)
        for (i, b) in self.bodies.iter().enumerate() {
            let Some(b) = b else { continue };
            let count = self.bodies.iter().filter(|o| o.as_ref() == Some(b)).count();
            if best.is_none_or(|(_, c)| count >= c) {
                best = Some((i, count));
            }
        }
        best.map(|(i, _)| (i, self.bodies[i].as_ref().expect("present")))
    }
}

/// Removes the environment's namespace from an object body: `metadata.namespace` is dropped,
/// a Namespace's name is replaced by `namespace_name`.
pub(crate) fn normalise(body: &Value, namespace_name: &str) -> Value {
    let mut body = body.clone();
    let is_namespace = body["kind"] == "Namespace";
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove("namespace");
        if is_namespace {
            meta.insert("name".into(), Value::String(namespace_name.to_owned()));
        }
    }
    body
}

/// The namespace group of an object: the group whose namespace it is in (the first, when
/// several groups share one; "" for the environment's own namespace).
pub(crate) fn role_of(r: &Rendered, o: &berth_render::Object) -> String {
    let ns = if o.kind == "Namespace" {
        Some(o.name.as_str())
    } else {
        o.namespace.as_deref()
    };
    r.namespaces
        .iter()
        .find(|n| Some(n.name.as_str()) == ns)
        .and_then(|n| n.group.clone())
        .unwrap_or_default()
}

fn key_of(api_version: &str, kind: &str, name: &str) -> Key {
    Key {
        role: String::new(),
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: if kind == "Namespace" {
            String::new()
        } else {
            name.to_owned()
        },
    }
}

/// Lines up every object of every environment, in apply order. `namespace_name` is what the
/// Namespace object is called once normalised (a base has to call it something).
pub(crate) fn collect(rendered: &[Rendered], namespace_name: &str) -> Vec<Variants> {
    let mut out: Vec<Variants> = Vec::new();
    let mut index: std::collections::HashMap<Key, usize> = std::collections::HashMap::new();
    for (i, r) in rendered.iter().enumerate() {
        for obj in &r.objects {
            let key = Key {
                role: role_of(r, obj),
                ..key_of(&obj.api_version, &obj.kind, &obj.name)
            };
            let body = normalise(&obj.body, namespace_name);
            match index.get(&key) {
                Some(&at) => out[at].bodies[i] = Some(body),
                None => {
                    let mut bodies = vec![None; rendered.len()];
                    bodies[i] = Some(body);
                    index.insert(key.clone(), out.len());
                    out.push(Variants { key, bodies });
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (berth_kinds::install_rank(&a.key.kind), &a.key)
            .cmp(&(berth_kinds::install_rank(&b.key.kind), &b.key))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_render::Object;
    use serde_json::json;

    fn obj(kind: &str, name: &str, ns: &str, extra: Value) -> Object {
        let mut body =
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns}});
        if kind == "Namespace" {
            body["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("namespace");
        }
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        Object {
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            namespace: (kind != "Namespace").then(|| ns.into()),
            body,
        }
    }

    fn rendered(env: &str, ns: &str, objects: Vec<Object>) -> Rendered {
        Rendered {
            env: env.into(),
            namespace: ns.into(),
            namespaces: vec![berth_spec::NamespaceGroup {
                group: None,
                name: ns.into(),
            }],
            objects,
            warnings: vec![],
        }
    }

    #[test]
    fn namespaces_are_normalised_and_objects_lined_up() {
        let dev = rendered(
            "dev",
            "a-dev",
            vec![
                obj("Namespace", "a-dev", "", json!({})),
                obj("ConfigMap", "c", "a-dev", json!({"data": {"x": "1"}})),
            ],
        );
        let prod = rendered(
            "prod",
            "a",
            vec![
                obj("Namespace", "a", "", json!({})),
                obj("ConfigMap", "c", "a", json!({"data": {"x": "2"}})),
                obj("ConfigMap", "d", "a", json!({})),
            ],
        );
        let v = collect(&[dev, prod], "base");
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].key.kind, "Namespace");
        assert!(v[0].in_all());
        assert_eq!(v[0].bodies[0], v[0].bodies[1]);
        assert_eq!(v[0].bodies[0].as_ref().unwrap()["metadata"]["name"], "base");
        assert!(v[1].in_all());
        assert_ne!(v[1].bodies[0], v[1].bodies[1]);
        assert!(v[1].bodies[0].as_ref().unwrap()["metadata"]["namespace"].is_null());
        assert!(!v[2].in_all());
    }

    #[test]
    fn objects_are_grouped_by_the_service_they_belong_to() {
        let labelled = |name: &str, component: &str| {
            json!({"metadata": {"name": "x", "labels": {
                "app.kubernetes.io/name": name,
                "app.kubernetes.io/component": component,
                "app.kubernetes.io/instance": "shop",
            }}})
        };
        assert_eq!(
            Group::of(&labelled("backend", "server")),
            Group::Service("backend".into())
        );
        assert_eq!(
            Group::of(&labelled("mailer", "worker")),
            Group::Service("mailer".into())
        );
        // The app's own objects, even where a service shares the app's name.
        for component in ["namespace", "network-policy", "dependency", "test"] {
            assert_eq!(Group::of(&labelled("shop", component)), Group::Shared);
        }
        assert_eq!(
            Group::of(&json!({"metadata": {"name": "x"}})),
            Group::Shared
        );
        // Lined up across environments: the first environment that renders it decides.
        let v = Variants {
            key: key_of("v1", "ConfigMap", "backend-env"),
            bodies: vec![None, Some(labelled("backend", "server"))],
        };
        assert_eq!(Group::of_variants(&v), Group::Service("backend".into()));
    }

    #[test]
    fn group_files_never_collide() {
        assert_eq!(Group::Service("backend".into()).file_name(), "backend.yaml");
        assert_eq!(Group::Shared.file_name(), SHARED_FILE);
        assert_ne!(
            Group::Service("kustomization".into()).file_name(),
            "kustomization.yaml"
        );
        // No service name (a DNS-1035 label: starts with a letter) gives a berth-owned name.
        for name in [
            "shared",
            "00-shared",
            "kustomization",
            "service-kustomization",
        ] {
            if name.starts_with(|c: char| c.is_ascii_lowercase()) {
                let f = Group::Service(name.into()).file_name();
                assert_ne!(f, SHARED_FILE);
                assert_ne!(f, "kustomization.yaml");
            }
        }
        assert!(Group::Shared < Group::Service("a".into()));
    }

    #[test]
    fn the_majority_body_wins_and_ties_go_to_the_latest() {
        let v = Variants {
            key: key_of("v1", "ConfigMap", "c"),
            bodies: vec![Some(json!(2)), Some(json!(2)), Some(json!(1))],
        };
        assert_eq!(v.majority().unwrap().0, 1);
        let v = Variants {
            key: key_of("v1", "ConfigMap", "c"),
            bodies: vec![None, Some(json!(1)), Some(json!(2))],
        };
        assert_eq!(v.majority().unwrap().0, 2);
    }
}
