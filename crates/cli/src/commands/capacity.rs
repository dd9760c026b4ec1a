//! `berth capacity APP [--env E] [--nodes 3x4cpu16Gi] [--quota]`: the capacity plan of each
//! environment, computed from its rendered objects.

use super::app::{load_app, object, pick_envs, render};
use crate::cli::{CapacityArgs, OutputFormat};
use crate::failure::{CmdResult, Failure};
use berth_operate::capacity;
use miette::miette;
use std::process::ExitCode;

pub(super) fn run(args: CapacityArgs) -> CmdResult {
    let loaded = load_app(&args.app)?;
    let apps = pick_envs(&loaded, args.env.as_deref())?;
    let nodes = match &args.nodes {
        Some(n) => Some(capacity::parse_nodes(n).map_err(|e| {
            Failure::bad_input(miette!(help = "e.g. --nodes 3x4cpu16Gi", "--nodes: {e}"))
        })?),
        None => None,
    };
    let rendered: Vec<_> = apps.iter().map(|a| render(a)).collect();
    if args.quota {
        let mut objects = Vec::new();
        for (app, r) in apps.iter().zip(&rendered) {
            objects.extend(capacity::quota_objects(r, &app.name));
        }
        match args.output {
            OutputFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects})
                )
                .expect("json")
            ),
            OutputFormat::Table => {
                let r = berth_render::Rendered {
                    env: String::new(),
                    namespace: String::new(),
                    namespaces: Vec::new(),
                    objects: objects.into_iter().map(object).collect(),
                    warnings: Vec::new(),
                };
                print!("{}", berth_emit::stream(&r));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut fits = true;
    let mut docs = Vec::new();
    for (i, r) in rendered.iter().enumerate() {
        let plan = capacity::plan(r);
        let fit = nodes.as_ref().map(|n| capacity::fit(r, n));
        fits &= fit.as_ref().is_none_or(|f| f.max.fits);
        match args.output {
            OutputFormat::Json => {
                let mut doc = plan.to_json();
                if let Some(f) = &fit {
                    doc["fit"] = f.to_json();
                    doc["fit"]["nodes"] = args.nodes.clone().into();
                }
                docs.push(doc);
            }
            OutputFormat::Table => {
                if i > 0 {
                    println!();
                }
                print!("{}", plan.to_text());
                if let Some(f) = &fit {
                    println!();
                    println!("nodes {}:", args.nodes.as_deref().unwrap_or_default());
                    print!("{}", f.to_text());
                }
            }
        }
    }
    if args.output == OutputFormat::Json {
        let doc = serde_json::json!({"app": loaded.spec.app, "environments": docs});
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    }
    Ok(if fits {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
