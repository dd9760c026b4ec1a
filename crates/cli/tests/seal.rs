//! `berth seal` / `berth unseal` through the real binary: round trips, exit codes, the certificate
//! from a URL and from a (fake, loopback) cluster, and proof that no plaintext leaks into stdout,
//! stderr or any file.

use base64::Engine as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Plaintexts: `-` is not in the base64 alphabet, so a marker can only appear if it leaked as is.
const FILE_VALUE: &str = "plaintext-marker-file-7f3a9c";
const ENV_VALUE: &str = "plaintext-marker-env-51be02";
const STDIN_VALUE: &str = "plaintext-marker-stdin-c0ffee";
const MANIFEST_VALUE: &str = "plaintext-marker-manifest-9d1e77";
const MARKERS: [&str; 4] = [FILE_VALUE, ENV_VALUE, STDIN_VALUE, MANIFEST_VALUE];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let tools = std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"));
    let py = tools.join("venv/bin/python");
    assert!(
        py.exists(),
        "{} is missing: run scripts/test (scripts/setup.d/00-python.sh installs scripts/requirements/seal.txt)",
        py.display()
    );
    py
}

/// A test key pair made by the independent Python implementation (test data only).
fn keygen(dir: &Path, extra: &[&str]) {
    let st = Command::new(python())
        .arg(repo().join("crates/seal/tests/oracle/oracle.py"))
        .arg("keygen")
        .arg(dir)
        .args(["--bits", "2048"])
        .args(extra)
        .status()
        .unwrap();
    assert!(st.success());
}

struct Sandbox {
    _root: tempfile::TempDir,
    /// The working directory, $HOME and $TMPDIR of every berth run: scanned for leaks.
    watched: PathBuf,
    /// Test inputs (keys, value files) live outside `watched`.
    inputs: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        let watched = root.path().join("watched");
        let inputs = root.path().join("inputs");
        for d in [watched.join("home"), watched.join("tmp"), inputs.clone()] {
            std::fs::create_dir_all(d).unwrap();
        }
        keygen(&inputs, &[]);
        std::fs::write(inputs.join("value.txt"), FILE_VALUE).unwrap();
        Sandbox {
            _root: root,
            watched,
            inputs,
        }
    }

    fn input(&self, name: &str) -> String {
        self.inputs.join(name).display().to_string()
    }

    fn berth(&self, args: &[&str], stdin: &[u8]) -> Output {
        self.berth_env(args, stdin, &[])
    }

    fn berth_env(&self, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.args(args)
            .current_dir(&self.watched)
            .env("HOME", self.watched.join("home"))
            .env("TMPDIR", self.watched.join("tmp"))
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "1")
            .env_remove("SEALED_SECRETS_CERT")
            .env_remove("KUBECONFIG")
            .env("SEAL_TEST_ENV_VALUE", ENV_VALUE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin);
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// No file under the watched directories holds a plaintext (as is or base64-encoded).
    fn assert_no_file_leaks(&self) {
        let mut stack = vec![self.watched.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let bytes = std::fs::read(&p).unwrap();
                    assert_no_plaintext(&p.display().to_string(), &bytes, true);
                }
            }
        }
    }
}

fn assert_no_plaintext(what: &str, bytes: &[u8], also_base64: bool) {
    let text = String::from_utf8_lossy(bytes);
    for m in MARKERS {
        assert!(
            !text.contains(m),
            "{what} contains the plaintext {m:?}:\n{text}"
        );
        if also_base64 {
            let enc = B64.encode(m);
            assert!(
                !text.contains(&enc[..enc.len() - 4]),
                "{what} contains the base64 of {m:?}:\n{text}"
            );
        }
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_plaintext("stderr", &out.stderr, true);
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn unseal_data(sb: &Sandbox, sealed: &str, key: &str) -> serde_json::Value {
    let out = sb.berth(
        &["unseal", "--private-key", key, "-o", "json"],
        sealed.as_bytes(),
    );
    let stdout = ok(&out);
    // The Secret carries values base64-encoded only; stderr names the key that worked.
    assert_no_plaintext("unseal stdout", stdout.as_bytes(), false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("with key 1 of 1"), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    v["data"].clone()
}

fn decoded(data: &serde_json::Value, key: &str) -> String {
    String::from_utf8(B64.decode(data[key].as_str().unwrap()).unwrap()).unwrap()
}

#[test]
fn seal_and_unseal_every_input_form_without_leaking_plaintext() {
    let sb = Sandbox::new();
    let cert = sb.input("cert.pem");
    let key = sb.input("key.pem");

    // KEY=@file, KEY=env:VAR and KEY=- together.
    let file_arg = format!("password=@{}", sb.input("value.txt"));
    let out = sb.berth(
        &[
            "seal",
            "--cert",
            &cert,
            "-n",
            "prod",
            "--name",
            "db",
            &file_arg,
            "token=env:SEAL_TEST_ENV_VALUE",
            "stdin=-",
        ],
        STDIN_VALUE.as_bytes(),
    );
    let sealed = ok(&out);
    assert_no_plaintext("seal stdout", sealed.as_bytes(), true);
    assert!(
        sealed.starts_with("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"),
        "{sealed}"
    );
    let data = unseal_data(&sb, &sealed, &key);
    assert_eq!(decoded(&data, "password"), FILE_VALUE);
    assert_eq!(decoded(&data, "token"), ENV_VALUE);
    assert_eq!(decoded(&data, "stdin"), STDIN_VALUE);

    // A plain Secret manifest on stdin (the kubectl --dry-run habit), JSON out, namespace-wide.
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\n  creationTimestamp: null\nstringData:\n  key: {MANIFEST_VALUE}\n"
    );
    let out = sb.berth(
        &[
            "seal",
            "--cert",
            &cert,
            "-n",
            "prod",
            "--scope",
            "namespace-wide",
            "-o",
            "json",
        ],
        manifest.as_bytes(),
    );
    let sealed = ok(&out);
    assert_no_plaintext("seal stdout", sealed.as_bytes(), true);
    let v: serde_json::Value = serde_json::from_str(&sealed).unwrap();
    assert_eq!(
        v["metadata"]["annotations"]["sealedsecrets.bitnami.com/namespace-wide"],
        "true"
    );
    assert_eq!(
        decoded(&unseal_data(&sb, &sealed, &key), "key"),
        MANIFEST_VALUE
    );

    // The same manifest from -f, via SEALED_SECRETS_CERT.
    std::fs::write(sb.inputs.join("secret.yaml"), &manifest).unwrap();
    let out = sb.berth_env(
        &["seal", "-n", "prod", "-f", &sb.input("secret.yaml")],
        b"",
        &[("SEALED_SECRETS_CERT", &cert)],
    );
    let sealed = ok(&out);
    assert_eq!(
        decoded(&unseal_data(&sb, &sealed, &key), "key"),
        MANIFEST_VALUE
    );

    // --raw prints only the base64 ciphertext.
    let out = sb.berth(
        &[
            "seal",
            "--raw",
            "--cert",
            &cert,
            "--scope",
            "cluster-wide",
            "-",
        ],
        STDIN_VALUE.as_bytes(),
    );
    let raw = ok(&out);
    assert_no_plaintext("raw stdout", raw.as_bytes(), true);
    assert_eq!(raw.lines().count(), 1);
    let wrapped = format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: any\n  namespace: any\n  annotations: {{sealedsecrets.bitnami.com/cluster-wide: \"true\"}}\nspec:\n  encryptedData:\n    v: {}",
        raw.trim()
    );
    assert_eq!(decoded(&unseal_data(&sb, &wrapped, &key), "v"), STDIN_VALUE);

    sb.assert_no_file_leaks();
    assert_eq!(
        std::fs::read_dir(sb.watched.join("tmp")).unwrap().count(),
        0,
        "no temp files"
    );
}

fn assert_bad_input(out: &Output, expect: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(expect), "expected {expect:?} in:\n{stderr}");
    assert!(out.stdout.is_empty());
    assert_no_plaintext("stderr", &out.stderr, true);
}

#[test]
fn bad_input_exits_2_and_never_echoes_a_value() {
    let sb = Sandbox::new();
    let cert = sb.input("cert.pem");
    let literal = format!("password={FILE_VALUE}");
    assert_bad_input(
        &sb.berth(
            &["seal", "--cert", &cert, "-n", "a", "--name", "b", &literal],
            b"",
        ),
        "literal value is refused",
    );
    assert_bad_input(
        &sb.berth(
            &[
                "seal", "--cert", &cert, "-n", "a", "--name", "b", FILE_VALUE,
            ],
            b"",
        ),
        "argument 1",
    );
    assert_bad_input(
        &sb.berth(
            &[
                "seal",
                "--cert",
                &sb.input("key.pem"),
                "-n",
                "a",
                "--name",
                "b",
                "k=-",
            ],
            STDIN_VALUE.as_bytes(),
        ),
        "no CERTIFICATE block",
    );
    assert_bad_input(
        &sb.berth(
            &["seal", "--cert", &cert, "--name", "b", "k=-"],
            STDIN_VALUE.as_bytes(),
        ),
        "needs a namespace",
    );
    assert_bad_input(
        &sb.berth(
            &[
                "seal",
                "--cert",
                &cert,
                "-n",
                "a",
                "--name",
                "b",
                "k=env:SEAL_TEST_SURELY_UNSET",
            ],
            b"",
        ),
        "SEAL_TEST_SURELY_UNSET",
    );
    for manifest in [
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: x}}\ndata: {MANIFEST_VALUE}\n"),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: x}}\ndata: {{k: \"{MANIFEST_VALUE}\"}}\n"
        ),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: x}}\nstringData: {{k: [{MANIFEST_VALUE}}}\n"
        ),
    ] {
        assert_bad_input(
            &sb.berth(&["seal", "--cert", &cert, "-n", "a"], manifest.as_bytes()),
            "not a Secret manifest",
        );
    }
    let expired = sb.inputs.join("expired");
    keygen(&expired, &["--expired"]);
    assert_bad_input(
        &sb.berth(
            &[
                "seal",
                "--cert",
                expired.join("cert.pem").to_str().unwrap(),
                "-n",
                "a",
                "--name",
                "b",
                "k=-",
            ],
            STDIN_VALUE.as_bytes(),
        ),
        "expired on",
    );

    // A key that does not fit: exit 1, the label in the message, no value.
    let sealed = ok(&sb.berth(
        &["seal", "--cert", &cert, "-n", "a", "--name", "b", "k=-"],
        STDIN_VALUE.as_bytes(),
    ));
    let other = sb.inputs.join("other");
    keygen(&other, &[]);
    let out = sb.berth(
        &[
            "unseal",
            "--private-key",
            other.join("key.pem").to_str().unwrap(),
        ],
        sealed.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no private key could decrypt") && stderr.contains("\"a/b\""),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert_no_plaintext("stderr", &out.stderr, true);
    // Both keys: the second one works and is named.
    let keys = format!(
        "{},{}",
        other.join("key.pem").display(),
        sb.input("key.pem")
    );
    let out = sb.berth(&["unseal", "--private-key", &keys], sealed.as_bytes());
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("with key 2 of 2"));
    sb.assert_no_file_leaks();
}

/// A loopback HTTP server that plays the API server (service lookup + service proxy) and a plain
/// certificate URL. Serves at most `max` connections, then stops.
fn fake_cluster(cert_pem: String, max: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for stream in listener.incoming().take(max) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
                if h.to_ascii_lowercase().starts_with("authorization:") {
                    auth = h.trim().to_string();
                }
            }
            let (status, body) = match path.as_str() {
                "/cert.pem" => ("200 OK", cert_pem.clone()),
                "/api/v1/namespaces/sealing/services/sealer" if auth.ends_with("Bearer test-token") => (
                    "200 OK",
                    r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"sealer","namespace":"sealing"},"spec":{"ports":[{"name":"http","port":8080}]}}"#.to_string(),
                ),
                "/api/v1/namespaces/sealing/services/http:sealer:http/proxy/v1/cert.pem" => ("200 OK", cert_pem.clone()),
                _ => ("404 Not Found", r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"not found"}"#.to_string()),
            };
            seen.push(path);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.flush();
            let mut rest = Vec::new();
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(50)));
            let _ = stream.read_to_end(&mut rest);
        }
        seen
    });
    (base, handle)
}

#[test]
fn the_certificate_comes_from_a_url_or_the_cluster_service_proxy() {
    let sb = Sandbox::new();
    let pem = std::fs::read_to_string(sb.inputs.join("cert.pem")).unwrap();
    let (base, server) = fake_cluster(pem.clone(), 5);
    let kubeconfig = sb.inputs.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: \"{base}\"}}\nusers:\n- name: u\n  user: {{token: test-token}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: u}}\n- name: other\n  context: {{cluster: nowhere, user: u}}\ncurrent-context: other\n"
        ),
    )
    .unwrap();
    let cluster = [
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--context",
        "fake",
        "--controller-name",
        "sealer",
        "--controller-namespace",
        "sealing",
    ];
    let mut args = vec!["seal", "--fetch-cert"];
    args.extend_from_slice(&cluster);
    assert_eq!(ok(&sb.berth(&args, b"")), pem);

    let mut args = vec!["seal", "-n", "prod", "--name", "db", "k=-"];
    args.extend_from_slice(&cluster);
    let out = sb.berth(&args, STDIN_VALUE.as_bytes());
    let sealed = ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("service sealing/sealer in the cluster"));
    assert_eq!(
        decoded(&unseal_data(&sb, &sealed, &sb.input("key.pem")), "k"),
        STDIN_VALUE
    );

    let url = format!("{base}/cert.pem");
    assert_eq!(
        ok(&sb.berth(&["seal", "--fetch-cert", "--cert", &url], b"")),
        pem
    );
    let seen = server.join().unwrap();
    assert!(
        seen.contains(
            &"/api/v1/namespaces/sealing/services/http:sealer:http/proxy/v1/cert.pem".to_string()
        ),
        "{seen:?}"
    );

    // No cluster reachable: exit 1 with a hint, not a panic.
    let out = sb.berth(
        &[
            "seal",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "-n",
            "a",
            "--name",
            "b",
            "k=-",
        ],
        b"x",
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot fetch the sealing certificate"));
    sb.assert_no_file_leaks();
}
