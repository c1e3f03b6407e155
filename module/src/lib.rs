//! bucket-cors as an Envoy HTTP dynamic module: the same host-free core (`bucket_cors_core`)
//! as the proxy-wasm filter, behind a native glue. It compiles the plugin configuration once on
//! Envoy's main thread, shares it read-only with every worker, asks the core for a decision per
//! request and applies it. It never decides policy.
//!
//! Envoy loads it as module `bucket_cors_module` (`libbucket_cors_module.so`), filter name
//! `bucket-cors`, with the plugin configuration JSON as a `google.protobuf.StringValue`.

#![deny(unsafe_code)]

mod abi;
mod config;
mod filter;
mod host;
mod metrics;
