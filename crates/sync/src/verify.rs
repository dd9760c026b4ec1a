//! Verifying that the app took a version: `--health-url` must answer 2xx `--healthy-count` times in
//! a row, and when `--config-version-url` is given its body must contain the version hash on each of
//! those passes, all within `--verify-timeout`.

use std::time::{Duration, Instant};

pub struct Verifier {
    pub client: reqwest::Client,
    pub health_url: Option<String>,
    pub version_url: Option<String>,
    pub count: u32,
    pub interval: Duration,
    pub timeout: Duration,
}

impl Verifier {
    pub async fn verify(&self, hash: &str) -> Result<(), String> {
        if self.health_url.is_none() && self.version_url.is_none() {
            return Ok(());
        }
        let deadline = Instant::now() + self.timeout;
        let mut passes = 0;
        let mut last = String::from("no check finished");
        loop {
            match self.check(hash).await {
                Ok(()) => {
                    passes += 1;
                    if passes >= self.count {
                        return Ok(());
                    }
                }
                Err(e) => {
                    passes = 0;
                    last = e;
                }
            }
            if Instant::now() + self.interval > deadline {
                return Err(format!("not healthy within {:?}: {last}", self.timeout));
            }
            tokio::time::sleep(self.interval).await;
        }
    }

    async fn check(&self, hash: &str) -> Result<(), String> {
        let per_request = self.timeout.min(Duration::from_secs(5));
        if let Some(url) = &self.health_url {
            let r = self
                .client
                .get(url)
                .timeout(per_request)
                .send()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            if !r.status().is_success() {
                return Err(format!("GET {url}: HTTP {}", r.status()));
            }
        }
        if let Some(url) = &self.version_url {
            let r = self
                .client
                .get(url)
                .timeout(per_request)
                .send()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            let status = r.status();
            let body = r.text().await.map_err(|e| format!("GET {url}: {e}"))?;
            if !status.is_success() || !body.contains(hash) {
                let short: String = body.chars().take(120).collect();
                return Err(format!(
                    "GET {url}: HTTP {status}, app reports {short:?}, want {hash}"
                ));
            }
        }
        Ok(())
    }
}
