//! Shared code of the fuzz targets: the invariant checks every decision of
//! `bucket-cors-core` must pass, and the comparison of a decision with the
//! one reference model of `docs/spec.md` (`bucket_cors_spec::reference`,
//! also the property tests' oracle).
//!
//! Only the core's public API is used here.

use bucket_cors_core::{
    names, Action, AllowOrigin, Decision, Grant, HeaderOp, LocalReply, Outcome, Refusal, Request,
};
use bucket_cors_spec::reference::{self, Expected};

pub mod json;

/// Header lines as Envoy gives them: lower-case names, any bytes.
pub type Lines = Vec<(String, Vec<u8>)>;

/// Builds the core's `Request` from header lines, as the glue does.
pub fn request_from_lines(lines: &[(String, Vec<u8>)]) -> Request<'_> {
    Request::from_headers(lines.iter().map(|(n, v)| (n.as_str(), v.as_slice())))
}

/// Applies header ops as Envoy would: `Remove` drops every line of the name,
/// `Set` replaces every line with one.
pub fn apply_ops(headers: &[(String, Vec<u8>)], ops: &[HeaderOp<'_>]) -> Lines {
    let mut out = headers.to_vec();
    for op in ops {
        match op {
            HeaderOp::Remove(n) => out.retain(|(k, _)| k != n.as_ref()),
            HeaderOp::Set(n, v) => {
                out.retain(|(k, _)| k != n);
                out.push((n.to_string(), v.as_bytes().to_vec()));
            }
        }
    }
    out
}

/// Decides `request` with the core and checks the decision: the invariants
/// of [`check_invariants`], then agreement with the reference model for
/// `config`, the configuration the core compiled.
pub fn check_request(
    policy: &bucket_cors_core::Policy,
    config: &reference::Config,
    request: &[(String, Vec<u8>)],
    upstream: &[(String, Vec<u8>)],
) {
    let origins: Vec<&[u8]> = request
        .iter()
        .filter(|(n, _)| n == "origin")
        .map(|(_, v)| v.as_slice())
        .collect();
    let decision = policy.decide(&request_from_lines(request));
    let after = check_invariants(&decision, &origins, upstream);
    let expected = reference::decide(config, request);
    check_against_reference(&decision.action, &expected, upstream, after.as_deref());
    if let Some(reported) = &decision.reported {
        let enforcing = reference::decide_enforcing(config, request);
        let after = match reported {
            Action::Forward(plan) => Some(apply_ops(
                upstream,
                &plan.header_ops(upstream.iter().map(|(n, v)| (n.as_str(), v.as_slice()))),
            )),
            _ => None,
        };
        check_against_reference(reported, &enforcing, upstream, after.as_deref());
    }
}

// ----------------------------------------------------------- invariants

/// Checks that hold for every decision, whatever the policy (spec §3.6,
/// §3.7, §4.2, §4.4): ACAO is `*` or the request's Origin byte for byte; ACAC
/// never goes with `*`; no header appears twice in a local reply; after the
/// response edits each owned header appears at most once and none of the
/// upstream's survives unless the filter set it. Returns the edited
/// response headers of a forwarded request.
pub fn check_invariants(
    decision: &Decision,
    origins: &[&[u8]],
    upstream: &[(String, Vec<u8>)],
) -> Option<Lines> {
    let nonempty: Vec<&[u8]> = origins.iter().copied().filter(|o| !o.is_empty()).collect();
    let single_origin: Option<&[u8]> = (nonempty.len() == 1).then(|| nonempty[0]);
    check_outcome(decision, !nonempty.is_empty());
    match &decision.action {
        Action::Ignore => None,
        Action::Reply(reply) => {
            check_reply(reply, single_origin);
            None
        }
        Action::Forward(plan) => {
            if let Some(Grant { allow_origin, .. }) = &plan.grant {
                let origin = single_origin.expect("a grant without a single Origin");
                if let AllowOrigin::Echo(o) = allow_origin {
                    assert_eq!(
                        o.as_bytes(),
                        origin,
                        "echoed origin differs from the request's"
                    );
                }
            }
            let ops = plan.header_ops(upstream.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
            let after = apply_ops(upstream, &ops);
            for (name, _) in after.iter().filter(|(k, _)| reference::is_owned(k)) {
                let n = after.iter().filter(|(k, _)| k == name).count();
                assert!(
                    n <= 1,
                    "{name} appears {n} times after header_ops: {after:?}"
                );
                assert!(
                    ops.iter()
                        .any(|op| matches!(op, HeaderOp::Set(k, _) if k == name)),
                    "upstream {name} survived: {after:?}"
                );
            }
            check_cors_pair(
                after.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
                single_origin,
            );
            if plan.grant.is_none() {
                assert!(
                    !after
                        .iter()
                        .any(|(k, _)| reference::is_owned(k)),
                    "CORS headers without a grant: {after:?}"
                );
            }
            Some(after)
        }
    }
}

/// The outcome counted is the one the action shows; report-only changes
/// nothing.
fn check_outcome(d: &Decision, has_origin: bool) {
    if d.reported.is_some() {
        assert!(
            matches!(d.action, Action::Ignore),
            "report-only acted: {d:?}"
        );
        assert!(
            d.outcome != Outcome::NotConfigured,
            "report-only without a configuration: {d:?}"
        );
        return;
    }
    let ok = match (&d.action, d.outcome) {
        (Action::Ignore, o) => o == Outcome::NotConfigured,
        (Action::Reply(r), Outcome::PreflightAllowed) => r.status == 200,
        (Action::Reply(r), Outcome::PreflightRefused(why)) => {
            r.status == 403
                && (why == Refusal::NoConfiguration)
                    == String::from_utf8_lossy(&r.body).contains("CORS is not enabled")
        }
        // `upstream_cors: strip`: what no rules govern only loses the upstream's CORS.
        (Action::Forward(p), Outcome::NotConfigured) => !p.is_governed() && p.grant.is_none(),
        (Action::Forward(p), Outcome::ActualMatched) => p.is_governed() && p.grant.is_some(),
        (Action::Forward(p), Outcome::ActualUnmatched) => {
            p.is_governed() && p.grant.is_none() && has_origin
        }
        (Action::Forward(p), Outcome::NoOrigin) => {
            p.is_governed() && p.grant.is_none() && !has_origin
        }
        _ => false,
    };
    assert!(ok, "outcome does not fit the action: {d:?}");
}

/// ACAO is `*` or the Origin (byte-equal); ACAC only `true` and only with an
/// echoed Origin.
fn check_cors_pair<'a>(
    headers: impl Iterator<Item = (&'a str, &'a [u8])> + Clone,
    origin: Option<&[u8]>,
) {
    let acao: Vec<&[u8]> = headers
        .clone()
        .filter(|(k, _)| *k == names::ACAO)
        .map(|(_, v)| v)
        .collect();
    let acac: Vec<&[u8]> = headers
        .filter(|(k, _)| *k == names::ACAC)
        .map(|(_, v)| v)
        .collect();
    for v in &acao {
        assert!(
            *v == b"*" || Some(*v) == origin,
            "ACAO {:?} is neither * nor the Origin {:?}",
            String::from_utf8_lossy(v),
            origin.map(String::from_utf8_lossy)
        );
    }
    if !acac.is_empty() {
        assert_eq!(acac, vec![&b"true"[..]], "ACAC values");
        assert!(
            acao.len() == 1 && acao[0] != b"*",
            "ACAC with ACAO {acao:?}"
        );
    }
}

fn check_reply(reply: &LocalReply, origin: Option<&[u8]>) {
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in &reply.headers {
        assert!(!seen.contains(k), "{k} twice in a local reply: {reply:?}");
        seen.push(k);
    }
    check_cors_pair(
        reply.headers.iter().map(|(k, v)| (*k, v.as_bytes())),
        origin,
    );
    match reply.status {
        200 => assert!(reply.body.is_empty()),
        403 => {
            assert!(
                !reply
                    .headers
                    .iter()
                    .any(|(k, _)| k.starts_with("access-control-")),
                "403 with CORS headers: {reply:?}"
            );
            // The XML document keeps its shape whatever the request held.
            let body = std::str::from_utf8(&reply.body).expect("403 body is UTF-8");
            assert_eq!(body.matches('<').count(), 11, "403 body shape: {body}");
            assert_eq!(body.matches('>').count(), 11, "403 body shape: {body}");
            assert!(
                !body
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t'),
                "control character in the 403 body: {body:?}"
            );
        }
        s => panic!("unexpected status {s}"),
    }
}

// ------------------------------------------------------------ reference

/// Whether the core's action is one the reference allows: a local reply's
/// status, exact headers in order and (where the spec fixes it) body; a
/// forwarded request's grant (rule index, `*` or echo) and its response
/// headers after `header_ops`. Panics with both when none agrees.
pub fn check_against_reference(
    action: &Action,
    expected: &[Expected],
    upstream: &[(String, Vec<u8>)],
    after: Option<&[(String, Vec<u8>)]>,
) {
    let agrees = |e: &Expected| match (action, e) {
        (Action::Ignore, Expected::Ignore) => true,
        (Action::Reply(got), Expected::Reply(want)) => {
            let headers: Vec<(String, String)> = got
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            got.status == want.status
                && headers == want.headers
                && want
                    .body
                    .as_ref()
                    .is_none_or(|body| body.as_bytes() == got.body.as_slice())
        }
        (Action::Forward(plan), Expected::Forward(want)) => {
            let grant = plan.grant.as_ref().map(|g| {
                let origin = match &g.allow_origin {
                    AllowOrigin::Any => reference::AllowOrigin::Any,
                    AllowOrigin::Echo(o) => reference::AllowOrigin::Echo(o.clone()),
                };
                (g.rule, origin)
            });
            let want_grant = want
                .grant
                .as_ref()
                .map(|g| (g.rule, g.allow_origin.clone()));
            grant == want_grant
                && after
                    .is_some_and(|after| reference::same_response(after, &want.response(upstream)))
        }
        _ => false,
    };
    if !expected.iter().any(agrees) {
        panic!(
            "decision differs from the reference\n  got: {action:?}\n  after header_ops: {after:?}\n  reference allows: {expected:#?}"
        );
    }
}
