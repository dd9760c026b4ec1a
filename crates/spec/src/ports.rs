//! Ports a service listens on, each with its protocol (`port: N` is one HTTP port named `http`),
//! and the connection variables callers get for them.

use crate::error::SpecError;
use crate::model::Service;
use crate::validate::Ctx;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// The short form `port: N` names its port `http`.
pub const DEFAULT_PORT_NAME: &str = "http";

/// What speaks on a port. `http` (the default) gets `NAME_URL=http://…` in callers; `grpc`,
/// `tcp` and `udp` get `NAME_ADDR=host:port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Http,
    Grpc,
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
    /// The Kubernetes transport protocol (`TCP` or `UDP`).
    pub fn transport(self) -> &'static str {
        match self {
            Protocol::Udp => "UDP",
            _ => "TCP",
        }
    }
    /// The Service port's `appProtocol`: `http` (an IANA service name) and `kubernetes.io/h2c`
    /// (HTTP/2 with prior knowledge, the Kubernetes-defined name for cleartext gRPC that
    /// Gateway API implementations and meshes read); none for plain TCP/UDP.
    pub fn app_protocol(self) -> Option<&'static str> {
        match self {
            Protocol::Http => Some("http"),
            Protocol::Grpc => Some("kubernetes.io/h2c"),
            Protocol::Tcp | Protocol::Udp => None,
        }
    }
}

/// A port: a number (HTTP), or `{ port, protocol, service-port }`.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum PortSpec {
    /// The container port; the protocol is `http`.
    Number(u16),
    /// The full form.
    Full(PortFull),
}

/// A port with its protocol and Service port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PortFull {
    /// Container port (1–65535).
    pub port: u16,
    /// `http` (default), `grpc`, `tcp` or `udp`.
    #[serde(default)]
    pub protocol: Option<Protocol>,
    /// Port of the Service that forwards to it (default: the container port).
    #[serde(default)]
    pub service_port: Option<u16>,
}

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PortSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a port number or `{ port: N, protocol: http|grpc|tcp|udp }`")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PortSpec, E> {
                u16::try_from(v)
                    .map(PortSpec::Number)
                    .map_err(|_| E::custom(format!("port {v} is out of range (1–65535)")))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PortSpec, E> {
                self.visit_i64(v as i64)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<PortSpec, A::Error> {
                PortFull::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(PortSpec::Full)
            }
        }
        d.deserialize_any(V)
    }
}

/// A port after defaults: name, container port, protocol, Service port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPort {
    pub name: String,
    pub port: u16,
    pub protocol: Protocol,
    pub service_port: u16,
}

/// Whether the service declares any port (`port` or `ports`).
pub(crate) fn has_ports(svc: &Service) -> bool {
    svc.port.is_some()
        || svc
            .ports
            .as_ref()
            .is_some_and(|p| p.values().any(Option::is_some))
}

/// A port name Kubernetes accepts (IANA_SVC_NAME): at most 15 lowercase letters, digits and
/// `-`, with a letter, not starting or ending with `-`, no `--`.
pub fn is_port_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// `repository` is the service's image repository: `port: N` on a known non-HTTP server
/// (redis, postgres, …) is a TCP port named after it, so callers never get `http://` for it.
pub(crate) fn resolve_ports(
    ctx: &Ctx,
    name: &str,
    svc: &Service,
    repository: &str,
    errors: &mut Vec<SpecError>,
) -> Vec<ResolvedPort> {
    let mut out = Vec::new();
    let declared: Vec<(&String, &PortSpec)> = svc
        .ports
        .iter()
        .flatten()
        .filter_map(|(k, v)| Some((k, v.as_ref()?)))
        .collect();
    match (svc.port, declared.is_empty()) {
        (Some(_), false) => errors.push(ctx.err(
            &["services", name, "ports"],
            "`port` and `ports` cannot be used together",
            Some(format!(
                "`port: N` is the short form of `ports: {{ {DEFAULT_PORT_NAME}: N }}`; keep one (in an environment override, set `port: null`)"
            )),
        )),
        (Some(p), true) => {
            let (protocol, port_name) = crate::connect::short_form_protocol(repository);
            out.push(ResolvedPort {
                name: port_name.unwrap_or(DEFAULT_PORT_NAME).into(),
                port: p,
                protocol,
                service_port: p,
            })
        }
        (None, _) => {}
    }
    if svc.port.is_none() {
        for (port_name, spec) in declared {
            let (port, protocol, service_port) = match spec {
                PortSpec::Number(n) => (*n, Protocol::Http, None),
                PortSpec::Full(f) => (f.port, f.protocol.unwrap_or_default(), f.service_port),
            };
            out.push(ResolvedPort {
                name: port_name.clone(),
                port,
                protocol,
                service_port: service_port.unwrap_or(port),
            });
        }
    }
    if svc.port == Some(0) {
        errors.push(ctx.err(
            &["services", name, "port"],
            "port must be between 1 and 65535",
            None,
        ));
    }
    let mut seen_ports: IndexMap<(u16, &str), &str> = IndexMap::new();
    let mut seen_service: IndexMap<(u16, &str), &str> = IndexMap::new();
    for p in &out {
        if svc.port.is_some() {
            break;
        }
        let at = ["services", name, "ports", p.name.as_str()];
        if !is_port_name(&p.name) {
            errors.push(ctx.err(
                &at,
                format!("port name `{}` is not a valid Kubernetes port name", p.name),
                Some("at most 15 lowercase letters, digits and `-`, with at least one letter, e.g. `grpc` or `metrics`".into()),
            ));
        }
        if p.port == 0 || p.service_port == 0 {
            errors.push(ctx.err(&at, "port must be between 1 and 65535", None));
        }
        let transport = p.protocol.transport();
        if let Some(other) = seen_ports.insert((p.port, transport), &p.name) {
            errors.push(ctx.err(
                &at,
                format!(
                    "ports `{other}` and `{}` both use container port {} ({transport})",
                    p.name, p.port
                ),
                Some("give each port its own number".into()),
            ));
        }
        if let Some(other) = seen_service.insert((p.service_port, transport), &p.name) {
            errors.push(ctx.err(
                &at,
                format!(
                    "ports `{other}` and `{}` both use Service port {} ({transport})",
                    p.name, p.service_port
                ),
                Some("set a different `service-port` on one of them".into()),
            ));
        }
    }
    out
}

/// Finds a port by name or number as written (`grpc`, `5050`).
pub(crate) fn find_port<'p>(
    ports: &'p [ResolvedPort],
    reference: &str,
) -> Option<&'p ResolvedPort> {
    match reference.parse::<u16>() {
        Ok(n) => ports.iter().find(|p| p.port == n),
        Err(_) => ports.iter().find(|p| p.name == reference),
    }
}

/// Connection variables for a caller of service `used`: per port, `X_URL` (http) or `X_ADDR`
/// (grpc/tcp/udp) plus `X_HOST`/`X_PORT`; the first port unsuffixed, others as `X_<PORT>_…`.
/// A TCP port of a known server (`redis`) also gets the URL its clients read (`redis://…`).
pub(crate) fn service_vars(
    used: &str,
    host: &str,
    ports: &[ResolvedPort],
    repository: &str,
) -> Vec<(String, String)> {
    let prefix = crate::resolve::env_prefix(used);
    let known = crate::connect::known_server(repository);
    let mut vars = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let base = if i == 0 {
            prefix.clone()
        } else {
            format!("{prefix}_{}", crate::resolve::env_prefix(&p.name))
        };
        match p.protocol {
            Protocol::Http => vars.push((
                format!("{base}_URL"),
                format!("http://{host}:{}", p.service_port),
            )),
            _ => {
                vars.push((format!("{base}_ADDR"), format!("{host}:{}", p.service_port)));
                if let Some((known_name, Some(scheme))) = known
                    && p.protocol == Protocol::Tcp
                    && p.name == known_name
                {
                    vars.push((
                        format!("{base}_URL"),
                        format!("{scheme}://{host}:{}", p.service_port),
                    ));
                }
            }
        }
        if i == 0 {
            vars.push((format!("{prefix}_HOST"), host.to_owned()));
        }
        vars.push((format!("{base}_PORT"), p.service_port.to_string()));
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_names_follow_kubernetes() {
        for ok in ["http", "grpc", "metrics-2", "h2c", "a1"] {
            assert!(is_port_name(ok), "{ok}");
        }
        for bad in [
            "",
            "123",
            "-http",
            "http-",
            "a--b",
            "HTTP",
            "averyveryverylongname",
        ] {
            assert!(!is_port_name(bad), "{bad}");
        }
    }

    #[test]
    fn connection_variables_follow_the_protocol() {
        let ports = vec![
            ResolvedPort {
                name: "grpc".into(),
                port: 5050,
                protocol: Protocol::Grpc,
                service_port: 5050,
            },
            ResolvedPort {
                name: "metrics".into(),
                port: 9090,
                protocol: Protocol::Http,
                service_port: 9090,
            },
        ];
        let vars = service_vars("cart-service", "cart-service", &ports, "cartservice");
        let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("CART_SERVICE_ADDR"), Some("cart-service:5050"));
        assert_eq!(get("CART_SERVICE_HOST"), Some("cart-service"));
        assert_eq!(get("CART_SERVICE_PORT"), Some("5050"));
        assert_eq!(get("CART_SERVICE_URL"), None);
        assert_eq!(
            get("CART_SERVICE_METRICS_URL"),
            Some("http://cart-service:9090")
        );
        assert_eq!(get("CART_SERVICE_METRICS_PORT"), Some("9090"));
    }
}
