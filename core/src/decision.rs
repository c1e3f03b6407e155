//! The decision for one request, as data: the glue applies it and never
//! decides policy itself.

use crate::compile::{BucketCors, Policy};
use crate::config::UnmatchedPreflight;
use crate::error_body::{access_forbidden, NOT_ALLOWED, NOT_ENABLED};
use crate::header_names::parse_request_headers;
use crate::names;
use crate::origin::{parse_request_origin, OriginMatch};
use crate::request::{Request, Single};
use crate::response::{HeaderOp, ResponsePlan};
use std::borrow::Cow;
use std::sync::Arc;

/// `Vary` of every preflight answer (spec §3.7).
pub(crate) const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// What the filter does with a request.
#[derive(Debug)]
pub enum Action {
    /// Not a request for a configured bucket (and not a preflight to refuse):
    /// leave the request and its response alone.
    Ignore,
    /// Answer locally; the request never reaches the upstream.
    Reply(LocalReply),
    /// Forward the request unchanged; edit its response by the plan.
    Forward(ResponsePlan),
}

/// A response made by the filter itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u32,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// The `Access-Control-Allow-Origin` a matched rule grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowOrigin {
    /// `*`, without credentials.
    Any,
    /// The request's Origin, byte for byte, with `ACAC: true`.
    Echo(String),
}

impl AllowOrigin {
    pub(crate) fn push_headers<'a>(&'a self, ops: &mut Vec<HeaderOp<'a>>) {
        match self {
            AllowOrigin::Any => ops.push(HeaderOp::Set(names::ACAO, Cow::Borrowed("*"))),
            AllowOrigin::Echo(origin) => {
                ops.push(HeaderOp::Set(names::ACAO, Cow::Borrowed(origin)));
                ops.push(HeaderOp::Set(names::ACAC, Cow::Borrowed("true")));
            }
        }
    }
}

/// The rule that won and what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Index of the winning rule in the bucket's `CORSRule` list.
    pub rule: usize,
    pub allow_origin: AllowOrigin,
}

impl Policy {
    /// Decides what to do with a request (spec §2–§4).
    pub fn decide(&self, req: &Request<'_>) -> Action {
        let Some(bucket) = self.addressing.resolve(req.authority, req.path) else {
            return Action::Ignore;
        };
        let cors = self.buckets.get(bucket.as_ref()).or(self.default.as_ref());
        let preflight =
            req.method == b"OPTIONS" && req.origin.is_present() && req.request_method.is_present();
        match cors {
            None if preflight && self.unmatched_preflight == UnmatchedPreflight::Reject => {
                Action::Reply(forbidden(NOT_ENABLED, req))
            }
            None => Action::Ignore,
            Some(cors) if preflight => Action::Reply(preflight_reply(cors, req)),
            Some(cors) => Action::Forward(ResponsePlan {
                cors: Arc::clone(cors),
                grant: actual_grant(cors, req),
            }),
        }
    }
}

/// The Origin as the matchers see it: `Some(None)` for a value that is not a
/// serialized origin (it can still match `*`), `None` for several lines.
fn origin_of<'a>(req: &Request<'a>) -> Option<(&'a [u8], Option<String>)> {
    match req.origin {
        Single::One(raw) => Some((raw, parse_request_origin(raw))),
        Single::Absent | Single::Many => None,
    }
}

fn grant_for(matched: OriginMatch, raw: &[u8], rule: usize) -> Grant {
    let allow_origin = match matched {
        OriginMatch::Any => AllowOrigin::Any,
        // A listed pattern matched, so the Origin is a well-formed, ASCII origin.
        OriginMatch::Listed => AllowOrigin::Echo(String::from_utf8_lossy(raw).into_owned()),
    };
    Grant { rule, allow_origin }
}

/// Spec §4.1: the first rule whose origin and method (the request's own) match.
fn actual_grant(cors: &BucketCors, req: &Request<'_>) -> Option<Grant> {
    let (raw, parsed) = origin_of(req)?;
    cors.rules.iter().enumerate().find_map(|(i, rule)| {
        if !rule.methods.contains(req.method) {
            return None;
        }
        let m = rule.origins.matches(parsed.as_deref())?;
        Some(grant_for(m, raw, i))
    })
}

/// Spec §3: 200 with the winning rule's headers, or OSS's 403.
fn preflight_reply(cors: &BucketCors, req: &Request<'_>) -> LocalReply {
    let Single::One(method) = req.request_method else {
        return forbidden(NOT_ALLOWED, req);
    };
    let Some((raw, parsed)) = origin_of(req) else {
        return forbidden(NOT_ALLOWED, req);
    };
    let Ok(requested) = parse_request_headers(&req.request_headers) else {
        return forbidden(NOT_ALLOWED, req);
    };
    let winner = cors.rules.iter().enumerate().find_map(|(i, rule)| {
        if !rule.methods.contains(method) || !requested.iter().all(|h| rule.headers.allows(h)) {
            return None;
        }
        rule.origins
            .matches(parsed.as_deref())
            .map(|m| (i, rule, m))
    });
    let Some((i, rule, matched)) = winner else {
        return forbidden(NOT_ALLOWED, req);
    };
    let grant = grant_for(matched, raw, i);
    let mut headers = Vec::with_capacity(7);
    match grant.allow_origin {
        AllowOrigin::Any => headers.push((names::ACAO, "*".to_string())),
        AllowOrigin::Echo(origin) => {
            headers.push((names::ACAO, origin));
            headers.push((names::ACAC, "true".to_string()));
        }
    }
    headers.push((names::ACAM, rule.allow_methods.clone()));
    if !requested.is_empty() {
        headers.push((names::ACAH, requested.join(", ")));
    }
    if let Some(v) = &rule.expose_headers {
        headers.push((names::ACEH, v.clone()));
    }
    if let Some(v) = &rule.max_age {
        headers.push((names::ACMA, v.clone()));
    }
    headers.push((names::VARY, PREFLIGHT_VARY.to_string()));
    LocalReply {
        status: 200,
        headers,
        body: Vec::new(),
    }
}

fn forbidden(message: &str, req: &Request<'_>) -> LocalReply {
    LocalReply {
        status: 403,
        headers: vec![
            (names::CONTENT_TYPE, "application/xml".to_string()),
            (names::VARY, PREFLIGHT_VARY.to_string()),
        ],
        body: access_forbidden(message, req.request_id, req.authority),
    }
}
