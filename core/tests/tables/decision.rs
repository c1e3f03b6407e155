//! Table tests of `Policy::decide` and `ResponsePlan::header_ops` against
//! `docs/spec.md` §1–§6, one file per section: request classification,
//! preflight answers (exact headers, order, status and body), origin-matching
//! bypass regressions, actual-request response edits, and bucket addressing.
//! Every case has a name; a failing run lists every failing case.

pub(crate) use crate::common::*;
pub(crate) use bucket_cors_core::{Action, HeaderOp, Policy, Request};

/// The policy most cases run against (path-style, host [`HOST`]).
pub(crate) const CONFIG: &str = r#"{
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

pub(crate) const WWW_A: &str = "https://www.a.com";

/// The 200 of the `photos` rule for `origin`, with `acah` when headers were requested.
pub(crate) fn photos_ok(origin: &str, acah: Option<&str>) -> Outcome {
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

pub(crate) fn run(policy: &Policy, cases: Vec<(&str, Req, Outcome)>) -> usize {
    let mut c = Cases::new();
    for (name, req, want) in cases.iter().filter(|(name, ..)| selected(name)) {
        c.check(name, "decide", &outcome(policy, req), want);
    }
    c.finish()
}

mod actual;
mod addressing;
mod classification;
mod preflight;
