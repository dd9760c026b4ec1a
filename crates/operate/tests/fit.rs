//! The fit check on hand-made objects: requests, required anti-affinity and hard spreading.

use berth_operate::capacity::{fit, parse_nodes};
use berth_render::{Object, Rendered};
use serde_json::{Value, json};

fn deployment(name: &str, replicas: u32, cpu: &str, memory: &str, extra: Value) -> Object {
    let mut spec = json!({
        "containers": [{"name": name, "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}}]
    });
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    Object {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        name: name.into(),
        namespace: Some("ns".into()),
        body: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "ns"},
            "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}),
    }
}

fn render(objects: Vec<Object>) -> Rendered {
    Rendered {
        env: "prod".into(),
        namespace: "ns".into(),
        namespaces: vec![],
        objects,
        warnings: vec![],
    }
}

#[test]
fn node_groups_parse() {
    let g = parse_nodes("3x4cpu16Gi,1x500mcpu2Gi").unwrap();
    assert_eq!((g[0].count, g[0].cpu, g[0].memory), (3, 4000, 16 << 30));
    assert_eq!((g[1].count, g[1].cpu), (1, 500));
    assert_eq!(parse_nodes("4cpu8Gi").unwrap()[0].count, 1);
    for bad in ["3x4", "x4cpu1Gi", "0x4cpu1Gi", "3x0cpu1Gi", "3xcpu"] {
        assert!(parse_nodes(bad).is_err(), "{bad}");
    }
}

#[test]
fn requests_decide_and_the_pod_that_does_not_fit_is_named() {
    let r = render(vec![deployment("big", 3, "3", "1Gi", json!({}))]);
    let f = fit(&r, &parse_nodes("2x4cpu16Gi").unwrap());
    assert!(!f.min.fits);
    assert_eq!(f.min.unplaced.len(), 1);
    assert!(
        f.min.unplaced[0].pod.contains("deployment/big"),
        "{:?}",
        f.min.unplaced
    );
    assert!(
        f.min.unplaced[0]
            .reason
            .contains("not enough cpu on 2 nodes"),
        "{:?}",
        f.min.unplaced
    );
    assert!(fit(&r, &parse_nodes("3x4cpu16Gi").unwrap()).max.fits);
}

#[test]
fn required_anti_affinity_keeps_siblings_apart() {
    let anti = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}]}}});
    let r = render(vec![deployment("db", 3, "100m", "100Mi", anti)]);
    let f = fit(&r, &parse_nodes("2x16cpu64Gi").unwrap());
    assert!(!f.min.fits);
    assert!(
        f.min.unplaced[0]
            .reason
            .contains("required anti-affinity on 2 nodes"),
        "{:?}",
        f.min.unplaced
    );
    assert!(fit(&r, &parse_nodes("3x16cpu64Gi").unwrap()).min.fits);
}

#[test]
fn hard_spreading_limits_skew() {
    let spread = json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}}]});
    // A filler takes most of node-1, so spreading (not room) is what limits web.
    let r = render(vec![
        deployment("filler", 1, "3500m", "1Gi", json!({})),
        deployment("web", 4, "400m", "100Mi", spread),
    ]);
    let f = fit(&r, &parse_nodes("2x4cpu16Gi").unwrap());
    // node-1 holds the filler and one web pod; node-2 can take only skew+1 more.
    assert!(!f.min.fits, "{}", f.min.unplaced.len());
    assert!(
        f.min
            .unplaced
            .iter()
            .any(|u| u.reason.contains("topology spread")),
        "{:?}",
        f.min.unplaced
    );
}
