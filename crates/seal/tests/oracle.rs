//! Compatibility evidence from code that is not berth's: the Python `cryptography` package (OpenSSL)
//! decrypts what berth seals, and berth unseals what it encrypts. Keys and certificates are made by
//! the same script (including PKCS#1 keys and an expired certificate).

mod support;

use berth_seal::object::SealedSecret;
use berth_seal::unseal::{parse_private_keys, unseal};
use berth_seal::{Scope, SealError, SealingCert, seal_value};
use std::time::SystemTime;
use support::{hex, noise, oracle_keygen, run_oracle};

fn cert_of(dir: &std::path::Path) -> SealingCert {
    let pem = std::fs::read(dir.join("cert.pem")).unwrap();
    let cert = SealingCert::from_pem(&pem, "cert.pem").unwrap();
    cert.ensure_valid_at(SystemTime::now()).unwrap();
    cert
}

#[test]
fn python_decrypts_what_berth_seals() {
    let dir = oracle_keygen(&["--bits", "4096"]);
    let cert = cert_of(dir.path());
    assert_eq!(cert.key_bits(), 4096);
    let key = dir.path().join("key.pem");
    let cases: [(Scope, &str); 3] = [
        (Scope::Strict, "prod/db"),
        (Scope::NamespaceWide, "prod"),
        (Scope::ClusterWide, ""),
    ];
    for (scope, label) in cases {
        for value in [
            Vec::new(),
            b"s3cr3t".to_vec(),
            (0..=255u8).collect(),
            noise(1 << 20, 7),
        ] {
            let sealed = seal_value(&cert, scope, "prod", "db", &value).unwrap();
            let out = run_oracle(
                &["decrypt", key.to_str().unwrap(), label],
                sealed.as_bytes(),
            );
            assert_eq!(out.trim(), hex(&value), "{scope}, {} bytes", value.len());
        }
        // The wrong label must not decrypt in the independent implementation either.
        let sealed = seal_value(&cert, scope, "prod", "db", b"x").unwrap();
        let wrong = if label == "prod" { "prod/db" } else { "prod" };
        let status = std::process::Command::new(support::python())
            .arg(support::oracle())
            .args(["decrypt", key.to_str().unwrap(), wrong])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(sealed.as_bytes())?;
                c.wait()
            })
            .unwrap();
        assert!(!status.success(), "{scope}: label {wrong:?} must fail");
    }
}

#[test]
fn berth_unseals_what_python_encrypts_with_pkcs1_and_pkcs8_keys() {
    for flags in [&["--bits", "2048"][..], &["--bits", "2048", "--pkcs1"][..]] {
        let dir = oracle_keygen(flags);
        let key_pem = std::fs::read(dir.path().join("key.pem")).unwrap();
        let keys = parse_private_keys(&key_pem, "key.pem").unwrap();
        let plain = dir.path().join("plain.bin");
        let value: Vec<u8> = (0..=255u8).chain(b"tail".iter().copied()).collect();
        std::fs::write(&plain, &value).unwrap();
        for (scope, annotation, label) in [
            (Scope::Strict, "", "prod/db"),
            (
                Scope::NamespaceWide,
                "sealedsecrets.bitnami.com/namespace-wide",
                "prod",
            ),
            (
                Scope::ClusterWide,
                "sealedsecrets.bitnami.com/cluster-wide",
                "",
            ),
        ] {
            let b64 = run_oracle(
                &[
                    "encrypt",
                    dir.path().join("cert.pem").to_str().unwrap(),
                    label,
                    plain.to_str().unwrap(),
                ],
                b"",
            );
            let annotations = if annotation.is_empty() {
                String::new()
            } else {
                format!("  annotations:\n    {annotation}: \"true\"\n")
            };
            let yaml = format!(
                "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: prod\n{annotations}spec:\n  encryptedData:\n    v: {}\n  template:\n    type: Opaque\n",
                b64.trim()
            );
            let ss = SealedSecret::parse(&yaml, "python").unwrap();
            assert_eq!(ss.scope(), scope);
            let out = unseal(&ss, &keys).unwrap_or_else(|e| panic!("{flags:?} {scope}: {e}"));
            assert_eq!(&out.data["v"][..], &value[..]);
        }
    }
}

#[test]
fn an_expired_certificate_is_refused_with_its_date() {
    let dir = oracle_keygen(&["--bits", "2048", "--expired"]);
    let pem = std::fs::read(dir.path().join("cert.pem")).unwrap();
    let cert = SealingCert::from_pem(&pem, "old.pem").unwrap();
    let e = cert.ensure_valid_at(SystemTime::now()).unwrap_err();
    assert!(matches!(e, SealError::ExpiredCert { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("old.pem") && msg.contains("expired on 20"),
        "{msg}"
    );
    assert!(e.is_bad_input());
    // Valid certificates are accepted until notAfter and refused after it.
    let dir = oracle_keygen(&["--bits", "2048"]);
    let cert = cert_of(dir.path());
    let later = SystemTime::now() + std::time::Duration::from_secs(11 * 366 * 86400);
    assert!(matches!(
        cert.ensure_valid_at(later),
        Err(SealError::ExpiredCert { .. })
    ));
}

#[test]
fn only_the_first_certificate_of_a_bundle_is_used() {
    let a = oracle_keygen(&["--bits", "2048"]);
    let b = oracle_keygen(&["--bits", "2048"]);
    let bundle = [
        std::fs::read(a.path().join("cert.pem")).unwrap(),
        std::fs::read(b.path().join("cert.pem")).unwrap(),
    ]
    .concat();
    let cert = SealingCert::from_pem(&bundle, "bundle").unwrap();
    let sealed = seal_value(&cert, Scope::ClusterWide, "", "", b"first").unwrap();
    let out = run_oracle(
        &["decrypt", a.path().join("key.pem").to_str().unwrap(), ""],
        sealed.as_bytes(),
    );
    assert_eq!(out.trim(), hex(b"first"));
}
