//! Request evaluation: arbitrary `:method`, `:authority`, `:path`, `Origin`
//! (any number of lines), ACRM, ACRH and upstream response headers, against
//! a fixed policy or a configuration the input carries.
//!
//! Input: text lines (`\n`). The first line is the configuration: `a`, `b`
//! or `c` picks a fixed policy (anything else that is not a configuration
//! the core accepts is `a`); a line starting with `{` is a plugin
//! configuration in JSON, used when the core accepts it. Then request
//! header lines `name value` (name up to the first space, value the rest,
//! any bytes but `\n`), then optionally a line `--` and the upstream
//! response's header lines. The seeds in `corpus/request/` written from the
//! core's named table cases use the JSON form.
//!
//! Checked: the invariants of `check_invariants` (ACAO is `*` or byte-equal
//! to the Origin, ACAC never with `*`, no header twice in a local reply or
//! after `header_ops`, no upstream CORS header survives) and agreement with
//! the reference model (`bucket_cors_spec::reference`): status, exact
//! headers and body of local replies, the grant of forwarded requests and
//! the response headers after `header_ops`; for a report-only bucket, the
//! action it reports.

#![no_main]

use bucket_cors_core::Policy;
use bucket_cors_fuzz::{check_request, json, Lines};
use bucket_cors_spec::reference::{Config, Cors, Mode, Rule, Unmatched};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn rule(
    origins: &[&str],
    methods: &[&str],
    headers: &[&str],
    expose: &[&str],
    max_age: Option<u32>,
) -> Rule {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    Rule {
        origins: owned(origins),
        methods: owned(methods),
        headers: owned(headers),
        expose: owned(expose),
        max_age,
    }
}

fn photos() -> Cors {
    Cors::new(vec![
        rule(
            &["https://www.a.com", "https://*.b.com"],
            &["GET", "PUT", "HEAD"],
            &["content-type", "x-oss-*"],
            &["ETag", "x-oss-request-id"],
            Some(600),
        ),
        rule(
            &[
                "http://localhost:*",
                "http://[::1]:8080",
                "HTTPS://WWW.A.COM",
            ],
            &["GET", "POST"],
            &["*"],
            &[],
            None,
        ),
    ])
}

fn public() -> Cors {
    Cors {
        vary: false,
        ..Cors::new(vec![rule(
            &["*"],
            &["GET", "HEAD"],
            &["*"],
            &["ETag"],
            Some(0),
        )])
    }
}

fn mixed() -> Cors {
    Cors::new(vec![
        rule(
            &["http*://app.c.org", "*://x.c.org", "https://c*.d.net:8443"],
            &["DELETE", "PUT"],
            &["x-*-id", "*-token", "authorization"],
            &[],
            Some(2_147_483_647),
        ),
        rule(
            &["*", "https://www.a.com"],
            &["GET", "PUT", "POST"],
            &[],
            &["x-amz-version-id"],
            None,
        ),
    ])
}

/// The fixed policies `a`, `b`, `c`, compiled once.
fn fixed() -> &'static [(Config, Policy); 3] {
    static P: OnceLock<[(Config, Policy); 3]> = OnceLock::new();
    P.get_or_init(|| {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        let a = Config {
            endpoints: owned(&["s3.test", "cn.s3.test"]),
            buckets: vec![
                ("photos".into(), photos()),
                ("public".into(), public()),
                ("mixed".into(), mixed()),
                (
                    "trial".into(),
                    Cors {
                        mode: Mode::Report,
                        ..photos()
                    },
                ),
            ],
            ..Config::default()
        };
        let b = Config {
            buckets: vec![("photos".into(), photos())],
            default: Some(mixed()),
            ..Config::default()
        };
        let c = Config {
            endpoints: owned(&["s3.test"]),
            path_style: false,
            buckets: vec![("photos".into(), photos()), ("pub.lic".into(), public())],
            unmatched_preflight: Unmatched::Forward,
            strip_upstream_cors: false,
            ..Config::default()
        };
        [a, b, c].map(|config| {
            let json = config.to_json();
            let policy = Policy::from_json(json.as_bytes())
                .unwrap_or_else(|e| panic!("fixed fuzz policy refused: {e}\n{json}"));
            (config, policy)
        })
    })
}

fn split_line(line: &[u8]) -> (String, Vec<u8>) {
    match line.iter().position(|&c| c == b' ') {
        Some(i) => (
            String::from_utf8_lossy(&line[..i]).into_owned(),
            line[i + 1..].to_vec(),
        ),
        None => (String::from_utf8_lossy(line).into_owned(), Vec::new()),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&c| c == b'\n');
    let first = lines.next().unwrap_or_default();
    let carried = match first.first() {
        Some(b'{') => Policy::from_json(first).ok().map(|policy| {
            let config = json::model(first).unwrap_or_else(|| {
                panic!(
                    "the core accepts a configuration spec §1 refuses: {}",
                    String::from_utf8_lossy(first)
                )
            });
            (config, policy)
        }),
        _ => None,
    };
    let (config, policy) = match (&carried, first) {
        (Some((config, policy)), _) => (config, policy),
        (None, b"b") => (&fixed()[1].0, &fixed()[1].1),
        (None, b"c") => (&fixed()[2].0, &fixed()[2].1),
        (None, _) => (&fixed()[0].0, &fixed()[0].1),
    };

    let mut request: Lines = Vec::new();
    let mut upstream: Lines = Vec::new();
    let mut in_response = false;
    for line in lines {
        if line == b"--" {
            in_response = true;
        } else if in_response {
            let (n, v) = split_line(line);
            upstream.push((n.to_ascii_lowercase(), v));
        } else {
            request.push(split_line(line));
        }
    }
    check_request(policy, config, &request, &upstream);
});
