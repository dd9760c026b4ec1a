//! The rendered objects, with the random parts (every sealed value) masked.

mod support;

use aws_lc_rs::rsa::KeySize;
use berth_seal::unseal::unseal;
use berth_seal::{PlainSecret, Scope, Zeroizing};

fn masked(f: impl FnOnce()) {
    insta::with_settings!({filters => vec![(r"[A-Za-z0-9+/]{300,}={0,2}", "[sealed]")]}, { f() });
}

fn from_values(values: &[(&str, &[u8])]) -> PlainSecret {
    PlainSecret {
        data: values
            .iter()
            .map(|(k, v)| (k.to_string(), Zeroizing::new(v.to_vec())))
            .collect(),
        ..Default::default()
    }
}

const MANIFEST: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: web-tls
  namespace: web
  uid: 8d0e5d43-0000-4000-8000-000000000000
  resourceVersion: "42"
  creationTimestamp: "2026-01-01T00:00:00Z"
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: x, uid: y}]
  labels:
    app.kubernetes.io/name: web
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"tls.key":"SHOULD-NOT-APPEAR"}}'
    team: payments
type: kubernetes.io/tls
immutable: true
data:
  tls.crt: Y2VydA==
stringData:
  tls.key: key
"#;

#[test]
fn strict_from_values() {
    let (cert, _, _) = support::keypair(KeySize::Rsa2048);
    let ss = from_values(&[("password", b"a"), ("api-token", b"b")])
        .seal(&cert, Scope::Strict, "prod", "db")
        .unwrap();
    masked(|| insta::assert_snapshot!(ss.to_yaml()));
}

#[test]
fn namespace_wide_from_a_manifest() {
    let (cert, _, _) = support::keypair(KeySize::Rsa2048);
    let secret = PlainSecret::parse(MANIFEST, "m").unwrap();
    let (ns, name) = secret.identity(None, None, Scope::NamespaceWide).unwrap();
    let ss = secret
        .seal(&cert, Scope::NamespaceWide, &ns, &name)
        .unwrap();
    let yaml = ss.to_yaml();
    assert!(!yaml.contains("SHOULD-NOT-APPEAR"));
    masked(|| insta::assert_snapshot!(yaml));
}

#[test]
fn cluster_wide_json() {
    let (cert, _, _) = support::keypair(KeySize::Rsa2048);
    let ss = from_values(&[("token", b"t")])
        .seal(&cert, Scope::ClusterWide, "", "shared")
        .unwrap();
    masked(|| insta::assert_snapshot!(ss.to_json()));
}

#[test]
fn unsealed_secret() {
    let (cert, key, _) = support::keypair(KeySize::Rsa2048);
    let secret = PlainSecret::parse(MANIFEST, "m").unwrap();
    let ss = secret.seal(&cert, Scope::Strict, "web", "web-tls").unwrap();
    let out = unseal(&ss, &[key]).unwrap();
    insta::assert_snapshot!(&*out.to_yaml());
}
