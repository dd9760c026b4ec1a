//! Compatibility evidence from an independent encoder: the npm package `@linode/kubeseal-encrypt`
//! (Web Crypto in Node.js), installed by scripts/setup.d/30-seal.sh. It seals namespace-wide
//! (label = namespace); berth must unseal its output.

mod support;

use berth_seal::object::SealedSecret;
use berth_seal::unseal::{parse_private_keys, unseal};
use std::process::Command;

fn encoder() -> std::path::PathBuf {
    let p = support::tools().join("npm/node_modules/@linode/kubeseal-encrypt/dist/index.js");
    assert!(
        p.exists(),
        "{} is missing: run scripts/test (or BERTH_TOOLS={} bash scripts/setup.d/30-seal.sh)",
        p.display(),
        support::tools().display()
    );
    p
}

#[test]
fn berth_unseals_values_sealed_by_kubeseal_encrypt() {
    let lib = encoder();
    let dir = support::oracle_keygen(&["--bits", "4096"]);
    let script = dir.path().join("seal.mjs");
    std::fs::write(
        &script,
        format!(
            "import {{ encryptSecretItem }} from {lib:?};\nimport {{ readFileSync }} from 'node:fs';\nconst [pub, ns, file] = process.argv.slice(2);\nconst out = await encryptSecretItem(readFileSync(pub, 'utf8'), ns, readFileSync(file, 'utf8'));\nprocess.stdout.write(out + '\\n');\n",
            lib = lib.to_str().unwrap()
        ),
    )
    .unwrap();
    let keys = parse_private_keys(
        &std::fs::read(dir.path().join("key.pem")).unwrap(),
        "key.pem",
    )
    .unwrap();
    for value in ["", "s3cr3t-from-node", "ünïcödé ✓\nsecond line\n"] {
        let file = dir.path().join("value.txt");
        std::fs::write(&file, value).unwrap();
        let out = Command::new("node")
            .arg(&script)
            .arg(dir.path().join("pub.pem"))
            .arg("payments")
            .arg(&file)
            .output()
            .expect("node (Node.js 18+) must be on PATH for this test");
        assert!(
            out.status.success(),
            "node: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let b64 = String::from_utf8(out.stdout).unwrap();
        assert!(b64.starts_with("Ag"), "{b64}");
        let yaml = |annotations: &str| {
            format!(
                "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: api\n  namespace: payments\n{annotations}spec:\n  encryptedData:\n    token: {}\n",
                b64.trim()
            )
        };
        let nsw = SealedSecret::parse(
            &yaml("  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n"),
            "node",
        )
        .unwrap();
        let secret = unseal(&nsw, &keys).unwrap();
        assert_eq!(&secret.data["token"][..], value.as_bytes());
        // Without the namespace-wide annotation the label is `payments/api`: it must not open.
        let strict = SealedSecret::parse(&yaml(""), "node").unwrap();
        assert!(unseal(&strict, &keys).is_err());
    }
}
