//! Storage, stateful settings, sized writable paths, secret files, init containers, sidecars,
//! namespace groups and adoption: what they resolve to, and every mistake pointed at.

mod common;

use berth_spec::{
    AccessMode, App, Loaded, PodManagement, Retain, SpecError, json_schema, load_str,
};
use std::path::Path;

const HEAD: &str = "app: shop\nversion: 1.0.0\n";

fn load(text: &str) -> Result<Loaded, Vec<SpecError>> {
    load_str(Path::new("berth.yaml"), text, &|_| Ok(Vec::new())).map_err(|e| e.errors)
}

fn app<'a>(loaded: &'a Loaded, env: &str) -> &'a App {
    loaded.app(env).expect("environment")
}

fn errors(text: &str) -> Vec<SpecError> {
    match load(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e,
    }
}

#[track_caller]
fn expect_one(text: &str, message: &str, needle: &str, nth: usize) -> SpecError {
    common::one_at(&errors(text), text, message, needle, nth)
}

#[test]
fn storage_short_and_long_forms_resolve_with_the_environment_class() {
    let text = format!(
        "{HEAD}services:\n  db:\n    image: db\n    port: 5432\n    storage:\n      /data: 10Gi\n      /var/lib/x: {{ size: 5Gi, class: fast-ssd, access: read-write-many }}\n      /wal: {{ size: 1Gi, name: wal-volume }}\n    stateful: {{ pod-management: parallel, retain: delete }}\nenvironments:\n  dev: {{}}\n  prod: {{ storage-class: gp3 }}\n"
    );
    let loaded = load(&text).unwrap();
    let dev = &app(&loaded, "dev").services[0];
    assert!(dev.is_stateful());
    let names: Vec<&str> = dev.storage.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["data", "var-lib-x", "wal-volume"]);
    assert_eq!(dev.storage[0].class, None);
    assert_eq!(dev.storage[0].size.text, "10Gi");
    assert_eq!(dev.storage[0].access, AccessMode::ReadWriteOnce);
    assert_eq!(dev.storage[1].access, AccessMode::ReadWriteMany);
    let s = dev.stateful.unwrap();
    assert_eq!(
        (s.pod_management, s.retain),
        (PodManagement::Parallel, Retain::Delete)
    );
    let prod = &app(&loaded, "prod").services[0];
    assert_eq!(prod.storage[0].class.as_deref(), Some("gp3"));
    // The volume's own class wins over the environment's.
    assert_eq!(prod.storage[1].class.as_deref(), Some("fast-ssd"));
    assert_eq!(prod.storage[2].class.as_deref(), Some("gp3"));
}

#[test]
fn stateful_defaults_and_stateless_services() {
    let text = format!(
        "{HEAD}services:\n  db: {{ image: db, storage: {{ /data: 1Gi }} }}\n  web: {{ image: web, port: 80 }}\n"
    );
    let loaded = load(&text).unwrap();
    let a = app(&loaded, "default");
    let s = a.services[0].stateful.unwrap();
    assert_eq!(
        (s.pod_management, s.retain),
        (PodManagement::OrderedReady, Retain::Retain)
    );
    assert!(!a.services[1].is_stateful());
    assert!(a.services[1].stateful.is_none());
}

#[test]
fn storage_mistakes_point_at_the_value() {
    let base = format!("{HEAD}services:\n  db:\n    image: db\n");
    expect_one(
        &format!("{base}    storage: {{ /data: 10GB }}\n"),
        "`10GB` is not a Kubernetes quantity",
        "10GB",
        0,
    );
    expect_one(
        &format!("{base}    storage: {{ data: 1Gi }}\n"),
        "storage path `data` must be absolute",
        "data: 1Gi",
        0,
    );
    expect_one(
        &format!("{base}    storage: {{ /data: {{ size: 1Gi, acess: read-write-once }} }}\n"),
        "unknown key `acess`",
        "acess",
        0,
    );
    let e = expect_one(
        &format!("{base}    storage: {{ /data: {{ size: 1Gi, access: read-write-one }} }}\n"),
        "unknown value `read-write-one`",
        "read-write-one",
        0,
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `read-write-once`?"));
    expect_one(
        &format!("{base}    storage: {{ /data: {{ class: gp3 }} }}\n"),
        "missing required key `size`",
        "{ class",
        0,
    );
    expect_one(
        &format!("{base}    storage: {{ /data: 0 }}\n"),
        "`0` is not a size in bytes",
        "0 }",
        0,
    );
    expect_one(
        &format!("{base}    storage: {{ /a-b: 1Gi, /a/b: 1Gi }}\n"),
        "both get the volume name `a-b`",
        "/a/b",
        0,
    );
    expect_one(
        &format!("{base}    storage: {{ /data: 1Gi }}\n    writable: [/data/]\n"),
        "`/data/` is already mounted by `storage`",
        "/data/",
        0,
    );
    expect_one(
        &format!("{base}    storage: {{ /tmp: 1Gi }}\n"),
        "`/tmp` is already mounted by the /tmp scratch space",
        "/tmp",
        0,
    );
    expect_one(
        &format!("{base}    stateful: {{ retain: delete }}\n"),
        "`stateful` only applies to a service with `storage`",
        "{ retain",
        0,
    );
    expect_one(
        &format!(
            "{base}    storage: {{ /data: 1Gi }}\n    stateful: {{ pod-management: paralel }}\n"
        ),
        "unknown value `paralel`",
        "paralel",
        0,
    );
    expect_one(
        &format!("{base}environments:\n  prod: {{ storage-class: Fast_SSD }}\n"),
        "storage class `Fast_SSD` is not a valid object name",
        "Fast_SSD",
        0,
    );
}

#[test]
fn writable_takes_a_list_or_sizes() {
    let text = format!(
        "{HEAD}services:\n  a: {{ image: a, writable: [/cache] }}\n  b: {{ image: b, writable: {{ /cache: 2Gi, /spool: null }} }}\n"
    );
    let loaded = load(&text).unwrap();
    let a = app(&loaded, "default");
    let sizes = |i: usize| -> Vec<(String, String)> {
        a.services[i]
            .writable
            .iter()
            .map(|w| (w.path.clone(), w.size.text.clone()))
            .collect()
    };
    assert_eq!(sizes(0), [("/cache".into(), "1Gi".into())]);
    assert_eq!(
        sizes(1),
        [
            ("/cache".into(), "2Gi".into()),
            ("/spool".into(), "1Gi".into())
        ]
    );
    let base = format!("{HEAD}services:\n  a:\n    image: a\n");
    expect_one(
        &format!("{base}    writable: {{ /cache: lots }}\n"),
        "`lots` is not a Kubernetes quantity",
        "lots",
        0,
    );
    expect_one(
        &format!("{base}    writable: {{ cache: 1Gi }}\n"),
        "writable path `cache` must be absolute",
        "cache: 1Gi",
        0,
    );
    expect_one(
        &format!("{base}    writable: /cache\n"),
        "expected a list of paths",
        "/cache",
        0,
    );
}

#[test]
fn secret_files_add_keys_to_the_secret_but_not_to_the_environment() {
    let text = format!(
        "{HEAD}services:\n  api:\n    image: api\n    secrets: [JWT]\n    secret-files: {{ /run/secrets/db_password: DB_PASSWORD, /run/secrets/jwt: JWT }}\n"
    );
    let loaded = load(&text).unwrap();
    let svc = &app(&loaded, "default").services[0];
    assert_eq!(svc.secrets, ["JWT"]);
    assert_eq!(svc.secret_keys(), ["JWT", "DB_PASSWORD"]);
    assert_eq!(svc.secret_files[0].path, "/run/secrets/db_password");
    assert_eq!(svc.secret_files[0].key, "DB_PASSWORD");
    assert_eq!(
        loaded.spec.services["api"].secret_keys(),
        ["JWT", "DB_PASSWORD"]
    );

    let base = format!("{HEAD}services:\n  api:\n    image: api\n");
    expect_one(
        &format!("{base}    secret-files: {{ /run/secrets/: DB }}\n"),
        "`/run/secrets/` is a directory",
        "/run/secrets/",
        0,
    );
    expect_one(
        &format!("{base}    secret-files: {{ /run/db: db-password }}\n"),
        "`db-password` is not a valid secret name",
        "/run/db",
        0,
    );
    expect_one(
        &format!("{base}    env: {{ DB: x }}\n    secret-files: {{ /run/db: DB }}\n"),
        "`DB` is also a plain value in `env`",
        "/run/db",
        0,
    );
}

#[test]
fn secret_file_keys_are_delivered_in_every_mode() {
    // Plain: the dotenv file must hold the file-only key too.
    let text = format!(
        "{HEAD}services:\n  api:\n    image: api\n    secret-files: {{ /run/secrets/db: DB_PASSWORD }}\nenvironments:\n  dev:\n    secrets: {{ mode: plain, from: dev.env }}\n  prod:\n    secrets: {{ mode: external, store: vault, path: shop }}\n"
    );
    let read = |p: &Path| {
        assert_eq!(p, Path::new("dev.env"));
        Ok(b"DB_PASSWORD=s3cret\n".to_vec())
    };
    let loaded = load_str(Path::new("berth.yaml"), &text, &read).unwrap();
    match &app(&loaded, "dev").secrets {
        berth_spec::SecretDelivery::Plain(p) => {
            assert_eq!(p.services["api"][0].0, "DB_PASSWORD")
        }
        other => panic!("{other:?}"),
    }
    match &app(&loaded, "prod").secrets {
        berth_spec::SecretDelivery::External(e) => assert_eq!(e.services["api"], ["DB_PASSWORD"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn init_containers_and_sidecars_resolve() {
    let text = format!(
        "{HEAD}services:\n  api:\n    image: api\n    port: 80\n    writable: [/cache]\n    init: [/app/migrate, --once]\n    init-containers:\n      wait-db: {{ image: busybox:1.36, command: [sh, -c, 'until nc -z db 5432; do sleep 1; done'] }}\n    sidecars:\n      envoy:\n        image: envoyproxy/envoy:v1.31.0\n        args: [-c, /etc/envoy.yaml]\n        ports: {{ admin: 9901 }}\n        env: {{ LEVEL: info }}\n        resources: {{ cpu: 100m/1, memory: 128Mi/256Mi }}\n        mounts: [/cache]\n"
    );
    let loaded = load(&text).unwrap();
    let svc = &app(&loaded, "default").services[0];
    assert_eq!(svc.init.as_deref().unwrap(), ["/app/migrate", "--once"]);
    let wait = &svc.init_containers[0];
    assert_eq!(wait.name, "wait-db");
    assert_eq!(wait.image.to_string(), "busybox:1.36");
    assert_eq!(wait.cpu.request.text, "50m");
    let envoy = &svc.sidecars[0];
    // Never prefixed with the registry, never given the app's version.
    assert_eq!(envoy.image.to_string(), "envoyproxy/envoy:v1.31.0");
    assert_eq!(envoy.ports, [("admin".to_owned(), 9901)]);
    assert_eq!(envoy.env, [("LEVEL".to_owned(), "info".to_owned())]);
    assert_eq!(envoy.memory.limit.text, "256Mi");
    assert_eq!(envoy.mounts, ["/cache"]);
}

#[test]
fn container_mistakes_point_at_the_value() {
    let base = format!("{HEAD}services:\n  api:\n    image: api\n");
    expect_one(
        &format!("{base}    init: []\n"),
        "`init` needs at least one word",
        "[]",
        0,
    );
    expect_one(
        &format!("{base}    sidecars: {{ proxy: {{ command: [x] }} }}\n"),
        "missing required key `image`",
        "{ command",
        0,
    );
    expect_one(
        &format!("{base}    sidecars: {{ init: {{ image: 'a:1' }} }}\n"),
        "the container name `init` is taken",
        "init:",
        0,
    );
    expect_one(
        &format!("{base}    sidecars: {{ api: {{ image: 'a:1' }} }}\n"),
        "the container name `api` is taken",
        "api: {",
        0,
    );
    expect_one(
        &format!(
            "{base}    init-containers: {{ x: {{ image: 'a:1' }} }}\n    sidecars: {{ x: {{ image: 'b:1' }} }}\n"
        ),
        "`x` is also a container under `init-containers`",
        "x: { image: 'b",
        0,
    );
    expect_one(
        &format!("{base}    init-containers: {{ x: {{ image: 'a:1', ports: {{ p: 1 }} }} }}\n"),
        "an init container runs to completion",
        "{ p: 1",
        0,
    );
    expect_one(
        &format!("{base}    sidecars: {{ x: {{ image: 'a:1', mounts: [/data] }} }}\n"),
        "`/data` is not one of `api`'s `storage` or `writable` paths",
        "/data",
        0,
    );
    expect_one(
        &format!("{base}    sidecars: {{ x: {{ image: 'a:1', imag: b }} }}\n"),
        "unknown key `imag`",
        "imag:",
        0,
    );
    // Outside dev, third-party images need a pinned tag.
    expect_one(
        &format!(
            "{base}    sidecars: {{ x: {{ image: busybox }} }}\nenvironments:\n  prod: {{}}\n"
        ),
        "image `busybox` has no pinned tag",
        "busybox",
        0,
    );
    assert!(
        load(&format!(
            "{base}    sidecars: {{ x: {{ image: busybox }} }}\nenvironments:\n  dev: {{}}\n"
        ))
        .is_ok()
    );
}

#[test]
fn namespace_groups_map_per_environment_and_addresses_follow() {
    let text = format!(
        "{HEAD}services:\n  web: {{ image: web, port: 80, namespace: gateway, uses: [api] }}\n  api: {{ image: api, port: 8080, namespace: services, uses: [db, cache] }}\n  cache: {{ image: cache, port: 6379, namespace: services }}\ndependencies:\n  db: {{ type: postgres, host: db.internal }}\nenvironments:\n  dev: {{ namespaces: {{ gateway: shop-dev, services: shop-dev }} }}\n  prod: {{ namespace: shop, namespaces: {{ services: shop-svc }} }}\n"
    );
    let loaded = load(&text).unwrap();
    let prod = app(&loaded, "prod");
    let ns: Vec<(Option<&str>, &str)> = prod
        .namespaces
        .iter()
        .map(|n| (n.group.as_deref(), n.name.as_str()))
        .collect();
    // Unmapped groups go to NAMESPACE-GROUP.
    assert_eq!(
        ns,
        [
            (None, "shop"),
            (Some("gateway"), "shop-gateway"),
            (Some("services"), "shop-svc")
        ]
    );
    let svc = |a: &App, name: &str| a.services.iter().find(|s| s.name == name).unwrap().clone();
    assert_eq!(svc(prod, "web").namespace, "shop-gateway");
    let env = |a: &App, s: &str, k: &str| {
        svc(a, s)
            .env
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        env(prod, "web", "API_URL").as_deref(),
        Some("http://api.shop-svc.svc.cluster.local:8080")
    );
    // The dependency's Service lives in the environment's namespace.
    assert_eq!(
        env(prod, "api", "DB_HOST").as_deref(),
        Some("db.shop.svc.cluster.local")
    );
    // Same namespace: the short name.
    let dev = app(&loaded, "dev");
    assert_eq!(dev.namespaces.len(), 1);
    assert_eq!(
        env(dev, "web", "API_URL").as_deref(),
        Some("http://api:8080")
    );
    assert_eq!(env(dev, "api", "DB_HOST").as_deref(), Some("db"));
}

#[test]
fn namespace_mistakes_point_at_the_value() {
    let base = format!("{HEAD}services:\n  api:\n    image: api\n");
    expect_one(
        &format!("{base}    namespace: Services\n"),
        "namespace group `Services` is not a DNS-1123 label",
        "Services",
        0,
    );
    let e = expect_one(
        &format!(
            "{base}    namespace: services\nenvironments:\n  prod: {{ namespaces: {{ servics: x }} }}\n"
        ),
        "maps namespace group `servics`, which no service names",
        "servics",
        0,
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `services`?"));
    expect_one(
        &format!(
            "{base}    namespace: services\nenvironments:\n  prod: {{ namespaces: {{ services: Shop_Svc }} }}\n"
        ),
        "namespace `Shop_Svc` (group `services`) is not a DNS-1123 label",
        "services: Shop",
        0,
    );
    expect_one(
        &format!(
            "{base}    namespace: services-with-a-long-name\nenvironments:\n  prod: {{ namespace: a-namespace-name-that-is-already-very-long-indeed-x }}\n"
        ),
        "which is longer than 63 characters",
        "services-with",
        0,
    );
}

#[test]
fn adopt_keeps_the_selector() {
    let text = format!(
        "{HEAD}services:\n  web: {{ image: web, port: 80, adopt: {{ selector: {{ app: web, tier: frontend }} }} }}\n"
    );
    let loaded = load(&text).unwrap();
    let sel = app(&loaded, "default").services[0]
        .adopt_selector
        .clone()
        .unwrap();
    assert_eq!(sel.len(), 2);
    assert_eq!(sel["app"], "web");

    let base = format!("{HEAD}services:\n  web:\n    image: web\n");
    expect_one(
        &format!("{base}    adopt: {{}}\n"),
        "`adopt` needs the existing workload's `selector`",
        "{}",
        0,
    );
    expect_one(
        &format!("{base}    adopt: {{ selector: {{ 'bad key!': x }} }}\n"),
        "`bad key!` is not a label key",
        "'bad key!'",
        0,
    );
    expect_one(
        &format!("{base}    adopt: {{ selector: {{ app: -x }} }}\n"),
        "`-x` is not a label value",
        "-x",
        0,
    );
    expect_one(
        &format!("{base}    adopt: {{ selector: {{ app.kubernetes.io/instance: shop }} }}\n"),
        "matches the pods of every service",
        "{ app.kubernetes",
        0,
    );
    let two = format!(
        "{HEAD}services:\n  a: {{ image: a, adopt: {{ selector: {{ app: x }} }} }}\n  b: {{ image: b, adopt: {{ selector: {{ app: x, role: b }} }} }}\n"
    );
    expect_one(&two, "also selects the pods of `b`", "{ app: x }", 0);
}

#[test]
fn the_schema_types_the_new_fields() {
    let schema = json_schema();
    let svc = &schema["$defs"]["Service"]["properties"];
    for key in [
        "storage",
        "stateful",
        "secret-files",
        "init",
        "init-containers",
        "sidecars",
        "namespace",
        "adopt",
        "writable",
    ] {
        assert!(svc.get(key).is_some(), "Service.{key} missing from schema");
    }
    let env = &schema["$defs"]["Environment"]["properties"];
    assert!(env.get("namespaces").is_some() && env.get("storage-class").is_some());
    let access = serde_json::to_string(&schema["$defs"]["AccessMode"]).unwrap();
    assert!(access.contains("read-write-once-pod"), "{access}");
}
