//! Envoy counters for the core's outcomes, defined once per VM.

use bucket_cors_core::{Counter, CounterIds};
use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

/// The host's id of every counter.
pub struct Metrics(CounterIds<u32>);

impl Metrics {
    /// Defines every counter; `None` (logged) if the host refuses one.
    pub fn define() -> Option<Metrics> {
        CounterIds::define(|name| hostcalls::define_metric(MetricType::Counter, name)).map(Metrics)
    }

    /// Adds one to `counter`: one host call, so counts reach `/stats` at once
    /// rather than batched on a timer.
    pub fn increment(&self, counter: Counter) {
        self.0
            .increment(counter, |id| hostcalls::increment_metric(id, 1));
    }
}
