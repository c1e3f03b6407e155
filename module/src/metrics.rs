//! Envoy counters for the core's outcomes, defined once per filter configuration with the same
//! names as the Wasm filter's.

use crate::host::{ConfigHost, FilterHost};
use bucket_cors_core::Counter;

/// Envoy's id of every counter, at [`Counter::index`].
pub struct Metrics {
    ids: [usize; Counter::ALL.len()],
}

impl Metrics {
    /// Defines every counter; `None` (logged) if Envoy refuses one.
    pub fn define(host: &ConfigHost) -> Option<Metrics> {
        let mut ids = [0; Counter::ALL.len()];
        for counter in Counter::ALL {
            match host.define_counter(counter.name()) {
                Ok(id) => ids[counter.index()] = id,
                Err(status) => {
                    log::warn!(
                        "cannot define metric {}: {status:?}; counting is off",
                        counter.name()
                    );
                    return None;
                }
            }
        }
        Some(Metrics { ids })
    }

    /// Adds one to `counter` from a stream.
    pub fn increment(&self, host: &FilterHost, counter: Counter) {
        if let Some(&id) = self.ids.get(counter.index()) {
            if let Err(status) = host.increment_counter(id) {
                warn_increment(counter, status);
            }
        }
    }

    /// Adds one to `counter` from the configuration (no stream: a refused configuration).
    pub fn increment_on_config(&self, host: &ConfigHost, counter: Counter) {
        if let Some(&id) = self.ids.get(counter.index()) {
            if let Err(status) = host.increment_counter(id) {
                warn_increment(counter, status);
            }
        }
    }
}

fn warn_increment(counter: Counter, status: impl std::fmt::Debug) {
    log::warn!("cannot increment metric {}: {status:?}", counter.name());
}
