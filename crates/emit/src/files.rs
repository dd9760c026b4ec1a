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
    /// Drops every file under `prefix`.
    pub fn remove_prefix(&mut self, prefix: impl AsRef<Path>) {
        self.files.retain(|p, _| !p.starts_with(prefix.as_ref()));
    }

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

/// Replaces `dir` with exactly `files`. Everything is written into a sibling temporary
/// directory first; only then is the old directory moved aside and the new one renamed into
/// place. A failure before the swap leaves `dir` untouched.
///
/// A file whose content is unchanged is hard-linked from the previous output instead of being
/// written again: on ext4, creating thousands of inodes right after deleting thousands is slow
/// (the allocator skips recently deleted inodes one by one), and unchanged files keep their
/// mtime, so make-like tools and editors see only what really changed.
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
                            let target = staging.join(path);
                            if !link_if_unchanged(&dir.join(path), &target, content) {
                                std::fs::write(target, content)?;
                            }
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

/// Hard-links `previous` to `target` when `previous` is a regular file (not a symlink) holding
/// exactly `content`. False means the caller must write the file.
fn link_if_unchanged(previous: &Path, target: &Path, content: &[u8]) -> bool {
    let same = std::fs::symlink_metadata(previous)
        .is_ok_and(|m| m.file_type().is_file() && m.len() == content.len() as u64)
        && std::fs::read(previous).is_ok_and(|old| old == content);
    // Filesystems without hard links fall back to writing.
    same && std::fs::hard_link(previous, target).is_ok()
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

    #[cfg(unix)]
    #[test]
    fn unchanged_files_are_linked_and_changed_ones_rewritten() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let mut first = FileSet::default();
        first.insert("same.yaml", "same");
        first.insert("grows.yaml", "v1");
        first.insert("link.yaml", "outside");
        write_atomic(&out, &first).unwrap();
        let inode = |p: &str| std::fs::metadata(out.join(p)).unwrap().ino();
        let same_before = inode("same.yaml");
        let grows_before = inode("grows.yaml");
        // A symlink in the previous output is never linked into the new one, even when the
        // file it points to holds the expected content.
        let outside = tmp.path().join("outside.txt");
        std::fs::write(&outside, "outside").unwrap();
        std::fs::remove_file(out.join("link.yaml")).unwrap();
        std::os::unix::fs::symlink(&outside, out.join("link.yaml")).unwrap();

        let mut second = FileSet::default();
        second.insert("same.yaml", "same");
        second.insert("grows.yaml", "v2");
        second.insert("link.yaml", "outside");
        write_atomic(&out, &second).unwrap();
        assert_eq!(
            inode("same.yaml"),
            same_before,
            "unchanged file is the same inode"
        );
        assert_ne!(inode("grows.yaml"), grows_before);
        assert_eq!(
            std::fs::read_to_string(out.join("grows.yaml")).unwrap(),
            "v2"
        );
        let link = std::fs::symlink_metadata(out.join("link.yaml")).unwrap();
        assert!(link.file_type().is_file(), "written as a regular file");
        // The previous output's directory is gone, so the linked file has one name again.
        assert_eq!(std::fs::metadata(out.join("same.yaml")).unwrap().nlink(), 1);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
    }
}
