//! Exit codes shared by every command: 0 success, 1 failure (or findings), 2 bad input or usage.

use std::process::ExitCode;

/// Why a command stopped. Bad input (the user's spec, manifests or flags) exits 2,
/// anything else (IO, network, a tool we called) exits 1.
#[derive(Debug)]
pub(crate) enum Failure {
    BadInput(miette::Report),
    Failed(miette::Report),
}

impl Failure {
    pub(crate) fn bad_input(report: impl Into<miette::Report>) -> Self {
        Failure::BadInput(report.into())
    }
    pub(crate) fn failed(report: impl Into<miette::Report>) -> Self {
        Failure::Failed(report.into())
    }
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Failure::BadInput(_) => ExitCode::from(2),
            Failure::Failed(_) => ExitCode::from(1),
        }
    }
    pub(crate) fn report(&self) -> &miette::Report {
        match self {
            Failure::BadInput(r) | Failure::Failed(r) => r,
        }
    }
}

pub(crate) type CmdResult = Result<ExitCode, Failure>;
