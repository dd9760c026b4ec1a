//! The `berth` binary: parses flags (defined once, in `cli.rs`) and hands off to one module per command.

mod cli;
mod commands;
mod failure;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version itself; usage errors exit 2 like bad input.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(cli.color.use_color())
                .build(),
        )
    }))
    .ok();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("{:?}", failure.report());
            failure.exit_code()
        }
    }
}
