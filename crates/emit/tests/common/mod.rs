//! Shared by the emit tests: the examples, rendered; the external tools (which must be
//! installed: a missing one fails the test and names the setup script); object comparison.
#![allow(dead_code)]

use berth_render::Rendered;
use berth_spec::Loaded;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const EXAMPLES: &[&str] = &["todo", "gateway", "boutique", "notes", "identity"];

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn tools() -> PathBuf {
    std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"))
}

/// An example, loaded and rendered in every environment.
pub(crate) fn example(name: &str) -> (Loaded, Vec<Rendered>) {
    let loaded = berth_spec::load(&repo().join("examples").join(name)).expect("example loads");
    let rendered = loaded.apps.iter().map(berth_render::render).collect();
    (loaded, rendered)
}

/// A spec given as text, rendered in every environment. Every config file holds text that
/// looks like a Helm template (the chart must carry it through verbatim).
pub(crate) fn spec(text: &str) -> (Loaded, Vec<Rendered>) {
    let config = b"# {{ not a template }}\ngreeting: \"{{ .Values.name }}\"\nbraces: '}}{{'\n";
    let loaded = berth_spec::load_str(Path::new("berth.yaml"), text, &|_| Ok(config.to_vec()))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let rendered = loaded.apps.iter().map(berth_render::render).collect();
    (loaded, rendered)
}

/// A tool under $BERTH_TOOLS/bin, else on PATH; a missing tool fails the test loudly.
pub(crate) fn tool(names: &[&str], setup: &str) -> PathBuf {
    for name in names {
        let p = tools().join("bin").join(name);
        if p.is_file() {
            return p;
        }
    }
    for name in names {
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let p = dir.join(name);
                if p.is_file() {
                    return p;
                }
            }
        }
    }
    panic!(
        "none of {names:?} is installed (looked in {} and PATH): run scripts/test, or {setup} on its own",
        tools().join("bin").display()
    );
}

pub(crate) fn kubectl() -> PathBuf {
    tool(&["kubectl-1.35", "kubectl"], "scripts/setup.d/20-helm.sh")
}

/// kubectl 1.35 (installed by the setup script; required), and the machine's own `kubectl`
/// when there is one (another kustomize version to agree with).
pub(crate) fn kubectls() -> Vec<PathBuf> {
    let mut all = vec![tool(&["kubectl-1.35"], "scripts/setup.d/20-helm.sh")];
    if let Some(paths) = std::env::var_os("PATH")
        && let Some(system) = std::env::split_paths(&paths)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    {
        all.push(system);
    }
    all
}

pub(crate) fn helm() -> PathBuf {
    tool(&["helm"], "scripts/setup.d/20-helm.sh")
}

/// Runs a command; panics with its stderr when it fails.
pub(crate) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Every document of a YAML stream (empty documents dropped).
pub(crate) fn parse_stream(text: &str) -> Vec<Value> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn key(v: &Value) -> String {
    format!(
        "{}/{}/{}/{}",
        v["apiVersion"].as_str().unwrap_or_default(),
        v["kind"].as_str().unwrap_or_default(),
        v["metadata"]["namespace"].as_str().unwrap_or_default(),
        v["metadata"]["name"].as_str().unwrap_or_default()
    )
}

/// Objects compared as parsed values, order-insensitive; the message names what differs.
pub(crate) fn assert_same_objects(what: &str, got: Vec<Value>, want: Vec<Value>) {
    let mut got: Vec<(String, Value)> = got.into_iter().map(|v| (key(&v), v)).collect();
    let mut want: Vec<(String, Value)> = want.into_iter().map(|v| (key(&v), v)).collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    let got_keys: Vec<&String> = got.iter().map(|g| &g.0).collect();
    let want_keys: Vec<&String> = want.iter().map(|g| &g.0).collect();
    assert_eq!(got_keys, want_keys, "{what}: not the same objects");
    for ((k, g), (_, w)) in got.iter().zip(&want) {
        assert!(
            g == w,
            "{what}: {k} differs\n--- got\n{}\n--- want\n{}",
            serde_json::to_string_pretty(g).unwrap(),
            serde_json::to_string_pretty(w).unwrap()
        );
    }
}

/// What `berth render --env ENV` prints, parsed.
pub(crate) fn rendered_objects(r: &Rendered) -> Vec<Value> {
    parse_stream(&berth_emit::stream(r))
}

/// A spec whose environments differ in every way the formats must carry: namespace, replicas,
/// resources, hosts, image tag and registry, env, a service only some environments run.
pub(crate) const VARIED: &str = r#"
app: shop
registry: ghcr.io/acme
version: 2.0.0
services:
  web:
    image: shop-web
    port: 8080
    health: { ready: /ready, live: /live }
    expose: { host: shop.example.com }
    uses: [api]
    scale: { min: 2, max: 6, cpu: 60% }
  api:
    image: shop-api
    port: 9000
    health: { ready: /healthz }
    uses: [db, cache]
    env: { MODE: prod, FEATURE_X: "on" }
    secrets: [DB_PASSWORD]
    config: { files: { app.toml: config/app.toml } }
    resources: { cpu: 200m/1, memory: 256Mi/512Mi }
  worker:
    image: docker.io/acme/shop-worker:7.1
    uses: [db]
    replicas: 2
dependencies:
  db: { type: postgres, host: db.internal }
  cache: { type: redis, host: cache.internal }
environments:
  dev:
    namespace: shop-dev
    replicas: 1
    version: 2.1.0-rc.1
    services:
      web: { expose: { host: dev.shop.example.com, tls: false } }
      api: { env: { MODE: dev, DEBUG: "1" }, resources: { cpu: 100m/500m } }
      worker: null
  staging:
    namespace: shop-staging
    registry: registry.staging.internal/acme
    services:
      web: { expose: { host: staging.shop.example.com } }
  prod:
    namespace: shop
    services:
      api: { scale: { min: 3, max: 12, cpu: 70% } }
      web: { scale: { min: 3, max: 20 } }
"#;

/// What a service can say, differing per environment: ports with protocols (one UDP), every
/// probe kind, an Ingress with ingress-nginx controls in one environment and a LoadBalancer
/// in another, a low port (sysctl), pod metadata, custom metrics, an external dependency at an
/// IPv4 address in dev and an IPv6 network in prod (selector-less Service + EndpointSlice).
pub(crate) const SHAPES: &str = r#"
app: shapes
registry: ghcr.io/acme
version: 1.0.0
services:
  cart:
    image: cartservice
    ports: { grpc: { port: 7070, protocol: grpc }, stats: { port: 8125, protocol: udp } }
    health: { ready: { grpc: grpc }, live: { grpc: "7070/hipstershop.Cart", period: 15s }, startup: { tcp: grpc } }
    scale: { min: 2, max: 6, cpu: 70%, metrics: [{ pods: rps, average: "50" }] }
  front:
    image: frontend
    ports: { web: 80, metrics: 9090 }
    health: { ready: { http: /_healthz, port: web, headers: { Cookie: probe=1 } } }
    uses: [cart, cache, ledger]
    expose: { host: shop.example.com, rate-limit: { rps: 10 }, security-headers: true, cors: { origins: [https://a.example.com] } }
    labels: { team: storefront }
    annotations: { pod: { prometheus.io/scrape: "true" }, service-account: { eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/x" } }
    pod-env: { POD_IP: ip }
dependencies:
  cache: { type: redis, host: cache.internal }
  ledger: { type: tcp, host: 10.0.0.3, port: 7000 }
environments:
  dev:
    replicas: 1
    services:
      front: { expose: { host: dev.shop.example.com, tls: false, security-headers: null } }
  prod:
    namespace: shapes
    dependencies:
      ledger: { host: "fd00:10::7", cidr: "fd00:10::/64" }
    services:
      front: { expose: { type: load-balancer, host: null, rate-limit: null, security-headers: null, cors: null, external-traffic-policy: local } }
"#;
