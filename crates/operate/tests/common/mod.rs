//! What the test binaries of this crate share: the repository root and its examples.
// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every example under `examples/` (directories with a berth.yaml), by name, loaded.
pub(crate) fn examples() -> Vec<(String, berth_spec::Loaded)> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("berth.yaml").exists())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| {
            let name = d.file_name().unwrap().to_string_lossy().into_owned();
            let loaded = berth_spec::load(&d).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            (name, loaded)
        })
        .collect()
}
