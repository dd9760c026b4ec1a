//! `berth build`'s output layout, so checking it reads every object once.
//!
//! An environment directory (`out/prod/`) holds one file per object plus `all.yaml`, the same
//! objects as one stream; a build root (`out/`) holds the environment directories next to the
//! other formats of the same objects (`helm/`, `kustomize/`, `argocd/`, `compose/`, …), which
//! are not plain manifests. Reading all of it would count every object twice (and report each as a
//! duplicate), or try templates as manifests.

use crate::{CheckError, collect_files};
use std::path::{Path, PathBuf};

/// The manifest files to read under `p` (as [`collect_files`]), with berth's aggregate
/// `all.yaml` files and a build root's format directories left out, and a notice for each.
pub(crate) fn manifest_files(p: &Path) -> Result<(Vec<PathBuf>, Vec<String>), CheckError> {
    let mut files = collect_files(p)?;
    let mut notices = Vec::new();
    if !p.is_dir() {
        return Ok((files, notices));
    }
    if is_build_root(p) {
        // The environment directories are those with an `all.yaml`; every other directory
        // (helm/, kustomize/, argocd/, compose/, …) is another format of the same objects.
        let mut skipped = Vec::new();
        let mut envs = Vec::new();
        let rd = std::fs::read_dir(p).map_err(|e| CheckError::Io(p.to_path_buf(), e))?;
        for entry in rd.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.join("all.yaml").is_file() {
                envs.push(path);
            } else if !name.starts_with('.') {
                skipped.push(format!("{name}/"));
            }
        }
        skipped.sort();
        files.retain(|f| envs.iter().any(|e| f.starts_with(e)));
        notices.push(format!(
            "{} is a `berth build` output: checking its environment directories only; {} hold the same objects in other formats (check them as `helm template … | berth check -`, `kubectl kustomize … | berth check -`)",
            p.display(),
            skipped.join(", ")
        ));
    }
    let aggregates: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "all.yaml"))
        .filter(|f| is_aggregate(f, &files))
        .cloned()
        .collect();
    for a in &aggregates {
        notices.push(format!(
            "skipped {}: the same objects as the other files of its directory (berth's output layout)",
            a.display()
        ));
    }
    files.retain(|f| !aggregates.contains(f));
    Ok((files, notices))
}

/// A directory `berth build` wrote: a berth-generated Helm chart among its format directories.
fn is_build_root(p: &Path) -> bool {
    std::fs::read_to_string(p.join("helm/Chart.yaml"))
        .is_ok_and(|t| t.contains("berth.dev/generated"))
}

/// `all.yaml` is exactly the documents of the other manifest files in its directory, in some
/// order (what `berth render -o DIR` and `berth build` write). Anything else (an edited copy,
/// a file missing) is read like any other file, so conflicting copies are reported.
fn is_aggregate(all: &Path, files: &[PathBuf]) -> bool {
    let Some(dir) = all.parent() else {
        return false;
    };
    let Ok(text) = std::fs::read_to_string(all) else {
        return false;
    };
    let mut docs: Vec<String> = split_docs(&text);
    let mut parts: Vec<String> = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.parent() == Some(dir) && f.as_path() != all)
    {
        match std::fs::read_to_string(f) {
            Ok(t) => parts.extend(split_docs(&t)),
            Err(_) => return false,
        }
    }
    if parts.is_empty() {
        return false;
    }
    docs.sort();
    parts.sort();
    docs == parts
}

/// Documents of a stream, split on `---` lines, trimmed, empty ones dropped.
fn split_docs(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            let d = docs.last_mut().expect("one document");
            d.push_str(line);
            d.push('\n');
        }
    }
    docs.into_iter()
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .collect()
}
