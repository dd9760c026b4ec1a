//! A `secretKeyRef` — in a pod's env or in a Dapr Component — resolves only in its own
//! namespace. When services in different namespace groups share a dependency, every Secret a
//! rendered object references must be delivered in that object's namespace: berth renders a
//! copy of the credential each group reads (plain Secret, ExternalSecret), never a superuser's,
//! and refuses `mode: sealed`, whose values are sealed for one namespace.

use berth_render::{Object, render};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const SPEC: &str = "app: shop
version: 1.0.0
services:
  api: { image: api, port: 8080, namespace: edge, uses: [redis, kafka, db], dapr: { publish: [orders] } }
  worker: { image: worker, port: 8081, uses: [redis, kafka], dapr: { subscribe: { orders: /orders } } }
dependencies:
  redis: { type: redis, ha: { replicas: 2, sentinel: true } }
  db: { type: postgres, ha: false, pooler: null, backup: null, databases: [shop] }
  kafka: { type: kafka, mode: managed, host: b-1.msk.example.com, provider: msk, sasl: { username: shop }, cidr: 10.0.0.0/16 }
environments:
";

const DOTENV: &str = "REDIS_DEFAULT_PASSWORD=a1\nKAFKA_SASL_PASSWORD=a2\nDB_SHOP_PASSWORD=a3\nDB_SUPERUSER_PASSWORD=a4\n";

fn load(env: &str) -> Result<berth_spec::Loaded, berth_spec::SpecErrors> {
    let spec = format!("{SPEC}  {env}\n");
    berth_spec::load_str(Path::new("berth.yaml"), &spec, &|p| match p.to_str() {
        Some(".env") => Ok(DOTENV.as_bytes().to_vec()),
        Some("cert.pem") => {
            Ok(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_vec())
        }
        _ => Err(std::io::ErrorKind::NotFound.into()),
    })
}

/// (namespace, Secret name) of every Secret the output delivers: plain Secrets, and the targets
/// of SealedSecrets and ExternalSecrets.
fn delivered(objects: &[Object]) -> BTreeSet<(String, String)> {
    objects
        .iter()
        .filter_map(|o| {
            let ns = o.namespace.clone()?;
            let name = match o.kind.as_str() {
                "Secret" => o.name.clone(),
                "SealedSecret" => o.body["spec"]["template"]["metadata"]["name"]
                    .as_str()
                    .unwrap_or(&o.name)
                    .to_owned(),
                "ExternalSecret" => o.body["spec"]["target"]["name"]
                    .as_str()
                    .unwrap_or(&o.name)
                    .to_owned(),
                _ => return None,
            };
            Some((ns, name))
        })
        .collect()
}

/// Every `secretKeyRef` name anywhere in a value.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(n)) = m.get("secretKeyRef").and_then(|r| r.get("name")) {
                out.push(n.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

fn check_every_reference_resolves(objects: &[Object]) -> usize {
    let have = delivered(objects);
    let mut checked = 0;
    for o in objects {
        if matches!(
            o.kind.as_str(),
            "SealedSecret" | "ExternalSecret" | "Secret"
        ) {
            continue;
        }
        let mut names = Vec::new();
        refs(&o.body, &mut names);
        let ns = o.namespace.clone().unwrap_or_default();
        for n in names {
            assert!(
                have.contains(&(ns.clone(), n.clone())),
                "{} {}/{} references Secret {n}, which is not delivered in {ns} (delivered: {have:?})",
                o.kind,
                ns,
                o.name
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn every_secret_reference_resolves_in_its_own_namespace() {
    for env in [
        "dev: { namespace: shop, secrets: { mode: plain, from: .env } }",
        "prod: { namespace: shop, secrets: { mode: external, store: vault, path: shop/prod } }",
    ] {
        let loaded = load(env).unwrap_or_else(|e| {
            panic!(
                "{:?}",
                e.errors.iter().map(|e| e.one_line()).collect::<Vec<_>>()
            )
        });
        let o = render(&loaded.apps[0]).objects;
        // Both namespaces have their Dapr Components, which reference the credentials.
        let components: Vec<(String, String)> = o
            .iter()
            .filter(|x| x.kind == "Component")
            .map(|x| (x.namespace.clone().unwrap(), x.name.clone()))
            .collect();
        for ns in ["shop", "shop-edge"] {
            for c in ["redis", "kafka"] {
                assert!(
                    components.contains(&(ns.into(), c.into())),
                    "{env}: no Component {ns}/{c}: {components:?}"
                );
            }
        }
        let checked = check_every_reference_resolves(&o);
        assert!(checked >= 10, "{env}: only {checked} references");
        // The copy in `shop-edge` is what its services read, not the superuser's.
        let have = delivered(&o);
        assert!(have.contains(&("shop-edge".into(), "db-shop-credentials".into())));
        assert!(!have.contains(&("shop-edge".into(), "db-superuser-credentials".into())));
    }
}

#[test]
fn sealed_credentials_across_namespaces_are_refused_with_a_fix() {
    let e = load(
        "staging: { namespace: shop, secrets: { mode: sealed, cert: cert.pem, values: sealed/ } }",
    )
    .expect_err("sealed values are bound to one namespace");
    let lines: Vec<String> = e.errors.iter().map(|e| e.one_line()).collect();
    let all = lines.join("\n");
    assert!(
        lines.iter().any(|l| l.contains("services.api.namespace")
            && l.contains("redis-default-credentials")
            && l.contains("mode: external")),
        "{all}"
    );
    assert!(all.contains("berth.yaml:4:"), "at api's namespace: {all}");
}
