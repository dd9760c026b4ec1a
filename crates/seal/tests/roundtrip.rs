//! Seal → SealedSecret YAML → parse → unseal, for every scope and kind of value; and the ways it
//! must fail (tampering, wrong name/namespace/scope, wrong key).

mod support;

use aws_lc_rs::rsa::KeySize;
use base64::Engine as _;
use berth_seal::unseal::{parse_private_keys, unseal};
use berth_seal::{PlainSecret, Scope, SealError, SealedSecret, Zeroizing, seal_value};
use support::{keypair, noise, pkcs8_pem};

const SCOPES: [Scope; 3] = [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide];
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn values() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", Vec::new()),
        ("one-mib", noise(1 << 20, 42)),
        ("binary", (0..=255u8).rev().chain(0..=255u8).collect()),
        ("utf8.txt", "pässwörd ✓\nline two\n".as_bytes().to_vec()),
    ]
}

fn plain(values: &[(&str, Vec<u8>)]) -> PlainSecret {
    PlainSecret {
        data: values
            .iter()
            .map(|(k, v)| (k.to_string(), Zeroizing::new(v.clone())))
            .collect(),
        ..Default::default()
    }
}

#[test]
fn every_scope_round_trips_empty_large_and_binary_values() {
    let (cert, key, _) = keypair(KeySize::Rsa2048);
    let values = values();
    for scope in SCOPES {
        let ss = plain(&values).seal(&cert, scope, "prod", "db").unwrap();
        assert_eq!(ss.scope(), scope);
        for text in [ss.to_yaml(), ss.to_json()] {
            let parsed = SealedSecret::parse(&text, "test").unwrap();
            let out = unseal(&parsed, std::slice::from_ref(&key)).unwrap();
            assert_eq!(out.data.len(), values.len());
            for (k, v) in &values {
                assert_eq!(&out.data[*k][..], &v[..], "{scope}: {k}");
            }
            assert_eq!(out.metadata.name.as_deref(), Some("db"));
            assert_eq!(out.metadata.namespace.as_deref(), Some("prod"));
        }
    }
}

#[test]
fn blob_layout_matches_the_controller_for_rsa_4096() {
    let (cert, key, _) = keypair(KeySize::Rsa4096);
    let b64 = seal_value(&cert, Scope::Strict, "ns", "n", b"abc").unwrap();
    assert!(
        b64.starts_with("Ag"),
        "a 4096-bit blob starts with 0x02 0x00: {b64}"
    );
    let blob = B64.decode(&b64).unwrap();
    assert_eq!(blob.len(), 2 + 512 + 3 + 16);
    let out = berth_seal::crypto::hybrid_decrypt(key.key(), &blob, b"ns/n").unwrap();
    assert_eq!(&out[..], b"abc");
}

fn sealed(scope: Scope) -> (SealedSecret, berth_seal::RecoveryKey) {
    let (cert, key, _) = keypair(KeySize::Rsa2048);
    let ss = plain(&[("password", b"correct horse".to_vec())])
        .seal(&cert, scope, "prod", "db")
        .unwrap();
    (ss, key)
}

fn opens(ss: &SealedSecret, key: &berth_seal::RecoveryKey) -> Result<(), SealError> {
    unseal(ss, std::slice::from_ref(key)).map(|_| ())
}

#[test]
fn tampering_with_any_part_fails() {
    let (ss, key) = sealed(Scope::Strict);
    let blob = B64.decode(&ss.spec.encrypted_data["password"]).unwrap();
    // The length prefix, the RSA part (start, middle, end), the GCM body and the tag.
    for i in [1, 2, 130, 257, 258, 262, blob.len() - 1] {
        let mut t = blob.clone();
        t[i] ^= 0x40;
        let mut bad = ss.clone();
        bad.spec.encrypted_data["password"] = B64.encode(&t);
        let e = opens(&bad, &key).unwrap_err();
        assert!(
            matches!(
                e,
                SealError::NoKeyDecrypts { .. } | SealError::BadSealedSecret { .. }
            ),
            "byte {i}: {e}"
        );
    }
    let mut short = ss.clone();
    short.spec.encrypted_data["password"] = B64.encode(&blob[..blob.len() - 1]);
    assert!(opens(&short, &key).is_err());
    let mut trunc = ss.clone();
    trunc.spec.encrypted_data["password"] = B64.encode(&blob[..100]);
    assert!(matches!(
        opens(&trunc, &key),
        Err(SealError::BadSealedSecret { .. })
    ));
    let mut notb64 = ss.clone();
    notb64.spec.encrypted_data["password"] = "not base64!".into();
    assert!(matches!(
        opens(&notb64, &key),
        Err(SealError::BadSealedSecret { .. })
    ));
    opens(&ss, &key).unwrap();
}

fn renamed(ss: &SealedSecret, name: &str, ns: &str) -> SealedSecret {
    let mut s = ss.clone();
    s.metadata.name = Some(name.into());
    s.metadata.namespace = Some(ns.into());
    s
}

fn with_annotation(ss: &SealedSecret, key: &str, value: Option<&str>) -> SealedSecret {
    let mut s = ss.clone();
    let a = s.metadata.annotations.get_or_insert_default();
    match value {
        Some(v) => {
            a.insert(key.into(), v.into());
        }
        None => {
            a.shift_remove(key);
        }
    }
    s
}

#[test]
fn the_label_binds_name_namespace_and_scope() {
    use berth_seal::scope::{CLUSTER_WIDE_ANNOTATION as CW, NAMESPACE_WIDE_ANNOTATION as NW};

    let (strict, key) = sealed(Scope::Strict);
    opens(&strict, &key).unwrap();
    assert!(opens(&renamed(&strict, "other", "prod"), &key).is_err());
    assert!(opens(&renamed(&strict, "db", "staging"), &key).is_err());
    assert!(opens(&with_annotation(&strict, NW, Some("true")), &key).is_err());
    assert!(opens(&with_annotation(&strict, CW, Some("true")), &key).is_err());
    // Only the SealedSecret's own metadata counts, not spec.template's.
    let mut t = strict.clone();
    t.spec.template.metadata.name = Some("other".into());
    opens(&t, &key).unwrap();

    let (nsw, key) = sealed(Scope::NamespaceWide);
    opens(&renamed(&nsw, "any-name", "prod"), &key).unwrap();
    assert!(opens(&renamed(&nsw, "db", "staging"), &key).is_err());
    assert!(opens(&with_annotation(&nsw, NW, None), &key).is_err());
    assert!(opens(&with_annotation(&nsw, NW, Some("false")), &key).is_err());

    let (cw, key) = sealed(Scope::ClusterWide);
    opens(&renamed(&cw, "x", "y"), &key).unwrap();
    assert!(opens(&with_annotation(&cw, CW, None), &key).is_err());
}

#[test]
fn every_key_is_tried_and_the_one_that_worked_is_named() {
    let (ss, right) = sealed(Scope::Strict);
    let (_, wrong, _) = keypair(KeySize::Rsa2048);
    let (_, wrong4096, _) = keypair(KeySize::Rsa4096);
    let keys = vec![wrong4096, wrong, right];
    let out = unseal(&ss, &keys).unwrap();
    assert_eq!(out.opened_by["password"], 2);
    let e = unseal(&ss, &keys[..2]).unwrap_err();
    assert!(
        matches!(e, SealError::NoKeyDecrypts { tried: 2, .. }),
        "{e}"
    );
    let msg = format!("{e}");
    assert!(!msg.contains("correct horse"), "{msg}");
}

#[test]
fn keys_come_from_pem_or_the_controllers_secret_list() {
    let (cert, _, k1) = keypair(KeySize::Rsa2048);
    let (_, _, k2) = keypair(KeySize::Rsa2048);
    let secret = |name: &str, k: &aws_lc_rs::rsa::PrivateDecryptingKey| {
        format!(
            "  - apiVersion: v1\n    kind: Secret\n    type: kubernetes.io/tls\n    metadata:\n      name: {name}\n      namespace: kube-system\n      labels: {{sealedsecrets.bitnami.com/sealed-secrets-key: active}}\n    data:\n      tls.crt: \"\"\n      tls.key: {}\n",
            B64.encode(pkcs8_pem(k))
        )
    };
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}{}",
        secret("sealed-secrets-keyaaaaa", &k2),
        secret("sealed-secrets-keybbbbb", &k1)
    );
    let keys = parse_private_keys(list.as_bytes(), "keys.yaml").unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        keys[1].source,
        "keys.yaml: Secret kube-system/sealed-secrets-keybbbbb"
    );
    let ss = plain(&[("a", b"b".to_vec())])
        .seal(&cert, Scope::Strict, "n", "s")
        .unwrap();
    assert_eq!(unseal(&ss, &keys).unwrap().opened_by["a"], 1);

    // Several PEM blocks in one file, certificates skipped.
    let pems = format!("{}{}", pkcs8_pem(&k2), pkcs8_pem(&k1));
    let keys = parse_private_keys(pems.as_bytes(), "k.pem").unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1].source, "k.pem (PEM block 2)");

    for bad in [
        "",
        "kind: ConfigMap\n",
        "apiVersion: v1\nkind: Secret\ndata: {tls.crt: eA==}\n",
        "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
    ] {
        let e = parse_private_keys(bad.as_bytes(), "x").unwrap_err();
        assert!(e.is_bad_input(), "{e}");
    }
}

#[test]
fn a_secret_manifest_is_sealed_with_its_metadata_and_type() {
    let (cert, key, _) = keypair(KeySize::Rsa2048);
    let manifest = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\n  namespace: web\n  labels: {app: web}\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"stringData\":{\"x\":\"leak\"}}'\n    team: a\n  uid: 1234\ntype: kubernetes.io/tls\ndata:\n  tls.crt: Y2VydA==\nstringData:\n  tls.key: |\n    multi\n    line\n";
    let secret = PlainSecret::parse(manifest, "m").unwrap();
    let (ns, name) = secret.identity(None, None, Scope::Strict).unwrap();
    let ss = secret.seal(&cert, Scope::Strict, &ns, &name).unwrap();
    let yaml = ss.to_yaml();
    assert!(
        !yaml.contains("leak") && !yaml.contains("last-applied") && !yaml.contains("uid"),
        "{yaml}"
    );
    assert_eq!(ss.spec.template.type_.as_deref(), Some("kubernetes.io/tls"));
    let out = unseal(&SealedSecret::parse(&yaml, "t").unwrap(), &[key]).unwrap();
    assert_eq!(&out.data["tls.key"][..], b"multi\nline\n");
    assert_eq!(&out.data["tls.crt"][..], b"cert");
    assert_eq!(out.metadata.labels.as_ref().unwrap()["app"], "web");
    assert_eq!(out.type_.as_deref(), Some("kubernetes.io/tls"));
    let back = out.to_yaml();
    assert!(back.contains("tls.key: bXVsdGkKbGluZQo="), "{}", &*back);
}

#[test]
fn the_renderer_api_builds_an_object_from_sealed_values() {
    let (cert, key, _) = keypair(KeySize::Rsa2048);
    let mut enc = indexmap::IndexMap::new();
    enc.insert(
        "JWT_SECRET".to_string(),
        seal_value(&cert, Scope::Strict, "staging", "backend", b"jwt").unwrap(),
    );
    let ss = SealedSecret::new("backend", "staging", Scope::Strict, Default::default(), enc);
    let out = unseal(&ss, &[key]).unwrap();
    assert_eq!(&out.data["JWT_SECRET"][..], b"jwt");
}
