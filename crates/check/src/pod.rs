//! Helpers over pod templates, containers, selectors and quantities, shared by the rules.

use crate::model::{NodeExt, Obj};
use berth_yaml::Node;

/// Where a kind holds its pod spec (from the kind table, [`berth_kinds`]).
pub fn pod_spec_path(kind: &str) -> Option<Vec<&'static str>> {
    let mut p = berth_kinds::pod_template(kind)?.to_vec();
    p.push("spec");
    Some(p)
}

/// Path of the pod template's labels.
pub fn template_labels_path(kind: &str) -> Option<Vec<&'static str>> {
    let mut p = berth_kinds::pod_template(kind)?.to_vec();
    p.extend(["metadata", "labels"]);
    Some(p)
}

pub fn dotted(path: &[&str]) -> String {
    path.join(".")
}

/// The pod spec of a workload and its dotted path.
pub fn pod_spec(obj: &Obj) -> Option<(&Node, String)> {
    let p = pod_spec_path(&obj.kind)?;
    Some((obj.root.path(&p)?, dotted(&p)))
}

pub fn template_labels(obj: &Obj) -> Option<&Node> {
    obj.root.path(&template_labels_path(&obj.kind)?)
}

/// Workloads that run until stopped (probes, replicas and PDBs make sense for them).
pub fn long_running(obj: &Obj) -> bool {
    match berth_kinds::get(&obj.kind).map(|k| k.ready) {
        Some(berth_kinds::Readiness::Rollout) => true,
        Some(berth_kinds::Readiness::PodReady) => !matches!(
            obj.root.str_at(&["spec", "restartPolicy"]),
            Some("Never" | "OnFailure")
        ),
        _ => false,
    }
}

/// Workloads whose replica count is theirs to set.
pub fn replicated(obj: &Obj) -> bool {
    berth_kinds::get(&obj.kind).is_some_and(|k| k.scalable)
}

/// `spec.replicas`, defaulting to 1 as the API server does.
pub fn replicas(obj: &Obj) -> i64 {
    obj.root
        .path(&["spec", "replicas"])
        .and_then(NodeExt::as_i64)
        .unwrap_or(1)
}

pub struct Container<'a> {
    pub node: &'a Node,
    pub path: String,
    pub init: bool,
    pub name: &'a str,
}

/// Containers (then init containers) of a pod spec.
pub fn containers<'a>(spec: &'a Node, spec_path: &str) -> Vec<Container<'a>> {
    let mut out = Vec::new();
    for (key, init) in [("containers", false), ("initContainers", true)] {
        if let Some(list) = spec.get(key) {
            for (i, c) in list.seq().iter().enumerate() {
                out.push(Container {
                    node: c,
                    path: format!("{spec_path}.{key}[{i}]"),
                    init,
                    name: c.str_at(&["name"]).unwrap_or(""),
                });
            }
        }
    }
    out
}

/// All containers of a workload object (empty for other kinds).
pub fn obj_containers(obj: &Obj) -> Vec<Container<'_>> {
    match pod_spec(obj) {
        Some((spec, path)) => containers(spec, &path),
        None => Vec::new(),
    }
}

/// Does a plain `key: value` selector (Service) match these labels? An empty selector matches nothing.
pub fn map_selects(selector: &Node, labels: Option<&Node>) -> bool {
    let entries = selector.entries();
    !entries.is_empty()
        && entries.iter().all(|(k, v)| {
            let want = v.scalar_text();
            labels
                .and_then(|l| l.get(&k.name))
                .and_then(Node::scalar_text)
                .is_some_and(|have| Some(have) == want)
        })
}

/// Does a metav1.LabelSelector match these labels? `{}` matches everything.
pub fn label_selector_matches(selector: &Node, labels: Option<&Node>) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::scalar_text);
    if let Some(ml) = selector.get("matchLabels") {
        for (k, v) in ml.entries() {
            if label(&k.name) != v.scalar_text() {
                return false;
            }
        }
    }
    if let Some(exprs) = selector.get("matchExpressions") {
        for e in exprs.seq() {
            let key = e.str_at(&["key"]).unwrap_or("");
            let values: Vec<String> = e
                .get("values")
                .map(|v| v.seq().iter().filter_map(Node::scalar_text).collect())
                .unwrap_or_default();
            let have = label(key);
            let ok = match e.str_at(&["operator"]).unwrap_or("") {
                "In" => have.is_some_and(|h| values.contains(&h)),
                "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

/// Parses a Kubernetes quantity into base units (cores, bytes). None when malformed.
pub fn quantity(n: &Node) -> Option<f64> {
    if let Some(i) = n.as_i64() {
        return Some(i as f64);
    }
    if let berth_yaml::Value::Float(f) = n.value {
        return Some(f);
    }
    parse_quantity(n.as_str()?)
}

pub fn parse_quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(num * mult)
}

/// An IntOrString that is either a count or a percentage of `total`, resolved to a count
/// (rounding up, as the disruption controller does for minAvailable).
pub fn int_or_percent(n: &Node, total: i64, round_up: bool) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let s = n.as_str()?;
    let p: f64 = s.strip_suffix('%')?.trim().parse().ok()?;
    let v = p / 100.0 * total as f64;
    Some(if round_up { v.ceil() } else { v.floor() } as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("500m"), Some(0.5));
        assert_eq!(parse_quantity("1Gi"), Some(1073741824.0));
        assert_eq!(parse_quantity("2"), Some(2.0));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        assert_eq!(parse_quantity("12 apples"), None);
        assert_eq!(parse_quantity("1Gb"), None);
    }
}

/// A securityContext field as it takes effect for a container: the container's own value,
/// else the pod's (for the fields a pod-level securityContext also has).
pub fn effective<'a>(spec: &'a Node, container: &'a Node, key: &[&str]) -> Option<&'a Node> {
    let mut c = vec!["securityContext"];
    c.extend_from_slice(key);
    container.path(&c).or_else(|| spec.path(&c))
}

/// Splits an image reference into (name, tag, digest).
pub fn parse_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..]), digest),
        None => (rest, None, digest),
    }
}

#[cfg(test)]
mod image_tests {
    #[test]
    fn images() {
        use super::parse_image;
        assert_eq!(parse_image("nginx"), ("nginx", None, None));
        assert_eq!(
            parse_image("localhost:5000/app:1.2"),
            ("localhost:5000/app", Some("1.2"), None)
        );
        assert_eq!(
            parse_image("localhost:5000/app"),
            ("localhost:5000/app", None, None)
        );
        assert_eq!(
            parse_image("a/b:1@sha256:ab"),
            ("a/b", Some("1"), Some("sha256:ab"))
        );
    }
}
