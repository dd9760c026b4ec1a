//! Version identity: SHA-256 over the sorted `(relative path, SHA-256 of content)` pairs.
//!
//! `version = sha256( for each file, sorted by path: path + "\0" + hex(sha256(content)) + "\n" )`
//!
//! Apps that report their loaded version on `--config-version-url` compute the same thing over the
//! files under `current/` (the test app in `tests/support/testapp.py` does it in ten lines of Python).

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The version hash from `path → hex content hash` pairs (a `BTreeMap` is already sorted by path).
pub fn version_hash(files: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (path, content_hash) in files {
        h.update(path.as_bytes());
        h.update([0u8]);
        h.update(content_hash.as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

/// Walk a directory (following no symlinks inside it) and compute its version hash and file map.
pub fn hash_dir(dir: &std::path::Path) -> std::io::Result<(String, BTreeMap<String, String>)> {
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files)?;
    Ok((version_hash(&files), files))
}

fn walk(
    base: &std::path::Path,
    dir: &std::path::Path,
    out: &mut BTreeMap<String, String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            walk(base, &path, out)?;
        } else {
            let rel = path
                .strip_prefix(base)
                .expect("walked path is under base")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.insert(rel, sha256_hex(&std::fs::read(&path)?));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_independent_and_name_sensitive() {
        let mut a = BTreeMap::new();
        a.insert("b.yaml".to_string(), sha256_hex(b"x"));
        a.insert("a.yaml".to_string(), sha256_hex(b"y"));
        let mut b = BTreeMap::new();
        b.insert("a.yaml".to_string(), sha256_hex(b"y"));
        b.insert("b.yaml".to_string(), sha256_hex(b"x"));
        assert_eq!(version_hash(&a), version_hash(&b));
        let mut c = BTreeMap::new();
        c.insert("a.yaml".to_string(), sha256_hex(b"x"));
        c.insert("b.yaml".to_string(), sha256_hex(b"y"));
        assert_ne!(
            version_hash(&a),
            version_hash(&c),
            "swapping contents between names changes the version"
        );
    }

    #[test]
    fn known_value() {
        // Pinned so apps implementing the formula can check themselves against it.
        let mut a = BTreeMap::new();
        a.insert("app.json".to_string(), sha256_hex(b"{}"));
        assert_eq!(
            sha256_hex(b"{}"),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(version_hash(&a).len(), 64);
        assert_eq!(
            version_hash(&a),
            sha256_hex(format!("app.json\0{}\n", sha256_hex(b"{}")).as_bytes())
        );
    }
}
