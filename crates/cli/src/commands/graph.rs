//! `berth graph APP --env E [-o svg|mermaid|dot|json]`: the connections the rendered
//! NetworkPolicies allow.

use super::app::{load_app, pick_env, render};
use crate::cli::{GraphArgs, GraphFormat};
use crate::failure::CmdResult;
use std::process::ExitCode;

pub(super) fn run(args: GraphArgs) -> CmdResult {
    let loaded = load_app(&args.app)?;
    let app = pick_env(&loaded, args.env.as_deref())?;
    let g = berth_operate::graph::graph(&render(app), &app.ingress.namespace);
    match args.output {
        GraphFormat::Svg => print!("{}", g.to_svg()),
        GraphFormat::Mermaid => print!("{}", g.to_mermaid()),
        GraphFormat::Dot => print!("{}", g.to_dot()),
        GraphFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&g.to_json()).expect("json")
        ),
    }
    Ok(ExitCode::SUCCESS)
}
