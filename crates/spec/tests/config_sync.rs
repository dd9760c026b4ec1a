//! `config: { source, reload }` (the config-sync sidecar): accepted forms and located errors.

use berth_spec::{SpecError, load_str};
use std::path::Path;

fn load(text: &str) -> Result<berth_spec::Loaded, Vec<SpecError>> {
    load_str(Path::new("berth.yaml"), text, &|_| Ok(b"x: 1\n".to_vec())).map_err(|e| e.errors)
}

fn spec(config: &str) -> String {
    format!(
        "app: shop\nversion: 1.0.0\nservices:\n  web:\n    image: web\n    port: 80\n    command: [/bin/web-server]\n    config: {config}\n"
    )
}

#[test]
fn a_source_resolves_to_a_sidecar_with_the_process_named_from_the_command() {
    let loaded = load(&spec(
        "{ source: s3://bucket/web, reload: signal:HUP, identity: 'arn:aws:iam::1:role/web' }",
    ))
    .unwrap();
    let sync = loaded.apps[0].services[0].sync.clone().unwrap();
    assert_eq!(sync.reload, "signal:HUP:web-server");
    assert!(sync.signal_by_name);
    assert_eq!(sync.source, "s3://bucket/web");
}

#[test]
fn a_signal_without_process_or_command_goes_to_the_app_containers_main_process() {
    let text = "app: shop\nversion: 1.0.0\nservices:\n  web:\n    image: web\n    port: 80\n    config: { source: s3://bucket/web, reload: signal:HUP }\n";
    let loaded = load(text).unwrap();
    let sync = loaded.apps[0].services[0].sync.clone().unwrap();
    assert_eq!(sync.reload, "signal:HUP");
    assert!(
        sync.signal_by_name,
        "the pod must share its process namespace"
    );
}

#[track_caller]
fn one_error(config: &str, message: &str, needle: &str) -> SpecError {
    let text = spec(config);
    let errs = load(&text).expect_err("should fail");
    assert_eq!(
        errs.len(),
        1,
        "{:#?}",
        errs.iter().map(|e| e.one_line()).collect::<Vec<_>>()
    );
    let e = errs[0].clone();
    assert!(e.message.contains(message), "{}", e.one_line());
    let offset = text.find(needle).unwrap();
    let line = text[..offset].matches('\n').count() + 1;
    assert_eq!(e.line, line, "{}", e.one_line());
    e
}

#[test]
fn bad_sources_reloads_and_identities_point_at_their_field() {
    let e = one_error("{ source: 's4://b/x' }", "is not a config source", "s4://");
    assert_eq!(e.path, "services.web.config.source");
    let e = one_error(
        "{ source: 's3://b/x', reload: 'signal:KILLME' }",
        "unknown signal",
        "signal:",
    );
    assert_eq!(e.path, "services.web.config.reload");
    let e = one_error(
        "{ source: 's3://b/x', identity: my-role }",
        "not a cloud identity",
        "my-role",
    );
    assert_eq!(e.path, "services.web.config.identity");
    one_error(
        "{ reload: 'signal:HUP' }",
        "only applies with `config.source`",
        "reload",
    );
    one_error(
        "{ source: 's3://b/x', files: { a.yaml: a.yaml } }",
        "cannot be used together",
        "source",
    );
}
