//! End-to-end tests: a real Envoy (ENVOY_BIN, default `.venv/bin/envoy`) runs the real built
//! filter in front of the testkit object store: the wasm (BUCKET_CORS_WASM, default
//! `target/wasm32-wasip1/release/bucket_cors.wasm`) or, with `BUCKET_CORS_BUILD=module`, the
//! dynamic module (BUCKET_CORS_MODULE, default `target/release/libbucket_cors_module.so`). Each test starts one Envoy per plugin configuration and runs a
//! table of named cases against it; all failures of a table are reported together, and
//! `CASE=<substring>` runs only the cases whose name contains it.
//!
//! The expectations come from `docs/spec.md`; each case names its section. One file per
//! section of the spec. Missing Envoy, wasm or module is a failure ("run `make test`"), never a
//! skip; so is an Envoy that cannot run the build (no V8, or a module it cannot load).

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

/// The launcher names an Envoy without V8 before starting the Wasm filter in it, from the Wasm
/// runtimes Envoy lists at start; this holds on every Envoy the suite runs on (`make
/// test-matrix`), so a release that stops listing them is seen here, not as a silent pass.
#[test]
fn this_envoy_lists_its_wasm_runtimes_at_start() {
    use bucket_cors_testkit::bootstrap::V8;
    use bucket_cors_testkit::envoy::{envoy_bin, wasm_runtimes};
    use bucket_cors_testkit::Build;

    let envoy = envoy_bin();
    let runtimes = wasm_runtimes(&envoy)
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", envoy.display()))
        .unwrap_or_else(|| panic!("{} lists no Wasm runtime at start", envoy.display()));
    if Build::from_env() == Build::Wasm {
        assert!(
            runtimes.iter().any(|r| r == V8),
            "{runtimes:?}: the launcher would have refused this Envoy"
        );
    }
}
