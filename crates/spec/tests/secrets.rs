//! The `secrets:` block of an environment: what each mode resolves to, and every bad input with
//! its message and the exact line and column it points at (computed here from the text).

mod common;

use berth_spec::{LoadOptions, SecretDelivery, SpecError, StoreKind, load_str_with};
use std::collections::HashMap;
use std::path::Path;

/// A sealed value of the right shape (2-byte length 512, RSA block, GCM part); never decrypted here.
fn fake_sealed() -> String {
    use base64_like::encode;
    let mut blob = vec![0x02, 0x00];
    blob.extend(std::iter::repeat_n(0x5au8, 512 + 16 + 8));
    encode(&blob)
}

mod base64_like {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    pub(crate) fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const DEV_VALUE: &str = "dev-only-not-a-secret-7f3a";

fn files() -> HashMap<String, Vec<u8>> {
    let mut f = HashMap::new();
    f.insert(
        ".env.dev".to_owned(),
        format!("# dev only\nJWT_SECRET={DEV_VALUE}\nDB_PASSWORD='pw with # hash'\n").into_bytes(),
    );
    f.insert("certs/staging.pem".to_owned(), CERT.as_bytes().to_vec());
    f.insert(
        "secrets/staging/backend/JWT_SECRET".to_owned(),
        format!("{}\n", fake_sealed()).into_bytes(),
    );
    f.insert(
        "secrets/staging/backend/DB_PASSWORD".to_owned(),
        fake_sealed().into_bytes(),
    );
    f.insert(
        "secrets/staging/worker/JWT_SECRET".to_owned(),
        b"plaintext-by-mistake".to_vec(),
    );
    f
}

fn load(text: &str, options: LoadOptions) -> Result<berth_spec::Loaded, Vec<SpecError>> {
    let files = files();
    let read = move |p: &Path| {
        files.get(p.to_str().unwrap()).cloned().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory")
        })
    };
    load_str_with(Path::new("berth.yaml"), text, &read, &options).map_err(|e| e.errors)
}

fn errors(text: &str) -> Vec<SpecError> {
    match load(text, LoadOptions::default()) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e,
    }
}

#[track_caller]
fn expect_one(text: &str, message: &str, needle: &str, nth: usize) -> SpecError {
    let e = common::one_at(&errors(text), text, message, needle, nth);
    assert!(
        !e.one_line().contains(DEV_VALUE) && !e.one_line().contains("plaintext-by-mistake"),
        "an error shows a value: {}",
        e.one_line()
    );
    e
}

const BASE: &str = "app: todo\nversion: 1.0.0\nservices:\n  backend: { image: b, port: 80, secrets: [JWT_SECRET, DB_PASSWORD] }\n  web: { image: w, port: 80 }\nenvironments:\n";

#[test]
fn no_block_means_references_only() {
    let loaded = load(&format!("{BASE}  dev: {{}}\n"), LoadOptions::default()).unwrap();
    assert_eq!(loaded.apps[0].secrets, SecretDelivery::References);
}

#[test]
fn plain_reads_the_dotenv_file() {
    let loaded = load(
        &format!("{BASE}  dev: {{ secrets: {{ mode: plain, from: .env.dev }} }}\n"),
        LoadOptions::default(),
    )
    .unwrap();
    let SecretDelivery::Plain(plain) = &loaded.apps[0].secrets else {
        panic!("not plain")
    };
    assert_eq!(plain.from, ".env.dev");
    assert_eq!(plain.services.len(), 1, "only services with secrets");
    let backend = &plain.services["backend"];
    assert_eq!(backend[0].0, "JWT_SECRET");
    assert_eq!(
        backend[0].1.as_ref().unwrap().expose(),
        DEV_VALUE.as_bytes()
    );
    assert_eq!(backend[1].1.as_ref().unwrap().expose(), b"pw with # hash");
    // The App's Debug (used in test failures and logs) never shows a value.
    let debug = format!("{:?}", loaded.apps[0]);
    assert!(!debug.contains(DEV_VALUE), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
}

#[test]
fn sealed_reads_the_cert_and_the_sealed_files() {
    let loaded = load(
        &format!("{BASE}  staging: {{ secrets: {{ mode: sealed, cert: certs/staging.pem, values: secrets/staging/ }} }}\n"),
        LoadOptions::default(),
    )
    .unwrap();
    let SecretDelivery::Sealed(sealed) = &loaded.apps[0].secrets else {
        panic!("not sealed")
    };
    assert_eq!(sealed.cert_pem, CERT.as_bytes());
    let backend = &sealed.services["backend"];
    assert_eq!(
        backend[0].1.as_deref(),
        Some(fake_sealed().as_str()),
        "trimmed"
    );
    assert_eq!(
        sealed.value_path("backend", "JWT_SECRET"),
        Path::new("secrets/staging/backend/JWT_SECRET")
    );
}

#[test]
fn external_defaults_and_settings() {
    let loaded = load(
        &format!("{BASE}  prod: {{ secrets: {{ mode: external, store: aws-secrets-manager, path: todo/prod/ }} }}\n  prod2: {{ tier: prod, secrets: {{ mode: external, store: vault, storeKind: SecretStore, path: x, refresh: 15m }} }}\n"),
        LoadOptions::default(),
    )
    .unwrap();
    let SecretDelivery::External(ext) = &loaded.apps[0].secrets else {
        panic!("not external")
    };
    assert_eq!(ext.store, "aws-secrets-manager");
    assert_eq!(ext.store_kind, StoreKind::ClusterSecretStore);
    assert_eq!(ext.refresh, "1h");
    assert_eq!(ext.remote_key("backend"), "todo/prod/backend");
    assert_eq!(ext.services["backend"], ["JWT_SECRET", "DB_PASSWORD"]);
    let SecretDelivery::External(ext) = &loaded.apps[1].secrets else {
        panic!("not external")
    };
    assert_eq!(ext.store_kind, StoreKind::SecretStore);
    assert_eq!(ext.refresh, "15m");
}

#[test]
fn plain_is_refused_outside_dev_unless_allowed() {
    let text = format!("{BASE}  prod: {{ secrets: {{ mode: plain, from: .env.dev }} }}\n");
    let e = expect_one(&text, "is tier prod: `mode: plain`", "plain", 0);
    assert_eq!(e.path, "environments.prod.secrets.mode");
    assert!(e.help.unwrap().contains("--allow-plain-secrets"));
    let staging = format!("{BASE}  qa: {{ secrets: {{ mode: plain, from: .env.dev }} }}\n");
    expect_one(&staging, "is tier staging", "plain", 0);
    let allowed = LoadOptions {
        allow_plain_secrets: true,
        ..Default::default()
    };
    assert!(load(&text, allowed).is_ok());
}

#[test]
fn plain_missing_key_names_key_and_file() {
    let text = format!("{BASE}  dev: {{ secrets: {{ mode: plain, from: .env.dev }} }}\n")
        .replace("DB_PASSWORD]", "DB_PASSWORD, API_KEY]");
    let e = expect_one(
        &text,
        "`.env.dev` has no value for `API_KEY` (a secret of service `backend`)",
        ".env.dev",
        0,
    );
    assert_eq!(e.path, "environments.dev.secrets.from");
}

#[test]
fn plain_missing_file() {
    let text = format!("{BASE}  dev: {{ secrets: {{ mode: plain, from: .env.local }} }}\n");
    expect_one(
        &text,
        "cannot read the dotenv file `.env.local`",
        ".env.local",
        0,
    );
}

#[test]
fn plain_needs_from() {
    let text = format!("{BASE}  dev: {{ secrets: {{ mode: plain }} }}\n");
    let e = expect_one(&text, "`mode: plain` needs `from`", "{ mode", 0);
    assert_eq!(e.help.as_deref(), Some("add `from: .env.dev`"));
}

#[test]
fn keys_of_another_mode() {
    let text = format!(
        "{BASE}  dev: {{ secrets: {{ mode: plain, from: .env.dev, store: aws-secrets-manager }} }}\n"
    );
    let e = expect_one(
        &text,
        "`store` belongs to `mode: external`, but this environment uses `mode: plain`",
        "aws-secrets-manager",
        0,
    );
    assert_eq!(e.path, "environments.dev.secrets.store");
}

#[test]
fn unknown_mode_and_key_are_spelled_out() {
    let text = format!("{BASE}  dev: {{ secrets: {{ mode: seald, from: .env.dev }} }}\n");
    let e = expect_one(&text, "unknown value `seald`", "seald", 0);
    assert!(e.help.unwrap().contains("sealed"));
    let text = format!("{BASE}  dev: {{ secrets: {{ mode: plain, form: .env.dev }} }}\n");
    let e = expect_one(&text, "unknown key `form`", "form", 0);
    assert!(e.help.unwrap().contains("from"));
    let text = format!("{BASE}  dev: {{ secrets: {{ from: .env.dev }} }}\n");
    expect_one(&text, "missing required key `mode`", "{ from", 0);
}

#[test]
fn sealed_missing_file_says_which_command_to_run() {
    let text = format!(
        "{BASE}  staging: {{ secrets: {{ mode: sealed, cert: certs/staging.pem, values: secrets/staging }} }}\n"
    )
    .replace("web: { image: w, port: 80 }", "web: { image: w, port: 80, secrets: [SESSION_KEY] }");
    let e = expect_one(
        &text,
        "no sealed value for `SESSION_KEY` of service `web`: `secrets/staging/web/SESSION_KEY` does not exist",
        "secrets/staging",
        0,
    );
    assert!(
        e.help
            .unwrap()
            .contains("`berth secret set staging web SESSION_KEY`")
    );
    // With the values optional (`berth secret set|list`), it resolves to None.
    let loaded = load(
        &text,
        LoadOptions {
            secret_values_optional: true,
            ..Default::default()
        },
    )
    .unwrap();
    let SecretDelivery::Sealed(sealed) = &loaded.apps[0].secrets else {
        panic!()
    };
    assert_eq!(sealed.services["web"][0].1, None);
}

#[test]
fn sealed_file_holding_plaintext_is_refused() {
    let text = format!(
        "{BASE}  staging: {{ secrets: {{ mode: sealed, cert: certs/staging.pem, values: secrets/staging }} }}\n"
    )
    .replace("web: { image: w, port: 80 }", "worker: { image: w, secrets: [JWT_SECRET] }");
    let e = expect_one(
        &text,
        "`secrets/staging/worker/JWT_SECRET` is not a sealed value",
        "secrets/staging",
        0,
    );
    assert!(
        e.help
            .unwrap()
            .contains("berth secret set staging worker JWT_SECRET")
    );
}

#[test]
fn sealed_cert_missing_or_not_pem() {
    let text = format!(
        "{BASE}  staging: {{ secrets: {{ mode: sealed, cert: certs/prod.pem, values: secrets/staging }} }}\n"
    );
    let e = expect_one(
        &text,
        "cannot read the sealing certificate `certs/prod.pem`",
        "certs/prod.pem",
        0,
    );
    assert!(
        e.help
            .unwrap()
            .contains("berth seal --fetch-cert > certs/prod.pem")
    );
    let text = format!(
        "{BASE}  staging: {{ secrets: {{ mode: sealed, cert: .env.dev, values: secrets/staging }} }}\n"
    );
    expect_one(&text, "`.env.dev` is not a PEM certificate", ".env.dev", 0);
    let text =
        format!("{BASE}  staging: {{ secrets: {{ mode: sealed, values: secrets/staging }} }}\n");
    expect_one(&text, "`mode: sealed` needs `cert`", "{ mode", 0);
}

#[test]
fn external_bad_settings() {
    let text = format!(
        "{BASE}  prod: {{ secrets: {{ mode: external, store: AWS_Store, path: todo/prod, refresh: 1day }} }}\n"
    );
    expect_one(
        &text,
        "store name `AWS_Store` is not a Kubernetes object name",
        "AWS_Store",
        0,
    );
    expect_one(&text, "`1day` is not a duration", "1day", 0);
    let text = format!(
        "{BASE}  prod: {{ secrets: {{ mode: external, store: x, storeKind: Cluster }} }}\n"
    );
    let e = expect_one(&text, "unknown value `Cluster`", "Cluster", 0);
    assert!(e.help.unwrap().contains("ClusterSecretStore"));
    let text = format!("{BASE}  prod: {{ secrets: {{ mode: external, store: x }} }}\n");
    expect_one(&text, "`mode: external` needs `path`", "{ mode", 0);
}

#[test]
fn malformed_dotenv_names_the_line_not_the_text() {
    let files_text = format!("{BASE}  dev: {{ secrets: {{ mode: plain, from: bad.env }} }}\n");
    let read = |p: &Path| {
        if p == Path::new("bad.env") {
            Ok(b"A=1\nhunter2-leaked\n".to_vec())
        } else {
            Err(std::io::Error::from(std::io::ErrorKind::NotFound))
        }
    };
    let errs = load_str_with(
        Path::new("berth.yaml"),
        &files_text,
        &read,
        &LoadOptions::default(),
    )
    .unwrap_err()
    .errors;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].message, "`bad.env`: line 2: expected `KEY=value`");
    assert!(!errs[0].one_line().contains("hunter2"));
}

#[test]
fn schema_describes_the_block() {
    let schema = berth_spec::json_schema().to_string();
    assert!(schema.contains("storeKind"), "schema lacks storeKind");
    assert!(schema.contains("\"sealed\""), "schema lacks the modes");
}
