//! Figures of spec §8 (rules from the store) with real parts, for BENCHMARKS.md: not tests
//! (`#[ignore]`), run by `make bench-store` on a quiet machine; each prints its figures.
//! The build under test is `BUCKET_CORS_BUILD=wasm|module`, as in every suite.

use std::time::{Duration, Instant};

use bucket_cors_integration::garage::{Garage, REGION};
use bucket_cors_integration::sigv4;
use bucket_cors_integration::store::{
    cors_xml, envoy_options, memory_allocated, plugin_config, preflight, preflight_request,
    random_bucket_names, rules_source, start_envoy,
};
use bucket_cors_spec::counters as c;
use bucket_cors_testkit::bootstrap::{Cluster, UPSTREAM};
use bucket_cors_testkit::client::{Conn, RawRequest};
use bucket_cors_testkit::Envoy;
use serde_json::json;

const ORIGIN: &str = "https://app.example.com";

fn counter(envoy: &Envoy, name: &str) -> String {
    match envoy.counter(&envoy.stats_name(name)) {
        Ok(Some(v)) => v.to_string(),
        _ => "absent".into(),
    }
}

/// The p-th percentile (0 to 100) of sorted durations, in microseconds.
fn percentile(sorted: &[Duration], p: usize) -> f64 {
    let i = (sorted.len() * p / 100).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1e6
}

/// Preflights of `buckets` in turn, `n` in all, on one keep-alive connection: each one's time.
fn timed_preflights(envoy: &Envoy, buckets: &[String], n: usize) -> Vec<Duration> {
    let mut conn = Conn::open(envoy.addr()).expect("connect to Envoy");
    let mut out: Vec<Duration> = (0..n)
        .map(|i| {
            let req = preflight_request(envoy.addr(), &buckets[i % buckets.len()], ORIGIN);
            let t0 = Instant::now();
            let r = conn.send(&req).expect("a preflight");
            let t = t0.elapsed();
            assert!(r.status == 200 || r.status == 403, "{r}");
            t
        })
        .collect();
    out.sort();
    out
}

/// Issue figure: store reads and Envoy's heap for 20,000 requests naming 20,000 random bucket
/// names (spec §8, Bounds: at most one read per name, `max_buckets` cached).
#[test]
#[ignore = "a figure, run by `make bench-store`"]
fn store_reads_and_memory_for_20000_random_bucket_names() {
    const NAMES: usize = 20_000;
    let garage = Garage::start(&[]);
    let envoy = start_envoy(&garage, &plugin_config(rules_source(300, json!({}))));
    let names = random_bucket_names(NAMES);
    let (mem0, rss0) = (memory_allocated(&envoy), envoy.rss_kib().unwrap_or(0));
    let t0 = Instant::now();
    let mut conn = Conn::open(envoy.addr()).expect("connect to Envoy");
    for name in &names {
        conn.send(&preflight_request(envoy.addr(), name, ORIGIN))
            .expect("a preflight");
    }
    let took = t0.elapsed();
    let (mem1, rss1) = (memory_allocated(&envoy), envoy.rss_kib().unwrap_or(0));
    println!(
        "bench-store [{:?}] {NAMES} requests, {NAMES} random bucket names, in {took:.2?}: \
         store.read {}, store.read_failed {}, store.evicted {}, store.unavailable {}; \
         Envoy /memory allocated {mem0} -> {mem1} bytes ({:+.1} MiB), RSS {rss0} -> {rss1} KiB",
        envoy.build(),
        counter(&envoy, c::STORE_READ),
        counter(&envoy, c::STORE_READ_FAILED),
        counter(&envoy, c::STORE_EVICTED),
        counter(&envoy, c::STORE_UNAVAILABLE),
        (mem1 as f64 - mem0 as f64) / 1048576.0
    );
}

/// Issue figure: the latency a cold read adds (p50, p99; Garage on loopback). Cold: two
/// buckets with rules in turn under `max_buckets: 1`, so each preflight evicts the other and
/// reads its document again; warm: one bucket, always cached. Also cold reads of names the
/// store does not have (`NoSuchBucket`).
#[test]
#[ignore = "a figure, run by `make bench-store`"]
fn latency_a_cold_read_adds() {
    const N: usize = 2_000;
    let garage = Garage::start(&["cold-a", "cold-b"]);
    for b in ["cold-a", "cold-b"] {
        let url = format!("http://{}/{b}?cors=", garage.s3_addr());
        let put = sigv4::signed(
            garage.key(),
            "PUT",
            &url,
            &[],
            Some(cors_xml(&[ORIGIN]).as_bytes()),
        );
        assert_eq!(put.status, 200, "{}", put.body_str());
    }
    let cold_envoy = start_envoy(
        &garage,
        &plugin_config(rules_source(300, json!({"max_buckets": 1}))),
    );
    let warm_envoy = start_envoy(&garage, &plugin_config(rules_source(300, json!({}))));
    let pair = ["cold-a".to_string(), "cold-b".to_string()];
    assert_eq!(preflight(cold_envoy.addr(), "cold-a", ORIGIN).status, 200);
    let cold = timed_preflights(&cold_envoy, &pair, N);
    let warm = timed_preflights(&warm_envoy, &pair[..1], N);
    let absent = timed_preflights(&warm_envoy, &random_bucket_names(N), N);
    let line = |what: &str, d: &[Duration]| {
        println!(
            "bench-store [{:?}] {what}: p50 {:.0} µs, p99 {:.0} µs ({} requests)",
            cold_envoy.build(),
            percentile(d, 50),
            percentile(d, 99),
            d.len()
        );
    };
    // The read itself, for attribution: `GET /cold-a?cors` through an Envoy whose every
    // route goes to a signed cluster (no `rules_source`; the filter lets it pass).
    let mut opts = envoy_options(&garage);
    opts.clusters = vec![Cluster::s3_signed(UPSTREAM, garage.s3_addr(), REGION)];
    let signing = Envoy::start_with(r#"{"path_style": true}"#, garage.s3_addr(), &opts)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = Conn::open(signing.addr()).expect("connect to Envoy");
    let host = format!("127.0.0.1:{}", signing.addr().port());
    let mut read: Vec<Duration> = (0..N)
        .map(|_| {
            let t0 = Instant::now();
            let r = conn
                .send(&RawRequest::new("GET", &host, "/cold-a?cors"))
                .expect("a read");
            assert_eq!(r.status, 200, "{r}");
            t0.elapsed()
        })
        .collect();
    read.sort();
    line("the read alone (GET ?cors through a signed cluster)", &read);
    line("warm (cached rules)", &warm);
    line("cold (a 200 rules document read)", &cold);
    line("cold (a 404 NoSuchBucket read)", &absent);
    println!(
        "bench-store [{:?}] a cold read adds: p50 {:.0} µs, p99 {:.0} µs (document); p50 {:.0} µs, p99 {:.0} µs (no such bucket); cold Envoy store.read {}, store.evicted {}",
        cold_envoy.build(),
        percentile(&cold, 50) - percentile(&warm, 50),
        percentile(&cold, 99) - percentile(&warm, 99),
        percentile(&absent, 50) - percentile(&warm, 50),
        percentile(&absent, 99) - percentile(&warm, 99),
        counter(&cold_envoy, c::STORE_READ),
        counter(&cold_envoy, c::STORE_EVICTED),
    );
}
