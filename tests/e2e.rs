//! End-to-end tests: a real Envoy (ENVOY_BIN, default `.venv/bin/envoy`) runs the real built
//! filter in front of the testkit object store: the wasm (BUCKET_CORS_WASM, default
//! `target/wasm32-wasip1/release/bucket_cors.wasm`) or, with `BUCKET_CORS_BUILD=module`, the
//! dynamic module (BUCKET_CORS_MODULE, default `target/release/libbucket_cors_module.so`). Each test starts one Envoy per plugin configuration and runs a
//! table of named cases against it; all failures of a table are reported together, and
//! `CASE=<substring>` runs only the cases whose name contains it.
//!
//! The expectations come from `docs/spec.md`; each case names its section. One file per
//! section of the spec. Missing Envoy, wasm or module is a failure ("run `make test`"), never a skip.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "e2e/actual.rs"]
mod actual;
#[path = "e2e/addressing.rs"]
mod addressing;
#[path = "e2e/config.rs"]
mod config;
#[path = "e2e/debug_headers.rs"]
mod debug_headers;
#[path = "e2e/main_config.rs"]
mod main_config;
#[path = "e2e/preflight.rs"]
mod preflight;
#[path = "e2e/upstream_cors.rs"]
mod upstream_cors;
