//! Health checks of every kind Kubernetes has: HTTP GET (on a named port, with headers), native
//! gRPC, TCP connect and exec, each with optional timing on top of berth's defaults.

use crate::error::SpecError;
use crate::ports::{Protocol, ResolvedPort, find_port};
use crate::validate::Ctx;
use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use std::borrow::Cow;

/// A health check: an HTTP path (`/healthz`), a command (`[cmd, arg]`), or the full form
/// `{ http | grpc | tcp | exec, …timing }`.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum Probe {
    /// HTTP GET on the service's first HTTP port; must start with `/`.
    Http(#[schemars(regex(pattern = r"^/"))] String),
    /// A command run in the container; exit 0 is healthy.
    Exec(#[schemars(length(min = 1))] Vec<String>),
    /// One kind of check with its options and timing.
    Full(ProbeFull),
}

/// The full form of a health check: exactly one of `http`, `grpc`, `tcp`, `exec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeFull {
    /// HTTP GET of this path (starts with `/`).
    #[serde(default)]
    pub http: Option<String>,
    /// `http` only: the port, by name or number (default: the first HTTP port).
    #[serde(default)]
    pub port: Option<PortRef>,
    /// `http` only: request headers.
    #[serde(default)]
    pub headers: Option<IndexMap<String, String>>,
    /// Native gRPC health check (grpc.health.v1) on a port by name or number, optionally with
    /// the service name to ask about: `grpc`, `5050`, `"5050/hipstershop.Health"`.
    #[serde(default)]
    pub grpc: Option<PortRef>,
    /// TCP connect to a port, by name or number.
    #[serde(default)]
    pub tcp: Option<PortRef>,
    /// A command run in the container; exit 0 is healthy.
    #[serde(default)]
    pub exec: Option<Vec<String>>,
    /// How often to check (`10s`, `1m`).
    #[serde(default)]
    pub period: Option<Seconds>,
    /// How long one check may take (`2s`).
    #[serde(default)]
    pub timeout: Option<Seconds>,
    /// Failures in a row before it counts as failed.
    #[serde(default)]
    pub failures: Option<u32>,
    /// Wait before the first check (`0s`).
    #[serde(default)]
    pub delay: Option<Seconds>,
}

/// A port by name (`grpc`) or number (`5050`), as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct PortRef(pub String);

impl JsonSchema for PortRef {
    fn schema_name() -> Cow<'static, str> {
        "PortNameOrNumber".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "a port by name (`grpc`) or number (`5050`)",
            "type": ["string", "integer"]
        })
    }
}

/// A whole number of seconds, written as a duration: `5s`, `1m`, `1m30s`, or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub u32);

impl Seconds {
    pub fn parse(text: &str) -> Result<Seconds, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "`{text}` is not a duration in whole seconds (expected e.g. `5s`, `1m`, `1m30s`)"
            )
        };
        if let Ok(n) = t.parse::<u32>() {
            return Ok(Seconds(n));
        }
        let mut total: u64 = 0;
        let mut number = String::new();
        let mut units = 0;
        for c in t.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let factor = match c {
                'h' => 3600,
                'm' => 60,
                's' => 1,
                _ => return Err(bad()),
            };
            let n: u64 = number.parse().map_err(|_| bad())?;
            total += n * factor;
            number.clear();
            units += 1;
        }
        if !number.is_empty() || units == 0 {
            return Err(bad());
        }
        u32::try_from(total).map(Seconds).map_err(|_| bad())
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::quantity::parse_scalar(d, Seconds::parse)
    }
}

impl JsonSchema for Seconds {
    fn schema_name() -> Cow<'static, str> {
        "Seconds".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "a duration in whole seconds: `5s`, `1m`, `1m30s`, or a number of seconds",
            "type": ["string", "integer"],
            "pattern": "^([0-9]+|([0-9]+h)?([0-9]+m)?([0-9]+s)?)$",
            "minimum": 0
        })
    }
}

const PROBE_KINDS: &[&str] = &["http", "grpc", "tcp", "exec"];

impl<'de> Deserialize<'de> for Probe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Probe;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "an HTTP path such as `/healthz`, a command list such as `[\"/app/check\"]`, or `{ grpc: PORT }`, `{ tcp: PORT }`, `{ http: /path, port: NAME }`, `{ exec: [cmd] }`",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Probe, E> {
                check_path(v).map_err(E::custom)?;
                Ok(Probe::Http(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Probe, A::Error> {
                let mut cmd = Vec::new();
                while let Some(arg) = seq.next_element::<String>()? {
                    cmd.push(arg);
                }
                if cmd.is_empty() {
                    return Err(serde::de::Error::custom(
                        "a health command needs at least one word",
                    ));
                }
                Ok(Probe::Exec(cmd))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Probe, A::Error> {
                let full =
                    ProbeFull::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                let kinds: Vec<&str> = [
                    full.http.is_some().then_some("http"),
                    full.grpc.is_some().then_some("grpc"),
                    full.tcp.is_some().then_some("tcp"),
                    full.exec.is_some().then_some("exec"),
                ]
                .into_iter()
                .flatten()
                .collect();
                match kinds.as_slice() {
                    [] => Err(serde::de::Error::custom(format!(
                        "a health check needs one of {}",
                        PROBE_KINDS
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                    [_] => {
                        if let Some(path) = &full.http {
                            check_path(path).map_err(serde::de::Error::custom)?;
                        } else if full.port.is_some() || full.headers.is_some() {
                            return Err(serde::de::Error::custom(
                                "`port` and `headers` belong to an `http` check (for grpc and tcp, the port is the value: `grpc: 5050`)",
                            ));
                        }
                        if full.exec.as_ref().is_some_and(Vec::is_empty) {
                            return Err(serde::de::Error::custom(
                                "a health command needs at least one word",
                            ));
                        }
                        Ok(Probe::Full(full))
                    }
                    several => Err(serde::de::Error::custom(format!(
                        "a health check is one kind, but this one has {}",
                        several
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

fn check_path(v: &str) -> Result<(), String> {
    if v.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "health path `{v}` must start with `/` (did you mean `/{v}`?)"
        ))
    }
}

/// What a resolved probe does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeAction {
    /// HTTP GET `path` on the named container port (`number` is its container port).
    Http {
        path: String,
        port: String,
        number: u16,
        headers: Vec<(String, String)>,
    },
    /// Native gRPC probe; Kubernetes needs the port as a number.
    Grpc {
        port: u16,
        service: Option<String>,
    },
    /// TCP connect to the named container port.
    Tcp {
        port: String,
        number: u16,
    },
    Exec(Vec<String>),
}

/// A probe with its ports resolved and timing overrides (seconds; `None` keeps berth's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedProbe {
    pub action: ProbeAction,
    pub period: Option<u32>,
    pub timeout: Option<u32>,
    pub failures: Option<u32>,
    pub delay: Option<u32>,
}

impl ResolvedProbe {
    /// The HTTP path and container port, for an HTTP check.
    pub fn http(&self) -> Option<(&str, u16)> {
        match &self.action {
            ProbeAction::Http { path, number, .. } => Some((path, *number)),
            _ => None,
        }
    }
}

/// Resolves one probe of service `name` against its ports.
pub(crate) fn resolve_probe(
    ctx: &Ctx,
    name: &str,
    key: &str,
    probe: &Probe,
    ports: &[ResolvedPort],
    errors: &mut Vec<SpecError>,
) -> Option<ResolvedProbe> {
    let at = ["services", name, "health", key];
    let full = match probe {
        Probe::Http(path) => ProbeFull {
            http: Some(path.clone()),
            ..Default::default()
        },
        Probe::Exec(cmd) => ProbeFull {
            exec: Some(cmd.clone()),
            ..Default::default()
        },
        Probe::Full(f) => f.clone(),
    };
    let no_ports = || {
        ctx.err(
            &at,
            format!("this `{key}` check needs a port, and `{name}` has none"),
            Some("add `port:` (or `ports:`), or use a command: `[\"/app/healthcheck\"]`".into()),
        )
    };
    let lookup = |reference: &str, field: &str, errors: &mut Vec<SpecError>| {
        let found = find_port(ports, reference);
        if found.is_none() {
            let mut path = at.to_vec();
            path.push(field);
            let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
            errors.push(ctx.err(
                &path,
                format!("`{name}` has no port `{reference}`"),
                Some(if reference.parse::<u16>().is_ok() {
                    format!(
                        "declare it under `ports:`, or use one of: {}",
                        ports
                            .iter()
                            .map(|p| format!("`{}` ({})", p.name, p.port))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    crate::de::suggest(reference, &names)
                }),
            ));
        }
        found
    };
    let action = if let Some(path) = full.http {
        if ports.is_empty() {
            errors.push(no_ports());
            return None;
        }
        let port = match &full.port {
            Some(r) => lookup(&r.0, "port", errors)?,
            None => match ports.iter().find(|p| p.protocol == Protocol::Http) {
                Some(p) => p,
                None => {
                    errors.push(ctx.err(
                        &at,
                        format!("an HTTP check needs an http port, and `{name}` has only {}", ports.iter().map(|p| format!("`{}` ({})", p.name, p.protocol.as_str())).collect::<Vec<_>>().join(", ")),
                        Some(format!("name the port: `{{ http: {path}, port: NAME }}`, or use `{{ grpc: PORT }}` / `{{ tcp: PORT }}`")),
                    ));
                    return None;
                }
            },
        };
        if port.protocol == Protocol::Udp {
            errors.push(ctx.err(
                &at,
                format!(
                    "port `{}` is UDP; an HTTP check needs a TCP port",
                    port.name
                ),
                None,
            ));
        }
        ProbeAction::Http {
            path,
            port: port.name.clone(),
            number: port.port,
            headers: full.headers.unwrap_or_default().into_iter().collect(),
        }
    } else if let Some(reference) = full.grpc {
        if ports.is_empty() {
            errors.push(no_ports());
            return None;
        }
        let (port_part, service) = match reference.0.split_once('/') {
            Some((p, s)) => (p, (!s.is_empty()).then(|| s.to_owned())),
            None => (reference.0.as_str(), None),
        };
        let port = lookup(port_part, "grpc", errors)?;
        if port.protocol == Protocol::Udp {
            errors.push(ctx.err(
                &at,
                format!("port `{}` is UDP; a gRPC check needs a TCP port", port.name),
                None,
            ));
        }
        ProbeAction::Grpc {
            port: port.port,
            service,
        }
    } else if let Some(reference) = full.tcp {
        if ports.is_empty() {
            errors.push(no_ports());
            return None;
        }
        let port = lookup(&reference.0, "tcp", errors)?;
        if port.protocol == Protocol::Udp {
            errors.push(ctx.err(
                &at,
                format!("port `{}` is UDP; a TCP check cannot reach it", port.name),
                Some("check it with a command instead: `{ exec: [...] }`".into()),
            ));
        }
        ProbeAction::Tcp {
            port: port.name.clone(),
            number: port.port,
        }
    } else {
        ProbeAction::Exec(full.exec.unwrap_or_default())
    };
    if let ProbeAction::Http { headers, .. } = &action {
        for (h, _) in headers {
            if h.is_empty() || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                errors.push(ctx.err(
                    &["services", name, "health", key, "headers", h],
                    format!("`{h}` is not an HTTP header name"),
                    Some("use letters, digits and `-`, e.g. `X-Probe`".into()),
                ));
            }
        }
    }
    if full.period.is_some_and(|s| s.0 == 0) {
        errors.push(ctx.err(
            &["services", name, "health", key, "period"],
            "period must be at least 1s",
            None,
        ));
    }
    if full.timeout.is_some_and(|s| s.0 == 0) {
        errors.push(ctx.err(
            &["services", name, "health", key, "timeout"],
            "timeout must be at least 1s",
            None,
        ));
    }
    if full.failures == Some(0) {
        errors.push(ctx.err(
            &["services", name, "health", key, "failures"],
            "failures must be at least 1",
            None,
        ));
    }
    Some(ResolvedProbe {
        action,
        period: full.period.map(|s| s.0),
        timeout: full.timeout.map(|s| s.0),
        failures: full.failures,
        delay: full.delay.map(|s| s.0),
    })
}

#[cfg(test)]
mod tests {
    use super::Seconds;

    #[test]
    fn durations_in_seconds() {
        for (text, secs) in [
            ("5s", 5),
            ("1m", 60),
            ("1m30s", 90),
            ("2h", 7200),
            ("10", 10),
            ("0s", 0),
        ] {
            assert_eq!(Seconds::parse(text), Ok(Seconds(secs)), "{text}");
        }
        for bad in ["", "5ms", "1.5s", "s", "5 s", "1d", "-1s"] {
            assert!(Seconds::parse(bad).is_err(), "{bad}");
        }
    }
}
