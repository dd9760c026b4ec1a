//! A local-folder source (file://), watched with notify: a writer using the kubelet's `..data`
//! symlink swap and a tmp+rename writer are both picked up without polling (the poll interval is an
//! hour), our own reads do not wake the watcher, and `--kubelet-compatible` output works.

mod support;

use serde_json::json;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;
use support::*;

/// Publish like the kubelet AtomicWriter: new `..<ts>` dir, `..data_tmp` -> it, rename over `..data`,
/// and top-level `NAME -> ..data/NAME` links.
fn kubelet_publish(src: &Path, n: u32, files: &[(&str, String)]) {
    let ts = format!("..2026_{n:04}");
    std::fs::create_dir(src.join(&ts)).unwrap();
    for (name, body) in files {
        std::fs::write(src.join(&ts).join(name), body).unwrap();
        let link = src.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            symlink(Path::new("..data").join(name), &link).unwrap();
        }
    }
    let tmp = src.join("..data_tmp");
    symlink(&ts, &tmp).unwrap();
    std::fs::rename(&tmp, src.join("..data")).unwrap();
}

#[test]
fn kubelet_style_source_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let root = dir.path().join("root");
    std::fs::create_dir_all(&src).unwrap();
    kubelet_publish(
        &src,
        1,
        &[
            ("app.yaml", "v: 1\n".into()),
            ("rules.json", "{\"v\": 1}".into()),
        ],
    );
    let port = free_port();
    let config = json!({
        "source": format!("file://{}", src.display()),
        "root": root,
        "reload": "none",
        "poll_interval": "1h",
        "debounce": "100ms",
        "kubelet_compatible": true,
        "listen": format!("127.0.0.1:{port}"),
    });
    let s = Sidecar::start(&config, &[], &dir.path().join("sidecar.log"));
    wait_port(port, "sidecar");
    let log = || std::fs::read_to_string(dir.path().join("sidecar.log")).unwrap_or_default();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_default();
    // kubelet-compatible output: ..data and top-level links (made right after the swap).
    wait_until_or(
        "v1",
        Duration::from_secs(30),
        || read("app.yaml") == "v: 1\n",
        log,
    );
    assert_eq!(read("current/app.yaml"), "v: 1\n");
    assert_eq!(read("..data/rules.json"), "{\"v\": 1}");
    // Hidden kubelet dirs of the source are not config.
    let files: Vec<_> = std::fs::read_dir(root.join("current"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");

    // The ..data swap is only renames: it must still be seen (by the watcher: the poll interval is 1h).
    kubelet_publish(
        &src,
        2,
        &[
            ("app.yaml", "v: 2\n".into()),
            ("rules.json", "{\"v\": 2}".into()),
        ],
    );
    wait_until_or(
        "v2 through the watcher",
        Duration::from_secs(30),
        || read("current/app.yaml") == "v: 2\n",
        log,
    );

    // Reads of the source by our own polls must not wake the watcher again (a feedback loop
    // would poll every debounce period, i.e. ~20 times in the next 2 s).
    let polls = |s: &Sidecar| s.status()["polls"].as_u64().unwrap_or(0);
    let before = polls(&s);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        polls(&s) <= before + 2,
        "idle polls: {} -> {}",
        before,
        polls(&s)
    );
}

#[test]
fn tmp_rename_writer_and_invalid_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let root = dir.path().join("root");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("app.yaml"), "v: 1\n").unwrap();
    let port = free_port();
    let config = json!({
        "source": format!("file://{}", src.display()),
        "root": root,
        "reload": "exec:test -f \"$CONFIG_DIR/app.yaml\"",
        "poll_interval": "1h",
        "debounce": "100ms",
        "listen": format!("127.0.0.1:{port}"),
    });
    let s = Sidecar::start(&config, &[], &dir.path().join("sidecar.log"));
    wait_port(port, "sidecar");
    let log = || std::fs::read_to_string(dir.path().join("sidecar.log")).unwrap_or_default();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_default();
    wait_until_or(
        "v1",
        Duration::from_secs(30),
        || read("current/app.yaml") == "v: 1\n",
        log,
    );
    std::fs::write(src.join("app.yaml.tmp"), "v: [2\n").unwrap();
    std::fs::rename(src.join("app.yaml.tmp"), src.join("app.yaml")).unwrap();
    wait_until_or(
        "invalid YAML rejected",
        Duration::from_secs(30),
        || s.status()["quarantined"].is_string(),
        log,
    );
    assert_eq!(read("current/app.yaml"), "v: 1\n");
    std::fs::write(src.join("app.yaml.tmp"), "v: 3\n").unwrap();
    std::fs::rename(src.join("app.yaml.tmp"), src.join("app.yaml")).unwrap();
    wait_until_or(
        "v3",
        Duration::from_secs(30),
        || read("current/app.yaml") == "v: 3\n",
        log,
    );
    assert_eq!(s.status()["ready"], true);
}
