//! The outcome each decision carries (what the Envoy counters count, and
//! why a preflight was refused), and report-only mode.

mod common;

use bucket_cors_core::{Action, Outcome, Refusal, METRICS};
use common::*;

const CONFIG: &str = r#"{
  "buckets": {
    "photos": {"CORSRule": [
      {"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET", "PUT"], "AllowedHeader": ["content-type"]},
      {"AllowedOrigin": ["https://www.a.com", "https://*.b.com"], "AllowedMethod": ["GET"]}
    ]},
    "shadow": {"Mode": "report", "CORSRule": [
      {"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}
    ]}
  }
}"#;

#[test]
fn outcomes_name_what_happened_and_why_a_preflight_was_refused() {
    let p = policy(CONFIG);
    let cases: Vec<(&str, Req, Outcome)> = vec![
        (
            "no bucket",
            Req::new("GET", HOST, "/"),
            Outcome::NotConfigured,
        ),
        (
            "unconfigured bucket, actual",
            Req::to("GET", "other").origin("https://www.a.com"),
            Outcome::NotConfigured,
        ),
        (
            "unconfigured bucket, preflight",
            preflight("other", "https://www.a.com", "GET"),
            Outcome::PreflightRefused(Refusal::NoConfiguration),
        ),
        (
            "allowed preflight",
            preflight("photos", "https://www.a.com", "PUT").acrh("content-type"),
            Outcome::PreflightAllowed,
        ),
        (
            "origin no rule lists",
            preflight("photos", "https://evil.com", "GET"),
            Outcome::PreflightRefused(Refusal::Origin),
        ),
        (
            "several Origin lines",
            preflight("photos", "https://www.a.com", "GET").origin("https://www.a.com"),
            Outcome::PreflightRefused(Refusal::Origin),
        ),
        (
            "method no origin-matching rule allows",
            preflight("photos", "https://x.b.com", "PUT"),
            Outcome::PreflightRefused(Refusal::Method),
        ),
        (
            "header refused by the furthest rule",
            preflight("photos", "https://www.a.com", "PUT").acrh("x-other"),
            Outcome::PreflightRefused(Refusal::Header),
        ),
        (
            "malformed header list",
            preflight("photos", "https://www.a.com", "GET").acrh("a b"),
            Outcome::PreflightRefused(Refusal::Header),
        ),
        (
            "actual matched",
            Req::to("GET", "photos").origin("https://x.b.com"),
            Outcome::ActualMatched,
        ),
        (
            "actual unmatched",
            Req::to("PUT", "photos").origin("https://x.b.com"),
            Outcome::ActualUnmatched,
        ),
        ("no Origin", Req::to("GET", "photos"), Outcome::NoOrigin),
    ];
    let mut c = Cases::new();
    for (name, req, want) in &cases {
        c.check(name, "outcome", &p.decide(&req.request()).outcome, want);
    }
    c.finish();
}

#[test]
fn every_counted_outcome_has_its_own_metric_under_bucket_cors() {
    let counted = [
        Outcome::PreflightAllowed,
        Outcome::PreflightRefused(Refusal::NoConfiguration),
        Outcome::PreflightRefused(Refusal::Origin),
        Outcome::PreflightRefused(Refusal::Method),
        Outcome::PreflightRefused(Refusal::Header),
        Outcome::ActualMatched,
        Outcome::ActualUnmatched,
    ];
    let mut seen: Vec<usize> = counted.iter().filter_map(|o| o.metric()).collect();
    assert_eq!(seen.len(), counted.len());
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), counted.len(), "two outcomes share a counter");
    assert!(METRICS.iter().all(|m| m.starts_with("bucket_cors.")));
    assert_eq!(Outcome::NoOrigin.metric(), None);
    assert_eq!(Outcome::NotConfigured.metric(), None);
}

#[test]
fn report_only_bucket_counts_but_forwards_and_leaves_responses_alone() {
    let p = policy(CONFIG);
    let cases = [
        (
            preflight("shadow", "https://www.a.com", "GET"),
            Outcome::PreflightAllowed,
        ),
        (
            preflight("shadow", "https://evil.com", "GET"),
            Outcome::PreflightRefused(Refusal::Origin),
        ),
        (
            Req::to("GET", "shadow").origin("https://www.a.com"),
            Outcome::ActualMatched,
        ),
        (Req::to("GET", "shadow"), Outcome::NoOrigin),
    ];
    for (req, want) in cases {
        let d = p.decide(&req.request());
        assert_eq!(d.outcome, want);
        assert!(matches!(d.action, Action::Ignore), "{:?}", d.action);
        let enforced_kind = match want {
            Outcome::PreflightAllowed | Outcome::PreflightRefused(_) => "reply",
            _ => "forward",
        };
        match (&d.reported, enforced_kind) {
            (Some(Action::Reply(_)), "reply") | (Some(Action::Forward(_)), "forward") => {}
            (other, _) => panic!("report mode keeps what enforcing would do: {other:?}"),
        }
    }
    let enforced = p.decide(&preflight("photos", "https://evil.com", "GET").request());
    assert!(enforced.reported.is_none());
    assert!(matches!(enforced.action, Action::Reply(_)));
}
