//! The decision for one request, as data: the glue applies it and never
//! decides policy itself.

use crate::compile::{BucketCors, Policy, Rule};
use crate::config::UnmatchedPreflight;
use crate::error_body::{access_forbidden, NOT_ALLOWED, NOT_ENABLED};
use crate::header_names::{parse_request_headers, BadRequestHeaders};
use crate::names;
use crate::origin::{parse_request_origin, OriginMatch};
use crate::request::{Request, Single};
use crate::response::{HeaderOp, ResponsePlan};
use std::borrow::Cow;
use std::sync::Arc;

/// `Vary` of every preflight answer (spec §3.7).
pub(crate) const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// The decision for one request: what to do, and why (for metrics and logs).
#[derive(Debug)]
pub struct Decision {
    pub action: Action,
    pub outcome: Outcome,
    /// The bucket's `Mode` is `report`: the action enforcing would take.
    /// `action` is then `Ignore` (the request and its response are left
    /// alone) and `outcome` is counted as if enforced.
    pub reported: Option<Action>,
}

/// Why the filter decided what it did; each kind is one counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No bucket, or a bucket without CORS configuration (not a preflight).
    NotConfigured,
    PreflightAllowed,
    PreflightRefused(Refusal),
    /// An actual request whose Origin a rule matched.
    ActualMatched,
    /// An actual request with an Origin that no rule matched.
    ActualUnmatched,
    /// A request of a configured bucket without Origin: only `Vary`.
    NoOrigin,
}

/// Why a preflight was refused: the furthest any rule got (ordered so the
/// larger is further).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    /// The bucket has no CORS configuration.
    NoConfiguration,
    /// No rule matches the Origin.
    Origin,
    /// Rules match the Origin, none allows the requested method.
    Method,
    /// Rules match the Origin and method, none allows every requested header
    /// (or the header list is malformed or too large).
    Header,
}

/// Every counter name, as defined in Envoy (its `/stats` shows them).
pub const METRICS: [&str; 8] = [
    "bucket_cors.preflight.allowed",
    "bucket_cors.preflight.refused.no_configuration",
    "bucket_cors.preflight.refused.origin",
    "bucket_cors.preflight.refused.method",
    "bucket_cors.preflight.refused.header",
    "bucket_cors.actual.matched",
    "bucket_cors.actual.unmatched",
    "bucket_cors.config.invalid",
];

/// Index in [`METRICS`] of the counter for a refused configuration.
pub const METRIC_CONFIG_INVALID: usize = 7;

impl Outcome {
    /// Index in [`METRICS`] of the counter this outcome increments, if any.
    pub fn metric(self) -> Option<usize> {
        match self {
            Outcome::PreflightAllowed => Some(0),
            Outcome::PreflightRefused(Refusal::NoConfiguration) => Some(1),
            Outcome::PreflightRefused(Refusal::Origin) => Some(2),
            Outcome::PreflightRefused(Refusal::Method) => Some(3),
            Outcome::PreflightRefused(Refusal::Header) => Some(4),
            Outcome::ActualMatched => Some(5),
            Outcome::ActualUnmatched => Some(6),
            Outcome::NotConfigured | Outcome::NoOrigin => None,
        }
    }
}

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
    pub fn decide(&self, req: &Request<'_>) -> Decision {
        let Some(bucket) = self.addressing.resolve(req.authority, req.path) else {
            return Decision::enforced(Action::Ignore, Outcome::NotConfigured);
        };
        let cors = self.buckets.get(bucket.as_ref()).or(self.default.as_ref());
        let preflight =
            req.method == b"OPTIONS" && req.origin.is_present() && req.request_method.is_present();
        let Some(cors) = cors else {
            if preflight && self.unmatched_preflight == UnmatchedPreflight::Reject {
                let reply = forbidden(NOT_ENABLED, req);
                return Decision::enforced(
                    Action::Reply(reply),
                    Outcome::PreflightRefused(Refusal::NoConfiguration),
                );
            }
            return Decision::enforced(Action::Ignore, Outcome::NotConfigured);
        };
        let (action, outcome) = if preflight {
            match preflight_reply(cors, req) {
                Ok(reply) => (Action::Reply(reply), Outcome::PreflightAllowed),
                Err(refusal) => (
                    Action::Reply(forbidden(NOT_ALLOWED, req)),
                    Outcome::PreflightRefused(refusal),
                ),
            }
        } else {
            let grant = actual_grant(cors, req);
            let outcome = match (&grant, req.origin.is_present()) {
                (Some(_), _) => Outcome::ActualMatched,
                (None, true) => Outcome::ActualUnmatched,
                (None, false) => Outcome::NoOrigin,
            };
            let plan = ResponsePlan {
                cors: Arc::clone(cors),
                grant,
            };
            (Action::Forward(plan), outcome)
        };
        if cors.report_only {
            return Decision {
                action: Action::Ignore,
                outcome,
                reported: Some(action),
            };
        }
        Decision::enforced(action, outcome)
    }
}

impl Decision {
    fn enforced(action: Action, outcome: Outcome) -> Self {
        Decision {
            action,
            outcome,
            reported: None,
        }
    }
}

/// The Origin as the matchers see it: `Some(None)` for a value that is not a
/// serialized origin (it can still match `*`), `None` for several lines.
fn origin_of<'a>(req: &Request<'a>) -> Option<(&'a [u8], Option<Cow<'a, str>>)> {
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

/// The first condition of a rule a request fails (spec §3.4, §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Miss<'h> {
    Origin,
    Method,
    /// The first requested header no `AllowedHeader` matches.
    Header(&'h str),
    /// The requested-header list itself is refused (spec §5).
    HeaderList(BadRequestHeaders),
}

impl Miss<'_> {
    fn refusal(self) -> Refusal {
        match self {
            Miss::Origin => Refusal::Origin,
            Miss::Method => Refusal::Method,
            Miss::Header(_) | Miss::HeaderList(_) => Refusal::Header,
        }
    }
}

/// A preflight's requested headers, parsed once for every rule.
pub(crate) type Requested = Result<Vec<String>, BadRequestHeaders>;

impl Rule {
    /// Whether this rule matches: the Origin (`parsed`, lower case, when well
    /// formed), then `method`, then, for a preflight, every requested header.
    /// The one check behind `decide` and `explain`.
    pub(crate) fn check<'h>(
        &self,
        parsed: Option<&str>,
        method: &[u8],
        requested: Option<&'h Requested>,
    ) -> Result<OriginMatch, Miss<'h>> {
        let matched = self.origins.matches(parsed).ok_or(Miss::Origin)?;
        if !self.methods.contains(method) {
            return Err(Miss::Method);
        }
        match requested {
            None => Ok(matched),
            Some(Err(bad)) => Err(Miss::HeaderList(*bad)),
            Some(Ok(names)) => match names.iter().find(|h| !self.headers.allows(h)) {
                Some(h) => Err(Miss::Header(h)),
                None => Ok(matched),
            },
        }
    }
}

/// Spec §4.1: the first rule whose origin and method (the request's own) match.
fn actual_grant(cors: &BucketCors, req: &Request<'_>) -> Option<Grant> {
    let (raw, parsed) = origin_of(req)?;
    cors.rules.iter().enumerate().find_map(|(i, rule)| {
        let matched = rule.check(parsed.as_deref(), req.method, None).ok()?;
        Some(grant_for(matched, raw, i))
    })
}

/// Spec §3: the 200 answer of the first rule that allows the preflight, or
/// why none does.
fn preflight_reply(cors: &BucketCors, req: &Request<'_>) -> Result<LocalReply, Refusal> {
    let (raw, parsed) = origin_of(req).ok_or(Refusal::Origin)?;
    let Single::One(method) = req.request_method else {
        return Err(Refusal::Method);
    };
    let requested = parse_request_headers(&req.request_headers);
    let mut refusal = Refusal::Origin;
    let mut winner = None;
    for (i, rule) in cors.rules.iter().enumerate() {
        match rule.check(parsed.as_deref(), method, Some(&requested)) {
            Ok(matched) => {
                winner = Some((i, rule, matched));
                break;
            }
            Err(miss) => refusal = refusal.max(miss.refusal()),
        }
    }
    let (i, rule, matched) = winner.ok_or(refusal)?;
    let requested = requested.map_err(|_| Refusal::Header)?;
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
    Ok(LocalReply {
        status: 200,
        headers,
        body: Vec::new(),
    })
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
