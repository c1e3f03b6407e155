//! The filter configuration: the plugin configuration compiled once (main thread) by the core's
//! configure flow, the counters, and with `rules_source` the cache of store rules, shared by
//! every worker's streams (the cache behind its lock).

use crate::host::ConfigHost;
use crate::metrics::Metrics;
use crate::store::Store;
use bucket_cors_core::{configure, Policy};

pub struct Config {
    pub policy: Policy,
    pub metrics: Option<Metrics>,
    /// With `rules_source`: the process's cache of store rules (spec §8).
    pub store: Option<Store>,
}

/// Every worker reads the one `Config` at once through a raw pointer, which the compiler cannot
/// check: this does (it fails to build if the core ever holds an `Rc` or a `Cell`).
const _: () = {
    const fn shared_by_workers<T: Send + Sync>() {}
    shared_by_workers::<Config>();
};

impl Config {
    /// Compiles `json`; `None` when the core refuses it (every error logged, `config.invalid`
    /// counted), which makes Envoy reject the configuration as the Wasm filter's refusal does.
    pub fn new(json: &[u8], host: &ConfigHost) -> Option<Config> {
        let metrics = Metrics::define(host);
        let policy = configure(json, |counter| {
            if let Some(metrics) = &metrics {
                metrics.increment_on_config(host, counter);
            }
        })?;
        let store = match policy.rules_source() {
            Some(source) => Some(Store::new(source, host)?),
            None => None,
        };
        Some(Config {
            policy,
            metrics,
            store,
        })
    }
}
