//! The core's table tests against `docs/spec.md`, in one test binary:
//! configuration (§1, §6), decisions by spec section, and outcomes.
//! `CASE=<substring>` runs only the cases whose name contains it.

mod common;
mod config;
mod decision;
mod outcome;
