//! Exposure outside the cluster: an Ingress (host, path, TLS, typed ingress-nginx controls), or
//! a LoadBalancer / NodePort Service for one port.

use crate::error::SpecError;
use crate::ports::{Protocol, ResolvedPort, find_port};
use crate::probes::{PortRef, Seconds};
use crate::validate::Ctx;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Exposure through an Ingress (`host`), or a LoadBalancer/NodePort Service (`type`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Expose {
    /// `ingress` (default), `load-balancer` or `node-port`.
    #[serde(rename = "type", default)]
    pub kind: Option<ExposeType>,
    /// Ingress host name (required for `type: ingress`).
    #[serde(default)]
    pub host: Option<String>,
    /// Ingress path prefix (default `/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Ingress: terminate TLS with a cert-manager certificate (default true).
    #[serde(default)]
    pub tls: Option<bool>,
    /// Which port is exposed, by name or number (default: the first HTTP port, else the first port).
    #[serde(default)]
    pub port: Option<PortRef>,
    /// LoadBalancer/NodePort: annotations on the Service (e.g. for an AWS NLB).
    #[serde(default)]
    pub annotations: Option<IndexMap<String, String>>,
    /// LoadBalancer/NodePort: `cluster` (default) or `local` (keeps client addresses, only nodes
    /// running a pod answer).
    #[serde(default)]
    pub external_traffic_policy: Option<TrafficPolicy>,
    /// NodePort: the node port (30000–32767; default: one the cluster picks).
    #[serde(default)]
    pub node_port: Option<u16>,
    /// Ingress: requests per client address, `{ rps: 10 }` or `{ rpm: 600 }`.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Ingress: cross-origin requests the browser may make.
    #[serde(default)]
    pub cors: Option<Cors>,
    /// Ingress: security response headers; `true` for berth's defaults, or each one.
    #[serde(default)]
    pub security_headers: Option<SecurityHeadersSpec>,
    /// Ingress: largest request body, an nginx size (`10m`, `512k`, `0` for no limit).
    #[serde(default)]
    pub body_size: Option<String>,
    /// Ingress: proxy timeouts to the service.
    #[serde(default)]
    pub timeouts: Option<Timeouts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExposeType {
    #[default]
    Ingress,
    LoadBalancer,
    NodePort,
}

impl ExposeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ExposeType::Ingress => "ingress",
            ExposeType::LoadBalancer => "load-balancer",
            ExposeType::NodePort => "node-port",
        }
    }
    /// The Kubernetes Service type.
    pub fn service_type(self) -> &'static str {
        match self {
            ExposeType::Ingress => "ClusterIP",
            ExposeType::LoadBalancer => "LoadBalancer",
            ExposeType::NodePort => "NodePort",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TrafficPolicy {
    Cluster,
    Local,
}

impl TrafficPolicy {
    pub fn as_k8s(self) -> &'static str {
        match self {
            TrafficPolicy::Cluster => "Cluster",
            TrafficPolicy::Local => "Local",
        }
    }
}

/// Requests per second or per minute, per client address.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per second.
    #[serde(default)]
    pub rps: Option<u32>,
    /// Requests per minute.
    #[serde(default)]
    pub rpm: Option<u32>,
}

/// CORS: which origins may call, with which methods and headers.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Cors {
    /// Allowed origins (`https://app.example.com`, or `*`).
    #[serde(default)]
    pub origins: Option<Vec<String>>,
    /// Allowed methods (default: the controller's, GET, PUT, POST, DELETE, PATCH, OPTIONS).
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Allowed request headers.
    #[serde(default)]
    pub headers: Option<Vec<String>>,
    /// Whether credentials (cookies, authorization) may be sent.
    #[serde(default)]
    pub credentials: Option<bool>,
    /// Seconds (or a duration) a browser may cache the preflight answer.
    #[serde(default)]
    pub max_age: Option<Seconds>,
}

/// `true` (berth's defaults), `false`, or the headers one by one.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum SecurityHeadersSpec {
    On(bool),
    Custom(SecurityHeaders),
}

impl<'de> Deserialize<'de> for SecurityHeadersSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SecurityHeadersSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`true`, `false` or `{ hsts, frame-options, content-type-options, referrer-policy }`")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(SecurityHeadersSpec::On(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                SecurityHeaders::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(SecurityHeadersSpec::Custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Security response headers; each omitted one keeps berth's default.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecurityHeaders {
    /// `Strict-Transport-Security` max-age in seconds (or a duration); `0` sends none
    /// (default 31536000, one year, with TLS only).
    #[serde(default)]
    pub hsts: Option<Seconds>,
    /// `X-Frame-Options`: `DENY` (default) or `SAMEORIGIN`.
    #[serde(default)]
    pub frame_options: Option<String>,
    /// `X-Content-Type-Options` (default `nosniff`).
    #[serde(default)]
    pub content_type_options: Option<String>,
    /// `Referrer-Policy` (default `strict-origin-when-cross-origin`).
    #[serde(default)]
    pub referrer_policy: Option<String>,
}

/// Proxy timeouts (whole seconds).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Connecting to the service (at most 75s, nginx's limit).
    #[serde(default)]
    pub connect: Option<Seconds>,
    /// Between two reads of the response.
    #[serde(default)]
    pub read: Option<Seconds>,
    /// Between two writes of the request.
    #[serde(default)]
    pub send: Option<Seconds>,
}

/// A resolved exposure.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    pub kind: ExposeType,
    /// The exposed port.
    pub port: ResolvedPort,
    /// Ingress only: host, path, TLS.
    pub host: String,
    pub path: String,
    pub tls: bool,
    /// Ingress only: the controller settings, typed.
    pub controls: IngressControls,
    /// LoadBalancer/NodePort: annotations on the external Service.
    pub annotations: BTreeMap<String, String>,
    pub external_traffic_policy: Option<TrafficPolicy>,
    pub node_port: Option<u16>,
}

/// ingress-nginx controls of an exposed service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngressControls {
    pub rps: Option<u32>,
    pub rpm: Option<u32>,
    pub cors: Option<ResolvedCors>,
    /// Response headers (name, value), set through the controller's `custom-headers`.
    pub headers: Vec<(String, String)>,
    pub body_size: Option<String>,
    pub connect_timeout: Option<u32>,
    pub read_timeout: Option<u32>,
    pub send_timeout: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolvedCors {
    pub origins: Vec<String>,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub credentials: bool,
    pub max_age: Option<u32>,
}

pub const DEFAULT_HSTS_SECONDS: u32 = 31_536_000;

fn path<'a>(name: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["services", name, "expose"];
    v.extend_from_slice(rest);
    v
}

pub(crate) fn resolve_expose(
    ctx: &Ctx,
    name: &str,
    e: &Expose,
    ports: &[ResolvedPort],
    errors: &mut Vec<SpecError>,
) -> Option<Exposure> {
    let kind = e.kind.unwrap_or_default();
    if ports.is_empty() {
        errors.push(ctx.err(
            &path(name, &[]),
            format!("`{name}` is exposed but has no `port`"),
            Some("add `port:` (the container port the Ingress routes to)".into()),
        ));
        return None;
    }
    let port = match &e.port {
        Some(r) => match find_port(ports, &r.0) {
            Some(p) => p.clone(),
            None => {
                let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
                errors.push(ctx.err(
                    &path(name, &["port"]),
                    format!("`{name}` has no port `{}`", r.0),
                    Some(crate::de::suggest(&r.0, &names)),
                ));
                return None;
            }
        },
        None => ports
            .iter()
            .find(|p| p.protocol == Protocol::Http)
            .unwrap_or(&ports[0])
            .clone(),
    };
    let ingress_only: [(&str, bool); 7] = [
        ("host", e.host.is_some()),
        ("path", e.path.is_some()),
        ("tls", e.tls.is_some()),
        ("rate-limit", e.rate_limit.is_some()),
        ("cors", e.cors.is_some()),
        ("security-headers", e.security_headers.is_some()),
        ("body-size", e.body_size.is_some() || e.timeouts.is_some()),
    ];
    let service_only: [(&str, bool); 3] = [
        ("annotations", e.annotations.is_some()),
        (
            "external-traffic-policy",
            e.external_traffic_policy.is_some(),
        ),
        ("node-port", e.node_port.is_some()),
    ];
    let mut out = Exposure {
        kind,
        port: port.clone(),
        host: String::new(),
        path: "/".into(),
        tls: false,
        controls: IngressControls::default(),
        annotations: BTreeMap::new(),
        external_traffic_policy: None,
        node_port: None,
    };
    match kind {
        ExposeType::Ingress => {
            for (key, set) in service_only {
                if set {
                    errors.push(ctx.err(
                        &path(name, &[key]),
                        format!("`expose.{key}` applies to `type: load-balancer` or `node-port`, not to an Ingress"),
                        Some("set `type: load-balancer` (or `node-port`), or remove it".into()),
                    ));
                }
            }
            if port.protocol == Protocol::Tcp || port.protocol == Protocol::Udp {
                errors.push(ctx.err(
                    &path(name, &["port"]),
                    format!(
                        "port `{}` is {}; an Ingress carries HTTP and gRPC only",
                        port.name,
                        port.protocol.as_str()
                    ),
                    Some("expose it with `type: load-balancer` (or `node-port`)".into()),
                ));
            }
            let Some(host) = &e.host else {
                errors.push(ctx.err(
                    &path(name, &[]),
                    "missing required key `host`",
                    Some("e.g. `host: app.example.com` (or `type: load-balancer` for a Service without an Ingress)".into()),
                ));
                return None;
            };
            out.host = host.clone();
            out.path = e.path.clone().unwrap_or_else(|| "/".into());
            out.tls = e.tls.unwrap_or(true);
            if port.protocol == Protocol::Grpc && !out.tls {
                errors.push(ctx.err(
                    &path(name, &["tls"]),
                    "ingress-nginx carries gRPC over HTTP/2, which needs TLS",
                    Some("remove `tls: false`".into()),
                ));
            }
            out.controls = controls(ctx, name, e, out.tls, errors);
        }
        ExposeType::LoadBalancer | ExposeType::NodePort => {
            for (key, set) in ingress_only {
                if set {
                    let key = if key == "body-size" && e.body_size.is_none() {
                        "timeouts"
                    } else {
                        key
                    };
                    errors.push(
                        ctx.err(
                            &path(name, &[key]),
                            format!(
                                "`expose.{key}` applies to an Ingress, not to `type: {}`",
                                kind.as_str()
                            ),
                            Some(
                                "remove it, or expose through an Ingress (`host:` without `type`)"
                                    .into(),
                            ),
                        ),
                    );
                }
            }
            if let Some(np) = e.node_port {
                if kind != ExposeType::NodePort {
                    errors.push(ctx.err(
                        &path(name, &["node-port"]),
                        "`node-port` applies to `type: node-port`",
                        Some(
                            "remove it; a LoadBalancer's node port is picked by the cluster".into(),
                        ),
                    ));
                } else if !(30000..=32767).contains(&np) {
                    errors.push(ctx.err(
                        &path(name, &["node-port"]),
                        format!("node port {np} is outside the default NodePort range 30000–32767"),
                        None,
                    ));
                }
            }
            out.annotations = e
                .annotations
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect();
            for key in out.annotations.keys() {
                if !crate::podmeta::is_qualified_name(key) {
                    errors.push(ctx.err(
                        &path(name, &["annotations", key]),
                        format!("`{key}` is not a valid annotation key"),
                        Some("`prefix/name` with a DNS prefix, e.g. `service.beta.kubernetes.io/aws-load-balancer-type`".into()),
                    ));
                }
            }
            out.external_traffic_policy = e.external_traffic_policy;
            out.node_port = e.node_port;
        }
    }
    Some(out)
}

fn controls(
    ctx: &Ctx,
    name: &str,
    e: &Expose,
    tls: bool,
    errors: &mut Vec<SpecError>,
) -> IngressControls {
    let mut c = IngressControls::default();
    if let Some(r) = &e.rate_limit {
        match (r.rps, r.rpm) {
            (Some(_), Some(_)) => errors.push(ctx.err(
                &path(name, &["rate-limit"]),
                "`rps` and `rpm` cannot be used together",
                Some("keep one: `{ rps: 10 }` or `{ rpm: 600 }`".into()),
            )),
            (None, None) => errors.push(ctx.err(
                &path(name, &["rate-limit"]),
                "a rate limit needs `rps` or `rpm`",
                Some("e.g. `rate-limit: { rps: 10 }`".into()),
            )),
            (Some(0), _) | (_, Some(0)) => errors.push(ctx.err(
                &path(name, &["rate-limit"]),
                "a rate limit must be at least 1",
                None,
            )),
            _ => {}
        }
        c.rps = r.rps;
        c.rpm = r.rpm;
    }
    if let Some(cors) = &e.cors {
        let origins = cors.origins.clone().unwrap_or_default();
        if origins.is_empty() {
            errors.push(ctx.err(
                &path(name, &["cors"]),
                "CORS needs `origins`",
                Some("e.g. `origins: [https://app.example.com]`".into()),
            ));
        }
        for (i, o) in origins.iter().enumerate() {
            let valid = o == "*"
                || (o.contains("://")
                    && !o.ends_with('/')
                    && !o.contains([',', ' '])
                    && o.split_once("://")
                        .is_some_and(|(s, h)| !s.is_empty() && !h.is_empty() && !h.contains('/')));
            if !valid {
                errors.push(ctx.err(
                    &path(name, &["cors", "origins", &i.to_string()]),
                    format!("`{o}` is not an origin"),
                    Some("an origin is `scheme://host[:port]` without a path, e.g. `https://app.example.com`, or `*`".into()),
                ));
            }
        }
        let credentials = cors.credentials.unwrap_or(false);
        if credentials && origins.iter().any(|o| o == "*") {
            errors.push(ctx.err(
                &path(name, &["cors", "credentials"]),
                "browsers refuse credentials with the origin `*`",
                Some("list the origins that may send credentials".into()),
            ));
        }
        let methods = cors.methods.clone().unwrap_or_default();
        for (i, m) in methods.iter().enumerate() {
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
                errors.push(ctx.err(
                    &path(name, &["cors", "methods", &i.to_string()]),
                    format!("`{m}` is not an HTTP method"),
                    Some(format!(
                        "methods are upper case, e.g. `{}`",
                        m.to_ascii_uppercase()
                    )),
                ));
            }
        }
        let headers = cors.headers.clone().unwrap_or_default();
        for (i, h) in headers.iter().enumerate() {
            if h.is_empty() || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                errors.push(ctx.err(
                    &path(name, &["cors", "headers", &i.to_string()]),
                    format!("`{h}` is not an HTTP header name"),
                    None,
                ));
            }
        }
        c.cors = Some(ResolvedCors {
            origins,
            methods,
            headers,
            credentials,
            max_age: cors.max_age.map(|s| s.0),
        });
    }
    let defaults = SecurityHeaders::default();
    let headers = match &e.security_headers {
        None | Some(SecurityHeadersSpec::On(false)) => None,
        Some(SecurityHeadersSpec::On(true)) => Some(&defaults),
        Some(SecurityHeadersSpec::Custom(h)) => Some(h),
    };
    if let Some(h) = headers {
        let hsts = h.hsts.map(|s| s.0).unwrap_or(DEFAULT_HSTS_SECONDS);
        // Browsers ignore HSTS over plain HTTP; without TLS it would only mislead.
        if tls && hsts > 0 {
            c.headers.push((
                "Strict-Transport-Security".into(),
                format!("max-age={hsts}; includeSubDomains"),
            ));
        }
        let frame = h.frame_options.clone().unwrap_or_else(|| "DENY".into());
        if !matches!(frame.as_str(), "DENY" | "SAMEORIGIN") {
            errors.push(ctx.err(
                &path(name, &["security-headers", "frame-options"]),
                format!("`{frame}` is not an X-Frame-Options value"),
                Some(crate::de::suggest(
                    &frame.to_ascii_uppercase(),
                    &["DENY", "SAMEORIGIN"],
                )),
            ));
        }
        c.headers.push(("X-Frame-Options".into(), frame));
        let cto = h
            .content_type_options
            .clone()
            .unwrap_or_else(|| "nosniff".into());
        if cto != "nosniff" {
            errors.push(ctx.err(
                &path(name, &["security-headers", "content-type-options"]),
                format!("`{cto}` is not an X-Content-Type-Options value"),
                Some("the only value is `nosniff`".into()),
            ));
        }
        c.headers.push(("X-Content-Type-Options".into(), cto));
        const POLICIES: &[&str] = &[
            "no-referrer",
            "no-referrer-when-downgrade",
            "origin",
            "origin-when-cross-origin",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin",
            "unsafe-url",
        ];
        let referrer = h
            .referrer_policy
            .clone()
            .unwrap_or_else(|| "strict-origin-when-cross-origin".into());
        if !POLICIES.contains(&referrer.as_str()) {
            errors.push(ctx.err(
                &path(name, &["security-headers", "referrer-policy"]),
                format!("`{referrer}` is not a Referrer-Policy"),
                Some(crate::de::suggest(&referrer, POLICIES)),
            ));
        }
        c.headers.push(("Referrer-Policy".into(), referrer));
    }
    if let Some(size) = &e.body_size {
        let digits = size.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || size.len() - digits.len() > 1
        {
            errors.push(ctx.err(
                &path(name, &["body-size"]),
                format!("`{size}` is not an nginx size"),
                Some("a number with an optional `k`, `m` or `g`: `10m`, `512k`; `0` for no limit".into()),
            ));
        }
        c.body_size = Some(size.clone());
    }
    if let Some(t) = &e.timeouts {
        c.connect_timeout = t.connect.map(|s| s.0);
        c.read_timeout = t.read.map(|s| s.0);
        c.send_timeout = t.send.map(|s| s.0);
        if c.connect_timeout.is_some_and(|s| s > 75) {
            errors.push(ctx.err(
                &path(name, &["timeouts", "connect"]),
                "nginx's connect timeout cannot exceed 75s",
                None,
            ));
        }
        for (key, v) in [
            ("connect", c.connect_timeout),
            ("read", c.read_timeout),
            ("send", c.send_timeout),
        ] {
            if v == Some(0) {
                errors.push(ctx.err(
                    &path(name, &["timeouts", key]),
                    "a timeout must be at least 1s",
                    None,
                ));
            }
        }
    }
    c
}
