//! Why a request gets the answer it gets: every rule of the bucket and the
//! first condition it fails. For operators (`bucket-cors explain`), never on
//! the request path.

use crate::compile::{BucketCors, Policy, Source};
use crate::decision::Decision;
use crate::header_names::parse_request_headers;
use crate::origin::parse_request_origin;
use crate::request::{Request, Single};
use crate::rule::Miss;

/// One rule and, if it does not match, the first condition it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCheck {
    pub index: usize,
    pub id: Option<String>,
    /// `Ok` when the rule matches; otherwise why not.
    pub verdict: Result<(), String>,
}

/// The explanation of one request; its decision borrows the policy (`'p`).
#[derive(Debug)]
pub struct Explanation<'p> {
    /// The bucket the request addresses, if any.
    pub bucket: Option<String>,
    pub source: Source,
    /// The named policy whose rules apply, when the bucket's entry (or
    /// `default`) names one.
    pub policy: Option<String>,
    /// Whether the request is a preflight (spec §2.3).
    pub preflight: bool,
    /// Every rule of the bucket, in order (the first match wins).
    pub rules: Vec<RuleCheck>,
    /// What the filter does: the same as [`Policy::decide`].
    pub decision: Decision<'p>,
}

impl Policy {
    /// Explains the decision for `req` rule by rule.
    pub fn explain(&self, req: &Request<'_>) -> Explanation<'_> {
        let decision = self.decide(req);
        let bucket = self.addressing.resolve(req.authority, req.path);
        let (source, cors) = match bucket.as_deref() {
            Some(b) => self.cors_for(b),
            None => (Source::None, None),
        };
        let preflight = req.is_preflight();
        let rules = cors
            .map(|c| check_rules(c, req, preflight))
            .unwrap_or_default();
        Explanation {
            bucket: bucket.map(|b| b.into_owned()),
            source,
            policy: cors.and_then(|c| c.policy.as_deref().map(str::to_owned)),
            preflight,
            rules,
            decision,
        }
    }
}

fn check_rules(cors: &BucketCors, req: &Request<'_>, preflight: bool) -> Vec<RuleCheck> {
    let origin = match req.origin {
        Single::One(raw) => Ok((raw, parse_request_origin(raw))),
        Single::Absent => Err("the request has no Origin".to_string()),
        Single::Many => Err("the request has several Origin lines".to_string()),
    };
    let (method, method_name) = if preflight {
        (req.request_method, "Access-Control-Request-Method")
    } else {
        (Single::One(req.method), "method")
    };
    let requested = preflight.then(|| parse_request_headers(req.request_headers.iter()));
    cors.rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let verdict = (|| {
                let (raw, parsed) = origin.clone()?;
                let raw = String::from_utf8_lossy(raw);
                match rule.check(parsed.as_deref(), method, requested.as_ref()) {
                    Ok(_) => Ok(()),
                    Err(Miss::Origin) if parsed.is_some() => Err(format!("Origin {raw:?} matches no AllowedOrigin")),
                    Err(Miss::Origin) => Err(format!(
                        "Origin {raw:?} is not a serialized origin, so only \"*\" could match, and AllowedOrigin has no \"*\""
                    )),
                    Err(Miss::Method) => Err(match method {
                        Single::One(m) => format!(
                            "{method_name} {:?} is not in AllowedMethod ({})",
                            String::from_utf8_lossy(m),
                            rule.terms.allow_methods
                        ),
                        _ => format!("several {method_name} lines match no AllowedMethod"),
                    }),
                    Err(Miss::Header(h)) => Err(format!("requested header {h:?} matches no AllowedHeader")),
                    Err(Miss::HeaderList(e)) => {
                        Err(format!("Access-Control-Request-Headers is refused: {}", e.describe()))
                    }
                }
            })();
            RuleCheck {
                index,
                id: rule.terms.id.as_deref().map(str::to_owned),
                verdict,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::from_json(
            br#"{"buckets": {"photos": {"CORSRule": [
                {"ID": "uploads", "AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["PUT"], "AllowedHeader": ["content-type"]},
                {"AllowedOrigin": ["https://*.b.com"], "AllowedMethod": ["GET"]}
            ]}}, "default": {"CORSRule": [{"AllowedOrigin": ["*"], "AllowedMethod": ["GET"]}]}}"#,
        )
        .unwrap()
    }

    fn req<'a>(headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
        Request::from_headers(headers.iter().map(|(n, v)| (*n, v.as_bytes())))
    }

    #[test]
    fn explain_names_the_first_failing_condition_of_every_rule() {
        let p = policy();
        let e = p.explain(&req(&[
            (":method", "OPTIONS"),
            (":authority", "h"),
            (":path", "/photos/k"),
            ("origin", "https://www.a.com"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-other"),
        ]));
        assert_eq!(e.bucket.as_deref(), Some("photos"));
        assert_eq!(e.source, Source::Bucket);
        assert!(e.preflight);
        assert_eq!(e.rules.len(), 2);
        assert_eq!(e.rules[0].id.as_deref(), Some("uploads"));
        assert_eq!(
            e.rules[0].verdict,
            Err("requested header \"x-other\" matches no AllowedHeader".into())
        );
        assert_eq!(
            e.rules[1].verdict,
            Err("Origin \"https://www.a.com\" matches no AllowedOrigin".into())
        );
    }

    /// Spec §6: several ACRM lines match no method, but each rule still
    /// says the first condition it fails, the Origin first.
    #[test]
    fn explain_of_several_acrm_lines_checks_the_origin_first() {
        let p = policy();
        let e = p.explain(&req(&[
            (":method", "OPTIONS"),
            (":authority", "h"),
            (":path", "/photos/k"),
            ("origin", "https://www.a.com"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-method", "GET"),
        ]));
        assert_eq!(
            e.rules[0].verdict,
            Err("several Access-Control-Request-Method lines match no AllowedMethod".into())
        );
        assert_eq!(
            e.rules[1].verdict,
            Err("Origin \"https://www.a.com\" matches no AllowedOrigin".into())
        );
    }

    #[test]
    fn explain_of_an_actual_request_checks_its_own_method_and_no_headers() {
        let p = policy();
        let e = p.explain(&req(&[
            (":method", "GET"),
            (":authority", "h"),
            (":path", "/photos/k"),
            ("origin", "https://x.b.com"),
        ]));
        assert!(!e.preflight);
        assert_eq!(
            e.rules[0].verdict,
            Err("Origin \"https://x.b.com\" matches no AllowedOrigin".into())
        );
        assert_eq!(e.rules[1].verdict, Ok(()));
    }

    #[test]
    fn explain_names_the_policy_and_the_entry_that_named_it() {
        let p = Policy::from_json(
            br#"{"policies": {"web": {"CORSRule": [{"AllowedOrigin": ["*"], "AllowedMethod": ["GET"]}]}},
                 "buckets": {"photos": "web"}, "default": "web"}"#,
        )
        .unwrap();
        let e = p.explain(&req(&[
            (":method", "GET"),
            (":authority", "h"),
            (":path", "/photos/k"),
        ]));
        assert_eq!(
            (e.source, e.policy.as_deref()),
            (Source::Bucket, Some("web"))
        );
        let e = p.explain(&req(&[
            (":method", "GET"),
            (":authority", "h"),
            (":path", "/other/k"),
        ]));
        assert_eq!(
            (e.source, e.policy.as_deref()),
            (Source::Default, Some("web"))
        );
        assert_eq!(
            policy()
                .explain(&req(&[
                    (":method", "GET"),
                    (":authority", "h"),
                    (":path", "/photos/k")
                ]))
                .policy,
            None
        );
    }

    #[test]
    fn explain_says_where_rules_come_from() {
        let p = policy();
        let e = p.explain(&req(&[
            (":method", "GET"),
            (":authority", "h"),
            (":path", "/other/k"),
        ]));
        assert_eq!(e.source, Source::Default);
        assert_eq!(e.rules[0].verdict, Err("the request has no Origin".into()));
        let e = p.explain(&req(&[
            (":method", "GET"),
            (":authority", "h"),
            (":path", "/"),
        ]));
        assert_eq!(e.bucket, None);
        assert_eq!(e.source, Source::None);
        assert!(e.rules.is_empty());
    }
}
