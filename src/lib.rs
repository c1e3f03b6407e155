//! bucket-cors: the proxy-wasm glue, on the `proxy-wasm` crate. It moves bytes
//! between the host and the host-free core (`bucket_cors_core`): the plugin
//! configuration in, request and response headers in, a local reply or header
//! edits and counter increments out. It never decides policy: the configure
//! flow, the decision, its counting and its log lines are the core's.
//!
//! `entry` holds the one exported entry point written here; the SDK exports
//! the proxy-wasm callbacks and dispatches them to `root` and `filter`, which
//! call the host through the SDK's `hostcalls` (fallible calls, no `unwrap`);
//! `store` holds the VM's cache of store rules (docs/spec.md §8) and the
//! reads it sends.

mod changes;
mod entry;
mod filter;
mod metrics;
mod root;
mod store;
