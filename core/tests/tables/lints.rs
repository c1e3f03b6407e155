//! Lints (docs/spec.md §6): configurations the filter accepts but a browser will
//! not use as meant. One named test per lint kind, each with the cases that
//! must and must not warn; then labels, order and the message's words.

use crate::common::*;
use bucket_cors_core::{Label, LintKind};
use serde_json::{json, Value};

/// The lints of a configuration with one bucket `b` holding `rules`, as
/// (rule index, kind) pairs.
fn lints_of(rules: Vec<Value>) -> Vec<(usize, String)> {
    let p = policy(&json!({"buckets": {"b": {"CORSRule": rules}}}).to_string());
    p.lints()
        .into_iter()
        .map(|l| {
            assert_eq!(l.at, Label::Bucket("b"));
            (l.rule.expect("a rule lint"), format!("{:?}", l.kind))
        })
        .collect()
}

/// A rule that triggers nothing: HTTPS origin, GET only.
fn clean() -> Value {
    json!({"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]})
}

/// An upload rule that triggers nothing.
fn upload() -> Value {
    json!({
        "AllowedOrigin": ["https://www.a.com"],
        "AllowedMethod": ["GET", "PUT", "POST"],
        "AllowedHeader": ["content-type", "x-amz-*"],
        "ExposeHeader": ["ETag"]
    })
}

fn with(mut rule: Value, field: &str, value: Value) -> Value {
    rule[field] = value;
    rule
}

fn debug(kind: LintKind<'_>) -> String {
    format!("{kind:?}")
}

/// A named case: the rules of bucket `b`, and the lints expected as (rule index, kind).
type LintCase = (&'static str, Vec<Value>, Vec<(usize, LintKind<'static>)>);

/// Runs the cases, every failure reported.
fn table(cases: Vec<LintCase>) {
    let mut c = Cases::new();
    for (name, rules, want) in cases {
        let want: Vec<(usize, String)> = want.into_iter().map(|(i, k)| (i, debug(k))).collect();
        c.check(name, "lints", &lints_of(rules), &want);
    }
    c.finish();
}

#[test]
fn etag_not_exposed() {
    table(vec![
        (
            "PUT without ETag exposed",
            vec![with(upload(), "ExposeHeader", json!(["x-amz-request-id"]))],
            vec![(0, LintKind::EtagNotExposed)],
        ),
        (
            "POST only, no ExposeHeader at all",
            vec![with(upload(), "AllowedMethod", json!(["POST"]))
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.remove("ExposeHeader");
                    Value::Object(o)
                })
                .unwrap()],
            vec![(0, LintKind::EtagNotExposed)],
        ),
        (
            "ETag exposed in any case",
            vec![with(upload(), "ExposeHeader", json!(["x-a", "etag"]))],
            vec![],
        ),
        (
            "GET, HEAD, DELETE need no ETag",
            vec![with(
                clean(),
                "AllowedMethod",
                json!(["GET", "HEAD", "DELETE"]),
            )],
            vec![],
        ),
    ]);
}

#[test]
fn max_age_over_chromium() {
    table(vec![
        (
            "7201 is cut by Chromium",
            vec![with(clean(), "MaxAgeSeconds", json!(7201))],
            vec![(0, LintKind::MaxAgeOverChromium(7201))],
        ),
        (
            "86400 is cut by Chromium only",
            vec![with(clean(), "MaxAgeSeconds", json!(86400))],
            vec![(0, LintKind::MaxAgeOverChromium(86400))],
        ),
        (
            "7200 is Chromium's cap itself",
            vec![with(clean(), "MaxAgeSeconds", json!(7200))],
            vec![],
        ),
        (
            "0 is fine",
            vec![with(clean(), "MaxAgeSeconds", json!(0))],
            vec![],
        ),
    ]);
}

#[test]
fn max_age_over_firefox() {
    table(vec![
        (
            "86401 is cut by Firefox (and Chromium)",
            vec![with(clean(), "MaxAgeSeconds", json!(86401))],
            vec![(0, LintKind::MaxAgeOverFirefox(86401))],
        ),
        (
            "the largest MaxAgeSeconds",
            vec![with(clean(), "MaxAgeSeconds", json!(2147483647))],
            vec![(0, LintKind::MaxAgeOverFirefox(2147483647))],
        ),
    ]);
}

fn rule(origins: Value, methods: Value, headers: Value) -> Value {
    json!({"AllowedOrigin": origins, "AllowedMethod": methods, "AllowedHeader": headers})
}

fn shadowed(by: usize) -> LintKind<'static> {
    LintKind::Shadowed { by, by_id: None }
}

#[test]
fn shadowed_rule() {
    let get = json!(["GET"]);
    table(vec![
        (
            "`*` origin, same method and headers",
            vec![rule(json!(["*"]), get.clone(), json!([])), rule(json!(["https://www.a.com"]), get.clone(), json!([]))],
            vec![(1, shadowed(0))],
        ),
        (
            "exact origin inside an earlier wildcard, methods a subset, headers covered by `*`",
            vec![
                rule(json!(["https://*.a.com"]), json!(["GET", "HEAD"]), json!(["*"])),
                rule(json!(["https://x.a.com"]), json!(["HEAD"]), json!(["x-y", "x-*"])),
            ],
            vec![(1, shadowed(0))],
        ),
        (
            "wildcard inside a wider wildcard, header wildcard inside a wider one",
            vec![
                rule(json!(["https://*.a.com"]), get.clone(), json!(["x-amz-*", "content-type"])),
                rule(json!(["https://app-*.a.com"]), get.clone(), json!(["x-amz-meta-*", "Content-Type"])),
            ],
            vec![(1, shadowed(0))],
        ),
        (
            "the same rule twice: the second is shadowed by the first, named by its ID",
            vec![with(clean(), "ID", json!("first")), clean()],
            vec![(1, LintKind::Shadowed { by: 0, by_id: Some("first") })],
        ),
        (
            "only the first covering rule is named",
            vec![clean(), clean(), clean()],
            vec![(1, shadowed(0)), (2, shadowed(0))],
        ),
        (
            "an earlier rule with fewer methods does not cover",
            vec![rule(json!(["*"]), get.clone(), json!([])), rule(json!(["*"]), json!(["GET", "PUT"]), json!(["content-type"]))],
            vec![(1, LintKind::EtagNotExposed)],
        ),
        (
            "an earlier rule without the header does not cover (preflights with it reach the later rule)",
            vec![rule(json!(["*"]), get.clone(), json!([])), rule(json!(["*"]), get.clone(), json!(["x-a"]))],
            vec![],
        ),
        (
            "a later `*` origin is not covered by listed origins (it also matches null)",
            vec![rule(json!(["https://*.a.com"]), get.clone(), json!([])), rule(json!(["*"]), get.clone(), json!([]))],
            vec![],
        ),
        (
            "a narrower earlier wildcard does not cover a wider one",
            vec![rule(json!(["https://*.x.a.com"]), get.clone(), json!([])), rule(json!(["https://*.a.com"]), get.clone(), json!([]))],
            vec![],
        ),
        (
            "listed origins covered only by a union of earlier patterns: not certain, no lint",
            vec![
                rule(json!(["http://a.com", "https://a.com"]), get.clone(), json!([])),
                rule(json!(["http*://a.com"]), get.clone(), json!([])),
            ],
            vec![(0, LintKind::PlainHttpOrigin("http://a.com".into())), (1, LintKind::PlainHttpOrigin("http*://a.com".into()))],
        ),
        (
            "header wildcard not covered by exact names",
            vec![rule(json!(["*"]), get.clone(), json!(["x-a", "x-b"])), rule(json!(["*"]), get.clone(), json!(["x-*"]))],
            vec![],
        ),
        (
            "a later rule is never shadowed by a rule after it",
            vec![clean(), rule(json!(["*"]), get.clone(), json!(["*"]))],
            vec![],
        ),
        (
            "origins compare case-insensitively",
            vec![rule(json!(["HTTPS://WWW.A.COM"]), get.clone(), json!([])), clean()],
            vec![(1, shadowed(0))],
        ),
    ]);
}

#[test]
fn content_type_refused() {
    table(vec![
        (
            "PUT with an explicit list lacking content-type",
            vec![with(
                upload(),
                "AllowedHeader",
                json!(["x-amz-*", "authorization"]),
            )],
            vec![(0, LintKind::ContentTypeRefused)],
        ),
        (
            "POST with no AllowedHeader at all",
            vec![
                json!({"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["POST"], "ExposeHeader": ["ETag"]}),
            ],
            vec![(0, LintKind::ContentTypeRefused)],
        ),
        (
            "`*` covers content-type",
            vec![with(upload(), "AllowedHeader", json!(["*"]))],
            vec![],
        ),
        (
            "a wildcard that covers it",
            vec![with(upload(), "AllowedHeader", json!(["content-*"]))],
            vec![],
        ),
        (
            "any case",
            vec![with(upload(), "AllowedHeader", json!(["Content-Type"]))],
            vec![],
        ),
        ("GET needs no content-type", vec![clean()], vec![]),
    ]);
}

#[test]
fn plain_http_origin() {
    let o = |origins: Value| vec![with(clean(), "AllowedOrigin", origins)];
    let http = |s: &str| (0, LintKind::PlainHttpOrigin(s.into()));
    table(vec![
        (
            "an http origin",
            o(json!(["http://app.example.com"])),
            vec![http("http://app.example.com")],
        ),
        (
            "with a port",
            o(json!(["http://app.example.com:8080"])),
            vec![http("http://app.example.com:8080")],
        ),
        (
            "several, sorted, lower case",
            o(json!([
                "https://ok.example.com",
                "http://z.example.com",
                "HTTP://A.example.com"
            ])),
            vec![http("http://a.example.com"), http("http://z.example.com")],
        ),
        (
            "a wildcard host under http",
            o(json!(["http://*.example.com"])),
            vec![http("http://*.example.com")],
        ),
        (
            "a wildcard scheme reaching http",
            o(json!(["http*://example.com"])),
            vec![http("http*://example.com")],
        ),
        (
            "a wildcard port on a public host",
            o(json!(["http://example.com:*"])),
            vec![http("http://example.com:*")],
        ),
        (
            // `http://*.0.0.1` itself is refused: a wildcard over an IP address (spec §1).
            "a wildcard under 0.0.1.example.com reaches DNS names",
            o(json!(["http://*.0.0.1.example.com"])),
            vec![http("http://*.0.0.1.example.com")],
        ),
        (
            "loopback hosts are fine",
            o(json!([
                "http://localhost:3000",
                "http://localhost",
                "http://app.localhost",
                "http://127.0.0.1:8080",
                "http://127.255.0.9",
                "http://[::1]:5173",
                "http://localhost:*",
                "http://[::1]:*",
                "http://*.dev.localhost"
            ])),
            vec![],
        ),
        (
            "https is fine",
            o(json!(["https://example.com", "https://*.example.com"])),
            vec![],
        ),
        (
            "a wildcard scheme that cannot be http",
            o(json!(["https*://example.com"])),
            vec![],
        ),
        ("`*` answers without credentials", o(json!(["*"])), vec![]),
        (
            "128.0.0.1 is not loopback",
            o(json!(["http://128.0.0.1"])),
            vec![http("http://128.0.0.1")],
        ),
    ]);
}

/// docs/spec.md §6: no lint for `AllowedHeader: ["*"]`
/// in a rule that echoes origins with credentials. The Fetch standard lets
/// `Access-Control-Allow-Headers: *` mean "any header" only without
/// credentials, and never for `Authorization`; but the filter never answers
/// `*`: its ACAH lists the requested names (spec §3.6), so a credentialed
/// preflight asking for `authorization` gets `authorization` back, which
/// the browser accepts. A warning would be wrong here.
#[test]
fn star_allowed_header_with_credentials_is_not_linted_because_acah_echoes_names() {
    assert_eq!(
        lints_of(vec![with(clean(), "AllowedHeader", json!(["*"]))]),
        vec![]
    );
    let p = policy(
        &json!({"buckets": {"b": {"CORSRule": [with(clean(), "AllowedHeader", json!(["*"]))]}}})
            .to_string(),
    );
    let req = preflight("b", "https://www.a.com", "GET").acrh("Authorization");
    let Outcome::Reply(reply) = outcome(&p, &req) else {
        panic!("a preflight is answered by the filter");
    };
    assert_eq!(reply.status, 200);
    assert!(reply
        .headers
        .contains(&(ACAH.to_string(), "authorization".to_string())));
    assert!(reply
        .headers
        .contains(&(ACAC.to_string(), "true".to_string())));
}

#[test]
fn lints_are_labelled_and_ordered_buckets_by_name_then_default() {
    let bad = json!({"AllowedOrigin": ["https://b.example.com"], "AllowedMethod": ["GET"], "MaxAgeSeconds": 10000});
    let p = policy(
        &json!({
            "buckets": {"zeta": {"CORSRule": [bad.clone()]}, "alpha": {"CORSRule": [clean(), bad.clone()]}},
            "default": {"CORSRule": [bad]}
        })
        .to_string(),
    );
    let got: Vec<(Label<'_>, Option<usize>)> = p.lints().iter().map(|l| (l.at, l.rule)).collect();
    assert_eq!(
        got,
        vec![
            (Label::Bucket("alpha"), Some(1)),
            (Label::Bucket("zeta"), Some(0)),
            (Label::Default, Some(0))
        ]
    );
}

/// Named policies and lints (docs/spec.md §1, §6): a policy is judged once, however many buckets
/// name it, under its own label, and a policy no bucket names (nor `default`) is reported as
/// unused.
#[test]
fn policies_are_linted_once_and_an_unused_policy_is_reported() {
    let bad = json!({"AllowedOrigin": ["https://b.example.com"], "AllowedMethod": ["GET"], "MaxAgeSeconds": 10000});
    let p = policy(
        &json!({
            "policies": {
                "shared": {"CORSRule": [bad.clone()]},
                "spare": {"CORSRule": [clean()]},
                "fallback": {"CORSRule": [clean()]}
            },
            "buckets": {"a": "shared", "b": "shared", "c": {"CORSRule": [bad]}},
            "default": "fallback"
        })
        .to_string(),
    );
    let got: Vec<(Label<'_>, Option<usize>, String)> = p
        .lints()
        .iter()
        .map(|l| (l.at, l.rule, format!("{:?}", l.kind)))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                Label::Policy("shared"),
                Some(0),
                "MaxAgeOverChromium(10000)".into()
            ),
            (Label::Policy("spare"), None, "UnusedPolicy".into()),
            (
                Label::Bucket("c"),
                Some(0),
                "MaxAgeOverChromium(10000)".into()
            ),
        ]
    );
    let unused = p
        .lints()
        .into_iter()
        .find(|l| l.kind == LintKind::UnusedPolicy)
        .unwrap();
    assert_eq!(
        unused.to_string(),
        "policy \"spare\": is named by no bucket and not by default, so its rules answer no request; name it from a bucket (\"photos\": \"<policy>\") or remove it"
    );
}

#[test]
fn a_lint_names_the_configuration_the_rule_the_field_and_what_the_browser_does() {
    let p = policy(
        &json!({"default": {"CORSRule": [with(with(upload(), "ID", json!("up")), "ExposeHeader", json!(["x-a"]))]}})
            .to_string(),
    );
    let lints = p.lints();
    assert_eq!(lints.len(), 1);
    let text = lints[0].to_string();
    assert!(
        text.starts_with("default rule 0 (ID \"up\") ExposeHeader: PUT or POST is allowed but ETag is not exposed"),
        "{text}"
    );
    assert!(text.contains("multipart upload"), "{text}");
    let p = policy(&json!({"buckets": {"photos": {"CORSRule": [clean(), clean()]}}}).to_string());
    assert_eq!(
        p.lints()[0].to_string().split(": ").next(),
        Some("bucket \"photos\" rule 1 CORSRule")
    );
}

#[test]
fn a_clean_configuration_has_no_lints() {
    let p = policy(
        &json!({"buckets": {"b": {"CORSRule": [upload(), with(with(clean(), "MaxAgeSeconds", json!(600)), "AllowedOrigin", json!(["https://b.example.com"]))]}}, "default": {"CORSRule": [rule(json!(["*"]), json!(["GET", "HEAD"]), json!(["*"]))]}}).to_string(),
    );
    assert_eq!(p.lints(), vec![]);
}
