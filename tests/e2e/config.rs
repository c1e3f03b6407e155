//! The plugin configuration (docs/spec.md §1): `default`, `path_style: false`,
//! `unmatched_preflight: forward`, validation (an invalid configuration is refused as a
//! whole), and the spec's own example.

use bucket_cors_testkit::case::*;
use bucket_cors_testkit::spec::names::*;
use bucket_cors_testkit::spec::*;
use bucket_cors_testkit::{Bench, Envoy, EnvoyOptions, ObjStore, StartError};

use crate::main_config::*;

/// `default` configuration for unlisted buckets (spec 1 `default`, 2.2).
#[test]
fn default_configuration() {
    let config = r#"{
      "buckets": {
        "photos": { "CORSRule": [{ "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"] }] }
      },
      "default": { "CORSRule": [{ "AllowedOrigin": ["https://default.example"], "AllowedMethod": ["GET", "PUT"], "MaxAgeSeconds": 5 }] },
      "unmatched_preflight": "forward",
      "upstream_cors": "pass"
    }"#;
    let mut b = Bench::start("default", config);
    let d = "https://default.example";
    let cases = vec![
        case(
            "unlisted bucket uses default (preflight)",
            "1 default, 3.6",
            preflight(PS, "/anything/k", d, "PUT"),
        )
        .echo(d, "GET, PUT", None, Some("5"))
        .preflight_ok(),
        case(
            "unlisted bucket: default refuses",
            "1 default, 3.5",
            preflight(PS, "/anything/k", WWW, "GET").header("x-request-id", "rid-d1"),
        )
        .preflight_403(MSG_NOT_ALLOWED, "rid-d1", PS),
        case(
            "listed bucket does not use default",
            "1 default, 3.5",
            preflight(PS, "/photos/k", d, "GET").header("x-request-id", "rid-d2"),
        )
        .preflight_403(MSG_NOT_ALLOWED, "rid-d2", PS),
        case(
            "listed bucket uses its rules",
            "3.6",
            preflight(PS, "/photos/k", WWW, "GET"),
        )
        .echo(WWW, "GET", None, None)
        .preflight_ok(),
        case(
            "unlisted bucket uses default (GET)",
            "1 default, 4.2",
            request("GET", PS, "/anything/k", Some(d)),
        )
        .status(404)
        .echo(d, "GET, PUT", None, Some("5"))
        .vary_exact("Origin"),
        case(
            "unlisted bucket without Origin gets Vary",
            "4.3",
            request("GET", PS, "/anything/k", None),
        )
        .status(404)
        .vary_exact("Origin"),
        case(
            "no bucket is still untouched",
            "2.1",
            preflight(PS, "/", d, "GET"),
        )
        .header("x-objstore-options", Some("reached")),
    ];
    b.run(cases);
}

/// `path_style: false`, `unmatched_preflight: forward`, and an empty RequestId (spec 1, 3.2, 3).
#[test]
fn forward_and_no_path_style() {
    let config = r#"{
      "endpoints": ["s3.test"],
      "path_style": false,
      "buckets": {
        "photos": { "CORSRule": [{ "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"] }], "ResponseVary": true }
      },
      "unmatched_preflight": "forward",
      "upstream_cors": "pass"
    }"#;
    // No x-request-id is generated: a request without one has an empty RequestId.
    let opts = EnvoyOptions {
        generate_request_id: false,
        ..EnvoyOptions::default()
    };
    let mut b = Bench::start_with("forward", config, &opts, false);
    let cases = vec![
        case(
            "path_style false: path bucket ignored (preflight upstream)",
            "1 path_style",
            preflight(PS, "/photos/k", WWW, "GET"),
        )
        .header("x-objstore-options", Some("reached")),
        case(
            "path_style false: path bucket ignored (GET untouched)",
            "1 path_style",
            request("GET", PS, "/photos/k", Some(WWW)).header("x-objstore-cors", "1"),
        )
        .status(404)
        .acx(ACAO, "*")
        .acx(ACEH, "x-upstream-only")
        .acx(ACAC, "true"),
        case(
            "virtual-hosted still resolves",
            "1 endpoints, 3.6",
            preflight("photos.s3.test", "/k", WWW, "GET"),
        )
        .echo(WWW, "GET", None, None)
        .preflight_ok(),
        case(
            "unconfigured bucket preflight forwarded untouched",
            "3.2 forward",
            preflight_h("other.s3.test", "/k", WWW, "PUT", "X-Amz-Meta-A")
                .header("x-objstore-cors", "1"),
        )
        .header("x-objstore-options", Some("reached"))
        .acx(ACAO, "*")
        .acx(ACEH, "x-upstream-only")
        .acx(ACAC, "true"),
        case(
            "unconfigured bucket GET untouched",
            "2.2",
            request("GET", "other.s3.test", "/k", Some(WWW)),
        )
        .status(200),
        case(
            "403 without x-request-id has an empty RequestId",
            "3 (403 body)",
            preflight("photos.s3.test", "/k", "https://evil.io", "GET"),
        )
        .preflight_403(MSG_NOT_ALLOWED, "", "photos.s3.test"),
    ];
    b.run(cases);
}

/// Invalid configurations are refused as a whole (spec 1, Validation): Envoy 1.40 with a static
/// bootstrap does not start (the plugin's on_configure returns false, so the filter cannot be
/// created and Envoy exits), and the log names the bucket, the rule index and the field.
#[test]
fn invalid_configurations_are_refused() {
    let store = ObjStore::start().unwrap();
    let good_rule = r#"{"AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"]}"#;
    let photos = |rules: &str| format!(r#"{{"buckets": {{"photos": {{"CORSRule": [{rules}]}}}}}}"#);
    let rule = |extra: &str| {
        format!(
            r#"{{"AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"]{extra}}}"#
        )
    };
    // (name, config, substrings that one log line must contain)
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("origin matching every host", photos(r#"{"AllowedOrigin": ["https://www.example.com", "https://*"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "https://*"]),
        ("origin matching every host under a label (rule 1)",
            photos(&format!(r#"{good_rule}, {{"AllowedOrigin": ["https://*.com"], "AllowedMethod": ["GET"]}}"#)),
            vec!["bucket \"photos\"", "rule 1", "AllowedOrigin", "https://*.com"]),
        ("origin https://*com", photos(r#"{"AllowedOrigin": ["https://*com"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "https://*com"]),
        ("origin http*://*", photos(r#"{"AllowedOrigin": ["http*://*"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin"]),
        ("origin wildcard over an IPv4 address", photos(r#"{"AllowedOrigin": ["https://*.1.1.1"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "https://*.1.1.1", "IP address"]),
        ("origin wildcard over a loopback address", photos(r#"{"AllowedOrigin": ["http://*.0.0.1"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "http://*.0.0.1", "IP address"]),
        ("origin wildcard inside an IPv6 literal", photos(r#"{"AllowedOrigin": ["http://[::1*]:8080"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "http://[::1*]:8080", "IP address"]),
        ("origin null", photos(r#"{"AllowedOrigin": ["null"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "null"]),
        ("origin with a path", photos(r#"{"AllowedOrigin": ["https://a.com/x"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "https://a.com/x"]),
        ("origin empty", photos(r#"{"AllowedOrigin": [""], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin"]),
        ("no AllowedOrigin", photos(r#"{"AllowedOrigin": [], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin"]),
        ("lower-case method", photos(r#"{"AllowedOrigin": ["https://a.com"], "AllowedMethod": ["get"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedMethod", "get"]),
        ("OPTIONS method", photos(r#"{"AllowedOrigin": ["https://a.com"], "AllowedMethod": ["OPTIONS"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedMethod", "OPTIONS"]),
        ("unknown rule field (typo)", photos(&rule(r#", "AlowedHeader": ["x-a"]"#)),
            vec!["bucket \"photos\"", "rule 0", "AlowedHeader"]),
        ("rule ID named with the error", photos(&rule(r#", "ID": "cdn-rule", "MaxAgeSeconds": -1"#)),
            vec!["bucket \"photos\"", "rule 0", "cdn-rule", "MaxAgeSeconds"]),
        ("MaxAgeSeconds too large", photos(&rule(r#", "MaxAgeSeconds": 2147483648"#)),
            vec!["bucket \"photos\"", "rule 0", "MaxAgeSeconds"]),
        ("ExposeHeader wildcard", photos(&rule(r#", "ExposeHeader": ["ETag", "*"]"#)),
            vec!["bucket \"photos\"", "rule 0", "ExposeHeader"]),
        ("AllowedHeader non-token", photos(&rule(r#", "AllowedHeader": ["x a"]"#)),
            vec!["bucket \"photos\"", "rule 0", "AllowedHeader"]),
        ("AllowedHeader two wildcards", photos(&rule(r#", "AllowedHeader": ["x-*-*"]"#)),
            vec!["bucket \"photos\"", "rule 0", "AllowedHeader"]),
        ("no rules", r#"{"buckets": {"photos": {"CORSRule": []}}}"#.to_string(), vec!["bucket \"photos\""]),
        ("101 rules", photos(&vec![good_rule; 101].join(",")), vec!["bucket \"photos\""]),
        ("ResponseVary not a bool", r#"{"buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://a.com"], "AllowedMethod": ["GET"]}], "ResponseVary": "yes"}}}"#.to_string(),
            vec!["bucket \"photos\"", "ResponseVary"]),
        ("bad bucket name", r#"{"buckets": {"Photos": {"CORSRule": [{"AllowedOrigin": ["https://a.com"], "AllowedMethod": ["GET"]}]}}}"#.to_string(),
            vec!["Photos"]),
        ("endpoint with a scheme", r#"{"endpoints": ["https://s3.test"]}"#.to_string(), vec!["endpoints", "https://s3.test"]),
        ("endpoint with a leading dot", r#"{"endpoints": [".s3.test"]}"#.to_string(), vec!["endpoints", ".s3.test"]),
        ("unmatched_preflight unknown", r#"{"unmatched_preflight": "allow"}"#.to_string(), vec!["unmatched_preflight"]),
        ("unknown top-level field", r#"{"endpoint": ["s3.test"]}"#.to_string(), vec!["endpoint"]),
        ("invalid default rules", r#"{"default": {"CORSRule": [{"AllowedOrigin": ["https://*"], "AllowedMethod": ["GET"]}]}}"#.to_string(),
            vec!["default", "rule 0", "AllowedOrigin"]),
        ("not JSON", "{".to_string(), vec![]),
    ];
    let total = cases.len();
    let cases = select(cases, |c| c.0);
    // Each start compiles the wasm in V8 (or loads the module): run a few at a time.
    let component = bucket_cors_testkit::Build::from_env().log_component();
    let upstream = store.addr();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<(usize, Result<StartError, Box<Envoy>>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some((_, config, _)) = cases.get(i) else {
                            break;
                        };
                        out.push((i, Envoy::start_expecting_refusal(config, upstream)));
                    }
                    out
                })
            })
            .collect();
        let mut all: Vec<_> = workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all
    });
    let mut failures = Vec::new();
    for (i, outcome) in outcomes {
        let (name, config, needles) = &cases[i];
        match outcome {
            Err(mut envoy) => {
                let running = envoy.is_running();
                failures.push(format!(
                    "--- case {name}: Envoy came up with an invalid configuration (running: {running})\n    config: {config}\n    plugin log:\n{}",
                    envoy.log().lines().filter(|l| l.contains(component)).collect::<Vec<_>>().join("\n")
                ));
            }
            Ok(e) if e.is_setup_error() => panic!("{e}"),
            Ok(e) => {
                let log = e.log();
                let mut problems = Vec::new();
                if !matches!(e, StartError::Exited { .. }) {
                    problems.push(format!("Envoy did not exit: {e}"));
                }
                let error_lines: Vec<&str> = log
                    .lines()
                    .filter(|l| l.contains("[error]") && l.contains("invalid plugin configuration"))
                    .collect();
                if error_lines.is_empty() {
                    problems.push(
                        "no error-level log line with \"invalid plugin configuration\"".into(),
                    );
                }
                if !needles.is_empty()
                    && !log.lines().any(|l| needles.iter().all(|n| l.contains(n)))
                {
                    problems.push(format!("no log line contains all of {needles:?}"));
                }
                if log.contains("panicked") {
                    problems.push("the plugin panicked".into());
                }
                if !problems.is_empty() {
                    failures.push(format!(
                        "--- case {name}\n    config: {config}\n    {}\n    plugin/error log lines:\n{}",
                        problems.join("\n    "),
                        log.lines()
                            .filter(|l| l.contains(component) || l.contains("[error]") || l.contains("[critical]"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    ));
                }
            }
        }
    }
    eprintln!(
        "[invalid-config] {} of {total} cases run, {} failure(s)",
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} invalid-configuration cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The configuration of the spec's own example is accepted and serves (a positive control for
/// the refusals above).
#[test]
fn spec_example_configuration_serves() {
    let mut b = Bench::start("spec-example", SPEC_EXAMPLE);
    let cases = vec![
        case(
            "spec example preflight",
            "1, 3.6",
            preflight_h(
                "photos.oss-cn-hangzhou.aliyuncs.com",
                "/a.jpg",
                "https://www.a.com",
                "PUT",
                "Content-Type, X-OSS-Meta-Author",
            ),
        )
        .echo(
            "https://www.a.com",
            "GET, PUT, HEAD",
            Some("ETag, x-oss-request-id"),
            Some("600"),
        )
        .acx(ACAH, "content-type, x-oss-meta-author")
        .preflight_ok(),
        case(
            "spec example GET",
            "1, 4.2",
            request(
                "GET",
                "photos.s3.example.internal",
                "/photos/a.jpg",
                Some("https://cdn.b.com"),
            ),
        )
        .status(404)
        .echo(
            "https://cdn.b.com",
            "GET, PUT, HEAD",
            Some("ETag, x-oss-request-id"),
            Some("600"),
        )
        .vary_exact("Origin"),
    ];
    b.run(cases);
}
