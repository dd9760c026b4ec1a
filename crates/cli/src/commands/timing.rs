//! `BERTH_TIMINGS=1`: the wall and CPU time of each phase of a command on stderr, to see where
//! a benchmark's time goes (docs/development.md#profiling) without a profiler. CPU time is the
//! calling thread's, so it stays meaningful on a loaded machine where wall time does not.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("BERTH_TIMINGS").is_some_and(|v| !v.is_empty()))
}

/// This thread's CPU time in nanoseconds (Linux: the scheduler's own count), if known.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Runs `f`, and with `BERTH_TIMINGS` set prints how long it took as
/// `timing: NAME: W ms wall, C ms CPU`.
pub(super) fn phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let cpu = thread_cpu_ns();
    let start = Instant::now();
    let out = f();
    let wall = start.elapsed().as_secs_f64() * 1000.0;
    match (cpu, thread_cpu_ns()) {
        (Some(a), Some(b)) => eprintln!(
            "timing: {name}: {wall:.2} ms wall, {:.2} ms CPU",
            (b - a) as f64 / 1e6
        ),
        _ => eprintln!("timing: {name}: {wall:.2} ms wall"),
    }
    out
}
