//! The root context: compiles the plugin configuration once per
//! `on_configure` and hands the compiled policy to every HTTP context.

use crate::abi;
use crate::filter::CorsFilter;
use crate::logger;
use crate::metrics::Metrics;
use bucket_cors_core::{Counter, Policy};
use std::rc::Rc;

#[derive(Default)]
pub struct CorsRoot {
    /// The last configuration that compiled; a refused one leaves it in place.
    policy: Option<Rc<Policy>>,
    metrics: Option<Rc<Metrics>>,
}

impl CorsRoot {
    pub fn on_vm_start(&mut self) -> bool {
        self.metrics = Metrics::define().map(Rc::new);
        true
    }

    pub fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        logger::follow_host_level();
        let accepted = self.configure(plugin_configuration_size);
        if !accepted {
            if let Some(metrics) = &self.metrics {
                metrics.increment(Counter::ConfigInvalid);
            }
        }
        accepted
    }

    pub fn new_filter(&self) -> CorsFilter {
        CorsFilter::new(self.policy.clone(), self.metrics.clone())
    }

    fn configure(&mut self, plugin_configuration_size: usize) -> bool {
        let bytes = match abi::plugin_configuration(plugin_configuration_size) {
            Ok(bytes) if !bytes.is_empty() => bytes,
            Ok(_) | Err(abi::NOT_FOUND) => {
                log::error!("invalid plugin configuration: none given; configure at least {{\"buckets\": {{}}}}");
                return false;
            }
            Err(status) => {
                log::error!("cannot read the plugin configuration: {status:?}");
                return false;
            }
        };
        match Policy::from_json(&bytes) {
            Ok(policy) => {
                log::info!("configured {} buckets", policy.bucket_count());
                log_lints(&policy);
                self.policy = Some(Rc::new(policy));
                true
            }
            Err(errors) => {
                log::error!(
                    "invalid plugin configuration, {} errors; refused as a whole",
                    errors.len()
                );
                for e in errors.iter() {
                    log::error!("invalid plugin configuration: {e}");
                }
                false
            }
        }
    }
}

/// The core's lint lines (capped), one warning each; the configuration is
/// accepted either way: lints are never errors.
fn log_lints(policy: &Policy) {
    for line in policy.lint_log_lines() {
        log::warn!("{line}");
    }
}
