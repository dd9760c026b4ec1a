//! Every kind of bad input the spec loader must catch, each with its message and the exact
//! line and column it points at (computed here from the text, independently of the loader).

mod common;

use berth_spec::{LoadError, SpecError, load, load_str};
use std::path::Path;

fn errors(text: &str) -> Vec<SpecError> {
    let read = |p: &Path| {
        if p == Path::new("config/app.yaml") {
            Ok(b"a: 1\n".to_vec())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "No such file or directory",
            ))
        }
    };
    match load_str(Path::new("berth.yaml"), text, &read) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.errors,
    }
}

#[track_caller]
fn expect_one(text: &str, message: &str, needle: &str, nth: usize) -> SpecError {
    let e = common::one_at(&errors(text), text, message, needle, nth);
    assert_eq!(e.file, Path::new("berth.yaml"));
    e
}

const HEAD: &str = "app: shop\nversion: 1.0.0\n";

#[test]
fn malformed_yaml() {
    let text = "app: shop\nservices:\n  web: {image: web, port: 80\n";
    let errs = errors(text);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].message.starts_with("invalid YAML"),
        "{}",
        errs[0].one_line()
    );
    assert!(errs[0].line >= 3, "{}", errs[0].one_line());
}

#[test]
fn duplicate_keys() {
    let text = format!("{HEAD}services:\n  web: {{image: web}}\n  web: {{image: other}}\n");
    let e = expect_one(&text, "duplicate key `web`", "web:", 1);
    assert!(e.message.contains("line 4"));
}

#[test]
fn unknown_key_with_suggestion() {
    let text = format!(
        "{HEAD}services:\n  web:\n    image: web\n    port: 80\n    helth: {{ready: /r}}\n"
    );
    let e = expect_one(&text, "unknown key `helth`", "helth", 0);
    assert_eq!(e.help.as_deref(), Some("did you mean `health`?"));
    assert_eq!(e.path, "services.web.helth");
}

#[test]
fn unknown_key_lists_the_valid_ones_when_nothing_is_close() {
    let text = format!("{HEAD}services:\n  web: {{image: web, zzzz: 1}}\n");
    let e = expect_one(&text, "unknown key `zzzz`", "zzzz", 0);
    assert!(e.help.unwrap().contains("`image`"));
}

#[test]
fn wrong_type() {
    let text = format!("{HEAD}services:\n  web: {{image: web, port: eighty}}\n");
    let e = expect_one(&text, "expected u16", "eighty", 0);
    assert_eq!(e.path, "services.web.port");
    let text = format!("{HEAD}services:\n  web: {{image: web, uses: backend}}\n");
    expect_one(&text, "expected a sequence", "backend", 0);
}

#[test]
fn invalid_cpu_quantity() {
    let text = format!("{HEAD}services:\n  web: {{image: web, resources: {{cpu: 100x/1}}}}\n");
    let e = expect_one(&text, "`100x` is not a Kubernetes quantity", "100x", 0);
    assert_eq!(e.path, "services.web.resources.cpu");
}

#[test]
fn invalid_memory_quantity_and_limit_below_request() {
    let text = format!("{HEAD}services:\n  web: {{image: web, resources: {{memory: 1GB}}}}\n");
    expect_one(&text, "`1GB` is not a Kubernetes quantity", "1GB", 0);
    let text =
        format!("{HEAD}services:\n  web: {{image: web, resources: {{memory: 512Mi/256Mi}}}}\n");
    expect_one(&text, "below the request", "512Mi", 0);
}

#[test]
fn percentage_out_of_range() {
    let text =
        format!("{HEAD}services:\n  web: {{image: web, scale: {{min: 2, max: 4, cpu: 150%}}}}\n");
    let e = expect_one(&text, "150% is out of range", "150%", 0);
    assert_eq!(e.path, "services.web.scale.cpu");
}

#[test]
fn names_must_be_dns_labels() {
    let text = format!("{HEAD}services:\n  Web_App: {{image: web}}\n");
    let e = expect_one(&text, "`Web_App` is not a DNS-1035 label", "Web_App", 0);
    assert!(e.help.unwrap().contains("web-app"));
    let text = format!("{HEAD}services:\n  1web: {{image: web}}\n");
    expect_one(&text, "`1web` is not a DNS-1035 label", "1web", 0);
    let long = "a".repeat(51);
    let text = format!("{HEAD}services:\n  {long}: {{image: web}}\n");
    let e = expect_one(&text, "at most 50 characters", &long, 0);
    assert!(e.help.unwrap().contains("shorten"));
    let text = "app: My App\nversion: '1'\nservices:\n  web: {image: web}\n";
    expect_one(text, "app name `My App`", "My App", 0);
}

#[test]
fn uses_of_an_unknown_service_or_dependency() {
    let text = format!(
        "{HEAD}services:\n  backend: {{image: api, port: 80}}\n  web: {{image: web, uses: [backnd]}}\n"
    );
    let e = expect_one(&text, "uses `backnd`", "backnd", 0);
    assert_eq!(e.help.as_deref(), Some("did you mean `backend`?"));
    assert_eq!(e.path, "services.web.uses[0]");
}

#[test]
fn dependency_cycle() {
    let text = format!(
        "{HEAD}services:\n  a: {{image: a, port: 1, uses: [b]}}\n  b: {{image: b, port: 1, uses: [c]}}\n  c: {{image: c, port: 1, uses: [a]}}\n"
    );
    let e = expect_one(&text, "cycle: a → b → c → a", "b]", 0);
    assert_eq!(e.path, "services.a.uses[0]");
}

#[test]
fn two_services_on_one_host_and_path() {
    let text = format!(
        "{HEAD}services:\n  a: {{image: a, port: 1, expose: {{host: x.example.com}}}}\n  b: {{image: b, port: 1, expose: {{host: x.example.com, path: /}}}}\n"
    );
    expect_one(
        &text,
        "`b` and `a` are both exposed on x.example.com/",
        "x.example.com",
        1,
    );
}

#[test]
fn override_of_an_undefined_service() {
    let text = format!(
        "{HEAD}services:\n  web: {{image: web}}\nenvironments:\n  prod: {{services: {{wbe: {{replicas: 3}}}}}}\n"
    );
    let e = expect_one(&text, "overrides service `wbe`", "wbe", 0);
    assert_eq!(e.help.as_deref(), Some("did you mean `web`?"));
    // The bad override is reported once and not merged in as a new service.
    assert_eq!(errors(&text).len(), 1);
}

#[test]
fn scale_min_above_max() {
    let text =
        format!("{HEAD}services:\n  web: {{image: web, scale: {{min: 5, max: 2, cpu: 70%}}}}\n");
    expect_one(&text, "scale.min (5) is greater than scale.max (2)", "5", 0);
}

#[test]
fn missing_image() {
    let text = format!("{HEAD}services:\n  web: {{port: 80}}\n");
    expect_one(&text, "service `web` has no `image`", "{port", 0);
}

#[test]
fn untagged_image_outside_dev_but_fine_in_dev() {
    let text = "app: shop\nservices:\n  web: {image: web}\nenvironments:\n  dev: {}\n  prod: {}\n";
    let e = expect_one(text, "image `web` has no tag", "web}", 0);
    assert!(e.message.contains("prod"), "{}", e.one_line());
    let dev_only = "app: shop\nservices:\n  web: {image: web}\nenvironments:\n  dev: {}\n";
    assert!(load_str(Path::new("berth.yaml"), dev_only, &|_| unreachable!()).is_ok());
}

#[test]
fn latest_tag_outside_dev() {
    let text = "app: shop\nservices:\n  web: {image: 'web:latest'}\nenvironments:\n  staging: {}\n";
    expect_one(text, "uses the `latest` tag", "'web:latest'", 0);
}

#[test]
fn unknown_dependency_type() {
    let text = format!(
        "{HEAD}services:\n  web: {{image: web, uses: [db]}}\ndependencies:\n  db: {{type: postgress, host: db.internal}}\n"
    );
    let e = expect_one(&text, "unknown value `postgress`", "postgress", 0);
    assert_eq!(e.help.as_deref(), Some("did you mean `postgres`?"));
}

#[test]
fn missing_config_file() {
    let text = format!(
        "{HEAD}services:\n  web: {{image: web, config: {{files: {{app.yaml: config/nope.yaml}}}}}}\n"
    );
    expect_one(
        &text,
        "cannot read config file `config/nope.yaml`",
        "config/nope.yaml",
        0,
    );
}

#[test]
fn alias_bomb_is_refused() {
    let mut text = String::from("app: shop\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "x{i}: &x{i} [*x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}]\n"
        ));
    }
    let errs = errors(&text);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].message.contains("alias bomb"),
        "{}",
        errs[0].one_line()
    );
}

#[test]
fn a_huge_spec_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("berth.yaml");
    // 100 MB, sparse: refused from its size alone.
    std::fs::File::create(&file)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    match load(dir.path()) {
        Err(e @ LoadError::TooLarge { .. }) => assert!(e.is_bad_input()),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn several_errors_are_reported_together() {
    let text = format!(
        "{HEAD}services:\n  web: {{port: 80}}\n  api: {{image: api, uses: [nope], scale: {{min: 3, max: 1, cpu: 50%}}}}\n"
    );
    let errs = errors(&text);
    assert_eq!(
        errs.len(),
        3,
        "{:#?}",
        errs.iter().map(SpecError::one_line).collect::<Vec<_>>()
    );
    // Sorted by position.
    assert!(
        errs.windows(2)
            .all(|w| (w[0].line, w[0].col) <= (w[1].line, w[1].col))
    );
}

#[test]
fn the_same_base_error_is_reported_once_across_environments() {
    let text = format!(
        "{HEAD}services:\n  web: {{port: 80}}\nenvironments:\n  dev: {{}}\n  staging: {{}}\n  prod: {{}}\n"
    );
    assert_eq!(errors(&text).len(), 1);
}

#[test]
fn numbers_and_booleans_in_text_fields_are_kept_as_written() {
    let text = "app: shop\nversion: 1.10\nservices:\n  web: {image: web, env: {RATE: 0.50, N: 007, ON: True, HEX: 0x1F}}\n";
    let loaded = load_str(Path::new("berth.yaml"), text, &|_| unreachable!()).unwrap();
    let svc = &loaded.apps[0].services[0];
    assert_eq!(svc.image.tag.as_deref(), Some("1.10"));
    let env: std::collections::HashMap<_, _> = svc.env.iter().cloned().collect();
    assert_eq!(env["RATE"], "0.50");
    assert_eq!(env["N"], "007");
    assert_eq!(env["ON"], "True");
    assert_eq!(env["HEX"], "0x1F");
}

#[test]
fn uses_of_a_worker_without_a_port() {
    let text =
        format!("{HEAD}services:\n  worker: {{image: w}}\n  web: {{image: web, uses: [worker]}}\n");
    let e = expect_one(&text, "which has no `port` to call", "worker]", 0);
    assert_eq!(e.path, "services.web.uses[0]");
}

/// Every decode error of the spec in one run (serde stops at the first; the loader takes the
/// bad value out and decodes again), each at its own line, column and spec path.
#[test]
fn every_decode_error_is_reported_together() {
    let text = format!(
        "{HEAD}registy: ghcr.io/acme\nservices:\n  web:\n    image: web\n    port: eighty\n    helth: {{ready: /r}}\n  api:\n    image: api\n    replicas: [1]\n  worker: 5\nenvironments:\n  dev:\n    namespce: shop-dev\n    services:\n      web: {{replicas: many}}\n"
    );
    let errs = errors(&text);
    let expected = [
        ("unknown key `registy`", "registy", 0, ""),
        ("services.web.port", "eighty", 0, ""),
        ("unknown key `helth`", "helth", 0, "services.web.helth"),
        ("services.api.replicas", "[1]", 0, ""),
        ("services.worker", "5\n", 0, ""),
        (
            "unknown key `namespce`",
            "namespce",
            0,
            "environments.dev.namespce",
        ),
        ("environments.dev.services.web.replicas", "many", 0, ""),
    ];
    for (message, needle, nth, path) in expected {
        let e = common::one_at(&errs, &text, message, needle, nth);
        if !path.is_empty() {
            assert_eq!(e.path, path, "{}", e.one_line());
        }
    }
    assert_eq!(
        errs.len(),
        expected.len(),
        "{:#?}",
        errs.iter().map(SpecError::one_line).collect::<Vec<_>>()
    );
}

/// Taking a bad value out never adds an error of its own: a required key whose value was wrong
/// is not reported missing as well.
#[test]
fn a_bad_required_value_is_one_error_not_two() {
    let text = format!(
        "{HEAD}services:\n  web: {{image: web, port: 80}}\nenvironments:\n  dev:\n    secrets: {{mode: clear, from: .env}}\n    tier: devel\n"
    );
    let errs = errors(&text);
    common::one_at(&errs, &text, "unknown value `clear`", "clear", 0);
    common::one_at(&errs, &text, "unknown value `devel`", "devel", 0);
    assert_eq!(
        errs.len(),
        2,
        "{:#?}",
        errs.iter().map(SpecError::one_line).collect::<Vec<_>>()
    );
}

#[test]
fn an_override_of_an_undefined_dependency_says_dependency() {
    let text = format!(
        "{HEAD}services:\n  web: {{image: web, port: 80}}\ndependencies:\n  db: {{type: postgres, host: db.internal}}\nenvironments:\n  dev:\n    dependencies:\n      dbb: {{host: localhost}}\n"
    );
    let e = expect_one(
        &text,
        "environment `dev` overrides dependency `dbb`, which is not defined under `dependencies`",
        "dbb",
        0,
    );
    assert!(
        e.help.as_deref().unwrap_or_default().contains("`db`"),
        "{e:?}"
    );
}
