//! HorizontalPodAutoscalers that react fast to load and slowly to its absence.

use crate::labels::service_meta;
use berth_spec::{App, ResolvedService};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, ExternalMetricSource, HPAScalingPolicy, HPAScalingRules,
    HorizontalPodAutoscaler, HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec,
    MetricIdentifier, MetricSpec, MetricTarget, PodsMetricSource, ResourceMetricSource,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

pub(crate) fn hpa(
    app: &App,
    svc: &ResolvedService,
    o: &mut crate::origin::ObjectOrigins,
) -> Option<HorizontalPodAutoscaler> {
    use crate::origin::{Origin, docs, spec_path};
    let auto = svc.autoscale.as_ref()?;
    let s = |rest: &[&str]| {
        let mut p = spec_path(&["services", svc.name.as_str(), "scale"]);
        p.extend(rest.iter().map(|r| (*r).to_owned()));
        p
    };
    o.set("/spec/minReplicas", Origin::spec_or_default(s(&["min"]), "2", docs::SERVICES))
        .set("/spec/maxReplicas", Origin::spec(s(&["max"])))
        .set("/spec/scaleTargetRef", Origin::rule("the service's Deployment (StatefulSet with storage)", docs::RENDERS, vec![]))
        .set("/spec/behavior", Origin::rule("HPA behaviour: scale up at once (double or +4 pods per 15 s), down after 5 quiet minutes by at most 10% a minute", docs::RENDERS, vec![]));
    let mut i = 0;
    for (key, set) in [
        ("cpu", auto.cpu.is_some()),
        ("memory", auto.memory.is_some()),
    ] {
        if set {
            o.set(
                format!("/spec/metrics/{i}"),
                Origin::rule(
                    "a resource utilisation target",
                    docs::SERVICES,
                    vec![s(&[key])],
                ),
            )
            .set(
                format!("/spec/metrics/{i}/resource/name"),
                Origin::spec(s(&[key])),
            )
            .set(
                format!("/spec/metrics/{i}/resource/target/averageUtilization"),
                Origin::spec(s(&[key])),
            );
            i += 1;
        }
    }
    for j in 0..auto.metrics.len() {
        o.set(
            format!("/spec/metrics/{}", i + j),
            Origin::rule(
                "a custom metric (`scale.metrics`)",
                docs::SERVICES,
                vec![s(&["metrics", &j.to_string()])],
            ),
        );
    }
    let metric = |name: &str, pct: u8| MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: name.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(pct.into()),
                ..Default::default()
            },
        }),
        ..Default::default()
    };
    let mut metrics = Vec::new();
    if let Some(c) = auto.cpu {
        metrics.push(metric("cpu", c));
    }
    if let Some(m) = auto.memory {
        metrics.push(metric("memory", m));
    }
    for m in &auto.metrics {
        metrics.push(custom_metric(m));
    }
    let policy = |type_: &str, value: i32, period: i32| HPAScalingPolicy {
        type_: type_.into(),
        value,
        period_seconds: period,
    };
    Some(HorizontalPodAutoscaler {
        metadata: service_meta(app, svc, &svc.name),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: (if svc.is_stateful() {
                    "StatefulSet"
                } else {
                    "Deployment"
                })
                .into(),
                name: svc.name.clone(),
            },
            min_replicas: Some(auto.min as i32),
            max_replicas: auto.max as i32,
            metrics: Some(metrics),
            behavior: Some(HorizontalPodAutoscalerBehavior {
                // Scale up at once: double, or add 4 pods, every 15 s, whichever is more.
                scale_up: Some(HPAScalingRules {
                    stabilization_window_seconds: Some(0),
                    select_policy: Some("Max".into()),
                    policies: Some(vec![policy("Percent", 100, 15), policy("Pods", 4, 15)]),
                    ..Default::default()
                }),
                // Scale down only after 5 quiet minutes, by at most 10% a minute.
                scale_down: Some(HPAScalingRules {
                    stabilization_window_seconds: Some(300),
                    select_policy: Some("Min".into()),
                    policies: Some(vec![policy("Percent", 10, 60)]),
                    ..Default::default()
                }),
            }),
        }),
        ..Default::default()
    })
}

/// A Pods or External metric (served by a metrics adapter such as prometheus-adapter or KEDA).
fn custom_metric(m: &berth_spec::CustomMetric) -> MetricSpec {
    use berth_spec::{MetricSource, MetricTarget as Target};
    let metric = MetricIdentifier {
        name: m.name.clone(),
        selector: (!m.selector.is_empty()).then(|| LabelSelector {
            match_labels: Some(m.selector.iter().cloned().collect()),
            ..Default::default()
        }),
    };
    let target = match &m.target {
        Target::AverageValue(v) => MetricTarget {
            type_: "AverageValue".into(),
            average_value: Some(Quantity(v.clone())),
            ..Default::default()
        },
        Target::Value(v) => MetricTarget {
            type_: "Value".into(),
            value: Some(Quantity(v.clone())),
            ..Default::default()
        },
    };
    match m.source {
        MetricSource::Pods => MetricSpec {
            type_: "Pods".into(),
            pods: Some(PodsMetricSource { metric, target }),
            ..Default::default()
        },
        MetricSource::External => MetricSpec {
            type_: "External".into(),
            external: Some(ExternalMetricSource { metric, target }),
            ..Default::default()
        },
    }
}
