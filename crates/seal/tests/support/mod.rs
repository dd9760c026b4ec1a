//! Helpers shared by the integration tests: test keys, and the external tools under $BERTH_TOOLS.
#![allow(dead_code)]

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeySize, PrivateDecryptingKey};
use berth_seal::{RecoveryKey, SealingCert, pem};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A fresh key pair: the sealing side (a bare public key) and the recovery side.
pub(crate) fn keypair(size: KeySize) -> (SealingCert, RecoveryKey, PrivateDecryptingKey) {
    let k = PrivateDecryptingKey::generate(size).unwrap();
    let pub_pem = pem::encode("PUBLIC KEY", k.public_key().as_der().unwrap().as_ref());
    let cert = SealingCert::from_pem(pub_pem.as_bytes(), "test key").unwrap();
    let rk = RecoveryKey::from_pkcs8(k.as_der().unwrap().as_ref(), "test key").unwrap();
    (cert, rk, k)
}

pub(crate) fn pkcs8_pem(k: &PrivateDecryptingKey) -> String {
    pem::encode("PRIVATE KEY", k.as_der().unwrap().as_ref())
}

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub(crate) fn tools() -> PathBuf {
    std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"))
}

/// `$BERTH_TOOLS/venv/bin/python` with `cryptography`, or a failure naming the setup step.
pub(crate) fn python() -> PathBuf {
    let py = tools().join("venv/bin/python");
    let ok = py.exists()
        && Command::new(&py)
            .args(["-c", "import cryptography"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
    assert!(
        ok,
        "{} with the `cryptography` package is missing: run scripts/test (or BERTH_TOOLS={} bash scripts/setup.d/00-python.sh), which installs scripts/requirements/seal.txt",
        py.display(),
        tools().display()
    );
    py
}

pub(crate) fn oracle() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/oracle.py")
}

/// Runs the Python oracle; panics with its stderr on failure.
pub(crate) fn run_oracle(args: &[&str], stdin: &[u8]) -> String {
    let mut child = Command::new(python())
        .arg(oracle())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "oracle.py {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A key, certificate and public key made by the Python oracle in a temporary directory.
pub(crate) fn oracle_keygen(extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["keygen", dir.path().to_str().unwrap()];
    args.extend_from_slice(extra);
    run_oracle(&args, b"");
    dir
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deterministic pseudo-random bytes (xorshift), for large test values.
pub(crate) fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
