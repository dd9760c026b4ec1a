//! The architecture graph: computed from the rendered NetworkPolicies, it must equal what the
//! spec declares (so the picture is also a test of the policies); its SVG is well-formed XML and
//! opens in headless Chromium.

mod common;
use berth_operate::graph;
use common::{examples, repo};
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn policy_edges_equal_the_declared_uses_graph() {
    for (name, loaded) in examples() {
        for app in &loaded.apps {
            let r = berth_render::render(app);
            let g = graph::graph(&r, &app.ingress.namespace);
            let computed = g.triples();
            let declared = graph::declared(app, &r);
            let missing: Vec<_> = declared.difference(&computed).collect();
            let extra: Vec<_> = computed.difference(&declared).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{name}/{}: the policies do not allow {missing:?}; they allow undeclared {extra:?}",
                app.env
            );
            assert!(computed.len() > 4, "{name}/{}: {computed:?}", app.env);
            insta::assert_snapshot!(format!("graph-{name}-{}-mermaid", app.env), g.to_mermaid());
            insta::assert_snapshot!(format!("graph-{name}-{}-dot", app.env), g.to_dot());
            insta::assert_snapshot!(format!("graph-{name}-{}-svg", app.env), g.to_svg());
            insta::assert_json_snapshot!(format!("graph-{name}-{}-json", app.env), g.to_json());
        }
    }
}

/// The graph follows the policies, not the spec: take one egress rule out and its edge goes;
/// open a policy's ingress to every pod and undeclared edges appear.
#[test]
fn edges_come_from_the_policies() {
    let loaded = berth_spec::load(&repo().join("examples/todo")).unwrap();
    let app = loaded.app("prod").unwrap();
    let mut r = berth_render::render(app);
    let base = graph::graph(&r, &app.ingress.namespace).triples();
    let edge = (
        "frontend".to_string(),
        "backend".to_string(),
        "8000/TCP".to_string(),
    );
    assert!(base.contains(&edge), "{base:?}");
    let frontend = r
        .objects
        .iter_mut()
        .find(|o| o.kind == "NetworkPolicy" && o.name == "frontend")
        .unwrap();
    let egress = frontend.body["spec"]["egress"].as_array_mut().unwrap();
    let before = egress.len();
    egress.retain(|rule| !rule.to_string().contains("\"backend\""));
    assert_eq!(egress.len(), before - 1);
    assert!(
        !graph::graph(&r, &app.ingress.namespace)
            .triples()
            .contains(&edge)
    );

    // notifications calls nothing. Allow-all egress alone is not enough (backend's ingress
    // still admits only frontend); with backend's ingress opened too, the edge appears.
    let mut r = berth_render::render(app);
    let edge = (
        "notifications".to_string(),
        "backend".to_string(),
        "8000/TCP".to_string(),
    );
    policy(&mut r, "notifications")["spec"]["egress"] = serde_json::json!([{}]);
    assert!(
        !graph::graph(&r, &app.ingress.namespace)
            .triples()
            .contains(&edge)
    );
    policy(&mut r, "backend")["spec"]["ingress"] = serde_json::json!([{}]);
    let g = graph::graph(&r, &app.ingress.namespace).triples();
    assert!(g.contains(&edge), "{g:?}");
}

fn policy<'a>(r: &'a mut berth_render::Rendered, name: &str) -> &'a mut serde_json::Value {
    &mut r
        .objects
        .iter_mut()
        .find(|o| o.kind == "NetworkPolicy" && o.name == name)
        .unwrap()
        .body
}

fn tools() -> PathBuf {
    std::env::var_os("BERTH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"))
}

#[test]
fn svg_is_well_formed_and_opens_in_headless_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "/usr/bin/chromium is missing: run scripts/setup.d/60-chromium.sh (or scripts/test)"
    );
    let dir = tempfile::tempdir().unwrap();
    for (name, loaded) in examples() {
        let app = loaded.apps.last().unwrap();
        let r = berth_render::render(app);
        let svg = graph::graph(&r, &app.ingress.namespace).to_svg();
        let file = dir.path().join(format!("{name}.svg"));
        std::fs::write(&file, &svg).unwrap();
        // Well-formed: Python's XML parser reads it and finds every node drawn.
        let py = Command::new("python3")
            .args(["-c", "import sys, xml.etree.ElementTree as E; t = E.parse(sys.argv[1]); print(len(t.findall('.//{http://www.w3.org/2000/svg}g')))"])
            .arg(&file)
            .output()
            .expect("python3 runs");
        assert!(
            py.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&py.stderr)
        );
        let groups: usize = String::from_utf8_lossy(&py.stdout).trim().parse().unwrap();
        assert!(groups > 5, "{name}: {groups} groups");
        let shot = dir.path().join(format!("{name}.png"));
        let profile = tempfile::tempdir().unwrap();
        let out = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1800,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", file.display()))
            .output()
            .expect("chromium runs");
        assert!(
            out.status.success(),
            "{name}: chromium failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{name}: no screenshot: {e}"));
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Something was drawn: a blank page compresses to a few hundred bytes.
        assert!(
            png.len() > 10_000,
            "{name}: screenshot is {} bytes",
            png.len()
        );
        if let Some(keep) = std::env::var_os("BERTH_KEEP_SCREENSHOTS") {
            std::fs::copy(&shot, Path::new(&keep).join(format!("{name}.png"))).unwrap();
        }
    }
    let _ = tools();
}
