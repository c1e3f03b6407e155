//! The filter configuration: the plugin configuration compiled once (main thread) and the
//! counters, shared read-only by every worker's streams.

use crate::host::{log, ConfigHost, Level};
use crate::metrics::Metrics;
use bucket_cors_core::{Counter, Policy};

pub struct Config {
    pub policy: Policy,
    pub metrics: Option<Metrics>,
}

/// Every worker reads the one `Config` at once through a raw pointer, which the compiler cannot
/// check: this does (it fails to build if the core ever holds an `Rc` or a `Cell`).
const _: () = {
    const fn shared_by_workers<T: Send + Sync>() {}
    shared_by_workers::<Config>();
};

impl Config {
    /// Compiles `json`; `None` (every error logged, `config.invalid` counted) when it is
    /// refused, which makes Envoy reject the configuration as the Wasm filter's refusal does.
    pub fn new(json: &[u8], host: &ConfigHost) -> Option<Config> {
        let metrics = Metrics::define(host);
        let policy = compile(json);
        if policy.is_none() {
            if let Some(metrics) = &metrics {
                metrics.increment_on_config(host, Counter::ConfigInvalid);
            }
        }
        Some(Config {
            policy: policy?,
            metrics,
        })
    }
}

fn compile(json: &[u8]) -> Option<Policy> {
    if json.is_empty() {
        log(
            Level::Error,
            "bucket-cors: invalid plugin configuration: none given; configure at least {\"buckets\": {}}",
        );
        return None;
    }
    match Policy::from_json(json) {
        Ok(policy) => {
            log(
                Level::Info,
                &format!("bucket-cors: configured {} buckets", policy.bucket_count()),
            );
            // Lints are warnings: the configuration is accepted either way.
            for line in policy.lint_log_lines() {
                log(Level::Warn, &format!("bucket-cors: {line}"));
            }
            Some(policy)
        }
        Err(errors) => {
            log(
                Level::Error,
                &format!(
                    "bucket-cors: invalid plugin configuration, {} errors; refused as a whole",
                    errors.len()
                ),
            );
            for e in errors.iter() {
                log(
                    Level::Error,
                    &format!("bucket-cors: invalid plugin configuration: {e}"),
                );
            }
            None
        }
    }
}
