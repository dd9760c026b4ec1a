//! The IO shell around the pure machine: polling, staging, validating, swapping, reloading,
//! verifying, the journal, the HTTP endpoints, backoff, and the fault-injection hook.

use crate::config::Config;
use crate::journal::Journal;
use crate::layout::Layout;
use crate::machine::{Event, Io, Machine, Record, Step, check_journal, recover};
use crate::reload::Reloader;
use crate::server::{Shared, now_unix};
use crate::source::{Fetched, Limits, Listing, Source};
use crate::validate::Validator;
use crate::verify::Verifier;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Environment variable naming a step at which the process kills itself with SIGKILL (for the
/// crash tests): a journal record kind (`observed`, `validated`, `published`, `swapped`,
/// `reload_sent`, `verified`, `committed`, `unhealthy`, `rolled_back`, …, right after that record
/// is fsync'd) or `swap-rename` (right after the `current` rename, before `swapped` is journaled).
pub const CRASH_ENV: &str = "BERTH_SYNC_CRASH_AT";

pub fn log(level: &str, msg: &str) {
    let line = serde_json::json!({ "ts": now_unix(), "level": level, "msg": msg });
    eprintln!("{line}");
}

fn crash_point(at: &Option<String>, step: &str) {
    if at.as_deref() == Some(step) {
        log("warn", &format!("{CRASH_ENV}={step}: killing myself"));
        // SAFETY: signalling our own process.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

struct Daemon {
    config: Config,
    layout: Layout,
    journal: Journal,
    machine: Machine,
    validator: Validator,
    reloader: Reloader,
    verifier: Verifier,
    shared: Arc<Shared>,
    staging: Option<PathBuf>,
    crash_at: Option<String>,
    repoll: bool,
    aborted: bool,
}

/// Run until `shutdown` resolves. Errors are setup errors (bad flags, unusable root, port in use).
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), String> {
    let (source_spec, reload_spec) = config.parsed().map_err(|e| e.to_string())?;
    let source = Source::new(&source_spec, config.request_timeout).map_err(|e| e.to_string())?;
    let validator = Validator::new(
        config.schema.as_deref(),
        config.validate_cmd.clone(),
        config.validate_timeout,
    )?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let layout = Layout::new(&config.root, config.kubelet_compatible);
    layout
        .prepare()
        .map_err(|e| format!("--root {}: {e}", config.root.display()))?;
    let (journal, records) =
        Journal::open(&layout.journal()).map_err(|e| format!("journal: {e}"))?;
    if let Err(e) = check_journal(&records) {
        log(
            "error",
            &format!(
                "journal {} breaks an invariant: {e}",
                layout.journal().display()
            ),
        );
    }
    let disk_current = layout.read_current();
    let (mut machine, first) = recover(&records, disk_current.as_deref());
    machine.verify_initial = config.verify_initial;
    let shared = Shared::new(&config.source, config.stale_after);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", config.listen))?;
    let app = crate::server::router(shared.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            log("error", &format!("HTTP server: {e}"));
        }
    });
    log(
        "info",
        &format!(
            "config-sync starting: source {} root {} current {:?} last committed {:?}",
            config.source,
            config.root.display(),
            disk_current,
            machine.committed.as_ref().map(|v| v.dir_name())
        ),
    );
    let verifier = Verifier {
        client: client.clone(),
        health_url: config.health_url.clone(),
        version_url: config.config_version_url.clone(),
        count: config.healthy_count,
        interval: config.verify_interval,
        timeout: config.verify_timeout,
    };
    let reloader = Reloader::new(
        reload_spec,
        config.reload_timeout,
        config.reload_retries,
        config.min_reload_interval,
        client,
    );
    let mut d = Daemon {
        layout,
        journal,
        machine,
        validator,
        reloader,
        verifier,
        shared: shared.clone(),
        staging: None,
        crash_at: std::env::var(CRASH_ENV).ok().filter(|s| !s.is_empty()),
        repoll: false,
        aborted: false,
        config,
    };
    d.shared.sync_machine(&d.machine);
    d.drive(first).await;

    let (wake_tx, mut wake_rx) = tokio::sync::mpsc::channel::<()>(1);
    let _watcher = match &source_spec {
        crate::config::SourceSpec::Dir(dir) => {
            Some(watch(dir, d.config.debounce, wake_tx.clone())?)
        }
        _ => None,
    };
    {
        // SIGHUP to the sidecar: poll now.
        let tx = wake_tx.clone();
        if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    let _ = tx.try_send(());
                }
            });
        }
    }
    tokio::pin!(shutdown);
    let mut last_listing: Option<Listing> = None;
    let mut last_full = Instant::now();
    let mut delay = Duration::ZERO;
    let mut rng = Jitter::new();
    let limits = Limits {
        manifest: d.config.manifest,
        max_file_bytes: d.config.max_file_bytes,
        max_total_bytes: d.config.max_total_bytes,
    };
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(delay) => {}
            _ = wake_rx.recv() => {}
        }
        n += 1;
        let forced = last_full.elapsed() >= d.config.resync_interval;
        if forced {
            last_full = Instant::now();
        }
        let staging = match d.layout.new_staging(n) {
            Ok(p) => p,
            Err(e) => {
                let fails = d.shared.poll_failed(format!("staging: {e}"));
                delay = rng.backoff(d.config.poll_interval, d.config.max_backoff, fails);
                continue;
            }
        };
        let machine = &d.machine;
        let known = |h: &str| !machine.wants(h);
        let shared = d.shared.clone();
        let on_download = move |busy: bool| shared.status().fetching = busy;
        let result = source
            .fetch(
                &staging,
                &limits,
                last_listing.as_ref(),
                forced,
                &known,
                &on_download,
            )
            .await;
        delay = rng.jitter(d.config.poll_interval);
        match result {
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                let fails = d.shared.poll_failed(e.to_string());
                delay = rng.backoff(d.config.poll_interval, d.config.max_backoff, fails);
                log(
                    "warn",
                    &format!("poll failed ({fails} in a row), next try in {delay:?}: {e}"),
                );
            }
            Ok(fetched) => {
                d.shared.poll_ok();
                match fetched {
                    Fetched::Unchanged => {
                        let _ = std::fs::remove_dir_all(&staging);
                    }
                    Fetched::NotReady(why) => {
                        let _ = std::fs::remove_dir_all(&staging);
                        d.shared.status().last_poll_error = Some(why);
                    }
                    Fetched::Known { listing } => {
                        let _ = std::fs::remove_dir_all(&staging);
                        last_listing = Some(listing);
                    }
                    Fetched::Candidate {
                        hash,
                        listing,
                        stable,
                        files,
                    } => {
                        if d.machine.wants(&hash) {
                            log(
                                "info",
                                &format!(
                                    "source has new content {hash} ({files} files){}",
                                    if stable {
                                        ""
                                    } else {
                                        ", changed while downloading"
                                    }
                                ),
                            );
                        }
                        d.staging = Some(staging);
                        d.repoll = false;
                        d.aborted = false;
                        let step = d.machine.handle(Event::Candidate { hash, stable });
                        d.drive(step).await;
                        if d.repoll {
                            delay = Duration::ZERO;
                        } else if stable && !d.aborted {
                            last_listing = Some(listing);
                        }
                    }
                }
            }
        }
    }
    log("info", "config-sync stopping");
    Ok(())
}

impl Daemon {
    /// Journal the step's records, perform its IO, feed the outcome back; until nothing is left.
    async fn drive(&mut self, mut step: Step) {
        loop {
            for r in &step.records {
                self.append(r).await;
            }
            self.shared.sync_machine(&self.machine);
            let Some(io) = step.io.take() else { break };
            let event = match io {
                Io::Validate(v) => {
                    let dir = self.staging.clone().expect("a staged candidate");
                    match self.validator.validate(&dir, &v.hash).await {
                        Ok(()) => Event::Ok,
                        Err(r) => {
                            self.shared
                                .metrics
                                .rejections
                                .get_or_create(&vec![("reason".into(), r.label.into())])
                                .inc();
                            Event::Failed(format!("{}: {}", r.label, r.message))
                        }
                    }
                }
                Io::Publish(v) => {
                    let dir = self.staging.take().expect("a staged candidate");
                    let layout = self.layout.clone();
                    let name = v.dir_name();
                    match tokio::task::spawn_blocking(move || layout.publish(&dir, &name)).await {
                        Ok(Ok(_)) => Event::Ok,
                        Ok(Err(e)) => Event::Failed(e.to_string()),
                        Err(e) => Event::Failed(e.to_string()),
                    }
                }
                Io::Swap(target) => {
                    let crash = self.crash_at.clone();
                    match self
                        .layout
                        .swap(target.as_ref().map(|v| v.dir_name()).as_deref(), || {
                            crash_point(&crash, "swap-rename")
                        }) {
                        Ok(()) => Event::Ok,
                        Err(e) => Event::Failed(e.to_string()),
                    }
                }
                Io::Reload(v) => {
                    let dir = self.layout.current();
                    let t0 = Instant::now();
                    let r = self.reloader.reload(&dir, &v.hash).await;
                    self.shared
                        .metrics
                        .reload_duration
                        .observe(t0.elapsed().as_secs_f64());
                    match r {
                        Ok(()) => Event::Ok,
                        Err(e) => Event::Failed(e),
                    }
                }
                Io::Verify(v) => match self.verifier.verify(&v.hash).await {
                    Ok(()) => Event::Ok,
                    Err(e) => Event::Failed(e),
                },
                Io::Discard | Io::Repoll => {
                    if let Some(dir) = self.staging.take() {
                        let _ = std::fs::remove_dir_all(dir);
                    }
                    self.repoll = io == Io::Repoll;
                    break;
                }
                Io::Prune => {
                    let mut protect = vec![];
                    protect.extend(self.machine.committed.as_ref().map(|v| v.dir_name()));
                    protect.extend(self.machine.current.as_ref().map(|v| v.dir_name()));
                    if let Err(e) = self.layout.prune(self.config.keep_versions, &protect) {
                        log("warn", &format!("pruning old versions: {e}"));
                    }
                    break;
                }
            };
            step = self.machine.handle(event);
        }
        if let Some(dir) = self.staging.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        self.shared.sync_machine(&self.machine);
    }

    /// Append a record, retrying (and keeping the current version served) while the disk refuses.
    async fn append(&mut self, r: &Record) {
        let mut pause = Duration::from_millis(200);
        while let Err(e) = self.journal.append(r) {
            log(
                "error",
                &format!(
                    "journal {}: {e}; retrying in {pause:?}",
                    self.journal.path().display()
                ),
            );
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(30));
        }
        let m = &self.shared.metrics;
        match r {
            Record::Observed { .. } => {
                m.changes.inc();
            }
            Record::Committed { .. } => {
                m.commits.inc();
                m.last_committed.set(now_unix());
            }
            Record::RolledBack { .. } => {
                m.rollbacks.inc();
            }
            Record::Superseded { .. } => {
                m.superseded.inc();
            }
            Record::Aborted { .. } => self.aborted = true,
            _ => {}
        }
        log(
            "info",
            &format!(
                "generation {}: {}",
                r.generation(),
                serde_json::to_string(r).unwrap_or_default()
            ),
        );
        crash_point(&self.crash_at, r.kind());
    }
}

/// Wake the poll loop on any change under `dir` (debounced); the loop then lists and hashes, so
/// event kinds never matter (kubelet `..data` swaps show up as renames only).
fn watch(
    dir: &std::path::Path,
    debounce: Duration,
    tx: tokio::sync::mpsc::Sender<()>,
) -> Result<
    notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
    String,
> {
    use notify::RecursiveMode;
    let mut debouncer = notify_debouncer_full::new_debouncer(
        debounce,
        None,
        move |res: notify_debouncer_full::DebounceEventResult| {
            // Any change wakes the loop; reads must not (our own polls open the files, and
            // every poll would trigger the next). Errors (e.g. queue overflow): poll anyway.
            let wake = match &res {
                Ok(events) => events
                    .iter()
                    .any(|e| !matches!(e.event.kind, notify::EventKind::Access(_))),
                Err(_) => true,
            };
            if wake {
                let _ = tx.try_send(());
            }
        },
    )
    .map_err(|e| format!("watching {}: {e}", dir.display()))?;
    debouncer
        .watch(dir, RecursiveMode::Recursive)
        .map_err(|e| format!("watching {}: {e}", dir.display()))?;
    Ok(debouncer)
}

/// Small xorshift for jitter (no need for a CSPRNG here).
struct Jitter(u64);

impl Jitter {
    fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ u64::from(std::process::id()).rotate_left(32);
        Jitter(seed | 1)
    }
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// The poll interval ±10 %.
    fn jitter(&mut self, base: Duration) -> Duration {
        base.mul_f64(0.9 + 0.2 * self.next_f64())
    }
    /// Exponential backoff from the poll interval, capped, with "equal jitter" (half fixed, half random).
    fn backoff(&mut self, base: Duration, max: Duration, failures: u32) -> Duration {
        let exp = base
            .saturating_mul(1u32 << failures.min(16))
            .min(max.max(base));
        exp.mul_f64(0.5 + 0.5 * self.next_f64())
    }
}
