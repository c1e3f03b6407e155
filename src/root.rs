//! The root context: compiles the plugin configuration once per
//! `on_configure` and hands the compiled policy to every HTTP context.

use crate::filter::CorsFilter;
use crate::metrics::Metrics;
use bucket_cors_core::{Counter, Policy};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType};
use std::rc::Rc;

#[derive(Default)]
pub struct CorsRoot {
    /// The last configuration that compiled; a refused one leaves it in place.
    policy: Option<Rc<Policy>>,
    metrics: Option<Rc<Metrics>>,
}

impl Context for CorsRoot {}

impl RootContext for CorsRoot {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        self.metrics = Metrics::define().map(Rc::new);
        true
    }

    fn on_configure(&mut self, plugin_configuration_size: usize) -> bool {
        // Follow Envoy's log level for this plugin, so debug lines (report-only
        // decisions) cross the Wasm boundary only when someone asked for them.
        if let Ok(level) = hostcalls::get_log_level() {
            proxy_wasm::set_log_level(level);
        }
        let accepted = self.configure(plugin_configuration_size);
        if !accepted {
            if let Some(metrics) = &self.metrics {
                metrics.increment(Counter::ConfigInvalid);
            }
        }
        accepted
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(CorsFilter::new(
            self.policy.clone(),
            self.metrics.clone(),
        )))
    }
}

impl CorsRoot {
    fn configure(&mut self, plugin_configuration_size: usize) -> bool {
        let bytes = match hostcalls::get_buffer(
            BufferType::PluginConfiguration,
            0,
            plugin_configuration_size,
        ) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
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
