//! What a service tells its monitoring: where its metrics are (`metrics`) and what it promises
//! (`slo`). `berth render --format monitoring` turns them into a ServiceMonitor and SLO alerts.

use crate::quantity::parse_scalar;
use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

/// Where Prometheus scrapes the service.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Container port serving the metrics: a number or a port name (default: the service's port).
    #[serde(default)]
    pub port: Option<PortRef>,
    /// HTTP path (default `/metrics`).
    #[serde(default)]
    pub path: Option<String>,
    /// Scrape interval, e.g. `30s` (default `30s`).
    #[serde(default)]
    pub interval: Option<String>,
    /// How Prometheus finds it, for this service only (default: the app's `monitoring.scrape`).
    #[serde(default)]
    pub scrape: Option<ScrapeMode>,
}

/// How Prometheus finds what to scrape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ScrapeMode {
    /// `ServiceMonitor`/`PodMonitor` objects for the prometheus-operator (kube-prometheus-stack).
    #[default]
    PrometheusOperator,
    /// `prometheus.io/scrape`, `prometheus.io/port` and `prometheus.io/path` pod annotations, for
    /// a Prometheus without the operator that discovers pods by them.
    Annotations,
}

impl ScrapeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ScrapeMode::PrometheusOperator => "prometheus-operator",
            ScrapeMode::Annotations => "annotations",
        }
    }
}

/// App-wide monitoring settings (an environment's `monitoring:` overrides them).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringSettings {
    /// `prometheus-operator` (default: ServiceMonitors and PodMonitors) or `annotations`
    /// (`prometheus.io/*` pod annotations, for clusters without the operator); for the
    /// services' `metrics` and the data tier's exporters.
    #[serde(default)]
    pub scrape: Option<ScrapeMode>,
}

/// A port by number or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl<'de> Deserialize<'de> for PortRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_scalar(d, |s| match s.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Ok(PortRef::Number(n as u16)),
            Ok(n) => Err(format!("port {n} is out of range (1 to 65535)")),
            Err(_) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                Ok(PortRef::Name(s.to_owned()))
            }
            Err(_) => Err(format!("`{s}` is neither a port number nor a port name")),
        })
    }
}

impl JsonSchema for PortRef {
    fn schema_name() -> Cow<'static, str> {
        "PortRef".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"description": "a port number or a port name", "type": ["integer", "string"]})
    }
}

/// A service level objective: the share of good requests promised over 30 days.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// Share of requests that must succeed, e.g. `99.9%`.
    #[serde(default)]
    pub availability: Option<Objective>,
    /// Latency objectives by percentile: `{ p99: 300ms }` (99 % of requests faster than 300 ms).
    #[serde(default)]
    pub latency: Option<IndexMap<String, String>>,
    /// PromQL selector of the request counter, e.g. `http_requests_total{job="backend"}`.
    #[serde(default)]
    pub requests: Option<String>,
    /// Selector of the failed requests (default: `requests` with `code=~"5.."` added).
    #[serde(default)]
    pub errors: Option<String>,
    /// Selector of the latency histogram's buckets (default:
    /// `http_request_duration_seconds_bucket` with the label matchers of `requests`).
    #[serde(default)]
    pub histogram: Option<String>,
}

/// A percentage objective such as `99.9%` (strictly between 0 and 100).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective(pub f64);

impl Objective {
    pub fn parse(text: &str) -> Result<Objective, String> {
        let n: f64 = text
            .trim()
            .trim_end_matches('%')
            .parse()
            .map_err(|_| format!("`{text}` is not a percentage (expected e.g. `99.9%`)"))?;
        if !(n > 0.0 && n < 100.0) {
            return Err(format!(
                "{text} is out of range (expected above 0% and below 100%, e.g. `99.9%`)"
            ));
        }
        Ok(Objective(n))
    }
}

impl<'de> Deserialize<'de> for Objective {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_scalar(d, Objective::parse)
    }
}

impl JsonSchema for Objective {
    fn schema_name() -> Cow<'static, str> {
        "Objective".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"description": "a percentage such as `99.9%`", "type": ["string", "number"], "pattern": "^[0-9.]+%?$"})
    }
}

/// A latency objective: `p99` → 0.99, `p99.9` → 0.999.
pub fn percentile(key: &str) -> Option<f64> {
    let n: f64 = key.strip_prefix('p')?.parse().ok()?;
    (n > 0.0 && n < 100.0).then_some(n / 100.0)
}

/// `300ms`, `1.5s`, `2s` in seconds.
pub fn seconds(text: &str) -> Option<f64> {
    let t = text.trim();
    let (n, f) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        return None;
    };
    let v: f64 = n.parse().ok()?;
    (v > 0.0).then_some(v * f)
}

pub(crate) fn check_latency(key: &str, value: &str) -> Result<(), String> {
    if percentile(key).is_none() {
        return Err(format!(
            "`{key}` is not a percentile (expected `p99`, `p95`, `p99.9`)"
        ));
    }
    if seconds(value).is_none() {
        return Err(format!(
            "`{value}` is not a duration (expected e.g. `300ms`, `1s`)"
        ));
    }
    Ok(())
}
