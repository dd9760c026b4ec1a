//! Monitoring of one environment, from its rendered objects and the services' `metrics` and
//! `slo`: a ServiceMonitor (or PodMonitor) per scraped service with the NetworkPolicy that lets
//! Prometheus in, a PrometheusRule with alerts that need no knowledge of the app's metrics
//! (kube-state-metrics and the kubelet), SLO burn-rate alerts with their recording rules, and a
//! Grafana dashboard in a ConfigMap the Grafana sidecar picks up.

use crate::k8s::{self, Role};
use berth_render::Rendered;
use berth_render::data::exporters::{self, Target};
use berth_spec::observe::{PortRef, ScrapeMode, percentile, seconds};
use berth_spec::{App, ResolvedDependency};
use serde_json::{Value, json};

/// Namespace Prometheus runs in (allowed to scrape through NetworkPolicy).
pub const MONITORING_NAMESPACE: &str = "monitoring";

/// The SRE workbook's multi-window, multi-burn-rate pairs that page: (long, short, burn rate,
/// `for`). 14.4 spends 2 % of a 30-day budget in an hour, 6 spends 5 % in six hours.
pub const BURN_WINDOWS: [(&str, &str, f64, &str); 2] =
    [("1h", "5m", 14.4, "2m"), ("6h", "30m", 6.0, "15m")];

fn labels(app: &App) -> Value {
    json!({
        "app.kubernetes.io/managed-by": "berth",
        "app.kubernetes.io/part-of": app.name,
        "app.kubernetes.io/component": "monitoring",
    })
}

/// The anchor of an alert's section in the generated runbook (`runbook/ENV.md`).
pub fn runbook_anchor(alert: &str, subject: &str) -> String {
    format!(
        "{}-{}",
        alert.to_ascii_lowercase(),
        subject.to_ascii_lowercase()
    )
}

fn runbook_url(app: &App, alert: &str, subject: &str) -> String {
    format!("runbook/{}.md#{}", app.env, runbook_anchor(alert, subject))
}

/// One alert rule about something in the app's namespace.
fn alert(
    app: &App,
    name: &str,
    subject: &str,
    expr: String,
    for_: &str,
    severity: &str,
    summary: String,
) -> Value {
    alert_in(
        app,
        &app.namespace,
        name,
        subject,
        expr,
        for_,
        severity,
        summary,
    )
}

/// An alert about something in namespace `ns` (an app may span several).
#[allow(clippy::too_many_arguments)]
fn alert_in(
    app: &App,
    ns: &str,
    name: &str,
    subject: &str,
    expr: String,
    for_: &str,
    severity: &str,
    summary: String,
) -> Value {
    json!({
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "namespace": ns, "berth_app": app.name, "berth_subject": subject},
        "annotations": {
            "summary": summary,
            "runbook_url": runbook_url(app, name, subject),
        },
    })
}

/// Adds a label matcher to a PromQL selector: `m{a="b"}` + `c=~"5.."` → `m{a="b",c=~"5.."}`.
pub fn with_matcher(selector: &str, matcher: &str) -> String {
    let s = selector.trim();
    match s.strip_suffix('}') {
        Some(open) if open.contains('{') => {
            let inner_empty = open.trim_end().ends_with('{');
            if inner_empty {
                format!("{open}{matcher}}}")
            } else {
                format!("{open},{matcher}}}")
            }
        }
        _ => format!("{s}{{{matcher}}}"),
    }
}

/// The label matchers of a selector (`{…}` part), to reuse on another metric.
fn matchers(selector: &str) -> &str {
    match (selector.find('{'), selector.rfind('}')) {
        (Some(a), Some(b)) if b > a => &selector[a + 1..b],
        _ => "",
    }
}

fn fmt_ratio(x: f64) -> String {
    // Exact decimal text (14.4 * 0.001 = 0.0144, not 0.014400000000000001).
    let s = format!("{:.10}", x);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Every monitoring object of the environment.
pub fn objects(app: &App, r: &Rendered) -> Vec<Value> {
    let mut out = Vec::new();
    out.extend(scrape_objects(app, r));
    out.extend(data_scrape_objects(app, r));
    out.push(prometheus_rule(app, r));
    out.push(dashboard(app, r));
    out
}

fn scrape_objects(app: &App, r: &Rendered) -> Vec<Value> {
    let mut out = Vec::new();
    for svc in &app.services {
        let Some(m) = &svc.metrics else { continue };
        let Some(w) = k8s::workloads(r)
            .into_iter()
            .find(|w| w.object.name == svc.name && w.pod_spec.is_some())
        else {
            continue;
        };
        let ns = w
            .object
            .namespace
            .clone()
            .unwrap_or_else(|| r.namespace.clone());
        let path = m.path.clone().unwrap_or_else(|| "/metrics".into());
        let interval = m.interval.clone().unwrap_or_else(|| "30s".into());
        // The container port it names (number, name, or the service's port).
        let ports: Vec<(u64, Option<String>)> = w.pod_spec.unwrap()["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .filter_map(|p| {
                Some((
                    p["containerPort"].as_u64()?,
                    p["name"].as_str().map(str::to_owned),
                ))
            })
            .collect();
        let wanted = match &m.port {
            Some(PortRef::Number(n)) => ports
                .iter()
                .find(|(p, _)| *p == u64::from(*n))
                .cloned()
                .or(Some((u64::from(*n), None))),
            Some(PortRef::Name(name)) => ports
                .iter()
                .find(|(_, n)| n.as_deref() == Some(name))
                .cloned(),
            None => ports.first().cloned(),
        };
        let Some((number, name)) = wanted else {
            continue;
        };
        let selector = w
            .object
            .body
            .pointer("/spec/selector")
            .cloned()
            .unwrap_or(json!({}));
        // A Service exposing that port: ServiceMonitor by its port name; else a PodMonitor.
        let service_port = r
            .objects
            .iter()
            .filter(|o| o.kind == "Service" && o.name == svc.name)
            .find_map(|o| {
                o.body["spec"]["ports"].as_array()?.iter().find_map(|p| {
                    let target_matches = match &p["targetPort"] {
                        Value::String(t) => name.as_deref() == Some(t.as_str()),
                        Value::Number(n) => n.as_u64() == Some(number),
                        _ => p["port"].as_u64() == Some(number),
                    };
                    target_matches
                        .then(|| p["name"].as_str().map(str::to_owned))
                        .flatten()
                })
            });
        let meta = json!({"name": svc.name, "namespace": ns, "labels": labels(app)});
        // Annotations mode: the pods carry prometheus.io/* (the render); only the policy here.
        let annotated = app.scrape_mode(svc) == ScrapeMode::Annotations;
        match service_port {
            _ if annotated => {}
            Some(port_name) => out.push(json!({
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "ServiceMonitor",
                "metadata": meta,
                "spec": {
                    "selector": {"matchLabels": r.objects.iter().find(|o| o.kind == "Service" && o.name == svc.name).map(|o| o.body["metadata"]["labels"].clone()).unwrap_or(json!({}))},
                    "namespaceSelector": {"matchNames": [ns]},
                    "endpoints": [{"port": port_name, "path": path, "interval": interval}],
                },
            })),
            None => {
                let mut ep = json!({"path": path, "interval": interval});
                match &name {
                    Some(n) => ep["port"] = n.clone().into(),
                    None => ep["portNumber"] = number.into(),
                }
                out.push(json!({
                    "apiVersion": "monitoring.coreos.com/v1",
                    "kind": "PodMonitor",
                    "metadata": meta,
                    "spec": {"selector": selector, "namespaceSelector": {"matchNames": [ns]}, "podMetricsEndpoints": [ep]},
                }));
            }
        }
        // Default-deny keeps Prometheus out; this policy (added to the others) lets it scrape.
        out.push(allow_prometheus(app, &ns, &svc.name, &selector, number));
    }
    out
}

/// CloudNativePG clusters of the render: (namespace, name, instances); not those of a
/// dependency with `metrics: false`.
fn cnpg_clusters(app: &App, r: &Rendered) -> Vec<(String, String, u64)> {
    r.objects
        .iter()
        .filter(|o| o.kind == "Cluster" && o.api_version.starts_with("postgresql.cnpg.io/"))
        .filter(|o| {
            !app.dependencies
                .iter()
                .any(|d| d.name == o.name && !exporters::enabled(d))
        })
        .map(|o| {
            (
                o.namespace.clone().unwrap_or_else(|| r.namespace.clone()),
                o.name.clone(),
                o.body
                    .pointer("/spec/instances")
                    .and_then(Value::as_u64)
                    .unwrap_or(1),
            )
        })
        .collect()
}

/// Lets the monitoring namespace reach `port` of the pods `selector` picks (the app's policies
/// deny everything else by default; policies add up).
fn allow_prometheus(
    app: &App,
    ns: &str,
    name: &str,
    selector: &Value,
    port: impl Into<u64>,
) -> Value {
    let port: u64 = port.into();
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": format!("{name}-allow-prometheus"), "namespace": ns, "labels": labels(app)},
        "spec": {
            "podSelector": selector,
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}],
                "ports": [{"port": port, "protocol": "TCP"}],
            }],
        },
    })
}

/// The data services whose exporter berth renders (docs/operate.md): each with its scrape
/// target, when its pods are in the render.
pub fn exporter_targets<'a>(app: &'a App, r: &Rendered) -> Vec<(&'a ResolvedDependency, Target)> {
    app.dependencies
        .iter()
        .filter_map(|d| Some((d, exporters::target(app, d)?)))
        .filter(|(d, t)| {
            // Strimzi's exporter is a Deployment the operator creates from the `Kafka`.
            let name = if t.port_name == "tcp-prometheus" {
                "Kafka"
            } else {
                "StatefulSet"
            };
            r.objects.iter().any(|o| o.kind == name && o.name == d.name)
        })
        .collect()
}

/// The pods of a target, as a PromQL matcher on `pod`.
fn target_pods(dep: &ResolvedDependency, t: &Target) -> String {
    if t.port_name == "tcp-prometheus" {
        format!("{}-.+", exporters::strimzi_exporter_name(dep))
    } else {
        format!("{}-[0-9]+", dep.name)
    }
}

/// CloudNativePG's instance manager exports PostgreSQL's metrics (and the barman-cloud
/// plugin's backup metrics) on port 9187 `metrics` of every instance: a PodMonitor on the
/// operator's `cnpg.io/cluster` label, and the NetworkPolicy that lets Prometheus reach it.
/// The exporters berth renders (postgres_exporter, Patroni's REST API, redis_exporter,
/// kafka_exporter, Strimzi's Kafka Exporter) likewise, a PodMonitor each unless the app
/// scrapes by annotations.
fn data_scrape_objects(app: &App, r: &Rendered) -> Vec<Value> {
    let mut out = Vec::new();
    for (dep, t) in exporter_targets(app, r) {
        let ns = app.namespace.clone();
        if app.scrape != ScrapeMode::Annotations {
            let mut endpoints =
                vec![json!({"port": t.port_name, "path": t.path, "interval": "30s"})];
            if let Some((path, params)) = &t.extra {
                let mut p = serde_json::Map::new();
                for (k, v) in params {
                    p.insert(k.clone(), json!([v]));
                }
                // A second target on the same pod and port: a label keeps its series apart.
                endpoints.push(json!({
                    "port": t.port_name, "path": path, "params": p, "interval": "30s",
                    "relabelings": [{"action": "replace", "targetLabel": "berth_target", "replacement": "sentinel"}],
                }));
            }
            out.push(json!({
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "PodMonitor",
                "metadata": {"name": format!("{}-metrics", dep.name), "namespace": ns, "labels": labels(app)},
                "spec": {
                    "selector": t.selector,
                    "namespaceSelector": {"matchNames": [ns]},
                    "podMetricsEndpoints": endpoints,
                },
            }));
        }
        out.push(allow_prometheus(app, &ns, &dep.name, &t.selector, t.port));
    }
    for (ns, name, _) in cnpg_clusters(app, r) {
        let selector = json!({"matchLabels": {"cnpg.io/cluster": name}});
        if app.scrape == ScrapeMode::Annotations {
            // The Cluster's inheritedMetadata puts prometheus.io/* on its pods (the render).
            out.push(allow_prometheus(
                app,
                &ns,
                &name,
                &selector,
                CNPG_METRICS_PORT,
            ));
            continue;
        }
        out.push(json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": {"name": format!("{name}-metrics"), "namespace": ns, "labels": labels(app)},
            "spec": {
                "selector": selector,
                "namespaceSelector": {"matchNames": [ns]},
                "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
            },
        }));
        out.push(allow_prometheus(
            app,
            &ns,
            &name,
            &selector,
            CNPG_METRICS_PORT,
        ));
    }
    out
}

/// CloudNativePG's metrics port.
pub const CNPG_METRICS_PORT: u16 = 9187;

/// Replication lag (seconds) a CloudNativePG replica may have before it pages.
pub const REPLICATION_LAG_SECONDS: u32 = 30;

/// Seconds between runs of a cron schedule (5 fields, or 6 with seconds first), as far as a
/// backup alert needs it: hourly, daily, weekly or monthly.
pub fn schedule_period_seconds(schedule: &str) -> u64 {
    let f: Vec<&str> = schedule.split_whitespace().collect();
    let f = if f.len() == 6 { &f[1..] } else { &f[..] };
    let (hour, dom, dow) = match f {
        [_, h, dom, _, dow] => (*h, *dom, *dow),
        _ => return 86_400,
    };
    if dow != "*" {
        604_800
    } else if dom != "*" {
        31 * 86_400
    } else if hour == "*" || hour.contains('/') {
        3_600
    } else {
        86_400 / hour.split(',').count().max(1) as u64
    }
}

/// Sentinel-managed StatefulSets: (namespace, name, quorum, whether the Sentinel is a native
/// sidecar), the quorum read from the rendered `sentinel monitor NAME HOST PORT QUORUM` line.
fn sentinels(r: &Rendered) -> Vec<(String, String, u32, bool)> {
    let mut out = Vec::new();
    for o in r.objects.iter().filter(|o| o.kind == "StatefulSet") {
        let spec = &o.body["spec"]["template"]["spec"];
        let named = |k: &str| {
            spec[k]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["name"] == "sentinel")
        };
        let (in_init, in_main) = (named("initContainers"), named("containers"));
        if !in_init && !in_main {
            continue;
        }
        let ns = o.namespace.clone().unwrap_or_else(|| r.namespace.clone());
        let monitor = format!("sentinel monitor {} ", o.name);
        let quorum = r
            .objects
            .iter()
            .filter(|c| c.kind == "ConfigMap" && c.namespace.as_deref() == Some(ns.as_str()))
            .flat_map(|c| c.body["data"].as_object().into_iter().flatten())
            .filter_map(|(_, v)| v.as_str())
            .flat_map(str::lines)
            .find_map(|l| l.strip_prefix(&monitor))
            .and_then(|rest| rest.split_whitespace().last()?.parse().ok());
        if let Some(q) = quorum {
            out.push((ns, o.name.clone(), q, in_init));
        }
    }
    out
}

/// The data tier's alerts: replication lag and backup age of every CloudNativePG cluster,
/// Sentinel quorum of every Sentinel-managed StatefulSet.
fn data_rules(app: &App, r: &Rendered) -> Vec<Value> {
    let mut rules = Vec::new();
    let targets = exporter_targets(app, r);
    let scraped = |name: &str, exporter: &str| {
        targets
            .iter()
            .any(|(d, t)| d.name == name && t.exporter == exporter)
    };
    for (ns, name, quorum, native_sidecar) in sentinels(r) {
        // Ready Sentinels (their readiness probe pings them) fewer than the quorum: no
        // failover can be agreed. kube-state-metrics reports native sidecars as init containers.
        let metric = if native_sidecar {
            "kube_pod_init_container_status_ready"
        } else {
            "kube_pod_container_status_ready"
        };
        let ready = format!(
            "(sum({metric}{{namespace=\"{ns}\", pod=~\"{name}-[0-9]+\", container=\"sentinel\"}}) or vector(0)) < {quorum}"
        );
        // With the exporter: also when the Sentinels run but none of them sees a quorum
        // (SENTINEL CKQUORUM through redis_exporter), e.g. they cannot reach each other.
        // (Annotations scrape the data node only: no Sentinel endpoint.)
        let (expr, summary) = if scraped(&name, "redis_exporter")
            && app.scrape != ScrapeMode::Annotations
        {
            (
                format!(
                    "({ready}) or (max(redis_sentinel_master_ckquorum_status{{namespace=\"{ns}\", pod=~\"{name}-[0-9]+\", master_name=\"{name}\"}}) == 0)"
                ),
                format!(
                    "The Sentinels of {name} in {ns} cannot agree a failover: fewer than {quorum} are ready, or none sees a quorum"
                ),
            )
        } else {
            (
                ready,
                format!(
                    "Fewer than {quorum} Sentinels of {name} in {ns} are ready: a failover cannot be agreed"
                ),
            )
        };
        rules.push(alert_in(
            app,
            &ns,
            "BerthSentinelNoQuorum",
            &name,
            expr,
            "2m",
            "critical",
            summary,
        ));
    }
    rules.extend(exporter_rules(app, r, &targets));
    for (ns, name, instances) in cnpg_clusters(app, r) {
        let pods = format!("namespace=\"{ns}\", pod=~\"{name}-[0-9]+\"");
        if instances > 1 {
            rules.push(alert_in(
                app,
                &ns,
                "BerthReplicationLagging",
                &name,
                format!("max by (namespace, pod) (cnpg_pg_replication_lag{{{pods}}}) > {REPLICATION_LAG_SECONDS}"),
                "5m",
                "warning",
                format!("Replica {{{{ $labels.pod }}}} of {name} in {ns} is more than {REPLICATION_LAG_SECONDS}s behind its primary"),
            ));
        }
        for sb in r.objects.iter().filter(|o| {
            o.kind == "ScheduledBackup"
                && o.body.pointer("/spec/cluster/name").and_then(Value::as_str)
                    == Some(name.as_str())
        }) {
            let schedule = sb
                .body
                .pointer("/spec/schedule")
                .and_then(Value::as_str)
                .unwrap_or("");
            let period = schedule_period_seconds(schedule);
            // One missed run, plus a quarter period for the backup itself to finish.
            let allowed = period + period / 4;
            rules.push(alert_in(
                app,
                &ns,
                "BerthBackupTooOld",
                &name,
                format!("time() - max by (namespace) (barman_cloud_cloudnative_pg_io_last_available_backup_timestamp{{{pods}}}) > {allowed}"),
                "10m",
                "warning",
                format!("The last backup of {name} in {ns} is older than its schedule ({schedule}) allows ({}h)", allowed / 3600),
            ));
        }
    }
    rules
}

/// The largest WAL lag (bytes) a Patroni replica may have and still be promoted: the rendered
/// `bootstrap.dcs.maximum_lag_on_failover` of `DEP-scripts`' patroni.yml.
fn patroni_max_lag(r: &Rendered, dep: &str) -> u64 {
    r.objects
        .iter()
        .find(|o| o.kind == "ConfigMap" && o.name == format!("{dep}-scripts"))
        .and_then(|o| o.body["data"]["patroni.yml"].as_str())
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|c| {
            c.pointer("/bootstrap/dcs/maximum_lag_on_failover")?
                .as_u64()
        })
        .unwrap_or(1_048_576)
}

/// Alerts on the metrics of the exporters berth renders (names as the exporters publish them:
/// postgres_exporter `pg_up`, Patroni `patroni_*`, redis_exporter `redis_*`, kafka_exporter
/// `kafka_topic_partition_*`).
fn exporter_rules(
    app: &App,
    r: &Rendered,
    targets: &[(&ResolvedDependency, Target)],
) -> Vec<Value> {
    let mut rules = Vec::new();
    for (dep, t) in targets {
        let ns = app.namespace.as_str();
        let name = dep.name.as_str();
        let sel = format!("namespace=\"{ns}\", pod=~\"{}\"", target_pods(dep, t));
        let mut push = |alert: &str, expr: String, for_: &str, severity: &str, summary: String| {
            rules.push(alert_in(
                app, ns, alert, name, expr, for_, severity, summary,
            ));
        };
        // Every exporter: a target Prometheus cannot scrape leaves the alerts below blind.
        push(
            "BerthMetricsDown",
            format!("max by (namespace, pod) (up{{{sel}}}) == 0"),
            "10m",
            "warning",
            format!(
                "Prometheus cannot scrape {{{{ $labels.pod }}}} ({name} in {ns}): its data-service alerts are blind"
            ),
        );
        match t.exporter {
            "postgres_exporter" => push(
                "BerthPostgresDown",
                format!("max by (namespace, pod) (pg_up{{{sel}}}) == 0"),
                "2m",
                "critical",
                format!(
                    "PostgreSQL {name} in {ns} ({{{{ $labels.pod }}}}) does not answer its exporter"
                ),
            ),
            "patroni" => {
                push(
                    "BerthPostgresDown",
                    format!("max by (namespace, pod) (patroni_postgres_running{{{sel}}}) == 0"),
                    "2m",
                    "critical",
                    format!(
                        "Patroni reports PostgreSQL on {{{{ $labels.pod }}}} ({name} in {ns}) not running"
                    ),
                );
                push(
                    "BerthPostgresNoPrimary",
                    format!("max by (namespace) (patroni_primary{{{sel}}}) == 0"),
                    "1m",
                    "critical",
                    format!("No member of {name} in {ns} holds the leader lock: writes fail"),
                );
                let lag = patroni_max_lag(r, name);
                push(
                    "BerthReplicationLagging",
                    format!(
                        "max by (namespace) (patroni_xlog_location{{{sel}}}) - on (namespace) group_right () (max by (namespace, pod) (patroni_xlog_replayed_location{{{sel}}}) and on (namespace, pod) (max by (namespace, pod) (patroni_replica{{{sel}}}) == 1)) > {lag}"
                    ),
                    "5m",
                    "warning",
                    format!(
                        "Replica {{{{ $labels.pod }}}} of {name} in {ns} has replayed more than {lag} bytes less WAL than its primary: Patroni would not promote it (maximum_lag_on_failover)"
                    ),
                );
            }
            "redis_exporter" => {
                // The data node's own target (the Sentinel's is labelled berth_target).
                let node = format!("{sel}, berth_target=\"\"");
                push(
                    "BerthRedisDown",
                    format!("max by (namespace, pod) (redis_up{{{node}}}) == 0"),
                    "2m",
                    "critical",
                    format!("{name} in {ns} ({{{{ $labels.pod }}}}) does not answer its exporter"),
                );
                if dep.redis.as_ref().is_some_and(|r| r.sentinel.is_some()) {
                    push(
                        "BerthRedisReplicationBroken",
                        format!("max by (namespace, pod) (redis_master_link_up{{{node}}}) == 0"),
                        "5m",
                        "warning",
                        format!(
                            "Replica {{{{ $labels.pod }}}} of {name} in {ns} has lost its link to the master: it serves stale data and cannot take over"
                        ),
                    );
                }
            }
            "kafka_exporter" => {
                // Every exporter reports the whole cluster: one series per partition via max.
                let part = |m: &str| format!("max by (namespace, topic, partition) ({m}{{{sel}}})");
                push(
                    "BerthKafkaUnderReplicated",
                    format!(
                        "count by (namespace, topic) ({} > 0) > 0",
                        part("kafka_topic_partition_under_replicated_partition")
                    ),
                    "10m",
                    "warning",
                    format!(
                        "Topic {{{{ $labels.topic }}}} of {name} in {ns} has partitions with fewer in-sync replicas than replicas"
                    ),
                );
                push(
                    "BerthKafkaOfflinePartitions",
                    format!(
                        "count by (namespace, topic) ({} unless on (namespace, topic, partition) ({} >= 0)) > 0",
                        part("kafka_topic_partition_replicas"),
                        part("kafka_topic_partition_leader")
                    ),
                    "1m",
                    "critical",
                    format!(
                        "Topic {{{{ $labels.topic }}}} of {name} in {ns} has partitions without a leader: they accept no reads or writes"
                    ),
                );
            }
            _ => {}
        }
    }
    rules
}

/// The alerts of the environment: the rule groups of its PrometheusRule.
pub fn rule_groups(app: &App, r: &Rendered) -> Vec<Value> {
    let ns = &app.namespace;
    let mut workload_rules = Vec::new();
    for w in k8s::workloads(r) {
        let name = &w.object.name;
        let wns = w.object.namespace.as_deref().unwrap_or(ns);
        let Some(ps) = w.pod_spec else { continue };
        if w.role != Role::Batch {
            for c in ps["containers"].as_array().into_iter().flatten() {
                let Some(cname) = c["name"].as_str() else {
                    continue;
                };
                workload_rules.push(alert_in(
                    app,
                    wns,
                    "BerthPodCrashLooping",
                    cname,
                    format!("max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{{namespace=\"{wns}\", container=\"{cname}\", reason=\"CrashLoopBackOff\"}}[5m])) >= 1"),
                    "15m",
                    "warning",
                    format!("Container {cname} of {{{{ $labels.pod }}}} in {wns} is crash looping"),
                ));
            }
        }
        match w.object.kind.as_str() {
            "Deployment" => {
                // maxUnavailable is the rollout's budget; beyond it for 15 minutes is an outage.
                let budget = match w.object.body.pointer("/spec/strategy/rollingUpdate/maxUnavailable") {
                    Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
                    Some(Value::String(p)) if p.ends_with('%') => {
                        let pct: u64 = p.trim_end_matches('%').parse().unwrap_or(25);
                        u64::from(w.min) * pct / 100
                    }
                    _ => u64::from(w.min) / 4,
                };
                workload_rules.push(alert_in(
                    app,
                    wns,
                    "BerthReplicasUnavailable",
                    name,
                    format!("kube_deployment_status_replicas_unavailable{{namespace=\"{wns}\", deployment=\"{name}\"}} > {budget}"),
                    "15m",
                    "critical",
                    format!("Deployment {name} in {wns} has more than {budget} unavailable replicas"),
                ));
            }
            "StatefulSet" => workload_rules.push(alert_in(
                app,
                wns,
                "BerthReplicasUnavailable",
                name,
                format!("kube_statefulset_replicas{{namespace=\"{wns}\", statefulset=\"{name}\"}} - kube_statefulset_status_replicas_ready{{namespace=\"{wns}\", statefulset=\"{name}\"}} > 0"),
                "15m",
                "critical",
                format!("StatefulSet {name} in {wns} has replicas that are not ready"),
            )),
            _ => {}
        }
        if let Some(h) = w.hpa {
            let hname = &h.name;
            workload_rules.push(alert_in(
                app,
                wns,
                "BerthAutoscalerAtMax",
                hname,
                format!("kube_horizontalpodautoscaler_status_current_replicas{{namespace=\"{wns}\", horizontalpodautoscaler=\"{hname}\"}} >= on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_max_replicas{{namespace=\"{wns}\", horizontalpodautoscaler=\"{hname}\"}}"),
                "15m",
                "warning",
                format!("Autoscaler {hname} in {wns} has been at its maximum of {} replicas for 15 minutes", w.max),
            ));
        }
        if w.role == Role::Batch {
            workload_rules.push(alert_in(
                app,
                wns,
                "BerthJobFailed",
                name,
                format!(
                    "kube_job_status_failed{{namespace=\"{wns}\", job_name=~\"{name}.*\"}} > 0"
                ),
                "0m",
                "warning",
                format!("Job {{{{ $labels.job_name }}}} ({name}) in {wns} failed"),
            ));
        }
    }
    let has_claims = k8s::workloads(r).iter().any(|w| !w.claims.is_empty())
        || r.objects.iter().any(|o| o.kind == "PersistentVolumeClaim");
    if has_claims {
        workload_rules.push(alert(
            app,
            "BerthVolumeFillingUp",
            ns,
            format!("(kubelet_volume_stats_available_bytes{{namespace=\"{ns}\"}} / kubelet_volume_stats_capacity_bytes{{namespace=\"{ns}\"}}) < 0.15 and predict_linear(kubelet_volume_stats_available_bytes{{namespace=\"{ns}\"}}[6h], 4 * 3600) < 0"),
            "1h",
            "warning",
            format!("Volume {{{{ $labels.persistentvolumeclaim }}}} in {ns} will be full within 4 hours"),
        ));
    }
    let mut groups = vec![
        json!({"name": format!("berth.{}.{}.workloads", app.name, app.env), "rules": workload_rules}),
    ];
    let data = data_rules(app, r);
    if !data.is_empty() {
        groups.push(json!({"name": format!("berth.{}.{}.data", app.name, app.env), "rules": data}));
    }

    for svc in &app.services {
        let Some(slo) = &svc.slo else { continue };
        let Some(requests) = &slo.requests else {
            continue;
        };
        let errors = slo
            .errors
            .clone()
            .unwrap_or_else(|| with_matcher(requests, "code=~\"5..\""));
        let mut rules = Vec::new();
        let mut objectives: Vec<(String, String, f64, String)> = Vec::new(); // (sli, record prefix, budget, text)
        if let Some(a) = slo.availability {
            let windows = ["5m", "30m", "1h", "6h"];
            for wdw in windows {
                rules.push(json!({
                    "record": "berth:slo_errors:ratio_rate".to_string() + wdw,
                    "expr": format!("sum(rate({errors}[{wdw}])) / sum(rate({requests}[{wdw}]))"),
                    "labels": {"berth_service": svc.name, "slo": "availability"},
                }));
            }
            objectives.push((
                "availability".into(),
                "berth:slo_errors:ratio_rate".into(),
                1.0 - a.0 / 100.0,
                format!("{}% availability", a.0),
            ));
        }
        for (key, value) in slo.latency.iter().flatten() {
            let (Some(p), Some(secs)) = (percentile(key), seconds(value)) else {
                continue;
            };
            let hist = slo.histogram.clone().unwrap_or_else(|| {
                format!(
                    "http_request_duration_seconds_bucket{{{}}}",
                    matchers(requests)
                )
            });
            let le = fmt_ratio(secs);
            for wdw in ["5m", "30m", "1h", "6h"] {
                rules.push(json!({
                    "record": "berth:slo_latency_errors:ratio_rate".to_string() + wdw,
                    "expr": format!(
                        "1 - (sum(rate({}[{wdw}])) / sum(rate({}[{wdw}])))",
                        with_matcher(&hist, &format!("le=\"{le}\"")),
                        with_matcher(&hist, "le=\"+Inf\"")
                    ),
                    "labels": {"berth_service": svc.name, "slo": format!("latency-{key}")},
                }));
            }
            objectives.push((
                format!("latency-{key}"),
                "berth:slo_latency_errors:ratio_rate".into(),
                1.0 - p,
                format!("{key} under {value}"),
            ));
        }
        for (sli, record, budget, text) in objectives {
            for (long, short, burn, for_) in BURN_WINDOWS {
                let threshold = fmt_ratio(burn * budget);
                let sel = format!("{{berth_service=\"{}\", slo=\"{sli}\"}}", svc.name);
                rules.push(alert(
                    app,
                    if burn > 10.0 { "BerthErrorBudgetBurnFast" } else { "BerthErrorBudgetBurnSlow" },
                    &format!("{}-{sli}", svc.name),
                    format!("{record}{long}{sel} > {threshold} and {record}{short}{sel} > {threshold}"),
                    for_,
                    "critical",
                    format!("{} burns its {text} error budget {burn}x too fast ({long} and {short} windows)", svc.name),
                ));
            }
        }
        groups.push(json!({"name": format!("berth.{}.{}.slo.{}", app.name, app.env, svc.name), "rules": rules}));
    }
    groups
}

fn prometheus_rule(app: &App, r: &Rendered) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": format!("{}-alerts", app.name), "namespace": app.namespace, "labels": labels(app)},
        "spec": {"groups": rule_groups(app, r)},
    })
}

/// A Grafana dashboard with a row per service: requests and errors when it has an SLO, CPU and
/// memory against requests and limits, restarts and available replicas.
fn dashboard(app: &App, r: &Rendered) -> Value {
    let ns = &app.namespace;
    let mut panels = Vec::new();
    let mut y = 0;
    let mut id = 1;
    let mut panel = |title: String, exprs: Vec<String>, x: i64, y: i64| {
        let p = json!({
            "id": id, "type": "timeseries", "title": title,
            "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "targets": exprs.iter().enumerate().map(|(i, e)| json!({"expr": e, "refId": ((b'A' + i as u8) as char).to_string()})).collect::<Vec<_>>(),
        });
        id += 1;
        p
    };
    for w in k8s::workloads(r)
        .into_iter()
        .filter(|w| w.role != Role::Batch && w.pod_spec.is_some())
    {
        let name = &w.object.name;
        panels.push(json!({"type": "row", "title": name, "collapsed": false, "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}));
        y += 1;
        let pod = format!("namespace=\"{ns}\", container=\"{name}\"");
        panels.push(panel(
            format!("{name}: CPU (cores)"),
            vec![
                format!("sum(rate(container_cpu_usage_seconds_total{{{pod}}}[5m]))"),
                format!("sum(kube_pod_container_resource_requests{{{pod}, resource=\"cpu\"}})"),
            ],
            0,
            y,
        ));
        panels.push(panel(
            format!("{name}: memory (bytes)"),
            vec![
                format!("sum(container_memory_working_set_bytes{{{pod}}})"),
                format!("sum(kube_pod_container_resource_limits{{{pod}, resource=\"memory\"}})"),
            ],
            8,
            y,
        ));
        let third = match app
            .services
            .iter()
            .find(|s| &s.name == name)
            .and_then(|s| s.slo.as_ref())
            .and_then(|s| s.requests.as_ref())
        {
            Some(req) => panel(
                format!("{name}: requests/s"),
                vec![format!("sum(rate({req}[5m]))")],
                16,
                y,
            ),
            None => panel(
                format!("{name}: restarts"),
                vec![format!(
                    "sum(increase(kube_pod_container_status_restarts_total{{{pod}}}[1h]))"
                )],
                16,
                y,
            ),
        };
        panels.push(third);
        y += 8;
    }
    let dash = json!({
        "title": format!("{} ({})", app.name, app.env),
        "uid": format!("berth-{}-{}", app.name, app.env),
        "schemaVersion": 39,
        "tags": ["berth", app.name],
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": panels,
    });
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": format!("{}-dashboard", app.name),
            "namespace": app.namespace,
            "labels": {"grafana_dashboard": "1", "app.kubernetes.io/managed-by": "berth", "app.kubernetes.io/part-of": app.name},
        },
        "data": {format!("{}-{}.json", app.name, app.env): serde_json::to_string_pretty(&dash).expect("json")},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_are_added_to_selectors() {
        assert_eq!(with_matcher("m", "a=\"b\""), "m{a=\"b\"}");
        assert_eq!(with_matcher("m{}", "a=\"b\""), "m{a=\"b\"}");
        assert_eq!(with_matcher("m{x=\"y\"}", "a=\"b\""), "m{x=\"y\",a=\"b\"}");
        assert_eq!(fmt_ratio(14.4 * 0.001), "0.0144");
        assert_eq!(fmt_ratio(6.0 * (1.0 - 0.999)), "0.006");
        assert_eq!(fmt_ratio(0.3), "0.3");
        assert_eq!(schedule_period_seconds("0 0 3 * * *"), 86_400);
        assert_eq!(schedule_period_seconds("0 5 * * 0"), 604_800);
        assert_eq!(schedule_period_seconds("0 0 * * * *"), 3_600);
        assert_eq!(schedule_period_seconds("0 0 */6 * * *"), 3_600);
        assert_eq!(schedule_period_seconds("0 0 3,15 * * *"), 43_200);
    }
}
