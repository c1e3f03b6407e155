//! Origins: the request's `Origin` parsed as a serialized origin, the closed
//! `AllowedOrigin` pattern grammar (`*` is the only special character), and
//! the compiled per-rule matcher (exact set + single-`*` wildcards).

use crate::error::OriginError;
use crate::name_set::NameSet;
use crate::wildcard::Wildcard;
use crate::PublicSuffix;
use std::borrow::Cow;

/// Longest `Origin` a non-`*` pattern will look at (spec §5).
const MAX_ORIGIN_LEN: usize = 2048;

/// The request's `Origin` if it is a well-formed serialized origin
/// (`scheme "://" host [":" port]`), lower-cased for matching. Anything else —
/// a path, userinfo, whitespace, a comma, `null`, non-ASCII — is `None`, so
/// it can only ever match the pattern `*`.
pub(crate) fn parse_request_origin(raw: &[u8]) -> Option<Cow<'_, str>> {
    if raw.is_empty() || raw.len() > MAX_ORIGIN_LEN {
        return None;
    }
    let sep = find(raw, b"://")?;
    let (scheme, rest) = (&raw[..sep], &raw[sep + 3..]);
    if !is_scheme(scheme) {
        return None;
    }
    let (host, port) = split_host_port(rest)?;
    if !(is_reg_name(host) || is_ipv6_literal(host)) {
        return None;
    }
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.iter().all(u8::is_ascii_digit) {
            return None;
        }
    }
    // Every byte is ASCII by now; browsers send lower case, so this rarely copies.
    let origin = std::str::from_utf8(raw).ok()?;
    Some(if origin.bytes().any(|c| c.is_ascii_uppercase()) {
        Cow::Owned(origin.to_ascii_lowercase())
    } else {
        Cow::Borrowed(origin)
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn is_scheme(s: &[u8]) -> bool {
    matches!(s.first(), Some(c) if c.is_ascii_alphabetic())
        && s.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

/// A host name: letters, digits, `-` and `.`.
fn is_reg_name(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.'))
}

/// `[` hex digits, `:` and `.` `]`.
fn is_ipv6_literal(s: &[u8]) -> bool {
    s.len() > 2
        && s[0] == b'['
        && s[s.len() - 1] == b']'
        && s[1..s.len() - 1]
            .iter()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.'))
}

/// Splits `host[:port]`, keeping an IPv6 literal's brackets with the host.
fn split_host_port(rest: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let host_end = if rest.first() == Some(&b'[') {
        rest.iter().position(|&c| c == b']')? + 1
    } else {
        rest.iter().position(|&c| c == b':').unwrap_or(rest.len())
    };
    let (host, tail) = rest.split_at(host_end);
    match tail.split_first() {
        None => Some((host, None)),
        Some((b':', port)) => Some((host, Some(port))),
        Some(_) => None,
    }
}

/// One validated `AllowedOrigin` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OriginPattern {
    /// `*`: every non-empty Origin, answered with a literal `*`.
    Any,
    /// A serialized origin, lower-cased.
    Exact(String),
    /// A lower-cased origin with one `*` standing for any run of characters.
    Wildcard(Wildcard),
}

/// Validates one `AllowedOrigin` entry against the closed grammar of spec §1.
pub(crate) fn parse_origin_pattern(
    s: &str,
    public_suffix: Option<PublicSuffix>,
) -> Result<OriginPattern, OriginError> {
    if s == "*" {
        return Ok(OriginPattern::Any);
    }
    if s.is_empty() {
        return Err(OriginError::Empty);
    }
    if has_space_or_control(s) {
        return Err(OriginError::WhitespaceOrControl);
    }
    if s.eq_ignore_ascii_case("null") {
        return Err(OriginError::Null);
    }
    let lower = s.to_ascii_lowercase();
    let Some(sep) = find(lower.as_bytes(), b"://") else {
        return Err(OriginError::NotAnOrigin);
    };
    // `://` is ASCII: both ends are char boundaries.
    let (scheme, rest) = (&lower[..sep], &lower[sep + 3..]);
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'*')
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b'*'));
    if !scheme_ok {
        return Err(OriginError::Scheme);
    }
    if rest
        .bytes()
        .any(|c| matches!(c, b'/' | b'?' | b'#' | b'@' | b'\\'))
    {
        return Err(OriginError::PathOrUserinfo);
    }
    let Some((host, port)) = split_host_port(rest.as_bytes()) else {
        return Err(OriginError::NotAnOrigin);
    };
    let host_ok = if host.first() == Some(&b'[') {
        host.len() > 2
            && host[host.len() - 1] == b']'
            && host[1..host.len() - 1]
                .iter()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.' | b'*'))
    } else {
        !host.is_empty()
            && host
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'*'))
    };
    if !host_ok {
        return Err(OriginError::Host);
    }
    if let Some(port) = port {
        let digits = port.iter().filter(|c| c.is_ascii_digit()).count();
        let ok = !port.is_empty()
            && port.iter().all(|c| c.is_ascii_digit() || *c == b'*')
            && digits <= 5;
        if !ok {
            return Err(OriginError::Port);
        }
        // Browsers serialize a port without leading zeros and never above
        // 65535, so such a port could never match (spec §1).
        let leading_zero = port.len() > 1 && port[0] == b'0';
        let too_large = !port.contains(&b'*')
            && std::str::from_utf8(port)
                .ok()
                .and_then(|p| p.parse::<u32>().ok())
                .is_none_or(|p| p > 65535);
        if leading_zero || too_large {
            return Err(OriginError::UnmatchablePort);
        }
        if (scheme == "https" && port == b"443") || (scheme == "http" && port == b"80") {
            return Err(OriginError::DefaultPort(
                String::from_utf8_lossy(port).into_owned(),
            ));
        }
    }
    if let Some(star) = host.iter().position(|&c| c == b'*') {
        if over_ip_address(host, star) {
            return Err(OriginError::WildcardOverIpAddress);
        }
        if let Some(reach) = wildcard_reach(host, star, public_suffix) {
            return Err(OriginError::TooBroad(reach));
        }
    }
    // Checked last so that a too-broad pattern such as `http*://*` is told to write `*`.
    if lower.bytes().filter(|&c| c == b'*').count() > 1 {
        return Err(OriginError::SeveralStars);
    }
    Ok(match Wildcard::new(lower) {
        Ok(w) => OriginPattern::Wildcard(w),
        Err(lower) => OriginPattern::Exact(lower),
    })
}

/// Spec §1: an IP address has no subdomains, so a `*` over one reaches other
/// owners' addresses (`*.1.1.1` matches `8.1.1.1`): a `*` inside an IPv6
/// literal, or one followed in the host by what could be the tail of an
/// IPv4 address (digits and dots, a digit at least). Browsers serialize an
/// IPv4 host in dotted decimal, and read a host whose last label is a number
/// as one, so digits and dots are all such a tail can hold.
fn over_ip_address(host: &[u8], star: usize) -> bool {
    let tail = &host[star + 1..];
    host.first() == Some(&b'[')
        || (tail.iter().any(u8::is_ascii_digit)
            && tail.iter().all(|c| c.is_ascii_digit() || *c == b'.'))
}

/// Whether `s` holds whitespace or a control character. Over ASCII (every
/// pattern that can be valid) both are exactly the bytes up to space, and DEL.
fn has_space_or_control(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes().any(|c| c <= b' ' || c == 0x7f)
    } else {
        s.chars().any(|c| c.is_whitespace() || c.is_control())
    }
}

/// Spec §1: the labels after the one holding the `*` must name a domain, so
/// that the wildcard reaches only its owner's hosts. Returns what it would
/// reach otherwise: `""` for every host, else the suffix its fixed labels
/// stop at. Always refused: fewer than two fixed labels (`*example.com`
/// stops at `com`). With `public_suffix` (the CLI passes the Public Suffix
/// List), also fixed labels that are a public suffix alone (`*.co.uk`,
/// `*.github.io`).
fn wildcard_reach(host: &[u8], star: usize, public_suffix: Option<PublicSuffix>) -> Option<String> {
    let rest = &host[star + 1..];
    let Some(dot) = rest.iter().position(|&c| c == b'.') else {
        return Some(String::from_utf8_lossy(rest).into_owned());
    };
    let fixed = &rest[dot + 1..];
    let labels = fixed.split(|&c| c == b'.');
    let names_a_domain = labels.clone().count() >= 2
        && labels.clone().all(|l| !l.is_empty())
        && !public_suffix.is_some_and(|is_suffix| is_suffix(fixed));
    (!names_a_domain).then(|| String::from_utf8_lossy(fixed).into_owned())
}

/// The compiled `AllowedOrigin` list of one rule.
#[derive(Debug)]
pub(crate) struct OriginMatcher {
    pub(crate) any: bool,
    pub(crate) exact: NameSet,
    pub(crate) wildcards: Box<[Wildcard]>,
}

/// How a rule's `AllowedOrigin` matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OriginMatch {
    /// A listed origin or wildcard pattern matched: echo the Origin.
    Listed,
    /// Only `*` matched: answer `*`.
    Any,
}

impl OriginMatcher {
    pub(crate) fn new(patterns: Vec<OriginPattern>) -> Self {
        let exact_count = patterns
            .iter()
            .filter(|p| matches!(p, OriginPattern::Exact(_)))
            .count();
        let wildcard_count = patterns
            .iter()
            .filter(|p| matches!(p, OriginPattern::Wildcard(_)))
            .count();
        let mut any = false;
        // Sized exactly, so that boxing them moves no memory.
        let mut exact = Vec::with_capacity(exact_count);
        let mut wildcards = Vec::with_capacity(wildcard_count);
        for p in patterns {
            match p {
                OriginPattern::Any => any = true,
                OriginPattern::Exact(s) => exact.push(s.into_boxed_str()),
                OriginPattern::Wildcard(w) => wildcards.push(w),
            }
        }
        Self {
            any,
            exact: NameSet::from(exact),
            wildcards: wildcards.into_boxed_slice(),
        }
    }

    /// `parsed` is the lower-cased Origin when it is well formed; a listed
    /// pattern is preferred over `*` so a listed origin keeps its credentials.
    pub(crate) fn matches(&self, parsed: Option<&str>) -> Option<OriginMatch> {
        if let Some(origin) = parsed {
            if self.exact.contains(origin) || self.wildcards.iter().any(|w| w.matches(origin)) {
                return Some(OriginMatch::Listed);
            }
        }
        self.any.then_some(OriginMatch::Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(patterns: &[&str]) -> OriginMatcher {
        let p = patterns
            .iter()
            .map(|s| parse_origin_pattern(s, None).unwrap())
            .collect();
        OriginMatcher::new(p)
    }

    fn allows(patterns: &[&str], origin: &str) -> Option<OriginMatch> {
        let parsed = parse_request_origin(origin.as_bytes());
        matcher(patterns).matches(parsed.as_deref())
    }

    #[test]
    fn well_formed_origins_parse_lower_cased() {
        for (raw, want) in [
            ("https://www.a.com", Some("https://www.a.com")),
            ("HTTPS://WWW.A.COM", Some("https://www.a.com")),
            ("http://localhost:3000", Some("http://localhost:3000")),
            ("http://[::1]:8080", Some("http://[::1]:8080")),
            (
                "chrome-extension://abcdef",
                Some("chrome-extension://abcdef"),
            ),
            ("null", None),
            ("", None),
            ("https://", None),
            ("https://a.com/", None),
            ("https://a.com/x", None),
            ("https://u@a.com", None),
            (" https://a.com", None),
            ("https://a.com ", None),
            ("https://a.com,https://b.com", None),
            ("https://evil.com:x.b.com", None),
            ("https://a.com:", None),
            ("https://a.com:123456", None),
            ("https://[::1", None),
            ("https://[::1]x", None),
            ("1https://a.com", None),
            ("https//a.com", None),
        ] {
            assert_eq!(
                parse_request_origin(raw.as_bytes()).as_deref(),
                want,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn origins_longer_than_two_kib_are_malformed() {
        let long = format!("https://{}.com", "a".repeat(2100));
        assert_eq!(parse_request_origin(long.as_bytes()), None);
    }

    #[test]
    fn non_utf8_origin_is_malformed() {
        assert_eq!(parse_request_origin(b"https://\xff.com"), None);
    }

    #[test]
    fn wildcard_subdomain_matches_nested_labels_not_apex_or_suffix_confusion() {
        let p = ["https://*.b.com"];
        assert_eq!(allows(&p, "https://x.b.com"), Some(OriginMatch::Listed));
        assert_eq!(allows(&p, "https://x.y.b.com"), Some(OriginMatch::Listed));
        assert_eq!(allows(&p, "https://b.com"), None);
        assert_eq!(allows(&p, "https://b.com.evil.io"), None);
        assert_eq!(allows(&p, "https://x.b.com.evil.io"), None);
        assert_eq!(allows(&p, "https://xb.com"), None);
        assert_eq!(allows(&p, "http://x.b.com"), None);
        assert_eq!(allows(&p, "https://x.b.com:8443"), None);
        assert_eq!(allows(&p, "https://evil.com:x.b.com"), None);
        assert_eq!(allows(&p, "https://evil.com/.b.com"), None);
    }

    #[test]
    fn shared_suffixes_between_exact_origins_do_not_combine() {
        let p = ["https://foo.com", "https://bar.com"];
        assert_eq!(allows(&p, "https://foo.com"), Some(OriginMatch::Listed));
        assert_eq!(allows(&p, "https://bar.com"), Some(OriginMatch::Listed));
        assert_eq!(allows(&p, "https://barfoo.com"), None);
        assert_eq!(allows(&p, "https://foobar.com"), None);
        assert_eq!(allows(&p, "https://foo.com.bar.com"), None);
    }

    #[test]
    fn exact_origin_is_not_a_prefix_or_substring() {
        let p = ["https://example.com"];
        for o in [
            "https://notexample.com",
            "https://example.com.common.net",
            "https://example.co",
            "https://example.community",
            "https://example.com:443",
        ] {
            assert_eq!(allows(&p, o), None, "{o}");
        }
    }

    #[test]
    fn glob_characters_in_patterns_are_literal() {
        let p = ["http://[::1]:8080"];
        assert_eq!(allows(&p, "http://[::1]:8080"), Some(OriginMatch::Listed));
        assert_eq!(allows(&p, "http://[::2]:8080"), None);
        let p = ["http://[::1]:*"];
        assert_eq!(allows(&p, "http://[::1]:9090"), Some(OriginMatch::Listed));
        assert_eq!(allows(&p, "http://:9090"), None);
        let p = ["http://a?c.com"];
        assert!(
            parse_origin_pattern(p[0], None).is_err(),
            "? is no host character"
        );
    }

    #[test]
    fn matching_is_case_insensitive_and_echo_is_decided_per_pattern() {
        let p = ["https://WWW.A.com", "*"];
        assert_eq!(allows(&p, "https://www.a.COM"), Some(OriginMatch::Listed));
        assert_eq!(allows(&p, "https://other.com"), Some(OriginMatch::Any));
        assert_eq!(allows(&p, "null"), Some(OriginMatch::Any));
        assert_eq!(allows(&["https://www.a.com"], "null"), None);
    }

    #[test]
    fn port_wildcard_matches_digits_only() {
        let p = ["http://localhost:*"];
        assert_eq!(
            allows(&p, "http://localhost:3000"),
            Some(OriginMatch::Listed)
        );
        assert_eq!(allows(&p, "http://localhost"), None);
        assert_eq!(allows(&p, "http://localhost:80.evil.com"), None);
        assert_eq!(allows(&p, "http://localhost.evil.com:80"), None);
    }

    #[test]
    fn a_wildcard_over_an_ip_address_is_refused_as_such() {
        for bad in [
            "https://*.1.1.1",
            "http://*.0.0.1",
            "https://*1.1.1",
            "https://10.*.0.1",
            "https://*.1",
            "https://*.0.0.1:8443",
            "http://[::1*]",
            "http://[*::1]:8080",
        ] {
            assert_eq!(
                parse_origin_pattern(bad, None),
                Err(OriginError::WildcardOverIpAddress),
                "{bad}"
            );
        }
        for good in [
            "http://127.0.0.1:*",
            "http://[::1]:*",
            "https://*.1example.com",
            "https://*.10.example.com",
        ] {
            assert!(parse_origin_pattern(good, None).is_ok(), "{good}");
        }
        // The Public Suffix List reads a number as a top-level domain: the
        // address check comes first.
        assert_eq!(
            parse_origin_pattern("https://*.1.1.1", Some(|_| true)),
            Err(OriginError::WildcardOverIpAddress)
        );
    }

    #[test]
    fn pattern_grammar_refuses_what_it_cannot_mean() {
        for bad in [
            "",
            " https://a.com",
            "null",
            "NULL",
            "https://a.com/",
            "https://a.com/x",
            "https://u@a.com",
            "https://a.com?x",
            "a.com",
            "https://*.*.a.com",
            "https://*",
            "http*://*",
            "https://*.com",
            "https://*com",
            // Spec §1: the `*` label sits right under `com`: `evilb.com` matches.
            "https://*b.com",
            "https://app.*",
            "https://a.*.com",
            "https://*:8080",
            "https://a.com:x",
            "https://a.com:123456",
            "https://a.com:443",
            "http://a.com:80",
            "https://résumé.com",
            "https://a_b.com",
            "1https://a.com",
        ] {
            assert!(
                parse_origin_pattern(bad, None).is_err(),
                "{bad:?} should be refused"
            );
        }
        for good in [
            "*",
            "https://www.a.com",
            "https://*.b.com",
            "https://*b.example.com",
            "http://localhost:*",
            "http://[::1]:8080",
            "http*://www.a.com",
            "https://a.com:8443",
            "HTTPS://A.COM",
        ] {
            assert!(
                parse_origin_pattern(good, None).is_ok(),
                "{good:?} should be accepted"
            );
        }
    }
}
