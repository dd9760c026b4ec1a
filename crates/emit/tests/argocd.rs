//! Argo CD output: valid against the Argo CD CRD schemas (berth-check bundles them), sync
//! policy by tier, and every path it points at exists in what `berth build` writes.

mod common;
use berth_emit::{ArgoCdOptions, ArgoCdSource, FileSet};
use common::*;
use serde_json::Value;
use std::path::Path;

fn options(source: ArgoCdSource, loaded: &berth_spec::Loaded) -> ArgoCdOptions {
    ArgoCdOptions {
        source,
        repo_url: "https://github.com/acme/deploy.git".into(),
        revision: "main".into(),
        path: "apps/shop/out".into(),
        image_updater: loaded.spec.argocd.as_ref().and_then(|a| a.image_updater),
    }
}

fn docs(files: &FileSet) -> Vec<(String, Value)> {
    files
        .files
        .iter()
        .flat_map(|(p, c)| {
            parse_stream(std::str::from_utf8(c).unwrap())
                .into_iter()
                .map(move |d| (p.display().to_string(), d))
        })
        .collect()
}

fn schema_clean(objects: Vec<Value>) {
    let report = berth_check::check(
        &[berth_check::Input::Objects {
            name: "argocd".into(),
            objects: objects.iter().collect(),
        }],
        &berth_check::Options::default(),
    )
    .unwrap();
    let bad: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity >= berth_check::Severity::Error)
        .map(|f| format!("{} {}: {}", f.rule, f.path, f.message))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

fn prove(loaded: &berth_spec::Loaded, rendered: &[berth_render::Rendered], source: ArgoCdSource) {
    let opts = options(source, loaded);
    let files = berth_emit::argocd(&loaded.apps, &opts);
    let all = docs(&files);
    schema_clean(all.iter().map(|(_, d)| d.clone()).collect());

    // What berth build writes beside argocd/, to resolve the paths against.
    let mut build = FileSet::default();
    build.nest(
        "kustomize",
        berth_emit::kustomize(&loaded.spec.app, rendered),
    );
    build.nest("helm", berth_emit::helm(&loaded.apps, rendered));
    build.nest("argocd", files.clone());
    let exists = |dir: &str| {
        let dir = dir
            .strip_prefix("apps/shop/out/")
            .expect("under the build path");
        build.files.keys().any(|p| p.starts_with(dir))
    };

    let project = &all
        .iter()
        .find(|(_, d)| d["kind"] == "AppProject")
        .expect("AppProject")
        .1;
    assert_eq!(
        project["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        "-1"
    );
    let root = &all.iter().find(|(p, _)| p == "root.yaml").expect("root").1;
    assert!(exists(root["spec"]["source"]["path"].as_str().unwrap()));
    assert_eq!(root["spec"]["syncPolicy"]["automated"]["prune"], true);

    for app in &loaded.apps {
        let a = &all
            .iter()
            .find(|(p, _)| p == &format!("apps/{}.yaml", app.env))
            .unwrap_or_else(|| panic!("no Application for {}", app.env))
            .1;
        assert_eq!(
            a["spec"]["destination"]["namespace"],
            app.namespace.as_str()
        );
        assert!(
            project["spec"]["destinations"]
                .as_array()
                .unwrap()
                .contains(&a["spec"]["destination"])
        );
        let sync = &a["spec"]["syncPolicy"];
        if app.tier == berth_spec::Tier::Prod {
            assert!(
                sync["automated"].is_null(),
                "{}: prod syncs by hand",
                app.env
            );
        } else {
            assert_eq!(
                sync["automated"],
                serde_json::json!({"prune": true, "selfHeal": true})
            );
        }
        assert!(
            sync["syncOptions"]
                .as_array()
                .unwrap()
                .contains(&"CreateNamespace=true".into())
        );
        assert!(sync["retry"]["backoff"]["duration"].is_string());
        let src = &a["spec"]["source"];
        let path = src["path"].as_str().unwrap();
        assert!(exists(path), "{path}");
        match source {
            ArgoCdSource::Kustomize => {
                let component = src["kustomize"]["components"][0].as_str().unwrap();
                let joined = Path::new(path).join(component);
                let mut clean = std::path::PathBuf::new();
                for c in joined.components() {
                    match c {
                        std::path::Component::ParentDir => {
                            clean.pop();
                        }
                        other => clean.push(other),
                    }
                }
                assert!(exists(clean.to_str().unwrap()), "{}", clean.display());
            }
            ArgoCdSource::Helm => {
                let values = src["helm"]["valueFiles"][0].as_str().unwrap();
                assert!(exists(&format!("{path}/{values}")), "{values}");
                assert_eq!(src["helm"]["valuesObject"]["syncWaves"], true);
                assert_eq!(src["helm"]["valuesObject"]["namespace"]["create"], true);
            }
        }
    }
}

#[test]
fn every_example_has_valid_applications_for_both_sources() {
    for name in EXAMPLES {
        let (loaded, rendered) = example(name);
        prove(&loaded, &rendered, ArgoCdSource::Kustomize);
        prove(&loaded, &rendered, ArgoCdSource::Helm);
    }
}

#[test]
fn image_updater_annotations_only_when_the_spec_asks_and_not_in_prod() {
    let (loaded, _) = example("todo");
    let files = berth_emit::argocd(&loaded.apps, &options(ArgoCdSource::Kustomize, &loaded));
    assert!(!docs(&files).iter().any(|(_, d)| {
        d["metadata"]["annotations"]
            .as_object()
            .is_some_and(|a| a.keys().any(|k| k.starts_with("argocd-image-updater")))
    }));

    let text = format!("{VARIED}argocd: {{ image-updater: semver }}\n");
    let (loaded, rendered) = spec(&text);
    prove(&loaded, &rendered, ArgoCdSource::Kustomize);
    let files = berth_emit::argocd(&loaded.apps, &options(ArgoCdSource::Kustomize, &loaded));
    let all = docs(&files);
    let annotations = |env: &str| {
        all.iter()
            .find(|(p, _)| p == &format!("apps/{env}.yaml"))
            .unwrap()
            .1["metadata"]["annotations"]
            .clone()
    };
    let dev = annotations("dev");
    assert_eq!(
        dev["argocd-image-updater.argoproj.io/image-list"],
        "web=ghcr.io/acme/shop-web,api=ghcr.io/acme/shop-api"
    );
    assert_eq!(
        dev["argocd-image-updater.argoproj.io/api.update-strategy"],
        "semver"
    );
    assert!(annotations("prod")["argocd-image-updater.argoproj.io/image-list"].is_null());
}

#[test]
fn the_crd_schema_check_can_fail() {
    let (loaded, _) = example("todo");
    let files = berth_emit::argocd(&loaded.apps, &options(ArgoCdSource::Kustomize, &loaded));
    let mut objects: Vec<Value> = docs(&files).into_iter().map(|(_, d)| d).collect();
    objects[0]["spec"]["syncPolicy"] = serde_json::json!({"automated": {"prune": "yes"}});
    let report = berth_check::check(
        &[berth_check::Input::Objects {
            name: "argocd".into(),
            objects: objects.iter().collect(),
        }],
        &berth_check::Options::default(),
    )
    .unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.severity >= berth_check::Severity::Error),
        "{:#?}",
        report.findings
    );
}

/// Defect 9: Deployments and StatefulSets under an HPA kept `spec.replicas`, so every sync
/// (Argo CD self-heal) reset the count the HPA had set. The rendered workloads an HPA targets
/// now declare no replicas (and so do the Kustomize build and the Helm chart: their
/// equivalence tests compare them with the render), every other workload keeps its count, and
/// each Application ignores `/spec/replicas` of exactly its autoscaled workloads.
#[test]
fn autoscaled_workloads_leave_replicas_to_the_hpa_and_argocd_ignores_them() {
    let mut cases: Vec<(String, berth_spec::Loaded, Vec<berth_render::Rendered>)> = EXAMPLES
        .iter()
        .map(|n| {
            let (l, r) = example(n);
            (n.to_string(), l, r)
        })
        .collect();
    let (l, r) = spec(VARIED);
    cases.push(("varied".into(), l, r));
    let mut autoscaled = 0;
    for (name, loaded, rendered) in &cases {
        let files = berth_emit::argocd(&loaded.apps, &options(ArgoCdSource::Kustomize, loaded));
        let all = docs(&files);
        for r in rendered {
            let objects = rendered_objects(r);
            let mut targets: Vec<Value> = objects
                .iter()
                .filter(|o| o["kind"] == "HorizontalPodAutoscaler")
                .map(|h| {
                    serde_json::json!({
                        "group": "apps",
                        "kind": h["spec"]["scaleTargetRef"]["kind"],
                        "name": h["spec"]["scaleTargetRef"]["name"],
                        "namespace": h["metadata"]["namespace"],
                        "jsonPointers": ["/spec/replicas"],
                    })
                })
                .collect();
            for o in objects
                .iter()
                .filter(|o| o["kind"] == "Deployment" || o["kind"] == "StatefulSet")
            {
                let scaled = targets.iter().any(|t| {
                    t["kind"] == o["kind"]
                        && t["name"] == o["metadata"]["name"]
                        && t["namespace"] == o["metadata"]["namespace"]
                });
                assert_eq!(
                    o["spec"].get("replicas").is_none(),
                    scaled,
                    "{name}/{}: {} {} (autoscaled: {scaled}) replicas {}",
                    r.env,
                    o["kind"],
                    o["metadata"]["name"],
                    o["spec"]["replicas"]
                );
            }
            autoscaled += targets.len();
            let app = &all
                .iter()
                .find(|(p, _)| p == &format!("apps/{}.yaml", r.env))
                .unwrap()
                .1;
            let mut ignored: Vec<Value> = app["spec"]["ignoreDifferences"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let key = |v: &Value| v.to_string();
            targets.sort_by_key(key);
            ignored.sort_by_key(key);
            assert_eq!(ignored, targets, "{name}/{}", r.env);
            let respect = app["spec"]["syncPolicy"]["syncOptions"]
                .as_array()
                .unwrap()
                .contains(&"RespectIgnoreDifferences=true".into());
            assert_eq!(respect, !targets.is_empty(), "{name}/{}", r.env);
        }
    }
    assert!(autoscaled >= 3, "the cases autoscale something");
}
