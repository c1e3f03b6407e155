//! Table tests of `Policy::decide` and `ResponsePlan::header_ops` against
//! `shared/spec/semantics.md` §2–§5: request classification, preflight
//! answers (exact headers, order, status and body), origin-matching bypass
//! regressions, actual-request response edits, and bucket addressing.
//! Every case has a name; a failing run lists every failing case.

mod common;

use bucket_cors_core::{Action, HeaderOp, Policy, Request};
use common::*;

/// The policy most cases run against (path-style, host [`HOST`]).
const CONFIG: &str = r#"{
  "buckets": {
    "photos": {
      "CORSRule": [
        {
          "ID": "web",
          "AllowedOrigin": ["https://www.a.com", "https://*.b.com"],
          "AllowedMethod": ["GET", "PUT", "HEAD"],
          "AllowedHeader": ["content-type", "x-oss-*"],
          "ExposeHeader": ["ETag", "x-oss-request-id"],
          "MaxAgeSeconds": 600
        }
      ]
    },
    "public": {
      "CORSRule": [
        { "AllowedOrigin": ["*"], "AllowedMethod": ["GET", "HEAD"], "AllowedHeader": ["*"] }
      ]
    },
    "ordered": {
      "CORSRule": [
        { "AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["PUT"], "AllowedHeader": ["content-type"] },
        {
          "AllowedOrigin": ["https://www.a.com"],
          "AllowedMethod": ["PUT", "GET"],
          "AllowedHeader": ["content-type", "x-oss-meta-*"],
          "ExposeHeader": ["ETag"],
          "MaxAgeSeconds": 60
        }
      ]
    },
    "listed-first": {
      "CORSRule": [
        { "AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"] },
        { "AllowedOrigin": ["*"], "AllowedMethod": ["GET"] }
      ]
    },
    "star-first": {
      "CORSRule": [
        { "AllowedOrigin": ["*"], "AllowedMethod": ["GET"] },
        { "AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"] }
      ]
    },
    "mixed": {
      "CORSRule": [
        { "AllowedOrigin": ["*", "https://www.a.com"], "AllowedMethod": ["GET"] }
      ]
    },
    "suffix": {
      "CORSRule": [
        { "AllowedOrigin": ["https://foo.com", "https://bar.com"], "AllowedMethod": ["GET", "PUT"] }
      ]
    },
    "local": {
      "CORSRule": [
        { "AllowedOrigin": ["http://[::1]:8080", "http://localhost:*"], "AllowedMethod": ["GET"] }
      ]
    },
    "novary": {
      "CORSRule": [ { "AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"] } ],
      "ResponseVary": false
    }
  }
}"#;

const WWW_A: &str = "https://www.a.com";

/// The 200 of the `photos` rule for `origin`, with `acah` when headers were requested.
fn photos_ok(origin: &str, acah: Option<&str>) -> Outcome {
    let mut h = vec![(ACAO, origin), (ACAC, "true"), (ACAM, "GET, PUT, HEAD")];
    if let Some(v) = acah {
        h.push((ACAH, v));
    }
    h.extend([
        (ACEH, "ETag, x-oss-request-id"),
        (ACMA, "600"),
        (VARY, PREFLIGHT_VARY),
    ]);
    ok(&h)
}

fn run(policy: &Policy, cases: Vec<(&str, Req, Outcome)>) -> usize {
    let mut c = Cases::new();
    for (name, req, want) in &cases {
        c.check(name, "decide", &outcome(policy, req), want);
    }
    c.finish()
}

// ---------------------------------------------------------------- §2

#[test]
fn request_classification() {
    let p = policy(CONFIG);
    let forward_unmatched = policy(
        r#"{"buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]}},
            "unmatched_preflight": "forward"}"#,
    );
    let n = run(
        &p,
        vec![
            (
                "no bucket (path /), actual request: ignored",
                Req::new("GET", HOST, "/").origin(WWW_A),
                Outcome::Ignore,
            ),
            (
                "no bucket (path /?x), preflight: ignored even with reject",
                Req::new("OPTIONS", HOST, "/?x").origin(WWW_A).acrm("GET"),
                Outcome::Ignore,
            ),
            (
                "no bucket (invalid bucket name /Photos/x): ignored",
                Req::new("OPTIONS", HOST, "/Photos/x").origin(WWW_A).acrm("GET"),
                Outcome::Ignore,
            ),
            (
                "unconfigured bucket, GET with Origin: ignored",
                Req::to("GET", "other").origin(WWW_A),
                Outcome::Ignore,
            ),
            (
                "unconfigured bucket, GET without Origin: ignored",
                Req::to("GET", "other"),
                Outcome::Ignore,
            ),
            (
                "unconfigured bucket, OPTIONS with Origin but no ACRM: ignored (not a preflight)",
                Req::to("OPTIONS", "other").origin(WWW_A),
                Outcome::Ignore,
            ),
            (
                "unconfigured bucket, preflight, reject: 403 CORS is not enabled",
                preflight("other", WWW_A, "GET").request_id("rid-7"),
                forbidden(NOT_ENABLED, "rid-7", HOST),
            ),
            (
                "configured bucket, GET without Origin: forwarded, no grant",
                Req::to("GET", "photos"),
                Outcome::Forward(None),
            ),
            (
                "configured bucket, GET from allowed origin: forwarded with grant",
                Req::to("GET", "photos").origin(WWW_A),
                Outcome::Forward(echo(0, WWW_A)),
            ),
            (
                "OPTIONS with Origin but no ACRM is an actual request (forwarded; OPTIONS is never an allowed method)",
                Req::to("OPTIONS", "photos").origin(WWW_A),
                Outcome::Forward(None),
            ),
            (
                "OPTIONS with ACRM but no Origin is not a preflight",
                Req::to("OPTIONS", "photos").acrm("GET"),
                Outcome::Forward(None),
            ),
            (
                "PUT with Origin and ACRM is an actual request, not a preflight",
                Req::to("PUT", "photos").origin(WWW_A).acrm("PUT"),
                Outcome::Forward(echo(0, WWW_A)),
            ),
            (
                "lower-case `options` method is not a preflight",
                Req::to("options", "photos").origin(WWW_A).acrm("GET"),
                Outcome::Forward(None),
            ),
            (
                "empty Origin counts as absent: OPTIONS + empty Origin + ACRM is not a preflight",
                Req::to("OPTIONS", "photos").origin("").acrm("GET"),
                Outcome::Forward(None),
            ),
            (
                "empty Origin counts as absent: GET on the `*` bucket gets no grant",
                Req::to("GET", "public").origin(""),
                Outcome::Forward(None),
            ),
            (
                "empty Origin to an unconfigured bucket with ACRM: ignored, not rejected",
                Req::to("OPTIONS", "other").origin("").acrm("GET"),
                Outcome::Ignore,
            ),
            (
                "preflight = OPTIONS + Origin + ACRM, answered locally",
                preflight("listed-first", WWW_A, "GET"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "GET"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
        ],
    );
    let m = run(
        &forward_unmatched,
        vec![
            (
                "unconfigured bucket, preflight, forward: ignored (sent upstream untouched)",
                preflight("other", WWW_A, "GET"),
                Outcome::Ignore,
            ),
            (
                "forward setting does not affect configured buckets",
                preflight("photos", "https://evil.io", "GET"),
                refused(),
            ),
        ],
    );
    assert_eq!(n + m, 19);
}

#[test]
fn default_configuration_is_used_for_unlisted_buckets_only() {
    let p = policy(
        r#"{
          "buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]}},
          "default": {"CORSRule": [{"AllowedOrigin": ["https://d.com"], "AllowedMethod": ["GET", "PUT"], "MaxAgeSeconds": 5}]}
        }"#,
    );
    run(
        &p,
        vec![
            (
                "unlisted bucket, preflight allowed by default",
                preflight("other", "https://d.com", "PUT"),
                ok(&[
                    (ACAO, "https://d.com"),
                    (ACAC, "true"),
                    (ACAM, "GET, PUT"),
                    (ACMA, "5"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "unlisted bucket, preflight refused by default's rules (not `not enabled`)",
                preflight("other", WWW_A, "GET"),
                refused(),
            ),
            (
                "unlisted bucket, actual GET granted by default",
                Req::to("GET", "other").origin("https://d.com"),
                Outcome::Forward(echo(0, "https://d.com")),
            ),
            (
                "unlisted bucket, no Origin: forwarded (Vary still applies)",
                Req::to("GET", "other"),
                Outcome::Forward(None),
            ),
            (
                "listed bucket does not fall back to default",
                preflight("photos", "https://d.com", "GET"),
                refused(),
            ),
            (
                "listed bucket uses its own rules",
                preflight("photos", WWW_A, "GET"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "GET"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "no bucket stays ignored even with default",
                Req::new("OPTIONS", HOST, "/")
                    .origin("https://d.com")
                    .acrm("GET"),
                Outcome::Ignore,
            ),
        ],
    );
}

// ---------------------------------------------------------------- §3

#[test]
fn preflight_success_headers_exact_and_in_order() {
    let p = policy(CONFIG);
    run(
        &p,
        vec![
            (
                "listed origin, no ACRH: ACAO echo, ACAC, ACAM, ACEH, ACMA, Vary; no ACAH",
                preflight("photos", WWW_A, "PUT"),
                photos_ok(WWW_A, None),
            ),
            (
                "listed origin with requested headers: ACAH normalised",
                preflight("photos", WWW_A, "PUT").acrh("Content-Type, X-Oss-Meta-A"),
                photos_ok(WWW_A, Some("content-type, x-oss-meta-a")),
            ),
            (
                "wildcard origin https://*.b.com matches one label",
                preflight("photos", "https://x.b.com", "GET"),
                photos_ok("https://x.b.com", None),
            ),
            (
                "wildcard origin https://*.b.com matches nested labels",
                preflight("photos", "https://x.y.b.com", "HEAD"),
                photos_ok("https://x.y.b.com", None),
            ),
            (
                "`*` rule: ACAO * and no ACAC",
                preflight("public", "https://anything.test", "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET, HEAD"), (VARY, PREFLIGHT_VARY)]),
            ),
            (
                "`*` rule with AllowedHeader *: requested headers echoed, authorization included",
                preflight("public", "https://anything.test", "HEAD")
                    .acrh("Authorization,X-Anything"),
                ok(&[
                    (ACAO, "*"),
                    (ACAM, "GET, HEAD"),
                    (ACAH, "authorization, x-anything"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "first matching rule wins: rule 0 allows PUT+content-type",
                preflight("ordered", WWW_A, "PUT").acrh("content-type"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "PUT"),
                    (ACAH, "content-type"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "rule 0 lacks the header, rule 1 allows it: rule 1's headers",
                preflight("ordered", WWW_A, "PUT").acrh("content-type,x-oss-meta-a"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "PUT, GET"),
                    (ACAH, "content-type, x-oss-meta-a"),
                    (ACEH, "ETag"),
                    (ACMA, "60"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "rule 0 lacks the method, rule 1 allows it: rule 1's headers",
                preflight("ordered", WWW_A, "GET"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "PUT, GET"),
                    (ACEH, "ETag"),
                    (ACMA, "60"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "rule order: listed rule first gives echo with credentials",
                preflight("listed-first", WWW_A, "GET"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "GET"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "rule order: `*` rule first gives * without credentials",
                preflight("star-first", WWW_A, "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET"), (VARY, PREFLIGHT_VARY)]),
            ),
            (
                "rule order: listed-first bucket, other origin falls to rule 1's *",
                preflight("listed-first", "https://other.io", "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET"), (VARY, PREFLIGHT_VARY)]),
            ),
            (
                "one rule with both * and a listed origin: the listed one keeps credentials",
                preflight("mixed", WWW_A, "GET"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "GET"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "one rule with both * and a listed origin: others get *",
                preflight("mixed", "https://other.io", "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET"), (VARY, PREFLIGHT_VARY)]),
            ),
        ],
    );
}

#[test]
fn preflight_methods_are_case_sensitive() {
    let p = policy(CONFIG);
    run(
        &p,
        vec![
            (
                "PUT allowed",
                preflight("photos", WWW_A, "PUT"),
                photos_ok(WWW_A, None),
            ),
            (
                "`put` refused",
                preflight("photos", WWW_A, "put"),
                refused(),
            ),
            (
                "`Get` refused",
                preflight("photos", WWW_A, "Get"),
                refused(),
            ),
            (
                "DELETE not in the rule: refused",
                preflight("photos", WWW_A, "DELETE"),
                refused(),
            ),
            (
                "PATCH refused",
                preflight("photos", WWW_A, "PATCH"),
                refused(),
            ),
            (
                "OPTIONS refused",
                preflight("photos", WWW_A, "OPTIONS"),
                refused(),
            ),
            (
                "empty ACRM refused",
                preflight("photos", WWW_A, ""),
                refused(),
            ),
            (
                "` PUT` (with space) refused",
                preflight("photos", WWW_A, " PUT"),
                refused(),
            ),
        ],
    );
}

#[test]
fn preflight_request_headers() {
    let p = policy(CONFIG);
    let n64: Vec<String> = (0..64).map(|i| format!("x-oss-h{i}")).collect();
    let n64 = n64.join(",");
    let n65 = format!("{n64},x-oss-h64");
    let acah64 = n64.replace(',', ", ");
    // 4096 bytes exactly is allowed; one more is not.
    let exactly_4k = format!("x-oss-{}", "a".repeat(4090));
    let over_4k = format!("x-oss-{}", "a".repeat(4091));
    assert_eq!(exactly_4k.len(), 4096);
    // Two lines whose sum is over 4 KiB.
    let half = format!("x-oss-{}", "b".repeat(2100));
    run(
        &p,
        vec![
            (
                "headers match case-insensitively",
                preflight("photos", WWW_A, "PUT").acrh("CONTENT-TYPE"),
                photos_ok(WWW_A, Some("content-type")),
            ),
            (
                "x-oss-* glob matches x-oss-meta-author",
                preflight("photos", WWW_A, "PUT").acrh("x-oss-meta-author"),
                photos_ok(WWW_A, Some("x-oss-meta-author")),
            ),
            (
                "x-oss-* glob does not match x-os-meta",
                preflight("photos", WWW_A, "PUT").acrh("x-os-meta"),
                refused(),
            ),
            (
                "x-oss-* glob is anchored: a-x-oss-meta refused",
                preflight("photos", WWW_A, "PUT").acrh("a-x-oss-meta"),
                refused(),
            ),
            (
                "one unlisted header fails the whole preflight",
                preflight("photos", WWW_A, "PUT").acrh("content-type, authorization"),
                refused(),
            ),
            (
                "OWS (spaces and tabs) trimmed, empty items dropped",
                preflight("photos", WWW_A, "PUT").acrh(" ,\tContent-Type \t,, x-oss-meta-a ,"),
                photos_ok(WWW_A, Some("content-type, x-oss-meta-a")),
            ),
            (
                "empty ACRH value: no ACAH",
                preflight("photos", WWW_A, "PUT").acrh(""),
                photos_ok(WWW_A, None),
            ),
            (
                "ACRH of only commas and spaces: no ACAH",
                preflight("photos", WWW_A, "PUT").acrh(" , ,"),
                photos_ok(WWW_A, None),
            ),
            (
                "several ACRH lines count as one list",
                preflight("photos", WWW_A, "PUT")
                    .acrh("content-type")
                    .acrh("x-oss-meta-a, x-oss-meta-b"),
                photos_ok(WWW_A, Some("content-type, x-oss-meta-a, x-oss-meta-b")),
            ),
            (
                "several ACRH lines, one with an unlisted header: refused",
                preflight("photos", WWW_A, "PUT")
                    .acrh("content-type")
                    .acrh("authorization"),
                refused(),
            ),
            (
                "64 requested headers allowed",
                preflight("photos", WWW_A, "PUT").acrh(&n64),
                photos_ok(WWW_A, Some(&acah64)),
            ),
            (
                "65 requested headers: 403",
                preflight("photos", WWW_A, "PUT").acrh(&n65),
                refused(),
            ),
            (
                "ACRH of exactly 4096 bytes allowed",
                preflight("photos", WWW_A, "PUT").acrh(&exactly_4k),
                photos_ok(WWW_A, Some(&exactly_4k)),
            ),
            (
                "ACRH over 4 KiB: 403",
                preflight("photos", WWW_A, "PUT").acrh(&over_4k),
                refused(),
            ),
            (
                "ACRH over 4 KiB across two lines: 403",
                preflight("photos", WWW_A, "PUT").acrh(&half).acrh(&half),
                refused(),
            ),
            (
                "non-token item (space inside) on an allow-any rule: 403",
                preflight("public", WWW_A, "GET").acrh("x a"),
                refused(),
            ),
            (
                "non-token item (`;`) on an allow-any rule: 403",
                preflight("public", WWW_A, "GET").acrh("x-a;b"),
                refused(),
            ),
            (
                "non-token item (`:`) on an allow-any rule: 403",
                preflight("public", WWW_A, "GET").acrh("content-type:"),
                refused(),
            ),
            (
                "`*` alone is a token: echoed by an allow-any rule",
                preflight("public", WWW_A, "GET").acrh("*"),
                ok(&[
                    (ACAO, "*"),
                    (ACAM, "GET, HEAD"),
                    (ACAH, "*"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
        ],
    );
}

#[test]
fn preflight_refusal_body_is_oss_xml() {
    let p = policy(CONFIG);
    run(
        &p,
        vec![
            (
                "RequestId from x-request-id, HostId is the authority",
                preflight("photos", "https://evil.io", "GET")
                    .request_id("5C3D9175B6FC201293AD4890"),
                forbidden(NOT_ALLOWED, "5C3D9175B6FC201293AD4890", HOST),
            ),
            (
                "no x-request-id: empty RequestId",
                preflight("photos", "https://evil.io", "GET"),
                forbidden(NOT_ALLOWED, "", HOST),
            ),
            (
                "RequestId and HostId are XML-escaped",
                Req::new("OPTIONS", "h<o>&st", "/photos/k")
                    .origin("https://evil.io")
                    .acrm("GET")
                    .request_id("</RequestId><x>&amp;"),
                forbidden(
                    NOT_ALLOWED,
                    "&lt;/RequestId&gt;&lt;x&gt;&amp;amp;",
                    "h&lt;o&gt;&amp;st",
                ),
            ),
            (
                "not-enabled body for unconfigured bucket",
                Req::new("OPTIONS", "s3.test:9000", "/other/k")
                    .origin(WWW_A)
                    .acrm("GET")
                    .request_id("r1"),
                forbidden(NOT_ENABLED, "r1", "s3.test:9000"),
            ),
        ],
    );
}

#[test]
fn preflight_origin_and_header_multiplicity() {
    let p = policy(CONFIG);
    run(
        &p,
        vec![
            (
                "two Origin lines (both allowed): 403",
                Req::to("OPTIONS", "photos")
                    .origin(WWW_A)
                    .origin(WWW_A)
                    .acrm("GET"),
                refused(),
            ),
            (
                "two Origin lines on the `*` bucket: 403",
                Req::to("OPTIONS", "public")
                    .origin("https://x.io")
                    .origin("https://y.io")
                    .acrm("GET"),
                refused(),
            ),
            (
                "two Origin lines as Envoy hands them over, joined with a comma, on the `*` bucket: 403",
                Req::to("OPTIONS", "public")
                    .origin("https://x.io,https://y.io")
                    .acrm("GET"),
                refused(),
            ),
            (
                "ACRM lines joined by Envoy: 403",
                Req::to("OPTIONS", "public").origin(WWW_A).acrm("GET,HEAD"),
                refused(),
            ),
            (
                "two ACRM lines: 403",
                Req::to("OPTIONS", "photos")
                    .origin(WWW_A)
                    .acrm("GET")
                    .acrm("GET"),
                refused(),
            ),
            (
                "two ACRM lines on the `*` bucket: 403",
                Req::to("OPTIONS", "public")
                    .origin(WWW_A)
                    .acrm("GET")
                    .acrm("HEAD"),
                refused(),
            ),
            (
                "an empty Origin line plus a real one counts as one Origin",
                Req::to("OPTIONS", "photos")
                    .origin("")
                    .origin(WWW_A)
                    .acrm("GET"),
                photos_ok(WWW_A, None),
            ),
            (
                "Origin `null` is not matched by listed origins",
                preflight("photos", "null", "GET"),
                refused(),
            ),
            (
                "Origin `null` is matched by `*`, answered `*`",
                preflight("public", "null", "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET, HEAD"), (VARY, PREFLIGHT_VARY)]),
            ),
            (
                "Origin `null` on listed-first falls to the `*` rule",
                preflight("listed-first", "null", "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET"), (VARY, PREFLIGHT_VARY)]),
            ),
        ],
    );
}

#[test]
fn origin_bypass_regressions() {
    let p = policy(CONFIG);
    let mut cases: Vec<(&str, Req, Outcome)> = Vec::new();
    for (name, bucket, origin) in [
        (
            "suffix confusion: allowed origin + evil suffix",
            "photos",
            "https://www.a.com.evil.io",
        ),
        (
            "prefix confusion: evil prefix glued to allowed origin",
            "photos",
            "https://evilwww.a.com",
        ),
        ("scheme differs", "photos", "http://www.a.com"),
        ("port added", "photos", "https://www.a.com:8443"),
        ("trailing slash", "photos", "https://www.a.com/"),
        ("path", "photos", "https://www.a.com/x"),
        ("userinfo", "photos", "https://user@www.a.com"),
        (
            "two origins in one value",
            "photos",
            "https://www.a.com, https://www.a.com",
        ),
        ("leading space", "photos", " https://www.a.com"),
        ("wildcard: apex not implied", "photos", "https://b.com"),
        (
            "wildcard: suffix confusion b.com.evil.io",
            "photos",
            "https://b.com.evil.io",
        ),
        (
            "wildcard: nested suffix confusion x.b.com.evil.io",
            "photos",
            "https://x.b.com.evil.io",
        ),
        ("wildcard: label glued (xb.com)", "photos", "https://xb.com"),
        (
            "wildcard: port smuggling evil.com:x.b.com",
            "photos",
            "https://evil.com:x.b.com",
        ),
        (
            "wildcard: path smuggling evil.com/.b.com",
            "photos",
            "https://evil.com/.b.com",
        ),
        ("wildcard: other scheme", "photos", "http://x.b.com"),
        (
            "shared suffix between exact origins: barfoo.com",
            "suffix",
            "https://barfoo.com",
        ),
        (
            "shared suffix between exact origins: foobar.com",
            "suffix",
            "https://foobar.com",
        ),
        (
            "shared suffix: foo.com.bar.com",
            "suffix",
            "https://foo.com.bar.com",
        ),
        (
            "glob characters literal: [::2] not [::1]",
            "local",
            "http://[::2]:8080",
        ),
        (
            "IPv6 literal with another port",
            "local",
            "http://[::1]:8081",
        ),
        ("localhost:* needs a port", "local", "http://localhost"),
        (
            "localhost:* port is digits only",
            "local",
            "http://localhost:80.evil.com",
        ),
        (
            "localhost:* is not localhost.evil.com",
            "local",
            "http://localhost.evil.com:80",
        ),
    ] {
        cases.push((name, preflight(bucket, origin, "GET"), refused()));
    }
    let get_only = |o: &str| {
        ok(&[
            (ACAO, o),
            (ACAC, "true"),
            (ACAM, "GET"),
            (VARY, PREFLIGHT_VARY),
        ])
    };
    cases.extend([
        (
            "shared suffix: foo.com itself allowed",
            preflight("suffix", "https://foo.com", "GET"),
            ok(&[
                (ACAO, "https://foo.com"),
                (ACAC, "true"),
                (ACAM, "GET, PUT"),
                (VARY, PREFLIGHT_VARY),
            ]),
        ),
        (
            "shared suffix: bar.com itself allowed",
            preflight("suffix", "https://bar.com", "PUT"),
            ok(&[
                (ACAO, "https://bar.com"),
                (ACAC, "true"),
                (ACAM, "GET, PUT"),
                (VARY, PREFLIGHT_VARY),
            ]),
        ),
        (
            "glob characters literal: http://[::1]:8080 allowed exactly",
            preflight("local", "http://[::1]:8080", "GET"),
            get_only("http://[::1]:8080"),
        ),
        (
            "localhost:* allows a port",
            preflight("local", "http://localhost:3000", "GET"),
            get_only("http://localhost:3000"),
        ),
        (
            "upper-case Origin matches and is echoed byte for byte",
            preflight("photos", "HTTPS://WWW.A.COM", "GET"),
            photos_ok("HTTPS://WWW.A.COM", None),
        ),
        (
            "mixed-case wildcard Origin matches and is echoed byte for byte",
            preflight("photos", "https://X.B.Com", "GET"),
            photos_ok("https://X.B.Com", None),
        ),
    ]);
    // The same origins on actual requests: no grant.
    let mut c = Cases::new();
    for (name, req, want) in &cases {
        c.check(name, "preflight", &outcome(&p, req), want);
    }
    for (name, bucket, origin) in [
        (
            "actual: suffix confusion",
            "photos",
            "https://www.a.com.evil.io",
        ),
        (
            "actual: prefix confusion",
            "photos",
            "https://evilwww.a.com",
        ),
        ("actual: wildcard apex", "photos", "https://b.com"),
        (
            "actual: wildcard suffix confusion",
            "photos",
            "https://b.com.evil.io",
        ),
        (
            "actual: port smuggling",
            "photos",
            "https://evil.com:x.b.com",
        ),
        ("actual: barfoo.com", "suffix", "https://barfoo.com"),
        ("actual: foobar.com", "suffix", "https://foobar.com"),
        ("actual: [::2]", "local", "http://[::2]:8080"),
        ("actual: null on listed origins", "photos", "null"),
    ] {
        let req = Req::to("GET", bucket).origin(origin);
        c.check(name, "actual", &outcome(&p, &req), &Outcome::Forward(None));
    }
    let req = Req::to("GET", "photos").origin("HTTPS://WWW.A.COM");
    c.check(
        "actual: upper-case Origin echoed byte for byte",
        "actual",
        &outcome(&p, &req),
        &Outcome::Forward(echo(0, "HTTPS://WWW.A.COM")),
    );
    let req = Req::to("GET", "public").origin("null");
    c.check(
        "actual: null matched by `*`",
        "actual",
        &outcome(&p, &req),
        &Outcome::Forward(any(0)),
    );
    c.finish();
}

// ---------------------------------------------------------------- §4

struct ActualCase {
    name: &'static str,
    policy: &'static str,
    req: Req,
    upstream: Vec<(&'static str, &'static str)>,
    grant: Option<bucket_cors_core::Grant>,
    ops: Vec<String>,
}

const ALL_CORS_UPSTREAM: [(&str, &str); 6] = [
    (ACAO, "https://upstream.example"),
    (ACAC, "false"),
    (ACAM, "DELETE"),
    (ACAH, "x-upstream"),
    (ACEH, "x-upstream"),
    (ACMA, "1"),
];

#[test]
fn actual_request_response_edits() {
    let main = policy(CONFIG);
    let photos_granted = |origin: &str| {
        vec![
            set(ACAO, origin),
            set(ACAC, "true"),
            set(ACAM, "GET, PUT, HEAD"),
            set(ACEH, "ETag, x-oss-request-id"),
            set(ACMA, "600"),
            set(VARY, "Origin"),
        ]
    };
    let cases = vec![
        ActualCase {
            name: "allowed origin: ACAO/ACAC/ACAM/ACEH/ACMA set, no ACAH, Vary merged",
            policy: "main",
            req: Req::to("GET", "photos").origin(WWW_A),
            upstream: vec![("content-type", "image/jpeg"), ("etag", "\"x\"")],
            grant: echo(0, WWW_A),
            ops: photos_granted(WWW_A),
        },
        ActualCase {
            name: "HEAD from a wildcard-matched origin: same edits, echoing that origin",
            policy: "main",
            req: Req::to("HEAD", "photos").origin("https://x.b.com"),
            upstream: vec![("content-type", "application/xml")],
            grant: echo(0, "https://x.b.com"),
            ops: photos_granted("https://x.b.com"),
        },
        ActualCase {
            name: "`*` rule: ACAO *, no ACAC",
            policy: "main",
            req: Req::to("GET", "public").origin("https://x.io"),
            upstream: vec![],
            grant: any(0),
            ops: vec![set(ACAO, "*"), set(ACAM, "GET, HEAD"), set(VARY, "Origin")],
        },
        ActualCase {
            name: "disallowed origin: no CORS headers, Vary: Origin",
            policy: "main",
            req: Req::to("GET", "photos").origin("https://evil.io"),
            upstream: vec![],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "allowed origin, method not in any rule (DELETE): no grant, Vary only",
            policy: "main",
            req: Req::to("DELETE", "photos").origin(WWW_A),
            upstream: vec![],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "no Origin: only Vary",
            policy: "main",
            req: Req::to("GET", "photos"),
            upstream: vec![("etag", "\"x\"")],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "no Origin on the `*` bucket: only Vary",
            policy: "main",
            req: Req::to("GET", "public"),
            upstream: vec![],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "several Origin lines on an actual request: no grant",
            policy: "main",
            req: Req::to("GET", "photos").origin(WWW_A).origin(WWW_A),
            upstream: vec![],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "rule chosen by the request's own method: GET only in rule 1",
            policy: "main",
            req: Req::to("GET", "ordered").origin(WWW_A),
            upstream: vec![],
            grant: echo(1, WWW_A),
            ops: vec![
                set(ACAO, WWW_A),
                set(ACAC, "true"),
                set(ACAM, "PUT, GET"),
                set(ACEH, "ETag"),
                set(ACMA, "60"),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "actual request ignores the header condition: PUT matches rule 0",
            policy: "main",
            req: Req::to("PUT", "ordered").origin(WWW_A),
            upstream: vec![],
            grant: echo(0, WWW_A),
            ops: vec![
                set(ACAO, WWW_A),
                set(ACAC, "true"),
                set(ACAM, "PUT"),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "rule order on actual: listed first echoes",
            policy: "main",
            req: Req::to("GET", "listed-first").origin(WWW_A),
            upstream: vec![],
            grant: echo(0, WWW_A),
            ops: vec![
                set(ACAO, WWW_A),
                set(ACAC, "true"),
                set(ACAM, "GET"),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "rule order on actual: `*` first answers *",
            policy: "main",
            req: Req::to("GET", "star-first").origin(WWW_A),
            upstream: vec![],
            grant: any(0),
            ops: vec![set(ACAO, "*"), set(ACAM, "GET"), set(VARY, "Origin")],
        },
        ActualCase {
            name: "OPTIONS without ACRM from allowed origin: forwarded, no grant (OPTIONS not a rule method)",
            policy: "main",
            req: Req::to("OPTIONS", "photos").origin(WWW_A),
            upstream: vec![],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "ResponseVary false: no Vary op for an allowed origin",
            policy: "main",
            req: Req::to("GET", "novary").origin(WWW_A),
            upstream: vec![("vary", "Accept-Encoding")],
            grant: echo(0, WWW_A),
            ops: vec![set(ACAO, WWW_A), set(ACAC, "true"), set(ACAM, "GET")],
        },
        ActualCase {
            name: "ResponseVary false, no Origin: no op at all",
            policy: "main",
            req: Req::to("GET", "novary"),
            upstream: vec![],
            grant: None,
            ops: vec![],
        },
        ActualCase {
            name: "ResponseVary false still removes upstream CORS headers",
            policy: "main",
            req: Req::to("GET", "novary"),
            upstream: vec![(ACAO, "*")],
            grant: None,
            ops: vec![remove(ACAO)],
        },
        ActualCase {
            name: "upstream CORS headers, allowed origin: replaced by Set, upstream ACAH removed",
            policy: "main",
            req: Req::to("GET", "photos").origin(WWW_A),
            upstream: ALL_CORS_UPSTREAM.to_vec(),
            grant: echo(0, WWW_A),
            ops: {
                let mut v = photos_granted(WWW_A);
                v.push(remove(ACAH));
                v
            },
        },
        ActualCase {
            name: "upstream CORS headers, disallowed origin: all removed",
            policy: "main",
            req: Req::to("GET", "photos").origin("https://evil.io"),
            upstream: ALL_CORS_UPSTREAM.to_vec(),
            grant: None,
            ops: vec![
                remove(ACAO),
                remove(ACAC),
                remove(ACAM),
                remove(ACAH),
                remove(ACEH),
                remove(ACMA),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "upstream CORS headers, no Origin: all removed",
            policy: "main",
            req: Req::to("GET", "photos"),
            upstream: ALL_CORS_UPSTREAM.to_vec(),
            grant: None,
            ops: vec![
                remove(ACAO),
                remove(ACAC),
                remove(ACAM),
                remove(ACAH),
                remove(ACEH),
                remove(ACMA),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "upstream ACAO twice and ACAC on the `*` bucket: ACAO set once, ACAC removed",
            policy: "main",
            req: Req::to("GET", "public").origin("https://x.io"),
            upstream: vec![(ACAO, "*"), (ACAO, "https://x.io"), (ACAC, "true")],
            grant: any(0),
            ops: vec![
                set(ACAO, "*"),
                set(ACAM, "GET, HEAD"),
                remove(ACAC),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "upstream Vary: Accept-Encoding becomes Accept-Encoding, Origin",
            policy: "main",
            req: Req::to("GET", "photos"),
            upstream: vec![("vary", "Accept-Encoding")],
            grant: None,
            ops: vec![set(VARY, "Accept-Encoding, Origin")],
        },
        ActualCase {
            name: "two upstream Vary lines are kept and Origin appended",
            policy: "main",
            req: Req::to("GET", "photos").origin("https://evil.io"),
            upstream: vec![("vary", "Accept-Encoding"), ("vary", "Accept-Language")],
            grant: None,
            ops: vec![set(VARY, "Accept-Encoding, Accept-Language, Origin")],
        },
        ActualCase {
            name: "upstream Vary: origin (lower case) untouched",
            policy: "main",
            req: Req::to("GET", "photos").origin(WWW_A),
            upstream: vec![("vary", "origin")],
            grant: echo(0, WWW_A),
            ops: photos_granted(WWW_A)
                .into_iter()
                .filter(|o| !o.starts_with("set vary"))
                .collect(),
        },
        ActualCase {
            name: "upstream Vary: Accept-Encoding, ORIGIN untouched",
            policy: "main",
            req: Req::to("GET", "photos"),
            upstream: vec![("vary", "Accept-Encoding, ORIGIN")],
            grant: None,
            ops: vec![],
        },
        ActualCase {
            name: "upstream Vary: * untouched",
            policy: "main",
            req: Req::to("GET", "photos"),
            upstream: vec![("vary", "*")],
            grant: None,
            ops: vec![],
        },
    ];
    let mut c = Cases::new();
    for case in &cases {
        let p = match case.policy {
            "main" => &main,
            other => unreachable!("{other}"),
        };
        let action = p.decide(&case.req.request()).action;
        let bucket_cors_core::Action::Forward(plan) = action else {
            c.fail(case.name, format!("expected Forward, got {action:?}"));
            continue;
        };
        c.check(case.name, "grant", &plan.grant, &case.grant);
        let got = plan.header_ops(case.upstream.iter().map(|(n, v)| (*n, v.as_bytes())));
        let mut got_text: Vec<String> = got.iter().map(op_text).collect();
        // At most one op per header name: no duplicate or conflicting edits.
        let mut names: Vec<&str> = got
            .iter()
            .map(|op| match op {
                bucket_cors_core::HeaderOp::Remove(n) => *n,
                bucket_cors_core::HeaderOp::Set(n, _) => *n,
            })
            .collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        if names.len() != before {
            c.fail(
                case.name,
                format!("several ops on one header: {got_text:?}"),
            );
        }
        got_text.sort();
        let mut want = case.ops.clone();
        want.sort();
        c.check(case.name, "header ops (as a set)", &got_text, &want);
    }
    c.finish();
}

// ---------------------------------------------------------------- §1 addressing

#[test]
fn bucket_resolution_through_decide() {
    let vhost = policy(
        r#"{
          "endpoints": ["oss-cn-hangzhou.aliyuncs.com", "example.internal", "s3.example.internal"],
          "buckets": {
            "photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]},
            "my.dotted.bucket": {"CORSRule": [{"AllowedOrigin": ["*"], "AllowedMethod": ["GET"]}]}
          }
        }"#,
    );
    let no_path_style = policy(
        r#"{
          "endpoints": ["s3.example.internal"],
          "path_style": false,
          "buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]}}
        }"#,
    );
    let granted = Outcome::Forward(echo(0, WWW_A));
    let get = |host: &str, path: &str| Req::new("GET", host, path).origin(WWW_A);
    let mut c = Cases::new();
    for (name, p, req, want) in [
        (
            "virtual-hosted on the OSS endpoint",
            &vhost,
            get("photos.oss-cn-hangzhou.aliyuncs.com", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "longest endpoint wins (photos.s3.example.internal is photos, not photos.s3)",
            &vhost,
            get("photos.s3.example.internal", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "shorter endpoint still works when it is the only match",
            &vhost,
            get("photos.example.internal", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "port stripped",
            &vhost,
            get("photos.s3.example.internal:9000", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "host case-folded",
            &vhost,
            get("PHOTOS.S3.Example.Internal", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "dotted bucket name under an endpoint",
            &vhost,
            get("my.dotted.bucket.s3.example.internal", "/"),
            Outcome::Forward(any(0)),
        ),
        (
            "virtual-hosted bucket wins over the path segment",
            &vhost,
            get("photos.s3.example.internal", "/other/cat.jpg"),
            granted.clone(),
        ),
        (
            "virtual-hosted unconfigured bucket does not fall back to the path",
            &vhost,
            get("other.s3.example.internal", "/photos/cat.jpg"),
            Outcome::Ignore,
        ),
        (
            "host equal to an endpoint: path style",
            &vhost,
            get("oss-cn-hangzhou.aliyuncs.com", "/photos/cat.jpg"),
            granted.clone(),
        ),
        (
            "an endpoint under a shorter endpoint is itself <bucket>.<endpoint> (bucket s3)",
            &vhost,
            get("s3.example.internal", "/photos/cat.jpg"),
            Outcome::Ignore,
        ),
        (
            "unknown host: path style",
            &vhost,
            get("minio:9000", "/photos/cat.jpg"),
            granted.clone(),
        ),
        (
            "path style with query right after the bucket",
            &vhost,
            get("minio", "/photos?cors"),
            granted.clone(),
        ),
        (
            "path style: empty first segment means no bucket",
            &vhost,
            get("minio", "/?list-type=2"),
            Outcome::Ignore,
        ),
        (
            "path_style false: unknown host means no bucket",
            &no_path_style,
            get("minio", "/photos/cat.jpg"),
            Outcome::Ignore,
        ),
        (
            "path_style false: host equal to the endpoint means no bucket",
            &no_path_style,
            get("s3.example.internal", "/photos/cat.jpg"),
            Outcome::Ignore,
        ),
        (
            "path_style false: virtual-hosted still works",
            &no_path_style,
            get("photos.s3.example.internal", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "virtual-hosted preflight: HostId is the request's authority",
            &vhost,
            Req::new("OPTIONS", "photos.s3.example.internal:9000", "/cat.jpg")
                .origin("https://evil.io")
                .acrm("GET"),
            forbidden(NOT_ALLOWED, "", "photos.s3.example.internal:9000"),
        ),
        (
            "virtual-hosted preflight allowed",
            &vhost,
            Req::new("OPTIONS", "photos.oss-cn-hangzhou.aliyuncs.com", "/cat.jpg")
                .origin(WWW_A)
                .acrm("GET"),
            ok(&[
                (ACAO, WWW_A),
                (ACAC, "true"),
                (ACAM, "GET"),
                (VARY, PREFLIGHT_VARY),
            ]),
        ),
    ] {
        c.check(name, "decide", &outcome(p, &req), &want);
    }
    c.finish();
}

#[test]
fn upstream_private_network_allow_header_is_removed_like_the_other_allow_headers() {
    let policy = Policy::from_json(
        br#"{"buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]}}}"#,
    )
    .unwrap();
    let headers = [
        (":method", &b"GET"[..]),
        (":authority", b"h"),
        (":path", b"/photos/x"),
        ("origin", b"https://evil.com"),
    ];
    let Action::Forward(plan) = policy
        .decide(&Request::from_headers(
            headers.iter().map(|(n, v)| (*n, *v)),
        ))
        .action
    else {
        panic!("a GET to a configured bucket is forwarded");
    };
    let upstream = [("access-control-allow-private-network", &b"true"[..])];
    let ops = plan.header_ops(upstream.iter().map(|(n, v)| (*n, *v)));
    assert!(
        ops.contains(&HeaderOp::Remove("access-control-allow-private-network")),
        "{ops:?}"
    );
}
