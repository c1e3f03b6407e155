//! The AWS SDK for JavaScript v3 in headless Chromium, through the real Envoy with the built
//! bucket-cors filter, to a real S3 store (Garage). A page from one loopback origin runs what
//! web apps do against buckets on another origin (`integration/browser/src/suite.js`):
//! presigned PUT then signed GET, lib-storage multipart uploads with and without `ETag`
//! exposed, virtual-hosted and path style; a second page, from an origin no rule allows, tries
//! the same buckets. Each verdict is checked three ways: what the SDK saw, what the store holds
//! (signed requests straight to Garage), and Envoy's counters read just before and after the
//! scenario (the filter's `wasmcustom.bucket_cors.*` and the upstream cluster's requests).
//!
//! Needs Garage (`make garage`), the SDK bundle (`make sdk-bundle`), Envoy, the wasm and
//! Chromium: `make test-integration` provides them all. A missing one is a failure.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::time::Instant;

use bucket_cors_integration::garage::{Garage, ROOT_DOMAIN};
use bucket_cors_integration::page::{
    delta, read_counters, run_sdk_page, stat, upstream_rq_total, Counters, PageServer,
};
use bucket_cors_integration::sigv4;
use bucket_cors_spec::counters as c;
use bucket_cors_testkit::Envoy;
use serde_json::{json, Value};

/// The bucket whose rules expose `ETag` (what lib-storage needs).
const ETAG_BUCKET: &str = "uploads";
/// The bucket whose rules forget `ETag`, as users' configurations do.
const NOETAG_BUCKET: &str = "uploads-noetag";
const MIB: u64 = 1024 * 1024;
/// The multipart upload: 12 MiB in parts of 5 MiB (S3's minimum part size), so 3 parts.
const MULTIPART_SIZE: u64 = 12 * MIB;
const PART_SIZE: u64 = 5 * MIB;
const PARTS: u64 = MULTIPART_SIZE.div_ceil(PART_SIZE);
/// lib-storage's error when a part's answer shows no `ETag` (users report exactly this).
const MISSING_ETAG: &str =
    "is missing ETag in UploadPart response. Missing Bucket CORS configuration for ETag header?";

/// The filter's configuration: both buckets allow the first page's origin for everything the
/// SDK sends; `MaxAgeSeconds` 0 so that Chromium preflights every request and the counters
/// can be matched with the SDK's requests one for one.
fn plugin_config(page_origin: &str) -> String {
    let rule = |expose: &[&str]| {
        json!([{
            "ID": "web-app",
            "AllowedOrigin": [page_origin],
            "AllowedMethod": ["GET", "PUT", "POST", "DELETE", "HEAD"],
            "AllowedHeader": ["*"],
            "ExposeHeader": expose,
            "MaxAgeSeconds": 0,
        }])
    };
    json!({
        "endpoints": [ROOT_DOMAIN],
        "path_style": true,
        "buckets": {
            ETAG_BUCKET: { "CORSRule": rule(&["ETag", "x-amz-request-id"]) },
            NOETAG_BUCKET: { "CORSRule": rule(&["x-amz-request-id"]) },
        },
        "unmatched_preflight": "reject",
    })
    .to_string()
}

fn scenario(name: &str, kind: &str, style: &str, bucket: &str, size: u64) -> Value {
    json!({ "name": name, "kind": kind, "style": style, "bucket": bucket, "size": size,
            "partSize": PART_SIZE })
}

/// Runs the SDK page with `scenarios` against `envoy`, its snapshots reading the counters.
fn run_page(
    listener: TcpListener,
    envoy: &Envoy,
    garage: &Garage,
    scenarios: Vec<Value>,
) -> (Value, PageServer) {
    run_sdk_page(listener, envoy, garage, scenarios, read_counters(envoy))
}

/// One scenario's counter deltas.
struct Deltas {
    allowed: i64,
    refused_origin: i64,
    matched: i64,
    unmatched: i64,
    upstream: i64,
}

fn deltas(page: &PageServer, name: &str) -> Deltas {
    let before: Counters = page.snapshot(&format!("{name}:before")).expect("snapshot");
    let after: Counters = page.snapshot(&format!("{name}:after")).expect("snapshot");
    let d = |n: &str| delta(&before, &after, n);
    Deltas {
        allowed: d(&stat(c::PREFLIGHT_ALLOWED)),
        refused_origin: d(&stat(c::PREFLIGHT_REFUSED_ORIGIN)),
        matched: d(&stat(c::ACTUAL_MATCHED)),
        unmatched: d(&stat(c::ACTUAL_UNMATCHED)),
        upstream: d(&upstream_rq_total()),
    }
}

/// A signed HEAD straight to Garage (not through Envoy): what the store holds.
fn store_head(garage: &Garage, bucket: &str, key: &str) -> sigv4::Reply {
    let url = format!("http://{}/{bucket}/{key}", garage.s3_addr());
    sigv4::signed(garage.key(), "HEAD", &url, &[], None)
}

#[test]
fn aws_sdk_in_chromium_through_envoy_and_bucket_cors_to_garage() {
    let t0 = Instant::now();
    let garage = Garage::start(&[ETAG_BUCKET, NOETAG_BUCKET]);
    let t_garage = t0.elapsed();
    let allowed_page = TcpListener::bind("127.0.0.1:0").expect("bind the page port");
    let refused_page = TcpListener::bind("127.0.0.1:0").expect("bind the page port");
    let origin = format!(
        "http://127.0.0.1:{}",
        allowed_page.local_addr().expect("address").port()
    );
    let envoy =
        Envoy::start(&plugin_config(&origin), garage.s3_addr()).unwrap_or_else(|e| panic!("{e}"));

    let (results, page) = run_page(
        allowed_page,
        &envoy,
        &garage,
        vec![
            scenario(
                "presigned-put-get-path",
                "presignedPutThenGet",
                "path",
                ETAG_BUCKET,
                256 * 1024,
            ),
            scenario(
                "presigned-put-get-vhost",
                "presignedPutThenGet",
                "vhost",
                ETAG_BUCKET,
                256 * 1024,
            ),
            scenario(
                "multipart-etag-exposed-vhost",
                "multipart",
                "vhost",
                ETAG_BUCKET,
                MULTIPART_SIZE,
            ),
            scenario(
                "multipart-etag-exposed-path",
                "multipart",
                "path",
                ETAG_BUCKET,
                MULTIPART_SIZE,
            ),
            scenario(
                "multipart-etag-hidden-path",
                "multipart",
                "path",
                NOETAG_BUCKET,
                MULTIPART_SIZE,
            ),
            scenario(
                "multipart-etag-hidden-vhost",
                "multipart",
                "vhost",
                NOETAG_BUCKET,
                MULTIPART_SIZE,
            ),
        ],
    );
    assert_eq!(results["origin"], origin.as_str());
    let (refused, refused_server) = run_page(
        refused_page,
        &envoy,
        &garage,
        vec![
            scenario("refused-origin-path", "list", "path", ETAG_BUCKET, 0),
            scenario("refused-origin-vhost", "list", "vhost", ETAG_BUCKET, 0),
        ],
    );
    eprintln!("browser: {}", results["userAgent"]);

    let mut failures: Vec<String> = Vec::new();
    let mut report = String::new();
    let by_name = |r: &Value, n: &str| -> Value {
        r["results"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == n).cloned())
            .unwrap_or_else(|| panic!("no result for {n}: {r}"))
    };

    // Allowed scenarios: every request the SDK sent was preflighted, allowed, forwarded and
    // matched, and nothing else reached the store.
    let one_for_one = |name: &str, r: &Value, d: &Deltas, failures: &mut Vec<String>| {
        let n = r["sent"].as_array().map_or(0, Vec::len) as i64;
        for (what, got) in [
            ("preflight.allowed", d.allowed),
            ("actual.matched", d.matched),
            ("upstream requests", d.upstream),
        ] {
            if got != n {
                failures.push(format!(
                    "[{name}] {what} +{got}, the SDK sent {n}: {}",
                    r["sent"]
                ));
            }
        }
        if d.refused_origin != 0 || d.unmatched != 0 {
            failures.push(format!("[{name}] refused/unmatched counters moved"));
        }
        n
    };

    for name in ["presigned-put-get-path", "presigned-put-get-vhost"] {
        let r = by_name(&results, name);
        let d = deltas(&page, name);
        let n = one_for_one(name, &r, &d, &mut failures);
        if r["outcome"] != "ok" || r["bytesEqual"] != true || r["putStatus"] != 200 {
            failures.push(format!("[{name}] want the bytes back, got {r}"));
        }
        let head = store_head(&garage, ETAG_BUCKET, r["key"].as_str().unwrap_or("?"));
        if head.header("content-length") != Some("262144") {
            failures.push(format!("[{name}] the store holds {:?}", head));
        }
        let _ = writeln!(
            report,
            "  {name:<30} {} PUT {} then GET {} of {} bytes, equal: {}; presigned host {}; {n} requests, +{} allowed preflights, +{} matched, +{} upstream",
            r["outcome"], r["putStatus"], r["bytesGot"], r["bytesPut"], r["bytesEqual"], r["presignedUrlHost"], d.allowed, d.matched, d.upstream
        );
    }

    for name in [
        "multipart-etag-exposed-vhost",
        "multipart-etag-exposed-path",
    ] {
        let r = by_name(&results, name);
        let d = deltas(&page, name);
        let n = one_for_one(name, &r, &d, &mut failures);
        let sent: Vec<&str> = r["sent"]
            .as_array()
            .map_or(Vec::new(), |a| a.iter().filter_map(Value::as_str).collect());
        let parts = sent.iter().filter(|s| s.contains("?partNumber=")).count() as u64;
        if r["outcome"] != "ok" || parts != PARTS {
            failures.push(format!(
                "[{name}] want {PARTS} parts and completion, got {r}"
            ));
        }
        let head = store_head(&garage, ETAG_BUCKET, r["key"].as_str().unwrap_or("?"));
        let size = head.header("content-length").unwrap_or("?").to_string();
        let etag = head.header("etag").unwrap_or("?").to_string();
        if size != MULTIPART_SIZE.to_string()
            || !etag.trim_matches('"').ends_with(&format!("-{PARTS}"))
        {
            failures.push(format!(
                "[{name}] the store holds {size} bytes, ETag {etag}"
            ));
        }
        let _ = writeln!(
            report,
            "  {name:<30} {}: {} bytes in {parts} parts of <= {PART_SIZE}; store: {size} bytes, ETag {etag}; {n} requests ({}), +{} allowed preflights, +{} matched, +{} upstream",
            r["outcome"], r["bytes"], sent.join(", "), d.allowed, d.matched, d.upstream
        );
    }

    for name in ["multipart-etag-hidden-path", "multipart-etag-hidden-vhost"] {
        let r = by_name(&results, name);
        let d = deltas(&page, name);
        let n = one_for_one(name, &r, &d, &mut failures);
        let message = r["error"]["message"].as_str().unwrap_or("");
        if r["outcome"] != "error" || !message.contains(MISSING_ETAG) {
            failures.push(format!(
                "[{name}] want lib-storage's missing-ETag error, got {r}"
            ));
        }
        let sent: Vec<&str> = r["sent"]
            .as_array()
            .map_or(Vec::new(), |a| a.iter().filter_map(Value::as_str).collect());
        let aborted = sent
            .iter()
            .any(|s| s.starts_with("DELETE") && s.ends_with("?uploadId"));
        if !aborted {
            failures.push(format!(
                "[{name}] lib-storage did not abort the upload: {sent:?}"
            ));
        }
        let head = store_head(&garage, NOETAG_BUCKET, r["key"].as_str().unwrap_or("?"));
        if head.status != 404 {
            failures.push(format!("[{name}] the store holds the object: {head:?}"));
        }
        let _ = writeln!(
            report,
            "  {name:<30} {}: {}: {message}; requests ({}), +{} allowed preflights, +{} matched, +{} upstream; store HEAD {}",
            r["outcome"], r["error"]["name"], sent.join(", "), d.allowed, d.matched, d.upstream, head.status
        );
        let _ = n;
    }

    for name in ["refused-origin-path", "refused-origin-vhost"] {
        let r = by_name(&refused, name);
        let d = deltas(&refused_server, name);
        let n = r["sent"].as_array().map_or(0, Vec::len) as i64;
        if r["outcome"] != "error" || r["error"]["name"] != "TypeError" {
            failures.push(format!("[{name}] want a CORS failure (TypeError), got {r}"));
        }
        if d.upstream != 0 || d.allowed != 0 || d.matched != 0 {
            failures.push(format!(
                "[{name}] the store saw {} requests (+{} allowed, +{} matched), want none",
                d.upstream, d.allowed, d.matched
            ));
        }
        if n == 0 || d.refused_origin != n {
            failures.push(format!(
                "[{name}] preflight.refused.origin +{}, the SDK sent {n}",
                d.refused_origin
            ));
        }
        let _ = writeln!(
            report,
            "  {name:<30} {}: {}: {}; {n} attempts (SDK retries), +{} refused-origin preflights, +{} upstream",
            r["outcome"], r["error"]["name"], r["error"]["message"], d.refused_origin, d.upstream
        );
    }

    // The store's own log: no preflight ever reached it (the filter answers them all).
    let options = garage.logged_requests("OPTIONS");
    let _ = writeln!(
        report,
        "  Garage's log: {} requests in all, {} OPTIONS",
        garage.logged_requests("GET").len()
            + garage.logged_requests("PUT").len()
            + garage.logged_requests("POST").len()
            + garage.logged_requests("HEAD").len()
            + garage.logged_requests("DELETE").len(),
        options.len()
    );
    if !options.is_empty() {
        failures.push(format!("preflights reached the store: {options:?}"));
    }

    let crashes = envoy.crash_lines();
    if !crashes.is_empty() {
        failures.push(format!("the plugin crashed: {crashes:?}"));
    }
    eprintln!(
        "SDK verdicts (page origin {origin}):\n{report}timing: Garage up in {t_garage:?}, Envoy ready in {:?}, test {:?}",
        envoy.startup_time(),
        t0.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} SDK check(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
