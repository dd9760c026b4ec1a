//! Proof: `kubectl kustomize overlays/ENV` (the real kubectl) builds exactly the objects
//! `berth render --env ENV` prints, for every example and environment.

mod common;
use common::*;
use std::process::Command;

fn prove(name: &str, loaded: &berth_spec::Loaded, rendered: &[berth_render::Rendered]) {
    let files = berth_emit::kustomize(&loaded.spec.app, rendered);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kustomize");
    berth_emit::write_atomic(&dir, &files).unwrap();
    for kubectl in kubectls() {
        prove_with(&kubectl, name, &dir, tmp.path(), rendered);
    }
}

fn prove_with(
    kubectl: &std::path::Path,
    name: &str,
    dir: &std::path::Path,
    tmp: &std::path::Path,
    rendered: &[berth_render::Rendered],
) {
    let name = format!("{name} ({})", kubectl.display());
    for r in rendered {
        let built = run(Command::new(kubectl)
            .arg("kustomize")
            .arg(dir.join("overlays").join(&r.env)));
        assert_same_objects(
            &format!("{name}: kubectl kustomize overlays/{}", r.env),
            parse_stream(&built),
            rendered_objects(r),
        );
        // With the Argo CD component, every object carries its sync wave and nothing else changes.
        let argo = tmp.join(format!("argo-{}", r.env));
        std::fs::create_dir_all(&argo).unwrap();
        std::fs::write(
            argo.join("kustomization.yaml"),
            format!(
                "resources: [../kustomize/overlays/{}]\ncomponents: [../kustomize/{}]\n",
                r.env,
                berth_emit::SYNC_WAVES_COMPONENT
            ),
        )
        .unwrap();
        let waved = parse_stream(&run(Command::new(kubectl).arg("kustomize").arg(&argo)));
        let mut stripped = Vec::new();
        for mut obj in waved {
            let kind = obj["kind"].as_str().unwrap().to_owned();
            let annotations = obj["metadata"]["annotations"]
                .as_object_mut()
                .expect("annotated");
            let kind_wave: serde_json::Value = berth_kinds::wave(&kind).to_string().into();
            // The data tier carries its own wave (and keeps it: compared with berth render below).
            if annotations.get(berth_kinds::WAVE_ANNOTATION) == Some(&kind_wave) {
                annotations.shift_remove(berth_kinds::WAVE_ANNOTATION);
            } else {
                let own = annotations[berth_kinds::WAVE_ANNOTATION]
                    .as_str()
                    .and_then(|w| w.parse::<i32>().ok());
                assert!(
                    own.is_some_and(|w| (2..=19).contains(&w)),
                    "{kind}: {own:?}"
                );
            }
            if annotations.is_empty() {
                obj["metadata"]
                    .as_object_mut()
                    .unwrap()
                    .shift_remove("annotations");
            }
            stripped.push(obj);
        }
        assert_same_objects(
            &format!("{name}: {} with sync waves", r.env),
            stripped,
            rendered_objects(r),
        );
    }
}

#[test]
fn every_example_overlay_builds_what_berth_renders() {
    for name in EXAMPLES {
        let (loaded, rendered) = example(name);
        prove(name, &loaded, &rendered);
    }
}

/// An app over several namespaces (examples/notes: gateway, services and its own; in dev all
/// in one): every object lands in its namespace.
#[test]
fn an_app_over_several_namespaces_builds_what_berth_renders() {
    let (loaded, rendered) = example("notes");
    assert!(rendered.iter().any(|r| r.namespaces.len() == 3));
    prove("notes", &loaded, &rendered);
}

#[test]
fn overlays_carry_every_kind_of_difference() {
    let (loaded, rendered) = spec(VARIED);
    prove("varied", &loaded, &rendered);
    let (shapes, shapes_rendered) = spec(SHAPES);
    prove("shapes", &shapes, &shapes_rendered);
    let files = berth_emit::kustomize(&loaded.spec.app, &rendered);
    let text = |p: &str| String::from_utf8(files.files[std::path::Path::new(p)].clone()).unwrap();
    let dev = text("overlays/dev/kustomization.yaml");
    assert!(dev.contains("replicas:"), "{dev}");
    assert!(dev.contains("images:"), "{dev}");
    assert!(dev.contains("newTag: 2.1.0-rc.1"), "{dev}");
    let staging = text("overlays/staging/kustomization.yaml");
    assert!(
        staging.contains("newName: registry.staging.internal/acme/shop-api"),
        "{staging}"
    );
    // The worker dev does not run is in no base.
    assert!(
        !files
            .files
            .contains_key(std::path::Path::new("base/worker.yaml"))
    );
    // It lives once, in the component the environments that run it include: every object of
    // it in one file, listed by the component.
    let worker = text("components/in-staging-prod/worker.yaml");
    assert!(worker.contains("kind: Deployment"), "{worker}");
    assert!(
        worker.contains("\n---\n"),
        "one document per object: {worker}"
    );
    assert!(text("components/in-staging-prod/kustomization.yaml").contains("- worker.yaml"));
    // The base: a file per service and one for the app's own objects, and nothing else.
    let base = text("base/kustomization.yaml");
    assert!(base.contains("- 00-shared.yaml"), "{base}");
    assert!(text("base/00-shared.yaml").contains("kind: Namespace"));
    assert!(text("overlays/prod/kustomization.yaml").contains("../../components/in-staging-prod"));
    assert!(!dev.contains("components"), "{dev}");
}
