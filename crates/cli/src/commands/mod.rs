//! One module per command; `run` dispatches. Without the `full` feature only `config-sync` is
//! built: the slim sidecar binary (see `Dockerfile`).

#[cfg(feature = "full")]
mod app;
#[cfg(feature = "full")]
mod atomic;
#[cfg(feature = "full")]
mod build;
#[cfg(feature = "full")]
mod capacity;
#[cfg(feature = "full")]
mod check;
mod config_sync;
#[cfg(feature = "full")]
mod graph;
#[cfg(feature = "full")]
mod import;
#[cfg(feature = "full")]
mod meta;
#[cfg(feature = "full")]
mod operate;
#[cfg(feature = "full")]
mod provenance;
#[cfg(feature = "full")]
mod render;
#[cfg(feature = "full")]
mod runbook;
#[cfg(feature = "full")]
mod seal;
#[cfg(feature = "full")]
mod secret;
#[cfg(feature = "full")]
mod timing;
#[cfg(feature = "full")]
mod unseal;

use crate::cli::Command;
use crate::failure::CmdResult;

pub(crate) fn run(command: Command) -> CmdResult {
    match command {
        #[cfg(feature = "full")]
        Command::Build(args) => build::run(args),
        #[cfg(feature = "full")]
        Command::Render(args) => render::run(args),
        #[cfg(feature = "full")]
        Command::Seal(args) => seal::run(args),
        #[cfg(feature = "full")]
        Command::Unseal(args) => unseal::run(args),
        #[cfg(feature = "full")]
        Command::Check(args) => check::run(args),
        #[cfg(feature = "full")]
        Command::Explain(args) => provenance::explain(args),
        #[cfg(feature = "full")]
        Command::DiffEnv(args) => provenance::diff_env(args),
        #[cfg(feature = "full")]
        Command::Capacity(args) => capacity::run(args),
        #[cfg(feature = "full")]
        Command::Graph(args) => graph::run(args),
        #[cfg(feature = "full")]
        Command::Runbook(args) => runbook::run(args),
        Command::ConfigSync(args) => config_sync::run(args),
        #[cfg(feature = "full")]
        Command::Secret(command) => secret::run(command),
        #[cfg(feature = "full")]
        Command::Import(args) => import::run(args),
        #[cfg(feature = "full")]
        Command::Init(args) => import::init(args),
        #[cfg(feature = "full")]
        Command::Schema => meta::schema(),
        #[cfg(feature = "full")]
        Command::Completions(args) => meta::completions(args),
        #[cfg(feature = "full")]
        Command::Man => meta::man(),
    }
}
