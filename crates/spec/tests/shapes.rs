//! What a service can say (issue 10): several ports with protocols, every probe kind,
//! exposure, pod metadata, downward-API variables, custom metrics, images as written —
//! resolved values, and bad input with its position and suggestion.

mod common;

use berth_spec::{
    App, ExposeType, MetricSource, MetricTarget, ProbeAction, Protocol, ResolvedService, SpecError,
    load_str,
};
use std::path::Path;

fn load(text: &str) -> Result<berth_spec::Loaded, Vec<SpecError>> {
    load_str(Path::new("berth.yaml"), text, &|_| Ok(Vec::new())).map_err(|e| e.errors)
}

fn app(text: &str) -> App {
    match load(text) {
        Ok(l) => l.apps.into_iter().next().unwrap(),
        Err(e) => panic!(
            "{:#?}",
            e.iter().map(SpecError::one_line).collect::<Vec<_>>()
        ),
    }
}

fn svc<'a>(app: &'a App, name: &str) -> &'a ResolvedService {
    app.services.iter().find(|s| s.name == name).unwrap()
}

fn env<'a>(s: &'a ResolvedService, key: &str) -> Option<&'a str> {
    s.env
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[track_caller]
fn expect_one(text: &str, message: &str, needle: &str, nth: usize) -> SpecError {
    let errs = load(text).expect_err("expected errors");
    common::one_at(&errs, text, message, needle, nth)
}

const BOUTIQUE: &str = r#"app: shop
version: 1.0.0
services:
  cart:
    image: cartservice
    ports: { grpc: { port: 7070, protocol: grpc } }
    health: { ready: { grpc: grpc }, live: { grpc: "7070/hipstershop.Cart", period: 15s, failures: 5 } }
  redis-cart:
    image: redis:7-alpine
    port: 6379
    health: { ready: { tcp: 6379 } }
  frontend:
    image: frontend
    ports:
      web: { port: 8080, service-port: 80 }
      metrics: 9090
    health:
      ready: { http: /_healthz, port: web, headers: { Cookie: shop_session-id=x-readiness-probe } }
      startup: { exec: [/bin/true], delay: 1m, timeout: 3s }
    uses: [cart, redis-cart, cache]
    expose: { type: load-balancer, port: web, external-traffic-policy: local, annotations: { service.beta.kubernetes.io/aws-load-balancer-type: nlb } }
    labels: { team: storefront }
    annotations: { pod: { prometheus.io/scrape: "true" }, service-account: { eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/x" } }
    pod-env: { POD_IP: ip, NODE_NAME: node }
    scale:
      min: 2
      max: 6
      metrics:
        - { pods: http_requests_per_second, average: "100" }
        - { external: sqs_messages_visible, selector: { queue: jobs }, value: "30" }
dependencies:
  cache: { type: redis, host: cache.example.internal }
  events: { type: kafka, host: kafka.example.internal }
"#;

#[test]
fn ports_carry_their_protocol_and_service_port() {
    let app = app(BOUTIQUE);
    let front = svc(&app, "frontend");
    let ports: Vec<_> = front
        .ports
        .iter()
        .map(|p| (p.name.as_str(), p.port, p.protocol, p.service_port))
        .collect();
    assert_eq!(
        ports,
        [
            ("web", 8080, Protocol::Http, 80),
            ("metrics", 9090, Protocol::Http, 9090)
        ]
    );
    assert_eq!(front.port, Some(8080));
    let cart = svc(&app, "cart");
    assert_eq!(cart.ports[0].protocol, Protocol::Grpc);
}

#[test]
fn connection_variables_follow_the_protocol() {
    let app = app(BOUTIQUE);
    let front = svc(&app, "frontend");
    // gRPC: an address, never a URL.
    assert_eq!(env(front, "CART_ADDR"), Some("cart:7070"));
    assert_eq!(env(front, "CART_HOST"), Some("cart"));
    assert_eq!(env(front, "CART_PORT"), Some("7070"));
    assert_eq!(env(front, "CART_URL"), None);
    // A Redis container: a redis:// URL and an address, not http://.
    assert_eq!(
        env(front, "REDIS_CART_URL"),
        Some("redis://redis-cart:6379")
    );
    assert_eq!(env(front, "REDIS_CART_ADDR"), Some("redis-cart:6379"));
    // A Redis dependency.
    assert_eq!(env(front, "CACHE_URL"), Some("redis://cache:6379"));
    assert!(
        front.env.iter().all(|(_, v)| !v.starts_with("http://")),
        "{:?}",
        front.env
    );
    // The short form on a Redis image is a TCP port named after it.
    let redis = svc(&app, "redis-cart");
    assert_eq!(
        (redis.ports[0].name.as_str(), redis.ports[0].protocol),
        ("redis", Protocol::Tcp)
    );
}

#[test]
fn a_second_port_gets_suffixed_variables() {
    let text = "app: a\nversion: '1'\nservices:\n  api:\n    image: api\n    ports: { http: 8080, admin: { port: 9000, service-port: 90 } }\n  web:\n    image: web\n    uses: [api]\n";
    let app = app(text);
    let web = svc(&app, "web");
    assert_eq!(env(web, "API_URL"), Some("http://api:8080"));
    assert_eq!(env(web, "API_ADMIN_URL"), Some("http://api:90"));
    assert_eq!(env(web, "API_ADMIN_PORT"), Some("90"));
}

#[test]
fn dependencies_get_what_their_drivers_take() {
    let text = "app: a\nversion: '1'\nservices:\n  w:\n    image: w\n    uses: [db, events]\ndependencies:\n  db: { type: postgres, host: db.internal }\n  events: { type: kafka, host: k.internal }\n";
    let app = app(text);
    let w = svc(&app, "w");
    assert_eq!(env(w, "EVENTS_BOOTSTRAP_SERVERS"), Some("events:9092"));
    assert_eq!(env(w, "DB_HOST"), Some("db"));
    assert_eq!(env(w, "DB_PORT"), Some("5432"));
    assert_eq!(env(w, "DB_URL"), None);
}

#[test]
fn probes_of_every_kind() {
    let app = app(BOUTIQUE);
    let cart = svc(&app, "cart");
    assert_eq!(
        cart.ready.as_ref().unwrap().action,
        ProbeAction::Grpc {
            port: 7070,
            service: None
        }
    );
    let live = cart.live.as_ref().unwrap();
    assert_eq!(
        live.action,
        ProbeAction::Grpc {
            port: 7070,
            service: Some("hipstershop.Cart".into())
        }
    );
    assert_eq!((live.period, live.failures), (Some(15), Some(5)));
    let redis = svc(&app, "redis-cart");
    assert_eq!(
        redis.ready.as_ref().unwrap().action,
        ProbeAction::Tcp {
            port: "redis".into(),
            number: 6379
        }
    );
    let front = svc(&app, "frontend");
    let ProbeAction::Http {
        path,
        port,
        headers,
        ..
    } = &front.ready.as_ref().unwrap().action
    else {
        panic!()
    };
    assert_eq!((path.as_str(), port.as_str()), ("/_healthz", "web"));
    assert_eq!(headers[0].0, "Cookie");
    let startup = front.startup.as_ref().unwrap();
    assert_eq!((startup.delay, startup.timeout), (Some(60), Some(3)));
}

#[test]
fn exposure_pod_metadata_and_metrics() {
    let app = app(BOUTIQUE);
    let front = svc(&app, "frontend");
    let e = front.expose.as_ref().unwrap();
    assert_eq!(e.kind, ExposeType::LoadBalancer);
    assert_eq!(e.port.name, "web");
    assert_eq!(
        e.annotations["service.beta.kubernetes.io/aws-load-balancer-type"],
        "nlb"
    );
    assert_eq!(front.meta.labels["team"], "storefront");
    assert_eq!(front.meta.pod_annotations["prometheus.io/scrape"], "true");
    assert_eq!(
        front.meta.pod_env,
        [
            ("POD_IP".to_owned(), "status.podIP".to_owned()),
            ("NODE_NAME".to_owned(), "spec.nodeName".to_owned())
        ]
    );
    let m = &front.autoscale.as_ref().unwrap().metrics;
    assert_eq!(m[0].source, MetricSource::Pods);
    assert_eq!(m[1].target, MetricTarget::Value("30".into()));
    assert_eq!(m[1].selector, [("queue".to_owned(), "jobs".to_owned())]);
}

#[test]
fn ingress_controls_and_security_headers() {
    let text = "app: a\nversion: '1'\nservices:\n  web:\n    image: web\n    port: 8080\n    expose:\n      host: a.example.com\n      rate-limit: { rpm: 600 }\n      cors: { origins: [https://x.example.com], methods: [GET], credentials: true }\n      security-headers: { frame-options: SAMEORIGIN }\n      body-size: 10m\n      timeouts: { read: 1m }\n";
    let app = app(text);
    let e = svc(&app, "web").expose.as_ref().unwrap();
    assert_eq!(e.kind, ExposeType::Ingress);
    let c = &e.controls;
    assert_eq!(c.rpm, Some(600));
    assert_eq!(c.read_timeout, Some(60));
    assert!(c.cors.as_ref().unwrap().credentials);
    let headers: Vec<&str> = c.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        headers,
        [
            "Strict-Transport-Security",
            "X-Frame-Options",
            "X-Content-Type-Options",
            "Referrer-Policy"
        ]
    );
    assert_eq!(c.headers[1].1, "SAMEORIGIN");
}

#[test]
fn a_misspelt_protocol_suggests_the_right_word() {
    let text = "app: a\nservices:\n  cart:\n    image: cart\n    ports: { grpc: { port: 7070, protocol: grcp } }\n";
    let e = expect_one(text, "unknown value `grcp`", "grcp", 0);
    assert_eq!(e.help.as_deref(), Some("did you mean `grpc`?"));
    assert_eq!(e.path, "services.cart.ports.grpc.protocol");
}

#[test]
fn an_unknown_probe_kind_suggests_the_right_word() {
    let text = "app: a\nservices:\n  cart:\n    image: cart\n    ports: { grpc: { port: 7070, protocol: grpc } }\n    health: { ready: { grcp: grpc } }\n";
    let e = expect_one(text, "unknown key `grcp`", "grcp", 0);
    assert_eq!(e.help.as_deref(), Some("did you mean `grpc`?"));
    assert!(
        e.one_line().starts_with("berth.yaml:6:24:"),
        "{}",
        e.one_line()
    );
}

#[test]
fn probe_and_port_mistakes() {
    let head = "app: a\nversion: '1'\nservices:\n  cart:\n    image: cart\n";
    expect_one(
        &format!(
            "{head}    ports: {{ grpc: {{ port: 7070, protocol: grpc }} }}\n    health: {{ ready: {{ grpc: grcp }} }}\n"
        ),
        "`cart` has no port `grcp`",
        "grcp",
        0,
    );
    expect_one(
        &format!("{head}    port: 80\n    ports: {{ web: 8080 }}\n"),
        "`port` and `ports` cannot be used together",
        "{ web: 8080 }",
        0,
    );
    expect_one(
        &format!(
            "{head}    ports: {{ grpc: {{ port: 7070, protocol: grpc }} }}\n    health: {{ ready: /healthz }}\n"
        ),
        "an HTTP check needs an http port",
        "/healthz",
        0,
    );
    expect_one(
        &format!("{head}    health: {{ ready: {{ tcp: 80 }} }}\n"),
        "needs a port, and `cart` has none",
        "{ tcp",
        0,
    );
    expect_one(
        &format!("{head}    port: 80\n    health: {{ ready: {{ http: /r, grpc: http }} }}\n"),
        "a health check is one kind, but this one has `http` and `grpc`",
        "{ http",
        0,
    );
    expect_one(
        &format!("{head}    port: 80\n    health: {{ ready: {{ tcp: http, period: 5ms }} }}\n"),
        "`5ms` is not a duration",
        "5ms",
        0,
    );
    expect_one(
        &format!("{head}    ports: {{ Web_Port: 80 }}\n"),
        "not a valid Kubernetes port name",
        "80 }",
        0,
    );
}

#[test]
fn exposure_mistakes() {
    let head = "app: a\nversion: '1'\nservices:\n  web:\n    image: web\n    ports: { web: 8080, raw: { port: 9000, protocol: tcp } }\n";
    expect_one(
        &format!("{head}    expose: {{ host: a.example.com, node-port: 30080 }}\n"),
        "`expose.node-port` applies to `type: load-balancer` or `node-port`",
        "30080",
        0,
    );
    expect_one(
        &format!("{head}    expose: {{ type: node-port, host: a.example.com }}\n"),
        "`expose.host` applies to an Ingress",
        "a.example.com",
        0,
    );
    expect_one(
        &format!("{head}    expose: {{ host: a.example.com, port: raw }}\n"),
        "an Ingress carries HTTP and gRPC only",
        "raw }",
        0,
    );
    expect_one(
        &format!("{head}    expose: {{ type: load-balancr }}\n"),
        "unknown value `load-balancr`",
        "load-balancr",
        0,
    );
    expect_one(
        &format!(
            "{head}    expose: {{ host: a.example.com, cors: {{ origins: ['*'], credentials: true }} }}\n"
        ),
        "browsers refuse credentials with the origin `*`",
        "true }",
        0,
    );
    expect_one(
        &format!(
            "{head}    expose: {{ host: a.example.com, rate-limit: {{ rps: 1, rpm: 60 }} }}\n"
        ),
        "`rps` and `rpm` cannot be used together",
        "{ rps",
        0,
    );
}

#[test]
fn pod_metadata_mistakes() {
    let head = "app: a\nversion: '1'\nservices:\n  web:\n    image: web\n";
    expect_one(
        &format!("{head}    labels: {{ app.kubernetes.io/name: x }}\n"),
        "berth sets `app.kubernetes.io/name` itself",
        "x }",
        0,
    );
    expect_one(
        &format!("{head}    pod-env: {{ POD_IP: podip }}\n"),
        "unknown value `podip`",
        "podip",
        0,
    );
    expect_one(
        &format!("{head}    scale: {{ max: 4, metrics: [{{ pods: rps, value: '3' }}] }}\n"),
        "a `pods` metric is held at an `average` per pod",
        "{ pods",
        0,
    );
}

#[test]
fn images_as_users_write_them() {
    let text = "app: a\nregistry: ghcr.io/acme\nversion: 1.2.3\nservices:\n  cache: { image: 'redis:7-alpine' }\n  own: { image: own }\n  tagged: { image: 'own:2.0' }\n  amb: { image: redis }\n  hub: { image: nginx, registry: none }\n";
    let app = app(text);
    let image = |n: &str| svc(&app, n).image.to_string();
    assert_eq!(image("cache"), "redis:7-alpine");
    assert_eq!(image("own"), "ghcr.io/acme/own:1.2.3");
    assert_eq!(image("tagged"), "ghcr.io/acme/own:2.0");
    assert_eq!(image("amb"), "ghcr.io/acme/redis:1.2.3");
    assert_eq!(image("hub"), "nginx:1.2.3");
    let warned: Vec<&str> = app.warnings.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(warned, ["services.amb.image", "services.hub.image"]);
    assert!(
        app.warnings[0]
            .message
            .contains("Docker Hub official image")
    );
    assert!(app.warnings[0].message.contains("registry: none"));
    assert!(!app.warnings[1].message.contains("registry: none"));
}

#[test]
fn low_ports_are_reported_for_the_sysctl() {
    let text = "app: a\nversion: '1'\nservices:\n  web:\n    image: web\n    ports: { http: 80, https: 443, admin: 9000 }\n";
    let app = app(text);
    assert_eq!(svc(&app, "web").privileged_port(), Some(80));
}
