//! Every flag of every command, defined once. Help, the man page and shell completions
//! are all generated from these definitions.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "One short spec (berth.yaml) to a verified, production-grade Kubernetes deployment",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    pub fn use_color(self) -> bool {
        match self {
            Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            Color::Always => true,
            Color::Never => false,
        }
    }
}

/// Output format for commands whose result scripts may want to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every environment of an app into APP/out/ and print a summary.
    Build(BuildArgs),
    /// Render one environment of an app as Kubernetes manifests.
    Render(RenderArgs),
    /// Print the JSON Schema of berth.yaml (for editor completion and validation).
    Schema,
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// App directory (holding berth.yaml) or the spec file itself.
    #[arg(default_value = ".")]
    pub app: PathBuf,
    /// Summary format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Where to write (default: APP/out).
    #[arg(long = "out-dir")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// App directory (holding berth.yaml) or the spec file itself.
    #[arg(default_value = ".")]
    pub app: PathBuf,
    /// Environment to render (one of the spec's `environments`).
    #[arg(short = 'e', long = "env")]
    pub env: Option<String>,
    /// Write one file per object (and all.yaml) into DIR, atomically, instead of stdout.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
