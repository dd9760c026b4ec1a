//! berth config-sync: a sidecar that syncs config from S3 or a folder into `<root>/current`,
//! validated, swapped atomically, reloaded, verified and rolled back on failure.
//!
//! The decision logic is the pure [`machine`]; [`daemon`] is the IO shell around it.

pub mod config;
pub mod daemon;
pub mod hash;
pub mod journal;
pub mod layout;
pub mod machine;
pub mod reload;
pub mod server;
pub mod source;
pub mod validate;
pub mod verify;

pub use config::{Config, ManifestMode, ReloadSpec, SourceSpec, parse_duration};
pub use daemon::{CRASH_ENV, run};

/// Run the daemon on a fresh single-threaded tokio runtime until SIGINT or SIGTERM.
/// For callers that are not async (the `berth` binary).
pub fn run_blocking(config: Config) -> Result<(), String> {
    // One thread is plenty for a poll loop and four endpoints, and keeps the RSS small.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    rt.block_on(async move {
        let shutdown = async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => return std::future::pending().await,
                };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        };
        run(config, shutdown).await
    })
}
