//! Lints: a configuration the filter accepts but that a browser will not use
//! as its author meant (an upload that cannot finish, a cache lifetime the
//! browser cuts, a rule that never applies). Warnings, never errors: they
//! are printed by the tool and logged by the filter at configure time.
//!
//! Lints run per CORS configuration, each under a [`Label`] saying where it
//! sits, on the compiled rules: what is judged is what the filter runs.

use crate::compile::{BucketCors, Policy};
use crate::header_names::HeaderMatcher;
use crate::method::METHODS;
use crate::origin::OriginMatcher;
use crate::rule::Rule;
use std::fmt;

/// Chromium keeps a preflight answer at most this long (seconds).
pub(crate) const CHROMIUM_MAX_AGE: i64 = 7_200;
/// Firefox keeps a preflight answer at most this long (seconds).
pub(crate) const FIREFOX_MAX_AGE: i64 = 86_400;

/// Where a CORS configuration sits in the plugin configuration. Ordered as
/// lints are reported: policies by name, buckets by name, then `default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Label<'p> {
    Policy(&'p str),
    Bucket(&'p str),
    Default,
    /// A bucket's rules document on its own (spec §7): rules are named alone.
    Document,
}

/// One finding: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint<'p> {
    pub at: Label<'p>,
    /// The rule's index in its configuration's `CORSRule` list; `None`
    /// for a finding about the whole configuration.
    pub rule: Option<usize>,
    pub id: Option<&'p str>,
    pub kind: LintKind<'p>,
}

/// What a browser will do that the configuration's author may not expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LintKind<'p> {
    /// PUT or POST is allowed but `ETag` is not in `ExposeHeader`.
    EtagNotExposed,
    /// `MaxAgeSeconds` above Chromium's cap, at most Firefox's.
    MaxAgeOverChromium(i64),
    /// `MaxAgeSeconds` above Firefox's cap (and so Chromium's).
    MaxAgeOverFirefox(i64),
    /// An earlier rule matches every origin, method and header this one does.
    Shadowed { by: usize, by_id: Option<&'p str> },
    /// PUT or POST is allowed but `AllowedHeader` does not allow `content-type`.
    ContentTypeRefused,
    /// An `http://` origin (or pattern) reaching a host that is not loopback,
    /// echoed with credentials allowed.
    PlainHttpOrigin(String),
    /// A named policy that no bucket and not `default` names.
    UnusedPolicy,
}

impl LintKind<'_> {
    /// The field the finding is about.
    pub fn field(&self) -> &'static str {
        match self {
            LintKind::EtagNotExposed => "ExposeHeader",
            LintKind::MaxAgeOverChromium(_) | LintKind::MaxAgeOverFirefox(_) => "MaxAgeSeconds",
            LintKind::Shadowed { .. } => "CORSRule",
            LintKind::ContentTypeRefused => "AllowedHeader",
            LintKind::PlainHttpOrigin(_) => "AllowedOrigin",
            LintKind::UnusedPolicy => "policies",
        }
    }
}

impl fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Policy(name) => write!(f, "policy {name:?}"),
            Label::Bucket(name) => write!(f, "bucket {name:?}"),
            Label::Default => f.write_str("default"),
            Label::Document => Ok(()),
        }
    }
}

/// `rule 2` or `rule 2 (ID "web")`.
fn rule_name(f: &mut fmt::Formatter<'_>, index: usize, id: Option<&str>) -> fmt::Result {
    match id {
        Some(id) => write!(f, "rule {index} (ID {id:?})"),
        None => write!(f, "rule {index}"),
    }
}

impl fmt::Display for LintKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LintKind::EtagNotExposed => f.write_str(
                "PUT or POST is allowed but ETag is not exposed: the browser hides each \
                 response's ETag from scripts, so a browser SDK cannot finish a multipart upload \
                 (completing it needs every part's ETag); add \"ETag\" to ExposeHeader",
            ),
            LintKind::MaxAgeOverChromium(age) => write!(
                f,
                "{age} is above Chromium's cap of {CHROMIUM_MAX_AGE} (2 hours): Chrome, Edge and \
                 other Chromium browsers keep the preflight answer 2 hours at most, then ask again"
            ),
            LintKind::MaxAgeOverFirefox(age) => write!(
                f,
                "{age} is above Firefox's cap of {FIREFOX_MAX_AGE} (24 hours) and Chromium's of \
                 {CHROMIUM_MAX_AGE} (2 hours): browsers keep the preflight answer 24 hours \
                 (Firefox) or 2 hours (Chromium) at most, then ask again"
            ),
            LintKind::Shadowed { by, by_id } => {
                f.write_str("never applies: the earlier ")?;
                rule_name(f, *by, *by_id)?;
                f.write_str(
                    " matches every origin, method and header this rule does, and the first \
                     matching rule wins; browsers always get that rule's answer (remove this \
                     rule, or move it above the other)",
                )
            }
            LintKind::ContentTypeRefused => f.write_str(
                "PUT or POST is allowed but content-type is not an allowed header: a browser \
                 preflights an upload whose Content-Type is not a form or text/plain type \
                 (application/json, image/png, application/octet-stream, ...) with \
                 Access-Control-Request-Headers: content-type, and this rule refuses it; add \
                 \"content-type\" to AllowedHeader",
            ),
            LintKind::PlainHttpOrigin(origin) => write!(
                f,
                "{origin:?} is plain http and not loopback, yet echoed with credentials allowed: \
                 the browser sends the user's cookies and lets that page read the answers, and \
                 anyone on the network path can rewrite an http page; use https (http is safe \
                 for localhost, 127.0.0.0/8 and [::1] only)"
            ),
            LintKind::UnusedPolicy => f.write_str(
                "is named by no bucket and not by default, so its rules answer no request; \
                 name it from a bucket (\"photos\": \"<policy>\") or remove it",
            ),
        }
    }
}

impl fmt::Display for Lint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(rule) = self.rule else {
            // A finding about the whole configuration.
            return write!(f, "{}: {}", self.at, self.kind);
        };
        if self.at != Label::Document {
            write!(f, "{} ", self.at)?;
        }
        rule_name(f, rule, self.id)?;
        write!(f, " {}: {}", self.kind.field(), self.kind)
    }
}

/// How many lints a host logs one per line at configure time; one more line
/// counts the rest. A generated configuration can repeat a finding for each
/// of 100,000 buckets, and `bucket-cors check` lists every one.
pub(crate) const MAX_LOGGED_LINTS: usize = 20;

impl Policy {
    /// Every CORS configuration once, and where it sits, for the lints: the
    /// named policies, each bucket's inline configuration, and an inline
    /// `default`. A policy a million buckets name is judged once.
    pub(crate) fn configurations(&self) -> impl Iterator<Item = (Label<'_>, &BucketCors)> {
        let policies = self
            .configs
            .iter()
            .filter_map(|c| c.policy.as_deref().map(|name| (Label::Policy(name), &**c)));
        let inline = self.buckets.iter().filter_map(|(name, i)| {
            let cors = self.configs.get(i as usize)?;
            cors.policy
                .is_none()
                .then_some((Label::Bucket(name), &**cors))
        });
        let default = self
            .default
            .and_then(|i| self.configs.get(i as usize))
            .filter(|c| c.policy.is_none())
            .map(|c| (Label::Default, &**c));
        policies.chain(inline).chain(default)
    }

    /// The named policies no bucket and not `default` names.
    pub(crate) fn unused_policies(&self) -> Vec<&str> {
        let mut used = vec![false; self.configs.len()];
        for (_, i) in self.buckets.iter() {
            if let Some(u) = used.get_mut(i as usize) {
                *u = true;
            }
        }
        if let Some(u) = self.default.and_then(|i| used.get_mut(i as usize)) {
            *u = true;
        }
        self.configs
            .iter()
            .zip(used)
            .filter_map(|(c, used)| c.policy.as_deref().filter(|_| !used))
            .collect()
    }

    /// The warning lines a host logs at configure time: the first
    /// [`MAX_LOGGED_LINTS`] lints, then one line that counts the rest.
    pub fn lint_log_lines(&self) -> Vec<String> {
        let lints = self.lints();
        let mut lines: Vec<String> = lints
            .iter()
            .take(MAX_LOGGED_LINTS)
            .map(|lint| format!("plugin configuration: {lint}"))
            .collect();
        if lints.len() > MAX_LOGGED_LINTS {
            lines.push(format!(
                "plugin configuration: {} more warnings not logged ({} in all); `bucket-cors check` lists every one",
                lints.len() - MAX_LOGGED_LINTS,
                lints.len()
            ));
        }
        lines
    }

    /// Every lint of every CORS configuration: policies by name, buckets by
    /// name, then `default`; within one, by rule. Only the configurations
    /// with findings are sorted: a configuration of 100,000 clean buckets is
    /// judged (at every VM's configure) without sorting 100,000 names.
    pub fn lints(&self) -> Vec<Lint<'_>> {
        let mut unused = self.unused_policies();
        unused.sort_unstable();
        let mut found: Vec<(Label<'_>, Vec<Lint<'_>>)> = Vec::new();
        for (at, cors) in self.configurations() {
            let mut lints = Vec::new();
            if let Label::Policy(name) = at {
                if unused.binary_search(&name).is_ok() {
                    lints.push(Lint {
                        at,
                        rule: None,
                        id: None,
                        kind: LintKind::UnusedPolicy,
                    });
                }
            }
            lint_configuration(at, cors, &mut lints);
            if !lints.is_empty() {
                found.push((at, lints));
            }
        }
        found.sort_unstable_by_key(|(label, _)| *label);
        found.into_iter().flat_map(|(_, lints)| lints).collect()
    }
}

/// The lints of one CORS configuration, in rule order.
pub(crate) fn lint_configuration<'p>(at: Label<'p>, cors: &'p BucketCors, out: &mut Vec<Lint<'p>>) {
    for (index, rule) in cors.rules.iter().enumerate() {
        let mut push = |kind| {
            out.push(Lint {
                at,
                rule: Some(index),
                id: rule.terms.id.as_deref(),
                kind,
            })
        };
        for origin in plain_http_origins(&rule.origins) {
            push(LintKind::PlainHttpOrigin(origin));
        }
        let uploads = rule.terms.methods.contains(b"PUT") || rule.terms.methods.contains(b"POST");
        if uploads && !rule.terms.headers.allows("content-type") {
            push(LintKind::ContentTypeRefused);
        }
        if uploads && !exposes_etag(rule) {
            push(LintKind::EtagNotExposed);
        }
        match rule
            .terms
            .max_age
            .as_deref()
            .and_then(|a| a.parse::<i64>().ok())
        {
            Some(age) if age > FIREFOX_MAX_AGE => push(LintKind::MaxAgeOverFirefox(age)),
            Some(age) if age > CHROMIUM_MAX_AGE => push(LintKind::MaxAgeOverChromium(age)),
            _ => {}
        }
        if let Some((by, earlier)) = cors.rules[..index]
            .iter()
            .enumerate()
            .find(|(_, earlier)| covers(earlier, rule))
        {
            push(LintKind::Shadowed {
                by,
                by_id: earlier.terms.id.as_deref(),
            });
        }
    }
}

fn exposes_etag(rule: &Rule) -> bool {
    rule.terms
        .expose_headers
        .as_deref()
        .is_some_and(|list| list.split(", ").any(|h| h.eq_ignore_ascii_case("etag")))
}

/// Whether `earlier` matches every request `later` matches: every origin,
/// every method and every set of requested headers. Only certain coverage
/// counts: each of `later`'s patterns must sit inside one of `earlier`'s (a
/// union of several that happens to cover it is not looked for).
fn covers(earlier: &Rule, later: &Rule) -> bool {
    METHODS.iter().all(|m| {
        !later.terms.methods.contains(m.as_bytes()) || earlier.terms.methods.contains(m.as_bytes())
    }) && origins_cover(&earlier.origins, &later.origins)
        && headers_cover(&earlier.terms.headers, &later.terms.headers)
}

fn origins_cover(earlier: &OriginMatcher, later: &OriginMatcher) -> bool {
    if earlier.any {
        return true;
    }
    // `*` also matches what no other pattern does (`null`, malformed origins).
    !later.any
        && later
            .exact
            .iter()
            .all(|o| earlier.exact.contains(o) || earlier.wildcards.iter().any(|w| w.matches(o)))
        && later
            .wildcards
            .iter()
            .all(|w| earlier.wildcards.iter().any(|e| e.covers(w)))
}

/// A preflight may request any set of the names `later` allows, so
/// `earlier` must allow each of them.
fn headers_cover(earlier: &HeaderMatcher, later: &HeaderMatcher) -> bool {
    if earlier.any {
        return true;
    }
    !later.any
        && later.exact.iter().all(|h| earlier.allows(h))
        && later
            .wildcards
            .iter()
            .all(|w| earlier.wildcards.iter().any(|e| e.covers(w)))
}

/// The rule's listed origins (every one is echoed with credentials) that a
/// plain-http page on a host other than loopback can send, in a stable
/// order: exact origins sorted, then patterns as written.
fn plain_http_origins(origins: &OriginMatcher) -> Vec<String> {
    // A NameSet iterates in sorted order.
    let exact = origins.exact.iter().filter(|o| {
        o.strip_prefix("http://")
            .is_some_and(|rest| !is_loopback(host_of(rest)))
    });
    let patterns = origins.wildcards.iter().filter_map(|w| {
        let (prefix, suffix) = w.parts();
        let reaches = match prefix.split_once("://") {
            // The `*` is in the scheme: does it reach `http`, with this host?
            None => suffix.split_once("://").is_some_and(|(_, rest)| {
                w.matches(&format!("http://{rest}")) && !is_loopback(host_of(rest))
            }),
            // The `*` is in the port: the host is written out before it.
            Some(("http", rest)) if host_of(rest).len() < rest.len() => !is_loopback(host_of(rest)),
            // The `*` is in the host: its fixed labels (two at least, spec §1) decide.
            Some(("http", _)) => !host_of(suffix).ends_with(".localhost"),
            Some(_) => false,
        };
        reaches.then(|| format!("{prefix}*{suffix}"))
    });
    exact.map(str::to_owned).chain(patterns).collect()
}

/// The host of `host[:port]` (an IPv6 literal keeps its brackets).
fn host_of(host_port: &str) -> &str {
    match host_port.strip_prefix('[') {
        Some(v6) => v6.find(']').map_or(host_port, |end| &host_port[..end + 2]),
        None => host_port.split(':').next().unwrap_or(host_port),
    }
}

/// Loopback as browsers treat it as a secure context: `localhost` and names
/// under it, 127.0.0.0/8, `[::1]`.
fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok())
}
