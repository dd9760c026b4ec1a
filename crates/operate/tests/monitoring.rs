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
            let quorum: usize = expr.rsplit("< ").next().unwrap().trim().parse().unwrap();
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
            Some((ready(quorum - 1), ready(quorum), vec![]))
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

#[test]
fn promtool_checks_every_rule_file_and_every_alert_fires_only_when_it_should() {
    let promtool = promtool();
    let dir = tempfile::tempdir().unwrap();
    let mut tested = std::collections::BTreeSet::new();
    for (name, loaded) in examples() {
        for app in &loaded.apps {
            let r = berth_render::render(app);
            let objects = monitoring::objects(app, &r);
            let groups = groups(&objects);
            let rules_file = dir.path().join(format!("{name}-{}.rules.json", app.env));
            std::fs::write(
                &rules_file,
                serde_json::to_string_pretty(&json!({"groups": groups})).unwrap(),
            )
            .unwrap();
            let out = Command::new(&promtool)
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
                tests.push(json!({"interval": "1m", "input_series": firing, "alert_rule_test": firing_checks}));
                tests.push(json!({"interval": "1m", "input_series": quiet,
                    "alert_rule_test": [{"eval_time": format!("{fire_at}m"), "alertname": alert, "exp_alerts": []}]}));
            }
            let test_file = dir.path().join(format!("{name}-{}.test.json", app.env));
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
            let out = Command::new(&promtool)
                .current_dir(dir.path())
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
            insta::assert_json_snapshot!(format!("monitoring-{name}-{}", app.env), objects);
        }
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
    ] {
        assert!(tested.contains(alert), "{alert} never tested: {tested:?}");
    }
}

/// The monitoring objects pass berth check's schemas (the prometheus-operator CRDs are vendored).
#[test]
fn monitoring_objects_are_schema_valid() {
    for (name, loaded) in examples() {
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
