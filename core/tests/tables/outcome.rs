//! The outcome each decision carries (what the Envoy counters count, and
//! why a preflight was refused), and report-only mode.

use crate::common::*;
use bucket_cors_core::{Action, Counter, Outcome, Refusal};

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
            "spec 6: several ACRM lines, Origin no rule lists: origin, the furthest a rule got",
            preflight("photos", "https://evil.com", "GET").acrm("GET"),
            Outcome::PreflightRefused(Refusal::Origin),
        ),
        (
            "spec 6: Envoy's join of two ACRM lines, Origin no rule lists: origin",
            preflight("photos", "https://evil.com", "GET,PUT"),
            Outcome::PreflightRefused(Refusal::Origin),
        ),
        (
            "spec 6: several ACRM lines, Origin a rule lists: method",
            preflight("photos", "https://www.a.com", "GET").acrm("PUT"),
            Outcome::PreflightRefused(Refusal::Method),
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

/// The README's counters (written once in the `spec` crate) are exactly the
/// ones the filter defines, and each counted outcome increments the one the
/// README names for it: compared by name, so a reordered list cannot count
/// under the wrong Envoy counter.
#[test]
fn every_counted_outcome_increments_the_counter_the_readme_names() {
    use bucket_cors_spec::counters as spec;
    let defined: Vec<&str> = Counter::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(defined, spec::ALL);
    let counted = [
        (Outcome::PreflightAllowed, spec::PREFLIGHT_ALLOWED),
        (
            Outcome::PreflightRefused(Refusal::NoConfiguration),
            spec::PREFLIGHT_REFUSED_NO_CONFIGURATION,
        ),
        (
            Outcome::PreflightRefused(Refusal::Origin),
            spec::PREFLIGHT_REFUSED_ORIGIN,
        ),
        (
            Outcome::PreflightRefused(Refusal::Method),
            spec::PREFLIGHT_REFUSED_METHOD,
        ),
        (
            Outcome::PreflightRefused(Refusal::Header),
            spec::PREFLIGHT_REFUSED_HEADER,
        ),
        (Outcome::ActualMatched, spec::ACTUAL_MATCHED),
        (Outcome::ActualUnmatched, spec::ACTUAL_UNMATCHED),
    ];
    for (outcome, name) in counted {
        assert_eq!(
            outcome.counter().map(Counter::name),
            Some(name),
            "{outcome:?}"
        );
    }
    assert_eq!(Outcome::NoOrigin.counter(), None);
    assert_eq!(Outcome::NotConfigured.counter(), None);
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
