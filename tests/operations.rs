//! End-to-end tests of the operational features, against the real Envoy (ENVOY_BIN) running
//! the real built filter (BUCKET_CORS_BUILD: the wasm, BUCKET_CORS_WASM, or the dynamic module,
//! BUCKET_CORS_MODULE) in front of the testkit object store:
//!
//! - metrics: the filter's counters in Envoy's admin `/stats` after a known set of requests;
//! - report-only mode (a bucket's `"Mode": "report"`): decide, count and log, change nothing;
//! - live reload: the listener comes from a watched LDS file, the plugin configuration changes
//!   while requests run, and an invalid one is refused while the previous one keeps serving;
//! - the same switch through ECDS (a watched extension-config file), beside LDS, counting the
//!   connections each closes.
//!
//! Missing Envoy, wasm or module is a failure ("run `make test`"), never a skip.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "operations/ecds.rs"]
mod ecds;
#[path = "operations/reload.rs"]
mod reload;
#[path = "operations/support.rs"]
mod support;

use std::time::Duration;

use bucket_cors_testkit::case::{select, CASE_HEADER, PS, WWW};
use bucket_cors_testkit::spec::counters;
use bucket_cors_testkit::spec::names::*;
use bucket_cors_testkit::spec::PREFLIGHT_VARY;
use bucket_cors_testkit::{send, Conn, EnvoyOptions, RawRequest, Response};
use support::*;

/// Two buckets with rules, `nocors` without; preflights of unconfigured buckets are refused.
const METRICS_CONFIG: &str = r#"{
  "buckets": {
    "photos": {
      "CORSRule": [
        { "ID": "www", "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET", "PUT"], "AllowedHeader": ["content-type"] },
        { "ID": "b", "AllowedOrigin": ["https://*.b.com"], "AllowedMethod": ["GET"] }
      ]
    },
    "public": {
      "CORSRule": [{ "AllowedOrigin": ["*"], "AllowedMethod": ["GET"] }]
    }
  },
  "unmatched_preflight": "reject"
}"#;

/// One request of the metrics table: what Envoy must answer, and which counter it moves.
struct Step {
    name: &'static str,
    req: RawRequest,
    status: u16,
    counter: Option<Counter>,
}

fn step(name: &'static str, req: RawRequest, status: u16, counter: Option<Counter>) -> Step {
    Step {
        name,
        req,
        status,
        counter,
    }
}

/// Each counter gets a different number of requests, so that two swapped counters show.
fn metrics_steps() -> Vec<Step> {
    use bucket_cors_testkit::spec::counters::*;
    let pf = preflight;
    vec![
        // preflight.allowed: 5
        step(
            "allowed GET",
            pf("/photos/k", WWW, "GET"),
            200,
            Some(PREFLIGHT_ALLOWED),
        ),
        step(
            "allowed PUT with a header",
            pf("/photos/k", WWW, "PUT").header("Access-Control-Request-Headers", "Content-Type"),
            200,
            Some(PREFLIGHT_ALLOWED),
        ),
        step(
            "allowed by the 2nd rule",
            pf("/photos/k", "https://x.b.com", "GET"),
            200,
            Some(PREFLIGHT_ALLOWED),
        ),
        step(
            "allowed, deeper subdomain",
            pf("/photos/k", "https://x.y.b.com", "GET"),
            200,
            Some(PREFLIGHT_ALLOWED),
        ),
        step(
            "allowed by *",
            pf("/public/k", "https://any.org", "GET"),
            200,
            Some(PREFLIGHT_ALLOWED),
        ),
        // preflight.refused.no_configuration: 1
        step(
            "bucket without configuration",
            pf("/nocors/k", WWW, "GET"),
            403,
            Some(PREFLIGHT_REFUSED_NO_CONFIGURATION),
        ),
        // preflight.refused.origin: 2
        step(
            "origin refused",
            pf("/photos/k", "https://evil.example", "GET"),
            403,
            Some(PREFLIGHT_REFUSED_ORIGIN),
        ),
        step(
            "two Origin lines",
            pf("/photos/k", WWW, "GET").header("Origin", "https://x.b.com"),
            403,
            Some(PREFLIGHT_REFUSED_ORIGIN),
        ),
        // preflight.refused.method: 3
        step(
            "method refused",
            pf("/photos/k", WWW, "DELETE"),
            403,
            Some(PREFLIGHT_REFUSED_METHOD),
        ),
        step(
            "method is case-sensitive",
            pf("/photos/k", WWW, "get"),
            403,
            Some(PREFLIGHT_REFUSED_METHOD),
        ),
        step(
            "method refused by the 2nd rule",
            pf("/photos/k", "https://x.b.com", "PUT"),
            403,
            Some(PREFLIGHT_REFUSED_METHOD),
        ),
        // preflight.refused.header: 4
        step(
            "header refused",
            pf("/photos/k", WWW, "PUT").header("Access-Control-Request-Headers", "x-forbidden"),
            403,
            Some(PREFLIGHT_REFUSED_HEADER),
        ),
        step(
            "one of two headers refused",
            pf("/photos/k", WWW, "GET")
                .header("Access-Control-Request-Headers", "content-type, x-other"),
            403,
            Some(PREFLIGHT_REFUSED_HEADER),
        ),
        step(
            "2nd rule allows no header",
            pf("/photos/k", "https://x.b.com", "GET")
                .header("Access-Control-Request-Headers", "content-type"),
            403,
            Some(PREFLIGHT_REFUSED_HEADER),
        ),
        step(
            "malformed header list",
            pf("/photos/k", WWW, "GET").header("Access-Control-Request-Headers", "bad header"),
            403,
            Some(PREFLIGHT_REFUSED_HEADER),
        ),
        // actual.matched: 6
        step(
            "GET matched",
            actual("GET", "/photos/obj", Some(WWW)),
            200,
            Some(ACTUAL_MATCHED),
        ),
        step(
            "PUT matched",
            actual("PUT", "/photos/new", Some(WWW)).body("data"),
            200,
            Some(ACTUAL_MATCHED),
        ),
        step(
            "GET matched by the 2nd rule",
            actual("GET", "/photos/obj", Some("https://x.b.com")),
            200,
            Some(ACTUAL_MATCHED),
        ),
        step(
            "GET matched by *",
            actual("GET", "/public/obj", Some("https://any.org")),
            404,
            Some(ACTUAL_MATCHED),
        ),
        step(
            "GET matched, upstream 404",
            actual("GET", "/photos/missing", Some(WWW)),
            404,
            Some(ACTUAL_MATCHED),
        ),
        step(
            "GET matched, upstream 500",
            actual("GET", "/photos/obj", Some(WWW)).header("x-objstore-status", "500"),
            500,
            Some(ACTUAL_MATCHED),
        ),
        // actual.unmatched: 7
        step(
            "GET origin unmatched",
            actual("GET", "/photos/obj", Some("https://evil.example")),
            200,
            Some(ACTUAL_UNMATCHED),
        ),
        step(
            "HEAD method unmatched",
            actual("HEAD", "/photos/obj", Some(WWW)),
            200,
            Some(ACTUAL_UNMATCHED),
        ),
        step(
            "DELETE method unmatched",
            actual("DELETE", "/photos/gone", Some(WWW)),
            204,
            Some(ACTUAL_UNMATCHED),
        ),
        step(
            "POST by the 2nd rule's origin",
            actual("POST", "/photos/p", Some("https://x.b.com")),
            200,
            Some(ACTUAL_UNMATCHED),
        ),
        step(
            "Origin null",
            actual("GET", "/photos/obj", Some("null")),
            200,
            Some(ACTUAL_UNMATCHED),
        ),
        step(
            "two Origin lines on a GET",
            actual("GET", "/photos/obj", Some(WWW)).header("Origin", "https://x.b.com"),
            200,
            Some(ACTUAL_UNMATCHED),
        ),
        step(
            "OPTIONS without Access-Control-Request-Method (not a preflight)",
            actual("OPTIONS", "/photos/obj", Some(WWW)),
            200,
            Some(ACTUAL_UNMATCHED),
        ),
        // no counter
        step(
            "GET without Origin",
            actual("GET", "/photos/obj", None),
            200,
            None,
        ),
        step(
            "GET of a bucket without configuration",
            actual("GET", "/nocors/k", Some(WWW)),
            404,
            None,
        ),
        step("GET of no bucket", actual("GET", "/", Some(WWW)), 200, None),
        step(
            "preflight of no bucket (forwarded)",
            pf("/", WWW, "GET"),
            200,
            None,
        ),
        step(
            "OPTIONS with Access-Control-Request-Method and no Origin",
            RawRequest::new("OPTIONS", PS, "/photos/k")
                .header("Access-Control-Request-Method", "GET"),
            200,
            None,
        ),
    ]
}

fn expected_counts(steps: &[Step]) -> Counts {
    let mut c = Counts::default();
    for s in steps {
        if let Some(counter) = s.counter {
            c.add(counter, 1);
        }
    }
    c
}

/// Sends every step; returns the problems (wrong status, transport errors).
fn run_steps(
    steps: &[Step],
    sender: &mut dyn FnMut(&RawRequest) -> std::io::Result<Response>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for s in steps {
        match sender(&s.req) {
            Ok(r) if r.status == s.status => {}
            Ok(r) => problems.push(format!(
                "{}: status {} (want {})\n{r}",
                s.name, r.status, s.status
            )),
            Err(e) => problems.push(format!("{}: request failed: {e}", s.name)),
        }
    }
    problems
}

/// Metrics (README "Metrics", docs/spec.md §6): every counter, read from `/stats` after a known set
/// of requests, on fresh connections and then all again on one kept-alive connection.
#[test]
fn metrics_count_each_outcome_in_stats() {
    let (store, envoy) = start("metrics", METRICS_CONFIG, &EnvoyOptions::default());
    store.put_object("photos", "obj", b"hello");
    let all = metrics_steps();
    let total = all.len();
    let steps = select(all, |s| s.name);
    let per_round = expected_counts(&steps);
    // Only the whole table gives each counter its own count (`CASE` may pick a few steps);
    // the configuration reads no rules from a store, so the store's counters stay at 0.
    if steps.len() == total {
        assert_eq!(
            per_round.0,
            [5, 1, 2, 3, 4, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0],
            "the table gives each counter its own count"
        );
    }

    // Nothing counted before the first request; a valid configuration is not counted.
    expect_counters(&envoy, &Counts::default(), "before any request");

    let addr = envoy.addr();
    let problems = run_steps(&steps, &mut |r: &RawRequest| send(addr, r));
    assert!(
        problems.is_empty(),
        "fresh connections:\n{}",
        problems.join("\n")
    );
    expect_counters(&envoy, &per_round, "after one round on fresh connections");

    let mut conn = Conn::open(addr).expect("connect to Envoy");
    let problems = run_steps(&steps, &mut |r: &RawRequest| conn.send(r));
    assert!(
        problems.is_empty(),
        "one kept-alive connection:\n{}",
        problems.join("\n")
    );
    expect_counters(
        &envoy,
        &per_round.times(2),
        "after a second round on one connection",
    );

    // Reading /stats does not move anything.
    expect_counters(&envoy, &per_round.times(2), "read again");
    eprintln!(
        "[metrics] {} requests x 2 rounds; /stats:\n{}",
        steps.len(),
        stats_lines(&envoy).join("\n")
    );
    assert_no_crash(&envoy);
}

/// `unmatched_preflight: "forward"`: a preflight of a bucket without configuration goes
/// upstream and is not counted as refused.
#[test]
fn metrics_forwarded_preflight_is_not_refused() {
    let config = r#"{"buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"]}]}}, "unmatched_preflight": "forward", "upstream_cors": "pass"}"#;
    let (store, envoy) = start("metrics-forward", config, &EnvoyOptions::default());
    let addr = envoy.addr();
    let r = send(addr, &preflight("/nocors/k", WWW, "GET")).expect("preflight");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("x-objstore-options"), Some("reached"), "{r}");
    let r = send(addr, &preflight("/photos/k", WWW, "GET")).expect("preflight");
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        store.hits(),
        1,
        "only the forwarded preflight reached the upstream"
    );
    let mut want = Counts::default();
    want.add(counters::PREFLIGHT_ALLOWED, 1);
    expect_counters(&envoy, &want, "forwarded preflight");
}

/// `legacy` reports only, `enforced` is the same rule enforced; any other bucket (`nocors`)
/// is left to Envoy, preflights included: the pass-through the report-only bucket must equal.
const REPORT_CONFIG: &str = r#"{
  "buckets": {
    "legacy": {
      "Mode": "report",
      "CORSRule": [
        { "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET", "PUT"], "AllowedHeader": ["content-type"], "ExposeHeader": ["ETag"], "MaxAgeSeconds": 60 }
      ]
    },
    "enforced": {
      "CORSRule": [
        { "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET", "PUT"], "AllowedHeader": ["content-type"], "ExposeHeader": ["ETag"], "MaxAgeSeconds": 60 }
      ]
    }
  },
  "unmatched_preflight": "forward",
  "upstream_cors": "pass"
}"#;

/// The headers `x-objstore-cors: all` makes the upstream send, in its order.
const UPSTREAM_ALL: [(&str, &str); 7] = [
    (ACAO, "*"),
    (ACEH, "x-upstream-only"),
    (ACAC, "true"),
    (ACAM, "PATCH"),
    (ACAH, "x-upstream"),
    (ACMA, "99999"),
    (ACAO, "https://upstream.example"),
];

/// One request to the report-only bucket: the upstream must get it unchanged and its answer
/// must come back unchanged.
struct ReportCase {
    name: &'static str,
    req: RawRequest,
    status: u16,
    /// The `Access-Control-*` lines the upstream sent, which must come back as sent, in order.
    upstream_acx: Vec<(&'static str, &'static str)>,
    /// The upstream's own `Vary` lines (none: the filter must add none).
    vary: Vec<&'static str>,
    counter: Option<Counter>,
    /// What the `report-only:` log line ends with.
    logged: &'static str,
}

fn report_cases() -> Vec<ReportCase> {
    use bucket_cors_testkit::spec::counters::*;
    let all = || UPSTREAM_ALL.to_vec();
    vec![
        ReportCase {
            name: "allowed preflight",
            req: preflight("/legacy/allowed", WWW, "PUT")
                .header("Access-Control-Request-Headers", "content-type")
                .header("x-objstore-cors", "all"),
            status: 200,
            upstream_acx: all(),
            vary: vec![],
            counter: Some(PREFLIGHT_ALLOWED),
            logged: "OPTIONS /legacy/allowed from https://www.example.com: PreflightAllowed",
        },
        ReportCase {
            name: "preflight refused by origin",
            req: preflight("/legacy/origin", "https://evil.example", "GET"),
            status: 200,
            upstream_acx: vec![],
            vary: vec![],
            counter: Some(PREFLIGHT_REFUSED_ORIGIN),
            logged: "OPTIONS /legacy/origin from https://evil.example: PreflightRefused(Origin)",
        },
        ReportCase {
            name: "preflight refused by method",
            req: preflight("/legacy/method", WWW, "DELETE").header("x-objstore-cors", "1"),
            status: 200,
            upstream_acx: UPSTREAM_ALL[..3].to_vec(),
            vary: vec![],
            counter: Some(PREFLIGHT_REFUSED_METHOD),
            logged: "OPTIONS /legacy/method from https://www.example.com: PreflightRefused(Method)",
        },
        ReportCase {
            name: "preflight refused by header",
            req: preflight("/legacy/header", WWW, "PUT")
                .header("Access-Control-Request-Headers", "x-forbidden")
                .header("x-objstore-vary", "Accept-Encoding"),
            status: 200,
            upstream_acx: vec![],
            vary: vec!["Accept-Encoding"],
            counter: Some(PREFLIGHT_REFUSED_HEADER),
            logged: "OPTIONS /legacy/header from https://www.example.com: PreflightRefused(Header)",
        },
        ReportCase {
            name: "matched GET",
            req: actual("GET", "/legacy/obj", Some(WWW)).header("x-objstore-cors", "all"),
            status: 200,
            upstream_acx: all(),
            vary: vec![],
            counter: Some(ACTUAL_MATCHED),
            logged: "GET /legacy/obj from https://www.example.com: ActualMatched",
        },
        ReportCase {
            name: "unmatched GET, upstream Vary kept",
            req: actual("GET", "/legacy/obj?x=1", Some("https://evil.example"))
                .header("x-objstore-cors", "1")
                .header("x-objstore-vary", "Accept-Encoding"),
            status: 200,
            upstream_acx: UPSTREAM_ALL[..3].to_vec(),
            vary: vec!["Accept-Encoding"],
            counter: Some(ACTUAL_UNMATCHED),
            logged: "GET /legacy/obj?x=1 from https://evil.example: ActualUnmatched",
        },
        ReportCase {
            name: "GET without Origin",
            req: actual("GET", "/legacy/obj", None),
            status: 200,
            upstream_acx: vec![],
            vary: vec![],
            counter: None,
            logged: "GET /legacy/obj from no Origin: NoOrigin",
        },
        ReportCase {
            name: "matched PUT, upstream 500",
            req: actual("PUT", "/legacy/new", Some(WWW))
                .header("x-objstore-status", "500")
                .header("x-objstore-cors", "all"),
            status: 500,
            upstream_acx: all(),
            vary: vec![],
            counter: Some(ACTUAL_MATCHED),
            logged: "PUT /legacy/new from https://www.example.com: ActualMatched",
        },
    ]
}

/// Headers Envoy itself adds to every request it forwards (with or without the filter).
const ENVOY_ADDS: [&str; 4] = [
    "x-forwarded-proto",
    "x-request-id",
    "x-envoy-expected-rq-timeout-ms",
    "content-length",
];

/// `Access-Control-*` lines with each value split on `,` (Envoy folds repeated lines of the
/// CORS headers into one, `*,https://upstream.example`), sorted.
fn acx_items(lines: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = lines
        .iter()
        .flat_map(|(n, v)| {
            v.split(',')
                .map(|i| (n.to_ascii_lowercase(), i.trim().to_string()))
        })
        .collect();
    out.sort();
    out
}

/// Sends every case and checks that the request and its answer pass untouched: the answer's
/// `Access-Control-*` and `Vary` lines are exactly those of the same request to a bucket the
/// filter does not know (`nocors`, Envoy's own pass-through), and hold every value the upstream
/// sent; the upstream got every header as sent, and nothing but what Envoy always adds.
fn run_report_cases(
    store: &bucket_cors_testkit::ObjStore,
    envoy: &bucket_cors_testkit::Envoy,
) -> Vec<String> {
    let mut failures = Vec::new();
    for c in select(report_cases(), |c| c.name) {
        let req = c.req.clone().header(CASE_HEADER, c.name);
        let mut control = c
            .req
            .clone()
            .header(CASE_HEADER, format!("{} (control)", c.name));
        control.target = control
            .target_str()
            .replacen("/legacy/", "/nocors/", 1)
            .into_bytes();
        let mut problems = Vec::new();
        let (resp, control) = match (send(envoy.addr(), &req), send(envoy.addr(), &control)) {
            (Ok(r), Ok(c)) => (r, c),
            (r, k) => {
                failures.push(format!(
                    "--- {}: request failed: {:?} / control {:?}",
                    c.name,
                    r.err(),
                    k.err()
                ));
                continue;
            }
        };
        if resp.status != c.status {
            problems.push(format!("status {} (want {})", resp.status, c.status));
        }
        let upstream: Vec<(String, String)> = c
            .upstream_acx
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        if acx_items(&acx_lines(&resp)) != acx_items(&upstream) {
            problems.push(format!(
                "Access-Control-* lines {:?}, want every value the upstream sent: {upstream:?}",
                acx_lines(&resp)
            ));
        }
        if acx_lines(&resp) != acx_lines(&control) {
            problems.push(format!(
                "Access-Control-* lines {:?}, want those Envoy passes for an unknown bucket: {:?}",
                acx_lines(&resp),
                acx_lines(&control)
            ));
        }
        if resp.header_all("vary") != c.vary || control.header_all("vary") != c.vary {
            problems.push(format!(
                "Vary {:?} (unknown bucket: {:?}), want the upstream's {:?}",
                resp.header_all("vary"),
                control.header_all("vary"),
                c.vary
            ));
        }
        if resp.header("x-objstore-method") != Some(c.req.method.as_str()) {
            problems.push("the answer does not come from the upstream".into());
        }
        let seen = store.requests_with(CASE_HEADER, c.name);
        match seen.as_slice() {
            [up] => {
                let sent: Vec<(String, String)> = req
                    .headers
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.to_ascii_lowercase(),
                            String::from_utf8_lossy(v).into_owned(),
                        )
                    })
                    .collect();
                let got: Vec<(String, String)> = up
                    .headers
                    .iter()
                    .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                    .filter(|(n, _)| !ENVOY_ADDS.contains(&n.as_str()))
                    .collect();
                if up.method != req.method || up.target != req.target_str() || got != sent {
                    problems.push(format!(
                        "upstream got {} {} {:?}\n    want it untouched: {} {} {sent:?}",
                        up.method,
                        up.target,
                        up.headers,
                        req.method,
                        req.target_str()
                    ));
                }
            }
            _ => problems.push(format!(
                "upstream saw the request {} times (want 1)",
                seen.len()
            )),
        }
        if !problems.is_empty() {
            failures.push(format!(
                "--- {}\n    {}\n    response was:\n{resp}",
                c.name,
                problems.join("\n    ")
            ));
        }
    }
    failures
}

/// Report-only mode (docs/spec.md §6): a `"Mode": "report"` bucket forwards preflights, leaves
/// requests and responses alone (the upstream's CORS headers and Vary pass unchanged, no Vary is
/// added), still counts, and logs each decision at debug level (`--component-log-level wasm:debug`,
/// or `dynamic_modules:debug` for the module).
#[test]
fn report_only_mode_forwards_counts_and_logs() {
    let opts = EnvoyOptions {
        plugin_log_level: "debug".into(),
        ..quick_log_opts()
    };
    let (store, envoy) = start("report-only", REPORT_CONFIG, &opts);
    store.put_object("legacy", "obj", b"legacy object");

    let mut failures = run_report_cases(&store, &envoy);

    // The same preflight to the enforced bucket is answered by the filter: the contrast.
    let r = send(
        envoy.addr(),
        &preflight("/enforced/k", WWW, "GET").header("x-objstore-cors", "all"),
    )
    .expect("enforced preflight");
    let mut problems = check_cors(
        &r,
        &[
            (ACAO, WWW),
            (ACAC, "true"),
            (ACAM, "GET, PUT"),
            (ACEH, "ETag"),
            (ACMA, "60"),
        ],
        Some(PREFLIGHT_VARY),
    );
    if r.status != 200 || r.header("x-objstore-method").is_some() {
        problems.push("want a 200 made by the filter".into());
    }
    let r = send(envoy.addr(), &actual("GET", "/enforced/k", None)).expect("enforced GET");
    problems.extend(check_cors(&r, &[], Some("Origin")));
    if !problems.is_empty() {
        failures.push(format!(
            "--- enforced bucket (control)\n    {}",
            problems.join("\n    ")
        ));
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}\n\nplugin log:\n{}",
        failures.len(),
        failures.join("\n"),
        envoy.plugin_log()
    );

    // Counted as if enforced (+1 allowed preflight for the control).
    let mut want = Counts::default();
    for c in select(report_cases(), |c| c.name) {
        if let Some(counter) = c.counter {
            want.add(counter, 1);
        }
    }
    want.add(counters::PREFLIGHT_ALLOWED, 1);
    expect_counters(&envoy, &want, "report-only");

    // One debug line per decision of the report-only bucket, none for the enforced one.
    let cases = select(report_cases(), |c| c.name);
    let lines = wait_log_lines(
        &envoy,
        "for every report-only decision",
        Duration::from_secs(20),
        |_| {
            let log = envoy.log();
            cases
                .iter()
                .all(|c| log.contains(&format!("report-only: {}", c.logged)))
        },
    );
    drop(lines);
    let log = envoy.log();
    let report_lines: Vec<&str> = log.lines().filter(|l| l.contains("report-only:")).collect();
    for c in &cases {
        let want = format!("report-only: {}", c.logged);
        let found: Vec<&&str> = report_lines.iter().filter(|l| l.contains(&want)).collect();
        assert_eq!(
            found.len(),
            1,
            "want one log line with {want:?}; report-only lines:\n{}",
            report_lines.join("\n")
        );
        let build = envoy.build();
        assert!(
            found[0].contains(&format!("[debug][{}]", build.log_component()))
                && found[0].contains(build.plugin_log_marker()),
            "the report-only line is not a debug line of the plugin: {}",
            found[0]
        );
    }
    assert_eq!(
        report_lines.len(),
        cases.len(),
        "report-only lines for other buckets:\n{}",
        report_lines.join("\n")
    );
    eprintln!("[report-only] log lines:\n{}", report_lines.join("\n"));
    assert_no_crash(&envoy);
}

/// The report-only decision is logged at debug level: with the plugin's component at info, the
/// bucket still forwards and counts, and no `report-only:` line reaches the log.
#[test]
fn report_only_mode_is_quiet_at_info_level() {
    let opts = EnvoyOptions {
        plugin_log_level: "info".into(),
        ..quick_log_opts()
    };
    let (store, envoy) = start("report-only-info", REPORT_CONFIG, &opts);
    store.put_object("legacy", "obj", b"legacy object");
    let failures = run_report_cases(&store, &envoy);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let mut want = Counts::default();
    for c in select(report_cases(), |c| c.name) {
        if let Some(counter) = c.counter {
            want.add(counter, 1);
        }
    }
    expect_counters(&envoy, &want, "report-only at info");
    // The log is flushed every 100 ms: give it ten times that.
    std::thread::sleep(Duration::from_secs(1));
    let log = envoy.log();
    assert!(
        log.contains("configured 2 buckets"),
        "the plugin's info line is missing:\n{}",
        envoy.plugin_log()
    );
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("report-only:")).collect();
    assert!(
        lines.is_empty(),
        "report-only lines at info level:\n{}",
        lines.join("\n")
    );
}

/// Live reload from a watched LDS file under load, Envoy's default drain
/// (kept-alive clients move to the new rules when they open a new connection).
#[test]
fn live_reload_under_load() {
    reload::live_reload_under_load(reload::Drain::Gradual);
}

/// Live reload again, with `--drain-strategy immediate`: Envoy closes every kept-alive
/// connection of the old filter chain after its next answer, the client reconnects.
#[test]
fn live_reload_under_load_immediate_drain() {
    reload::live_reload_under_load(reload::Drain::Immediate);
}
