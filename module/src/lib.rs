//! bucket-cors as an Envoy HTTP dynamic module: the same host-free core (`bucket_cors_core`)
//! as the proxy-wasm filter, behind a native glue that only moves bytes. The configuration is
//! compiled once on Envoy's main thread by the core's configure flow and shared read-only with
//! every worker; per stream the core's `Stream` decides, counts and logs, and the glue applies
//! its reply or header edits. With `rules_source` one cache of store rules serves the whole
//! process: the main thread reads, paused streams resume on their workers. It never decides
//! policy.
//!
//! Envoy loads it as module `bucket_cors_module` (`libbucket_cors_module.so`), filter name
//! `bucket-cors`, with the plugin configuration JSON as a `google.protobuf.StringValue`.
//!
//! Layers, each importing only the ones below it: `hooks` (the exported entry points) ->
//! `config`, `filter`, `store` -> `metrics` -> `host` (safe calls into Envoy) -> `abi`
//! (declarations).

// A panic must not unwind into Envoy, and with `panic = "abort"` it would end Envoy's process,
// taking every connection with it: the hooks catch panics, which needs unwinding. The
// workspace's release profile aborts (right for the Wasm filter, where a trap is contained by
// the VM), so the module's build says otherwise (`make build-module`), and a build that forgot
// stops here instead of producing a module whose panic guard catches nothing.
#[cfg(not(panic = "unwind"))]
compile_error!(
    "bucket-cors-module needs panic = \"unwind\": build it with `make build-module`, or \
     cargo build --release -p bucket-cors-module --config 'profile.release.panic=\"unwind\"'"
);

mod abi;
mod config;
mod filter;
mod hooks;
mod host;
mod metrics;
mod store;
