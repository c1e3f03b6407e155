//! The SDK suite's side of testkit's page server ([`PageServer`]): what its snapshots read
//! through testkit's one `/stats` reader, the filter's counters and the upstream cluster's
//! requests.

pub use bucket_cors_testkit::page::{delta, Counters, PageServer, ReadCounters};
use bucket_cors_testkit::spec::counters;
use bucket_cors_testkit::{Build, Envoy};

/// Requests Envoy sent to the store (the testkit launcher's upstream cluster).
pub fn upstream_rq_total() -> String {
    Envoy::upstream_stat("upstream_rq_total")
}

/// The filter's counter `name` (a `spec::counters` constant) as `/stats` shows it for the
/// build under test.
pub fn stat(name: &str) -> String {
    Build::from_env().stats_name(name)
}

/// What a snapshot reads from `envoy`: every filter counter and [`upstream_rq_total`], in one
/// `/stats`.
pub fn read_counters(envoy: &Envoy) -> ReadCounters {
    let admin = envoy.admin();
    let mut names: Vec<String> = counters::ALL.iter().map(|c| stat(c)).collect();
    names.push(upstream_rq_total());
    Box::new(move || admin.counters(&names))
}
