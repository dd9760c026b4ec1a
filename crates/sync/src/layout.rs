//! The on-disk layout under `--root` (the kubelet AtomicWriter / git-sync pattern):
//!
//! ```text
//! <root>/current -> .versions/<gen>-<hash12>   the only path the app reads
//! <root>/..data  -> .versions/<gen>-<hash12>   with --kubelet-compatible (plus <root>/<name> -> ..data/<name>)
//! <root>/.versions/<gen>-<hash12>/…            immutable snapshots
//! <root>/.staging/<n>/…                        downloads being validated
//! <root>/.state/journal.jsonl                  the journal
//! ```

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub const CURRENT: &str = "current";
pub const KUBELET_DATA: &str = "..data";

#[derive(Clone, Debug)]
pub struct Layout {
    pub root: PathBuf,
    pub kubelet_compatible: bool,
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>, kubelet_compatible: bool) -> Self {
        Layout {
            root: root.into(),
            kubelet_compatible,
        }
    }
    pub fn versions(&self) -> PathBuf {
        self.root.join(".versions")
    }
    pub fn staging(&self) -> PathBuf {
        self.root.join(".staging")
    }
    pub fn state(&self) -> PathBuf {
        self.root.join(".state")
    }
    pub fn journal(&self) -> PathBuf {
        self.state().join("journal.jsonl")
    }
    pub fn current(&self) -> PathBuf {
        self.root.join(CURRENT)
    }

    /// Create the directories and throw away leftover staging directories.
    pub fn prepare(&self) -> io::Result<()> {
        fs::create_dir_all(&self.root)?;
        let _ = fs::remove_dir_all(self.staging());
        for d in [self.versions(), self.staging(), self.state()] {
            fs::create_dir_all(d)?;
        }
        fsync_dir(&self.root)
    }

    /// A fresh, empty staging directory.
    pub fn new_staging(&self, n: u64) -> io::Result<PathBuf> {
        let p = self.staging().join(format!("{n}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p)?;
        Ok(p)
    }

    /// The version directory name `current` points to, if any.
    pub fn read_current(&self) -> Option<String> {
        let target = fs::read_link(self.current()).ok()?;
        target.file_name().map(|n| n.to_string_lossy().into_owned())
    }

    /// Make a staged directory durable and immutable, and move it to `.versions/<name>`.
    pub fn publish(&self, staged: &Path, name: &str) -> io::Result<PathBuf> {
        sync_tree(staged)?;
        let dest = self.versions().join(name);
        if dest.exists() {
            remove_tree(&dest)?;
        }
        fs::rename(staged, &dest)?;
        fsync_dir(&self.versions())?;
        Ok(dest)
    }

    /// Point `current` (and `..data`) at `.versions/<name>` with symlink + rename, or remove them.
    /// `after_rename` runs right after the `current` rename (the fault-injection hook).
    pub fn swap(&self, name: Option<&str>, after_rename: impl FnOnce()) -> io::Result<()> {
        let links: &[&str] = if self.kubelet_compatible {
            &[CURRENT, KUBELET_DATA]
        } else {
            &[CURRENT]
        };
        match name {
            Some(name) => {
                let target = Path::new(".versions").join(name);
                if !self.root.join(&target).is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("version {name} is not on disk"),
                    ));
                }
                for (i, link) in links.iter().enumerate() {
                    let tmp = self.root.join(format!("{link}.tmp"));
                    let _ = fs::remove_file(&tmp);
                    std::os::unix::fs::symlink(&target, &tmp)?;
                    fs::rename(&tmp, self.root.join(link))?;
                    if i == 0 {
                        fsync_dir(&self.root)?;
                    }
                }
                fsync_dir(&self.root)?;
                after_rename();
                if self.kubelet_compatible {
                    self.kubelet_file_links(name)?;
                }
            }
            None => {
                for link in links {
                    match fs::remove_file(self.root.join(link)) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                        _ => {}
                    }
                }
                fsync_dir(&self.root)?;
                after_rename();
            }
        }
        Ok(())
    }

    /// kubelet-style `<root>/<name> -> ..data/<name>` for each top-level entry of the version,
    /// removing such links whose target is gone.
    fn kubelet_file_links(&self, name: &str) -> io::Result<()> {
        let version = self.versions().join(name);
        let mut wanted = std::collections::BTreeSet::new();
        for e in fs::read_dir(&version)? {
            let n = e?.file_name().to_string_lossy().into_owned();
            if n.starts_with('.') || n == CURRENT {
                continue;
            }
            let link = self.root.join(&n);
            if fs::symlink_metadata(&link).is_err() {
                std::os::unix::fs::symlink(Path::new(KUBELET_DATA).join(&n), &link)?;
            }
            wanted.insert(n);
        }
        for e in fs::read_dir(&self.root)? {
            let e = e?;
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with('.') || n == CURRENT || wanted.contains(&n) {
                continue;
            }
            if let Ok(t) = fs::read_link(e.path())
                && t.starts_with(KUBELET_DATA)
            {
                fs::remove_file(e.path())?;
            }
        }
        Ok(())
    }

    /// Remove old version directories, keeping the newest `keep` plus every name in `protect`
    /// (the committed and the current version are never removed).
    pub fn prune(&self, keep: usize, protect: &[String]) -> io::Result<()> {
        let mut names: Vec<String> = fs::read_dir(self.versions())?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let cut = names.len().saturating_sub(keep);
        for n in &names[..cut] {
            if !protect.contains(n) {
                remove_tree(&self.versions().join(n))?;
            }
        }
        Ok(())
    }
}

fn sync_tree(dir: &Path) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            sync_tree(&p)?;
        } else {
            let f = File::open(&p)?;
            f.sync_all()?;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o444))?;
        }
    }
    fsync_dir(dir)
}

fn remove_tree(dir: &Path) -> io::Result<()> {
    fs::remove_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_swap_prune() {
        let t = tempfile::tempdir().unwrap();
        let l = Layout::new(t.path(), true);
        l.prepare().unwrap();
        for (i, body) in ["one", "two", "three"].iter().enumerate() {
            let s = l.new_staging(i as u64).unwrap();
            fs::write(s.join("app.yaml"), body).unwrap();
            let name = format!("00000{i}-abc");
            l.publish(&s, &name).unwrap();
            l.swap(Some(&name), || {}).unwrap();
            assert_eq!(l.read_current().as_deref(), Some(name.as_str()));
            assert_eq!(
                fs::read_to_string(t.path().join("current/app.yaml")).unwrap(),
                *body
            );
            assert_eq!(
                fs::read_to_string(t.path().join("app.yaml")).unwrap(),
                *body
            );
        }
        l.prune(1, &["000000-abc".to_string()]).unwrap();
        assert!(l.versions().join("000000-abc").exists());
        assert!(!l.versions().join("000001-abc").exists());
        assert!(l.versions().join("000002-abc").exists());
        l.swap(None, || {}).unwrap();
        assert_eq!(l.read_current(), None);
        assert!(l.swap(Some("nope"), || {}).is_err());
    }
}
