//! The reference model of `docs/spec.md`: what the filter must do with one
//! request, given a configuration. The oracle of the property tests and of
//! both fuzz targets, so it is written from the spec alone, never from the
//! filter's code, and favours being obviously right over being fast: every
//! function is a direct reading of one sentence of the spec, cited by
//! section.
//!
//! Where the spec does not say which bucket an odd request addresses (a
//! host or path it does not describe), [`decide`] returns the decision for
//! every bucket the request could address, and a decision is right when it
//! is one of them.

use crate::{body_403, names, refusal, MSG_NOT_ALLOWED, MSG_NOT_ENABLED, PREFLIGHT_VARY};

// ------------------------------------------------------------ configuration

/// One `CORSRule` (spec §1), already valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    pub origins: Vec<String>,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub expose: Vec<String>,
    pub max_age: Option<u32>,
}

/// A bucket's `Mode` (spec §6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Enforce,
    Report,
}

/// One CORS configuration: `CORSRule`, `ResponseVary`, `Mode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    pub rules: Vec<Rule>,
    pub vary: bool,
    pub mode: Mode,
}

impl Cors {
    /// Rules with the spec's defaults: `ResponseVary: true`, enforcing.
    pub fn new(rules: Vec<Rule>) -> Self {
        Cors {
            rules,
            vary: true,
            mode: Mode::Enforce,
        }
    }
}

/// `unmatched_preflight` (spec §1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unmatched {
    #[default]
    Reject,
    Forward,
}

/// The plugin configuration (spec §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub endpoints: Vec<String>,
    pub path_style: bool,
    pub buckets: Vec<(String, Cors)>,
    pub default: Option<Cors>,
    pub unmatched_preflight: Unmatched,
    /// `upstream_cors`: `true` for `"strip"` (the default, §2.4), `false` for `"pass"`.
    pub strip_upstream_cors: bool,
    /// `debug_headers` (§6): a refused preflight names its reason.
    pub debug_headers: bool,
}

impl Default for Config {
    /// Spec §1's defaults: no endpoint, path style on, no bucket.
    fn default() -> Self {
        Config {
            endpoints: Vec::new(),
            path_style: true,
            buckets: Vec::new(),
            default: None,
            unmatched_preflight: Unmatched::Reject,
            strip_upstream_cors: true,
            debug_headers: false,
        }
    }
}

impl Config {
    /// Spec §2.2: the bucket's own configuration, else `default`.
    pub fn cors_of(&self, bucket: &str) -> Option<&Cors> {
        self.buckets
            .iter()
            .find(|(name, _)| name == bucket)
            .map(|(_, cors)| cors)
            .or(self.default.as_ref())
    }

    /// The configuration as the plugin's JSON (spec §1), for the filter
    /// under test to compile.
    pub fn to_json(&self) -> String {
        let buckets: Vec<String> = self
            .buckets
            .iter()
            .map(|(name, cors)| format!("{}:{}", json_string(name), cors.to_json()))
            .collect();
        format!(
            "{{\"endpoints\":{},\"path_style\":{},\"buckets\":{{{}}},\"default\":{},\"unmatched_preflight\":{},\"upstream_cors\":{},\"debug_headers\":{}}}",
            json_list(&self.endpoints),
            self.path_style,
            buckets.join(","),
            self.default.as_ref().map_or("null".to_string(), Cors::to_json),
            match self.unmatched_preflight {
                Unmatched::Reject => "\"reject\"",
                Unmatched::Forward => "\"forward\"",
            },
            if self.strip_upstream_cors {
                "\"strip\""
            } else {
                "\"pass\""
            },
            self.debug_headers
        )
    }
}

impl Cors {
    fn to_json(&self) -> String {
        let rules: Vec<String> = self.rules.iter().map(Rule::to_json).collect();
        let mode = match self.mode {
            Mode::Enforce => "enforce",
            Mode::Report => "report",
        };
        format!(
            "{{\"CORSRule\":[{}],\"ResponseVary\":{},\"Mode\":\"{mode}\"}}",
            rules.join(","),
            self.vary
        )
    }
}

impl Rule {
    fn to_json(&self) -> String {
        let max_age = self
            .max_age
            .map_or(String::new(), |a| format!(",\"MaxAgeSeconds\":{a}"));
        format!(
            "{{\"AllowedOrigin\":{},\"AllowedMethod\":{},\"AllowedHeader\":{},\"ExposeHeader\":{}{max_age}}}",
            json_list(&self.origins),
            json_list(&self.methods),
            json_list(&self.headers),
            json_list(&self.expose)
        )
    }
}

fn json_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| json_string(s)).collect();
    format!("[{}]", items.join(","))
}

/// A JSON string literal (RFC 8259: `"`, `\` and controls escaped).
pub fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ------------------------------------------------------------ grammar

/// Spec §5: `*` in a pattern stands for any run of characters; the pattern
/// is anchored at both ends. Compare lower-cased text.
pub fn star_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((before, after)) => {
            text.len() >= before.len() + after.len()
                && text.starts_with(before)
                && text.ends_with(after)
        }
    }
}

/// `scheme "://" host [":" port]` cut at its separators: the first `://`,
/// then a bracketed host up to its `]`, or a host up to the first `:`.
pub fn split_origin(s: &str) -> Option<(&str, &str, Option<&str>)> {
    let (scheme, rest) = s.split_once("://")?;
    let host_end = if rest.starts_with('[') {
        rest.find(']')? + 1
    } else {
        rest.find(':').unwrap_or(rest.len())
    };
    let (host, tail) = rest.split_at(host_end);
    match tail {
        "" => Some((scheme, host, None)),
        tail => Some((scheme, host, Some(tail.strip_prefix(':')?))),
    }
}

/// Spec §5: a letter, then letters, digits, `+ - .`.
pub fn is_scheme(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// Spec §5: letters, digits, `-` and `.`, or an IPv6 literal in brackets.
pub fn is_host(s: &str) -> bool {
    match s.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(v6) => {
            !v6.is_empty()
                && v6
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || ":.".contains(c))
        }
        None => {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c))
        }
    }
}

/// Spec §1: whether an `AllowedOrigin` pattern puts its `*` over an IP
/// address, which has no subdomains: inside an IPv6 literal, or followed
/// in the host by digits and dots only (at least one digit), which could be
/// the tail of an IPv4 address.
pub fn wildcard_over_ip_address(pattern: &str) -> bool {
    let Some((_, host, _)) = split_origin(pattern) else {
        return false;
    };
    let Some((_, after)) = host.split_once('*') else {
        return false;
    };
    host.starts_with('[')
        || (after.contains(|c: char| c.is_ascii_digit())
            && after.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// Spec §5: 1 to 5 digits.
pub fn is_port(s: &str) -> bool {
    (1..=5).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit())
}

/// Spec §5: a well-formed serialized origin, at most 2 KiB.
pub fn is_serialized_origin(origin: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(origin) else {
        return false;
    };
    s.len() <= 2048
        && split_origin(s).is_some_and(|(scheme, host, port)| {
            is_scheme(scheme) && is_host(host) && port.is_none_or(is_port)
        })
}

/// RFC 9110 token (spec §1 `AllowedHeader`, §5 ACRH items).
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// Spec §1: 1 to 255 characters of `a-z 0-9 . - _`; spec §6: not `.`
/// nor `..`.
pub fn is_bucket_name(s: &[u8]) -> bool {
    (1..=255).contains(&s.len())
        && s.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b".-_".contains(c))
        && s != b"."
        && s != b".."
}

/// Spec §3.3 and §5: the ACRH lines as one list (Envoy joins repeated lines
/// with `,`), split on `,`, items trimmed of spaces and tabs, empty items
/// dropped, lower-cased. `None` when the list fails the preflight: more
/// than 4 KiB, an item that is not a token, more than 64 items.
pub fn requested_headers(lines: &[&[u8]]) -> Option<Vec<String>> {
    let list = lines.join(&b","[..]);
    if list.len() > 4096 {
        return None;
    }
    let list = std::str::from_utf8(&list).ok()?;
    let mut out = Vec::new();
    for item in list.split(',') {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() {
            continue;
        }
        if !is_token(item) {
            return None;
        }
        out.push(item.to_ascii_lowercase());
    }
    (out.len() <= 64).then_some(out)
}

// ------------------------------------------------------------ bucket

/// The bucket a request addresses (spec §1, §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressed {
    Bucket(String),
    NoBucket,
    /// The spec does not describe this host or path.
    Unclear,
}

/// Spec §1 `endpoints` and `path_style`, §6 path style and trailing dot.
pub fn resolve(config: &Config, authority: &[u8], path: &[u8]) -> Addressed {
    if !config.endpoints.is_empty() {
        let Some(host) = host_of(authority) else {
            return Addressed::Unclear;
        };
        // §6: a host that is itself an endpoint is path style, even when a
        // shorter endpoint is its suffix.
        let is_endpoint = config.endpoints.contains(&host);
        let longest = config
            .endpoints
            .iter()
            .filter(|e| {
                !is_endpoint && host.len() > e.len() + 1 && host.ends_with(&format!(".{e}"))
            })
            .max_by_key(|e| e.len());
        if let Some(endpoint) = longest {
            let bucket = &host[..host.len() - endpoint.len() - 1];
            return if is_bucket_name(bucket.as_bytes()) {
                Addressed::Bucket(bucket.to_string())
            } else {
                Addressed::Unclear
            };
        }
    }
    if !config.path_style {
        return Addressed::NoBucket;
    }
    path_bucket(path)
}

/// The host of `:authority`: port removed, lower-cased, a trailing dot
/// dropped; `None` when the spec does not say what the host is.
fn host_of(authority: &[u8]) -> Option<String> {
    let a = std::str::from_utf8(authority).ok()?;
    let host = if a.starts_with('[') {
        // An IPv6 literal: never `<bucket>.<endpoint>`.
        let end = a.find(']')? + 1;
        match &a[end..] {
            "" => &a[..end],
            port if port.strip_prefix(':').is_some_and(is_port) => &a[..end],
            _ => return None,
        }
    } else {
        match a.split_once(':') {
            None => a,
            Some((host, port)) if is_port(port) => host,
            Some(_) => return None,
        }
    };
    let host = host.to_ascii_lowercase();
    Some(host.strip_suffix('.').unwrap_or(&host).to_string())
}

/// Spec §1 and §6: the first path segment, percent-decoded; empty, not a
/// bucket name, or with an invalid escape: no bucket.
fn path_bucket(path: &[u8]) -> Addressed {
    let Some(rest) = path.strip_prefix(b"/") else {
        return Addressed::Unclear;
    };
    let segment = rest
        .split(|c| *c == b'/' || *c == b'?')
        .next()
        .unwrap_or(b"");
    if segment.contains(&b'#') {
        return Addressed::Unclear;
    }
    match percent_decode(segment) {
        Some(name) if is_bucket_name(&name) => {
            Addressed::Bucket(String::from_utf8_lossy(&name).into_owned())
        }
        _ => Addressed::NoBucket,
    }
}

fn percent_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((&c, tail)) = rest.split_first() {
        if c == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            out.push(c);
            rest = tail;
        }
    }
    Some(out)
}

// ------------------------------------------------------------ decision

/// What the filter does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// The request and its response are left alone.
    Ignore,
    /// Answered by the filter (spec §3).
    Reply(Reply),
    /// Sent upstream; its response is edited as [`Forward::response`] says.
    Forward(Forward),
}

/// A local reply: status, exact headers in order, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    /// `None` where the spec leaves the body open: a request id or host
    /// that is not text (not UTF-8, or holding control characters).
    pub body: Option<String>,
}

/// `Access-Control-Allow-Origin` of a matched rule (spec §3.6, §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowOrigin {
    Any,
    /// The request's Origin, with credentials.
    Echo(String),
}

/// The rule that matched and the headers it grants (spec §3.6, §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Index of the rule in the bucket's `CORSRule`.
    pub rule: usize,
    pub allow_origin: AllowOrigin,
    /// ACAO, ACAC, ACAM, ACEH, ACMA, in that order, as they apply.
    pub headers: Vec<(String, String)>,
}

/// A forwarded request whose response the filter edits: a configured
/// bucket's, or (§2.4, `upstream_cors: "strip"`) one no rules govern, which
/// only loses the upstream's CORS headers (`grant: None`, `vary: false`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub grant: Option<Grant>,
    /// `ResponseVary`.
    pub vary: bool,
}

/// Whether the filter owns a response header (spec §2.4, §4.2): the whole
/// `Access-Control-Allow-*` family, ACEH and ACMA. Names lower case.
pub fn is_owned(name: &str) -> bool {
    name.starts_with("access-control-allow-") || name == names::ACEH || name == names::ACMA
}

impl Forward {
    /// Spec §4.2: the response headers after the filter, from the
    /// upstream's (names lower case, as Envoy gives them).
    pub fn response(&self, upstream: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = upstream
            .iter()
            .filter(|(name, _)| !is_owned(name))
            .cloned()
            .collect();
        if let Some(grant) = &self.grant {
            out.extend(
                grant
                    .headers
                    .iter()
                    .map(|(n, v)| (n.clone(), v.clone().into_bytes())),
            );
        }
        // §4.2: every member kept in order, `Origin` exactly once, `*` alone.
        let members = vary_members(upstream);
        let origins = members
            .iter()
            .filter(|m| m.eq_ignore_ascii_case("origin"))
            .count();
        let star = members.iter().any(|m| m == "*");
        if self.vary && !star && origins != 1 {
            out.retain(|(name, _)| name != names::VARY);
            let mut merged: Vec<String> = Vec::new();
            for m in members {
                let origin = m.eq_ignore_ascii_case("origin");
                if !origin || !merged.iter().any(|k| k.eq_ignore_ascii_case("origin")) {
                    merged.push(m);
                }
            }
            if origins == 0 {
                merged.push("Origin".to_string());
            }
            out.push((names::VARY.to_string(), merged.join(", ").into_bytes()));
        }
        out
    }
}

/// The members of every `Vary` line, in order, trimmed, empty ones dropped.
/// A member that is not UTF-8 is compared as text (the filter writes header
/// values as text).
pub fn vary_members(headers: &[(String, Vec<u8>)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(name, _)| name == names::VARY)
        .flat_map(|(_, value)| value.split(|c| *c == b','))
        .map(|m| String::from_utf8_lossy(m.trim_ascii()).into_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

/// Two response header lists are the same to a client: the same lines
/// (in any order) besides `Vary`, and the same `Vary` members in order.
pub fn same_response(a: &[(String, Vec<u8>)], b: &[(String, Vec<u8>)]) -> bool {
    let others = |h: &[(String, Vec<u8>)]| {
        let mut v: Vec<(String, Vec<u8>)> = h
            .iter()
            .filter(|(n, _)| n != names::VARY)
            .cloned()
            .collect();
        v.sort();
        v
    };
    others(a) == others(b) && vary_members(a) == vary_members(b)
}

/// What the request says, read from its header lines as Envoy gives them
/// (lower-case names, pseudo-headers included; a repeated pseudo-header,
/// which Envoy never gives, counts by its last line).
struct Lines<'a>(&'a [(String, Vec<u8>)]);

impl<'a> Lines<'a> {
    fn all(&self, name: &str) -> Vec<&'a [u8]> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    fn last(&self, name: &str) -> &'a [u8] {
        self.all(name).last().copied().unwrap_or_default()
    }

    /// Spec §5: an empty `Origin` counts as absent.
    fn origins(&self) -> Vec<&'a [u8]> {
        let mut v = self.all("origin");
        v.retain(|o| !o.is_empty());
        v
    }

    /// The one value of a header that must appear once; `None` for several
    /// lines (spec §6), and Envoy joins several lines into one with `,`,
    /// which neither an origin nor a method holds.
    fn single(values: &[&'a [u8]]) -> Option<&'a [u8]> {
        match values {
            [one] if !one.contains(&b',') => Some(one),
            _ => None,
        }
    }
}

/// Every decision the spec allows for this request: one, except where the
/// spec leaves the bucket open (then one per bucket it could be).
pub fn decide(config: &Config, request: &[(String, Vec<u8>)]) -> Vec<Expected> {
    decide_as(config, request, true)
}

/// As [`decide`], with every bucket enforcing: what a report-only bucket
/// reports it would do (spec §6).
pub fn decide_enforcing(config: &Config, request: &[(String, Vec<u8>)]) -> Vec<Expected> {
    decide_as(config, request, false)
}

fn decide_as(config: &Config, request: &[(String, Vec<u8>)], honour_report: bool) -> Vec<Expected> {
    let lines = Lines(request);
    match resolve(config, lines.last(":authority"), lines.last(":path")) {
        Addressed::Bucket(b) => vec![decide_for(config, Some(&b), &lines, honour_report)],
        Addressed::NoBucket => vec![decide_for(config, None, &lines, honour_report)],
        Addressed::Unclear => {
            let mut all = vec![decide_for(config, None, &lines, honour_report)];
            for (bucket, _) in &config.buckets {
                all.push(decide_for(config, Some(bucket), &lines, honour_report));
            }
            // Any bucket `buckets` does not list.
            all.push(decide_for(
                config,
                Some("\u{0}unlisted"),
                &lines,
                honour_report,
            ));
            all
        }
    }
}

/// Spec §2–§4 for a request addressing `bucket`.
fn decide_for(
    config: &Config,
    bucket: Option<&str>,
    lines: &Lines<'_>,
    honour_report: bool,
) -> Expected {
    // §2.4: what no rules govern only loses the upstream's CORS (`strip`),
    // or is left alone (`pass`).
    let ungoverned = || match config.strip_upstream_cors {
        true => Expected::Forward(Forward {
            grant: None,
            vary: false,
        }),
        false => Expected::Ignore,
    };
    // §2.1: no bucket.
    let Some(bucket) = bucket else {
        return ungoverned();
    };
    let origins = lines.origins();
    let acrm = lines.all("access-control-request-method");
    // §2.3: OPTIONS with both Origin and ACRM.
    let preflight = lines.last(":method") == b"OPTIONS" && !origins.is_empty() && !acrm.is_empty();
    let Some(cors) = config.cors_of(bucket) else {
        // §2.2 and §3.2.
        return match (preflight, config.unmatched_preflight) {
            (true, Unmatched::Reject) => Expected::Reply(forbidden(
                MSG_NOT_ENABLED,
                lines,
                config.debug_headers.then_some(refusal::NO_CONFIGURATION),
            )),
            (true, Unmatched::Forward) => Expected::Ignore,
            (false, _) => ungoverned(),
        };
    };
    // §6: report-only forwards preflights untouched and leaves responses alone.
    if honour_report && cors.mode == Mode::Report {
        return Expected::Ignore;
    }
    let origin = Lines::single(&origins);
    if preflight {
        return Expected::Reply(preflight_reply(
            cors,
            origin,
            Lines::single(&acrm),
            lines,
            config.debug_headers,
        ));
    }
    // §4.1: the first rule matching the Origin and the request's own method.
    let method = lines.last(":method");
    let grant = origin.and_then(|origin| {
        cors.rules.iter().enumerate().find_map(|(i, rule)| {
            let allowed = rule.methods.iter().any(|m| m.as_bytes() == method);
            let allow_origin = allowed.then(|| rule_origin(rule, origin)).flatten()?;
            Some(grant(i, rule, allow_origin))
        })
    });
    Expected::Forward(Forward {
        grant,
        vary: cors.vary,
    })
}

/// Spec §3.3–§3.7.
fn preflight_reply(
    cors: &Cors,
    origin: Option<&[u8]>,
    acrm: Option<&[u8]>,
    lines: &Lines<'_>,
    debug_headers: bool,
) -> Reply {
    let requested = requested_headers(&lines.all("access-control-request-headers"));
    // §6: a refusal names the furthest any rule got: origin, method, header.
    let refuse =
        |reason: &'static str| forbidden(MSG_NOT_ALLOWED, lines, debug_headers.then_some(reason));
    let Some(origin) = origin else {
        return refuse(refusal::ORIGIN);
    };
    let mut furthest = refusal::ORIGIN;
    for (i, rule) in cors.rules.iter().enumerate() {
        // §6: several ACRM lines (`acrm` is `None`) match no method.
        let method_ok = acrm.is_some_and(|acrm| rule.methods.iter().any(|m| m.as_bytes() == acrm));
        let headers_ok = requested
            .as_ref()
            .is_some_and(|r| r.iter().all(|h| rule_allows_header(rule, h)));
        let Some(allow_origin) = rule_origin(rule, origin) else {
            continue;
        };
        if !method_ok {
            if furthest == refusal::ORIGIN {
                furthest = refusal::METHOD;
            }
            continue;
        }
        if !headers_ok {
            furthest = refusal::HEADER;
            continue;
        }
        let Some(requested) = &requested else {
            continue;
        };
        let mut headers = grant(i, rule, allow_origin).headers;
        if !requested.is_empty() {
            // ACAH goes after ACAM (spec §3.6's order).
            let at = headers
                .iter()
                .position(|(n, _)| n == names::ACAM)
                .map_or(headers.len(), |p| p + 1);
            headers.insert(at, (names::ACAH.to_string(), requested.join(", ")));
        }
        headers.push((names::VARY.to_string(), PREFLIGHT_VARY.to_string()));
        return Reply {
            status: 200,
            headers,
            body: Some(String::new()),
        };
    }
    refuse(furthest)
}

/// Spec §5 and §6: a listed pattern matching the Origin echoes it; else the
/// rule's `*` answers `*`; else the rule does not match.
fn rule_origin(rule: &Rule, origin: &[u8]) -> Option<AllowOrigin> {
    let lower = String::from_utf8_lossy(origin).to_ascii_lowercase();
    let listed = is_serialized_origin(origin)
        && rule
            .origins
            .iter()
            .any(|p| p != "*" && star_match(&p.to_ascii_lowercase(), &lower));
    if listed {
        Some(AllowOrigin::Echo(
            String::from_utf8_lossy(origin).into_owned(),
        ))
    } else if rule.origins.iter().any(|p| p == "*") {
        Some(AllowOrigin::Any)
    } else {
        None
    }
}

/// Spec §3.4: a requested (lower-case) name against `AllowedHeader`.
fn rule_allows_header(rule: &Rule, name: &str) -> bool {
    rule.headers
        .iter()
        .any(|p| p == "*" || star_match(&p.to_ascii_lowercase(), name))
}

/// Spec §3.6 without ACAH, which only a preflight gets.
fn grant(rule_index: usize, rule: &Rule, allow_origin: AllowOrigin) -> Grant {
    let mut headers = Vec::new();
    match &allow_origin {
        AllowOrigin::Any => headers.push((names::ACAO.to_string(), "*".to_string())),
        AllowOrigin::Echo(origin) => {
            headers.push((names::ACAO.to_string(), origin.clone()));
            headers.push((names::ACAC.to_string(), "true".to_string()));
        }
    }
    headers.push((names::ACAM.to_string(), rule.methods.join(", ")));
    if !rule.expose.is_empty() {
        headers.push((names::ACEH.to_string(), rule.expose.join(", ")));
    }
    if let Some(age) = rule.max_age {
        headers.push((names::ACMA.to_string(), age.to_string()));
    }
    Grant {
        rule: rule_index,
        allow_origin,
        headers,
    }
}

/// Spec §3: the 403 and its XML body.
fn forbidden(message: &str, lines: &Lines<'_>, reason: Option<&str>) -> Reply {
    let text = |v: &[u8]| {
        std::str::from_utf8(v)
            .ok()
            .filter(|s| !s.chars().any(char::is_control))
            .map(str::to_string)
    };
    let body = match (
        text(lines.last("x-request-id")),
        text(lines.last(":authority")),
    ) {
        (Some(id), Some(host)) => Some(body_403(message, &id, &host)),
        _ => None,
    };
    let mut headers = vec![
        (
            names::CONTENT_TYPE.to_string(),
            "application/xml".to_string(),
        ),
        (names::VARY.to_string(), PREFLIGHT_VARY.to_string()),
    ];
    if let Some(reason) = reason {
        headers.push((names::REFUSAL.to_string(), reason.to_string()));
    }
    Reply {
        status: 403,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration of spec §1.
    fn example() -> Config {
        Config {
            endpoints: vec![
                "oss-cn-hangzhou.aliyuncs.com".into(),
                "s3.example.internal".into(),
            ],
            buckets: vec![(
                "photos".into(),
                Cors::new(vec![Rule {
                    origins: vec!["https://www.a.com".into(), "https://*.b.com".into()],
                    methods: vec!["GET".into(), "PUT".into(), "HEAD".into()],
                    headers: vec!["content-type".into(), "x-oss-*".into()],
                    expose: vec!["ETag".into(), "x-oss-request-id".into()],
                    max_age: Some(600),
                }]),
            )],
            ..Config::default()
        }
    }

    fn req(lines: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        lines
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    fn preflight(origin: &str, acrh: &str) -> Vec<(String, Vec<u8>)> {
        req(&[
            (":method", "OPTIONS"),
            (":authority", "photos.s3.example.internal"),
            (":path", "/cat.jpg"),
            ("origin", origin),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", acrh),
        ])
    }

    fn pairs(h: &[(&str, &str)]) -> Vec<(String, String)> {
        h.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_allowed_preflight_gets_every_grant_header_in_the_spec_order() {
        let got = decide(
            &example(),
            &preflight("https://x.y.b.com", "Content-Type, x-oss-meta-a"),
        );
        let want = Expected::Reply(Reply {
            status: 200,
            headers: pairs(&[
                (names::ACAO, "https://x.y.b.com"),
                (names::ACAC, "true"),
                (names::ACAM, "GET, PUT, HEAD"),
                (names::ACAH, "content-type, x-oss-meta-a"),
                (names::ACEH, "ETag, x-oss-request-id"),
                (names::ACMA, "600"),
                (names::VARY, PREFLIGHT_VARY),
            ]),
            body: Some(String::new()),
        });
        assert_eq!(got, vec![want]);
    }

    #[test]
    fn a_refused_preflight_gets_the_oss_403() {
        for origin in [
            "https://b.com",
            "https://b.com.evil.io",
            "https://evil.com:x.b.com",
        ] {
            let got = decide(&example(), &preflight(origin, ""));
            let [Expected::Reply(r)] = got.as_slice() else {
                panic!("{origin}: not one reply: {got:?}");
            };
            assert_eq!(r.status, 403, "{origin}");
            assert_eq!(
                r.body,
                Some(body_403(MSG_NOT_ALLOWED, "", "photos.s3.example.internal"))
            );
        }
    }

    #[test]
    fn several_acrm_lines_are_refused_for_the_furthest_a_rule_got() {
        let debug = Config {
            debug_headers: true,
            ..example()
        };
        for (origin, acrm, reason) in [
            ("https://evil.example", &["PUT", "GET"][..], refusal::ORIGIN),
            ("https://evil.example", &["PUT,GET"], refusal::ORIGIN),
            ("https://www.a.com", &["PUT", "GET"], refusal::METHOD),
        ] {
            let mut lines = preflight(origin, "");
            lines.retain(|(n, _)| n != "access-control-request-method");
            for m in acrm {
                lines.push((
                    "access-control-request-method".into(),
                    m.as_bytes().to_vec(),
                ));
            }
            let got = decide(&debug, &lines);
            let [Expected::Reply(r)] = got.as_slice() else {
                panic!("{origin} {acrm:?}: not one reply: {got:?}");
            };
            let header = (names::REFUSAL.to_string(), reason.to_string());
            assert!(r.headers.contains(&header), "{origin} {acrm:?}: {r:?}");
        }
    }

    #[test]
    fn a_wildcard_over_an_ip_address_is_told_from_one_over_a_domain() {
        for over in [
            "https://*.1.1.1",
            "http://*.0.0.1",
            "https://*1.1.1",
            "https://10.*.0.1:8443",
            "http://[::1*]",
            "http://[*::1]:8080",
        ] {
            assert!(wildcard_over_ip_address(over), "{over}");
        }
        for not in [
            "https://*.example.com",
            "https://*.1example.com",
            "http://127.0.0.1:*",
            "http://[::1]:*",
            "http*://1.1.1.1",
            "https://1.1.1.1",
        ] {
            assert!(!wildcard_over_ip_address(not), "{not}");
        }
    }

    #[test]
    fn the_4_kib_limit_counts_every_acrh_line_as_one_list() {
        let half = "x".repeat(2100);
        assert!(requested_headers(&[half.as_bytes()]).is_some());
        assert!(requested_headers(&[half.as_bytes(), half.as_bytes()]).is_none());
        let many: Vec<String> = (0..65).map(|i| format!("h{i}")).collect();
        assert!(requested_headers(&[many[..64].join(",").as_bytes()]).is_some());
        assert!(requested_headers(&[many.join(",").as_bytes()]).is_none());
    }

    #[test]
    fn buckets_resolve_as_spec_1_and_6_say() {
        let c = example();
        let r = |a: &str, p: &str| resolve(&c, a.as_bytes(), p.as_bytes());
        assert_eq!(
            r("Photos.S3.Example.Internal.:80", "/"),
            Addressed::Bucket("photos".into())
        );
        assert_eq!(
            r("s3.example.internal", "/photos/k"),
            Addressed::Bucket("photos".into())
        );
        assert_eq!(r("h", "/%70hotos?x"), Addressed::Bucket("photos".into()));
        assert_eq!(r("h", "/?x"), Addressed::NoBucket);
        assert_eq!(r("h", "/a%2Fb/k"), Addressed::NoBucket);
        assert_eq!(r("h", "/%zz/k"), Addressed::NoBucket);
        assert_eq!(r("h", "/../k"), Addressed::NoBucket);
    }

    #[test]
    fn responses_lose_the_upstream_cors_headers_and_gain_vary_origin() {
        let upstream = req(&[
            (names::ACAO, "*"),
            ("access-control-allow-local-network", "true"),
            (names::ACEH, "x"),
            (names::VARY, "Accept-Encoding"),
            ("etag", "x"),
        ]);
        let f = Forward {
            grant: None,
            vary: true,
        };
        let want = req(&[("etag", "x"), (names::VARY, "Accept-Encoding, Origin")]);
        assert!(same_response(&f.response(&upstream), &want));
        let star = req(&[(names::VARY, "*")]);
        assert_eq!(f.response(&star), star);
        // docs/spec.md §4: an upstream's repeated `Origin` in `Vary` is kept once.
        let twice = req(&[(names::VARY, "Origin,Origin"), (names::VARY, "Accept")]);
        let want = req(&[(names::VARY, "Origin, Accept")]);
        assert!(same_response(&f.response(&twice), &want));
    }

    #[test]
    fn a_host_equal_to_a_nested_endpoint_is_path_style() {
        let c = Config {
            endpoints: vec!["s3.example.test".into(), "example.test".into()],
            ..Config::default()
        };
        let r = |a: &str, p: &str| resolve(&c, a.as_bytes(), p.as_bytes());
        assert_eq!(
            r("s3.example.test", "/photos/k"),
            Addressed::Bucket("photos".into())
        );
        assert_eq!(
            r("photos.example.test", "/k"),
            Addressed::Bucket("photos".into())
        );
    }

    #[test]
    fn what_no_rules_govern_loses_the_upstream_cors_unless_passed() {
        let strip = example();
        let get = req(&[
            (":method", "GET"),
            (":authority", "h"),
            (":path", "/other/k"),
            ("origin", "https://evil.example"),
        ]);
        let stripped = Expected::Forward(Forward {
            grant: None,
            vary: false,
        });
        assert_eq!(decide(&strip, &get), vec![stripped]);
        let pass = Config {
            strip_upstream_cors: false,
            ..example()
        };
        assert_eq!(decide(&pass, &get), vec![Expected::Ignore]);
    }

    #[test]
    fn the_json_form_escapes_strings() {
        assert_eq!(json_string("a\"b\\c\u{1}"), "\"a\\\"b\\\\c\\u0001\"");
        assert!(example().to_json().contains("\"MaxAgeSeconds\":600"));
    }
}
