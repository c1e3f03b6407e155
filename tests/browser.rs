//! Real-browser tests: Debian's Chromium (headless) loads a page from one loopback origin
//! (`http://127.0.0.1:<page port>`, a tiny page server in this test) whose script calls
//! `fetch()` against buckets behind the real Envoy running the real filter on another origin
//! (`http://localhost:<envoy port>`). The page (`tests/browser/runner.html`) is a generic runner:
//! it runs the steps listed here, in order, and POSTs what the browser observed (resolved or
//! rejected, status, readable headers, body) back to the page server. This file holds every
//! expectation, and checks each verdict against the object store's request log (did the actual
//! request reach the upstream?) and against the filter's preflight counters in Envoy's `/stats`.
//!
//! Chromium comes from `CHROMIUM_BIN` (default `/usr/bin/chromium`; `make test` installs
//! Debian's `chromium` when it is missing). Missing Chromium, Envoy or the filter is a failure that
//! says to run `make test`, never a skip. Everything is on loopback and every wait is bounded.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use bucket_cors_testkit::case::select;
use bucket_cors_testkit::chromium::{chromium_bin, Chromium};
use bucket_cors_testkit::page::{delta, Counters, PageServer};
use bucket_cors_testkit::spec::counters;
use bucket_cors_testkit::spec::names::{CONTENT_TYPE, VARY};
use bucket_cors_testkit::{Envoy, ObjStore};
use serde_json::{json, Value};

/// The page: a generic step runner.
const RUNNER_HTML: &str = include_str!("browser/runner.html");

/// How long Chromium gets to load the page, run every step and report.
const RESULTS_TIMEOUT: Duration = Duration::from_secs(60);

const HELLO: &str = "hello from the bucket";
const PUT_JSON: &str = r#"{"hello":"browser"}"#;

// ---------------------------------------------------------------------------------------------
// Steps and expectations

#[derive(Debug, Clone)]
enum Want {
    /// `fetch()` resolves with this status.
    Status(u16),
    /// `fetch()` rejects with a TypeError (the browser blocked it).
    Blocked,
}

#[derive(Debug, Clone)]
enum HeaderWant {
    /// `response.headers.get(name)` returns exactly this.
    Is(&'static str),
    /// ... returns some value (a quoted ETag).
    Etag,
    /// ... returns null: the header is not exposed to the page.
    Hidden,
}

#[derive(Debug, Clone)]
struct Step {
    name: &'static str,
    /// What browsers must be able to do that this step shows.
    covers: &'static str,
    method: &'static str,
    /// Path and query on Envoy; the query names the step, so the store's log tells steps
    /// apart (except where two steps must use the same URL).
    target: String,
    headers: Vec<(&'static str, &'static str)>,
    body: Option<&'static str>,
    credentials: &'static str,
    /// The fetch() cache mode.
    cache: &'static str,
    want: Want,
    body_contains: Option<&'static str>,
    read: Vec<(&'static str, HeaderWant)>,
    /// Whether the actual request reaches the object store.
    reaches_upstream: bool,
}

/// A step name as a query value (the browser would percent-encode spaces and `*`).
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn step(name: &'static str, covers: &'static str, method: &'static str, path: &str) -> Step {
    Step {
        name,
        covers,
        method,
        target: format!("{path}?step={}", slug(name)),
        headers: Vec::new(),
        body: None,
        credentials: "same-origin",
        cache: "no-store",
        want: Want::Status(200),
        body_contains: None,
        read: Vec::new(),
        reaches_upstream: true,
    }
}

impl Step {
    fn header(mut self, n: &'static str, v: &'static str) -> Step {
        self.headers.push((n, v));
        self
    }
    fn body(mut self, b: &'static str) -> Step {
        self.body = Some(b);
        self
    }
    fn credentials(mut self) -> Step {
        self.credentials = "include";
        self
    }
    fn cache(mut self, mode: &'static str) -> Step {
        self.cache = mode;
        self
    }
    fn target(mut self, t: &str) -> Step {
        self.target = t.to_string();
        self
    }
    fn status(mut self, s: u16) -> Step {
        self.want = Want::Status(s);
        self
    }
    fn blocked(mut self, reaches_upstream: bool) -> Step {
        self.want = Want::Blocked;
        self.reaches_upstream = reaches_upstream;
        self
    }
    fn contains(mut self, s: &'static str) -> Step {
        self.body_contains = Some(s);
        self
    }
    fn read(mut self, h: &'static str, w: HeaderWant) -> Step {
        self.read.push((h, w));
        self
    }
    /// A preflighted PUT of a JSON document (with an `x-amz-meta-*` header).
    fn json_put(self) -> Step {
        self.header("content-type", "application/json")
            .header("x-amz-meta-author", "alice")
            .body(PUT_JSON)
    }
}

enum PageStep {
    Fetch(Step),
    Snapshot(&'static str),
}

/// The plugin configuration; the page origin (dynamic port) is listed exactly.
fn plugin_config(page_origin: &str) -> String {
    let web_rule = |max_age: u32| {
        json!({
            "ID": "web",
            "AllowedOrigin": [page_origin],
            "AllowedMethod": ["GET", "PUT", "HEAD", "POST"],
            "AllowedHeader": ["content-type", "x-amz-meta-*", "x-objstore-status"],
            "ExposeHeader": ["ETag", "x-amz-request-id"],
            "MaxAgeSeconds": max_age,
        })
    };
    json!({
        "path_style": true,
        "buckets": {
            "web": { "CORSRule": [web_rule(600)] },
            "nocache": { "CORSRule": [web_rule(0)] },
            "public": { "CORSRule": [{
                "ID": "anyone",
                "AllowedOrigin": ["*"],
                "AllowedMethod": ["GET", "PUT"],
                "AllowedHeader": ["content-type", "x-amz-meta-*"],
                "ExposeHeader": ["ETag"],
                "MaxAgeSeconds": 600,
            }]},
            "other": { "CORSRule": [{
                "ID": "someone-else",
                "AllowedOrigin": ["https://app.example.com"],
                "AllowedMethod": ["GET", "PUT", "DELETE"],
                "AllowedHeader": ["*"],
            }]},
        },
        "unmatched_preflight": "reject",
    })
    .to_string()
}

fn steps() -> Vec<PageStep> {
    use HeaderWant::*;
    use PageStep::{Fetch, Snapshot};
    // The MaxAge pairs: two identical requests (same URL, method, headers) each. Cache mode
    // "default", not the "no-store" of the other steps: Chromium bypasses its preflight cache
    // for a no-store request (seen with Chromium 156: two preflights despite Max-Age 600).
    let maxage = |name, path: &str| {
        step(name, "MaxAgeSeconds", "PUT", path)
            .target(&format!("{path}?step=maxage"))
            .cache("default")
            .json_put()
    };
    vec![
        Fetch(
            step(
                "simple GET, exposed header readable",
                "simple GET",
                "GET",
                "/web/hello.txt",
            )
            .contains(HELLO)
            .read("etag", Etag)
            .read(CONTENT_TYPE, Is("application/octet-stream"))
            .read("x-objstore-hits", Hidden)
            .read(VARY, Hidden),
        ),
        Fetch(
            step(
                "preflighted PUT, json and x-amz-meta-*",
                "preflighted PUT",
                "PUT",
                "/web/upload.json",
            )
            .json_put()
            .header("x-amz-meta-purpose", "browser-test")
            .read("etag", Etag),
        ),
        Fetch(
            step(
                "credentialed GET, echoed-origin rule",
                "credentials",
                "GET",
                "/web/hello.txt",
            )
            .credentials()
            .contains(HELLO)
            .read("etag", Etag),
        ),
        Fetch(
            step(
                "credentialed PUT, echoed-origin rule",
                "credentials",
                "PUT",
                "/web/cred.json",
            )
            .credentials()
            .json_put(),
        ),
        Fetch(
            step(
                "anonymous GET, * rule",
                "credentials (control)",
                "GET",
                "/public/pub.txt",
            )
            .contains("public object")
            .read("etag", Etag),
        ),
        Fetch(
            // A simple request: it goes upstream; the browser refuses `*` on the response.
            step(
                "credentialed GET, * rule",
                "credentials",
                "GET",
                "/public/pub.txt",
            )
            .credentials()
            .blocked(true),
        ),
        Fetch(
            // The filter allows the preflight with `*`; the browser refuses it for credentials.
            step(
                "credentialed PUT, * rule",
                "credentials",
                "PUT",
                "/public/cred.json",
            )
            .credentials()
            .json_put()
            .blocked(false),
        ),
        Fetch(
            step(
                "disallowed origin, simple GET",
                "disallowed origin",
                "GET",
                "/other/x.txt",
            )
            .blocked(true),
        ),
        Fetch(
            step(
                "disallowed origin, preflighted PUT",
                "disallowed origin",
                "PUT",
                "/other/denied.json",
            )
            .json_put()
            .blocked(false),
        ),
        Fetch(
            step(
                "disallowed method DELETE",
                "disallowed method",
                "DELETE",
                "/web/hello.txt",
            )
            .blocked(false),
        ),
        Fetch(
            step(
                "disallowed header x-forbidden",
                "disallowed header",
                "PUT",
                "/web/denied.json",
            )
            .json_put()
            .header("x-forbidden", "1")
            .blocked(false),
        ),
        Fetch(
            step(
                "bucket without CORS, preflighted PUT",
                "no configuration",
                "PUT",
                "/unconfigured/denied.json",
            )
            .json_put()
            .blocked(false),
        ),
        Fetch(
            step(
                "bucket without CORS, simple GET",
                "no configuration",
                "GET",
                "/unconfigured/x.txt",
            )
            .blocked(true),
        ),
        Fetch(
            step(
                "upstream 404 readable",
                "upstream 4xx",
                "GET",
                "/web/missing.txt",
            )
            .status(404)
            .contains("<Code>NoSuchKey</Code>")
            .read(CONTENT_TYPE, Is("application/xml")),
        ),
        Fetch(
            step(
                "upstream 503 readable",
                "upstream 5xx",
                "GET",
                "/web/forced.txt",
            )
            .header("x-objstore-status", "503")
            .status(503)
            .contains("objstore forced status 503"),
        ),
        Snapshot("maxage-before"),
        Fetch(maxage("MaxAgeSeconds 600, first", "/web/maxage.json")),
        Fetch(maxage("MaxAgeSeconds 600, second", "/web/maxage.json")),
        Snapshot("maxage-after"),
        Snapshot("nocache-before"),
        Fetch(maxage("MaxAgeSeconds 0, first", "/nocache/maxage.json")),
        Fetch(maxage("MaxAgeSeconds 0, second", "/nocache/maxage.json")),
        Snapshot("nocache-after"),
    ]
}

fn steps_json(steps: &[PageStep], envoy_base: &str) -> String {
    let list: Vec<Value> = steps
        .iter()
        .map(|s| match s {
            PageStep::Snapshot(label) => json!({ "kind": "snapshot", "label": label }),
            PageStep::Fetch(s) => json!({
                "kind": "fetch",
                "name": s.name,
                "url": format!("{envoy_base}{}", s.target),
                "method": s.method,
                "headers": s.headers.iter().map(|(n, v)| (n.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "body": s.body,
                "credentials": s.credentials,
                "cache": s.cache,
                "read": s.read.iter().map(|(h, _)| *h).collect::<Vec<_>>(),
            }),
        })
        .collect();
    Value::Array(list).to_string()
}

/// The page's observation of one step, checked against the step; one line per problem.
fn check_step(s: &Step, r: &Value, store: &ObjStore, failures: &mut Vec<String>) {
    let mut fail = |msg: String| failures.push(format!("[{}] {msg}; browser saw {r}", s.name));
    let outcome = r["outcome"].as_str().unwrap_or("");
    match s.want {
        Want::Blocked => {
            if outcome != "rejected" {
                fail("fetch() resolved, but the browser should have blocked it".into());
            } else if r["error_name"] != "TypeError" {
                fail("fetch() rejected with something other than a TypeError".into());
            }
        }
        Want::Status(status) => {
            if outcome != "resolved" {
                fail(format!("fetch() rejected, want status {status}"));
                return;
            }
            if r["status"].as_u64() != Some(u64::from(status)) {
                fail(format!("status {}, want {status}", r["status"]));
            }
            if r["type"] != "cors" {
                fail(format!("response type {}, want \"cors\"", r["type"]));
            }
            if let Some(want) = s.body_contains {
                if !r["body"].as_str().unwrap_or("").contains(want) {
                    fail(format!("body does not contain {want:?}"));
                }
            }
            for (h, want) in &s.read {
                let got = &r["headers"][*h];
                let ok = match want {
                    HeaderWant::Is(v) => got == v,
                    HeaderWant::Etag => got
                        .as_str()
                        .is_some_and(|v| v.len() >= 3 && v.starts_with('"') && v.ends_with('"')),
                    HeaderWant::Hidden => got.is_null(),
                };
                if !ok {
                    fail(format!("header {h}: got {got}, want {want:?}"));
                }
            }
        }
    }
    let reached = store
        .requests()
        .iter()
        .filter(|q| q.method == s.method && q.target == s.target)
        .count();
    // The MaxAge pairs share a target: one request each.
    let same_target = usize::from(s.target.ends_with("?step=maxage")) + 1;
    let want = if s.reaches_upstream { same_target } else { 0 };
    if reached != want {
        fail(format!(
            "the object store saw {reached} {} {}, want {want}",
            s.method, s.target
        ));
    }
}

#[test]
fn browser_fetch_against_buckets() {
    let t0 = Instant::now();
    let chromium = chromium_bin();
    assert!(
        chromium.is_file(),
        "Chromium not found at {} (set CHROMIUM_BIN, or run `make test`, whose browser-deps target installs Debian's chromium)",
        chromium.display()
    );

    let store = ObjStore::start().expect("start the object store");
    store.put_object("web", "hello.txt", HELLO.as_bytes());
    store.put_object("public", "pub.txt", b"public object");
    store.put_object("other", "x.txt", b"someone else's");
    store.put_object("unconfigured", "x.txt", b"no CORS here");

    // The page origin is in the plugin configuration and Envoy's port is in the page's steps:
    // bind the page port first (kept bound), start Envoy, then serve the page on it.
    // `CASE=<substring>` runs only the steps whose name (or snapshot label) contains it; the
    // checks over the whole run (side effects, preflight cache, counter totals) need them all.
    let all = steps();
    let total = all.len();
    let steps = select(all, |s| match s {
        PageStep::Fetch(f) => f.name,
        PageStep::Snapshot(label) => label,
    });
    let whole = steps.len() == total;
    let page_listener = TcpListener::bind("127.0.0.1:0").expect("bind the page server");
    let page_origin = format!(
        "http://127.0.0.1:{}",
        page_listener
            .local_addr()
            .expect("page server address")
            .port()
    );
    let envoy =
        Envoy::start(&plugin_config(&page_origin), store.addr()).unwrap_or_else(|e| panic!("{e}"));
    let envoy_base = format!("http://localhost:{}", envoy.addr().port());
    let admin = envoy.admin();
    let files = BTreeMap::from([
        (
            "/",
            ("text/html; charset=utf-8", RUNNER_HTML.as_bytes().to_vec()),
        ),
        (
            "/steps.json",
            (
                "application/json",
                steps_json(&steps, &envoy_base).into_bytes(),
            ),
        ),
    ]);
    let page = PageServer::start(
        page_listener,
        files,
        Box::new(move || admin.filter_counters()),
    )
    .expect("start the page server");
    assert_eq!(page.origin(), page_origin);

    let start = envoy
        .admin()
        .filter_counters()
        .expect("read Envoy's counters");
    let t_browser = Instant::now();
    let mut browser =
        Chromium::launch(&chromium, &format!("{page_origin}/")).unwrap_or_else(|e| panic!("{e}"));
    let results = page.wait_results(&mut browser, RESULTS_TIMEOUT);
    let browser_time = t_browser.elapsed();
    let results = match results {
        Ok(r) => r,
        Err(e) => panic!(
            "{e}\npage progress:\n  {}\nChromium log (tail):\n{}",
            // The page posts each progress line as a JSON string.
            page.progress()
                .iter()
                .map(|l| serde_json::from_str::<String>(l).unwrap_or_else(|_| l.clone()))
                .collect::<Vec<_>>()
                .join("\n  "),
            browser.log_tail(60)
        ),
    };
    drop(browser);
    let end = envoy
        .admin()
        .filter_counters()
        .expect("read Envoy's counters");

    let results: Value = serde_json::from_str(&results).expect("the page's results are JSON");
    assert_eq!(results["ok"], true, "the page failed: {}", results["error"]);
    assert_eq!(results["origin"], page_origin.as_str(), "page origin");
    eprintln!("browser: {}", results["userAgent"]);

    let mut failures = Vec::new();
    let mut report = String::new();
    let observed = results["results"].as_array().cloned().unwrap_or_default();
    let fetches: Vec<&Step> = steps
        .iter()
        .filter_map(|s| match s {
            PageStep::Fetch(s) => Some(s),
            PageStep::Snapshot(_) => None,
        })
        .collect();
    let observed: Vec<&Value> = observed.iter().filter(|r| r["kind"] == "fetch").collect();
    assert_eq!(
        observed.len(),
        fetches.len(),
        "the page reported {} fetches for {} steps",
        observed.len(),
        fetches.len()
    );
    for (s, r) in fetches.iter().zip(&observed) {
        assert_eq!(r["name"], s.name, "results out of order");
        let _ = writeln!(
            report,
            "  {:<45} {:<22} {} {}",
            s.name,
            s.covers,
            r["outcome"].as_str().unwrap_or("?"),
            if r["outcome"] == "resolved" {
                r["status"].to_string()
            } else {
                r["error"].as_str().unwrap_or("").to_string()
            }
        );
        check_step(s, r, &store, &mut failures);
    }

    // Preflights are answered by the filter: none reaches the store.
    let options: Vec<String> = store
        .requests()
        .iter()
        .filter(|q| q.method == "OPTIONS")
        .map(|q| q.target.clone())
        .collect();
    if !options.is_empty() {
        failures.push(format!("preflights reached the object store: {options:?}"));
    }

    if whole {
        whole_run_checks(
            &store,
            &page,
            &page_origin,
            &start,
            &end,
            &mut report,
            &mut failures,
        );
    } else {
        eprintln!(
            "CASE selects {} of {total} steps: the whole-run checks are skipped",
            steps.len()
        );
    }
    let crashes = envoy.crash_lines();
    if !crashes.is_empty() {
        failures.push(format!("the plugin crashed: {crashes:?}"));
    }
    eprintln!(
        "browser verdicts:\n{report}timing: Envoy ready in {:?}, Chromium ran the page in {browser_time:?}, test {:?}",
        envoy.startup_time(),
        t0.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} browser check(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The checks over the whole run of steps: side effects upstream, the preflight cache of the
/// MaxAge pairs, and every preflight counted by outcome.
fn whole_run_checks(
    store: &ObjStore,
    page: &PageServer,
    page_origin: &str,
    start: &Counters,
    end: &Counters,
    report: &mut String,
    failures: &mut Vec<String>,
) {
    // Side effects upstream: the preflighted PUT arrived with its body and metadata.
    let put = store
        .requests()
        .into_iter()
        .find(|q| q.method == "PUT" && q.path() == "/web/upload.json");
    match put {
        Some(q) => {
            for (n, v) in [
                ("content-type", "application/json"),
                ("x-amz-meta-author", "alice"),
                ("x-amz-meta-purpose", "browser-test"),
                ("origin", page_origin),
            ] {
                if q.header(n) != Some(v) {
                    failures.push(format!(
                        "upstream PUT: {n} is {:?}, want {v:?}",
                        q.header(n)
                    ));
                }
            }
            if q.body != PUT_JSON.as_bytes() {
                failures.push(format!(
                    "upstream PUT body {:?}",
                    String::from_utf8_lossy(&q.body)
                ));
            }
        }
        None => failures.push("the preflighted PUT never reached the object store".into()),
    }
    if store.get_object("web", "hello.txt").is_none() {
        failures.push("the refused DELETE removed the object".into());
    }
    // MaxAgeSeconds: the browser's preflight cache spares the second preflight.
    let pair = |before: &str, after: &str| -> Result<i64, String> {
        Ok(delta(
            &page.snapshot(before)?,
            &page.snapshot(after)?,
            counters::PREFLIGHT_ALLOWED,
        ))
    };
    let maxage = pair("maxage-before", "maxage-after");
    let nocache = pair("nocache-before", "nocache-after");
    if maxage != Ok(1) {
        failures.push(format!(
            "MaxAgeSeconds 600: preflights answered for two identical PUTs {maxage:?}, want 1"
        ));
    }
    if nocache != Ok(2) {
        failures.push(format!(
            "MaxAgeSeconds 0: preflights answered for two identical PUTs {nocache:?}, want 2"
        ));
    }

    // Every preflight the browser sent, by outcome: allowed = the preflighted PUT, the two
    // credentialed PUTs (the `*` one is allowed by the filter, refused by the browser), the
    // 503 GET (custom header), 1 + 2 for the MaxAge pairs.
    let want_counts = [
        (counters::PREFLIGHT_ALLOWED, 7),
        (counters::PREFLIGHT_REFUSED_ORIGIN, 1),
        (counters::PREFLIGHT_REFUSED_METHOD, 1),
        (counters::PREFLIGHT_REFUSED_HEADER, 1),
        (counters::PREFLIGHT_REFUSED_NO_CONFIGURATION, 1),
    ];
    for (name, want) in want_counts {
        let got = delta(start, end, name);
        let _ = writeln!(report, "  counter {name}: +{got}");
        if got != want {
            failures.push(format!("{name}: +{got} over the run, want +{want}"));
        }
    }
    let _ = writeln!(
        report,
        "  MaxAge 600 pair: {maxage:?} preflight(s); MaxAge 0 pair: {nocache:?}"
    );
}
