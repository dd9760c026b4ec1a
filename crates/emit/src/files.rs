use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Files to write, by path relative to an output directory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileSet {
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl FileSet {
    pub fn insert(&mut self, path: impl Into<PathBuf>, content: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), content.into());
    }

    /// Adds every file of `other` under `prefix`.
    pub fn nest(&mut self, prefix: impl AsRef<Path>, other: FileSet) {
        for (path, content) in other.files {
            self.files.insert(prefix.as_ref().join(path), content);
        }
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Replaces `dir` with exactly `files`. Everything is written and synced into a sibling
/// temporary directory first; only then is the old directory moved aside and the new one
/// renamed into place. A failure before the swap leaves `dir` untouched.
pub fn write_atomic(dir: &Path, files: &FileSet) -> io::Result<()> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)?;
    let name = dir
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "output path has no name"))?
        .to_string_lossy()
        .into_owned();
    let pid = std::process::id();
    let staging = parent.join(format!(".{name}.berth-new-{pid}"));
    let old = parent.join(format!(".{name}.berth-old-{pid}"));
    let _ = std::fs::remove_dir_all(&staging);
    let result = (|| {
        std::fs::create_dir_all(&staging)?;
        // Each directory once, then the files, on a few threads (thousands of small files:
        // the time is in system calls, not in this process).
        let mut dirs = std::collections::BTreeSet::new();
        for path in files.files.keys() {
            if path.is_absolute()
                || path
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "refusing to write outside the output directory: {}",
                        path.display()
                    ),
                ));
            }
            if let Some(p) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                dirs.insert(p);
            }
        }
        for d in dirs {
            std::fs::create_dir_all(staging.join(d))?;
        }
        let entries: Vec<(&PathBuf, &Vec<u8>)> = files.files.iter().collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let chunk = entries.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = entries
                .chunks(chunk)
                .map(|part| {
                    let staging = &staging;
                    scope.spawn(move || -> io::Result<()> {
                        for (path, content) in part {
                            std::fs::write(staging.join(path), content)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .try_for_each(|h| h.join().expect("writer thread"))
        })
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    let had_old = dir.exists();
    if had_old {
        std::fs::rename(dir, &old)?;
    }
    if let Err(e) = std::fs::rename(&staging, dir) {
        // Put the previous output back.
        if had_old {
            let _ = std::fs::rename(&old, dir);
        }
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    if had_old {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_directory_with_exactly_the_new_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let mut first = FileSet::default();
        first.insert("a.yaml", "a");
        first.insert("sub/b.yaml", "b");
        write_atomic(&out, &first).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("sub/b.yaml")).unwrap(),
            "b"
        );
        let mut second = FileSet::default();
        second.insert("c.yaml", "c");
        write_atomic(&out, &second).unwrap();
        assert!(!out.join("a.yaml").exists());
        assert_eq!(std::fs::read_to_string(out.join("c.yaml")).unwrap(), "c");
        // No staging or old directories left behind.
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_leaves_the_previous_output_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let mut first = FileSet::default();
        first.insert("a.yaml", "a");
        write_atomic(&out, &first).unwrap();
        let mut bad = FileSet::default();
        bad.insert("ok.yaml", "x");
        bad.insert("../escape.yaml", "x");
        assert!(write_atomic(&out, &bad).is_err());
        assert_eq!(std::fs::read_to_string(out.join("a.yaml")).unwrap(), "a");
        assert!(!out.join("ok.yaml").exists());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
