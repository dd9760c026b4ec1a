//! Harness for the data-tier tests that run real servers on loopback: tool lookup (a missing tool
//! fails loudly, naming its setup script), processes stopped by PID, waiting helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn tools() -> PathBuf {
    std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools"))
}

/// `$BERTH_TOOLS/bin` checked for the named binaries.
pub(crate) fn bin_dir(names: &[&str], script: &str) -> PathBuf {
    let bin = tools().join("bin");
    for n in names {
        assert!(
            bin.join(n).exists(),
            "{n} is missing from {}: run `BERTH_TOOLS={} bash {script}` (or scripts/test, which runs every scripts/setup.d/*.sh)",
            bin.display(),
            tools().display()
        );
    }
    bin
}

/// PATH with `$BERTH_TOOLS/bin` first, so rendered scripts find the servers by name.
pub(crate) fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A scratch directory, removed on drop.
pub(crate) struct Scratch(pub PathBuf);

impl Scratch {
    pub(crate) fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("berth-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Processes this test started; each is killed by its PID on drop.
#[derive(Default)]
pub(crate) struct Procs(pub Vec<(String, Child)>);

impl Procs {
    pub(crate) fn spawn(&mut self, name: &str, mut cmd: Command, log: &Path) -> u32 {
        let out = std::fs::File::create(log).unwrap();
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let pid = child.id();
        self.0.push((name.to_string(), child));
        pid
    }

    /// SIGKILL one process by name (as a node loss or OOM kill would), and reap it.
    pub(crate) fn kill9(&mut self, name: &str) {
        let i = self
            .0
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no process {name}"));
        let (_, mut child) = self.0.remove(i);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for (_, c) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub(crate) fn wait_until(what: &str, timeout: Duration, cond: impl FnMut() -> bool) -> Duration {
    wait_until_or(what, timeout, cond, String::new)
}

/// Like `wait_until`, with context (the last answer seen) in the failure message.
pub(crate) fn wait_until_or(
    what: &str,
    timeout: Duration,
    mut cond: impl FnMut() -> bool,
    context: impl Fn() -> String,
) -> Duration {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > timeout {
            panic!(
                "timed out after {timeout:?} waiting for: {what}\n{}",
                context()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

/// Replaces `from` by `to`, asserting it occurs exactly `n` times: a change in what berth
/// renders breaks the test instead of silently testing something else.
pub(crate) fn replace_exact(text: &str, from: &str, to: &str, n: usize) -> String {
    let found = text.matches(from).count();
    assert_eq!(found, n, "expected {n}× {from:?} in:\n{text}");
    text.replace(from, to)
}
