//! Snapshots of every example in every format (each file of the format, in path order), and
//! determinism: the same input gives byte-identical files.

mod common;
use berth_emit::{ArgoCdOptions, ArgoCdSource, FileSet};
use common::*;

fn options(loaded: &berth_spec::Loaded, source: ArgoCdSource) -> ArgoCdOptions {
    ArgoCdOptions {
        source,
        repo_url: "https://github.com/acme/deploy.git".into(),
        revision: "HEAD".into(),
        path: format!("examples/{}/out", loaded.spec.app),
        image_updater: loaded.spec.argocd.as_ref().and_then(|a| a.image_updater),
    }
}

fn formats(
    loaded: &berth_spec::Loaded,
    rendered: &[berth_render::Rendered],
) -> Vec<(&'static str, FileSet)> {
    vec![
        (
            "kustomize",
            berth_emit::kustomize(&loaded.spec.app, rendered),
        ),
        ("helm", berth_emit::helm(&loaded.apps, rendered)),
        (
            "argocd",
            berth_emit::argocd(&loaded.apps, &options(loaded, ArgoCdSource::Kustomize)),
        ),
        (
            "argocd-helm",
            berth_emit::argocd(&loaded.apps, &options(loaded, ArgoCdSource::Helm)),
        ),
        ("compose", berth_emit::compose(&loaded.apps)),
    ]
}

fn listing(files: &FileSet) -> String {
    let mut out = String::new();
    for (path, content) in &files.files {
        out.push_str(&format!("=== {}\n", path.display()));
        out.push_str(&String::from_utf8_lossy(content));
        if !content.ends_with(b"\n") {
            out.push('\n');
        }
    }
    out
}

#[test]
fn every_example_and_format_matches_its_snapshot() {
    for name in EXAMPLES {
        let (loaded, rendered) = example(name);
        for (format, files) in formats(&loaded, &rendered) {
            insta::assert_snapshot!(format!("{name}-{format}"), listing(&files));
        }
    }
}

#[test]
fn every_format_is_deterministic() {
    for name in EXAMPLES {
        let (loaded, rendered) = example(name);
        let (again_loaded, again_rendered) = example(name);
        assert_eq!(
            formats(&loaded, &rendered),
            formats(&again_loaded, &again_rendered)
        );
    }
}
