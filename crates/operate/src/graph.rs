//! The architecture as the cluster will enforce it: which workload may open a connection to which
//! other workload, external endpoint, DNS or the ingress controller, on which ports, computed
//! from the rendered NetworkPolicies (pod and namespace selectors, ipBlocks, ports), not from
//! the spec's `uses`. Drawn as SVG, Mermaid or Graphviz dot.
//!
//! Semantics (Kubernetes NetworkPolicy): a connection is allowed when the source may send it (no
//! Egress policy selects the source pod, or a rule of one that does allows the destination and
//! port) and the destination may receive it (likewise for Ingress). ipBlock peers are taken to
//! reach addresses outside the cluster only (whether an ipBlock reaches pod IPs depends on the
//! network plugin).

use crate::k8s::{self, Labels};
use berth_render::Rendered;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    /// An Ingress host name (where users come from).
    Host,
    /// The ingress controller's namespace.
    IngressController,
    /// A workload of the app.
    Service,
    /// A workload that keeps data (StatefulSet, database operator resource).
    DataService,
    /// A Service without pods of the app (ExternalName or selector-less): an external endpoint.
    External,
    /// An address range reached through an ipBlock that no external endpoint accounts for.
    Network,
    /// The cluster DNS.
    Dns,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Node {
    /// Unique: the workload or Service name, `host:NAME`, `ns:NAME`, `cidr:RANGE`, `dns`.
    pub id: String,
    pub label: String,
    pub kind: NodeKind,
    pub namespace: Option<String>,
}

/// A port on an edge: `8000/TCP`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port {
    pub port: u16,
    pub protocol: String,
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub ports: Vec<Port>,
    /// Where the edge comes from: `networkpolicy` or `ingress` (an Ingress rule's host).
    pub via: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub env: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// A pod (or stand-in) that connections go from or to.
struct Endpoint {
    id: String,
    namespace: String,
    /// Its namespace's labels (what a `namespaceSelector` sees), looked up once.
    namespace_labels: Labels,
    labels: Labels,
    ports: Vec<(Port, Option<String>)>,
}

/// The policies that select an endpoint, per direction, looked up once per endpoint rather
/// than for every pair and port.
struct Selected<'a> {
    /// Governed by the app's policies (one of the app's own workloads).
    governed: bool,
    ingress: Vec<(&'a str, &'a Value)>,
    egress: Vec<(&'a str, &'a Value)>,
}

impl<'a> Selected<'a> {
    fn of(pols: &[(&'a str, &'a Value)], governed: &BTreeSet<String>, ep: &Endpoint) -> Self {
        Selected {
            governed: governed.contains(&ep.id),
            ingress: selecting(pols, ep, false),
            egress: selecting(pols, ep, true),
        }
    }
}

fn namespace_labels(r: &Rendered, ns: &str) -> Labels {
    let mut l = Labels::from([("kubernetes.io/metadata.name".to_string(), ns.to_string())]);
    if let Some(o) = r
        .objects
        .iter()
        .find(|o| o.kind == "Namespace" && o.name == ns)
    {
        l.extend(k8s::labels_of(&o.body["metadata"]["labels"]));
    }
    l
}

fn types(policy: &Value) -> (bool, bool) {
    match policy["spec"]["policyTypes"].as_array() {
        Some(t) => (
            t.iter().any(|v| v == "Ingress"),
            t.iter().any(|v| v == "Egress"),
        ),
        // Without policyTypes: Ingress always, Egress when it has egress rules.
        None => (true, policy["spec"]["egress"].is_array()),
    }
}

/// Whether a rule's `ports` allow this port (named ports resolve against the destination's).
fn port_allowed(rule: &Value, port: &Port, name: Option<&str>) -> bool {
    let Some(ports) = rule["ports"].as_array().filter(|p| !p.is_empty()) else {
        return true;
    };
    ports.iter().any(|p| {
        let proto = p["protocol"].as_str().unwrap_or("TCP");
        if proto != port.protocol {
            return false;
        }
        match &p["port"] {
            Value::Null => true,
            Value::Number(n) => {
                let lo = n.as_u64().unwrap_or(0);
                let hi = p["endPort"].as_u64().unwrap_or(lo);
                (lo..=hi).contains(&u64::from(port.port))
            }
            Value::String(s) => name == Some(s.as_str()),
            _ => false,
        }
    })
}

/// Whether a peer (`podSelector`/`namespaceSelector`) of a policy in `policy_ns` matches a pod.
fn peer_matches(peer: &Value, policy_ns: &str, ep: &Endpoint) -> bool {
    if peer.get("ipBlock").is_some() {
        return false;
    }
    let ns_ok = match peer.get("namespaceSelector") {
        Some(sel) => k8s::selects(Some(sel), &ep.namespace_labels),
        None => ep.namespace == policy_ns,
    };
    let pod_ok = match peer.get("podSelector") {
        Some(sel) => k8s::selects(Some(sel), &ep.labels),
        None => true,
    };
    ns_ok && pod_ok
}

fn policies(r: &Rendered) -> Vec<(&str, &Value)> {
    r.objects
        .iter()
        .filter(|o| o.kind == "NetworkPolicy")
        .map(|o| (o.namespace.as_deref().unwrap_or(&r.namespace), &o.body))
        .collect()
}

/// Policies of `direction` that select the endpoint (only the app's own pods are governed by
/// the app's policies).
fn selecting<'a>(
    pols: &[(&'a str, &'a Value)],
    ep: &Endpoint,
    egress: bool,
) -> Vec<(&'a str, &'a Value)> {
    pols.iter()
        .filter(|(ns, p)| {
            let (i, e) = types(p);
            (if egress { e } else { i })
                && *ns == ep.namespace
                && k8s::selects(p["spec"].get("podSelector"), &ep.labels)
        })
        .copied()
        .collect()
}

/// Whether `from` may connect to `to` on `port` (named `name` at the destination), each with
/// the policies that select it.
fn allowed(
    (from, from_sel): (&Endpoint, &Selected),
    (to, to_sel): (&Endpoint, &Selected),
    port: &Port,
    name: Option<&str>,
) -> bool {
    let check = |subject: &Selected, other: &Endpoint, egress: bool| {
        if !subject.governed {
            return true;
        }
        let sel = if egress {
            &subject.egress
        } else {
            &subject.ingress
        };
        if sel.is_empty() {
            return true;
        }
        let key = if egress { "egress" } else { "ingress" };
        let peers_key = if egress { "to" } else { "from" };
        sel.iter().any(|(ns, p)| {
            p["spec"][key].as_array().into_iter().flatten().any(|rule| {
                port_allowed(rule, port, name)
                    && match rule[peers_key].as_array().filter(|a| !a.is_empty()) {
                        None => true,
                        Some(peers) => peers.iter().any(|peer| peer_matches(peer, ns, other)),
                    }
            })
        })
    };
    check(from_sel, to, true) && check(to_sel, from, false)
}

/// The ports a workload's pods listen on: its containers', or for the pods CloudNativePG makes
/// (their spec is the operator's), the ports that operator documents.
fn workload_ports(w: &k8s::Workload) -> Vec<(Port, Option<String>)> {
    let tcp = |port: u16, name: &str| {
        (
            Port {
                port,
                protocol: "TCP".into(),
            },
            Some(name.to_owned()),
        )
    };
    match (
        w.object.api_version.starts_with("postgresql.cnpg.io/"),
        w.object.kind.as_str(),
    ) {
        (true, "Cluster") => vec![tcp(5432, "postgresql"), tcp(8000, "status")],
        (true, "Pooler") => vec![tcp(5432, "pgbouncer")],
        _ => w.pod_spec.map(container_ports).unwrap_or_default(),
    }
}

fn container_ports(pod_spec: &Value) -> Vec<(Port, Option<String>)> {
    let mut out = Vec::new();
    for c in pod_spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            pod_spec["initContainers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["restartPolicy"] == "Always"),
        )
    {
        for p in c["ports"].as_array().into_iter().flatten() {
            if let Some(n) = p["containerPort"].as_u64() {
                out.push((
                    Port {
                        port: n as u16,
                        protocol: p["protocol"].as_str().unwrap_or("TCP").into(),
                    },
                    p["name"].as_str().map(str::to_owned),
                ));
            }
        }
    }
    out
}

/// The graph of one environment. `ingress_namespace` is where the ingress controller runs
/// (`berth_spec::App::ingress.namespace`): its pods are the source of exposed traffic.
pub fn graph(r: &Rendered, ingress_namespace: &str) -> Graph {
    let pols = policies(r);
    let mut nodes = Vec::new();
    let mut endpoints = Vec::new();
    for w in k8s::workloads(r) {
        if w.role == k8s::Role::Batch {
            continue; // Jobs are drawn by the runbook, not the architecture
        }
        let data = w.pod_spec.is_none() || w.object.kind == "StatefulSet";
        let ns = w
            .object
            .namespace
            .clone()
            .unwrap_or_else(|| r.namespace.clone());
        nodes.push(Node {
            id: w.object.name.clone(),
            label: w.object.name.clone(),
            kind: if data {
                NodeKind::DataService
            } else {
                NodeKind::Service
            },
            namespace: Some(ns.clone()),
        });
        endpoints.push(Endpoint {
            id: w.object.name.clone(),
            namespace_labels: namespace_labels(r, &ns),
            namespace: ns,
            labels: w.pod_labels.clone(),
            ports: workload_ports(&w),
        });
    }
    let governed: BTreeSet<String> = endpoints.iter().map(|e| e.id.clone()).collect();
    let selected: Vec<Selected> = endpoints
        .iter()
        .map(|e| Selected::of(&pols, &governed, e))
        .collect();
    let mut edges: BTreeMap<(String, String, &'static str), BTreeSet<Port>> = BTreeMap::new();

    // Pod to pod.
    for (from, from_sel) in endpoints.iter().zip(&selected) {
        for (to, to_sel) in endpoints.iter().zip(&selected) {
            if from.id == to.id {
                continue;
            }
            for (port, name) in &to.ports {
                if allowed((from, from_sel), (to, to_sel), port, name.as_deref()) {
                    edges
                        .entry((from.id.clone(), to.id.clone(), "networkpolicy"))
                        .or_default()
                        .insert(port.clone());
                }
            }
        }
    }

    // Cluster DNS.
    let dns = Endpoint {
        id: "dns".into(),
        namespace_labels: namespace_labels(r, "kube-system"),
        namespace: "kube-system".into(),
        labels: Labels::from([("k8s-app".to_string(), "kube-dns".to_string())]),
        ports: vec![
            (
                Port {
                    port: 53,
                    protocol: "UDP".into(),
                },
                Some("dns".into()),
            ),
            (
                Port {
                    port: 53,
                    protocol: "TCP".into(),
                },
                Some("dns-tcp".into()),
            ),
        ],
    };
    let dns_sel = Selected::of(&pols, &governed, &dns);
    let mut dns_used = false;
    for (from, from_sel) in endpoints.iter().zip(&selected) {
        for (port, name) in &dns.ports {
            if allowed((from, from_sel), (&dns, &dns_sel), port, name.as_deref()) {
                dns_used = true;
                edges
                    .entry((from.id.clone(), dns.id.clone(), "networkpolicy"))
                    .or_default()
                    .insert(port.clone());
            }
        }
    }
    if dns_used {
        nodes.push(Node {
            id: "dns".into(),
            label: "kube-dns".into(),
            kind: NodeKind::Dns,
            namespace: Some("kube-system".into()),
        });
    }

    // The ingress controller into the app's pods.
    let controller = Endpoint {
        id: format!("ns:{ingress_namespace}"),
        namespace_labels: namespace_labels(r, ingress_namespace),
        namespace: ingress_namespace.to_owned(),
        labels: Labels::new(),
        ports: Vec::new(),
    };
    let controller_sel = Selected::of(&pols, &governed, &controller);
    let mut controller_used = false;
    for (to, to_sel) in endpoints.iter().zip(&selected) {
        for (port, name) in &to.ports {
            if allowed(
                (&controller, &controller_sel),
                (to, to_sel),
                port,
                name.as_deref(),
            ) && ingress_namespace != to.namespace
            {
                controller_used = true;
                edges
                    .entry((controller.id.clone(), to.id.clone(), "networkpolicy"))
                    .or_default()
                    .insert(port.clone());
            }
        }
    }
    let hosts: Vec<&str> = r
        .objects
        .iter()
        .filter(|o| o.kind == "Ingress")
        .flat_map(|o| o.body["spec"]["rules"].as_array().into_iter().flatten())
        .filter_map(|rule| rule["host"].as_str())
        .collect();
    if controller_used || !hosts.is_empty() {
        nodes.push(Node {
            id: controller.id.clone(),
            label: ingress_namespace.to_owned(),
            kind: NodeKind::IngressController,
            namespace: Some(ingress_namespace.to_owned()),
        });
    }
    for o in r.objects.iter().filter(|o| o.kind == "Ingress") {
        let tls = o.body["spec"]["tls"]
            .as_array()
            .is_some_and(|t| !t.is_empty());
        for rule in o.body["spec"]["rules"].as_array().into_iter().flatten() {
            let Some(host) = rule["host"].as_str() else {
                continue;
            };
            let id = format!("host:{host}");
            if !nodes.iter().any(|n| n.id == id) {
                nodes.push(Node {
                    id: id.clone(),
                    label: host.to_owned(),
                    kind: NodeKind::Host,
                    namespace: None,
                });
            }
            let mut ports = BTreeSet::from([Port {
                port: 80,
                protocol: "TCP".into(),
            }]);
            if tls {
                ports.insert(Port {
                    port: 443,
                    protocol: "TCP".into(),
                });
            }
            edges
                .entry((id, controller.id.clone(), "ingress"))
                .or_default()
                .extend(ports);
        }
    }

    // External endpoints: Services that select no pods of the app.
    let externals: Vec<(&str, Vec<Port>)> = r
        .objects
        .iter()
        .filter(|o| {
            o.kind == "Service"
                && (o.body["spec"]["type"] == "ExternalName"
                    || o.body["spec"].get("selector").is_none())
        })
        .map(|o| {
            let ports = o.body["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some(Port {
                        port: p["port"].as_u64()? as u16,
                        protocol: p["protocol"].as_str().unwrap_or("TCP").into(),
                    })
                })
                .collect();
            (o.name.as_str(), ports)
        })
        .collect();
    let mut used_externals = BTreeSet::new();
    let mut networks = BTreeSet::new();
    for (from, from_sel) in endpoints.iter().zip(&selected) {
        for (_, p) in &from_sel.egress {
            for rule in p["spec"]["egress"].as_array().into_iter().flatten() {
                let cidrs: Vec<&str> = rule["to"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|peer| peer.pointer("/ipBlock/cidr").and_then(Value::as_str))
                    .collect();
                for cidr in cidrs {
                    let mut matched = BTreeSet::new();
                    for (name, ports) in &externals {
                        for port in ports {
                            if port_allowed(rule, port, None) {
                                matched.insert(port.clone());
                                used_externals.insert(*name);
                                edges
                                    .entry((from.id.clone(), (*name).to_owned(), "networkpolicy"))
                                    .or_default()
                                    .insert(port.clone());
                            }
                        }
                    }
                    // Ports of the rule no external endpoint accounts for go to the range itself.
                    for rp in rule["ports"].as_array().into_iter().flatten() {
                        if let Some(n) = rp["port"].as_u64() {
                            let port = Port {
                                port: n as u16,
                                protocol: rp["protocol"].as_str().unwrap_or("TCP").into(),
                            };
                            if !matched.contains(&port) {
                                let id = format!("cidr:{cidr}");
                                networks.insert(cidr.to_owned());
                                edges
                                    .entry((from.id.clone(), id, "networkpolicy"))
                                    .or_default()
                                    .insert(port);
                            }
                        }
                    }
                }
            }
        }
    }
    for (name, _) in &externals {
        if used_externals.contains(name) {
            nodes.push(Node {
                id: (*name).to_owned(),
                label: (*name).to_owned(),
                kind: NodeKind::External,
                namespace: None,
            });
        }
    }
    for cidr in networks {
        nodes.push(Node {
            id: format!("cidr:{cidr}"),
            label: cidr.clone(),
            kind: NodeKind::Network,
            namespace: None,
        });
    }
    nodes.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
    Graph {
        env: r.env.clone(),
        nodes,
        edges: edges
            .into_iter()
            .map(|((from, to, via), ports)| Edge {
                from,
                to,
                ports: ports.into_iter().collect(),
                via,
            })
            .collect(),
    }
}

impl Graph {
    /// `from -> to port/proto` triples, the form the tests compare.
    pub fn triples(&self) -> BTreeSet<(String, String, String)> {
        self.edges
            .iter()
            .flat_map(|e| {
                e.ports
                    .iter()
                    .map(|p| (e.from.clone(), e.to.clone(), p.to_string()))
            })
            .collect()
    }

    fn label<'a>(&'a self, id: &'a str) -> &'a str {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .map_or(id, |n| n.label.as_str())
    }

    fn ports_text(e: &Edge) -> String {
        // 53/UDP + 53/TCP read best as `53/UDP,TCP`.
        let mut by_port: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
        for p in &e.ports {
            by_port.entry(p.port).or_default().push(&p.protocol);
        }
        by_port
            .iter()
            .map(|(port, protos)| format!("{port}/{}", protos.join(",")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn to_json(&self) -> Value {
        json!({
            "environment": self.env,
            "nodes": self.nodes.iter().map(|n| json!({"id": n.id, "label": n.label, "kind": kind_name(n.kind), "namespace": n.namespace})).collect::<Vec<_>>(),
            "edges": self.edges.iter().map(|e| json!({"from": e.from, "to": e.to, "via": e.via, "ports": e.ports.iter().map(|p| json!({"port": p.port, "protocol": p.protocol})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        })
    }

    pub fn to_mermaid(&self) -> String {
        let id = |s: &str| {
            let mut out = String::from("n_");
            out.extend(
                s.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
            );
            out
        };
        let shape = |n: &Node| {
            let l = n.label.replace('"', "'");
            match n.kind {
                NodeKind::Host => format!("{}([\"{l}\"])", id(&n.id)),
                NodeKind::DataService | NodeKind::External => format!("{}[(\"{l}\")]", id(&n.id)),
                NodeKind::Network => format!("{}{{{{\"{l}\"}}}}", id(&n.id)),
                NodeKind::IngressController | NodeKind::Dns => format!("{}[/\"{l}\"/]", id(&n.id)),
                NodeKind::Service => format!("{}[\"{l}\"]", id(&n.id)),
            }
        };
        let mut s = String::from("flowchart LR\n");
        let mut by_ns: BTreeMap<Option<&str>, Vec<&Node>> = BTreeMap::new();
        for n in &self.nodes {
            by_ns.entry(n.namespace.as_deref()).or_default().push(n);
        }
        for (ns, nodes) in &by_ns {
            match ns {
                Some(ns) => {
                    s.push_str(&format!(
                        "  subgraph sg_{}[\"namespace {ns}\"]\n",
                        &id(ns)[2..]
                    ));
                    for n in nodes {
                        s.push_str(&format!("    {}\n", shape(n)));
                    }
                    s.push_str("  end\n");
                }
                None => {
                    for n in nodes {
                        s.push_str(&format!("  {}\n", shape(n)));
                    }
                }
            }
        }
        for e in &self.edges {
            s.push_str(&format!(
                "  {} -->|\"{}\"| {}\n",
                id(&e.from),
                Self::ports_text(e),
                id(&e.to)
            ));
        }
        s
    }

    pub fn to_dot(&self) -> String {
        let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let mut s = format!(
            "digraph {} {{\n  rankdir=LR;\n  node [fontname=\"sans-serif\", fontsize=11];\n  edge [fontname=\"sans-serif\", fontsize=9];\n",
            q(&self.env)
        );
        let mut by_ns: BTreeMap<Option<&str>, Vec<&Node>> = BTreeMap::new();
        for n in &self.nodes {
            by_ns.entry(n.namespace.as_deref()).or_default().push(n);
        }
        for (i, (ns, nodes)) in by_ns.iter().enumerate() {
            let indent = if ns.is_some() { "    " } else { "  " };
            if let Some(ns) = ns {
                s.push_str(&format!(
                    "  subgraph cluster_{i} {{\n    label={};\n    style=dashed;\n",
                    q(&format!("namespace {ns}"))
                ));
            }
            for n in nodes {
                let shape = match n.kind {
                    NodeKind::Host => "ellipse",
                    NodeKind::DataService | NodeKind::External => "cylinder",
                    NodeKind::Network => "hexagon",
                    NodeKind::IngressController | NodeKind::Dns => "parallelogram",
                    NodeKind::Service => "box",
                };
                s.push_str(&format!(
                    "{indent}{} [label={}, shape={shape}];\n",
                    q(&n.id),
                    q(&n.label)
                ));
            }
            if ns.is_some() {
                s.push_str("  }\n");
            }
        }
        for e in &self.edges {
            s.push_str(&format!(
                "  {} -> {} [label={}];\n",
                q(&e.from),
                q(&e.to),
                q(&Self::ports_text(e))
            ));
        }
        s.push_str("}\n");
        s
    }

    /// A self-contained SVG: nodes in layers by longest path from the sources (hosts first,
    /// DNS and external endpoints last), edges as curves with their ports.
    pub fn to_svg(&self) -> String {
        let ids: Vec<&str> = self.nodes.iter().map(|n| n.id.as_str()).collect();
        // Users' side first: hosts, then the ingress controller, then the app.
        let has_hosts = self.nodes.iter().any(|n| n.kind == NodeKind::Host);
        let mut layer: BTreeMap<&str, usize> = self
            .nodes
            .iter()
            .map(|n| {
                let start = match n.kind {
                    NodeKind::Host => 0,
                    NodeKind::IngressController => 1,
                    _ if has_hosts => 2,
                    _ => 0,
                };
                (n.id.as_str(), start)
            })
            .collect();
        // Longest path; the graph may have cycles (two services calling each other), so relax
        // at most |nodes| times.
        for _ in 0..ids.len() {
            let mut changed = false;
            for e in &self.edges {
                let (Some(&f), Some(&t)) = (layer.get(e.from.as_str()), layer.get(e.to.as_str()))
                else {
                    continue;
                };
                if t < f + 1 && f + 1 < ids.len() + 2 {
                    layer.insert(e.to.as_str(), f + 1);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // Sinks that are not the app (DNS, externals, networks) go to the last layer.
        let last = layer.values().copied().max().unwrap_or(0);
        for n in &self.nodes {
            if matches!(
                n.kind,
                NodeKind::Dns | NodeKind::External | NodeKind::Network
            ) {
                layer.insert(n.id.as_str(), last.max(1));
            }
        }
        let mut columns: BTreeMap<usize, Vec<&Node>> = BTreeMap::new();
        for n in &self.nodes {
            columns.entry(layer[n.id.as_str()]).or_default().push(n);
        }
        // Fewer crossings: order each column by the mean row of its neighbours in the column
        // before (a barycenter sweep), keeping the sorted order for ties.
        let keys: Vec<usize> = columns.keys().copied().collect();
        for w in keys.windows(2) {
            let prev: BTreeMap<&str, usize> = columns[&w[0]]
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.as_str(), i))
                .collect();
            let col = columns.get_mut(&w[1]).expect("column");
            let center = |n: &Node| {
                let rows: Vec<usize> = self
                    .edges
                    .iter()
                    .filter(|e| e.to == n.id)
                    .filter_map(|e| prev.get(e.from.as_str()).copied())
                    .collect();
                if rows.is_empty() {
                    usize::MAX
                } else {
                    rows.iter().sum::<usize>() * 1000 / rows.len()
                }
            };
            col.sort_by_key(|n| center(n));
        }
        let columns: BTreeMap<usize, Vec<&Node>> =
            columns.into_iter().filter(|(_, c)| !c.is_empty()).collect();
        const W: i64 = 190;
        const H: i64 = 46;
        const GAP_X: i64 = 120;
        const GAP_Y: i64 = 34;
        const PAD: i64 = 30;
        let rows = columns.values().map(Vec::len).max().unwrap_or(1) as i64;
        let height = PAD * 2 + rows * H + (rows - 1).max(0) * GAP_Y + 30;
        let width = PAD * 2 + columns.len() as i64 * W + (columns.len() as i64 - 1).max(0) * GAP_X;
        let mut pos: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for (ci, (_, col)) in columns.iter().enumerate() {
            let total = col.len() as i64 * H + (col.len() as i64 - 1) * GAP_Y;
            let top = 30 + PAD + (rows * H + (rows - 1) * GAP_Y - total) / 2;
            for (ri, n) in col.iter().enumerate() {
                pos.insert(
                    n.id.as_str(),
                    (PAD + ci as i64 * (W + GAP_X), top + ri as i64 * (H + GAP_Y)),
                );
            }
        }
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\">\n\
             <title>{}</title>\n\
             <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker></defs>\n\
             <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n\
             <text x=\"{PAD}\" y=\"28\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
            esc(&format!("{} — allowed connections", self.env)),
            esc(&format!(
                "{}: connections the NetworkPolicies allow",
                self.env
            )),
        );
        for e in &self.edges {
            let (Some(&(fx, fy)), Some(&(tx, ty))) =
                (pos.get(e.from.as_str()), pos.get(e.to.as_str()))
            else {
                continue;
            };
            let (x1, y1) = (fx + W, fy + H / 2);
            let (x2, y2) = if tx > fx {
                (tx, ty + H / 2)
            } else {
                (tx + W / 2, if ty > fy { ty } else { ty + H })
            };
            let mid = (x1 + x2) / 2;
            s.push_str(&format!(
                "<g class=\"edge\"><title>{}</title><path d=\"M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}\" fill=\"none\" stroke=\"#555\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"/>\
                 <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#333\">{}</text></g>\n",
                esc(&format!("{} → {}: {}", self.label(&e.from), self.label(&e.to), Self::ports_text(e))),
                mid,
                (y1 + y2) / 2 - 4,
                esc(&Self::ports_text(e)),
            ));
        }
        for n in &self.nodes {
            let (x, y) = pos[n.id.as_str()];
            let (fill, stroke, rx) = match n.kind {
                NodeKind::Host => ("#e8f0fe", "#1a73e8", 23),
                NodeKind::IngressController => ("#fef7e0", "#f9ab00", 4),
                NodeKind::Service => ("#e6f4ea", "#188038", 6),
                NodeKind::DataService => ("#fce8e6", "#c5221f", 14),
                NodeKind::External => ("#f1f3f4", "#5f6368", 14),
                NodeKind::Network => ("#f1f3f4", "#5f6368", 0),
                NodeKind::Dns => ("#f3e8fd", "#9334e6", 4),
            };
            let sub = match (&n.kind, &n.namespace) {
                (NodeKind::Host, _) => "ingress host".to_string(),
                (NodeKind::IngressController, _) => "ingress controller".to_string(),
                (NodeKind::External, _) => "external endpoint".to_string(),
                (NodeKind::Network, _) => "address range".to_string(),
                (_, Some(ns)) => format!("namespace {ns}"),
                (_, None) => String::new(),
            };
            s.push_str(&format!(
                "<g class=\"node\" id=\"{}\"><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/>\
                 <text x=\"{}\" y=\"{}\" font-size=\"13\" text-anchor=\"middle\">{}</text>\
                 <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#555\">{}</text></g>\n",
                esc(&n.id),
                x + W / 2,
                y + 20,
                esc(&n.label),
                x + W / 2,
                y + 36,
                esc(&sub),
            ));
        }
        s.push_str("</svg>\n");
        s
    }
}

fn kind_name(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Host => "host",
        NodeKind::IngressController => "ingress-controller",
        NodeKind::Service => "service",
        NodeKind::DataService => "data-service",
        NodeKind::External => "external",
        NodeKind::Network => "network",
        NodeKind::Dns => "dns",
    }
}

/// The edges the spec declares, for comparison: each service's `uses` on the used one's ports,
/// DNS for every workload, the ingress controller into every exposed service, and the
/// config-sync sidecar's object store (HTTPS anywhere). This is what the policies must allow,
/// exactly.
pub fn declared(app: &berth_spec::App, r: &Rendered) -> BTreeSet<(String, String, String)> {
    // A service is called through its Service: the Service's ports, at their target ports.
    let ports_of = |name: &str| -> Vec<String> {
        if let Some(svc) = r.objects.iter().find(|o| {
            o.kind == "Service" && o.name == name && o.body["spec"].get("selector").is_some()
        }) {
            let pod_ports = k8s::workloads(r)
                .into_iter()
                .find(|w| {
                    k8s::selects(
                        Some(&json!({"matchLabels": svc.body["spec"]["selector"]})),
                        &w.pod_labels,
                    )
                })
                .and_then(|w| w.pod_spec.map(container_ports))
                .unwrap_or_default();
            return svc.body["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let proto = p["protocol"].as_str().unwrap_or("TCP");
                    let n = match &p["targetPort"] {
                        Value::Number(n) => n.as_u64()? as u16,
                        Value::String(t) => {
                            pod_ports
                                .iter()
                                .find(|(_, name)| name.as_deref() == Some(t))?
                                .0
                                .port
                        }
                        _ => p["port"].as_u64()? as u16,
                    };
                    Some(format!("{n}/{proto}"))
                })
                .collect();
        }
        app.dependencies
            .iter()
            .filter(|d| d.name == name)
            .map(|d| format!("{}/TCP", d.port))
            .collect()
    };
    let mut out = BTreeSet::new();
    for w in k8s::workloads(r)
        .into_iter()
        .filter(|w| w.role != k8s::Role::Batch)
    {
        for p in ["53/UDP", "53/TCP"] {
            out.insert((w.object.name.clone(), "dns".to_string(), p.to_string()));
        }
    }
    for s in &app.services {
        for used in s.uses_services.iter().chain(&s.uses_dependencies) {
            // A dependency reached at its own address (a managed database, whose certificate
            // names its host) has no Service: its policy opens its range (its IP), `0.0.0.0/0` without.
            let dep = app.dependencies.iter().find(|d| &d.name == used);
            let node = match dep {
                // An in-cluster database behind a pooler is called through the pooler.
                Some(d)
                    if d.server.is_some()
                        && d.postgres.as_ref().is_some_and(|p| p.pooler.is_some()) =>
                {
                    format!("{used}-pooler")
                }
                Some(d)
                    if !r
                        .objects
                        .iter()
                        .any(|o| o.kind == "Service" && &o.name == used) =>
                {
                    format!("cidr:{}", d.network().as_deref().unwrap_or("0.0.0.0/0"))
                }
                _ => used.clone(),
            };
            let mut ports = ports_of(used);
            if dep.is_some_and(|d| d.redis.as_ref().is_some_and(|r| r.sentinel.is_some())) {
                // Sentinel clients ask the Sentinels (the Service) for the master, then connect to
                // that pod by its stable name (the headless Service's ports).
                ports.extend(ports_of(&format!("{used}-headless")));
            }
            for p in ports {
                out.insert((s.name.clone(), node.clone(), p));
            }
        }
        if s.expose.is_some() {
            for p in ports_of(&s.name) {
                out.insert((format!("ns:{}", app.ingress.namespace), s.name.clone(), p));
            }
        }
        if s.sync.as_ref().is_some_and(|c| c.cloud.is_some()) {
            out.insert((s.name.clone(), "cidr:0.0.0.0/0".into(), "443/TCP".into()));
        }
    }
    // The data tier's own paths: a pooler to its database; Patroni to the Kubernetes API (its
    // configuration store, at an address no policy can name, hence any address on its ports).
    for d in app.dependencies.iter().filter(|d| d.server.is_some()) {
        let Some(pg) = &d.postgres else { continue };
        if pg.pooler.is_some() {
            out.insert((
                format!("{}-pooler", d.name),
                d.name.clone(),
                format!("{}/TCP", d.port),
            ));
        }
        use berth_spec::dependency::postgres::Topology;
        // Patroni and CloudNativePG's instance manager (in its instances and its pooler pods).
        let api_clients = match pg.topology {
            Some(Topology::Patroni { .. }) => vec![d.name.clone()],
            Some(Topology::CloudNativePg { .. }) if pg.pooler.is_some() => {
                vec![d.name.clone(), format!("{}-pooler", d.name)]
            }
            Some(Topology::CloudNativePg { .. }) => vec![d.name.clone()],
            _ => vec![],
        };
        for client in api_clients {
            for p in ["443/TCP", "6443/TCP"] {
                out.insert((client.clone(), "cidr:0.0.0.0/0".into(), p.into()));
            }
        }
    }
    for o in r.objects.iter().filter(|o| o.kind == "Ingress") {
        let tls = o.body["spec"]["tls"]
            .as_array()
            .is_some_and(|t| !t.is_empty());
        for rule in o.body["spec"]["rules"].as_array().into_iter().flatten() {
            if let Some(h) = rule["host"].as_str() {
                out.insert((
                    format!("host:{h}"),
                    format!("ns:{}", app.ingress.namespace),
                    "80/TCP".into(),
                ));
                if tls {
                    out.insert((
                        format!("host:{h}"),
                        format!("ns:{}", app.ingress.namespace),
                        "443/TCP".into(),
                    ));
                }
            }
        }
    }
    out
}
