//! `/healthz`, `/readyz`, `/status` (JSON) and `/metrics` (OpenMetrics) on `--listen`.

use crate::machine::{Machine, Ver};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Serialize;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

type Labels = Vec<(String, String)>;

pub struct Metrics {
    pub polls: Family<Labels, Counter>,
    pub changes: Counter,
    pub rejections: Family<Labels, Counter>,
    pub commits: Counter,
    pub rollbacks: Counter,
    pub superseded: Counter,
    pub reload_duration: Histogram,
    pub last_successful_poll: Gauge<f64, AtomicU64>,
    pub last_committed: Gauge<f64, AtomicU64>,
    pub degraded: Gauge,
    pub unfinished: Gauge,
}

impl Metrics {
    fn new(registry: &mut Registry) -> Metrics {
        let m = Metrics {
            polls: Family::default(),
            changes: Counter::default(),
            rejections: Family::default(),
            commits: Counter::default(),
            rollbacks: Counter::default(),
            superseded: Counter::default(),
            reload_duration: Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            last_successful_poll: Gauge::default(),
            last_committed: Gauge::default(),
            degraded: Gauge::default(),
            unfinished: Gauge::default(),
        };
        registry.register("polls", "Polls of the source, by result", m.polls.clone());
        registry.register(
            "changes",
            "New versions observed in the source",
            m.changes.clone(),
        );
        registry.register(
            "rejected",
            "Versions rejected by validation, by reason",
            m.rejections.clone(),
        );
        registry.register("commits", "Versions committed", m.commits.clone());
        registry.register(
            "rollbacks",
            "Versions rolled back after failing verification",
            m.rollbacks.clone(),
        );
        registry.register(
            "superseded",
            "Versions superseded by a newer publish before commit",
            m.superseded.clone(),
        );
        registry.register(
            "reload_duration_seconds",
            "Time to tell the app to reload",
            m.reload_duration.clone(),
        );
        registry.register(
            "last_successful_poll_timestamp_seconds",
            "Unix time of the last successful poll",
            m.last_successful_poll.clone(),
        );
        registry.register(
            "last_committed_timestamp_seconds",
            "Unix time of the last commit",
            m.last_committed.clone(),
        );
        registry.register(
            "degraded",
            "1 when a rollback failed (readiness is 503)",
            m.degraded.clone(),
        );
        registry.register(
            "unfinished_generations",
            "Generations observed but not yet finished (0 or 1)",
            m.unfinished.clone(),
        );
        m
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct VersionInfo {
    pub generation: u64,
    pub hash: String,
    pub dir: String,
}

impl From<&Ver> for VersionInfo {
    fn from(v: &Ver) -> Self {
        VersionInfo {
            generation: v.generation,
            hash: v.hash.clone(),
            dir: format!(".versions/{}", v.dir_name()),
        }
    }
}

#[derive(Clone, Debug, Serialize, Default)]
pub struct Status {
    pub source: String,
    pub phase: String,
    pub current: Option<VersionInfo>,
    pub last_good: Option<VersionInfo>,
    pub pending: Option<VersionInfo>,
    pub quarantined: Option<String>,
    pub degraded: bool,
    pub ready: bool,
    pub fetching: bool,
    pub last_error: Option<String>,
    pub last_poll_error: Option<String>,
    pub consecutive_poll_failures: u32,
    pub last_successful_poll: Option<f64>,
    pub polls: u64,
}

pub struct Shared {
    pub status: Mutex<Status>,
    pub metrics: Metrics,
    pub registry: Registry,
    pub last_success: Mutex<Instant>,
    pub stale_after: Duration,
}

pub fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Shared {
    pub fn new(source: &str, stale_after: Duration) -> Arc<Shared> {
        let mut registry = Registry::with_prefix("config_sync");
        let metrics = Metrics::new(&mut registry);
        Arc::new(Shared {
            status: Mutex::new(Status {
                source: source.to_string(),
                phase: "starting".into(),
                ..Default::default()
            }),
            metrics,
            registry,
            last_success: Mutex::new(Instant::now()),
            stale_after,
        })
    }

    pub fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Copy the machine's view into the status and gauges.
    pub fn sync_machine(&self, m: &Machine) {
        let mut s = self.status();
        s.phase = m.phase.name().into();
        s.current = m.current.as_ref().map(Into::into);
        s.last_good = m.committed.as_ref().map(Into::into);
        s.pending = m.pending().map(Into::into);
        s.quarantined = m.quarantine.clone();
        s.degraded = m.degraded;
        s.ready = m.committed.is_some() && !m.degraded;
        s.last_error = m.last_error.clone();
        self.metrics.degraded.set(i64::from(m.degraded));
        self.metrics
            .unfinished
            .set(i64::from(m.pending().is_some()));
    }

    pub fn poll_ok(&self) {
        *self.last_success.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        let now = now_unix();
        self.metrics.last_successful_poll.set(now);
        self.metrics
            .polls
            .get_or_create(&vec![("result".into(), "ok".into())])
            .inc();
        let mut s = self.status();
        s.consecutive_poll_failures = 0;
        s.last_successful_poll = Some(now);
        s.last_poll_error = None;
        s.polls += 1;
    }

    pub fn poll_failed(&self, err: String) -> u32 {
        self.metrics
            .polls
            .get_or_create(&vec![("result".into(), "error".into())])
            .inc();
        let mut s = self.status();
        s.consecutive_poll_failures += 1;
        s.last_poll_error = Some(err);
        s.polls += 1;
        s.consecutive_poll_failures
    }

    fn live(&self) -> bool {
        self.last_success
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed()
            <= self.stale_after
    }
}

pub fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

async fn healthz(State(s): State<Arc<Shared>>) -> Response {
    if s.live() {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("no successful poll for more than {:?}\n", s.stale_after),
        )
            .into_response()
    }
}

async fn readyz(State(s): State<Arc<Shared>>) -> Response {
    let st = s.status().clone();
    if st.ready {
        (StatusCode::OK, "ready\n").into_response()
    } else if st.degraded {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "degraded: the last rollback failed\n",
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "no version committed yet\n",
        )
            .into_response()
    }
}

async fn status(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(s.status().clone()).into_response()
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    let mut body = String::new();
    if encode(&mut body, &s.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::{Machine, Ver};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).await.unwrap();
        let code = buf.split_whitespace().nth(1).unwrap().parse().unwrap();
        (code, buf.split_once("\r\n\r\n").unwrap().1.to_string())
    }

    #[tokio::test]
    async fn liveness_readiness_status_metrics() {
        let shared = Shared::new("s3://b/p", Duration::from_millis(300));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(axum::serve(listener, router(shared.clone())).into_future());

        // Nothing committed: live, not ready.
        assert_eq!(get(addr, "/healthz").await.0, 200);
        assert_eq!(get(addr, "/readyz").await.0, 503);
        let mut m = Machine::default();
        m.committed = Some(Ver {
            generation: 1,
            hash: "a".repeat(64),
        });
        m.current = m.committed.clone();
        shared.sync_machine(&m);
        assert_eq!(get(addr, "/readyz").await.0, 200);
        m.degraded = true;
        shared.sync_machine(&m);
        let (code, body) = get(addr, "/readyz").await;
        assert_eq!((code, body.contains("degraded")), (503, true));

        // Liveness fails only once no poll has succeeded for stale_after; failed polls don't count.
        shared.poll_ok();
        shared.poll_failed("down".into());
        assert_eq!(get(addr, "/healthz").await.0, 200);
        tokio::time::sleep(Duration::from_millis(400)).await;
        shared.poll_failed("down".into());
        assert_eq!(get(addr, "/healthz").await.0, 503);
        shared.poll_ok();
        assert_eq!(get(addr, "/healthz").await.0, 200);

        let status: serde_json::Value =
            serde_json::from_str(&get(addr, "/status").await.1).unwrap();
        assert_eq!(status["last_good"]["generation"], 1);
        assert_eq!(status["degraded"], true);
        let (code, metrics) = get(addr, "/metrics").await;
        assert_eq!(code, 200);
        assert!(
            metrics.contains("config_sync_polls_total{result=\"error\"} 2"),
            "{metrics}"
        );
        assert!(metrics.contains("config_sync_degraded 1"), "{metrics}");
        assert!(metrics.ends_with("# EOF\n"), "OpenMetrics terminator");
    }
}
