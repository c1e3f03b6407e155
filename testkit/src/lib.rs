//! Test harness of bucket-cors: the real parts around the filter under test. It never links the
//! filter's own code (the core): what it knows of the behaviour comes from the spec's
//! vocabulary, `bucket_cors_spec`, written from docs/spec.md.
//!
//! - [`objstore`]: a real HTTP/1.1 upstream that behaves like a tiny in-memory object store and
//!   records every request it receives, so a test can tell whether a request reached it.
//! - [`envoy`]: starts a real Envoy with the built filter (wasm or dynamic module) in front of an
//!   upstream address, and [`admin`]: its admin interface, the one reader of `/stats`.
//! - [`bootstrap`]: the one generator of Envoy bootstraps (tests, soak and bench).
//! - [`client`]: a raw HTTP/1.1 client that sends exact bytes and returns every response header
//!   line in order, duplicates included.
//! - [`expect`]: the response checks the end-to-end suites share.
//! - [`chromium`]: Debian's headless Chromium, for the browser and integration suites, and
//!   [`page`]: the loopback server their pages come from and report to.
//! - [`case`]: the named-case builder of the e2e and hostile tables, and `CASE=<substring>`.
//! - [`fixture`]: the Envoy fixture that runs those tables.
//!
//! Everything listens on and talks to 127.0.0.1 only, and every wait is bounded.

pub mod admin;
pub mod bootstrap;
pub mod case;
pub mod chromium;
pub mod client;
pub mod envoy;
pub mod expect;
pub mod fixture;
pub mod http;
pub mod objstore;
pub mod page;

/// The spec's vocabulary, re-exported so that every suite names it through the harness.
pub use bucket_cors_spec as spec;

pub use admin::{Admin, Counters};
pub use case::{case, Case};
pub use client::{send, send_bytes, Conn, Interim, RawRequest, Response};
pub use envoy::{Build, Envoy, EnvoyOptions, StartError};
pub use fixture::Bench;
pub use objstore::{ObjStore, RecordedRequest};
