//! `berth config-sync`: the sidecar daemon. The flags live in `cli.rs`; the daemon in `berth-sync`.

use crate::cli::ConfigSyncArgs;
use crate::failure::{CmdResult, Failure};
use std::process::ExitCode;

pub(super) fn run(args: ConfigSyncArgs) -> CmdResult {
    let config = to_config(args).map_err(|e| {
        Failure::bad_input(miette::miette!(
            help = "see `berth config-sync --help`",
            "{e}"
        ))
    })?;
    config.parsed().map_err(|e| {
        Failure::bad_input(miette::miette!(
            help = "see `berth config-sync --help`",
            "{e}"
        ))
    })?;
    berth_sync::run_blocking(config)
        .map_err(|e| Failure::failed(miette::miette!("config-sync: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

fn to_config(a: ConfigSyncArgs) -> Result<berth_sync::Config, String> {
    Ok(berth_sync::Config {
        source: a.source,
        root: a.root,
        validate_cmd: a.validate_cmd,
        validate_timeout: a.validate_timeout,
        schema: a.schema,
        reload: a.reload,
        reload_timeout: a.reload_timeout,
        reload_retries: a.reload_retries,
        min_reload_interval: a.min_reload_interval,
        health_url: a.health_url,
        config_version_url: a.config_version_url,
        healthy_count: a.healthy_count,
        verify_initial: a.verify_initial,
        verify_timeout: a.verify_timeout,
        verify_interval: a.verify_interval,
        poll_interval: a.poll_interval,
        max_backoff: a.max_backoff,
        resync_interval: a.resync_interval,
        debounce: a.debounce,
        stale_after: a.stale_after,
        request_timeout: a.request_timeout,
        listen: a.listen,
        kubelet_compatible: a.kubelet_compatible,
        manifest: a
            .manifest
            .parse()
            .map_err(|e: berth_sync::config::ConfigError| e.to_string())?,
        keep_versions: a.keep_versions,
        max_file_bytes: a.max_file_bytes,
        max_total_bytes: a.max_total_bytes,
    })
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;

    /// The flags' defaults and the daemon's `Config::default` are the same settings (both read
    /// `berth_sync::config::defaults`; this catches a flag that maps to the wrong field).
    #[test]
    fn flag_defaults_are_the_daemons_defaults() {
        let cli = Cli::try_parse_from(["berth", "config-sync", "--source", "file:///srv/config"])
            .unwrap();
        let Command::ConfigSync(args) = cli.command else {
            panic!("config-sync parses as config-sync")
        };
        let from_flags = super::to_config(args).unwrap();
        let default = berth_sync::Config {
            source: "file:///srv/config".into(),
            ..Default::default()
        };
        assert_eq!(format!("{from_flags:?}"), format!("{default:?}"));
    }
}
