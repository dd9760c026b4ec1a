//! Every output of every example, as snapshots, plus the judges that can fail them.

mod common;
use berth_operate::capacity;
use berth_render::Rendered;
use common::examples;

fn renders(loaded: &berth_spec::Loaded) -> Vec<Rendered> {
    loaded.apps.iter().map(berth_render::render).collect()
}

#[test]
fn capacity_plans() {
    for (name, loaded) in examples() {
        for r in renders(&loaded) {
            let plan = capacity::plan(&r);
            assert!(plan.min.pods > 0, "{name}/{}: no pods", r.env);
            assert!(plan.max.pods >= plan.min.pods);
            insta::assert_snapshot!(format!("capacity-{name}-{}", r.env), plan.to_text());
            insta::assert_json_snapshot!(format!("capacity-{name}-{}-json", r.env), plan.to_json());
            let fit = capacity::fit(&r, &capacity::parse_nodes("3x4cpu16Gi").unwrap());
            insta::assert_snapshot!(format!("fit-{name}-{}", r.env), fit.to_text());
            let quota = capacity::quota_objects(&r, &loaded.spec.app);
            insta::assert_json_snapshot!(format!("quota-{name}-{}", r.env), quota);
        }
    }
}

/// The plan's totals agree with a count made straight from the objects: replicas (or the HPA's
/// range) times each container's requests.
#[test]
fn totals_match_an_independent_count() {
    for (name, loaded) in examples() {
        for r in renders(&loaded) {
            let mut min_cpu = 0i64;
            let mut max_mem = 0i64;
            for o in r
                .objects
                .iter()
                .filter(|o| o.kind == "Deployment" || o.kind == "StatefulSet")
            {
                let hpa = r
                    .objects
                    .iter()
                    .find(|h| h.kind == "HorizontalPodAutoscaler" && h.name == o.name);
                // An autoscaled workload declares no replicas: the HPA owns the count.
                let min = hpa.map_or_else(
                    || o.body["spec"]["replicas"].as_i64().unwrap(),
                    |h| h.body["spec"]["minReplicas"].as_i64().unwrap(),
                );
                let max = hpa.map_or(min, |h| h.body["spec"]["maxReplicas"].as_i64().unwrap());
                let ps = &o.body["spec"]["template"]["spec"];
                let containers = ps["containers"].as_array().unwrap().iter().chain(
                    ps["initContainers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|c| c["restartPolicy"] == "Always"),
                );
                for c in containers {
                    let req = &c["resources"]["requests"];
                    min_cpu +=
                        min * berth_operate::k8s::millis(req["cpu"].as_str().unwrap()).unwrap();
                    max_mem +=
                        max * berth_operate::k8s::bytes(req["memory"].as_str().unwrap()).unwrap();
                }
            }
            // CloudNativePG runs `instances` pods of a Cluster (its `resources`) and of a Pooler
            // (its template's containers).
            for o in r
                .objects
                .iter()
                .filter(|o| o.api_version.starts_with("postgresql.cnpg.io/"))
            {
                let n = o.body["spec"]["instances"].as_i64().unwrap_or(1);
                let requests: Vec<&serde_json::Value> = match o.kind.as_str() {
                    "Cluster" => vec![&o.body["spec"]["resources"]["requests"]],
                    "Pooler" => o.body["spec"]["template"]["spec"]["containers"]
                        .as_array()
                        .expect("a Pooler berth renders bounds its containers")
                        .iter()
                        .map(|c| &c["resources"]["requests"])
                        .collect(),
                    _ => continue,
                };
                for req in requests {
                    min_cpu +=
                        n * berth_operate::k8s::millis(req["cpu"].as_str().unwrap()).unwrap();
                    max_mem +=
                        n * berth_operate::k8s::bytes(req["memory"].as_str().unwrap()).unwrap();
                }
            }
            let plan = capacity::plan(&r);
            assert_eq!(plan.min.cpu_request, min_cpu, "{name}/{}", r.env);
            assert_eq!(plan.max.memory_request, max_mem, "{name}/{}", r.env);
        }
    }
}

/// The quota admits the plan's maximum and nothing bigger: berth check (the schema judge)
/// accepts the objects, and the numbers are the plan's.
#[test]
fn quota_objects_are_valid_and_hold_the_maximum() {
    for (name, loaded) in examples() {
        for r in renders(&loaded) {
            let quota = capacity::quota_objects(&r, &loaded.spec.app);
            // A ResourceQuota and a LimitRange per namespace that holds workloads.
            let mut namespaces: Vec<&str> = r
                .objects
                .iter()
                .filter(|o| matches!(o.kind.as_str(), "Deployment" | "StatefulSet"))
                .filter_map(|o| o.namespace.as_deref())
                .collect();
            namespaces.sort();
            namespaces.dedup();
            assert_eq!(quota.len(), 2 * namespaces.len(), "{name}/{}", r.env);
            let input = berth_check::Input::Objects {
                name: format!("{name}-{}", r.env),
                objects: quota.iter().collect(),
            };
            let report = berth_check::check(&[input], &Default::default()).unwrap();
            assert_eq!(
                report.count(berth_check::Severity::Error),
                0,
                "{name}/{}: {report:?}",
                r.env
            );
            let plan = capacity::plan(&r);
            // Over every namespace's quota (an app over several namespaces has one each).
            let pods: u64 = quota
                .iter()
                .filter(|q| q["kind"] == "ResourceQuota")
                .map(|q| {
                    q["spec"]["hard"]["pods"]
                        .as_str()
                        .unwrap()
                        .parse::<u64>()
                        .unwrap()
                })
                .sum();
            assert_eq!(pods, plan.max.pods + plan.surge.pods + plan.batch.pods);
        }
    }
}
