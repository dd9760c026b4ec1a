//! How much cluster an environment needs: pods and their requests and limits at the minimum and
//! the maximum replica counts, persistent storage per class, a fit check against a node pool,
//! and the ResourceQuota + LimitRange that hold a namespace to its plan.

use crate::k8s::{self, Labels, PodResources, Role, Workload, fmt_bytes, fmt_cpu};
use berth_render::Rendered;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Totals of a set of pods.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub pods: u64,
    pub cpu_request: i64,
    pub cpu_limit: Option<i64>,
    pub memory_request: i64,
    pub memory_limit: Option<i64>,
    pub ephemeral_request: i64,
    pub ephemeral_limit: Option<i64>,
}

impl Totals {
    fn add(&mut self, r: &PodResources, n: u32) {
        let n64 = i64::from(n);
        self.pods += u64::from(n);
        self.cpu_request += r.cpu_request * n64;
        self.memory_request += r.memory_request * n64;
        self.ephemeral_request += r.ephemeral_request * n64;
        let lim = |acc: Option<i64>, l: Option<i64>| match (acc, l) {
            (Some(a), Some(b)) => Some(a + b * n64),
            _ if n == 0 => acc,
            _ => None,
        };
        self.cpu_limit = lim(self.cpu_limit, r.cpu_limit);
        self.memory_limit = lim(self.memory_limit, r.memory_limit);
        self.ephemeral_limit = lim(self.ephemeral_limit, r.ephemeral_limit);
    }

    fn zero() -> Totals {
        Totals {
            cpu_limit: Some(0),
            memory_limit: Some(0),
            ephemeral_limit: Some(0),
            ..Default::default()
        }
    }

    pub fn to_json(&self) -> Value {
        let opt =
            |v: Option<i64>, f: fn(i64) -> String| v.map(f).map(Value::from).unwrap_or(Value::Null);
        json!({
            "pods": self.pods,
            "cpu": { "requests": fmt_cpu(self.cpu_request), "limits": opt(self.cpu_limit, fmt_cpu),
                     "requestsMillicores": self.cpu_request, "limitsMillicores": self.cpu_limit },
            "memory": { "requests": fmt_bytes(self.memory_request), "limits": opt(self.memory_limit, fmt_bytes),
                        "requestsBytes": self.memory_request, "limitsBytes": self.memory_limit },
            "ephemeralStorage": { "requests": fmt_bytes(self.ephemeral_request), "limits": opt(self.ephemeral_limit, fmt_bytes),
                                  "requestsBytes": self.ephemeral_request, "limitsBytes": self.ephemeral_limit },
        })
    }
}

/// One workload's line in the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub workload: String,
    pub kind: String,
    pub role: Role,
    pub min: u32,
    pub max: u32,
    pub per_pod: PodResources,
    /// Claims per pod.
    pub claims: Vec<k8s::Claim>,
}

/// Persistent storage of one storage class.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageLine {
    /// None: the cluster's default class.
    pub class: Option<String>,
    pub claims_min: u64,
    pub claims_max: u64,
    pub bytes_min: i64,
    pub bytes_max: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub env: String,
    pub namespace: String,
    pub lines: Vec<Line>,
    /// Long-running pods at the minimum replicas.
    pub min: Totals,
    pub max: Totals,
    /// Pods of Jobs and CronJobs (migrations, backups): they run beside the others for a while.
    pub batch: Totals,
    /// Extra pods a rolling update adds at the maximum (each Deployment's `maxSurge`).
    pub surge: Totals,
    pub storage: Vec<StorageLine>,
    /// Per-node pods (DaemonSets), per node.
    pub per_node: Totals,
    /// Objects that may run pods but were not sized (unknown operator resources).
    pub not_sized: Vec<String>,
}

/// A rolling update's extra pods at `replicas` (`maxSurge`, default 25 %, rounded up).
fn surge(w: &Workload, replicas: u32) -> u32 {
    if w.object.kind != "Deployment" {
        return 0; // StatefulSets replace pods one at a time
    }
    let strategy = &w.object.body["spec"]["strategy"];
    if strategy["type"] == "Recreate" {
        return 0;
    }
    match &strategy["rollingUpdate"]["maxSurge"] {
        Value::Number(n) => n.as_u64().unwrap_or(0) as u32,
        Value::String(s) if s.ends_with('%') => {
            let pct: u32 = s.trim_end_matches('%').parse().unwrap_or(25);
            (replicas * pct).div_ceil(100)
        }
        _ => replicas.div_ceil(4),
    }
}

pub fn plan(r: &Rendered) -> Plan {
    let ws = k8s::workloads(r);
    let mut p = Plan {
        env: r.env.clone(),
        namespace: r.namespace.clone(),
        lines: Vec::new(),
        min: Totals::zero(),
        max: Totals::zero(),
        batch: Totals::zero(),
        surge: Totals::zero(),
        storage: Vec::new(),
        per_node: Totals::zero(),
        not_sized: k8s::unsized_kinds(r),
    };
    let mut storage: BTreeMap<Option<String>, StorageLine> = BTreeMap::new();
    let mut add_claim = |class: &Option<String>, bytes: i64, min: u32, max: u32| {
        let s = storage.entry(class.clone()).or_insert(StorageLine {
            class: class.clone(),
            claims_min: 0,
            claims_max: 0,
            bytes_min: 0,
            bytes_max: 0,
        });
        s.claims_min += u64::from(min);
        s.claims_max += u64::from(max);
        s.bytes_min += bytes * i64::from(min);
        s.bytes_max += bytes * i64::from(max);
    };
    for w in &ws {
        match w.role {
            Role::Service => {
                p.min.add(&w.resources, w.min);
                p.max.add(&w.resources, w.max);
                p.surge.add(&w.resources, surge(w, w.max));
            }
            Role::Batch => p.batch.add(&w.resources, w.max),
            Role::PerNode => p.per_node.add(&w.resources, 1),
        }
        for c in &w.claims {
            add_claim(&c.class, c.bytes, w.min, w.max);
        }
        p.lines.push(Line {
            workload: w.reference.clone(),
            kind: w.object.kind.clone(),
            role: w.role,
            min: w.min,
            max: w.max,
            per_pod: w.resources.clone(),
            claims: w.claims.clone(),
        });
    }
    // Standalone claims (not from a StatefulSet's templates).
    for o in r
        .objects
        .iter()
        .filter(|o| o.kind == "PersistentVolumeClaim")
    {
        let size = o
            .body
            .pointer("/spec/resources/requests/storage")
            .and_then(k8s::quantity_text)
            .and_then(|t| k8s::bytes(&t));
        if let Some(b) = size {
            let class = o
                .body
                .pointer("/spec/storageClassName")
                .and_then(Value::as_str)
                .map(str::to_owned);
            add_claim(&class, b, 1, 1);
        }
    }
    p.storage = storage.into_values().collect();
    p
}

impl Plan {
    pub fn to_json(&self) -> Value {
        let res = |r: &PodResources| {
            let opt = |v: Option<i64>, f: fn(i64) -> String| {
                v.map(f).map(Value::from).unwrap_or(Value::Null)
            };
            json!({
                "cpu": {"requests": fmt_cpu(r.cpu_request), "limits": opt(r.cpu_limit, fmt_cpu)},
                "memory": {"requests": fmt_bytes(r.memory_request), "limits": opt(r.memory_limit, fmt_bytes)},
                "ephemeralStorage": {"requests": fmt_bytes(r.ephemeral_request), "limits": opt(r.ephemeral_limit, fmt_bytes)},
                "emptyDir": fmt_bytes(r.empty_dir),
            })
        };
        json!({
            "environment": self.env,
            "namespace": self.namespace,
            "workloads": self.lines.iter().map(|l| json!({
                "workload": l.workload,
                "role": role_name(l.role),
                "replicas": {"min": l.min, "max": l.max},
                "perPod": res(&l.per_pod),
                "volumeClaims": l.claims.iter().map(|c| json!({"name": c.name, "size": fmt_bytes(c.bytes), "storageClass": c.class})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "min": self.min.to_json(),
            "max": self.max.to_json(),
            "rolloutSurgeAtMax": self.surge.to_json(),
            "batch": self.batch.to_json(),
            "perNode": self.per_node.to_json(),
            "persistentStorage": self.storage.iter().map(|s| json!({
                "storageClass": s.class,
                "claims": {"min": s.claims_min, "max": s.claims_max},
                "min": fmt_bytes(s.bytes_min),
                "max": fmt_bytes(s.bytes_max),
                "minBytes": s.bytes_min,
                "maxBytes": s.bytes_max,
            })).collect::<Vec<_>>(),
            "notSized": self.not_sized,
        })
    }

    /// The plan as a table for people.
    pub fn to_text(&self) -> String {
        let mut s = format!("{} (namespace {})\n", self.env, self.namespace);
        let lim = |v: Option<i64>, f: fn(i64) -> String| v.map(f).unwrap_or_else(|| "none".into());
        let mut rows = vec![[
            "WORKLOAD".to_string(),
            "REPLICAS".into(),
            "CPU REQ/LIM".into(),
            "MEMORY REQ/LIM".into(),
            "EPHEMERAL REQ/LIM".into(),
            "VOLUMES".into(),
        ]];
        for l in &self.lines {
            let replicas = match l.role {
                Role::PerNode => "1/node".to_string(),
                Role::Batch => format!("{} (job)", l.max),
                Role::Service if l.min == l.max => l.min.to_string(),
                Role::Service => format!("{}-{}", l.min, l.max),
            };
            let vols = l
                .claims
                .iter()
                .map(|c| {
                    format!(
                        "{} {}",
                        fmt_bytes(c.bytes),
                        c.class.as_deref().unwrap_or("(default)")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            rows.push([
                l.workload.clone(),
                replicas,
                format!(
                    "{}/{}",
                    fmt_cpu(l.per_pod.cpu_request),
                    lim(l.per_pod.cpu_limit, fmt_cpu)
                ),
                format!(
                    "{}/{}",
                    fmt_bytes(l.per_pod.memory_request),
                    lim(l.per_pod.memory_limit, fmt_bytes)
                ),
                format!(
                    "{}/{}",
                    fmt_bytes(l.per_pod.ephemeral_request),
                    lim(l.per_pod.ephemeral_limit, fmt_bytes)
                ),
                vols,
            ]);
        }
        for (label, t) in [
            ("TOTAL at min", &self.min),
            ("TOTAL at max", &self.max),
            ("+ rollout surge at max", &self.surge),
            ("+ jobs", &self.batch),
        ] {
            if t.pods == 0 && label.starts_with('+') {
                continue;
            }
            rows.push([
                label.to_string(),
                format!("{} pods", t.pods),
                format!("{}/{}", fmt_cpu(t.cpu_request), lim(t.cpu_limit, fmt_cpu)),
                format!(
                    "{}/{}",
                    fmt_bytes(t.memory_request),
                    lim(t.memory_limit, fmt_bytes)
                ),
                format!(
                    "{}/{}",
                    fmt_bytes(t.ephemeral_request),
                    lim(t.ephemeral_limit, fmt_bytes)
                ),
                String::new(),
            ]);
        }
        s.push_str(&table(&rows));
        if !self.storage.is_empty() {
            s.push('\n');
            let mut rows = vec![[
                "STORAGE CLASS".to_string(),
                "CLAIMS MIN/MAX".into(),
                "AT MIN".into(),
                "AT MAX".into(),
            ]];
            for st in &self.storage {
                rows.push([
                    st.class.clone().unwrap_or_else(|| "(default)".into()),
                    format!("{}/{}", st.claims_min, st.claims_max),
                    fmt_bytes(st.bytes_min),
                    fmt_bytes(st.bytes_max),
                ]);
            }
            s.push_str(&table(&rows));
        }
        if !self.not_sized.is_empty() {
            s.push_str(&format!(
                "not sized (unknown kinds): {}\n",
                self.not_sized.join(", ")
            ));
        }
        s
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Service => "service",
        Role::PerNode => "per-node",
        Role::Batch => "batch",
    }
}

/// Left-aligned columns, three spaces apart.
pub(crate) fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut s = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            line.push_str(c);
            if i + 1 < N {
                line.push_str(&" ".repeat(w - c.chars().count() + 3));
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Fit check

/// A group of identical nodes: `3x4cpu16Gi`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeGroup {
    pub count: u32,
    pub cpu: i64,
    pub memory: i64,
}

/// Parses `3x4cpu16Gi` (several groups comma-separated: `3x4cpu16Gi,1x16cpu64Gi`; the count is
/// optional). Capacities are what pods may request (the nodes' allocatable).
pub fn parse_nodes(text: &str) -> Result<Vec<NodeGroup>, String> {
    let bad = |part: &str| {
        format!(
            "`{part}` is not a node group; expected COUNTxCPUcpuMEMORY such as `3x4cpu16Gi` or `2x500mcpu2Gi`"
        )
    };
    let mut groups = Vec::new();
    for part in text.split(',').map(str::trim) {
        let (count, rest) = match part.split_once('x') {
            Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
                (n.parse::<u32>().map_err(|_| bad(part))?, rest)
            }
            _ => (1, part),
        };
        let (cpu, mem) = rest.split_once("cpu").ok_or_else(|| bad(part))?;
        let cpu = k8s::millis(cpu)
            .filter(|c| *c > 0)
            .ok_or_else(|| bad(part))?;
        let memory = k8s::bytes(mem)
            .filter(|m| *m > 0)
            .ok_or_else(|| bad(part))?;
        if count == 0 {
            return Err(format!("`{part}` has no nodes"));
        }
        groups.push(NodeGroup { count, cpu, memory });
    }
    Ok(groups)
}

#[derive(Debug, Clone)]
struct Pod<'a> {
    name: String,
    workload: usize,
    cpu: i64,
    memory: i64,
    labels: &'a Labels,
    /// Required anti-affinity on the node (topologyKey kubernetes.io/hostname).
    anti: Vec<&'a Value>,
    /// Hard spreading over nodes: (maxSkew, selector).
    spread: Vec<(i64, &'a Value)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeUse {
    pub name: String,
    pub cpu: i64,
    pub memory: i64,
    pub cpu_used: i64,
    pub memory_used: i64,
    pub pods: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unplaced {
    pub pod: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub fits: bool,
    pub nodes: Vec<NodeUse>,
    pub unplaced: Vec<Unplaced>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    pub min: Fit,
    pub max: Fit,
}

impl FitReport {
    pub fn to_json(&self) -> Value {
        let f = |fit: &Fit| {
            json!({
                "fits": fit.fits,
                "unplaced": fit.unplaced.iter().map(|u| json!({"pod": u.pod, "reason": u.reason})).collect::<Vec<_>>(),
                "nodes": fit.nodes.iter().map(|n| json!({
                    "node": n.name,
                    "cpu": {"allocatable": fmt_cpu(n.cpu), "requested": fmt_cpu(n.cpu_used)},
                    "memory": {"allocatable": fmt_bytes(n.memory), "requested": fmt_bytes(n.memory_used)},
                    "pods": n.pods,
                })).collect::<Vec<_>>(),
            })
        };
        json!({"min": f(&self.min), "max": f(&self.max)})
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (label, fit) in [("min", &self.min), ("max", &self.max)] {
            let pods: usize = fit.nodes.iter().map(|n| n.pods.len()).sum();
            if fit.fits {
                s.push_str(&format!(
                    "fit at {label}: yes ({pods} pod{} on {} node{})\n",
                    if pods == 1 { "" } else { "s" },
                    fit.nodes.len(),
                    if fit.nodes.len() == 1 { "" } else { "s" }
                ));
            } else {
                s.push_str(&format!(
                    "fit at {label}: NO ({} not fit)\n",
                    if fit.unplaced.len() == 1 {
                        "1 pod does".to_string()
                    } else {
                        format!("{} pods do", fit.unplaced.len())
                    }
                ));
                for u in &fit.unplaced {
                    s.push_str(&format!("  {}: {}\n", u.pod, u.reason));
                }
            }
            for n in &fit.nodes {
                s.push_str(&format!(
                    "  {}: cpu {}/{} ({}%), memory {}/{} ({}%), {} pod{}\n",
                    n.name,
                    fmt_cpu(n.cpu_used),
                    fmt_cpu(n.cpu),
                    n.cpu_used * 100 / n.cpu.max(1),
                    fmt_bytes(n.memory_used),
                    fmt_bytes(n.memory),
                    n.memory_used * 100 / n.memory.max(1),
                    n.pods.len(),
                    if n.pods.len() == 1 { "" } else { "s" }
                ));
            }
        }
        s
    }
}

fn hard_constraints(pod_spec: Option<&Value>) -> (Vec<&Value>, Vec<(i64, &Value)>) {
    let Some(ps) = pod_spec else {
        return (Vec::new(), Vec::new());
    };
    let anti = ps
        .pointer("/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t["topologyKey"] == "kubernetes.io/hostname")
        .map(|t| &t["labelSelector"])
        .collect();
    let spread = ps["topologySpreadConstraints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| {
            c["topologyKey"] == "kubernetes.io/hostname"
                && c["whenUnsatisfiable"] == "DoNotSchedule"
        })
        .map(|c| (c["maxSkew"].as_i64().unwrap_or(1), &c["labelSelector"]))
        .collect();
    (anti, spread)
}

/// Packs the environment's pods onto the nodes at its minimum and at its maximum replicas, as the
/// scheduler would: requests must fit, required anti-affinity and `DoNotSchedule` spreading over
/// nodes hold, and among the nodes that qualify a pod goes where the fewest of its siblings run,
/// then where the most is free. Per-node pods (DaemonSets) go on every node first. Jobs are left
/// out: they come and go.
pub fn fit(r: &Rendered, groups: &[NodeGroup]) -> FitReport {
    let ws = k8s::workloads(r);
    FitReport {
        min: pack(&ws, groups, false),
        max: pack(&ws, groups, true),
    }
}

fn pack(ws: &[Workload], groups: &[NodeGroup], at_max: bool) -> Fit {
    let mut nodes: Vec<NodeUse> = Vec::new();
    for g in groups {
        for _ in 0..g.count {
            nodes.push(NodeUse {
                name: format!("node-{}", nodes.len() + 1),
                cpu: g.cpu,
                memory: g.memory,
                cpu_used: 0,
                memory_used: 0,
                pods: Vec::new(),
            });
        }
    }
    // Placed pods per node: (workload index, labels, anti-affinity selectors).
    let mut placed: Vec<Vec<(usize, &Labels, Vec<&Value>)>> = vec![Vec::new(); nodes.len()];
    let mut unplaced = Vec::new();
    let mut pods: Vec<Pod> = Vec::new();
    for (wi, w) in ws.iter().enumerate() {
        let (anti, spread) = hard_constraints(w.pod_spec);
        let base = w.reference.rsplit('/').next().unwrap_or_default();
        match w.role {
            Role::Batch => continue,
            Role::PerNode => {
                for (ni, n) in nodes.iter_mut().enumerate() {
                    let name = format!("{base}-{}", ni + 1);
                    if n.cpu - n.cpu_used >= w.resources.cpu_request
                        && n.memory - n.memory_used >= w.resources.memory_request
                    {
                        n.cpu_used += w.resources.cpu_request;
                        n.memory_used += w.resources.memory_request;
                        n.pods.push(name);
                        placed[ni].push((wi, &w.pod_labels, anti.clone()));
                    } else {
                        unplaced.push(Unplaced {
                            pod: format!("{name} ({})", w.reference),
                            reason: format!("per-node pod does not fit on {}", n.name),
                        });
                    }
                }
            }
            Role::Service => {
                let n = if at_max { w.max } else { w.min };
                for i in 0..n {
                    pods.push(Pod {
                        name: format!("{base}-{i}"),
                        workload: wi,
                        cpu: w.resources.cpu_request,
                        memory: w.resources.memory_request,
                        labels: &w.pod_labels,
                        anti: anti.clone(),
                        spread: spread.clone(),
                    });
                }
            }
        }
    }
    // Largest first (by their share of the largest node), siblings together in order.
    let max_cpu = nodes.iter().map(|n| n.cpu).max().unwrap_or(1).max(1) as f64;
    let max_mem = nodes.iter().map(|n| n.memory).max().unwrap_or(1).max(1) as f64;
    let size = |p: &Pod| (p.cpu as f64 / max_cpu).max(p.memory as f64 / max_mem);
    pods.sort_by(|a, b| {
        size(b)
            .partial_cmp(&size(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.workload.cmp(&b.workload))
    });
    for p in &pods {
        let mut why = BTreeMap::<&str, usize>::new();
        let mut best: Option<(usize, (usize, i64))> = None;
        for (ni, n) in nodes.iter().enumerate() {
            if n.cpu - n.cpu_used < p.cpu {
                *why.entry("not enough cpu").or_default() += 1;
                continue;
            }
            if n.memory - n.memory_used < p.memory {
                *why.entry("not enough memory").or_default() += 1;
                continue;
            }
            let conflicts = placed[ni].iter().any(|(_, labels, their_anti)| {
                p.anti.iter().any(|s| k8s::selects(Some(s), labels))
                    || their_anti.iter().any(|s| k8s::selects(Some(s), p.labels))
            });
            if conflicts {
                *why.entry("required anti-affinity").or_default() += 1;
                continue;
            }
            let skewed = p.spread.iter().any(|(max_skew, sel)| {
                let count = |i: usize| {
                    placed[i]
                        .iter()
                        .filter(|(_, l, _)| k8s::selects(Some(sel), l))
                        .count() as i64
                };
                let min = (0..nodes.len()).map(count).min().unwrap_or(0);
                count(ni) + 1 - min > *max_skew
            });
            if skewed {
                *why.entry("topology spread (DoNotSchedule)").or_default() += 1;
                continue;
            }
            let siblings = placed[ni]
                .iter()
                .filter(|(w, _, _)| *w == p.workload)
                .count();
            let free = (n.cpu - n.cpu_used) * 1000 / n.cpu.max(1)
                + (n.memory - n.memory_used) * 1000 / n.memory.max(1);
            let key = (siblings, -free);
            if best.as_ref().is_none_or(|(_, k)| key < *k) {
                best = Some((ni, key));
            }
        }
        match best {
            Some((ni, _)) => {
                let n = &mut nodes[ni];
                n.cpu_used += p.cpu;
                n.memory_used += p.memory;
                n.pods.push(p.name.clone());
                placed[ni].push((p.workload, p.labels, p.anti.clone()));
            }
            None => unplaced.push(Unplaced {
                pod: format!(
                    "{} ({}, requests cpu {} memory {})",
                    p.name,
                    ws[p.workload].reference,
                    fmt_cpu(p.cpu),
                    fmt_bytes(p.memory)
                ),
                reason: if nodes.is_empty() {
                    "no nodes".into()
                } else {
                    why.iter()
                        .map(|(w, n)| format!("{w} on {n} node{}", if *n == 1 { "" } else { "s" }))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            }),
        }
    }
    for n in &mut nodes {
        n.pods.sort();
    }
    Fit {
        fits: unplaced.is_empty(),
        nodes,
        unplaced,
    }
}

// ---------------------------------------------------------------------------------------------
// ResourceQuota and LimitRange

/// The ResourceQuota and LimitRange that hold the namespace to its plan: the maximum, plus a
/// rolling update's surge and the Jobs that may run beside it, and per container no more than
/// the largest container the render asks for. Both are plain objects in the namespace, applied
/// before the workloads.
pub fn quota_objects(r: &Rendered, app: &str) -> Vec<Value> {
    // One pair per namespace the render puts pods or claims in.
    let mut namespaces: Vec<&str> = r
        .objects
        .iter()
        .filter_map(|o| o.namespace.as_deref())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    let mut out = Vec::new();
    for ns in namespaces {
        let part = Rendered {
            env: r.env.clone(),
            namespace: ns.to_owned(),
            namespaces: r
                .namespaces
                .iter()
                .filter(|n| n.name == ns)
                .cloned()
                .collect(),
            objects: r
                .objects
                .iter()
                .filter(|o| o.namespace.as_deref() == Some(ns))
                .cloned()
                .collect(),
            warnings: Vec::new(),
        };
        if plan(&part).lines.is_empty() {
            continue;
        }
        out.extend(namespace_quota(&part, app));
    }
    out
}

fn namespace_quota(r: &Rendered, app: &str) -> Vec<Value> {
    let p = plan(r);
    let mut hard = BTreeMap::<String, String>::new();
    let total = |f: fn(&Totals) -> i64| f(&p.max) + f(&p.surge) + f(&p.batch);
    let pods = p.max.pods + p.surge.pods + p.batch.pods;
    hard.insert("pods".into(), pods.to_string());
    hard.insert("requests.cpu".into(), fmt_cpu(total(|t| t.cpu_request)));
    hard.insert(
        "requests.memory".into(),
        fmt_bytes(total(|t| t.memory_request)),
    );
    hard.insert(
        "requests.ephemeral-storage".into(),
        fmt_bytes(total(|t| t.ephemeral_request)),
    );
    let lim = |f: fn(&Totals) -> Option<i64>| Some(f(&p.max)? + f(&p.surge)? + f(&p.batch)?);
    if let Some(c) = lim(|t| t.cpu_limit) {
        hard.insert("limits.cpu".into(), fmt_cpu(c));
    }
    if let Some(m) = lim(|t| t.memory_limit) {
        hard.insert("limits.memory".into(), fmt_bytes(m));
    }
    if let Some(e) = lim(|t| t.ephemeral_limit) {
        hard.insert("limits.ephemeral-storage".into(), fmt_bytes(e));
    }
    if !p.storage.is_empty() {
        let claims: u64 = p.storage.iter().map(|s| s.claims_max).sum();
        let bytes: i64 = p.storage.iter().map(|s| s.bytes_max).sum();
        hard.insert("persistentvolumeclaims".into(), claims.to_string());
        hard.insert("requests.storage".into(), fmt_bytes(bytes));
        for s in &p.storage {
            if let Some(class) = &s.class {
                hard.insert(
                    format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                    fmt_bytes(s.bytes_max),
                );
                hard.insert(
                    format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
                    s.claims_max.to_string(),
                );
            }
        }
    }
    // Per container: the largest limits any container of the render has.
    let mut max_cpu = 0i64;
    let mut max_mem = 0i64;
    let mut max_eph = 0i64;
    for w in k8s::workloads(r) {
        let Some(ps) = w.pod_spec else { continue };
        for c in ps["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(ps["initContainers"].as_array().into_iter().flatten())
        {
            let get = |k: &str| {
                c.pointer(&format!("/resources/limits/{k}"))
                    .and_then(k8s::quantity_text)
            };
            max_cpu = max_cpu.max(get("cpu").and_then(|t| k8s::millis(&t)).unwrap_or(0));
            max_mem = max_mem.max(get("memory").and_then(|t| k8s::bytes(&t)).unwrap_or(0));
            max_eph = max_eph.max(
                get("ephemeral-storage")
                    .and_then(|t| k8s::bytes(&t))
                    .unwrap_or(0),
            );
        }
    }
    let labels = json!({
        "app.kubernetes.io/component": "capacity",
        "app.kubernetes.io/managed-by": "berth",
        "app.kubernetes.io/part-of": app,
    });
    let mut limit = serde_json::Map::new();
    limit.insert("type".into(), "Container".into());
    let mut max = serde_json::Map::new();
    if max_cpu > 0 {
        max.insert("cpu".into(), fmt_cpu(max_cpu).into());
    }
    if max_mem > 0 {
        max.insert("memory".into(), fmt_bytes(max_mem).into());
    }
    if max_eph > 0 {
        max.insert("ephemeral-storage".into(), fmt_bytes(max_eph).into());
    }
    if !max.is_empty() {
        limit.insert("max".into(), Value::Object(max));
    }
    // Containers that come without resources (`kubectl debug`, `kubectl run`) get berth's
    // defaults, so the quota can admit them (a quota on limits refuses pods without limits).
    // Clamped to the maximum: the API server refuses a default above it.
    let clamp = |d: i64, m: i64| if m > 0 { d.min(m) } else { d };
    limit.insert(
        "default".into(),
        json!({"cpu": fmt_cpu(clamp(500, max_cpu)), "memory": fmt_bytes(clamp(256 << 20, max_mem)), "ephemeral-storage": fmt_bytes(clamp(512 << 20, max_eph))}),
    );
    limit.insert(
        "defaultRequest".into(),
        json!({"cpu": fmt_cpu(clamp(100, max_cpu)), "memory": fmt_bytes(clamp(128 << 20, max_mem)), "ephemeral-storage": fmt_bytes(clamp(128 << 20, max_eph))}),
    );
    vec![
        json!({
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": format!("{app}-capacity"), "namespace": r.namespace, "labels": labels},
            "spec": {"hard": hard},
        }),
        json!({
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": format!("{app}-capacity"), "namespace": r.namespace, "labels": labels},
            "spec": {"limits": [Value::Object(limit)]},
        }),
    ]
}
