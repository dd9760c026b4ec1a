//! A service with `config.source` renders the config-sync sidecar, and the arguments the
//! renderer writes are ones `berth config-sync` itself accepts.

use std::path::Path;
use std::process::Command;

fn render_gateway_prod() -> serde_json::Value {
    let loaded =
        berth_spec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/gateway"))
            .unwrap();
    let rendered = berth_render::render(loaded.app("prod").unwrap());
    let deploy = rendered
        .objects
        .iter()
        .find(|o| o.kind == "Deployment")
        .unwrap();
    deploy.body.clone()
}

#[test]
fn the_sidecar_is_a_native_sidecar_sharing_the_config_volume() {
    let d = render_gateway_prod();
    let pod = &d["spec"]["template"]["spec"];
    let sidecar = &pod["initContainers"][0];
    assert_eq!(sidecar["name"], "config-sync");
    assert_eq!(sidecar["restartPolicy"], "Always");
    assert_eq!(sidecar["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(sidecar["readinessProbe"]["httpGet"]["path"], "/readyz");
    // The app starts only after the first version is on disk.
    assert_eq!(sidecar["startupProbe"]["httpGet"]["path"], "/readyz");
    let app = &pod["containers"][0];
    let app_mount = app["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "berth-config")
        .unwrap();
    assert_eq!(app_mount["readOnly"], true);
    let side_mount = sidecar["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "berth-config")
        .unwrap();
    assert_eq!(side_mount["mountPath"], app_mount["mountPath"]);
    assert!(
        app["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "BERTH_CONFIG_DIR" && e["value"] == "/config/current")
    );
    // An HTTP reload needs no shared process namespace.
    assert!(pod.get("shareProcessNamespace").is_none());
}

#[test]
fn the_rendered_arguments_are_accepted_by_berth_config_sync() {
    let d = render_gateway_prod();
    let args: Vec<String> = d["spec"]["template"]["spec"]["initContainers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(args[0], "config-sync");
    // The real binary parses them: with an unreachable source it must get past flag parsing
    // (exit 2 is reserved for bad flags) — so ask clap only, via --help appended after the args.
    let mut with_help = args.clone();
    with_help.push("--help".into());
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(&with_help)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And the values parse as the sidecar will parse them.
    for a in &args[1..] {
        if let Some(r) = a.strip_prefix("--reload=") {
            berth_sync::config::ReloadSpec::parse(r).unwrap();
        }
        if let Some(s) = a.strip_prefix("--source=") {
            berth_sync::config::SourceSpec::parse(s).unwrap();
        }
    }
    assert!(
        args.iter()
            .any(|a| a == "--health-url=http://127.0.0.1:4000/health/readiness")
    );
}
