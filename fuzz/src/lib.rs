//! Shared code of the fuzz targets: an independent, deliberately naive
//! reference of `docs/spec.md` (origin well-formedness, the single-`*`
//! grammar, ACRH parsing, rule selection) and the invariant checks that every
//! decision of `bucket-cors-core` must pass.
//!
//! Nothing here uses the core's internals: only its public API. The reference
//! is written from the spec, not from the implementation, and favours being
//! obviously right over being fast.

use bucket_cors_core::{
    names, Action, AllowOrigin, Decision, Grant, HeaderOp, LocalReply, Outcome, Policy, Refusal,
    Request,
};

pub mod json;

// ------------------------------------------------------------ the grammar

/// Spec §5: `scheme "://" host [":" port]`, scheme a letter then letters,
/// digits, `+ - .`; host letters, digits, `-`, `.` or a bracketed IPv6
/// literal (hex digits, `:`, `.`); port 1 to 5 digits; at most 2 KiB.
pub fn well_formed(origin: &[u8]) -> bool {
    if origin.is_empty() || origin.len() > 2048 {
        return false;
    }
    let Ok(s) = std::str::from_utf8(origin) else {
        return false;
    };
    match split_origin(s) {
        Some((scheme, host, port)) => {
            is_scheme(scheme) && is_host(host) && port.is_none_or(is_port)
        }
        None => false,
    }
}

/// `scheme "://" host [":" port]` split at its separators: the first `://`,
/// then a bracketed host up to its `]`, or a host up to the first `:`.
pub fn split_origin(s: &str) -> Option<(&str, &str, Option<&str>)> {
    let (scheme, rest) = s.split_once("://")?;
    let (host, tail) = if rest.starts_with('[') {
        rest.split_at(rest.find(']')? + 1)
    } else {
        rest.split_at(rest.find(':').unwrap_or(rest.len()))
    };
    match tail {
        "" => Some((scheme, host, None)),
        t => Some((scheme, host, Some(t.strip_prefix(':')?))),
    }
}

pub fn is_scheme(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
}

/// Letters, digits, `-` and `.`, or `[` hex digits, `:` and `.` `]`.
pub fn is_host(s: &str) -> bool {
    match s.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(inner) => {
            !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        }
        None => {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        }
    }
}

pub fn is_port(s: &str) -> bool {
    (1..=5).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit())
}

/// `text` matches `pattern` (at most one `*`, standing for any run of
/// characters, anchored at both ends). Both already lower-cased.
pub fn star_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((pre, suf)) => {
            text.len() >= pre.len() + suf.len() && text.starts_with(pre) && text.ends_with(suf)
        }
    }
}

/// How one `AllowedOrigin` entry treats one (single, non-empty) Origin value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefOrigin {
    No,
    /// The pattern `*`: answer `*`.
    Any,
    /// A listed pattern: echo the Origin with credentials.
    Listed,
}

/// Spec §5: `*` matches every non-empty Origin; any other pattern only a
/// well-formed origin, ASCII case-insensitively.
pub fn ref_origin(pattern: &str, origin: &[u8]) -> RefOrigin {
    if origin.is_empty() {
        return RefOrigin::No;
    }
    if pattern == "*" {
        return RefOrigin::Any;
    }
    if !well_formed(origin) {
        return RefOrigin::No;
    }
    let origin = std::str::from_utf8(origin).unwrap().to_ascii_lowercase();
    if star_match(&pattern.to_ascii_lowercase(), &origin) {
        RefOrigin::Listed
    } else {
        RefOrigin::No
    }
}

/// RFC 9110 token.
pub fn is_token(s: &[u8]) -> bool {
    const TCHAR_PUNCT: &[u8] = b"!#$%&'*+-.^_`|~";
    !s.is_empty()
        && s.iter()
            .all(|c| c.is_ascii_alphanumeric() || TCHAR_PUNCT.contains(c))
}

/// One `AllowedHeader` entry against one requested (lower-case) name.
pub fn ref_header(pattern: &str, name: &str) -> bool {
    pattern == "*" || star_match(&pattern.to_ascii_lowercase(), name)
}

/// Spec §3.3 and §5: the ACRH lines as one list, split on `,`, items trimmed
/// of spaces and tabs, empties dropped, lower-cased; `None` when the list
/// fails the preflight (non-token, more than 64 items, more than 4 KiB).
pub fn ref_acrh(lines: &[&[u8]]) -> Option<Vec<String>> {
    let joined = lines.join(&b","[..]);
    if joined.len() > 4096 {
        return None;
    }
    let mut out = Vec::new();
    for item in joined.split(|&c| c == b',') {
        let mut item = item;
        while let [b' ' | b'\t', rest @ ..] = item {
            item = rest;
        }
        while let [rest @ .., b' ' | b'\t'] = item {
            item = rest;
        }
        if item.is_empty() {
            continue;
        }
        if !is_token(item) {
            return None;
        }
        out.push(String::from_utf8(item.to_ascii_lowercase()).unwrap());
    }
    (out.len() <= 64).then_some(out)
}

/// Spec §1, names only: 1 to 255 characters of `a-z 0-9 . - _`.
pub fn is_bucket_name(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b".-_".contains(&c))
}

// ------------------------------------------------------- a policy as data

/// One rule of a fixed policy, as data the reference reads and as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    pub origins: &'static [&'static str],
    pub methods: &'static [&'static str],
    pub headers: &'static [&'static str],
    pub expose: &'static [&'static str],
    pub max_age: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct CorsSpec {
    pub rules: Vec<RuleSpec>,
    pub vary: bool,
    /// `Mode: report`: decide and count, change nothing.
    pub report: bool,
}

#[derive(Debug, Clone)]
pub struct PolicySpec {
    pub endpoints: &'static [&'static str],
    pub path_style: bool,
    pub buckets: Vec<(&'static str, CorsSpec)>,
    pub default: Option<CorsSpec>,
    pub forward_unmatched: bool,
}

fn json_list(items: &[&str]) -> String {
    let v: Vec<String> = items
        .iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect();
    format!("[{}]", v.join(","))
}

impl CorsSpec {
    fn to_json(&self) -> String {
        let rules: Vec<String> = self
            .rules
            .iter()
            .map(|r| {
                let mut s = format!(
                    "{{\"AllowedOrigin\":{},\"AllowedMethod\":{},\"AllowedHeader\":{},\"ExposeHeader\":{}",
                    json_list(r.origins),
                    json_list(r.methods),
                    json_list(r.headers),
                    json_list(r.expose)
                );
                if let Some(a) = r.max_age {
                    s.push_str(&format!(",\"MaxAgeSeconds\":{a}"));
                }
                s.push('}');
                s
            })
            .collect();
        format!(
            "{{\"CORSRule\":[{}],\"ResponseVary\":{},\"Mode\":\"{}\"}}",
            rules.join(","),
            self.vary,
            if self.report { "report" } else { "enforce" }
        )
    }
}

impl PolicySpec {
    pub fn to_json(&self) -> String {
        let buckets: Vec<String> = self
            .buckets
            .iter()
            .map(|(n, c)| format!("{}:{}", serde_json::to_string(n).unwrap(), c.to_json()))
            .collect();
        format!(
            "{{\"endpoints\":{},\"path_style\":{},\"buckets\":{{{}}},\"default\":{},\"unmatched_preflight\":\"{}\"}}",
            json_list(self.endpoints),
            self.path_style,
            buckets.join(","),
            self.default.as_ref().map_or("null".to_string(), |c| c.to_json()),
            if self.forward_unmatched { "forward" } else { "reject" }
        )
    }

    pub fn compile(&self) -> Policy {
        let json = self.to_json();
        Policy::from_json(json.as_bytes())
            .unwrap_or_else(|e| panic!("fixed fuzz policy refused: {e}\n{json}"))
    }

    /// The configuration of a resolved bucket: listed, else `default`.
    pub fn cors_of(&self, bucket: &str) -> Option<&CorsSpec> {
        self.buckets
            .iter()
            .find(|(n, _)| *n == bucket)
            .map(|(_, c)| c)
            .or(self.default.as_ref())
    }
}

// ---------------------------------------------------- bucket resolution

/// What the spec says about the bucket a request addresses: `Known(None)` is
/// no bucket; `Unclear` is a request the spec leaves open (a host or path the
/// spec does not describe: percent-escapes, odd bytes, a trailing dot...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Known(Option<String>),
    Unclear,
}

/// Spec §1, `endpoints` and `path_style`, only for the plain cases.
pub fn ref_resolve(spec: &PolicySpec, authority: &[u8], path: &[u8]) -> Resolved {
    if !spec.endpoints.is_empty() {
        let Ok(a) = std::str::from_utf8(authority) else {
            return Resolved::Unclear;
        };
        let (host, port) = match a.find(':') {
            Some(i) => (&a[..i], &a[i + 1..]),
            None => (a, ""),
        };
        if !port.bytes().all(|c| c.is_ascii_digit())
            || !host
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b".-_".contains(&c))
            || host.ends_with('.')
        {
            return Resolved::Unclear;
        }
        let host = host.to_ascii_lowercase();
        let longest = spec
            .endpoints
            .iter()
            .filter(|e| host.len() > e.len() + 1 && host.ends_with(&format!(".{e}")))
            .max_by_key(|e| e.len());
        if let Some(e) = longest {
            let bucket = &host[..host.len() - e.len() - 1];
            return if is_bucket_name(bucket) && bucket != "." && bucket != ".." {
                Resolved::Known(Some(bucket.to_string()))
            } else {
                Resolved::Unclear
            };
        }
    }
    if !spec.path_style {
        return Resolved::Known(None);
    }
    let Some(rest) = path.strip_prefix(b"/") else {
        return Resolved::Unclear;
    };
    let end = rest
        .iter()
        .position(|&c| c == b'/' || c == b'?')
        .unwrap_or(rest.len());
    let seg = &rest[..end];
    if seg.is_empty() {
        return Resolved::Known(None);
    }
    match std::str::from_utf8(seg) {
        Ok(s) if is_bucket_name(s) && s != "." && s != ".." => Resolved::Known(Some(s.to_string())),
        _ => Resolved::Unclear,
    }
}

// ------------------------------------------------------------- decision

/// The reference outcome of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Ignore,
    /// A local reply: status, exact headers; `not_enabled` tells the 403's message.
    Reply {
        status: u32,
        headers: Vec<(String, String)>,
        not_enabled: bool,
    },
    /// Forwarded; the grant and what the response edits will be made of.
    Forward {
        grant: Option<(usize, AllowOrigin)>,
        rule: Option<RuleSpec>,
        vary: bool,
    },
}

/// The header lines of a request, as the fuzz targets feed them.
pub struct RefRequest<'a> {
    pub method: &'a [u8],
    pub origins: Vec<&'a [u8]>,
    pub acrm: Vec<&'a [u8]>,
    pub acrh: Vec<&'a [u8]>,
}

const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

fn forbidden(not_enabled: bool) -> Expected {
    Expected::Reply {
        status: 403,
        headers: vec![
            ("content-type".into(), "application/xml".into()),
            ("vary".into(), PREFLIGHT_VARY.into()),
        ],
        not_enabled,
    }
}

/// The origin of a rule for one Origin: a listed match wins over `*`.
fn rule_origin(rule: &RuleSpec, origin: &[u8]) -> Option<AllowOrigin> {
    let m: Vec<RefOrigin> = rule.origins.iter().map(|p| ref_origin(p, origin)).collect();
    if m.contains(&RefOrigin::Listed) {
        Some(AllowOrigin::Echo(
            String::from_utf8(origin.to_vec()).unwrap(),
        ))
    } else if m.contains(&RefOrigin::Any) {
        Some(AllowOrigin::Any)
    } else {
        None
    }
}

/// Spec §2–§4 for a request whose bucket is `bucket`.
pub fn ref_decide(spec: &PolicySpec, bucket: Option<&str>, req: &RefRequest<'_>) -> Expected {
    let Some(bucket) = bucket else {
        return Expected::Ignore;
    };
    let origins: Vec<&[u8]> = req
        .origins
        .iter()
        .copied()
        .filter(|o| !o.is_empty())
        .collect();
    let preflight = req.method == b"OPTIONS" && !origins.is_empty() && !req.acrm.is_empty();
    let Some(cors) = spec.cors_of(bucket) else {
        return if preflight && !spec.forward_unmatched {
            forbidden(true)
        } else {
            Expected::Ignore
        };
    };
    if cors.report {
        return Expected::Ignore;
    }
    // Several Origin (or ACRM) lines: browsers never send that; no rule matches.
    // Envoy joins repeated lines with a comma, which no origin holds.
    let origin = (origins.len() == 1 && !origins[0].contains(&b',')).then(|| origins[0]);
    if preflight {
        let (Some(origin), [acrm]) = (origin, req.acrm.as_slice()) else {
            return forbidden(false);
        };
        let Some(requested) = ref_acrh(&req.acrh) else {
            return forbidden(false);
        };
        for rule in &cors.rules {
            if !rule.methods.iter().any(|m| m.as_bytes() == *acrm)
                || !requested
                    .iter()
                    .all(|h| rule.headers.iter().any(|p| ref_header(p, h)))
            {
                continue;
            }
            let Some(allow) = rule_origin(rule, origin) else {
                continue;
            };
            let mut headers: Vec<(String, String)> = Vec::new();
            match allow {
                AllowOrigin::Any => headers.push((names::ACAO.into(), "*".into())),
                AllowOrigin::Echo(o) => {
                    headers.push((names::ACAO.into(), o));
                    headers.push((names::ACAC.into(), "true".into()));
                }
            }
            headers.push((names::ACAM.into(), rule.methods.join(", ")));
            if !requested.is_empty() {
                headers.push((names::ACAH.into(), requested.join(", ")));
            }
            if !rule.expose.is_empty() {
                headers.push((names::ACEH.into(), rule.expose.join(", ")));
            }
            if let Some(a) = rule.max_age {
                headers.push((names::ACMA.into(), a.to_string()));
            }
            headers.push(("vary".into(), PREFLIGHT_VARY.into()));
            return Expected::Reply {
                status: 200,
                headers,
                not_enabled: false,
            };
        }
        return forbidden(false);
    }
    let grant = origin.and_then(|origin| {
        cors.rules.iter().enumerate().find_map(|(i, rule)| {
            if !rule.methods.iter().any(|m| m.as_bytes() == req.method) {
                return None;
            }
            rule_origin(rule, origin).map(|a| (i, a, rule.clone()))
        })
    });
    Expected::Forward {
        rule: grant.as_ref().map(|g| g.2.clone()),
        grant: grant.map(|(i, a, _)| (i, a)),
        vary: cors.vary,
    }
}

/// Every outcome the spec allows for this request: one when the bucket is
/// clear, else the outcome of each possible resolution.
pub fn ref_outcomes(
    spec: &PolicySpec,
    authority: &[u8],
    path: &[u8],
    req: &RefRequest<'_>,
) -> Vec<Expected> {
    match ref_resolve(spec, authority, path) {
        Resolved::Known(b) => vec![ref_decide(spec, b.as_deref(), req)],
        Resolved::Unclear => {
            let mut v = vec![ref_decide(spec, None, req)];
            for (n, _) in &spec.buckets {
                v.push(ref_decide(spec, Some(n), req));
            }
            v.push(ref_decide(spec, Some("zz-not-listed"), req));
            v
        }
    }
}

// ------------------------------------------------------- response edits

/// Applies header ops as Envoy would: `Remove` drops every line of the name,
/// `Set` replaces every line with one.
pub fn apply_ops(headers: &[(String, Vec<u8>)], ops: &[HeaderOp<'_>]) -> Vec<(String, Vec<u8>)> {
    let mut out = headers.to_vec();
    for op in ops {
        match op {
            HeaderOp::Remove(n) => out.retain(|(k, _)| k != n),
            HeaderOp::Set(n, v) => {
                out.retain(|(k, _)| k != n);
                out.push((n.to_string(), v.as_bytes().to_vec()));
            }
        }
    }
    out
}

/// The response headers the spec asks for (§4.2), from the upstream's.
pub fn ref_response(
    upstream: &[(String, Vec<u8>)],
    grant: Option<&(usize, AllowOrigin)>,
    rule: Option<&RuleSpec>,
    vary: bool,
) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = upstream
        .iter()
        .filter(|(k, _)| !names::OWNED.contains(&k.as_str()))
        .cloned()
        .collect();
    if let (Some((_, allow)), Some(rule)) = (grant, rule) {
        match allow {
            AllowOrigin::Any => out.push((names::ACAO.into(), b"*".to_vec())),
            AllowOrigin::Echo(o) => {
                out.push((names::ACAO.into(), o.as_bytes().to_vec()));
                out.push((names::ACAC.into(), b"true".to_vec()));
            }
        }
        out.push((names::ACAM.into(), rule.methods.join(", ").into_bytes()));
        if !rule.expose.is_empty() {
            out.push((names::ACEH.into(), rule.expose.join(", ").into_bytes()));
        }
        if let Some(a) = rule.max_age {
            out.push((names::ACMA.into(), a.to_string().into_bytes()));
        }
    }
    if vary {
        let members: Vec<&[u8]> = upstream
            .iter()
            .filter(|(k, _)| k == "vary")
            .flat_map(|(_, v)| v.split(|&c| c == b','))
            .map(|m| m.trim_ascii())
            .filter(|m| !m.is_empty())
            .collect();
        if !members
            .iter()
            .any(|m| *m == b"*" || m.eq_ignore_ascii_case(b"origin"))
        {
            out.retain(|(k, _)| k != "vary");
            let mut v: Vec<String> = members
                .iter()
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .collect();
            v.push("Origin".into());
            out.push(("vary".into(), v.join(", ").into_bytes()));
        }
    }
    out
}

fn sorted(mut v: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    v.sort();
    v
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
) -> Option<Vec<(String, Vec<u8>)>> {
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
            for name in names::OWNED {
                let n = after.iter().filter(|(k, _)| k == name).count();
                assert!(
                    n <= 1,
                    "{name} appears {n} times after header_ops: {after:?}"
                );
                if n == 1 {
                    assert!(
                        ops.iter()
                            .any(|op| matches!(op, HeaderOp::Set(k, _) if *k == name)),
                        "upstream {name} survived: {after:?}"
                    );
                }
            }
            check_cors_pair(
                after.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
                single_origin,
            );
            if plan.grant.is_none() {
                assert!(
                    !after
                        .iter()
                        .any(|(k, _)| names::OWNED.contains(&k.as_str())),
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
        (Action::Forward(p), Outcome::ActualMatched) => p.grant.is_some(),
        (Action::Forward(p), Outcome::ActualUnmatched) => p.grant.is_none() && has_origin,
        (Action::Forward(p), Outcome::NoOrigin) => p.grant.is_none() && !has_origin,
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

/// Compares the core's decision with the reference outcomes; panics with
/// both when none agrees.
pub fn check_against_reference(
    decision: &Decision,
    expected: &[Expected],
    upstream: &[(String, Vec<u8>)],
    after: Option<&[(String, Vec<u8>)]>,
) {
    let action = &decision.action;
    let agrees = |e: &Expected| match (action, e) {
        (Action::Ignore, Expected::Ignore) => true,
        (
            Action::Reply(r),
            Expected::Reply {
                status,
                headers,
                not_enabled,
            },
        ) => {
            let got: Vec<(String, String)> = r
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            r.status == *status
                && got == *headers
                && (*status != 403
                    || String::from_utf8_lossy(&r.body).contains("CORS is not enabled")
                        == *not_enabled)
        }
        (Action::Forward(plan), Expected::Forward { grant, rule, vary }) => {
            let got = plan
                .grant
                .as_ref()
                .map(|g| (g.rule, g.allow_origin.clone()));
            got == *grant
                && after.is_some_and(|after| {
                    sorted(after.to_vec())
                        == sorted(ref_response(upstream, grant.as_ref(), rule.as_ref(), *vary))
                })
        }
        _ => false,
    };
    if !expected.iter().any(agrees) {
        panic!(
            "decision differs from the reference\n  got: {decision:?}\n  after header_ops: {after:?}\n  reference allows: {expected:#?}"
        );
    }
}

/// Builds the core's `Request` from header lines, as the glue does.
pub fn request_from_lines(lines: &[(String, Vec<u8>)]) -> Request<'_> {
    Request::from_headers(lines.iter().map(|(n, v)| (n.as_str(), v.as_slice())))
}
