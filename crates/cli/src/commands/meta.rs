//! Commands about berth itself: the spec's JSON Schema, completions and the man page, all
//! generated from the one definition of the command line in `cli.rs`.

use crate::cli::{Cli, CompletionsArgs};
use crate::failure::{CmdResult, Failure};
use clap::CommandFactory;
use miette::miette;
use std::process::ExitCode;

pub(super) fn schema() -> CmdResult {
    let schema = berth_spec::json_schema();
    println!(
        "{}",
        serde_json::to_string_pretty(&schema).expect("schema is JSON")
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn completions(args: CompletionsArgs) -> CmdResult {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "berth", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

pub(super) fn man() -> CmdResult {
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd)
        .render(&mut std::io::stdout())
        .map_err(|e| Failure::failed(miette!("cannot write the man page: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
