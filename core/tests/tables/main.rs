//! The core's table tests against `docs/spec.md`, in one test binary:
//! configuration (§1, §6), a bucket's rules document (§7), decisions by spec
//! section, outcomes, lints and the opt-in refusal reason (§6).
//! `CASE=<substring>` runs only the cases whose name contains it.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod config;
mod debug_headers;
mod decision;
mod document;
mod lints;
mod outcome;
mod seeds;
