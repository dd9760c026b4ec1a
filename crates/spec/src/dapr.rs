//! Dapr: `dapr: true` or `dapr: { … }` on a service (the sidecar, and the topics it publishes and
//! subscribes to), and `dapr: { tracing }` at the top level. Model, checks and resolution.

use crate::error::SpecError;
use crate::model::{DependencyKind, Spec};
use crate::quantity::ResourcePair;
use crate::validate::Ctx;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, de};
use std::fmt;

/// A service's Dapr sidecar: `true` (defaults), `false`, or its settings.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum Dapr {
    Flag(bool),
    Settings(Box<DaprSettings>),
}

/// Dapr sidecar settings of a service.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DaprSettings {
    /// The Dapr app id (default: the service name); also the default consumer group.
    #[serde(rename = "app-id", default)]
    pub app_id: Option<String>,
    /// Port the sidecar calls the app on (default: the service's `port`).
    #[serde(rename = "app-port", default)]
    pub app_port: Option<u16>,
    /// `http` (default), `grpc`, `https`, `grpcs` or `h2c`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// `debug`, `info` (default), `warn` or `error`.
    #[serde(rename = "log-level", default)]
    pub log_level: Option<String>,
    /// The sidecar's CPU and memory as `request/limit` (default `100m/300m`, `64Mi/256Mi`).
    #[serde(default)]
    pub resources: Option<crate::model::Resources>,
    /// Topics it subscribes to, each with the route Dapr delivers to (`task.created: /events/created`).
    #[serde(default)]
    pub subscribe: Option<IndexMap<String, String>>,
    /// Topics it publishes (the pub/sub component lets it publish only these).
    #[serde(default)]
    pub publish: Option<Vec<String>>,
    /// The Kafka dependency for pub/sub, when it uses more than one.
    #[serde(default)]
    pub pubsub: Option<String>,
}

impl<'de> Deserialize<'de> for Dapr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Dapr;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "`true`, `false`, or a mapping such as `{ subscribe: { topic: /route } }`",
                )
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Dapr, E> {
                Ok(Dapr::Flag(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Dapr, A::Error> {
                DaprSettings::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|s| Dapr::Settings(Box::new(s)))
            }
        }
        d.deserialize_any(V)
    }
}

/// App-wide Dapr settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DaprApp {
    /// Traces to an OpenTelemetry collector: `{ endpoint: otel-collector.observability:4317, sampling: "0.1" }`.
    #[serde(default)]
    pub tracing: Option<DaprTracing>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DaprTracing {
    /// OTLP endpoint `host:port`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Fraction of requests traced, `"0"`..`"1"` (default `"1"`).
    #[serde(default)]
    pub sampling: Option<String>,
    /// `grpc` (default) or `http`.
    #[serde(default)]
    pub protocol: Option<String>,
}

/// A service's sidecar, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedDapr {
    pub app_id: String,
    pub app_port: Option<u16>,
    pub protocol: Option<String>,
    pub log_level: String,
    pub cpu: ResourcePair,
    pub memory: ResourcePair,
    /// (topic, route)
    pub subscribe: Vec<(String, String)>,
    pub publish: Vec<String>,
    /// The Kafka dependency its pub/sub goes through, when it publishes or subscribes.
    pub pubsub: Option<String>,
    /// Redis/Valkey dependencies it uses: each is a state store.
    pub state: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedDaprApp {
    /// (endpoint, sampling, protocol)
    pub tracing: Option<(String, String, String)>,
}

const PROTOCOLS: &[&str] = &["http", "grpc", "https", "grpcs", "h2c"];
const LOG_LEVELS: &[&str] = &["debug", "info", "warn", "error"];

fn kind_of(spec: &Spec, dep: &str) -> Option<DependencyKind> {
    spec.dependencies.get(dep).and_then(|d| d.kind)
}

fn is_broker(k: DependencyKind) -> bool {
    matches!(k, DependencyKind::Kafka)
}

fn is_state(k: DependencyKind) -> bool {
    matches!(k, DependencyKind::Redis) || k.as_str() == "valkey"
}

/// Checks and resolves a service's `dapr`. None when off.
pub(crate) fn resolve(
    ctx: &Ctx,
    spec: &Spec,
    name: &str,
    errors: &mut Vec<SpecError>,
) -> Option<ResolvedDapr> {
    let svc = spec.services.get(name)?;
    let settings = match svc.dapr.as_ref()? {
        Dapr::Flag(false) => return None,
        Dapr::Flag(true) => DaprSettings::default(),
        Dapr::Settings(s) => (**s).clone(),
    };
    let path = |sub: &str| -> Vec<String> {
        let mut p = vec!["services".to_string(), name.to_string(), "dapr".to_string()];
        if !sub.is_empty() {
            p.push(sub.to_string());
        }
        p
    };
    let err = |errors: &mut Vec<SpecError>, sub: &str, msg: String, help: String| {
        let p = path(sub);
        let p: Vec<&str> = p.iter().map(String::as_str).collect();
        errors.push(ctx.err(&p, msg, Some(help)));
    };
    let uses: Vec<&String> = svc.uses.iter().flatten().collect();
    if let Some(p) = &settings.protocol
        && !PROTOCOLS.contains(&p.as_str())
    {
        err(
            errors,
            "protocol",
            format!("unknown Dapr app protocol `{p}`"),
            format!("one of {}", PROTOCOLS.join(", ")),
        );
    }
    if let Some(l) = &settings.log_level
        && !LOG_LEVELS.contains(&l.as_str())
    {
        err(
            errors,
            "log-level",
            format!("unknown Dapr log level `{l}`"),
            format!("one of {}", LOG_LEVELS.join(", ")),
        );
    }
    let subscribe: Vec<(String, String)> = settings
        .subscribe
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    for (topic, route) in &subscribe {
        if !route.starts_with('/') {
            err(
                errors,
                "subscribe",
                format!("route `{route}` of topic `{topic}` is not a path"),
                format!(
                    "write the HTTP path Dapr delivers to, e.g. `{topic}: /events/{}`",
                    topic.replace('.', "-")
                ),
            );
        }
    }
    if !subscribe.is_empty() && settings.app_port.or(svc.port).is_none() {
        err(
            errors,
            "subscribe",
            format!("`{name}` subscribes to topics but has no port for Dapr to deliver them to"),
            "set the service's `port:` (or `dapr: { app-port: N }`)".into(),
        );
    }
    let publish = settings.publish.clone().unwrap_or_default();
    let brokers: Vec<&String> = uses
        .iter()
        .copied()
        .filter(|u| kind_of(spec, u).is_some_and(is_broker))
        .collect();
    let mut pubsub = None;
    if !subscribe.is_empty() || !publish.is_empty() || settings.pubsub.is_some() {
        match &settings.pubsub {
            Some(p) if brokers.contains(&p) => pubsub = Some(p.clone()),
            Some(p) => err(
                errors,
                "pubsub",
                format!(
                    "Dapr pub/sub through `{p}`, which `{name}` does not use as a Kafka dependency"
                ),
                match brokers.first() {
                    Some(b) => format!("name a Kafka dependency in `uses`, e.g. `pubsub: {b}`"),
                    None => format!(
                        "add a `type: kafka` dependency and list it in `services.{name}.uses`"
                    ),
                },
            ),
            None if brokers.len() == 1 => pubsub = Some(brokers[0].clone()),
            None if brokers.is_empty() => err(
                errors,
                if subscribe.is_empty() {
                    "publish"
                } else {
                    "subscribe"
                },
                format!("Dapr pub/sub on `{name}`, which uses no broker"),
                format!(
                    "add a `type: kafka` dependency and list it in `services.{name}.uses` (e.g. `uses: [kafka]`), or remove `subscribe`/`publish`"
                ),
            ),
            None => err(
                errors,
                "",
                format!(
                    "`{name}` uses several Kafka dependencies ({}); Dapr pub/sub needs one",
                    brokers
                        .iter()
                        .map(|b| b.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!("set `pubsub: {}`", brokers[0]),
            ),
        }
    }
    let state = uses
        .iter()
        .filter(|u| kind_of(spec, u).is_some_and(is_state))
        .map(|u| u.to_string())
        .collect();
    let res = settings.resources.clone().unwrap_or_default();
    Some(ResolvedDapr {
        app_id: settings.app_id.clone().unwrap_or_else(|| name.to_string()),
        app_port: settings.app_port.or(svc.port),
        protocol: settings.protocol.clone(),
        log_level: settings.log_level.clone().unwrap_or_else(|| "info".into()),
        cpu: res
            .cpu
            .unwrap_or_else(|| ResourcePair::parse("100m/300m").expect("valid")),
        memory: res
            .memory
            .unwrap_or_else(|| ResourcePair::parse("64Mi/256Mi").expect("valid")),
        subscribe,
        publish,
        pubsub,
        state,
    })
}

pub(crate) fn resolve_app(spec: &Spec) -> Option<ResolvedDaprApp> {
    let app = spec.dapr.as_ref();
    let tracing = app.and_then(|a| a.tracing.as_ref()).and_then(|t| {
        Some((
            t.endpoint.clone()?,
            t.sampling.clone().unwrap_or_else(|| "1".into()),
            t.protocol.clone().unwrap_or_else(|| "grpc".into()),
        ))
    });
    Some(ResolvedDaprApp { tracing })
}
