//! Test/benchmark harness: runs the config-sync daemon from the JSON config in
//! `BERTH_SYNC_CONFIG_JSON` (the fields of `berth_sync::Config`). Users run `berth config-sync`.

fn main() -> std::process::ExitCode {
    let raw = std::env::var("BERTH_SYNC_CONFIG_JSON").unwrap_or_default();
    let config: berth_sync::Config = match serde_json::from_str(&raw) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("BERTH_SYNC_CONFIG_JSON: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match berth_sync::run_blocking(config) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("config-sync: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
