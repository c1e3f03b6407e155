//! bucket-cors: the proxy-wasm glue. It only moves headers between Envoy and
//! the host-free core (`bucket_cors_core`): it reads the request headers,
//! asks the core for a decision, and applies it. It never decides policy.
//!
//! It speaks the proxy-wasm ABI itself (`abi.rs`) instead of through an SDK,
//! so that it exports only the callbacks it needs: each exported callback is
//! a VM entry on every request.

mod abi;
mod contexts;
mod filter;
mod header_map;
mod logger;
mod metrics;
mod root;
