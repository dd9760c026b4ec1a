//! Reading rendered objects: quantities, label selectors, and the workloads (anything that runs
//! pods) with their replica ranges and pod templates.

use berth_render::{Object, Rendered};
use serde_json::Value;
use std::collections::BTreeMap;

/// A Kubernetes quantity in milli-units (millicores for CPU, millibytes would overflow nothing
/// we render, but bytes are kept whole: see [`bytes`]).
pub fn millis(text: &str) -> Option<i64> {
    let v = parse(text)?;
    Some((v * 1000.0).round() as i64)
}

/// A quantity in whole base units (bytes), rounded up.
pub fn bytes(text: &str) -> Option<i64> {
    Some(parse(text)?.ceil() as i64)
}

fn parse(text: &str) -> Option<f64> {
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("Ei", 1152921504606846976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let t = text.trim();
    let (number, factor) = SUFFIXES
        .iter()
        .find_map(|(s, f)| t.strip_suffix(s).map(|n| (n, *f)))
        .unwrap_or((t, 1.0));
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// A JSON quantity (string or number) as text.
pub fn quantity_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Millicores as Kubernetes writes them: `250m`, `2`, `1500m`.
pub fn fmt_cpu(m: i64) -> String {
    if m % 1000 == 0 {
        format!("{}", m / 1000)
    } else {
        format!("{m}m")
    }
}

/// Bytes as a quantity: the largest binary unit that divides it, else Mi rounded up.
pub fn fmt_bytes(b: i64) -> String {
    const UNITS: &[(&str, i64)] = &[("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20)];
    if b == 0 {
        return "0".into();
    }
    for (unit, size) in UNITS {
        if b % size == 0 {
            return format!("{}{unit}", b / size);
        }
    }
    if b % 1024 == 0 {
        return format!("{}Ki", b / 1024);
    }
    format!("{}", b)
}

pub type Labels = BTreeMap<String, String>;

pub fn labels_of(v: &Value) -> Labels {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a LabelSelector (`matchLabels` + `matchExpressions`) selects these labels. An empty
/// selector selects everything; a missing one (`None`) nothing.
pub fn selects(selector: Option<&Value>, labels: &Labels) -> bool {
    let Some(sel) = selector else { return false };
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if labels.get(k).map(String::as_str) != v.as_str() {
                return false;
            }
        }
    }
    for expr in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expr["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = expr["values"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let have = labels.get(key).map(String::as_str);
        let ok = match expr["operator"].as_str().unwrap_or_default() {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => !have.is_some_and(|h| values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// `matchLabels` of a selector as `k=v,k=v` (for `kubectl -l`); None when it has expressions.
pub fn selector_string(sel: &Value) -> Option<String> {
    if sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        return None;
    }
    let ml = sel.get("matchLabels")?.as_object()?;
    Some(
        ml.iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Something that runs pods.
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    pub object: &'a Object,
    /// `deployment/backend`, as kubectl names it.
    pub reference: String,
    /// The pod template's `spec` (None for custom resources whose operator builds the pods).
    pub pod_spec: Option<&'a Value>,
    pub pod_labels: Labels,
    pub min: u32,
    pub max: u32,
    /// The autoscaler that moves it between `min` and `max`.
    pub hpa: Option<&'a Object>,
    pub role: Role,
    /// Per pod.
    pub resources: PodResources,
    /// Persistent volume claims per pod.
    pub claims: Vec<Claim>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs continuously (Deployment, StatefulSet, operator-managed database, …).
    Service,
    /// One pod per node.
    PerNode,
    /// Runs to completion (Job, CronJob): migrations, backups.
    Batch,
}

/// Requests and limits of one pod, in millicores and bytes. A limit of `None` means some
/// container has none (unbounded).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodResources {
    pub cpu_request: i64,
    pub cpu_limit: Option<i64>,
    pub memory_request: i64,
    pub memory_limit: Option<i64>,
    pub ephemeral_request: i64,
    pub ephemeral_limit: Option<i64>,
    /// emptyDir `sizeLimit`s (node disk, or memory for `medium: Memory`).
    pub empty_dir: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub name: String,
    pub bytes: i64,
    /// None: the cluster's default storage class.
    pub class: Option<String>,
}

/// The value under `keys` (object keys only): `Value::pointer` without formatting a pointer
/// and unescaping each of its segments, for lookups done per workload and object.
fn at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| v.get(k))
}

fn container_resources(c: &Value) -> [(i64, Option<i64>); 3] {
    let get = |section: &str, key: &str, f: fn(&str) -> Option<i64>| -> Option<i64> {
        at(c, &["resources", section, key])
            .and_then(quantity_text)
            .and_then(|t| f(&t))
    };
    let pair = |key: &str, f: fn(&str) -> Option<i64>| {
        let limit = get("limits", key, f);
        // A request defaults to the limit when only the limit is set.
        let request = get("requests", key, f).or(limit).unwrap_or(0);
        (request, limit)
    };
    [
        pair("cpu", millis),
        pair("memory", bytes),
        pair("ephemeral-storage", bytes),
    ]
}

/// A pod's effective requests and limits, as the scheduler computes them: the larger of the
/// regular containers (plus native sidecars) and each init container (plus the sidecars started
/// before it).
pub fn pod_resources(pod_spec: &Value) -> PodResources {
    let mut sum = [(0i64, Some(0i64)); 3];
    let add = |acc: &mut [(i64, Option<i64>); 3], r: &[(i64, Option<i64>); 3]| {
        for i in 0..3 {
            acc[i].0 += r[i].0;
            acc[i].1 = match (acc[i].1, r[i].1) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
    };
    for c in pod_spec["containers"].as_array().into_iter().flatten() {
        add(&mut sum, &container_resources(c));
    }
    let mut sidecars = [(0i64, Some(0i64)); 3];
    let mut init_peak = [(0i64, Some(0i64)); 3];
    for c in pod_spec["initContainers"].as_array().into_iter().flatten() {
        let r = container_resources(c);
        if c["restartPolicy"] == "Always" {
            add(&mut sidecars, &r);
        } else {
            let mut during = sidecars;
            add(&mut during, &r);
            for i in 0..3 {
                init_peak[i].0 = init_peak[i].0.max(during[i].0);
                init_peak[i].1 = match (init_peak[i].1, during[i].1) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
        }
    }
    add(&mut sum, &sidecars);
    let eff = |i: usize| {
        (
            sum[i].0.max(init_peak[i].0),
            match (sum[i].1, init_peak[i].1) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            },
        )
    };
    let empty_dir = pod_spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.pointer("/emptyDir/sizeLimit").and_then(quantity_text))
        .filter_map(|t| bytes(&t))
        .sum();
    PodResources {
        cpu_request: eff(0).0,
        cpu_limit: eff(0).1,
        memory_request: eff(1).0,
        memory_limit: eff(1).1,
        ephemeral_request: eff(2).0,
        ephemeral_limit: eff(2).1,
        empty_dir,
    }
}

fn claim_of(name: &str, spec: &Value) -> Option<Claim> {
    let size = spec
        .pointer("/resources/requests/storage")
        .and_then(quantity_text)?;
    Some(Claim {
        name: name.to_owned(),
        bytes: bytes(&size)?,
        class: spec["storageClassName"].as_str().map(str::to_owned),
    })
}

fn u32_at(v: &Value, pointer: &str) -> Option<u32> {
    v.pointer(pointer).and_then(Value::as_u64).map(|n| n as u32)
}

/// The autoscaler whose `scaleTargetRef` names this object.
fn hpa_for<'a>(r: &'a Rendered, o: &Object) -> Option<&'a Object> {
    r.objects.iter().find(|h| {
        h.kind == "HorizontalPodAutoscaler"
            && h.namespace == o.namespace
            && at(&h.body, &["spec", "scaleTargetRef", "kind"]).and_then(Value::as_str)
                == Some(o.kind.as_str())
            && at(&h.body, &["spec", "scaleTargetRef", "name"]).and_then(Value::as_str)
                == Some(o.name.as_str())
    })
}

/// Every object of a render that runs pods, in render order. Custom resources of the database
/// operators berth targets (CloudNativePG `Cluster`, Strimzi `Kafka`/`KafkaNodePool`) count with
/// the instances and resources they ask their operator for.
pub fn workloads(r: &Rendered) -> Vec<Workload<'_>> {
    let mut out = Vec::new();
    for o in &r.objects {
        let b = &o.body;
        let reference = if o.kind == "Pooler" {
            format!("pooler.postgresql.cnpg.io/{}", o.name)
        } else {
            format!("{}/{}", o.kind.to_ascii_lowercase(), o.name)
        };
        let template = match o.kind.as_str() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                b.pointer("/spec/template")
            }
            "CronJob" => b.pointer("/spec/jobTemplate/spec/template"),
            "Pod" => Some(b),
            // CloudNativePG's PgBouncer pods: `instances` copies of `template`.
            "Pooler" if o.api_version.starts_with("postgresql.cnpg.io/") => {
                b.pointer("/spec/template")
            }
            _ => None,
        };
        if let Some(t) = template {
            let pod_spec = &t["spec"];
            let hpa = hpa_for(r, o);
            let (role, base) = match o.kind.as_str() {
                "DaemonSet" => (Role::PerNode, 1),
                "Job" => (Role::Batch, u32_at(b, "/spec/parallelism").unwrap_or(1)),
                "CronJob" => (
                    Role::Batch,
                    u32_at(b, "/spec/jobTemplate/spec/parallelism").unwrap_or(1),
                ),
                "Pod" => (Role::Service, 1),
                "Pooler" => (Role::Service, u32_at(b, "/spec/instances").unwrap_or(1)),
                _ => (Role::Service, u32_at(b, "/spec/replicas").unwrap_or(1)),
            };
            let (min, max) = match hpa {
                Some(h) => (
                    u32_at(&h.body, "/spec/minReplicas").unwrap_or(1),
                    u32_at(&h.body, "/spec/maxReplicas").unwrap_or(base),
                ),
                None => (base, base),
            };
            let mut claims = Vec::new();
            for vct in b
                .pointer("/spec/volumeClaimTemplates")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = vct.pointer("/metadata/name").and_then(Value::as_str);
                if let Some(c) = claim_of(name.unwrap_or("data"), &vct["spec"]) {
                    claims.push(c);
                }
            }
            out.push(Workload {
                object: o,
                reference,
                pod_spec: Some(pod_spec),
                pod_labels: if o.kind == "Pooler" {
                    // The operator labels its pods with the Pooler's name.
                    Labels::from([("cnpg.io/poolerName".into(), o.name.clone())])
                } else {
                    labels_of(&t["metadata"]["labels"])
                },
                min,
                max,
                hpa,
                role,
                resources: pod_resources(pod_spec),
                claims,
            });
            continue;
        }
        match (
            o.api_version.split('/').next().unwrap_or_default(),
            o.kind.as_str(),
        ) {
            ("postgresql.cnpg.io", "Cluster") => {
                let n = u32_at(b, "/spec/instances").unwrap_or(1);
                let mut claims = Vec::new();
                for (key, name) in [("storage", "pgdata"), ("walStorage", "pg-wal")] {
                    if let Some(s) = b["spec"].get(key)
                        && let Some(size) = s.get("size").and_then(quantity_text)
                        && let Some(bytes) = bytes(&size)
                    {
                        claims.push(Claim {
                            name: name.into(),
                            bytes,
                            class: s["storageClass"].as_str().map(str::to_owned),
                        });
                    }
                }
                let fake_pod =
                    serde_json::json!({"containers": [{"resources": b["spec"]["resources"]}]});
                out.push(Workload {
                    object: o,
                    reference: format!("cluster.postgresql.cnpg.io/{}", o.name),
                    pod_spec: None,
                    pod_labels: Labels::from([("cnpg.io/cluster".into(), o.name.clone())]),
                    min: n,
                    max: n,
                    hpa: None,
                    role: Role::Service,
                    resources: pod_resources(&fake_pod),
                    claims,
                });
            }
            ("kafka.strimzi.io", "Kafka" | "KafkaNodePool") => {
                let spec = if o.kind == "Kafka" {
                    &b["spec"]["kafka"]
                } else {
                    &b["spec"]
                };
                let Some(n) = spec.get("replicas").and_then(Value::as_u64) else {
                    continue; // KRaft clusters size in their node pools
                };
                let mut claims = Vec::new();
                let storage = &spec["storage"];
                let volumes: Vec<&Value> = match storage["type"].as_str() {
                    Some("jbod") => storage["volumes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .collect(),
                    _ => vec![storage],
                };
                for (i, v) in volumes.iter().enumerate() {
                    if v["type"] == "persistent-claim"
                        && let Some(size) = v.get("size").and_then(quantity_text)
                        && let Some(bytes) = bytes(&size)
                    {
                        claims.push(Claim {
                            name: format!("data-{i}"),
                            bytes,
                            class: v["class"].as_str().map(str::to_owned),
                        });
                    }
                }
                let fake_pod =
                    serde_json::json!({"containers": [{"resources": spec["resources"]}]});
                out.push(Workload {
                    object: o,
                    reference: format!(
                        "{}.kafka.strimzi.io/{}",
                        o.kind.to_ascii_lowercase(),
                        o.name
                    ),
                    pod_spec: None,
                    pod_labels: Labels::from([("strimzi.io/cluster".into(), o.name.clone())]),
                    min: n as u32,
                    max: n as u32,
                    hpa: None,
                    role: Role::Service,
                    resources: pod_resources(&fake_pod),
                    claims,
                });
            }
            _ => {}
        }
    }
    out
}

/// Kinds in a render that may run pods but that berth cannot size (an operator's custom
/// resource it does not know), so a plan can say what it left out.
pub fn unsized_kinds(r: &Rendered) -> Vec<String> {
    // Custom resources berth renders that run no pods of their own (the kind table knows the
    // built-in kinds and Dapr's).
    const PODLESS_RESOURCES: &[&str] = &[
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
        "ScheduledBackup",
        "KafkaTopic",
        "KafkaUser",
        "Database",
        "ObjectStore",
        "VerticalPodAutoscaler",
        "GrafanaDashboard",
    ];
    let podless = |kind: &str| {
        berth_kinds::get(kind).is_some_and(|k| k.pod_template.is_none())
            || PODLESS_RESOURCES.contains(&kind)
    };
    let sized: Vec<&Object> = workloads(r).iter().map(|w| w.object).collect();
    let mut out: Vec<String> = r
        .objects
        .iter()
        .filter(|o| !podless(&o.kind) && !sized.iter().any(|s| std::ptr::eq(*s, *o)))
        .map(|o| format!("{}/{}", o.kind, o.name))
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities() {
        assert_eq!(millis("500m"), Some(500));
        assert_eq!(millis("2"), Some(2000));
        assert_eq!(bytes("256Mi"), Some(256 << 20));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(fmt_cpu(1500), "1500m");
        assert_eq!(fmt_cpu(3000), "3");
        assert_eq!(fmt_bytes(3 << 30), "3Gi");
        assert_eq!(fmt_bytes(1536 << 20), "1536Mi");
    }

    #[test]
    fn selectors() {
        let l: Labels = [("app".to_string(), "a".to_string())].into();
        assert!(selects(Some(&json!({})), &l));
        assert!(!selects(None, &l));
        assert!(selects(Some(&json!({"matchLabels": {"app": "a"}})), &l));
        assert!(!selects(Some(&json!({"matchLabels": {"app": "b"}})), &l));
        let e = |op: &str| json!({"matchExpressions": [{"key": "app", "operator": op, "values": ["a"]}]});
        assert!(selects(Some(&e("In")), &l));
        assert!(!selects(Some(&e("NotIn")), &l));
        assert!(selects(Some(&e("Exists")), &l));
        assert!(!selects(Some(&e("DoesNotExist")), &l));
    }

    #[test]
    fn init_containers_and_sidecars_count_as_the_scheduler_counts_them() {
        let pod = json!({
            "containers": [{"resources": {"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "200Mi"}}}],
            "initContainers": [
                {"restartPolicy": "Always", "resources": {"requests": {"cpu": "50m", "memory": "10Mi"}, "limits": {"cpu": "100m", "memory": "20Mi"}}},
                {"resources": {"requests": {"cpu": "2", "memory": "1Mi"}, "limits": {"cpu": "2", "memory": "1Mi"}}}
            ]
        });
        let r = pod_resources(&pod);
        // init: 2 + the 50m sidecar before it; running: 100m + 50m.
        assert_eq!(r.cpu_request, 2050);
        assert_eq!(r.memory_request, 110 << 20);
        assert_eq!(r.cpu_limit, Some(2100));
        let unbounded = json!({"containers": [{"resources": {"requests": {"cpu": "1"}}}]});
        assert_eq!(pod_resources(&unbounded).cpu_limit, None);
    }
}
