//! Envoy counters for the core's outcomes, defined once per VM.

use bucket_cors_core::METRICS;
use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

/// The host's ids of the counters named in [`METRICS`], in that order.
pub struct Metrics {
    ids: Vec<u32>,
}

impl Metrics {
    /// Defines every counter; `None` (logged) if the host refuses one.
    pub fn define() -> Option<Metrics> {
        let mut ids = Vec::with_capacity(METRICS.len());
        for name in METRICS {
            match hostcalls::define_metric(MetricType::Counter, name) {
                Ok(id) => ids.push(id),
                Err(status) => {
                    log::warn!("cannot define metric {name}: {status:?}; counting is off");
                    return None;
                }
            }
        }
        Some(Metrics { ids })
    }

    /// Adds one to the counter at `index` in [`METRICS`].
    pub fn increment(&self, index: usize) {
        if let Some(&id) = self.ids.get(index) {
            if let Err(status) = hostcalls::increment_metric(id, 1) {
                log::warn!("cannot increment metric {}: {status:?}", METRICS[index]);
            }
        }
    }
}
