//! The cross-resource index: every object of the input, pruned to the fields cross-resource
//! rules read, with lookups by kind, namespace, name and pod-template label. Pruning keeps
//! memory proportional to what the rules need (secret values are never kept).

use crate::model::{NodeExt, Obj};
use crate::pod;
use berth_yaml::{Key, Node, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// What to keep of a subtree.
enum Keep {
    All,
    Fields(&'static [(&'static str, Keep)]),
    Each(&'static Keep),
    /// Keep the mapping's keys, drop the values (ConfigMap/Secret data).
    KeysOnly,
}

const META: Keep = Keep::Fields(&[
    ("name", Keep::All),
    ("generateName", Keep::All),
    ("namespace", Keep::All),
    ("labels", Keep::All),
    ("annotations", Keep::All),
]);
const CONTAINER: Keep = Keep::Fields(&[
    ("name", Keep::All),
    ("image", Keep::All),
    ("ports", Keep::All),
    ("resources", Keep::All),
    (
        "env",
        Keep::Each(&Keep::Fields(&[
            ("name", Keep::All),
            ("valueFrom", Keep::All),
        ])),
    ),
    ("envFrom", Keep::All),
    // presence only matters (readiness-probe-missing)
    ("readinessProbe", Keep::All),
    // an init container with `Always` is a native sidecar (its ports serve: service-target-port)
    ("restartPolicy", Keep::All),
]);
const POD_SPEC: Keep = Keep::Fields(&[
    ("containers", Keep::Each(&CONTAINER)),
    ("initContainers", Keep::Each(&CONTAINER)),
    ("serviceAccountName", Keep::All),
    ("restartPolicy", Keep::All),
    (
        "volumes",
        Keep::Each(&Keep::Fields(&[
            ("name", Keep::All),
            ("configMap", Keep::All),
            ("secret", Keep::All),
        ])),
    ),
]);
const TEMPLATE: Keep = Keep::Fields(&[
    ("metadata", Keep::Fields(&[("labels", Keep::All)])),
    ("spec", POD_SPEC),
]);
const WORKLOAD: Keep = Keep::Fields(&[(
    "spec",
    Keep::Fields(&[
        ("replicas", Keep::All),
        ("selector", Keep::All),
        ("template", TEMPLATE),
    ]),
)]);
const CRONJOB: Keep = Keep::Fields(&[(
    "spec",
    Keep::Fields(&[(
        "jobTemplate",
        Keep::Fields(&[("spec", Keep::Fields(&[("template", TEMPLATE)]))]),
    )]),
)]);
const POD: Keep = Keep::Fields(&[("spec", POD_SPEC)]);
const SPEC: Keep = Keep::Fields(&[("spec", Keep::All)]);
const DATA: Keep = Keep::Fields(&[
    ("data", Keep::KeysOnly),
    ("stringData", Keep::KeysOnly),
    ("binaryData", Keep::KeysOnly),
]);
const RBAC: Keep = Keep::Fields(&[("roleRef", Keep::All), ("subjects", Keep::All)]);
const SA: Keep = Keep::Fields(&[("automountServiceAccountToken", Keep::All)]);

fn prune_with(n: &Node, keep: &Keep) -> Node {
    let value = match (keep, &n.value) {
        (Keep::All, v) => v.clone(),
        (Keep::Fields(fields), Value::Map(entries)) => Value::Map(
            entries
                .iter()
                .filter_map(|(k, v)| {
                    let (_, sub) = fields.iter().find(|(name, _)| *name == k.name)?;
                    Some((k.clone(), prune_with(v, sub)))
                })
                .collect(),
        ),
        (Keep::Each(sub), Value::Seq(items)) => {
            Value::Seq(items.iter().map(|i| prune_with(i, sub)).collect())
        }
        (Keep::KeysOnly, Value::Map(entries)) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), Node::new(Value::Null, v.pos)))
                .collect(),
        ),
        _ => Value::Null,
    };
    Node::new(value, n.pos)
}

/// Keeps what cross-resource rules read. The root's own fields (apiVersion, kind, metadata)
/// always stay.
pub fn prune(obj: &Obj) -> Obj {
    let body: &Keep = match obj.kind.as_str() {
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => &WORKLOAD,
        "CronJob" => &CRONJOB,
        "Pod" => &POD,
        "Service"
        | "Ingress"
        | "HorizontalPodAutoscaler"
        | "PodDisruptionBudget"
        | "NetworkPolicy" => &SPEC,
        "ConfigMap" | "Secret" => &DATA,
        "RoleBinding" | "ClusterRoleBinding" => &RBAC,
        "ServiceAccount" => &SA,
        _ => &Keep::Fields(&[]),
    };
    let mut entries: Vec<(Key, Node)> = Vec::new();
    for (k, v) in obj.root.entries() {
        match k.name.as_str() {
            "apiVersion" | "kind" => entries.push((k.clone(), v.clone())),
            "metadata" => entries.push((k.clone(), prune_with(v, &META))),
            _ => {
                if let Keep::Fields(fields) = body
                    && let Some((_, sub)) = fields.iter().find(|(n, _)| *n == k.name)
                {
                    entries.push((k.clone(), prune_with(v, sub)));
                }
            }
        }
    }
    Obj {
        root: Node::new(Value::Map(entries), obj.root.pos),
        ..obj.clone_shallow()
    }
}

impl Obj {
    fn clone_shallow(&self) -> Obj {
        Obj {
            file: self.file.clone(),
            root: Node::new(Value::Null, self.root.pos),
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
        }
    }
}

/// All objects, pruned, with lookups.
#[derive(Default)]
pub struct Index {
    pub objs: Vec<Obj>,
    by_kind: HashMap<String, Vec<usize>>,
    by_name: HashMap<(String, String, String), usize>,
    /// (namespace, label key, label value) → pod-template-bearing objects carrying it.
    pod_labels: HashMap<(String, String, String), Vec<usize>>,
    /// namespace → pod-template-bearing objects.
    workloads_by_ns: HashMap<String, Vec<usize>>,
    /// Pods an operator creates from a resource in the input (CloudNativePG `Cluster` →
    /// `cnpg.io/cluster: NAME`, `Pooler` → `cnpg.io/poolerName: NAME`, Strimzi `Kafka` →
    /// `strimzi.io/cluster: NAME` + `strimzi.io/kind: Kafka`): (namespace, labels).
    operator_pods: Vec<(String, Vec<(String, String)>)>,
    /// (namespace, target kind, target name) → HPA.
    hpa_by_target: HashMap<(String, String, String), usize>,
    /// (file, kind) pairs present in the input.
    file_kinds: HashSet<(Arc<str>, String)>,
    /// Memo of [`Index::service_selection`]: (namespace, sorted selector) → workload ids.
    /// Many Services share a selector (copies of one chart), so each is matched once.
    selections: Mutex<HashMap<SelectionKey, Selection>>,
}

type SelectionKey = (String, Vec<(String, String)>);
/// Ids (positions in [`Index::objs`]) of the workloads a Service selector matches, in input
/// order; Services with the same namespace and selector share one (compare with `Arc::ptr_eq`).
pub type Selection = Arc<[usize]>;

impl Index {
    pub fn new(objs: Vec<Obj>) -> Index {
        let mut ix = Index {
            objs,
            ..Default::default()
        };
        for (i, o) in ix.objs.iter().enumerate() {
            ix.by_kind.entry(o.kind.clone()).or_default().push(i);
            if !ix.file_kinds.contains(&(o.file.clone(), o.kind.clone())) {
                ix.file_kinds.insert((o.file.clone(), o.kind.clone()));
            }
            ix.by_name
                .entry((o.kind.clone(), o.ns().to_string(), o.name.clone()))
                .or_insert(i);
            if o.kind == "HorizontalPodAutoscaler"
                && let (Some(k), Some(n)) = (
                    o.root.str_at(&["spec", "scaleTargetRef", "kind"]),
                    o.root.str_at(&["spec", "scaleTargetRef", "name"]),
                )
            {
                ix.hpa_by_target
                    .insert((o.ns().to_string(), k.to_string(), n.to_string()), i);
            }
            let made = match (o.root.str_at(&["apiVersion"]), o.kind.as_str()) {
                (Some(v), "Cluster") if v.starts_with("postgresql.cnpg.io/") => {
                    Some("cnpg.io/cluster")
                }
                (Some(v), "Pooler") if v.starts_with("postgresql.cnpg.io/") => {
                    Some("cnpg.io/poolerName")
                }
                _ => None,
            };
            if let (Some(key), Some(name)) = (made, o.root.str_at(&["metadata", "name"])) {
                ix.operator_pods
                    .push((o.ns().to_string(), vec![(key.to_owned(), name.to_owned())]));
            }
            // Strimzi's `Kafka`: broker/controller pods `strimzi.io/cluster: NAME`,
            // `strimzi.io/kind: Kafka`.
            if o.kind == "Kafka"
                && o.root
                    .str_at(&["apiVersion"])
                    .is_some_and(|v| v.starts_with("kafka.strimzi.io/"))
                && let Some(name) = o.root.str_at(&["metadata", "name"])
            {
                ix.operator_pods.push((
                    o.ns().to_string(),
                    vec![
                        ("strimzi.io/cluster".to_owned(), name.to_owned()),
                        ("strimzi.io/kind".to_owned(), "Kafka".to_owned()),
                    ],
                ));
            }
            if berth_kinds::pod_template(&o.kind).is_some() {
                ix.workloads_by_ns
                    .entry(o.ns().to_string())
                    .or_default()
                    .push(i);
                if let Some(labels) = pod::template_labels(o) {
                    for (k, v) in labels.entries() {
                        if let Some(v) = v.scalar_text() {
                            ix.pod_labels
                                .entry((o.ns().to_string(), k.name.clone(), v))
                                .or_default()
                                .push(i);
                        }
                    }
                }
            }
        }
        ix
    }

    pub fn kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Obj> + 'a {
        self.by_kind
            .get(kind)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|&i| &self.objs[i])
    }

    pub fn find(&self, kind: &str, ns: &str, name: &str) -> Option<&Obj> {
        self.by_name
            .get(&(kind.to_string(), ns.to_string(), name.to_string()))
            .map(|&i| &self.objs[i])
    }

    /// Does `file` hold an object of `kind`?
    pub fn file_has_kind(&self, file: &Arc<str>, kind: &str) -> bool {
        self.file_kinds.contains(&(file.clone(), kind.to_string()))
    }

    /// Objects with a pod template in a namespace (Pods, Deployments, Jobs, …).
    pub fn workloads_in<'a>(&'a self, ns: &str) -> impl Iterator<Item = &'a Obj> + 'a {
        self.workloads_by_ns
            .get(ns)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|&i| &self.objs[i])
    }

    /// The HPA scaling a workload, if any.
    pub fn hpa_for(&self, obj: &Obj) -> Option<&Obj> {
        self.hpa_by_target
            .get(&(obj.ns().to_string(), obj.kind.clone(), obj.name.clone()))
            .map(|&i| &self.objs[i])
    }

    /// Replicas a workload runs with at least: the HPA's minReplicas when one scales it,
    /// else spec.replicas (default 1).
    pub fn min_replicas(&self, obj: &Obj) -> i64 {
        match self.hpa_for(obj) {
            Some(h) => h
                .root
                .path(&["spec", "minReplicas"])
                .and_then(NodeExt::as_i64)
                .unwrap_or(1),
            None => pod::replicas(obj),
        }
    }

    pub fn namespaces_with_workloads(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.workloads_by_ns.keys().map(String::as_str).collect();
        v.sort();
        v
    }

    /// The workloads (ids into `objs`) in `ns` whose pod template a plain Service selector
    /// matches, memoized per distinct selector. An empty selector matches nothing.
    pub fn service_selection(&self, ns: &str, selector: &Node) -> Selection {
        let mut key: Vec<(String, String)> = Vec::new();
        for (k, v) in selector.entries() {
            match v.scalar_text() {
                Some(v) => key.push((k.name.clone(), v)),
                None => return Arc::from([]),
            }
        }
        if key.is_empty() {
            return Arc::from([]);
        }
        key.sort();
        let key = (ns.to_string(), key);
        let mut memo = self.selections.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = memo.get(&key) {
            return s.clone();
        }
        let (k0, v0) = &key.1[0];
        let ids: Selection = self
            .pod_labels
            .get(&(ns.to_string(), k0.clone(), v0.clone()))
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .copied()
            .filter(|&i| pod::map_selects(selector, pod::template_labels(&self.objs[i])))
            .collect();
        memo.insert(key, ids.clone());
        ids
    }

    /// Workloads in `ns` whose pod template a metav1.LabelSelector matches.
    /// Whether a metav1.LabelSelector (`matchLabels` only) matches pods an operator creates from
    /// a resource in the input (see `operator_pods`).
    pub fn selects_operator_pods(&self, ns: &str, selector: &Node) -> bool {
        if selector.get("matchExpressions").is_some() {
            return false;
        }
        let Some(m) = selector.get("matchLabels") else {
            return false;
        };
        self.operator_pods.iter().any(|(n, labels)| {
            n == ns
                && !m.entries().is_empty()
                && m.entries().iter().all(|(k, v)| {
                    labels
                        .iter()
                        .any(|(lk, lv)| *lk == k.name && Some(lv.clone()) == v.scalar_text())
                })
        })
    }

    pub fn select(&self, ns: &str, selector: &Node) -> Vec<&Obj> {
        let first = selector
            .get("matchLabels")
            .and_then(|m| m.entries().first())
            .and_then(|(k, v)| Some((k.name.clone(), v.scalar_text()?)));
        let candidates: Vec<&Obj> = match first {
            Some((k, v)) => self
                .pod_labels
                .get(&(ns.to_string(), k, v))
                .map(|v| v.as_slice())
                .unwrap_or(&[])
                .iter()
                .map(|&i| &self.objs[i])
                .collect(),
            None => self.workloads_in(ns).collect(),
        };
        candidates
            .into_iter()
            .filter(|o| pod::label_selector_matches(selector, pod::template_labels(o)))
            .collect()
    }
}
