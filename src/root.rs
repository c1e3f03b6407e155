//! The root context: hands the plugin configuration to the core's configure
//! flow once per `on_configure` and the compiled policy to every HTTP context.

use crate::filter::CorsFilter;
use crate::metrics::Metrics;
use bucket_cors_core::{configure, Counter, Policy};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType, LogLevel};
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

    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        follow_host_log_level();
        let count = |counter: Counter| {
            if let Some(metrics) = &self.metrics {
                metrics.increment(counter);
            }
        };
        let json = match hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX) {
            Ok(json) => json.unwrap_or_default(),
            Err(status) => {
                log::error!("cannot read the plugin configuration: {status:?}");
                count(Counter::ConfigInvalid);
                return false;
            }
        };
        match configure(&json, count) {
            Some(policy) => {
                self.policy = Some(Rc::new(policy));
                true
            }
            None => false,
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(CorsFilter::new(
            self.policy.clone(),
            self.metrics.clone(),
        )))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// Follows the host's log level for this plugin, so that debug lines cross
/// the VM boundary only when someone asked for them.
fn follow_host_log_level() {
    if let Ok(level) = hostcalls::get_log_level() {
        proxy_wasm::set_log_level(level);
    } else {
        proxy_wasm::set_log_level(LogLevel::Info);
    }
}
