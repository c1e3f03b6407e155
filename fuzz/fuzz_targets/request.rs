//! Request evaluation against fixed policies, with arbitrary `:method`,
//! `:authority`, `:path`, `Origin` (any number of lines), ACRM, ACRH and
//! upstream response headers.
//!
//! Input: text lines (`\n`). The first line picks the policy (`a`, `b` or
//! `c`; anything else is `a`). Then request header lines `name value` (name
//! up to the first space, value the rest, any bytes but `\n`), then
//! optionally a line `--` and the upstream response's header lines.
//!
//! Checked: the invariants of `check_invariants` (ACAO is `*` or byte-equal
//! to the Origin, ACAC never with `*`, no header twice in a local reply or
//! after `header_ops`, no upstream CORS header survives) and agreement with
//! the reference decision written from the spec: status and exact headers
//! of local replies, the grant of forwarded requests and the exact response
//! headers after `header_ops`. Where the spec leaves the bucket open (odd
//! host or path bytes), the decision must be the reference's for one of the
//! possible buckets.

#![no_main]

use bucket_cors_core::Policy;
use bucket_cors_fuzz::{
    check_against_reference, check_invariants, ref_outcomes, request_from_lines, CorsSpec,
    PolicySpec, RefRequest, RuleSpec,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn photos() -> CorsSpec {
    CorsSpec {
        rules: vec![
            RuleSpec {
                origins: &["https://www.a.com", "https://*.b.com"],
                methods: &["GET", "PUT", "HEAD"],
                headers: &["content-type", "x-oss-*"],
                expose: &["ETag", "x-oss-request-id"],
                max_age: Some(600),
            },
            RuleSpec {
                origins: &[
                    "http://localhost:*",
                    "http://[::1]:8080",
                    "HTTPS://WWW.A.COM",
                ],
                methods: &["GET", "POST"],
                headers: &["*"],
                expose: &[],
                max_age: None,
            },
        ],
        vary: true,
        report: false,
    }
}

fn public() -> CorsSpec {
    CorsSpec {
        rules: vec![RuleSpec {
            origins: &["*"],
            methods: &["GET", "HEAD"],
            headers: &["*"],
            expose: &["ETag"],
            max_age: Some(0),
        }],
        vary: false,
        report: false,
    }
}

fn mixed() -> CorsSpec {
    CorsSpec {
        rules: vec![
            RuleSpec {
                origins: &["http*://app.c.org", "*://x.c.org", "https://c*.d.net:8443"],
                methods: &["DELETE", "PUT"],
                headers: &["x-*-id", "*-token", "authorization"],
                expose: &[],
                max_age: Some(2_147_483_647),
            },
            RuleSpec {
                origins: &["*", "https://www.a.com"],
                methods: &["GET", "PUT", "POST"],
                headers: &[],
                expose: &["x-amz-version-id"],
                max_age: None,
            },
        ],
        vary: true,
        report: false,
    }
}

fn specs() -> &'static [(PolicySpec, Policy)] {
    static P: OnceLock<Vec<(PolicySpec, Policy)>> = OnceLock::new();
    P.get_or_init(|| {
        let a = PolicySpec {
            endpoints: &["s3.test", "cn.s3.test"],
            path_style: true,
            buckets: vec![
                ("photos", photos()),
                ("public", public()),
                ("mixed", mixed()),
                (
                    "trial",
                    CorsSpec {
                        report: true,
                        ..photos()
                    },
                ),
            ],
            default: None,
            forward_unmatched: false,
        };
        let b = PolicySpec {
            endpoints: &[],
            path_style: true,
            buckets: vec![("photos", photos())],
            default: Some(mixed()),
            forward_unmatched: false,
        };
        let c = PolicySpec {
            endpoints: &["s3.test"],
            path_style: false,
            buckets: vec![("photos", photos()), ("pub.lic", public())],
            default: None,
            forward_unmatched: true,
        };
        [a, b, c]
            .into_iter()
            .map(|s| {
                let p = s.compile();
                (s, p)
            })
            .collect()
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
    let which = match lines.next() {
        Some(b"b") => 1,
        Some(b"c") => 2,
        _ => 0,
    };
    let (spec, policy) = &specs()[which];

    let mut request: Vec<(String, Vec<u8>)> = Vec::new();
    let mut upstream: Vec<(String, Vec<u8>)> = Vec::new();
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

    let all = |name: &str| -> Vec<&[u8]> {
        request
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .collect()
    };
    let last = |name: &str| all(name).last().copied().unwrap_or(b"");
    let origins = all("origin");
    let reference = RefRequest {
        method: last(":method"),
        origins: origins.clone(),
        acrm: all("access-control-request-method"),
        acrh: all("access-control-request-headers"),
    };

    let action = policy.decide(&request_from_lines(&request));
    let after = check_invariants(&action, &origins, &upstream);
    let expected = ref_outcomes(spec, last(":authority"), last(":path"), &reference);
    check_against_reference(&action, &expected, &upstream, after.as_deref());
});
