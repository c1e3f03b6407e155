//! Envoy counters for the core's outcomes, defined once per filter configuration with the same
//! names as the Wasm filter's.

use crate::host::{ConfigHost, FilterHost};
use bucket_cors_core::{Counter, CounterIds};

/// Envoy's id of every counter.
pub struct Metrics(CounterIds<usize>);

impl Metrics {
    /// Defines every counter; `None` (logged) if Envoy refuses one.
    pub fn define(host: &ConfigHost) -> Option<Metrics> {
        CounterIds::define(|name| host.define_counter(name)).map(Metrics)
    }

    /// Adds one to `counter` from a stream.
    pub fn increment(&self, host: &FilterHost, counter: Counter) {
        self.0.increment(counter, |id| host.increment_counter(id));
    }

    /// Adds one to `counter` from the configuration (no stream: a refused configuration).
    pub fn increment_on_config(&self, host: &ConfigHost, counter: Counter) {
        self.0.increment(counter, |id| host.increment_counter(id));
    }
}
