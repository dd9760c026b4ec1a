//! Rendering what a service can say: ports with protocols on the container, the Service and the
//! NetworkPolicies; probes of every kind with timing; LoadBalancer exposure; ingress-nginx
//! controls; the low-port sysctl; pod metadata; custom HPA metrics.

use berth_render::{Object, render};
use berth_spec::load_str;
use serde_json::{Value, json};
use std::path::Path;

const SPEC: &str = r#"app: shop
version: 1.0.0
services:
  cart:
    image: cartservice
    ports: { grpc: { port: 7070, protocol: grpc }, stats: { port: 8125, protocol: udp } }
    health: { ready: { grpc: grpc }, live: { grpc: "7070/hipstershop.Cart", period: 15s, failures: 5, delay: 10s } }
  frontend:
    image: frontend
    ports: { web: { port: 80, service-port: 80 }, metrics: 9090 }
    health:
      ready: { http: /_healthz, port: web, headers: { Cookie: probe=1 } }
      startup: { tcp: web }
    uses: [cart]
    expose: { type: load-balancer, port: web, external-traffic-policy: local, annotations: { service.beta.kubernetes.io/aws-load-balancer-type: nlb } }
    labels: { team: storefront }
    annotations: { pod: { prometheus.io/scrape: "true" }, service-account: { eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/x" }, service: { a.example.com/b: c } }
    pod-env: { POD_IP: ip }
    scale:
      min: 2
      max: 6
      cpu: 70%
      metrics:
        - { pods: http_requests_per_second, average: "100" }
        - { external: sqs_messages_visible, selector: { queue: jobs }, value: "30" }
  api:
    image: api
    port: 8080
    expose:
      host: api.example.com
      rate-limit: { rps: 10 }
      cors: { origins: [https://a.example.com, https://b.example.com], methods: [GET, POST], credentials: true }
      security-headers: true
      body-size: 10m
      timeouts: { connect: 5s, read: 1m }
"#;

fn objects() -> Vec<Object> {
    let loaded = load_str(Path::new("berth.yaml"), SPEC, &|_| Ok(Vec::new())).unwrap_or_else(|e| {
        panic!(
            "{:#?}",
            e.errors.iter().map(|e| e.one_line()).collect::<Vec<_>>()
        )
    });
    render(&loaded.apps[0]).objects
}

fn get<'a>(objects: &'a [Object], kind: &str, name: &str) -> &'a Value {
    &objects
        .iter()
        .find(|o| o.kind == kind && o.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
        .body
}

fn container<'a>(objects: &'a [Object], name: &str) -> &'a Value {
    &get(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn ports_reach_the_container_service_and_policies_with_their_protocol() {
    let o = objects();
    assert_eq!(
        container(&o, "cart")["ports"],
        json!([
            {"name": "grpc", "containerPort": 7070, "protocol": "TCP"},
            {"name": "stats", "containerPort": 8125, "protocol": "UDP"}
        ])
    );
    assert_eq!(
        get(&o, "Service", "cart")["spec"]["ports"],
        json!([
            {"name": "grpc", "port": 7070, "targetPort": "grpc", "protocol": "TCP", "appProtocol": "kubernetes.io/h2c"},
            {"name": "stats", "port": 8125, "targetPort": "stats", "protocol": "UDP"}
        ])
    );
    // cart admits frontend on exactly its ports; frontend may reach exactly those.
    let cart_in = &get(&o, "NetworkPolicy", "cart")["spec"]["ingress"];
    assert_eq!(
        cart_in[0]["ports"],
        json!([{"port": 7070, "protocol": "TCP"}, {"port": 8125, "protocol": "UDP"}])
    );
    let front_out = &get(&o, "NetworkPolicy", "frontend")["spec"]["egress"][0];
    assert_eq!(front_out["ports"], cart_in[0]["ports"]);
}

#[test]
fn probes_of_every_kind_with_timing() {
    let o = objects();
    let cart = container(&o, "cart");
    assert_eq!(cart["readinessProbe"]["grpc"], json!({"port": 7070}));
    assert_eq!(cart["readinessProbe"]["periodSeconds"], 5);
    let live = &cart["livenessProbe"];
    assert_eq!(
        live["grpc"],
        json!({"port": 7070, "service": "hipstershop.Cart"})
    );
    assert_eq!(
        (
            &live["periodSeconds"],
            &live["failureThreshold"],
            &live["initialDelaySeconds"],
            &live["timeoutSeconds"]
        ),
        (&json!(15), &json!(5), &json!(10), &json!(5))
    );
    let front = container(&o, "frontend");
    assert_eq!(
        front["readinessProbe"]["httpGet"],
        json!({"path": "/_healthz", "port": "web", "httpHeaders": [{"name": "Cookie", "value": "probe=1"}]})
    );
    assert_eq!(front["startupProbe"]["tcpSocket"], json!({"port": "web"}));
}

#[test]
fn a_port_below_1024_lowers_the_unprivileged_port_start_and_keeps_the_hardening() {
    let o = objects();
    let pod = &get(&o, "Deployment", "frontend")["spec"]["template"]["spec"];
    assert_eq!(
        pod["securityContext"]["sysctls"],
        json!([{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}])
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let sc = &pod["containers"][0]["securityContext"];
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    let cart = &get(&o, "Deployment", "cart")["spec"]["template"]["spec"];
    assert!(cart["securityContext"].get("sysctls").is_none());
}

#[test]
fn a_load_balancer_carries_only_the_exposed_port_and_admits_anyone_there() {
    let o = objects();
    let lb = get(&o, "Service", "frontend-external");
    assert_eq!(lb["spec"]["type"], "LoadBalancer");
    assert_eq!(lb["spec"]["externalTrafficPolicy"], "Local");
    assert_eq!(
        lb["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"],
        "nlb"
    );
    assert_eq!(
        lb["spec"]["ports"],
        json!([{"name": "web", "port": 80, "targetPort": "web", "protocol": "TCP", "appProtocol": "http"}])
    );
    let internal = get(&o, "Service", "frontend");
    assert_eq!(internal["spec"]["type"], "ClusterIP");
    assert_eq!(internal["metadata"]["annotations"]["a.example.com/b"], "c");
    let rules = get(&o, "NetworkPolicy", "frontend")["spec"]["ingress"]
        .as_array()
        .unwrap()
        .clone();
    let open: Vec<&Value> = rules.iter().filter(|r| r.get("from").is_none()).collect();
    assert_eq!(open.len(), 1, "{rules:?}");
    assert_eq!(open[0]["ports"], json!([{"port": 80, "protocol": "TCP"}]));
    assert!(
        !o.iter()
            .any(|x| x.kind == "Ingress" && x.name == "frontend")
    );
}

#[test]
fn ingress_controls_become_ingress_nginx_annotations() {
    let o = objects();
    let ing = get(&o, "Ingress", "api");
    let a = &ing["metadata"]["annotations"];
    let n = |k: &str| a[format!("nginx.ingress.kubernetes.io/{k}")].clone();
    assert_eq!(n("limit-rps"), "10");
    assert_eq!(n("enable-cors"), "true");
    assert_eq!(
        n("cors-allow-origin"),
        "https://a.example.com, https://b.example.com"
    );
    assert_eq!(n("cors-allow-methods"), "GET, POST");
    assert_eq!(n("cors-allow-credentials"), "true");
    assert_eq!(n("proxy-body-size"), "10m");
    assert_eq!(n("proxy-connect-timeout"), "5");
    assert_eq!(n("proxy-read-timeout"), "60");
    assert_eq!(n("custom-headers"), "shop/api-headers");
    assert!(
        a.get("nginx.ingress.kubernetes.io/configuration-snippet")
            .is_none()
    );
    assert_eq!(a["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
    let headers = &get(&o, "ConfigMap", "api-headers")["data"];
    assert_eq!(headers["X-Frame-Options"], "DENY");
    assert_eq!(headers["X-Content-Type-Options"], "nosniff");
    assert_eq!(
        headers["Strict-Transport-Security"],
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(
        headers["Referrer-Policy"],
        "strict-origin-when-cross-origin"
    );
}

#[test]
fn pod_metadata_downward_api_and_custom_metrics() {
    let o = objects();
    let tpl = &get(&o, "Deployment", "frontend")["spec"]["template"];
    assert_eq!(tpl["metadata"]["labels"]["team"], "storefront");
    assert_eq!(
        tpl["metadata"]["labels"]["app.kubernetes.io/name"],
        "frontend"
    );
    assert_eq!(
        tpl["metadata"]["annotations"]["prometheus.io/scrape"],
        "true"
    );
    assert!(tpl["metadata"]["annotations"]["berth.dev/config-checksum"].is_string());
    let selector = &get(&o, "Deployment", "frontend")["spec"]["selector"]["matchLabels"];
    assert!(selector.get("team").is_none());
    let env = tpl["spec"]["containers"][0]["env"].as_array().unwrap();
    assert!(env.contains(
        &json!({"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    ));
    assert_eq!(
        get(&o, "ServiceAccount", "frontend")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::1:role/x"
    );
    let metrics = &get(&o, "HorizontalPodAutoscaler", "frontend")["spec"]["metrics"];
    assert_eq!(metrics[0]["type"], "Resource");
    assert_eq!(
        metrics[1],
        json!({"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"}, "target": {"type": "AverageValue", "averageValue": "100"}}})
    );
    assert_eq!(
        metrics[2],
        json!({"type": "External", "external": {"metric": {"name": "sqs_messages_visible", "selector": {"matchLabels": {"queue": "jobs"}}}, "target": {"type": "Value", "value": "30"}}})
    );
}
