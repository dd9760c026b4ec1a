//! One module per command; `run` dispatches.

mod app;
mod build;
mod check;
mod config_sync;
mod meta;
mod render;
mod seal;
mod secret;
mod unseal;

use crate::cli::Command;
use crate::failure::CmdResult;

pub fn run(command: Command) -> CmdResult {
    match command {
        Command::Build(args) => build::run(args),
        Command::Render(args) => render::run(args),
        Command::Seal(args) => seal::run(args),
        Command::Unseal(args) => unseal::run(args),
        Command::Check(args) => check::run(args),
        Command::Explain(args) => check::explain(args),
        Command::ConfigSync(args) => config_sync::run(args),
        Command::Secret(command) => secret::run(command),
        Command::Schema => meta::schema(),
        Command::Completions(args) => meta::completions(args),
        Command::Man => meta::man(),
    }
}
