//! bucket-cors: the proxy-wasm glue. It only moves headers between Envoy and
//! the host-free core (`bucket_cors_core`): it reads the request headers,
//! asks the core for a decision, and applies it. It never decides policy.

mod filter;
mod header_map;
mod metrics;
mod root;

use proxy_wasm::traits::RootContext;
use proxy_wasm::types::LogLevel;

proxy_wasm::main! {{
    // Also installs a panic hook that logs through the host (critical level).
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(root::CorsRoot::default()) });
}}
