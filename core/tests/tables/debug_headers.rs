//! `debug_headers` (docs/spec.md §6): off by default; when on, a
//! refused preflight also names the furthest any rule got in
//! `x-bucket-cors-refusal`, and nothing else changes.

use crate::common::*;
use bucket_cors_spec::names::REFUSAL;
use bucket_cors_spec::refusal;

fn config(debug_headers: Option<bool>) -> String {
    let mut c = serde_json::json!({
        "buckets": {"b": {"CORSRule": [{
            "AllowedOrigin": ["https://www.a.com"],
            "AllowedMethod": ["GET"],
            "AllowedHeader": ["x-a"]
        }]}}
    });
    if let Some(on) = debug_headers {
        c["debug_headers"] = on.into();
    }
    c.to_string()
}

/// [`forbidden`] with the refusal header last.
fn forbidden_because(message: &str, reason: &str) -> Outcome {
    let Outcome::Reply(mut reply) = forbidden(message, "", HOST) else {
        unreachable!("forbidden is a reply")
    };
    reply
        .headers
        .push((REFUSAL.to_string(), reason.to_string()));
    Outcome::Reply(reply)
}

fn cases() -> Vec<(&'static str, Req, &'static str, &'static str)> {
    let www = "https://www.a.com";
    vec![
        (
            "no configuration",
            preflight("unlisted", www, "GET"),
            MSG_NOT_ENABLED,
            refusal::NO_CONFIGURATION,
        ),
        (
            "origin",
            preflight("b", "https://evil.test", "GET"),
            MSG_NOT_ALLOWED,
            refusal::ORIGIN,
        ),
        (
            "method",
            preflight("b", www, "PUT"),
            MSG_NOT_ALLOWED,
            refusal::METHOD,
        ),
        (
            "header",
            preflight("b", www, "GET").acrh("x-a, x-b"),
            MSG_NOT_ALLOWED,
            refusal::HEADER,
        ),
        (
            "spec 6: several ACRM lines, no rule matches the Origin: origin",
            preflight("b", "https://evil.test", "GET").acrm("GET"),
            MSG_NOT_ALLOWED,
            refusal::ORIGIN,
        ),
        (
            "spec 6: Envoy's join of two ACRM lines, no rule matches the Origin: origin",
            preflight("b", "https://evil.test", "GET,PUT"),
            MSG_NOT_ALLOWED,
            refusal::ORIGIN,
        ),
        (
            "spec 6: several ACRM lines, a rule matches the Origin: method",
            preflight("b", www, "GET").acrm("GET"),
            MSG_NOT_ALLOWED,
            refusal::METHOD,
        ),
        (
            "malformed header list",
            preflight("b", www, "GET").acrh("x a"),
            MSG_NOT_ALLOWED,
            refusal::HEADER,
        ),
    ]
}

#[test]
fn refused_preflights_name_their_reason_when_debug_headers_is_on() {
    let p = policy(&config(Some(true)));
    let mut c = Cases::new();
    for (name, req, message, reason) in cases() {
        c.check(
            name,
            "reply",
            &outcome(&p, &req),
            &forbidden_because(message, reason),
        );
    }
    c.check(
        "allowed preflight: no refusal header",
        "reply",
        &outcome(&p, &preflight("b", "https://www.a.com", "GET")),
        &ok(&[
            (ACAO, "https://www.a.com"),
            (ACAC, "true"),
            (ACAM, "GET"),
            (VARY, PREFLIGHT_VARY),
        ]),
    );
    c.finish();
}

#[test]
fn debug_headers_is_off_by_default_and_when_false() {
    for on in [None, Some(false)] {
        let p = policy(&config(on));
        let mut c = Cases::new();
        for (name, req, message, _) in cases() {
            c.check(
                name,
                "reply",
                &outcome(&p, &req),
                &forbidden(message, "", HOST),
            );
        }
        c.finish();
    }
}

#[test]
fn debug_headers_must_be_a_bool() {
    let e = Policy::from_json(br#"{"debug_headers": "yes"}"#).unwrap_err();
    assert!(
        e.to_string().starts_with("debug_headers: invalid type"),
        "{e}"
    );
}
