//! Real servers on loopback for the data-tier tests: tools from scripts/setup.d/50-data.sh,
//! processes run as the unprivileged `berthdata` user (PostgreSQL refuses root), every process
//! stopped by PID when the test ends. Configuration comes from what berth renders.
#![allow(dead_code)]

use berth_render::{Object, Rendered};
use serde_json::Value;
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const SETUP: &str = "scripts/setup.d/50-data.sh";

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn tools() -> PathBuf {
    std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"))
}

/// A tool from `.tools/bin`; a missing one fails the test, naming the setup script.
pub(crate) fn tool(name: &str) -> PathBuf {
    let p = tools().join("bin").join(name);
    assert!(
        p.exists(),
        "`{name}` is missing from {}: run `BERTH_TOOLS={} bash {SETUP}` (as root)",
        tools().join("bin").display(),
        tools().display()
    );
    p
}

pub(crate) fn moto() -> PathBuf {
    let p = tools().join("venv/bin/moto_server");
    assert!(
        p.exists(),
        "moto_server is missing: run scripts/setup.d/00-python.sh (scripts/requirements/data.txt)"
    );
    p
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn ids() -> Option<(String, String)> {
    if !is_root() {
        return None;
    }
    let id = |flag: &str| {
        let o = Command::new("id")
            .args([flag, "berthdata"])
            .output()
            .expect("id");
        assert!(o.status.success(), "user berthdata is missing: run {SETUP}");
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    };
    Some((id("-u"), id("-g")))
}

/// A command that runs as `berthdata` when the tests run as root (PostgreSQL refuses root).
pub(crate) fn cmd(program: &Path) -> Command {
    let mut c = match ids() {
        Some((u, g)) => {
            let mut c = Command::new("setpriv");
            c.args([
                format!("--reuid={u}"),
                format!("--regid={g}"),
                "--clear-groups".into(),
                "--".into(),
            ]);
            c.arg(program);
            c
        }
        None => Command::new(program),
    };
    c.env(
        "PATH",
        format!(
            "{}:/usr/lib/postgresql/15/bin:/usr/bin:/bin",
            tools().join("bin").display()
        ),
    );
    c.env("HOME", "/tmp");
    c
}

/// A scratch directory the servers may write, removed when the test ends. A failing test keeps its
/// top-level `*.log` files for reading and drops the data (WAL and data directories fill a CI disk).
pub(crate) struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
            return;
        }
        for e in std::fs::read_dir(&self.0).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(&p);
            } else if p.extension().is_none_or(|x| x != "log") {
                let _ = std::fs::remove_file(&p);
            }
        }
        eprintln!("logs kept in {}", self.0.display());
    }
}

pub(crate) fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("berth-data-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    if ids().is_some() {
        assert!(
            Command::new("chown")
                .args(["berthdata:berthdata"])
                .arg(&d)
                .status()
                .unwrap()
                .success()
        );
    }
    Scratch(d)
}

pub(crate) fn mkdir(p: &Path) -> PathBuf {
    std::fs::create_dir_all(p).unwrap();
    if ids().is_some() {
        Command::new("chown")
            .args(["-R", "berthdata:berthdata"])
            .arg(p)
            .status()
            .unwrap();
    }
    p.to_owned()
}

pub(crate) fn write(p: &Path, text: &str) {
    std::fs::write(p, text).unwrap();
    if ids().is_some() {
        Command::new("chown")
            .args(["berthdata:berthdata"])
            .arg(p)
            .status()
            .unwrap();
    }
}

/// Processes started by a test, stopped by PID (and the postmasters of `data_dirs`) at the end.
#[derive(Default)]
pub(crate) struct Procs {
    pub(crate) children: Vec<(String, Child)>,
    pub(crate) data_dirs: Vec<PathBuf>,
    pub(crate) pids: Vec<u32>,
}

impl Procs {
    pub(crate) fn spawn(&mut self, name: &str, mut c: Command, log: &Path) -> u32 {
        let f = std::fs::File::create(log).unwrap();
        c.stdout(f.try_clone().unwrap())
            .stderr(f)
            .stdin(Stdio::null());
        let child = c
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let pid = child.id();
        self.children.push((name.to_owned(), child));
        pid
    }
}

pub(crate) fn kill(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status();
}

pub(crate) fn postmaster_pid(data: &Path) -> Option<u32> {
    std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

impl Drop for Procs {
    fn drop(&mut self) {
        for d in &self.data_dirs {
            if let Some(pid) = postmaster_pid(d) {
                kill(pid, "KILL");
            }
        }
        for pid in &self.pids {
            kill(*pid, "KILL");
        }
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub(crate) fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

pub(crate) fn run(mut c: Command) -> Output {
    c.stdin(Stdio::null());
    c.output().expect("spawn")
}

pub(crate) fn ok(c: Command, what: &str) -> String {
    let o = run(c);
    assert!(
        o.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `psql -tAc SQL` against 127.0.0.1:port.
pub(crate) fn psql(port: u16, user: &str, pw: &str, db: &str, sql: &str) -> Result<String, String> {
    let mut c = Command::new(tool("psql"));
    c.args([
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-tA",
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-U",
        user,
        "-d",
        db,
        "-c",
        sql,
    ]);
    c.env("PGPASSWORD", pw).env("PGCONNECT_TIMEOUT", "3");
    let o = run(c);
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).trim().to_owned())
    }
}

// ---- the rendered objects ----

pub(crate) fn load(spec: &str, env: &str) -> Rendered {
    let loaded = berth_spec::load_str(Path::new("berth.yaml"), spec, &|_| Ok(Vec::new()))
        .unwrap_or_else(|e| panic!("spec: {e:?}"));
    berth_render::render(loaded.app(env).expect("env"))
}

pub(crate) fn object<'a>(r: &'a Rendered, kind: &str, name: &str) -> &'a Object {
    r.objects
        .iter()
        .find(|o| o.kind == kind && o.name == name)
        .unwrap_or_else(|| panic!("berth rendered no {kind} {name}"))
}

pub(crate) fn config(r: &Rendered, map: &str, key: &str) -> String {
    object(r, "ConfigMap", map).body["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("ConfigMap {map} has no {key}"))
        .to_owned()
}

/// Writes every key of a rendered ConfigMap into `dir` (what a volume mount would show).
pub(crate) fn mount_config(r: &Rendered, map: &str, dir: &Path) -> PathBuf {
    mkdir(dir);
    for (k, v) in object(r, "ConfigMap", map).body["data"]
        .as_object()
        .unwrap()
    {
        write(&dir.join(k), v.as_str().unwrap());
    }
    dir.to_owned()
}

/// A container's env as Kubernetes would build it: values, `secretKeyRef`s from `secrets`
/// (Secret name → key → value), and `$(VAR)` references to earlier variables.
pub(crate) fn container_env(c: &Value, secrets: &HashMap<&str, &str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for e in c["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().unwrap().to_owned();
        let value = if let Some(v) = e["value"].as_str() {
            let mut s = String::new();
            let mut rest = v;
            while let Some(i) = rest.find("$(") {
                s.push_str(&rest[..i]);
                let end = rest[i..].find(')').map(|j| i + j).unwrap();
                let var = &rest[i + 2..end];
                match out.iter().find(|(k, _)| k == var) {
                    Some((_, val)) => s.push_str(val),
                    None => s.push_str(&rest[i..=end]),
                }
                rest = &rest[end + 1..];
            }
            s.push_str(rest);
            s
        } else if let Some(r) = e["valueFrom"]["secretKeyRef"].as_object() {
            let key = format!(
                "{}/{}",
                r["name"].as_str().unwrap(),
                r["key"].as_str().unwrap()
            );
            secrets
                .get(key.as_str())
                .unwrap_or_else(|| panic!("no test value for Secret key {key}"))
                .to_string()
        } else {
            continue;
        };
        out.retain(|(k, _)| *k != name);
        out.push((name, value));
    }
    out
}

/// Replaces in-cluster addresses (`db:5432`, `PGHOST=db`) with loopback ones.
pub(crate) fn place(env: &mut [(String, String)], addrs: &[(&str, u16, u16)]) {
    for (k, v) in env.iter_mut() {
        for (host, port, local) in addrs {
            *v = v.replace(&format!("@{host}:{port}/"), &format!("@127.0.0.1:{local}/"));
            if k == "PGHOST" && v == host {
                *v = "127.0.0.1".into();
            }
        }
    }
    let on_loopback = env.iter().any(|(k, v)| k == "PGHOST" && v == "127.0.0.1");
    if on_loopback {
        for (_, port, local) in addrs {
            if let Some(p) = env
                .iter_mut()
                .find(|(k, v)| k == "PGPORT" && *v == port.to_string())
            {
                p.1 = local.to_string();
            }
        }
    }
}

pub(crate) fn annotation<'a>(o: &'a Object, key: &str) -> Option<&'a str> {
    o.body["metadata"]["annotations"][key].as_str()
}
