//! The generated alerts judged by Prometheus itself: `promtool check rules` on every rule file,
//! and `promtool test rules` with synthetic series showing each alert fires when its condition
//! holds for its `for:` window and stays silent otherwise, burn-rate alerts just above and just
//! below the SRE workbook's error ratios. The rule groups are taken from the rendered
//! PrometheusRule objects, never retyped.

mod common;
use berth_operate::monitoring;
use common::examples;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn promtool() -> PathBuf {
    for p in ["/usr/bin/promtool", "/usr/local/bin/promtool"] {
        if Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("promtool is missing: run scripts/setup.d/61-prometheus.sh (or scripts/test)");
}

/// The groups of the rendered PrometheusRule.
fn groups(objects: &[Value]) -> Value {
    let rule = objects
        .iter()
        .find(|o| o["kind"] == "PrometheusRule")
        .expect("a PrometheusRule");
    rule["spec"]["groups"].clone()
}

fn series(name: &str, labels: &[(&str, &str)], values: &str) -> Value {
    let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    json!({"series": format!("{name}{{{}}}", l.join(", ")), "values": values})
}

/// The alert's labels and annotations as Prometheus would send them: the rule's own plus the
/// expression's output labels, with `{{ $labels.x }}` expanded.
fn expected(rule: &Value, out_labels: &[(&str, &str)]) -> Value {
    let mut labels = serde_json::Map::new();
    for (k, v) in out_labels {
        labels.insert((*k).into(), (*v).into());
    }
    for (k, v) in rule["labels"].as_object().unwrap() {
        labels.insert(k.clone(), v.clone());
    }
    let mut ann = serde_json::Map::new();
    for (k, v) in rule["annotations"].as_object().unwrap() {
        let mut text = v.as_str().unwrap().to_string();
        for (lk, lv) in out_labels {
            text = text.replace(&format!("{{{{ $labels.{lk} }}}}"), lv);
        }
        ann.insert(k.clone(), text.into());
    }
    json!({"exp_labels": labels, "exp_annotations": ann})
}

fn minutes(d: &str) -> u64 {
    if let Some(m) = d.strip_suffix('m') {
        m.parse().unwrap()
    } else if let Some(h) = d.strip_suffix('h') {
        h.parse::<u64>().unwrap() * 60
    } else {
        panic!("duration {d}")
    }
}

/// Firing and quiet input series for one alert rule, and the expression's output labels:
/// (firing series, quiet series, the expression's output labels)
type Scenario = (Vec<Value>, Vec<Value>, Vec<(String, String)>);

fn scenario(rule: &Value, ns: &str) -> Option<Scenario> {
    let subject = rule["labels"]["berth_subject"]
        .as_str()
        .unwrap()
        .to_string();
    let expr = rule["expr"].as_str().unwrap();
    // The namespace the rule watches, as the rendered expression names it.
    let ns = expr
        .split("namespace=\"")
        .nth(1)
        .map_or(ns, |rest| rest.split('"').next().unwrap());
    let n = 8 * 60; // one sample a minute for 8 hours: a 6h window, its `for:` and some
    let flat = |v: &str| format!("{v}x{n}");
    let grow = |per_min: f64| format!("0+{per_min}x{n}");
    match rule["alert"].as_str().unwrap() {
        "BerthPodCrashLooping" => {
            let l = [
                ("namespace", ns),
                ("container", subject.as_str()),
                ("reason", "CrashLoopBackOff"),
                ("pod", "p-0"),
            ];
            let m = "kube_pod_container_status_waiting_reason";
            Some((
                vec![series(m, &l, &flat("1"))],
                vec![series(m, &l, &flat("0"))],
                vec![
                    ("namespace".into(), ns.into()),
                    ("pod".into(), "p-0".into()),
                    ("container".into(), subject.clone()),
                ],
            ))
        }
        "BerthReplicasUnavailable" if expr.starts_with("kube_deployment") => {
            let budget: u64 = expr.rsplit("> ").next().unwrap().trim().parse().unwrap();
            let l = [("namespace", ns), ("deployment", subject.as_str())];
            let m = "kube_deployment_status_replicas_unavailable";
            Some((
                vec![series(m, &l, &flat(&(budget + 1).to_string()))],
                vec![series(m, &l, &flat(&budget.to_string()))],
                l.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            ))
        }
        "BerthReplicasUnavailable" if expr.starts_with("kube_statefulset") => {
            let l = [("namespace", ns), ("statefulset", subject.as_str())];
            let want = series("kube_statefulset_replicas", &l, &flat("3"));
            let ready = |v: &str| series("kube_statefulset_status_replicas_ready", &l, &flat(v));
            Some((
                vec![want.clone(), ready("2")],
                vec![want, ready("3")],
                l.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            ))
        }
        "BerthVolumeFillingUp" => {
            // 100 GB, 5 GB free and falling 10 MB a minute: under 15 % and full within 4 hours.
            let l = [("namespace", ns), ("persistentvolumeclaim", "data-0")];
            let cap = series(
                "kubelet_volume_stats_capacity_bytes",
                &l,
                &flat("100000000000"),
            );
            let falling = series(
                "kubelet_volume_stats_available_bytes",
                &l,
                &format!("5000000000-10000000x{n}"),
            );
            let steady = series(
                "kubelet_volume_stats_available_bytes",
                &l,
                &flat("5000000000"),
            );
            Some((
                vec![cap.clone(), falling],
                vec![cap, steady],
                l.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            ))
        }
        "BerthAutoscalerAtMax" => {
            let l = [
                ("namespace", ns),
                ("horizontalpodautoscaler", subject.as_str()),
            ];
            let max = series(
                "kube_horizontalpodautoscaler_spec_max_replicas",
                &l,
                &flat("10"),
            );
            let cur = |v: &str| {
                series(
                    "kube_horizontalpodautoscaler_status_current_replicas",
                    &l,
                    &flat(v),
                )
            };
            Some((
                vec![max.clone(), cur("10")],
                vec![max, cur("9")],
                l.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            ))
        }
        "BerthJobFailed" => {
            let job = format!("{subject}-abcde");
            let l = [("namespace", ns), ("job_name", job.as_str())];
            Some((
                vec![series("kube_job_status_failed", &l, &flat("1"))],
                vec![series("kube_job_status_failed", &l, &flat("0"))],
                l.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            ))
        }
        "BerthReplicationLagging" if expr.contains("patroni_xlog_location") => {
            // WAL bytes the replica has replayed less than the primary wrote, above and below
            // the rendered threshold (maximum_lag_on_failover).
            let threshold: i64 = expr.rsplit("> ").next().unwrap().trim().parse().unwrap();
            let (p0, p1) = (pod_in(expr, 0), pod_in(expr, 1));
            let l = |p: &str| vec![("namespace", ns.to_string()), ("pod", p.to_string())];
            let mk = |behind: i64| {
                let s = |m: &str, p: &str, v: String| {
                    let l = l(p);
                    let l: Vec<(&str, &str)> = l.iter().map(|(a, b)| (*a, b.as_str())).collect();
                    series(m, &l, &flat(&v))
                };
                let at = 10_000_000_000i64;
                vec![
                    s("patroni_xlog_location", &p0, at.to_string()),
                    s("patroni_xlog_location", &p1, "0".into()),
                    s("patroni_xlog_replayed_location", &p0, "0".into()),
                    s(
                        "patroni_xlog_replayed_location",
                        &p1,
                        (at - behind).to_string(),
                    ),
                    s("patroni_replica", &p0, "0".into()),
                    s("patroni_replica", &p1, "1".into()),
                ]
            };
            Some((
                mk(threshold * 2),
                mk(threshold / 2),
                vec![("namespace".into(), ns.into()), ("pod".into(), p1.clone())],
            ))
        }
        "BerthReplicationLagging" => {
            // Seconds behind, above and below the rendered threshold.
            let threshold: f64 = expr.rsplit("> ").next().unwrap().trim().parse().unwrap();
            let pod = format!("{subject}-2");
            let l = [("namespace", ns), ("pod", pod.as_str())];
            let m = "cnpg_pg_replication_lag";
            Some((
                vec![series(m, &l, &flat(&(threshold * 2.0).to_string()))],
                vec![series(m, &l, &flat(&(threshold / 2.0).to_string()))],
                l.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            ))
        }
        "BerthSentinelNoQuorum" => {
            // One ready Sentinel fewer than the quorum, and exactly the quorum.
            let quorum: usize = expr
                .split("vector(0)) < ")
                .nth(1)
                .unwrap()
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let m = if expr.contains("init_container") {
                "kube_pod_init_container_status_ready"
            } else {
                "kube_pod_container_status_ready"
            };
            let ready = |n: usize| -> Vec<Value> {
                (0..n)
                    .map(|i| {
                        let pod = format!("{subject}-{i}");
                        series(
                            m,
                            &[
                                ("namespace", ns),
                                ("pod", pod.as_str()),
                                ("container", "sentinel"),
                            ],
                            &flat("1"),
                        )
                    })
                    .collect()
            };
            let mut quiet = ready(quorum);
            if expr.contains("ckquorum") {
                // Every Sentinel's exporter says CKQUORUM passes.
                quiet.extend(ckquorum(expr, ns, &subject, quorum, "1"));
            }
            Some((ready(quorum - 1), quiet, vec![]))
        }
        "BerthMetricsDown" => {
            let pod = pod_in(expr, 0);
            let l = [("namespace", ns), ("pod", pod.as_str())];
            Some((
                vec![series("up", &l, &flat("0"))],
                vec![series("up", &l, &flat("1"))],
                vec![("namespace".into(), ns.into()), ("pod".into(), pod.clone())],
            ))
        }
        name @ ("BerthPostgresDown" | "BerthRedisDown" | "BerthRedisReplicationBroken") => {
            let m = [
                "pg_up",
                "patroni_postgres_running",
                "redis_up",
                "redis_master_link_up",
            ]
            .into_iter()
            .find(|m| expr.contains(&format!("({m}{{")))
            .unwrap_or_else(|| panic!("{name}: {expr}"));
            let pod = pod_in(expr, 1);
            let l = [("namespace", ns), ("pod", pod.as_str())];
            Some((
                vec![series(m, &l, &flat("0"))],
                vec![series(m, &l, &flat("1"))],
                vec![("namespace".into(), ns.into()), ("pod".into(), pod.clone())],
            ))
        }
        "BerthPostgresNoPrimary" => {
            let m = "patroni_primary";
            let mk = |leader: &str| {
                (0..3)
                    .map(|i| {
                        let pod = pod_in(expr, i);
                        let v = if i == 1 { leader } else { "0" };
                        series(m, &[("namespace", ns), ("pod", pod.as_str())], &flat(v))
                    })
                    .collect::<Vec<_>>()
            };
            Some((mk("0"), mk("1"), vec![("namespace".into(), ns.into())]))
        }
        "BerthKafkaUnderReplicated" => {
            // Two brokers' exporters report the same partition (the alert counts it once).
            let m = "kafka_topic_partition_under_replicated_partition";
            let mk = |v: &str| {
                (0..2)
                    .flat_map(|i| {
                        let pod = pod_in(expr, i);
                        (0..3)
                            .map(|p| {
                                let part = p.to_string();
                                let v = if p == 1 { v } else { "0" };
                                series(
                                    m,
                                    &[
                                        ("namespace", ns),
                                        ("pod", pod.as_str()),
                                        ("topic", "t"),
                                        ("partition", part.as_str()),
                                    ],
                                    &flat(v),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            };
            Some((
                mk("1"),
                mk("0"),
                vec![
                    ("namespace".into(), ns.into()),
                    ("topic".into(), "t".into()),
                ],
            ))
        }
        "BerthKafkaOfflinePartitions" => {
            // Partition 1 has replicas but no leader (the exporter publishes none for it).
            let mk = |offline: bool| {
                let mut out = Vec::new();
                for i in 0..2 {
                    let pod = pod_in(expr, i);
                    for p in 0..3 {
                        let part = p.to_string();
                        let l = [
                            ("namespace", ns),
                            ("pod", pod.as_str()),
                            ("topic", "t"),
                            ("partition", part.as_str()),
                        ];
                        out.push(series("kafka_topic_partition_replicas", &l, &flat("3")));
                        if !(offline && p == 1) {
                            out.push(series(
                                "kafka_topic_partition_leader",
                                &l,
                                &flat(&(p + 1).to_string()),
                            ));
                        }
                    }
                }
                out
            };
            Some((
                mk(true),
                mk(false),
                vec![
                    ("namespace".into(), ns.into()),
                    ("topic".into(), "t".into()),
                ],
            ))
        }
        "BerthBackupTooOld" => {
            // promtool's clock starts at 0: a backup at -(allowed + 1h) is too old from the
            // start; one at the current time (0 + the test's few minutes) is fresh.
            let allowed: i64 = expr.rsplit("> ").next().unwrap().trim().parse().unwrap();
            let pod = format!("{subject}-1");
            let l = [("namespace", ns), ("pod", pod.as_str())];
            let m = "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp";
            Some((
                vec![series(m, &l, &flat(&(-(allowed + 3600)).to_string()))],
                vec![series(m, &l, &format!("0+60x{n}"))],
                vec![("namespace".into(), ns.into())],
            ))
        }
        name @ ("BerthErrorBudgetBurnFast" | "BerthErrorBudgetBurnSlow") => {
            // Threshold = burn rate × budget, e.g. 14.4 × 0.1 % = 1.44 % of requests failing.
            let threshold: f64 = expr
                .split(" > ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let above = threshold * 1.05;
            let below = threshold * 0.95;
            let slo = rule["labels"]["berth_subject"].as_str().unwrap();
            let service = slo.split('-').next().unwrap();
            let out = vec![
                ("berth_service".to_string(), service.to_string()),
                ("slo".to_string(), slo[service.len() + 1..].to_string()),
            ];
            let total = 1000.0;
            let mk = |ratio: f64| -> Vec<Value> {
                if slo.contains("latency") {
                    let h = "http_request_duration_seconds_bucket";
                    let le = expr_le(rule);
                    vec![
                        series(h, &[("job", service), ("le", "+Inf")], &grow(total)),
                        series(
                            h,
                            &[("job", service), ("le", le.as_str())],
                            &grow(total * (1.0 - ratio)),
                        ),
                    ]
                } else {
                    let m = "http_requests_total";
                    vec![
                        series(
                            m,
                            &[("job", service), ("code", "200")],
                            &grow(total * (1.0 - ratio)),
                        ),
                        series(
                            m,
                            &[("job", service), ("code", "500")],
                            &grow(total * ratio),
                        ),
                    ]
                }
            };
            let _ = name;
            Some((mk(above), mk(below), out))
        }
        _ => None,
    }
}

/// Pod `i` of the pods the expression's first `pod=~"…"` matcher names (`NAME-[0-9]+`,
/// `NAME-kafka-exporter-.+`).
fn pod_in(expr: &str, i: usize) -> String {
    let re = expr
        .split("pod=~\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    re.replace("[0-9]+", &i.to_string())
        .replace(".+", &format!("x{i}"))
}

/// redis_exporter's `redis_sentinel_master_ckquorum_status` from every Sentinel.
fn ckquorum(expr: &str, ns: &str, master: &str, n: usize, v: &str) -> Vec<Value> {
    (0..n.max(3))
        .map(|i| {
            let pod = pod_in(expr, i);
            series(
                "redis_sentinel_master_ckquorum_status",
                &[
                    ("namespace", ns),
                    ("pod", pod.as_str()),
                    ("master_name", master),
                    ("message", "m"),
                    ("berth_target", "sentinel"),
                ],
                &format!("{v}x{}", 8 * 60),
            )
        })
        .collect()
}

/// Further firing inputs of an alert with more than one way to fire.
fn more_firing(rule: &Value, ns: &str) -> Vec<Vec<Value>> {
    let expr = rule["expr"].as_str().unwrap();
    let subject = rule["labels"]["berth_subject"].as_str().unwrap();
    let ns = expr
        .split("namespace=\"")
        .nth(1)
        .map_or(ns, |rest| rest.split('"').next().unwrap());
    match rule["alert"].as_str().unwrap() {
        "BerthSentinelNoQuorum" if expr.contains("ckquorum") => {
            // Every Sentinel ready, but none sees a quorum.
            let (firing, _, _) = scenario(rule, ns).unwrap();
            let quorum = firing.len() + 1;
            let mut ready = firing;
            ready.push(series(
                if expr.contains("init_container") {
                    "kube_pod_init_container_status_ready"
                } else {
                    "kube_pod_container_status_ready"
                },
                &[
                    ("namespace", ns),
                    ("pod", &format!("{subject}-9")),
                    ("container", "sentinel"),
                ],
                &format!("1x{}", 8 * 60),
            ));
            ready.extend(ckquorum(expr, ns, subject, quorum, "0"));
            vec![ready]
        }
        _ => vec![],
    }
}

/// The `le` of a latency SLO: read from the recording rules is not possible from the alert, so
/// from the SLO's text (`p99 under 300ms`) — the bucket bound the recording rule uses.
fn expr_le(rule: &Value) -> String {
    let summary = rule["annotations"]["summary"].as_str().unwrap();
    let v = summary
        .split(" under ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let secs = berth_spec::observe::seconds(v).unwrap();
    format!("{secs}")
}

/// `promtool check rules` on the rule groups of `objects`, and `promtool test rules` with a
/// firing and a quiet scenario for each alert (more than one firing one where an alert has
/// several ways to fire).
fn judge(
    promtool: &Path,
    dir: &Path,
    name: &str,
    app: &berth_spec::App,
    objects: &[Value],
    tested: &mut std::collections::BTreeSet<String>,
) {
    let groups = groups(objects);
    let rules_file = dir.join(format!("{name}-{}.rules.json", app.env));
    std::fs::write(
        &rules_file,
        serde_json::to_string_pretty(&json!({"groups": groups})).unwrap(),
    )
    .unwrap();
    let out = Command::new(promtool)
        .arg("check")
        .arg("rules")
        .arg(&rules_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}/{}: promtool check rules: {}{}",
        app.env,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let mut tests = Vec::new();
    for rule in groups
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
    {
        if rule.get("alert").is_none() {
            continue;
        }
        let Some((firing, quiet, out_labels)) = scenario(rule, &app.namespace) else {
            panic!(
                "{name}/{}: no scenario for alert {}",
                app.env, rule["alert"]
            );
        };
        let alert = rule["alert"].as_str().unwrap();
        tested.insert(alert.to_string());
        let for_min = minutes(rule["for"].as_str().unwrap());
        // Windows: long enough for the longest range in the expression (6h) to fill.
        let warm = if rule["expr"].as_str().unwrap().contains("rate6h")
            || rule["expr"].as_str().unwrap().contains("[6h]")
        {
            6 * 60
        } else if rule["expr"].as_str().unwrap().contains("rate1h") {
            60
        } else {
            5
        };
        let fire_at = warm + for_min + 5;
        let ol: Vec<(&str, &str)> = out_labels
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let exp = expected(rule, &ol);
        let mut firing_checks = vec![
            json!({"eval_time": format!("{fire_at}m"), "alertname": alert, "exp_alerts": [exp]}),
        ];
        if for_min > 0 {
            // Condition true, but not yet for the whole window: pending, not firing.
            firing_checks.push(json!({"eval_time": format!("{}m", for_min.saturating_sub(1)), "alertname": alert, "exp_alerts": []}));
        }
        for more in more_firing(rule, &app.namespace) {
            tests.push(json!({"interval": "1m", "input_series": more, "alert_rule_test": firing_checks.clone()}));
        }
        tests.push(
            json!({"interval": "1m", "input_series": firing, "alert_rule_test": firing_checks}),
        );
        tests.push(json!({"interval": "1m", "input_series": quiet,
            "alert_rule_test": [{"eval_time": format!("{fire_at}m"), "alertname": alert, "exp_alerts": []}]}));
    }
    let test_file = dir.join(format!("{name}-{}.test.json", app.env));
    std::fs::write(
        &test_file,
        serde_json::to_string_pretty(&json!({
            "rule_files": [rules_file.file_name().unwrap().to_str().unwrap()],
            "evaluation_interval": "1m",
            "tests": tests,
        }))
        .unwrap(),
    )
    .unwrap();
    let out = Command::new(promtool)
        .current_dir(dir)
        .arg("test")
        .arg("rules")
        .arg(&test_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}/{}: promtool test rules:\n{}{}",
        app.env,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_checks_every_rule_file_and_every_alert_fires_only_when_it_should() {
    let promtool = promtool();
    let dir = tempfile::tempdir().unwrap();
    let mut tested = std::collections::BTreeSet::new();
    for (name, loaded) in examples() {
        for app in &loaded.apps {
            let r = berth_render::render(app);
            let objects = monitoring::objects(app, &r);
            judge(&promtool, dir.path(), &name, app, &objects, &mut tested);
            insta::assert_json_snapshot!(format!("monitoring-{name}-{}", app.env), objects);
        }
    }
    // Strimzi (not in the examples): its exporter's pods are the operator's Deployment.
    let loaded = load(MODES);
    for app in &loaded.apps {
        let r = berth_render::render(app);
        judge(
            &promtool,
            dir.path(),
            "modes",
            app,
            &monitoring::objects(app, &r),
            &mut tested,
        );
    }
    for alert in [
        "BerthPodCrashLooping",
        "BerthReplicasUnavailable",
        "BerthAutoscalerAtMax",
        "BerthErrorBudgetBurnFast",
        "BerthErrorBudgetBurnSlow",
        "BerthJobFailed",
        "BerthReplicationLagging",
        "BerthBackupTooOld",
        "BerthSentinelNoQuorum",
        "BerthMetricsDown",
        "BerthPostgresDown",
        "BerthPostgresNoPrimary",
        "BerthRedisDown",
        "BerthRedisReplicationBroken",
        "BerthKafkaUnderReplicated",
        "BerthKafkaOfflinePartitions",
    ] {
        assert!(tested.contains(alert), "{alert} never tested: {tested:?}");
    }
}

/// Scrape modes and the exporters' opt-out, with Strimzi and a single PostgreSQL instance.
const MODES: &str = r#"app: shop
version: 1.0.0
monitoring: { scrape: annotations }
services:
  web:
    image: ghcr.io/acme/web
    ports: { http: 8080, admin: 9090 }
    metrics: { port: admin, path: /stats }
    health: { ready: /ready, live: /live }
    uses: [cache, pg, events]
  api:
    image: ghcr.io/acme/api
    port: 9000
    metrics: { scrape: prometheus-operator }
    health: { ready: /ready, live: /live }
dependencies:
  cache: { type: valkey, ha: { replicas: 2, sentinel: true } }
  pg: { type: postgres, ha: false }
  events: { type: kafka, operator: strimzi, brokers: 3 }
environments:
  dev:
    namespace: shop-dev
  prod:
    namespace: shop
    monitoring: { scrape: prometheus-operator }
    secrets: { mode: external, store: vault, path: shop/prod }
    dependencies: { cache: { metrics: false } }
"#;

fn load(text: &str) -> berth_spec::Loaded {
    berth_spec::load_str(Path::new("berth.yaml"), text, &|_| {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, "absent"))
    })
    .unwrap_or_else(|e| panic!("{:#?}", e.errors))
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

fn annotations(o: &Value) -> Value {
    o.pointer("/spec/template/metadata/annotations")
        .cloned()
        .unwrap_or(Value::Null)
}

fn has_exporter(o: &Value) -> bool {
    o.pointer("/spec/template/spec/initContainers")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|c| c["name"] == "exporter"))
}

#[test]
fn scrape_by_annotations_and_the_exporters_opt_out() {
    let loaded = load(MODES);
    let env = |e: &str| {
        let app = loaded.apps.iter().find(|a| a.env == e).unwrap();
        let r = berth_render::render(app);
        let rendered: Vec<Value> = r.objects.iter().map(|o| o.body.clone()).collect();
        (app, monitoring::objects(app, &r), rendered)
    };
    let rule_names = |objects: &[Value]| -> Vec<(String, String)> {
        groups(objects)
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap().clone())
            .filter_map(|r| {
                Some((
                    r["alert"].as_str()?.to_owned(),
                    r["labels"]["berth_subject"].as_str()?.to_owned(),
                ))
            })
            .collect()
    };

    // dev: annotations app-wide; `api` keeps its ServiceMonitor.
    // Every object of both environments passes berth check's schemas (Strimzi's CRD included).
    for e in ["dev", "prod"] {
        let (_, mon, objs) = env(e);
        let all: Vec<&Value> = objs.iter().chain(mon.iter()).collect();
        let input = berth_check::Input::Objects {
            name: e.into(),
            objects: all,
        };
        let report = berth_check::check(&[input], &Default::default()).unwrap();
        assert_eq!(
            report.count(berth_check::Severity::Error),
            0,
            "{e}: {report:?}"
        );
    }
    let (_, mon, objs) = env("dev");
    let web = find(&objs, "Deployment", "web").unwrap();
    let a = annotations(web);
    assert_eq!(a["prometheus.io/scrape"], "true", "{a}");
    assert_eq!(a["prometheus.io/port"], "9090", "the named port, resolved");
    assert_eq!(a["prometheus.io/path"], "/stats");
    assert!(
        annotations(find(&objs, "Deployment", "api").unwrap())["prometheus.io/scrape"].is_null()
    );
    assert!(
        find(&mon, "ServiceMonitor", "web").is_none() && find(&mon, "PodMonitor", "web").is_none()
    );
    assert!(find(&mon, "ServiceMonitor", "api").is_some());
    assert!(find(&mon, "NetworkPolicy", "web-allow-prometheus").is_some());
    for (dep, port) in [("cache", "9121"), ("pg", "9187")] {
        let sts = find(&objs, "StatefulSet", dep).unwrap();
        assert!(has_exporter(sts), "{dep}");
        assert_eq!(annotations(sts)["prometheus.io/port"], port, "{dep}");
        assert!(
            find(&mon, "PodMonitor", &format!("{dep}-metrics")).is_none(),
            "{dep}"
        );
        assert!(
            find(&mon, "NetworkPolicy", &format!("{dep}-allow-prometheus")).is_some(),
            "{dep}"
        );
    }
    let kafka = find(&objs, "Kafka", "events").unwrap();
    assert!(
        kafka
            .pointer("/spec/kafkaExporter/resources/limits/memory")
            .is_some(),
        "{kafka}"
    );
    assert_eq!(
        kafka.pointer("/spec/kafkaExporter/template/pod/metadata/annotations/prometheus.io~1port"),
        Some(&json!("9404")),
        "{kafka}"
    );

    // prod: the operator's monitors again; the cache opted out of its exporter.
    let (_, mon, objs) = env("prod");
    assert!(
        annotations(find(&objs, "Deployment", "web").unwrap())["prometheus.io/scrape"].is_null()
    );
    assert!(find(&mon, "ServiceMonitor", "web").is_some());
    let cache = find(&objs, "StatefulSet", "cache").unwrap();
    assert!(!has_exporter(cache));
    assert!(annotations(cache)["prometheus.io/scrape"].is_null());
    assert!(find(&mon, "PodMonitor", "cache-metrics").is_none());
    assert!(find(&mon, "NetworkPolicy", "cache-allow-prometheus").is_none());
    let rules = rule_names(&mon);
    assert!(
        !rules.iter().any(|(a, s)| s == "cache"
            && a != "BerthSentinelNoQuorum"
            && a != "BerthReplicasUnavailable"
            && a != "BerthPodCrashLooping"),
        "{rules:?}"
    );
    let q = groups(&mon)
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().clone())
        .find(|r| r["alert"] == "BerthSentinelNoQuorum")
        .unwrap();
    assert!(
        !q["expr"].as_str().unwrap().contains("ckquorum"),
        "no exporter, no ckquorum: {q}"
    );
    let pm = find(&mon, "PodMonitor", "events-metrics").expect("Strimzi's Kafka Exporter");
    assert_eq!(
        pm["spec"]["selector"]["matchLabels"]["strimzi.io/name"],
        "events-kafka-exporter"
    );
    assert_eq!(
        pm["spec"]["podMetricsEndpoints"][0]["port"],
        "tcp-prometheus"
    );
    assert!(rules.contains(&("BerthKafkaUnderReplicated".into(), "events".into())));
    assert!(rules.contains(&("BerthPostgresDown".into(), "pg".into())));
    assert!(find(&mon, "PodMonitor", "pg-metrics").is_some());
}

/// The monitoring objects pass berth check's schemas (the prometheus-operator CRDs are vendored).
#[test]
fn monitoring_objects_are_schema_valid() {
    let mut all = examples();
    all.push(("modes".into(), load(MODES)));
    for (name, loaded) in all {
        for app in &loaded.apps {
            let r = berth_render::render(app);
            let objects = monitoring::objects(app, &r);
            let input = berth_check::Input::Objects {
                name: format!("{name}-{}", app.env),
                objects: objects.iter().collect(),
            };
            let report = berth_check::check(&[input], &Default::default()).unwrap();
            assert_eq!(
                report.count(berth_check::Severity::Error),
                0,
                "{name}/{}: {report:?}",
                app.env
            );
        }
    }
}
