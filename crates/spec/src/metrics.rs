//! Custom autoscaling metrics (HPA `Pods` and `External` metrics) next to CPU and memory.

use crate::error::SpecError;
use crate::quantity::Quantity;
use crate::validate::Ctx;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// One custom metric: `{ pods: NAME, average: "100" }` or
/// `{ external: NAME, selector: { k: v }, average | value: "30" }`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// A per-pod metric (from a metrics adapter, e.g. `http_requests_per_second`); its average
    /// over the pods is held at `average`.
    #[serde(default)]
    pub pods: Option<String>,
    /// A metric from outside the cluster (e.g. a queue length).
    #[serde(default)]
    pub external: Option<String>,
    /// Label selector of the metric's series.
    #[serde(default)]
    pub selector: Option<IndexMap<String, String>>,
    /// Target average per pod, a quantity (`"100"`, `500m`).
    #[serde(default)]
    pub average: Option<String>,
    /// External only: target total value, a quantity.
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricSource {
    Pods,
    External,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricTarget {
    AverageValue(String),
    Value(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomMetric {
    pub source: MetricSource,
    pub name: String,
    pub selector: Vec<(String, String)>,
    pub target: MetricTarget,
}

pub(crate) fn resolve_metrics(
    ctx: &Ctx,
    name: &str,
    metrics: &[MetricSpec],
    errors: &mut Vec<SpecError>,
) -> Vec<CustomMetric> {
    let mut out = Vec::new();
    for (i, m) in metrics.iter().enumerate() {
        let idx = i.to_string();
        let at = ["services", name, "scale", "metrics", idx.as_str()];
        let (source, metric) = match (&m.pods, &m.external) {
            (Some(p), None) => (MetricSource::Pods, p),
            (None, Some(e)) => (MetricSource::External, e),
            (Some(_), Some(_)) => {
                errors.push(ctx.err(&at, "a metric is `pods` or `external`, not both", None));
                continue;
            }
            (None, None) => {
                errors.push(ctx.err(
                    &at,
                    "a metric needs `pods: NAME` or `external: NAME`",
                    Some("e.g. `{ pods: http_requests_per_second, average: \"100\" }`".into()),
                ));
                continue;
            }
        };
        if metric.is_empty() || metric.contains(char::is_whitespace) {
            errors.push(ctx.err(&at, format!("`{metric}` is not a metric name"), None));
        }
        let target = match (&m.average, &m.value, &source) {
            (Some(a), None, _) => MetricTarget::AverageValue(a.clone()),
            (None, Some(v), MetricSource::External) => MetricTarget::Value(v.clone()),
            (None, Some(_), MetricSource::Pods) => {
                errors.push(ctx.err(
                    &at,
                    "a `pods` metric is held at an `average` per pod",
                    Some("write `average:` instead of `value:`".into()),
                ));
                continue;
            }
            (Some(_), Some(_), _) => {
                errors.push(ctx.err(&at, "`average` and `value` cannot be used together", None));
                continue;
            }
            (None, None, _) => {
                errors.push(ctx.err(
                    &at,
                    "a metric needs a target: `average: \"100\"` (or `value:` for an external metric)",
                    None,
                ));
                continue;
            }
        };
        let (key, text) = match &target {
            MetricTarget::AverageValue(t) => ("average", t),
            MetricTarget::Value(t) => ("value", t),
        };
        if let Err(e) = Quantity::parse(text) {
            let mut path = at.to_vec();
            path.push(key);
            errors.push(ctx.err(&path, e, None));
        }
        out.push(CustomMetric {
            source,
            name: metric.clone(),
            selector: m.selector.clone().unwrap_or_default().into_iter().collect(),
            target,
        });
    }
    out
}
