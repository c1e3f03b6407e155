//! The module's start-up export (`_initialize`, through the SDK's `main!`):
//! the `log` crate's records go to the host's log, a panic is logged at
//! critical level before the VM traps, and every plugin gets a [`CorsRoot`].
//! The export and its `unsafe` call of wasi-libc's constructors are the
//! SDK's macro: the crate itself holds no `unsafe`.

use crate::root::CorsRoot;
use proxy_wasm::traits::RootContext;
use proxy_wasm::types::LogLevel;

proxy_wasm::main! {{
    // Info until the first configure reads the host's level for this plugin.
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|id| -> Box<dyn RootContext> { Box::new(CorsRoot::new(id)) });
}}
