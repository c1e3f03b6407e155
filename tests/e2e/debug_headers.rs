//! `debug_headers` and lints end to end: `"debug_headers": true` names the reason of a refused
//! preflight in `x-bucket-cors-refusal` (docs/spec.md §6), and lints reach Envoy's log as warning
//! lines at configure time, capped at twenty, with the configuration accepted.

use bucket_cors_testkit::case::*;
use bucket_cors_testkit::spec::names::*;
use bucket_cors_testkit::spec::*;
use bucket_cors_testkit::{Bench, EnvoyOptions};
use std::thread;
use std::time::{Duration, Instant};

use crate::main_config::*;

/// Every refusal reason, and what does not change, with `debug_headers` on.
#[test]
fn debug_headers_name_the_refusal() {
    let config = r#"{
      "debug_headers": true,
      "buckets": {
        "photos": { "CORSRule": [{ "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"], "AllowedHeader": ["x-a"] }] }
      }
    }"#;
    let mut b = Bench::start("debug-headers", config);
    let refused = |name: &str, req, id: &str, message: &str, reason: &str| {
        case(name, "6 debug_headers, 3.5", req)
            .preflight_403(message, id, PS)
            .header(REFUSAL, Some(reason))
    };
    let cases = vec![
        refused(
            "no configuration",
            preflight(PS, "/other/k", WWW, "GET").header("x-request-id", "r1"),
            "r1",
            MSG_NOT_ENABLED,
            refusal::NO_CONFIGURATION,
        ),
        refused(
            "origin",
            preflight(PS, "/photos/k", "https://evil.example", "GET").header("x-request-id", "r2"),
            "r2",
            MSG_NOT_ALLOWED,
            refusal::ORIGIN,
        ),
        refused(
            "method",
            preflight(PS, "/photos/k", WWW, "PUT").header("x-request-id", "r3"),
            "r3",
            MSG_NOT_ALLOWED,
            refusal::METHOD,
        ),
        refused(
            "header",
            preflight_h(PS, "/photos/k", WWW, "GET", "x-a, x-b").header("x-request-id", "r4"),
            "r4",
            MSG_NOT_ALLOWED,
            refusal::HEADER,
        ),
        case(
            "allowed: no refusal header",
            "3.6",
            preflight(PS, "/photos/k", WWW, "GET"),
        )
        .echo(WWW, "GET", None, None)
        .preflight_ok()
        .header(REFUSAL, None),
        case(
            "actual request: no refusal header",
            "4.2",
            request("GET", PS, "/photos/k", Some("https://evil.example")),
        )
        .status(404)
        .vary_origin()
        .header(REFUSAL, None),
    ];
    b.run(cases);
}

/// Several `Access-Control-Request-Method` lines match no method (docs/spec.md §6), so the
/// refusal is the furthest a rule got: `origin` when no rule matches the Origin, `method` when
/// one does, in `x-bucket-cors-refusal` and in the refusal counters alike. Envoy joins the
/// lines into one value (`GET,PUT`) before the filter reads them.
#[test]
fn several_acrm_lines_are_refused_for_the_furthest_a_rule_got() {
    use bucket_cors_testkit::spec::counters::*;
    let config = r#"{
      "debug_headers": true,
      "buckets": {
        "photos": { "CORSRule": [{ "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET", "PUT"] }] }
      }
    }"#;
    let mut b = Bench::start("several-acrm", config);
    let two_acrm = |origin: &str, id: &str| {
        preflight(PS, "/photos/k", origin, "GET")
            .header("Access-Control-Request-Method", "PUT")
            .header("x-request-id", id)
    };
    let table = [
        (
            "two ACRM lines, no rule matches the Origin: origin",
            two_acrm("https://evil.example", "m1"),
            "m1",
            refusal::ORIGIN,
            PREFLIGHT_REFUSED_ORIGIN,
        ),
        (
            "two ACRM lines, the rule matches the Origin: method",
            two_acrm(WWW, "m2"),
            "m2",
            refusal::METHOD,
            PREFLIGHT_REFUSED_METHOD,
        ),
    ];
    let mut want = std::collections::BTreeMap::new();
    for counter in [PREFLIGHT_REFUSED_ORIGIN, PREFLIGHT_REFUSED_METHOD] {
        want.insert(counter, 0u64);
    }
    let mut cases = Vec::new();
    for (name, req, id, reason, counter) in table {
        if selected(name) {
            *want.entry(counter).or_default() += 1;
        }
        cases.push(
            case(name, "6 several ACRM lines, debug_headers, counters", req)
                .preflight_403(MSG_NOT_ALLOWED, id, PS)
                .header(REFUSAL, Some(reason)),
        );
    }
    b.run(cases);
    for (counter, want) in want {
        let name = b.envoy.stats_name(counter);
        let got = b.envoy.counter(&name).expect("read /stats");
        assert_eq!(got, Some(want), "{name}");
    }
}

/// Off by default: the spec's 403 exactly, without the header.
#[test]
fn debug_headers_are_off_by_default() {
    let mut b = Bench::start("debug-headers-off", MAIN_CONFIG);
    b.run(vec![
        case(
            "no configuration, default config",
            "6 debug_headers off",
            preflight(PS, "/other/k", WWW, "GET").header("x-request-id", "r5"),
        )
        .preflight_403(MSG_NOT_ENABLED, "r5", PS)
        .header(REFUSAL, None),
        case(
            "origin, default config",
            "6 debug_headers off",
            preflight(PS, "/photos/k", "https://evil.example", "GET").header("x-request-id", "r6"),
        )
        .preflight_403(MSG_NOT_ALLOWED, "r6", PS)
        .header(REFUSAL, None),
    ]);
}

/// 25 buckets whose one rule allows PUT without exposing ETag: Envoy starts, the filter
/// serves, and the log holds one warning line for each of the first 20 buckets (by name),
/// none for the last 5, and one line counting them.
#[test]
fn lints_are_logged_as_warnings_capped_at_twenty() {
    let buckets: Vec<String> = (0..25)
        .map(|i| {
            format!(
                r#""b{i:02}": {{"CORSRule": [{{"AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["PUT"], "AllowedHeader": ["content-type"]}}]}}"#
            )
        })
        .collect();
    let config = format!(r#"{{"buckets": {{{}}}}}"#, buckets.join(", "));
    // Envoy writes its log file every 10 s by default; a tenth of a second here.
    let opts = EnvoyOptions {
        extra_args: vec!["--file-flush-interval-msec".into(), "100".into()],
        ..EnvoyOptions::default()
    };
    let mut b = Bench::start_with("lints-logged", &config, &opts, false);
    b.run(vec![case(
        "a linted configuration still serves",
        "§6: lints are warnings",
        preflight_h(PS, "/b24/k", WWW, "PUT", "content-type"),
    )
    .echo(WWW, "PUT", None, None)
    .acx(ACAH, "content-type")
    .preflight_ok()]);

    let count = "plugin configuration: 5 more warnings not logged (25 in all)";
    let deadline = Instant::now() + Duration::from_secs(20);
    while !b.envoy.log().contains(count) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(100));
    }
    let log = b.envoy.log();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("[warning]")
                && l.contains(b.envoy.build().plugin_log_marker())
                && l.contains("plugin configuration: ")
        })
        .collect();
    eprintln!("[lints-logged] {} warning lines, e.g.:", warnings.len());
    for l in warnings.iter().take(2).chain(warnings.last()) {
        eprintln!("  {l}");
    }
    let etag = "rule 0 ExposeHeader: PUT or POST is allowed but ETag is not exposed";
    let mut problems = Vec::new();
    for i in 0..25 {
        let line = format!("plugin configuration: bucket \"b{i:02}\" {etag}");
        let found = warnings.iter().any(|l| l.contains(&line));
        if found != (i < 20) {
            problems.push(format!("bucket b{i:02}: logged {found}, want {}", i < 20));
        }
    }
    if !warnings.iter().any(|l| l.contains(count)) {
        problems.push(format!("no line {count:?}"));
    }
    assert!(
        problems.is_empty(),
        "{}\nwarning lines:\n{}\nwasm log:\n{}",
        problems.join("\n"),
        warnings.join("\n"),
        b.envoy.plugin_log()
    );
}
