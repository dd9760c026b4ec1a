//! One module per command; `run` dispatches.

mod app;
mod build;
mod meta;
mod render;

use crate::cli::Command;
use crate::failure::CmdResult;

pub fn run(command: Command) -> CmdResult {
    match command {
        Command::Build(args) => build::run(args),
        Command::Render(args) => render::run(args),
        Command::Schema => meta::schema(),
        Command::Completions(args) => meta::completions(args),
        Command::Man => meta::man(),
    }
}
