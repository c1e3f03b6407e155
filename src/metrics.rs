//! Envoy counters for the core's outcomes, defined once per VM.

use bucket_cors_core::Counter;
use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

/// The host's id of every counter, at [`Counter::index`].
pub struct Metrics {
    ids: [u32; Counter::ALL.len()],
}

impl Metrics {
    /// Defines every counter; `None` (logged) if the host refuses one.
    pub fn define() -> Option<Metrics> {
        let mut ids = [0; Counter::ALL.len()];
        for counter in Counter::ALL {
            match hostcalls::define_metric(MetricType::Counter, counter.name()) {
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

    /// Adds one to `counter`: one host call, so counts reach `/stats` at once
    /// rather than batched on a timer.
    pub fn increment(&self, counter: Counter) {
        if let Some(&id) = self.ids.get(counter.index()) {
            if let Err(status) = hostcalls::increment_metric(id, 1) {
                log::warn!("cannot increment metric {}: {status:?}", counter.name());
            }
        }
    }
}
