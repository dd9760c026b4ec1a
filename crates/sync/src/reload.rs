//! Telling the app: a signal, an HTTP call or a command. Rate-limited (`--min-reload-interval`),
//! retried (`--reload-retries`), and single-flight by construction (the daemon runs one pipeline).

use crate::config::ReloadSpec;
use std::path::Path;
use std::time::{Duration, Instant};

pub struct Reloader {
    spec: ReloadSpec,
    timeout: Duration,
    retries: u32,
    min_interval: Duration,
    last: Option<Instant>,
    client: reqwest::Client,
}

impl Reloader {
    pub fn new(
        spec: ReloadSpec,
        timeout: Duration,
        retries: u32,
        min_interval: Duration,
        client: reqwest::Client,
    ) -> Self {
        Reloader {
            spec,
            timeout,
            retries,
            min_interval,
            last: None,
            client,
        }
    }

    pub fn is_none(&self) -> bool {
        self.spec == ReloadSpec::None
    }

    /// Reload, retrying with a growing pause; the error names the last failure.
    pub async fn reload(&mut self, dir: &Path, version: &str) -> Result<(), String> {
        if let Some(last) = self.last {
            let since = last.elapsed();
            if since < self.min_interval {
                tokio::time::sleep(self.min_interval - since).await;
            }
        }
        let mut last_err = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
            }
            let result = self.once(dir, version).await;
            // Measured from the end of the previous attempt: the app gets the full interval.
            self.last = Some(Instant::now());
            match result {
                Ok(()) => return Ok(()),
                Err(e) => last_err = e,
            }
        }
        Err(format!(
            "reload failed after {} attempts: {last_err}",
            self.retries + 1
        ))
    }

    async fn once(&self, dir: &Path, version: &str) -> Result<(), String> {
        match &self.spec {
            ReloadSpec::None => Ok(()),
            ReloadSpec::Signal {
                signal,
                name,
                target,
            } => {
                let pids = find_pids(target)?;
                for pid in &pids {
                    // SAFETY: kill(2) with a PID we read and a valid signal number.
                    if unsafe { libc::kill(*pid, *signal) } != 0 {
                        return Err(format!(
                            "kill -{name} {pid}: {}",
                            std::io::Error::last_os_error()
                        ));
                    }
                }
                Ok(())
            }
            ReloadSpec::Http { method, url } => {
                let m =
                    reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
                let resp = self
                    .client
                    .request(m, url)
                    .header("X-Config-Version", version)
                    .header("X-Config-Dir", dir.to_string_lossy().as_ref())
                    .timeout(self.timeout)
                    .send()
                    .await
                    .map_err(|e| format!("{method} {url}: {e}"))?;
                if resp.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("{method} {url}: HTTP {}", resp.status()))
                }
            }
            ReloadSpec::Exec { command } => {
                crate::validate::run_command(command, dir, version, self.timeout).await
            }
        }
    }
}

/// The PIDs to signal: the PID in a pidfile (target contains `/`), or every process whose name
/// (`/proc/PID/comm`, or the basename of argv[0]) is `target` and whose parent is not also one
/// (so `nginx` signals the master, not its workers).
/// An empty `target` means the main process of every other container in the pod.
pub fn find_pids(target: &str) -> Result<Vec<i32>, String> {
    if target.is_empty() {
        return main_processes(Path::new("/proc"), std::process::id() as i32);
    }
    if target.contains('/') {
        let raw = std::fs::read_to_string(target).map_err(|e| format!("pidfile {target}: {e}"))?;
        let pid: i32 = raw
            .trim()
            .parse()
            .map_err(|_| format!("pidfile {target}: {:?} is not a PID", raw.trim()))?;
        return Ok(vec![pid]);
    }
    let me = std::process::id() as i32;
    let mut matches = std::collections::BTreeMap::new();
    for (pid, dir) in processes(Path::new("/proc"))? {
        if pid == me {
            continue;
        }
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let argv0 = std::fs::read(dir.join("cmdline")).unwrap_or_default();
        let argv0 = argv0
            .split(|b| *b == 0)
            .next()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default();
        let base = argv0.rsplit('/').next().unwrap_or("");
        if comm.trim() == target || base == target {
            matches.insert(pid, parent_pid(&dir).unwrap_or(0));
        }
    }
    let pids: Vec<i32> = matches
        .iter()
        .filter(|(_, ppid)| !matches.contains_key(ppid))
        .map(|(p, _)| *p)
        .collect();
    if pids.is_empty() {
        return Err(format!(
            "no process named `{target}` (the pod needs `shareProcessNamespace: true`, or use a pidfile)"
        ));
    }
    Ok(pids)
}

/// The other containers' main processes, for `signal:SIG` without a process name. In a pod with
/// `shareProcessNamespace: true`, PID 1 is the pause process and each container's entrypoint
/// has it (or, started by the runtime from outside the namespace, no visible process) as
/// parent. Anywhere else PID 1 is an init whose children are unrelated services, so this refuses
/// rather than signal them.
fn main_processes(proc: &Path, me: i32) -> Result<Vec<i32>, String> {
    let init = std::fs::read_to_string(proc.join("1/comm")).unwrap_or_default();
    if init.trim() != "pause" {
        return Err(format!(
            "`signal` without a process name needs a pod with `shareProcessNamespace: true` (PID 1 is `{}`, not the pause process); name the process (signal:SIG:NAME) or a pidfile",
            init.trim()
        ));
    }
    let mut pids: Vec<i32> = processes(proc)?
        .filter(|(pid, dir)| *pid != 1 && *pid != me && matches!(parent_pid(dir), Some(0 | 1)))
        .map(|(pid, _)| pid)
        .collect();
    pids.sort_unstable();
    if pids.is_empty() {
        return Err("no other container's process is visible in the pod".into());
    }
    Ok(pids)
}

/// Every process under `proc` (a /proc mount): its PID and its directory.
fn processes(proc: &Path) -> Result<impl Iterator<Item = (i32, std::path::PathBuf)>, String> {
    let entries = std::fs::read_dir(proc).map_err(|e| format!("{}: {e}", proc.display()))?;
    Ok(entries.flatten().filter_map(|e| {
        let pid = e.file_name().to_str()?.parse::<i32>().ok()?;
        Some((pid, e.path()))
    }))
}

/// The parent PID from /proc/PID/stat (the field after state; `comm` may hold spaces and `)`).
fn parent_pid(proc_pid: &Path) -> Option<i32> {
    let stat = std::fs::read_to_string(proc_pid.join("stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rate_limited_and_retried() {
        let t = tempfile::tempdir().unwrap();
        let log = t.path().join("log");
        let cmd = format!("date +%s%N >> {}", log.display());
        let client = reqwest::Client::new();
        let mut r = Reloader::new(
            ReloadSpec::Exec { command: cmd },
            Duration::from_secs(5),
            0,
            Duration::from_millis(300),
            client.clone(),
        );
        r.reload(t.path(), "v1").await.unwrap();
        r.reload(t.path(), "v2").await.unwrap();
        let stamps: Vec<u128> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect();
        assert_eq!(stamps.len(), 2);
        assert!(
            stamps[1] - stamps[0] >= 300_000_000,
            "second reload waited for --min-reload-interval"
        );

        // Retries: fails twice, then succeeds on the third attempt.
        let counter = t.path().join("n");
        let cmd = format!(
            "echo x >> {c}; test $(wc -l < {c}) -ge 3",
            c = counter.display()
        );
        let mut r = Reloader::new(
            ReloadSpec::Exec {
                command: cmd.clone(),
            },
            Duration::from_secs(5),
            2,
            Duration::ZERO,
            client.clone(),
        );
        r.reload(t.path(), "v").await.unwrap();
        std::fs::remove_file(&counter).unwrap();
        let mut r = Reloader::new(
            ReloadSpec::Exec { command: cmd },
            Duration::from_secs(5),
            1,
            Duration::ZERO,
            client,
        );
        let err = r.reload(t.path(), "v").await.unwrap_err();
        assert!(err.contains("after 2 attempts"), "{err}");
    }

    #[test]
    fn finds_child_by_name_and_pidfile() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        // Wait for the exec: between fork and exec the child still has our name.
        let comm = format!("/proc/{}/comm", child.id());
        for _ in 0..500 {
            if std::fs::read_to_string(&comm).is_ok_and(|c| c.trim() == "sleep") {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let pids = find_pids("sleep").unwrap();
        assert!(pids.contains(&(child.id() as i32)), "{pids:?}");
        let t = tempfile::tempdir().unwrap();
        let pf = t.path().join("x.pid");
        std::fs::write(&pf, format!("{}\n", child.id())).unwrap();
        assert_eq!(
            find_pids(pf.to_str().unwrap()).unwrap(),
            vec![child.id() as i32]
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(find_pids("no-such-process-berth").is_err());
    }

    #[test]
    fn main_processes_are_the_pause_children_other_than_the_sidecar() {
        let proc = tempfile::tempdir().unwrap();
        let add = |pid: i32, comm: &str, ppid: i32| {
            let d = proc.path().join(pid.to_string());
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("comm"), format!("{comm}\n")).unwrap();
            std::fs::write(d.join("stat"), format!("{pid} ({comm}) S {ppid} {pid} 0 0")).unwrap();
        };
        add(1, "init", 0);
        add(7, "nginx", 1);
        assert!(
            main_processes(proc.path(), 9)
                .unwrap_err()
                .contains("shareProcessNamespace")
        );
        add(1, "pause", 0);
        add(8, "nginx: worker) x", 7); // a child of the app: not signalled
        add(9, "berth", 0); // the sidecar itself
        add(10, "validate", 9); // the sidecar's own child
        add(11, "app", 0); // an entrypoint started from outside the namespace
        std::fs::create_dir_all(proc.path().join("self")).unwrap();
        assert_eq!(main_processes(proc.path(), 9).unwrap(), vec![7, 11]);
        assert_eq!(parent_pid(&proc.path().join("8")), Some(7));
    }
}
