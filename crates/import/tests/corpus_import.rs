//! Proof (b): every corpus project imports without a crash; each imported spec loads, renders
//! every environment and passes `berth check` at error level; and every service, image,
//! published port and dependency `docker compose config` lists is in the spec or in the report
//! as dropped-with-reason. Prints the totals.

mod common;
use berth_import::Kind;
use common::*;

#[test]
fn every_corpus_project_imports_loads_renders_and_checks() {
    let features = features();
    println!("spec features: {features:?}");
    let (mut imported, mut with_items, mut refused) = (0, 0, 0);
    let mut failures = Vec::new();
    let projects = corpus_projects();
    for (name, dir) in &projects {
        let project = match load(dir) {
            Ok(p) => p,
            Err(e) => {
                refused += 1;
                failures.push(format!("{name}: refused: {e}"));
                continue;
            }
        };
        let imp = match std::panic::catch_unwind(|| {
            berth_import::import(&project, &features, &berth_import::compose::RealFiles)
        }) {
            Ok(Ok(i)) => i,
            Ok(Err(e)) => {
                // A refusal must say why and what to do.
                assert!(e.help.is_some(), "{name}: refused without a fix: {e}");
                println!("{name}: refused: {e}");
                refused += 1;
                continue;
            }
            Err(_) => {
                failures.push(format!("{name}: import crashed"));
                continue;
            }
        };
        imported += 1;
        if !imp.report.items.is_empty() {
            with_items += 1;
        }
        let loaded = match load_spec(&imp) {
            Ok(l) => l,
            Err(e) => {
                failures.push(format!("{name}: spec does not load:\n{e}\n{}", imp.spec));
                continue;
            }
        };
        for f in error_findings(&loaded) {
            failures.push(format!("{name}: check error: {f}"));
        }
        // Nothing silently lost.
        let want = yaml(&dir.join("docker-compose-config.yaml"));
        let tree = berth_yaml::parse_stream(&imp.spec, berth_yaml::Limits::default())[0]
            .root
            .clone()
            .unwrap()
            .unwrap()
            .to_json();
        for (svc, w) in want["services"].as_object().into_iter().flatten() {
            let Some(m) = imp.report.services.iter().find(|m| m.compose == *svc) else {
                failures.push(format!(
                    "{name}: service {svc} is neither in the spec nor in the report"
                ));
                continue;
            };
            let items: Vec<&berth_import::Item> = imp
                .report
                .items
                .iter()
                .filter(|i| i.service.as_deref() == Some(svc.as_str()))
                .collect();
            let berth_svc = tree["services"].get(&m.name);
            let in_deps = tree["dependencies"].get(&m.name).is_some();
            match m.as_ {
                "service" if berth_svc.is_none() => failures.push(format!(
                    "{name}: service {svc} → {} missing from the spec",
                    m.name
                )),
                "dependency" if !in_deps => failures.push(format!(
                    "{name}: dependency {svc} → {} missing from the spec",
                    m.name
                )),
                "dropped" if !items.iter().any(|i| i.kind == Kind::Dropped) => {
                    failures.push(format!("{name}: service {svc} dropped without a reason"))
                }
                _ => {}
            }
            if let Some(image) = w["image"].as_str() {
                let shown = imp.spec.contains(image)
                    || items
                        .iter()
                        .any(|i| i.setting == "image" || i.setting == "build")
                    || m.as_ != "service";
                if !shown {
                    failures.push(format!("{name}: image {image} of {svc} lost"));
                }
            }
            for p in w["ports"].as_array().into_iter().flatten() {
                if p.get("published").is_none() {
                    continue;
                }
                let target = p["target"].as_u64().unwrap() as u16;
                let in_spec = berth_svc.is_some_and(|b| {
                    b["port"] == target
                        || b["ports"]
                            .as_object()
                            .into_iter()
                            .flatten()
                            .any(|(_, p)| *p == target || p["port"] == target)
                });
                let reported = items
                    .iter()
                    .any(|i| i.setting == "ports" && i.what.contains(&target.to_string()));
                if !in_spec && !reported && m.as_ == "service" {
                    failures.push(format!("{name}: published port {target} of {svc} lost"));
                }
                if m.as_ == "dependency" && !items.iter().any(|i| i.setting == "ports") {
                    failures.push(format!(
                        "{name}: published port {target} of dependency {svc} not reported"
                    ));
                }
            }
            for dep in w["depends_on"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                let target = imp
                    .report
                    .services
                    .iter()
                    .find(|x| x.compose == *dep)
                    .map(|x| x.name.clone())
                    .unwrap_or_default();
                let used = berth_svc.is_some_and(|b| {
                    b["uses"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|u| *u == *target)
                });
                let reported = items
                    .iter()
                    .any(|i| i.setting == format!("depends_on.{dep}"));
                if !used && !reported && m.as_ == "service" {
                    failures.push(format!("{name}: dependency {svc} → {dep} lost"));
                }
            }
        }
    }
    println!(
        "import totals: {} projects, {imported} imported, {with_items} with report items, {refused} refused, {} failures",
        projects.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
