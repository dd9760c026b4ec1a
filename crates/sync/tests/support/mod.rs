//! Test harness: local S3 servers (moto, s3s-fs) and the test app, started and stopped by PID on
//! free ports; the sidecar as a process (`berth-sync-harness`); tiny HTTP client; waiting helpers.
#![allow(dead_code)]

use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const AK: &str = "AKIATESTKEY";
pub const SK: &str = "testsecret";

pub fn tools() -> PathBuf {
    std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools"))
}

fn need(path: PathBuf, script: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run `bash {script}` (or scripts/test, which runs every scripts/setup.d/*.sh) with BERTH_TOOLS={}",
        path.display(),
        tools().display()
    );
    path
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_until(what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
    wait_until_or(what, timeout, cond, String::new)
}

/// Like `wait_until`, with more context (logs, status) in the failure message.
pub fn wait_until_or(
    what: &str,
    timeout: Duration,
    mut cond: impl FnMut() -> bool,
    context: impl FnOnce() -> String,
) {
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
}

/// A child process killed (by PID) and reaped on drop.
pub struct Proc {
    pub child: Child,
    pub name: String,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Proc {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Proc {
            child,
            name: name.into(),
        }
    }
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(
                start.elapsed() < timeout,
                "{} did not exit within {timeout:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn wait_port(port: u16, what: &str) {
    wait_until(
        &format!("{what} listening on {port}"),
        Duration::from_secs(60),
        || TcpStream::connect(("127.0.0.1", port)).is_ok(),
    );
}

/// Minimal HTTP/1.0 client: (status, body). Errors are (0, message).
pub fn http(method: &str, port: u16, path: &str) -> (u16, String) {
    let go = || -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
        )?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf)?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let code = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((code, body))
    };
    go().unwrap_or_else(|e| (0, e.to_string()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Moto,
    S3sFs,
}

pub struct S3 {
    pub kind: Kind,
    pub port: u16,
    proc: Option<Proc>,
    pub data: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

impl S3 {
    pub fn start(kind: Kind) -> S3 {
        let mut s = S3 {
            kind,
            port: free_port(),
            proc: None,
            data: tempfile::tempdir().unwrap(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        };
        s.up();
        s
    }

    pub fn up(&mut self) {
        let log = self.data.path().join("server.log");
        let proc = match self.kind {
            Kind::Moto => {
                let bin = need(
                    tools().join("venv/bin/moto_server"),
                    "scripts/setup.d/00-python.sh",
                );
                Proc::spawn(
                    "moto_server",
                    Command::new(bin).args(["-H", "127.0.0.1", "-p", &self.port.to_string()]),
                    &log,
                )
            }
            Kind::S3sFs => {
                let bin = need(tools().join("bin/s3s-fs"), "scripts/setup.d/40-sync.sh");
                let root = self.data.path().join("root");
                std::fs::create_dir_all(&root).unwrap();
                Proc::spawn(
                    "s3s-fs",
                    Command::new(bin)
                        .args([
                            "--host",
                            "127.0.0.1",
                            "--port",
                            &self.port.to_string(),
                            "--access-key",
                            AK,
                            "--secret-key",
                            SK,
                        ])
                        .arg(&root),
                    &log,
                )
            }
        };
        self.proc = Some(proc);
        wait_port(self.port, &format!("{:?}", self.kind));
    }

    /// Stop the server (SIGKILL by PID).
    pub fn down(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT".into(), self.endpoint()),
            ("AWS_ALLOW_HTTP".into(), "true".into()),
            ("AWS_ACCESS_KEY_ID".into(), AK.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), SK.into()),
            ("AWS_REGION".into(), "us-east-1".into()),
        ]
    }

    pub fn create_bucket(&self, bucket: &str) {
        match self.kind {
            Kind::Moto => {
                let (code, body) = http("PUT", self.port, &format!("/{bucket}"));
                assert_eq!(code, 200, "create bucket: {body}");
            }
            Kind::S3sFs => {
                std::fs::create_dir_all(self.data.path().join("root").join(bucket)).unwrap()
            }
        }
    }

    fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        Arc::new(
            object_store::aws::AmazonS3Builder::new()
                .with_endpoint(self.endpoint())
                .with_allow_http(true)
                .with_access_key_id(AK)
                .with_secret_access_key(SK)
                .with_region("us-east-1")
                .with_bucket_name(bucket)
                .build()
                .unwrap(),
        )
    }

    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        let store = self.store(bucket);
        let path = object_store::path::Path::from(key);
        self.rt
            .block_on(store.put(&path, PutPayload::from(body.to_vec())))
            .unwrap();
    }

    pub fn delete(&self, bucket: &str, key: &str) {
        let store = self.store(bucket);
        self.rt
            .block_on(store.delete(&object_store::path::Path::from(key)))
            .unwrap();
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        self.down();
    }
}

/// The test app (tests/support/testapp.py).
pub struct App {
    pub port: u16,
    pub pidfile: PathBuf,
    proc: Option<Proc>,
    root: PathBuf,
    log: PathBuf,
}

impl App {
    pub fn start(root: &Path, dir: &Path) -> App {
        let mut a = App {
            port: free_port(),
            pidfile: dir.join("app.pid"),
            proc: None,
            root: root.to_path_buf(),
            log: dir.join("app.log"),
        };
        a.up();
        a
    }
    pub fn up(&mut self) {
        let _ = std::fs::remove_file(&self.pidfile);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/testapp.py");
        let py = need(
            tools().join("venv/bin/python"),
            "scripts/setup.d/00-python.sh",
        );
        self.proc = Some(Proc::spawn(
            "testapp",
            Command::new(py)
                .arg(script)
                .arg(&self.root)
                .arg(self.port.to_string())
                .arg(&self.pidfile),
            &self.log,
        ));
        wait_port(self.port, "testapp");
        wait_until("app pidfile", Duration::from_secs(10), || {
            self.pidfile.exists()
        });
    }
    pub fn down(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }
    pub fn version(&self) -> String {
        http("GET", self.port, "/version").1
    }
    pub fn reloads(&self) -> u64 {
        let body = http("GET", self.port, "/state").1;
        serde_json::from_str::<serde_json::Value>(&body)
            .map(|v| v["reloads"].as_u64().unwrap_or(0))
            .unwrap_or(0)
    }
}

/// The sidecar process.
pub struct Sidecar {
    pub proc: Proc,
    pub port: u16,
}

pub fn sidecar_bin() -> &'static str {
    env!("CARGO_BIN_EXE_berth-sync-harness")
}

impl Sidecar {
    pub fn start(config: &serde_json::Value, env: &[(String, String)], log: &Path) -> Sidecar {
        let port: u16 = config["listen"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let mut cmd = Command::new(sidecar_bin());
        cmd.env("BERTH_SYNC_CONFIG_JSON", config.to_string());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let proc = Proc::spawn("sidecar", &mut cmd, log);
        Sidecar { proc, port }
    }
    pub fn status(&self) -> serde_json::Value {
        let (code, body) = http("GET", self.port, "/status");
        if code != 200 {
            return serde_json::Value::Null;
        }
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)
    }
    pub fn committed_hash(&self) -> Option<String> {
        self.status()["last_good"]["hash"]
            .as_str()
            .map(String::from)
    }
}

/// The version hash of a set of files, as the sidecar computes it.
pub fn hash_files(files: &[(&str, Vec<u8>)]) -> String {
    let map = files
        .iter()
        .map(|(p, b)| (p.to_string(), berth_sync::hash::sha256_hex(b)))
        .collect();
    berth_sync::hash::version_hash(&map)
}

/// `_manifest.json` for a set of files.
pub fn manifest(files: &[(&str, Vec<u8>)]) -> String {
    let m: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|(p, b)| {
            (
                p.to_string(),
                serde_json::Value::String(berth_sync::hash::sha256_hex(b)),
            )
        })
        .collect();
    serde_json::json!({ "files": m }).to_string()
}
