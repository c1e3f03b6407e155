//! The decision for one request, as data: the glue applies it and never
//! decides policy itself.

use crate::compile::{BucketCors, Policy, Source};
use crate::config::{UnmatchedPreflight, UpstreamCors};
use crate::error_body::{
    access_forbidden, error_document, NOT_ALLOWED, NOT_ENABLED, RULES_UNAVAILABLE,
};
use crate::grant::{AllowOrigin, Grant};
use crate::header_names::parse_request_headers;
use crate::names;
use crate::origin::{parse_request_origin, OriginMatch};
use crate::outcome::{Outcome, Refusal};
use crate::request::{Request, Single};
use crate::response::ResponsePlan;
use crate::rule::Miss;
use crate::rules_cache::{KnownRules, Lookup};
use std::borrow::Cow;
use std::sync::Arc;

/// `Vary` of every preflight answer (spec §3.7).
pub(crate) const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// The decision for one request: what to do, and why (for metrics and logs).
/// A reply borrows the policy's constant values (`'p`).
#[derive(Debug)]
pub struct Decision<'p> {
    pub action: Action<'p>,
    pub outcome: Outcome,
    /// The bucket's `Mode` is `report`: the action enforcing would take.
    /// `action` is then `Ignore` (the request and its response are left
    /// alone) and `outcome` is counted as if enforced.
    pub reported: Option<Action<'p>>,
}

/// What the filter does with a request.
#[derive(Debug)]
pub enum Action<'p> {
    /// Not a request for a configured bucket (and not a preflight to refuse):
    /// leave the request and its response alone.
    Ignore,
    /// Answer locally; the request never reaches the upstream.
    Reply(LocalReply<'p>),
    /// Forward the request unchanged; edit its response by the plan.
    Forward(ResponsePlan),
}

/// A response made by the filter itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply<'p> {
    pub status: u32,
    /// Each value borrows the policy's own text (a rule's rendered
    /// methods, a constant); only what the request brings (the echoed
    /// Origin, the requested headers) is owned, so an answer copies nothing a
    /// rule already holds.
    pub headers: Vec<(&'static str, Cow<'p, str>)>,
    pub body: Vec<u8>,
}

/// The decision, or a wait for the store's answer (docs/spec.md §8).
#[derive(Debug)]
pub enum Verdict<'p> {
    Decided(Decision<'p>),
    /// The bucket's rules are being read: pause the request, and decide
    /// again when the cache wakes it.
    Wait,
}

impl Policy {
    /// Decides what to do with a request by the configuration's rules alone
    /// (spec §2–§4).
    pub fn decide(&self, req: &Request<'_>) -> Decision<'_> {
        match self.addressing.resolve(req.authority, req.path) {
            Some(bucket) => self.decide_bucket(req, self.cors_for(&bucket).1),
            None => Decision::enforced(self.ungoverned(), Outcome::NotConfigured),
        }
    }

    /// Decides with `rules_source` (spec §8): a bucket `buckets` lists keeps
    /// its rules; any other gets what `lookup` (the cache of store rules)
    /// says, `default` when the store holds none. Without `rules_source`,
    /// [`Policy::decide`]. The store's rules are kept in `keep` for as long
    /// as the decision borrows them, as a reply borrows the policy's.
    pub(crate) fn decide_with_store<'a>(
        &'a self,
        req: &Request<'_>,
        lookup: impl FnOnce(&str) -> Lookup,
        keep: &'a mut Option<Arc<BucketCors>>,
    ) -> Verdict<'a> {
        let Some(bucket) = self.addressing.resolve(req.authority, req.path) else {
            return Verdict::Decided(Decision::enforced(
                self.ungoverned(),
                Outcome::NotConfigured,
            ));
        };
        let (source, cors) = self.cors_for(&bucket);
        if source == Source::Bucket || self.rules_source.is_none() {
            return Verdict::Decided(self.decide_bucket(req, cors));
        }
        Verdict::Decided(match lookup(&bucket) {
            Lookup::Known(KnownRules(Some(cors))) => {
                self.decide_bucket(req, Some(&*keep.insert(cors)))
            }
            Lookup::Known(KnownRules(None)) => self.decide_bucket(req, cors),
            Lookup::Unavailable => self.unavailable(req),
            Lookup::Wait => return Verdict::Wait,
        })
    }

    /// Spec §3–§4 for a resolved bucket whose configuration is `cors`.
    fn decide_bucket<'c>(
        &self,
        req: &Request<'_>,
        cors: Option<&'c Arc<BucketCors>>,
    ) -> Decision<'c> {
        let preflight = req.is_preflight();
        let Some(cors) = cors else {
            if preflight && self.unmatched_preflight == UnmatchedPreflight::Reject {
                let refusal = Refusal::NoConfiguration;
                return Decision::enforced(
                    Action::Reply(self.refused(NOT_ENABLED, req, refusal)),
                    Outcome::PreflightRefused(refusal),
                );
            }
            return Decision::enforced(self.ungoverned(), Outcome::NotConfigured);
        };
        let (action, outcome) = if preflight {
            match preflight_reply(cors, req) {
                Ok(reply) => (Action::Reply(reply), Outcome::PreflightAllowed),
                Err(refusal) => (
                    Action::Reply(self.refused(NOT_ALLOWED, req, refusal)),
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
                cors: Some(Arc::clone(cors)),
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

    /// Spec §8: a bucket whose rules cannot be read. A preflight gets the
    /// 503; an actual request is forwarded with no grants, the upstream's
    /// CORS headers removed and `Vary: Origin` merged.
    fn unavailable(&self, req: &Request<'_>) -> Decision<'static> {
        let action = if req.is_preflight() {
            let retry = self.rules_source.as_ref().map_or(0, |s| s.retry_seconds());
            let mut reply = LocalReply {
                status: 503,
                headers: vec![
                    (names::CONTENT_TYPE, "application/xml".into()),
                    (names::VARY, PREFLIGHT_VARY.into()),
                    (names::RETRY_AFTER, retry.to_string().into()),
                ],
                body: error_document(
                    "ServiceUnavailable",
                    RULES_UNAVAILABLE,
                    req.request_id,
                    req.authority,
                ),
            };
            if self.debug_headers {
                reply
                    .headers
                    .push((names::REFUSAL, "rules-unavailable".into()));
            }
            Action::Reply(reply)
        } else {
            Action::Forward(ResponsePlan {
                cors: Some(Arc::clone(&self.no_rules)),
                grant: None,
            })
        };
        Decision::enforced(action, Outcome::RulesUnavailable)
    }
}

impl Policy {
    /// What a request the rules do not govern gets (no bucket, or a bucket
    /// without configuration): with `upstream_cors: strip` its response
    /// loses the upstream's CORS headers; with `pass` it is left alone.
    fn ungoverned(&self) -> Action<'static> {
        match self.upstream_cors {
            UpstreamCors::Strip => Action::Forward(ResponsePlan {
                cors: None,
                grant: None,
            }),
            UpstreamCors::Pass => Action::Ignore,
        }
    }

    /// The 403 of a refused preflight; with `debug_headers`, also naming
    /// why in `x-bucket-cors-refusal` (spec §6).
    fn refused(&self, message: &str, req: &Request<'_>, refusal: Refusal) -> LocalReply<'static> {
        let mut reply = forbidden(message, req);
        if self.debug_headers {
            reply
                .headers
                .push((names::REFUSAL, refusal_reason(refusal).into()));
        }
        reply
    }
}

/// The value of `x-bucket-cors-refusal`.
fn refusal_reason(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::NoConfiguration => "no-configuration",
        Refusal::Origin => "origin",
        Refusal::Method => "method",
        Refusal::Header => "header",
    }
}

impl<'p> Decision<'p> {
    fn enforced(action: Action<'p>, outcome: Outcome) -> Self {
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
        // A listed pattern matched, so the Origin is a well-formed, ASCII
        // origin: the check passes, and the lossy copy is never taken.
        OriginMatch::Listed => AllowOrigin::Echo(match std::str::from_utf8(raw) {
            Ok(origin) => origin.to_owned(),
            Err(_) => String::from_utf8_lossy(raw).into_owned(),
        }),
    };
    Grant { rule, allow_origin }
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

/// Spec §4.1: the first rule whose origin and method (the request's own) match.
fn actual_grant(cors: &BucketCors, req: &Request<'_>) -> Option<Grant> {
    let (raw, parsed) = origin_of(req)?;
    cors.rules.iter().enumerate().find_map(|(i, rule)| {
        let matched = rule
            .check(parsed.as_deref(), Single::One(req.method), None)
            .ok()?;
        Some(grant_for(matched, raw, i))
    })
}

/// Spec §3: the 200 answer of the first rule that allows the preflight, or
/// why none does.
fn preflight_reply<'p>(cors: &'p BucketCors, req: &Request<'_>) -> Result<LocalReply<'p>, Refusal> {
    let (raw, parsed) = origin_of(req).ok_or(Refusal::Origin)?;
    let requested = parse_request_headers(req.request_headers.iter());
    let mut refusal = Refusal::Origin;
    let mut winner = None;
    for (i, rule) in cors.rules.iter().enumerate() {
        match rule.check(parsed.as_deref(), req.request_method, Some(&requested)) {
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
    // Seven lines at most: the vector never grows.
    let mut headers = Vec::with_capacity(7);
    headers.extend(grant.into_preflight_headers(rule, requested.into_joined()));
    headers.push((names::VARY, PREFLIGHT_VARY.into()));
    Ok(LocalReply {
        status: 200,
        headers,
        body: Vec::new(),
    })
}

fn forbidden(message: &str, req: &Request<'_>) -> LocalReply<'static> {
    LocalReply {
        status: 403,
        headers: vec![
            (names::CONTENT_TYPE, "application/xml".into()),
            (names::VARY, PREFLIGHT_VARY.into()),
        ],
        body: access_forbidden(message, req.request_id, req.authority),
    }
}
