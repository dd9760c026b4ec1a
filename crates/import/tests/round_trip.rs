//! Proof (c): `berth render --format compose` of an imported spec is a compose file the real
//! `docker compose config` accepts, with the same services, images and ports as the original
//! (for what the import kept as services; placeholder tags compared by repository).

mod common;
use common::*;
use serde_json::Value;
use std::process::Command;

fn repository(image: &str) -> String {
    let (reg, repo, _, _) = berth_import::catalogue::split_image(image);
    if reg.is_empty() {
        repo
    } else {
        format!("{reg}/{repo}")
    }
}

#[test]
fn imported_specs_render_to_compose_docker_compose_accepts() {
    let features = features();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, dir) in corpus_projects() {
        let Ok(project) = load(&dir) else { continue };
        let Ok(imp) = berth_import::import(&project, &features, &berth_import::compose::RealFiles)
        else {
            continue;
        };
        let loaded = load_spec(&imp).unwrap();
        let files = berth_emit::compose(&loaded.apps);
        let tmp = tempfile::tempdir().unwrap();
        berth_emit::write_atomic(tmp.path(), &files).unwrap();
        let out = Command::new(docker_compose())
            .args(["config", "--format", "json"])
            .current_dir(tmp.path())
            .env_clear()
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{name}: docker compose refused the rendered compose.yaml: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        checked += 1;
        let model: Value = serde_json::from_slice(&out.stdout).unwrap();
        let original = project.model.to_json();
        for m in imp.report.services.iter().filter(|m| m.as_ == "service") {
            let Some(rendered) = model["services"].get(&m.name) else {
                failures.push(format!(
                    "{name}: service {} missing from the rendered compose",
                    m.name
                ));
                continue;
            };
            let orig = &original["services"][&m.compose];
            if let Some(img) = orig["image"].as_str() {
                let got = rendered["image"].as_str().unwrap_or("");
                if repository(got) != repository(img) {
                    failures.push(format!(
                        "{name}: {}: image {got}, compose had {img}",
                        m.name
                    ));
                }
                let (_, _, tag, _) = berth_import::catalogue::split_image(img);
                if tag.as_deref().is_some_and(|t| t != "latest")
                    && got != img
                    && !got.starts_with(&format!("{img}@"))
                {
                    failures.push(format!(
                        "{name}: {}: image {got}, compose had {img}",
                        m.name
                    ));
                }
            }
            // The port the spec kept is the container port the rendered file publishes.
            let spec_port = loaded.apps[0]
                .services
                .iter()
                .find(|s| s.name == m.name)
                .and_then(|s| s.port);
            if let Some(p) = spec_port {
                let orig_ports: Vec<u64> = orig["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x["target"].as_u64())
                    .chain(
                        orig["expose"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|x| x.as_str().and_then(|s| s.parse().ok())),
                    )
                    .collect();
                let fallback_port = !orig_ports.contains(&(p as u64));
                let rendered_ports: Vec<u64> = rendered["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x["target"].as_u64())
                    .chain(
                        rendered["expose"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|x| x.as_str().and_then(|s| s.parse().ok())),
                    )
                    .collect();
                if !fallback_port && !rendered_ports.contains(&(p as u64)) {
                    failures.push(format!(
                        "{name}: {}: port {p} not in the rendered compose ({rendered_ports:?})",
                        m.name
                    ));
                }
            }
        }
    }
    println!("{checked} rendered compose files accepted by docker compose");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
