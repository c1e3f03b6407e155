//! Native cost of the core decision per request, for each `make bench`
//! scenario: `cargo bench -p bucket-cors-core`.
//!
//! What is timed is everything the glue asks of the core for one request:
//! `Request::from_headers` over a realistic header list, `Policy::decide`,
//! and, for a forwarded request, `ResponsePlan::header_ops` over a realistic
//! response header list. No host calls: this is the floor that the proxy-wasm
//! crossing and the header copies of the real filter add to.
//!
//! Criterion (without its plotting and rayon features) gives outlier
//! detection and confidence intervals, which matter on a shared, noisy machine.

// A benchmark of fixed inputs stops at a broken fixture; it never ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bucket_cors_core::{Action, Policy, Request};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use serde_json::{json, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};

const PHOTOS_RULE: &str = r#"{
  "ID": "example-com-uploads",
  "AllowedOrigin": ["https://www.example.com", "https://*.example.com"],
  "AllowedMethod": ["GET", "PUT", "HEAD"],
  "AllowedHeader": ["content-type", "x-amz-meta-*"],
  "ExposeHeader": ["ETag", "x-amz-request-id"],
  "MaxAgeSeconds": 600
}"#;

/// Rule `j` of filler bucket `i`: never matches the benchmark origins
/// (the same shape as bench/bench.py's).
fn filler_rule(i: usize, j: usize) -> Value {
    json!({
        "ID": format!("r{j}"),
        "AllowedOrigin": [format!("https://app{i}-{j}.example.org"),
                          format!("https://*.tenant{i}-{j}.example.org")],
        "AllowedMethod": ["GET", "PUT", "HEAD"],
        "AllowedHeader": ["content-type", "x-amz-meta-*"],
        "ExposeHeader": ["ETag"],
        "MaxAgeSeconds": 300
    })
}

/// `photos` has `rules` rules, the matching one last; every 10th filler
/// bucket has 10 rules, the others 1 (as bench/bench.py's scale phase).
fn config(buckets: usize, rules: usize) -> String {
    let photo_rule: Value = serde_json::from_str(PHOTOS_RULE).unwrap();
    let mut photos: Vec<Value> = (0..rules - 1).map(|j| filler_rule(0, j)).collect();
    photos.push(photo_rule);
    let mut map = serde_json::Map::new();
    map.insert("photos".into(), json!({"CORSRule": photos}));
    for i in 1..buckets {
        let n = if i % 10 == 0 { 10 } else { 1 };
        let r: Vec<Value> = (0..n).map(|j| filler_rule(i, j)).collect();
        map.insert(format!("bucket-{i:06}"), json!({"CORSRule": r}));
    }
    json!({"endpoints": ["s3.example.internal"], "path_style": true, "buckets": map}).to_string()
}

type Headers = Vec<(&'static str, &'static str)>;

fn request(method: &'static str, extra: &[(&'static str, &'static str)]) -> Headers {
    let mut h = vec![
        (":authority", "127.0.0.1:10000"),
        (":path", "/photos/cat.jpg"),
        (":method", method),
        (":scheme", "http"),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
        ),
        ("accept", "*/*"),
        ("accept-encoding", "gzip, deflate, br"),
        ("accept-language", "en-US,en;q=0.9"),
        ("x-forwarded-proto", "http"),
        ("x-request-id", "5f0b8c44-3f55-4c1e-9a8e-0d6c2f6f8a11"),
    ];
    h.extend_from_slice(extra);
    h
}

fn response() -> Headers {
    vec![
        (":status", "200"),
        ("content-type", "image/jpeg"),
        ("content-length", "48213"),
        ("etag", "\"9b2cf535f27731c974343645a3985328\""),
        ("x-amz-request-id", "4442587FB7D0A2F9"),
        ("date", "Sat, 28 Nov 2026 12:00:00 GMT"),
        ("server", "envoy"),
    ]
}

fn scenarios() -> Vec<(&'static str, Headers)> {
    let ok = ("origin", "https://www.example.com");
    vec![
        ("allowed_get", request("GET", &[ok])),
        (
            "allowed_get_wildcard",
            request("GET", &[("origin", "https://app.example.com")]),
        ),
        (
            "refused_get",
            request("GET", &[("origin", "https://evil.example.net")]),
        ),
        (
            "allowed_preflight",
            request(
                "OPTIONS",
                &[
                    ok,
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-headers", "content-type"),
                ],
            ),
        ),
        (
            "refused_preflight",
            request(
                "OPTIONS",
                &[
                    ("origin", "https://evil.example.net"),
                    ("access-control-request-method", "PUT"),
                ],
            ),
        ),
        ("no_origin", request("GET", &[])),
    ]
}

/// One request through the core, as the glue drives it.
fn one(policy: &Policy, req: &Headers, resp: &Headers) -> usize {
    let request = Request::from_headers(req.iter().map(|(n, v)| (*n, *v)));
    match policy.decide(&request).action {
        Action::Ignore => 0,
        Action::Reply(reply) => reply.headers.len() + reply.body.len(),
        Action::Forward(plan) => plan.header_ops(resp.iter().map(|(n, v)| (*n, *v))).len(),
    }
}

fn bench(c: &mut Criterion) {
    let resp = response();
    let mut policies = Vec::new();
    for (buckets, rules) in [(1, 1), (1, 10), (100_000, 10)] {
        let json = config(buckets, rules);
        let t = Instant::now();
        let policy = Policy::from_json(json.as_bytes()).expect("valid configuration");
        eprintln!(
            "config {buckets} buckets, 'photos' {rules} rules: {} KiB of JSON, \
             Policy::from_json (native) {:.3} s",
            json.len() / 1024,
            t.elapsed().as_secs_f64()
        );
        policies.push((format!("{buckets}b_{rules}r"), policy));
    }
    let mut g = c.benchmark_group("decide");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    for (label, policy) in &policies {
        for (name, req) in scenarios() {
            // The expected outcome, so the bench times the intended path.
            let n = one(policy, &req, &resp);
            assert!(
                name == "refused_get" || name == "no_origin" || n > 0,
                "{name}"
            );
            g.bench_with_input(BenchmarkId::new(name, label), &req, |b, req| {
                b.iter(|| one(black_box(policy), black_box(req), black_box(&resp)))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
