//! Spec §8 (rules from the store) with real parts: Garage holds each bucket's CORS, tenants set
//! it with the AWS CLI through Envoy, and Envoy with the filter of the build under test
//! (`BUCKET_CORS_BUILD=wasm|module`) reads it through a cluster that Envoy's own
//! `aws_request_signing` upstream filter signs, the credential in Envoy's environment.
//!
//! Needs Garage (`make garage`), awscli (`make awscli`), Envoy, the build under test and, for
//! the browser scenario, Chromium and the SDK bundle: `make test-integration` provides them all
//! and runs this suite on both builds. A missing one is a failure.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use bucket_cors_integration::garage::{Garage, REGION};
use bucket_cors_integration::page::run_sdk_page;
use bucket_cors_integration::store::{
    cors_json, cors_xml, endpoint, envoy_options, memory_allocated, plugin_config, preflight,
    random_bucket_names, rules_source, start_envoy,
};
use bucket_cors_integration::{awscli, sigv4, wait_until};
use bucket_cors_spec::names::{ACAO, REFUSAL, VARY};
use bucket_cors_spec::{
    counters as c, refusal, MSG_NOT_ENABLED, MSG_RULES_UNAVAILABLE, PREFLIGHT_VARY,
    RULES_UNAVAILABLE_STATUS,
};
use bucket_cors_testkit::bootstrap::{Cluster, UPSTREAM};
use bucket_cors_testkit::client::{send, RawRequest, Response};
use bucket_cors_testkit::{Build, Envoy, EnvoyOptions};
use serde_json::json;

/// The refresh period of every scenario: short, so that "within the refresh period" is seconds.
const REFRESH_SECONDS: u64 = 2;
const ALLOWED: &str = "https://app.example.com";
const OTHER: &str = "https://other.example.net";
/// The preflight answer headers that only a grant carries (spec §3.6).
const GRANTS: [&str; 4] = [
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-credentials",
    "access-control-expose-headers",
];

/// A counter of the filter as this Envoy shows it; absent counts as a failure, so that a
/// bound on it cannot pass on a filter that does not define it.
fn counter(envoy: &Envoy, name: &str) -> u64 {
    envoy
        .counter(&envoy.stats_name(name))
        .unwrap_or_else(|e| panic!("read /stats: {e}"))
        .unwrap_or_else(|| panic!("Envoy shows no counter {}", envoy.stats_name(name)))
}

/// A counter, or `None` when Envoy does not show it (for printing only).
fn counter_opt(envoy: &Envoy, name: &str) -> Option<u64> {
    envoy.counter(&envoy.stats_name(name)).ok().flatten()
}

fn rss(envoy: &Envoy) -> u64 {
    envoy
        .rss_kib()
        .unwrap_or_else(|e| panic!("Envoy's RSS: {e}"))
}

/// A signed request straight to Garage (not through Envoy).
fn to_store(garage: &Garage, method: &str, path: &str, body: Option<&[u8]>) -> sigv4::Reply {
    let url = format!("http://{}{path}", garage.s3_addr());
    sigv4::signed(garage.key(), method, &url, &[], body)
}

/// A signed request through Envoy (the tenant's own signature, which Envoy passes untouched).
fn through(
    garage: &Garage,
    envoy: &Envoy,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> sigv4::Reply {
    let url = format!("{}{path}", endpoint(envoy));
    sigv4::signed(garage.key(), method, &url, headers, body)
}

/// `aws s3api put-bucket-cors` through Envoy.
fn put_rules(garage: &Garage, envoy: &Envoy, bucket: &str, origins: &[&str]) -> awscli::Run {
    awscli::s3api(
        garage.key(),
        &endpoint(envoy),
        &[
            "put-bucket-cors",
            "--bucket",
            bucket,
            "--cors-configuration",
            &cors_json(origins),
        ],
    )
}

fn assert_granted(r: &Response, origin: &str, what: &str) {
    assert_eq!(r.status, 200, "{what}: want the grant, got\n{r}");
    assert_eq!(
        r.header_all("access-control-allow-origin"),
        [origin],
        "{what}:\n{r}"
    );
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, PUT, HEAD"),
        "{what}:\n{r}"
    );
}

fn assert_refused(r: &Response, what: &str) {
    assert_eq!(r.status, 403, "{what}: want the 403 of spec §3.5, got\n{r}");
    for h in GRANTS {
        assert_eq!(r.header(h), None, "{what}: a refusal carries no {h}:\n{r}");
    }
}

/// The harness itself, before any of §8 (today's filter, no `rules_source`): an unsigned
/// `GET /<bucket>?cors` routed to a cluster that Envoy signs gets Garage's stored document,
/// `NoSuchCORSConfiguration` for a bucket without one; the same request straight to Garage is
/// refused, so the signature is Envoy's.
#[test]
fn harness_signed_cluster_reads_each_buckets_stored_cors() {
    let garage = Garage::start(&["photos", "norules"]);
    let put = to_store(
        &garage,
        "PUT",
        "/photos?cors=",
        Some(cors_xml(&[ALLOWED]).as_bytes()),
    );
    assert_eq!(
        put.status,
        200,
        "PutBucketCors straight to Garage: {}",
        put.body_str()
    );
    let mut opts = envoy_options(&garage);
    // Every route of this Envoy goes to the signed cluster.
    opts.clusters = vec![Cluster::s3_signed(UPSTREAM, garage.s3_addr(), REGION)];
    let envoy = Envoy::start_with(
        &json!({"path_style": true}).to_string(),
        garage.s3_addr(),
        &opts,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let got = sigv4::curl(&[format!("{}/photos?cors", endpoint(&envoy))]);
    assert_eq!(got.status, 200, "{}", got.body_str());
    assert!(
        got.body_str()
            .contains(&format!("<AllowedOrigin>{ALLOWED}</AllowedOrigin>")),
        "{}",
        got.body_str()
    );
    let none = sigv4::curl(&[format!("{}/norules?cors", endpoint(&envoy))]);
    assert_eq!(none.status, 404, "{}", none.body_str());
    assert!(
        none.body_str()
            .contains("<Code>NoSuchCORSConfiguration</Code>"),
        "{}",
        none.body_str()
    );
    let unsigned = sigv4::curl(&[format!("http://{}/photos?cors", garage.s3_addr())]);
    assert_eq!(unsigned.status, 403, "{}", unsigned.body_str());
    eprintln!(
        "through the signed cluster: /photos?cors {} ({} bytes), /norules?cors {}; unsigned straight to Garage: {}",
        got.status,
        got.body.len(),
        none.status,
        unsigned.status
    );
}

/// An actual (non-preflight) signed `GET /<bucket>?list-type=2` from `origin`, through Envoy or
/// straight to Garage: what a browser's `ListObjectsV2` is.
fn list_from(garage: &Garage, base: &str, bucket: &str, origin: &str) -> sigv4::Reply {
    sigv4::signed(
        garage.key(),
        "GET",
        &format!("{base}/{bucket}?list-type=2"),
        &[("Origin", origin)],
        None,
    )
}

/// An unsigned `GET /<bucket>/missing` from `origin`: Garage refuses it (403).
fn unsigned_get(base: &str, bucket: &str, origin: &str) -> sigv4::Reply {
    sigv4::curl(&[
        "-H".into(),
        format!("Origin: {origin}"),
        format!("{base}/{bucket}/missing"),
    ])
}

fn acao(r: &sigv4::Reply) -> Vec<&str> {
    r.headers
        .iter()
        .filter(|(n, _)| n == ACAO)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Spec §8, "The S3 CORS API through the gateway" and Lookup: a tenant's
/// `aws s3api put-bucket-cors` through Envoy is enforced at once (this Envoy drops the
/// bucket's cached answer when the store answers 200), other origins stay refused,
/// `delete-bucket-cors` refuses the next preflight at once (204); Garage's own CORS headers
/// (2.5.0's `Access-Control-Allow-Origin: *` on every refused request) never come through
/// (spec §2.4, §4).
#[test]
fn a_tenant_sets_and_deletes_rules_with_awscli_through_envoy() {
    let garage = Garage::start(&["photos"]);
    let envoy = start_envoy(
        &garage,
        &plugin_config(rules_source(REFRESH_SECONDS, json!({}))),
    );
    let addr = envoy.addr();
    // The bucket's "no rules" answer is cached first, so "at once" below needs the drop.
    let before = preflight(addr, "photos", ALLOWED);
    assert_refused(&before, "no rules in the store yet");
    assert!(before.body_str().contains(MSG_NOT_ENABLED), "{before}");

    let put = put_rules(&garage, &envoy, "photos", &[ALLOWED]);
    assert!(put.ok, "aws s3api put-bucket-cors through Envoy: {put:?}");
    let allowed = preflight(addr, "photos", ALLOWED);
    assert_granted(&allowed, ALLOWED, "the allowed origin right after the PUT");
    assert_eq!(
        allowed.header("access-control-expose-headers"),
        Some("ETag")
    );
    assert_eq!(allowed.header(VARY), Some(PREFLIGHT_VARY), "{allowed}");
    assert_refused(&preflight(addr, "photos", OTHER), "another origin");

    // Actual requests, Garage's own answers for contrast: Garage 2.5.0 answers a refused
    // (unsigned) request with `Access-Control-Allow-Origin: *` whatever the origin.
    let store = format!("http://{}", garage.s3_addr());
    let via = endpoint(&envoy);
    let from_store = unsigned_get(&store, "photos", OTHER);
    assert_eq!(from_store.status, 403, "{}", from_store.body_str());
    assert_eq!(
        acao(&from_store),
        ["*"],
        "the contrast this scenario relies on: {:?}",
        from_store.headers
    );
    let other_envoy = unsigned_get(&via, "photos", OTHER);
    assert_eq!(other_envoy.status, 403);
    assert!(
        acao(&other_envoy).is_empty(),
        "Garage's ACAO came through: {:?}",
        other_envoy.headers
    );
    let allowed_envoy = unsigned_get(&via, "photos", ALLOWED);
    assert_eq!(
        acao(&allowed_envoy),
        [ALLOWED],
        "{:?}",
        allowed_envoy.headers
    );
    let listed = list_from(&garage, &via, "photos", ALLOWED);
    assert_eq!(listed.status, 200, "{}", listed.body_str());
    assert_eq!(acao(&listed), [ALLOWED], "{:?}", listed.headers);
    assert!(
        listed.header(VARY).is_some_and(|v| v.contains("Origin")),
        "{:?}",
        listed.headers
    );

    let del = awscli::s3api(
        garage.key(),
        &endpoint(&envoy),
        &["delete-bucket-cors", "--bucket", "photos"],
    );
    assert!(
        del.ok,
        "aws s3api delete-bucket-cors through Envoy: {del:?}"
    );
    let after = preflight(addr, "photos", ALLOWED);
    assert_refused(&after, "right after delete-bucket-cors");
    assert!(after.body_str().contains(MSG_NOT_ENABLED), "{after}");

    let options = garage.logged_requests("OPTIONS");
    assert!(options.is_empty(), "preflights reached Garage: {options:?}");
    eprintln!(
        "a: put-bucket-cors through Envoy, then a preflight from {ALLOWED}:\n{allowed}\n\
         from {OTHER}: {}\nan unsigned GET from {OTHER}: Garage {} with ACAO {:?}; through \
         Envoy {} with ACAO {:?}; from {ALLOWED} through Envoy: ACAO {:?}; a signed list from \
         {ALLOWED} through Envoy: ACAO {:?}, Vary {:?}; after delete-bucket-cors: {}\nstore.read {:?}",
        preflight(addr, "photos", OTHER).status,
        from_store.status,
        acao(&from_store),
        other_envoy.status,
        acao(&other_envoy),
        acao(&allowed_envoy),
        acao(&listed),
        listed.header(VARY),
        after.status,
        counter_opt(&envoy, c::STORE_READ)
    );
    assert!(envoy.crash_lines().is_empty(), "{:?}", envoy.crash_lines());
}

/// Spec §8 with a browser: rules put through Envoy, then at once a Chromium page from the
/// allowed origin uploads (the SDK's presigned PUT, then a signed GET); a page from another
/// origin is refused by the browser, and its upload never reaches the store.
#[test]
fn b_chromium_uploads_right_after_the_rules_are_set_and_is_refused_elsewhere() {
    let garage = Garage::start(&["uploads"]);
    let envoy = start_envoy(
        &garage,
        &plugin_config(rules_source(REFRESH_SECONDS, json!({}))),
    );
    let allowed_page = TcpListener::bind("127.0.0.1:0").expect("bind the page port");
    let other_page = TcpListener::bind("127.0.0.1:0").expect("bind the page port");
    let origin = format!(
        "http://127.0.0.1:{}",
        allowed_page.local_addr().expect("address").port()
    );
    // Read (and cache) the bucket's "no rules" first.
    assert_refused(&preflight(envoy.addr(), "uploads", &origin), "no rules yet");
    let put = put_rules(&garage, &envoy, "uploads", &[&origin]);
    assert!(put.ok, "{put:?}");
    let upload = || {
        vec![
            json!({"name": "upload", "kind": "presignedPutThenGet", "style": "path",
                    "bucket": "uploads", "size": 64 * 1024, "partSize": 0}),
        ]
    };
    let no_counters = |envoy: &Envoy| {
        let admin = envoy.admin();
        Box::new(move || admin.counters(&[])) as bucket_cors_integration::page::ReadCounters
    };
    let (allowed, _page) =
        run_sdk_page(allowed_page, &envoy, &garage, upload(), no_counters(&envoy));
    let r = &allowed["results"][0];
    assert_eq!(r["outcome"], "ok", "the allowed origin's upload: {r}");
    assert_eq!(r["putStatus"], 200, "{r}");
    assert_eq!(r["bytesEqual"], true, "{r}");
    let key = r["key"].as_str().unwrap_or("?").to_string();
    let held = to_store(&garage, "HEAD", &format!("/uploads/{key}"), None);
    assert_eq!(held.header("content-length"), Some("65536"), "{held:?}");
    let gone = to_store(&garage, "DELETE", &format!("/uploads/{key}"), None);
    assert_eq!(gone.status, 204, "{gone:?}");

    let (other, _page) = run_sdk_page(other_page, &envoy, &garage, upload(), no_counters(&envoy));
    let o = &other["results"][0];
    assert_eq!(o["outcome"], "error", "another origin: {o}");
    assert_eq!(
        o["error"]["name"], "TypeError",
        "a CORS failure is fetch's TypeError: {o}"
    );
    let absent = to_store(&garage, "HEAD", &format!("/uploads/{key}"), None);
    assert_eq!(
        absent.status, 404,
        "the refused upload reached the store: {absent:?}"
    );
    eprintln!(
        "b: from {origin}: {} (PUT {}, {} bytes back, equal {}); from {}: {} {}: {}",
        r["outcome"],
        r["putStatus"],
        r["bytesGot"],
        r["bytesEqual"],
        other["origin"],
        o["outcome"],
        o["error"]["name"],
        o["error"]["message"]
    );
}

/// Spec §8 with §7's documents: a document the filter refuses, put straight into Garage,
/// gives the bucket no grants (`store.document_refused`); the same document PUT through Envoy
/// is answered 400 `InvalidRequest` naming the rule and the field, and the change never
/// reaches Garage (`store.put_refused`), which keeps the old rules; a body that is no CORS
/// document is 400 `MalformedXML`. Signed as S3 wants it (`?cors=` for curl's signer), so a
/// PUT that got through would be applied.
#[test]
fn c_bad_documents_straight_into_garage_and_through_envoy() {
    const BAD_ORIGIN: &str = "https://*example.com";
    const MATCHED_BY_BAD: &str = "https://www.example.com";
    let garage = Garage::start(&["bad-direct", "bad-through"]);
    let envoy = start_envoy(
        &garage,
        &plugin_config(rules_source(REFRESH_SECONDS, json!({}))),
    );
    let bad = cors_xml(&[BAD_ORIGIN]);
    let direct = to_store(&garage, "PUT", "/bad-direct?cors=", Some(bad.as_bytes()));
    assert_eq!(
        direct.status,
        200,
        "Garage takes the document: {}",
        direct.body_str()
    );

    let refused_before = counter_opt(&envoy, c::STORE_DOCUMENT_REFUSED).unwrap_or(0);
    let r = preflight(envoy.addr(), "bad-direct", MATCHED_BY_BAD);
    assert_refused(&r, "a refused document gives no grants");
    assert_eq!(
        r.header(REFUSAL),
        Some(refusal::ORIGIN),
        "spec §8: refusal `origin`\n{r}"
    );
    let refused = counter(&envoy, c::STORE_DOCUMENT_REFUSED) - refused_before;
    assert_eq!(refused, 1, "store.document_refused");

    let put = put_rules(&garage, &envoy, "bad-through", &[ALLOWED]);
    assert!(put.ok, "{put:?}");
    assert_granted(
        &preflight(envoy.addr(), "bad-through", ALLOWED),
        ALLOWED,
        "the good rules",
    );
    let put_refused_before = counter_opt(&envoy, c::STORE_PUT_REFUSED).unwrap_or(0);
    let puts_before = garage.logged_requests("PUT").len();
    let through_bad = through(
        &garage,
        &envoy,
        "PUT",
        "/bad-through?cors=",
        &[("Content-Type", "application/xml")],
        Some(bad.as_bytes()),
    );
    let body = through_bad.body_str();
    assert_eq!(through_bad.status, 400, "{body}");
    assert!(body.contains("<Code>InvalidRequest</Code>"), "{body}");
    assert!(
        body.contains(r#"rule 0 (ID "web") AllowedOrigin"#),
        "names the rule and field: {body}"
    );
    assert!(body.contains(BAD_ORIGIN), "{body}");
    let cli = awscli::s3api(
        garage.key(),
        &endpoint(&envoy),
        &[
            "put-bucket-cors",
            "--bucket",
            "bad-through",
            "--cors-configuration",
            &cors_json(&[BAD_ORIGIN]),
        ],
    );
    assert!(
        !cli.ok && cli.stderr.contains("InvalidRequest"),
        "awscli: {cli:?}"
    );
    let malformed = through(
        &garage,
        &envoy,
        "PUT",
        "/bad-through?cors=",
        &[],
        Some(b"this is not XML"),
    );
    assert_eq!(malformed.status, 400, "{}", malformed.body_str());
    assert!(
        malformed.body_str().contains("<Code>MalformedXML</Code>"),
        "{}",
        malformed.body_str()
    );
    assert_eq!(
        counter(&envoy, c::STORE_PUT_REFUSED) - put_refused_before,
        3,
        "store.put_refused: curl's, awscli's and the malformed one"
    );
    // Spec §8: the module holds a PUT's headers until its body is judged; the Wasm filter
    // cannot, so Garage sees the headers and Envoy resets that request (the body never goes).
    let puts = garage.logged_requests("PUT");
    let reached = &puts[puts_before.min(puts.len())..];
    if envoy.build() == Build::Module {
        assert!(
            reached.is_empty(),
            "a refused PUT reached Garage: {reached:#?}"
        );
    }
    let held = to_store(&garage, "GET", "/bad-through?cors=", None);
    assert!(
        held.body_str().contains(ALLOWED) && !held.body_str().contains(BAD_ORIGIN),
        "Garage keeps the old rules: {}",
        held.body_str()
    );
    assert_granted(
        &preflight(envoy.addr(), "bad-through", ALLOWED),
        ALLOWED,
        "the old rules still",
    );
    eprintln!(
        "c: straight into Garage, then a preflight through Envoy:\n{r}\nthrough Envoy:\n  curl PUT: {} {body}\n  awscli: {}\n  non-XML: {} {}\n  refused PUTs whose headers Garage logged: {}",
        through_bad.status,
        cli.stderr.trim(),
        malformed.status,
        malformed.body_str(),
        reached.len()
    );
}

/// Spec §8, "Failure, fail static": with Garage stopped, a cached bucket keeps its rules
/// (stale once its refresh fails), a bucket never read gets the 503 of unknown rules; with
/// Garage back on the same data and ports, both are served again without restarting Envoy.
#[test]
fn d_store_stopped_mid_run_then_back() {
    const RETRY_SECONDS: u64 = 1;
    let mut garage = Garage::start(&["cached", "uncached"]);
    let source = rules_source(
        REFRESH_SECONDS,
        json!({"retry_seconds": RETRY_SECONDS, "timeout_ms": 500}),
    );
    let envoy = start_envoy(&garage, &plugin_config(source));
    let addr = envoy.addr();
    for bucket in ["cached", "uncached"] {
        assert!(put_rules(&garage, &envoy, bucket, &[ALLOWED]).ok);
    }
    assert_granted(
        &preflight(addr, "cached", ALLOWED),
        ALLOWED,
        "before the stop",
    );

    garage.stop();
    assert_granted(
        &preflight(addr, "cached", ALLOWED),
        ALLOWED,
        "cached, store down",
    );
    thread::sleep(Duration::from_millis(REFRESH_SECONDS * 1000 + 300));
    // The first request after the refresh period starts a refresh, which fails.
    for _ in 0..3 {
        assert_granted(
            &preflight(addr, "cached", ALLOWED),
            ALLOWED,
            "cached, refresh failing",
        );
        thread::sleep(Duration::from_millis(600));
    }
    let unknown = preflight(addr, "uncached", ALLOWED);
    let body = unknown.body_str();
    assert_eq!(unknown.status, RULES_UNAVAILABLE_STATUS, "{unknown}");
    assert_eq!(
        unknown.header("content-type"),
        Some("application/xml"),
        "{unknown}"
    );
    assert!(
        body.contains("<Code>ServiceUnavailable</Code>"),
        "{unknown}"
    );
    assert!(body.contains(MSG_RULES_UNAVAILABLE), "{unknown}");
    assert_eq!(unknown.header(VARY), Some(PREFLIGHT_VARY), "{unknown}");
    assert_eq!(
        unknown.header("retry-after"),
        Some(RETRY_SECONDS.to_string().as_str()),
        "{unknown}"
    );
    assert_eq!(
        unknown.header(REFUSAL),
        Some(refusal::RULES_UNAVAILABLE),
        "{unknown}"
    );
    for h in GRANTS {
        assert_eq!(unknown.header(h), None, "{unknown}");
    }
    let actual = send(
        addr,
        &RawRequest::new("GET", format!("127.0.0.1:{}", addr.port()), "/uncached/x")
            .header("Origin", ALLOWED),
    )
    .expect("an actual request");
    assert_eq!(
        actual.header(ACAO),
        None,
        "no grants while the rules are unknown:\n{actual}"
    );
    assert!(
        actual.header_all(VARY).iter().any(|v| v.contains("Origin")),
        "{actual}"
    );
    let stale = counter(&envoy, c::STORE_STALE);
    let unavailable = counter(&envoy, c::STORE_UNAVAILABLE);
    let failed = counter(&envoy, c::STORE_READ_FAILED);
    assert!(stale >= 1, "store.stale {stale}");
    assert!(
        unavailable >= 2,
        "store.unavailable {unavailable}: the preflight and the actual request"
    );
    assert!(
        failed >= 2,
        "store.read_failed {failed}: the refresh and the first read"
    );

    let t_down = Instant::now();
    garage.restart();
    let t_back = t_down.elapsed();
    let t0 = Instant::now();
    let bound = Duration::from_secs(RETRY_SECONDS + REFRESH_SECONDS + 2);
    let recovered = wait_until(bound, || {
        let a = preflight(addr, "uncached", ALLOWED);
        let b = preflight(addr, "cached", ALLOWED);
        (a.status == 200 && b.status == 200).then_some((a, b))
    });
    let (a, b) = recovered.unwrap_or_else(|| {
        panic!(
            "not recovered {bound:?} after Garage came back: uncached {}\ncached {}",
            preflight(addr, "uncached", ALLOWED),
            preflight(addr, "cached", ALLOWED)
        )
    });
    assert_granted(&a, ALLOWED, "uncached, store back");
    assert_granted(&b, ALLOWED, "cached, store back");
    eprintln!(
        "d: store down: cached preflight 200, uncached:\n{unknown}\nactual request: {} (ACAO {:?}, Vary {:?})\n\
         store.stale {stale}, store.unavailable {unavailable}, store.read_failed {failed}; \
         Garage back in {t_back:?}, both buckets served {:?} later",
        actual.status,
        actual.header(ACAO),
        actual.header_all(VARY),
        t0.elapsed()
    );
    assert!(envoy.crash_lines().is_empty(), "{:?}", envoy.crash_lines());
}

/// Spec §8: "Other gateways see the change within `refresh_seconds`". Two Envoys on one
/// Garage; 20 changes made through the first (each a new allowed origin); the second grants
/// each new origin within the refresh period plus one second. Prints the distribution.
#[test]
fn e_two_envoys_one_store_a_change_reaches_the_other_within_the_refresh_period() {
    const CHANGES: usize = 20;
    let garage = Garage::start(&["shared"]);
    let config = plugin_config(rules_source(REFRESH_SECONDS, json!({})));
    let first = start_envoy(&garage, &config);
    let second = start_envoy(&garage, &config);
    let bound = Duration::from_secs(REFRESH_SECONDS + 1);
    let origin = |i: usize| format!("https://change-{i}.example.com");
    assert!(put_rules(&garage, &first, "shared", &[&origin(0)]).ok);
    wait_until(bound, || {
        (preflight(second.addr(), "shared", &origin(0)).status == 200).then_some(())
    })
    .expect("the second Envoy grants the first rules");
    let mut seconds: Vec<f64> = Vec::new();
    for i in 1..=CHANGES {
        let put = put_rules(&garage, &first, "shared", &[&origin(i)]);
        assert!(put.ok, "{put:?}");
        let t0 = Instant::now();
        assert_granted(
            &preflight(first.addr(), "shared", &origin(i)),
            &origin(i),
            "the first Envoy, at once",
        );
        let seen = wait_until(Duration::from_secs(REFRESH_SECONDS + 5), || {
            (preflight(second.addr(), "shared", &origin(i)).status == 200).then(|| t0.elapsed())
        });
        let Some(seen) = seen else {
            panic!(
                "change {i}: the second Envoy did not grant {} in {}s",
                origin(i),
                REFRESH_SECONDS + 5
            )
        };
        seconds.push(seen.as_secs_f64());
        assert_refused(
            &preflight(second.addr(), "shared", &origin(i - 1)),
            "the old origin on the second",
        );
    }
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    eprintln!(
        "e: {CHANGES} changes through the first Envoy, seen by the second (refresh_seconds {REFRESH_SECONDS}): \
         min {:.3} s, median {:.3} s, max {:.3} s; all: {:?}",
        sorted[0],
        sorted[CHANGES / 2],
        sorted[CHANGES - 1],
        seconds.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>()
    );
    let late: Vec<&f64> = seconds
        .iter()
        .filter(|s| **s > bound.as_secs_f64())
        .collect();
    assert!(late.is_empty(), "changes seen after {bound:?}: {late:?}");
}

/// Spec §8, Bounds: requests naming 2,000 distinct random bucket names read the store at most
/// once per name (again over the same names within the refresh period: no further read);
/// Envoy's heap before and after is printed.
#[test]
fn f_random_bucket_names_are_bounded_store_reads() {
    const NAMES: usize = 2_000;
    let garage = Garage::start(&[]);
    let envoy = start_envoy(&garage, &plugin_config(rules_source(300, json!({}))));
    let names = random_bucket_names(NAMES);
    // `/memory` is Envoy's own heap; the Wasm VM's linear memory is outside it, RSS is not.
    let (mem_before, rss_before) = (memory_allocated(&envoy), rss(&envoy));
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let t0 = Instant::now();
    for name in &names {
        *statuses
            .entry(preflight(envoy.addr(), name, ALLOWED).status)
            .or_default() += 1;
    }
    let first_pass = t0.elapsed();
    let reads = counter(&envoy, c::STORE_READ);
    let (mem_after, rss_after) = (memory_allocated(&envoy), rss(&envoy));
    for name in &names {
        preflight(envoy.addr(), name, ALLOWED);
    }
    let reads_again = counter(&envoy, c::STORE_READ);
    eprintln!(
        "f: {NAMES} random bucket names in {first_pass:?}: answers {statuses:?}; store.read {reads} \
         (after a second pass {reads_again}), store.read_failed {:?}, store.evicted {:?}; \
         Envoy /memory allocated {mem_before} -> {mem_after} bytes ({:+} B, {:.0} B per name), RSS {rss_before} -> {rss_after} KiB",
        counter_opt(&envoy, c::STORE_READ_FAILED),
        counter_opt(&envoy, c::STORE_EVICTED),
        mem_after as i64 - mem_before as i64,
        (mem_after as f64 - mem_before as f64) / NAMES as f64
    );
    assert!(
        reads >= 1 && reads <= NAMES as u64,
        "store.read {reads} for {NAMES} names"
    );
    assert_eq!(
        reads_again, reads,
        "a second pass within the refresh period read again"
    );
    assert_eq!(
        statuses.get(&403),
        Some(&NAMES),
        "no such bucket: no rules, `default` (none)"
    );
}

/// Spec §8: a change through the gateway drops the bucket's cached answer "in this whole
/// Envoy". The Wasm filter has one cache per worker (per VM), so the worker that saw the
/// PutBucketCors tells the others (a shared queue per VM); the module's cache is the process's.
/// Four workers, each with the bucket's "no rules" answer cached, then a PUT through Envoy:
/// every preflight after it, on fresh connections spread over the workers, gets the new rule.
#[test]
fn g_a_change_through_one_worker_reaches_every_worker_at_once() {
    const WORKERS: u32 = 4;
    const CONNECTIONS: usize = 40;
    let garage = Garage::start(&["photos"]);
    let options = EnvoyOptions {
        concurrency: WORKERS,
        ..envoy_options(&garage)
    };
    // A day's refresh: only the change feed can make the other workers read again.
    let config = plugin_config(rules_source(86_400, json!({})));
    let envoy =
        Envoy::start_with(&config, garage.s3_addr(), &options).unwrap_or_else(|e| panic!("{e}"));
    let addr = envoy.addr();
    for _ in 0..CONNECTIONS {
        assert_refused(
            &preflight(addr, "photos", ALLOWED),
            "no rules in the store yet",
        );
    }
    let cached_by = counter(&envoy, c::STORE_READ);
    if Build::from_env() == Build::Wasm {
        assert!(
            cached_by >= 2,
            "the first preflights reached {cached_by} worker(s): the scenario needs several"
        );
    }
    let put = put_rules(&garage, &envoy, "photos", &[ALLOWED]);
    assert!(put.ok, "aws s3api put-bucket-cors through Envoy: {put:?}");
    let answers: Vec<u16> = (0..CONNECTIONS)
        .map(|_| preflight(addr, "photos", ALLOWED).status)
        .collect();
    let read_after = counter(&envoy, c::STORE_READ) - cached_by;
    eprintln!(
        "g: {WORKERS} workers; {cached_by} cache(s) held \"no rules\"; after the PUT: {answers:?}, \
         {read_after} read(s)"
    );
    assert!(
        answers.iter().all(|s| *s == 200),
        "a worker kept its stale answer after the change: {answers:?}"
    );
}
