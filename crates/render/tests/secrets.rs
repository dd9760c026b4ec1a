//! The secret-delivery objects of each mode, the checksum that rolls pods when a value changes,
//! and that plain values appear nowhere but in their Secret's `data`.

use berth_render::{Object, render};
use berth_spec::{LoadOptions, load_str_with};
use std::path::Path;

const PLAIN_VALUE: &str = "dev-only-value-9c1e";
const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

/// Base64 of a blob shaped like a sealed value (not decryptable; the loader checks the shape only).
fn fake_sealed(fill: u8) -> String {
    let mut blob = vec![0x02, 0x00];
    blob.extend(std::iter::repeat_n(fill, 512 + 16 + 8));
    b64(&blob)
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

const SPEC: &str = "app: todo
version: 1.0.0
services:
  backend: { image: b, port: 8000, secrets: [JWT_SECRET, DB_PASSWORD] }
  web: { image: w, port: 80 }
environments:
  bare: { tier: dev }
  dev: { secrets: { mode: plain, from: .env.dev } }
  staging: { namespace: todo-staging, secrets: { mode: sealed, cert: certs/staging.pem, values: secrets/staging } }
  prod: { namespace: todo, secrets: { mode: external, store: aws-secrets-manager, path: todo/prod, refresh: 30m } }
";

struct Inputs {
    dotenv: String,
    sealed_fill: u8,
    spec: String,
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            dotenv: format!("JWT_SECRET={PLAIN_VALUE}\nDB_PASSWORD=pw\n"),
            sealed_fill: 0x11,
            spec: SPEC.to_owned(),
        }
    }
}

fn objects(inputs: &Inputs, env: &str) -> Vec<Object> {
    let read = |p: &Path| -> std::io::Result<Vec<u8>> {
        let p = p.to_str().unwrap();
        if p == ".env.dev" {
            Ok(inputs.dotenv.as_bytes().to_vec())
        } else if p == "certs/staging.pem" {
            Ok(CERT.as_bytes().to_vec())
        } else if p.starts_with("secrets/staging/backend/") {
            let fill = if p.ends_with("JWT_SECRET") {
                inputs.sealed_fill
            } else {
                0x22
            };
            Ok(fake_sealed(fill).into_bytes())
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    };
    let loaded = load_str_with(
        Path::new("berth.yaml"),
        &inputs.spec,
        &read,
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| {
        panic!(
            "{:?}",
            e.errors.iter().map(|e| e.one_line()).collect::<Vec<_>>()
        )
    });
    render(loaded.app(env).unwrap()).objects
}

fn secret_objects(objs: &[Object]) -> Vec<&Object> {
    objs.iter()
        .filter(|o| {
            matches!(
                o.kind.as_str(),
                "Secret" | "SealedSecret" | "ExternalSecret"
            )
        })
        .collect()
}

fn checksum(objs: &[Object], deployment: &str) -> String {
    let d = objs
        .iter()
        .find(|o| o.kind == "Deployment" && o.name == deployment)
        .unwrap();
    d.body["spec"]["template"]["metadata"]["annotations"]["berth.dev/config-checksum"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn without_a_block_only_references() {
    let objs = objects(&Inputs::default(), "bare");
    assert!(secret_objects(&objs).is_empty());
}

#[test]
fn one_object_per_service_with_secrets_named_like_the_reference() {
    for (env, kind, api) in [
        ("dev", "Secret", "v1"),
        ("staging", "SealedSecret", "bitnami.com/v1alpha1"),
        ("prod", "ExternalSecret", "external-secrets.io/v1"),
    ] {
        let objs = objects(&Inputs::default(), env);
        let secrets = secret_objects(&objs);
        assert_eq!(secrets.len(), 1, "{env}: only backend has secrets");
        let s = secrets[0];
        assert_eq!(
            (s.kind.as_str(), s.api_version.as_str(), s.name.as_str()),
            (kind, api, "backend-secrets")
        );
        assert_eq!(s.body["apiVersion"], api);
        assert_eq!(s.body["kind"], kind);
        // The workload's secretKeyRefs are the same in every mode.
        let d = objs
            .iter()
            .find(|o| o.kind == "Deployment" && o.name == "backend")
            .unwrap();
        let env_vars = d.body["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap();
        let refs: Vec<(&str, &str)> = env_vars
            .iter()
            .filter_map(|e| {
                let r = &e["valueFrom"]["secretKeyRef"];
                Some((r["name"].as_str()?, r["key"].as_str()?))
            })
            .collect();
        assert_eq!(
            refs,
            [
                ("backend-secrets", "JWT_SECRET"),
                ("backend-secrets", "DB_PASSWORD")
            ]
        );
        // Delivered before the Deployment that reads it.
        let pos = |k: &str| objs.iter().position(|o| o.kind == k).unwrap();
        assert!(pos(kind) < pos("Deployment"), "{env}: apply order");
    }
}

#[test]
fn sealed_and_external_snapshots() {
    let staging = objects(&Inputs::default(), "staging");
    let sealed: Vec<_> = secret_objects(&staging)
        .into_iter()
        .map(|o| o.body.clone())
        .collect();
    insta::assert_yaml_snapshot!("sealed-secret", sealed, {
        "[].spec.encryptedData.JWT_SECRET" => "[sealed]",
        "[].spec.encryptedData.DB_PASSWORD" => "[sealed]",
    });
    let prod = objects(&Inputs::default(), "prod");
    let external: Vec<_> = secret_objects(&prod)
        .into_iter()
        .map(|o| o.body.clone())
        .collect();
    insta::assert_yaml_snapshot!("external-secret", external);
    let dev = objects(&Inputs::default(), "dev");
    let plain: Vec<_> = secret_objects(&dev)
        .into_iter()
        .map(|o| o.body.clone())
        .collect();
    insta::assert_yaml_snapshot!("plain-secret", plain, {
        "[].data.JWT_SECRET" => "[base64 value]",
        "[].data.DB_PASSWORD" => "[base64 value]",
    });
}

#[test]
fn sealed_object_carries_the_files_verbatim() {
    let objs = objects(&Inputs::default(), "staging");
    let s = secret_objects(&objs)[0];
    assert_eq!(
        s.body["spec"]["encryptedData"]["JWT_SECRET"],
        fake_sealed(0x11)
    );
    assert_eq!(
        s.body["spec"]["encryptedData"]["DB_PASSWORD"],
        fake_sealed(0x22)
    );
    assert_eq!(s.namespace.as_deref(), Some("todo-staging"));
    // Strict scope: no scope annotation anywhere.
    assert!(s.body["metadata"].get("annotations").is_none());
}

#[test]
fn plain_value_only_in_its_secret_data() {
    let objs = objects(&Inputs::default(), "dev");
    let secret = secret_objects(&objs)[0];
    assert_eq!(
        secret.body["data"]["JWT_SECRET"],
        b64(PLAIN_VALUE.as_bytes())
    );
    for o in &objs {
        let text = serde_json::to_string(&o.body).unwrap();
        assert!(
            !text.contains(PLAIN_VALUE),
            "{} {} holds the plaintext",
            o.kind,
            o.name
        );
        if o.kind != "Secret" {
            assert!(
                !text.contains(&b64(PLAIN_VALUE.as_bytes())),
                "{} {} holds the value",
                o.kind,
                o.name
            );
        }
    }
}

#[test]
fn checksum_rolls_pods_when_a_value_changes() {
    let base = Inputs::default();
    for env in ["dev", "staging", "prod"] {
        assert_eq!(
            checksum(&objects(&base, env), "backend"),
            checksum(&objects(&base, env), "backend"),
            "{env}: deterministic"
        );
    }
    let before = checksum(&objects(&base, "dev"), "backend");
    let changed = Inputs {
        dotenv: "JWT_SECRET=other\nDB_PASSWORD=pw\n".into(),
        ..Default::default()
    };
    assert_ne!(
        before,
        checksum(&objects(&changed, "dev"), "backend"),
        "plain value"
    );
    // Unrelated dotenv lines do not roll anything.
    let extra = Inputs {
        dotenv: format!("JWT_SECRET={PLAIN_VALUE}\nDB_PASSWORD=pw\nUNUSED=1\n"),
        ..Default::default()
    };
    assert_eq!(before, checksum(&objects(&extra, "dev"), "backend"));

    let before = checksum(&objects(&base, "staging"), "backend");
    let resealed = Inputs {
        sealed_fill: 0x33,
        ..Default::default()
    };
    assert_ne!(
        before,
        checksum(&objects(&resealed, "staging"), "backend"),
        "sealed value"
    );

    let before = checksum(&objects(&base, "prod"), "backend");
    let moved = Inputs {
        spec: SPEC.replace("path: todo/prod", "path: todo/prod2"),
        ..Default::default()
    };
    assert_ne!(
        before,
        checksum(&objects(&moved, "prod"), "backend"),
        "external path"
    );

    // Delivery differs from plain references: the checksum of the same service differs by mode.
    assert_ne!(
        checksum(&objects(&base, "bare"), "backend"),
        checksum(&objects(&base, "dev"), "backend")
    );
    // A service without secrets is not affected by the mode.
    assert_eq!(
        checksum(&objects(&base, "bare"), "web"),
        checksum(&objects(&base, "prod"), "web")
    );
}
