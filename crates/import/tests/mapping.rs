//! Proof (d), mapping half: each rule with its compose input and the spec fragment it gives
//! (and the report item where berth changes or drops something).

use berth_import::{Features, Kind};
use serde_json::{Value, json};

struct Out {
    spec: Value,
    text: String,
    report: berth_import::Report,
    files: Vec<berth_import::OutFile>,
}

fn import_with(compose: &str, extra: &[(&str, &str)], features: Features) -> Out {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("compose.yaml"), compose).unwrap();
    for (name, body) in extra {
        let p = tmp.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let opts = berth_import::compose::Options {
        project_dir: Some(tmp.path().join(".")),
        ..Default::default()
    };
    let project = berth_import::compose::load(&opts, &berth_import::compose::RealFiles).unwrap();
    let imp = berth_import::import(&project, &features, &berth_import::compose::RealFiles).unwrap();
    let spec = berth_yaml::parse_stream(&imp.spec, berth_yaml::Limits::default())[0]
        .root
        .clone()
        .unwrap()
        .unwrap()
        .to_json();
    Out {
        spec,
        text: imp.spec,
        report: imp.report,
        files: imp.files,
    }
}

fn import(compose: &str) -> Out {
    import_with(compose, &[], Features::default())
}

fn has(out: &Out, kind: Kind, service: &str, setting: &str) -> bool {
    out.report.items.iter().any(|i| {
        i.kind == kind && i.service.as_deref() == Some(service) && i.setting.starts_with(setting)
    })
}

#[test]
fn images_keep_their_tag_untagged_get_a_placeholder_build_gets_a_registry() {
    let o = import(
        "services:\n  a: {image: nginx:1.27}\n  b: {image: tuna/counter}\n  c: {build: ./c}\n",
    );
    assert_eq!(o.spec["services"]["a"]["image"], "nginx:1.27");
    assert_eq!(
        o.spec["services"]["b"]["image"],
        "tuna/counter:pin-a-version"
    );
    assert!(has(&o, Kind::Review, "b", "image"));
    assert_eq!(
        o.spec["services"]["c"]["image"],
        format!(
            "registry.example.com/{}/c:0.1.0",
            o.spec["app"].as_str().unwrap()
        )
    );
    assert!(has(&o, Kind::Changed, "c", "build"));
}

#[test]
fn a_published_http_port_is_exposed_other_ports_are_reported() {
    let o = import(
        "services:\n  web:\n    image: web:1\n    ports: [\"8080:80\", \"9000\"]\n  cache:\n    image: my/cache:1\n    expose: [\"6380\"]\n",
    );
    let web = &o.spec["services"]["web"];
    assert_eq!(web["port"], 80);
    assert_eq!(
        web["expose"]["host"],
        format!("web.{}.example.com", o.spec["app"].as_str().unwrap())
    );
    assert_eq!(web["expose"]["tls"], true);
    assert!(
        o.report
            .items
            .iter()
            .any(|i| i.service.as_deref() == Some("web")
                && i.kind == Kind::Dropped
                && i.what.contains("9000"))
    );
    assert_eq!(o.spec["services"]["cache"]["port"], 6380);
    assert!(
        has(&o, Kind::Changed, "cache", "ports"),
        "6380 is tcp, berth's port is http"
    );
    assert!(o.spec["services"]["cache"].get("expose").is_none());
}

#[test]
fn credentials_become_secret_names_and_values_stay_out() {
    let o = import(
        "services:\n  api:\n    image: api:1\n    environment:\n      LOG_LEVEL: info\n      DB_PASSWORD: s3cr3t-pass\n      DATABASE_URL: postgres://u:pw-in-url@db/x\n      GITHUB_TOKEN: ghp_x\n      SIGNING_KEY: k\n      DB_PASSWORD_FILE: /run/secrets/db\n      PLAIN_URL: http://example.com\n",
    );
    let api = &o.spec["services"]["api"];
    assert_eq!(
        api["env"],
        json!({"LOG_LEVEL": "info", "DB_PASSWORD_FILE": "/run/secrets/db", "PLAIN_URL": "http://example.com"})
    );
    assert_eq!(
        api["secrets"],
        json!(["DB_PASSWORD", "DATABASE_URL", "GITHUB_TOKEN", "SIGNING_KEY"])
    );
    for v in ["s3cr3t-pass", "pw-in-url", "ghp_x"] {
        assert!(!o.text.contains(v));
        assert!(!serde_json::to_string(&o.report).unwrap().contains(v));
    }
    assert!(
        o.report
            .items
            .iter()
            .any(|i| i.kind == Kind::Secret
                && i.todo.contains("berth secret set ENV api DB_PASSWORD"))
    );
}

#[test]
fn healthchecks_become_probes() {
    let o = import(
        "services:\n  web:\n    image: web:1\n    ports: [\"8080:8080\"]\n    healthcheck: {test: curl -fsS http://localhost:8080/healthz, interval: 10s}\n  db:\n    image: my/pg:1\n    healthcheck: {test: [CMD, pg_isready, -U, app]}\n  off:\n    image: x:1\n    healthcheck: {disable: true}\n",
    );
    assert_eq!(
        o.spec["services"]["web"]["health"],
        json!({"ready": "/healthz", "live": "/healthz"})
    );
    assert_eq!(
        o.spec["services"]["db"]["health"]["ready"],
        json!(["pg_isready", "-U", "app"])
    );
    assert!(has(&o, Kind::Dropped, "off", "healthcheck"));
    assert_eq!(
        berth_import::mapping::http_check(&[
            "CMD".into(),
            "wget".into(),
            "-qO-".into(),
            "http://127.0.0.1/ready".into()
        ]),
        Some((80, "/ready".into()))
    );
    assert_eq!(
        berth_import::mapping::http_check(&[
            "CMD-SHELL".into(),
            "curl -f http://db:80/ || exit 1".into()
        ]),
        None
    );
}

#[test]
fn deploy_command_entrypoint_user_and_grace() {
    let o = import(
        "services:\n  w:\n    image: w:1\n    entrypoint: [/bin/app]\n    command: serve --port 8080\n    user: \"1000:1000\"\n    stop_grace_period: 1m30s\n    deploy:\n      replicas: 3\n      resources:\n        limits: {cpus: \"0.5\", memory: 512M}\n        reservations: {cpus: \"0.25\", memory: 256M}\n  r:\n    image: r:1\n    user: root\n",
    );
    let w = &o.spec["services"]["w"];
    assert_eq!(w["command"], json!(["/bin/app"]));
    assert_eq!(w["args"], json!(["serve", "--port", "8080"]));
    assert_eq!(w["user"], 1000);
    assert_eq!(w["grace"], 90);
    assert_eq!(w["replicas"], 3);
    assert_eq!(
        w["resources"],
        json!({"cpu": "250m/500m", "memory": "256Mi/512Mi"})
    );
    assert!(o.spec["services"]["r"].get("user").is_none());
    assert!(has(&o, Kind::Changed, "r", "user"));
}

#[test]
fn volumes_storage_writable_config_files_and_refusals() {
    let o = import_with(
        "services:\n  web:\n    image: web:1\n    volumes:\n      - data:/var/lib/web\n      - /cache\n      - ./nginx.conf:/etc/nginx/conf.d/default.conf:ro\n      - /var/run/docker.sock:/var/run/docker.sock\n      - /srv/host:/srv\n      - ./src:/app\n    tmpfs: /run\nvolumes:\n  data: {}\n",
        &[("nginx.conf", "server {}\n")],
        Features::all(),
    );
    let web = &o.spec["services"]["web"];
    assert_eq!(web["storage"], json!({"/var/lib/web": "10Gi"}));
    assert_eq!(web["writable"], json!(["/cache", "/run"]));
    assert_eq!(
        web["config"],
        json!({"files": {"default.conf": "config/web/default.conf"}, "mount": "/etc/nginx/conf.d"})
    );
    assert_eq!(o.files[0].path, "config/web/default.conf");
    assert!(
        o.report
            .items
            .iter()
            .any(|i| i.kind == Kind::Refused && i.setting.contains("docker.sock"))
    );
    assert!(
        o.report
            .items
            .iter()
            .any(|i| i.kind == Kind::Refused && i.setting.contains("/srv"))
    );
    assert!(
        o.report
            .items
            .iter()
            .any(|i| i.kind == Kind::Dropped && i.setting.contains("/app"))
    );
    // Without `storage:` in the spec, a named volume is a writable emptyDir, reported.
    let o = import(
        "services:\n  web:\n    image: web:1\n    volumes: [\"data:/var/lib/web\"]\nvolumes:\n  data: {}\n",
    );
    assert_eq!(
        o.spec["services"]["web"]["writable"],
        json!(["/var/lib/web"])
    );
    assert!(
        o.report
            .items
            .iter()
            .any(|i| i.what.contains("NOT persistent"))
    );
}

#[test]
fn compose_secrets_and_configs() {
    let compose = "services:\n  api:\n    image: api:1\n    secrets: [db_password]\n    configs: [{source: app, target: /etc/app/app.yaml}]\nsecrets:\n  db_password: {file: ./pw.txt}\nconfigs:\n  app: {content: \"a: 1\\n\"}\n";
    let o = import_with(compose, &[("pw.txt", "never-copied\n")], Features::all());
    let api = &o.spec["services"]["api"];
    assert_eq!(api["secrets"], json!(["DB_PASSWORD"]));
    assert_eq!(
        api["secret-files"],
        json!({"/run/secrets/db_password": "DB_PASSWORD"})
    );
    assert_eq!(api["config"]["mount"], "/etc/app");
    assert!(matches!(&o.files[0].source, berth_import::FileSource::Content(c) if c == "a: 1\n"));
    assert!(!o.text.contains("never-copied"));
    let o = import_with(compose, &[("pw.txt", "x\n")], Features::default());
    assert!(o.spec["services"]["api"].get("secret-files").is_none());
    assert!(
        o.report
            .items
            .iter()
            .any(|i| i.kind == Kind::Secret && i.what.contains("environment variable DB_PASSWORD"))
    );
}

#[test]
fn depends_on_and_host_names_become_uses_without_cycles() {
    let o = import(
        "services:\n  web:\n    image: web:1\n    ports: [\"80:80\"]\n    depends_on: [api]\n  api:\n    image: api:1\n    expose: [\"8000\"]\n    environment: {CACHE_HOST: cache, OTHER: \"http://search:9200/x\"}\n  cache:\n    image: my/cache:1\n    expose: [\"6379\"]\n  search:\n    image: my/search:1\n    expose: [\"9200\"]\n    environment: {UPSTREAM_HOST: api}\n  job:\n    image: job:1\n    depends_on: [api]\n",
    );
    assert_eq!(o.spec["services"]["web"]["uses"], json!(["api"]));
    assert_eq!(
        o.spec["services"]["api"]["uses"],
        json!(["cache", "search"])
    );
    assert!(
        o.spec["services"]["search"].get("uses").is_none(),
        "search → api would close a cycle"
    );
    assert_eq!(o.spec["services"]["job"]["uses"], json!(["api"]));
}

#[test]
fn well_known_images_become_typed_dependencies() {
    let compose = "services:\n  app:\n    image: app:1\n    depends_on: [db, zookeeper]\n  db:\n    image: postgres:16-alpine\n    environment: {POSTGRES_DB: shop, POSTGRES_PASSWORD: pw123456}\n    volumes: [\"pg:/var/lib/postgresql/data\"]\n    ports: [\"5432:5432\"]\n  zookeeper:\n    image: confluentinc/cp-zookeeper:7.6.0\nvolumes:\n  pg: {}\n";
    let o = import_with(compose, &[], Features::all());
    assert_eq!(
        o.spec["dependencies"]["db"],
        json!({"type": "postgres", "mode": "in-cluster", "version": "16-alpine", "storage": "10Gi", "databases": ["shop"]})
    );
    assert_eq!(o.spec["services"]["app"]["uses"], json!(["db"]));
    assert!(o.spec["services"].get("zookeeper").is_none());
    assert!(has(&o, Kind::Dropped, "zookeeper", "image"));
    assert!(has(&o, Kind::Dropped, "db", "ports"));
    assert!(!o.text.contains("pw123456"));
    // A berth without in-cluster dependencies: a single-replica service, reported.
    let o = import(compose);
    let db = &o.spec["services"]["db"];
    assert_eq!(db["image"], "postgres:16-alpine");
    assert_eq!(db["port"], 5432);
    assert_eq!(db["replicas"], 1);
    assert_eq!(db["user"], 999);
    assert_eq!(db["secrets"], json!(["POSTGRES_PASSWORD"]));
    assert!(has(&o, Kind::Changed, "db", "image"));
}

#[test]
fn unsafe_settings_are_refused_and_reported() {
    let o = import(
        "services:\n  n:\n    image: n:1\n    network_mode: host\n    privileged: true\n    cap_add: [NET_ADMIN]\n    pid: host\n    devices: [\"/dev/fuse\"]\n    extra_hosts: [\"a:1.2.3.4\"]\n    restart: \"no\"\n    container_name: nn\n",
    );
    for s in ["network_mode", "privileged", "cap_add", "pid", "devices"] {
        assert!(has(&o, Kind::Refused, "n", s), "{s}");
    }
    assert!(has(&o, Kind::Dropped, "n", "extra_hosts"));
    assert!(has(&o, Kind::Review, "n", "restart"));
    assert!(has(&o, Kind::Dropped, "n", "container_name"));
    for i in &o.report.items {
        assert!(i.service.is_none() || i.line > 0, "{i:?} has no line");
    }
}

#[test]
fn the_spec_has_comments_documented_key_order_and_three_environments() {
    let o = import(
        "services:\n  web:\n    environment: {A: \"1\"}\n    ports: [\"80:80\"]\n    image: web:1\n",
    );
    let t = &o.text;
    assert!(
        t.find("image:").unwrap() < t.find("port:").unwrap()
            && t.find("port:").unwrap() < t.find("env:").unwrap()
    );
    assert!(t.contains("# REVIEW"));
    assert_eq!(
        o.spec["environments"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["dev", "staging", "prod"]
    );
    assert_eq!(o.spec["environments"]["dev"]["replicas"], 1);
    assert_eq!(o.spec["services"]["web"]["env"]["A"], "1");
}

#[test]
fn kompose_health_labels_become_probes() {
    let o = import(
        "services:\n  web:\n    image: web:1\n    ports: [\"8080:8080\"]\n    labels:\n      kompose.service.healthcheck.readiness.http_get_path: /ready\n      kompose.service.healthcheck.readiness.http_get_port: 8080\n      kompose.service.healthcheck.liveness.test: /bin/alive\n",
    );
    assert_eq!(
        o.spec["services"]["web"]["health"],
        json!({"ready": "/ready", "live": ["sh", "-c", "/bin/alive"]})
    );
}
