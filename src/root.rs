//! The root context: hands the plugin configuration to the core's configure
//! flow once per `on_configure`, the compiled policy to every HTTP context,
//! and, with `rules_source` (docs/spec.md §8), sends the reads of store
//! rules and wakes the requests that waited for them.

use crate::changes::ChangeFeed;
use crate::filter::{read_answered, wake, CorsFilter};
use crate::metrics::Metrics;
use crate::store::Worker;
use bucket_cors_core::{configure, Counter};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType, LogLevel};
use std::rc::Rc;

pub struct CorsRoot {
    context_id: u32,
    /// The last configuration that compiled; a refused one leaves it in place.
    worker: Option<Rc<Worker>>,
    metrics: Option<Rc<Metrics>>,
    /// This VM's queue of rules changes, registered on the first
    /// configuration with `rules_source` and kept across the next ones.
    changes: Option<Rc<ChangeFeed>>,
}

impl CorsRoot {
    pub fn new(context_id: u32) -> Self {
        CorsRoot {
            context_id,
            worker: None,
            metrics: None,
            changes: None,
        }
    }
}

impl Context for CorsRoot {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        read_answered(
            self.worker.as_deref(),
            token_id,
            num_headers,
            body_size,
            self.context_id,
        );
    }
}

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
                let changes = &mut self.changes;
                let feed = || {
                    if changes.is_none() {
                        *changes = ChangeFeed::register().map(Rc::new);
                    }
                    changes.clone()
                };
                self.worker = Some(Rc::new(Worker::new(policy, self.metrics.clone(), feed)));
                true
            }
            None => false,
        }
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        if let Some(store) = self.worker.as_ref().and_then(|w| w.store.as_ref()) {
            store.on_queue_ready(queue_id);
        }
    }

    fn on_tick(&mut self) {
        let Some(worker) = &self.worker else { return };
        let Some(store) = &worker.store else { return };
        let woken = store.send_reads(worker.metrics.as_deref());
        wake(worker, woken, self.context_id);
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(CorsFilter::new(context_id, self.worker.clone())))
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
