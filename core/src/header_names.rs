//! Header names: RFC 9110 tokens, the `Access-Control-Request-Headers` list
//! of a preflight, and the compiled `AllowedHeader` matcher of one rule.

use crate::name_set::NameSet;
use crate::wildcard::Wildcard;

/// At most this many names in ACRH (spec §5); more fails the preflight.
pub(crate) const MAX_REQUEST_HEADERS: usize = 64;
/// At most this many bytes of ACRH, all lines together (spec §5).
pub(crate) const MAX_REQUEST_HEADERS_BYTES: usize = 4096;

/// RFC 9110 `tchar`.
pub(crate) fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&c| is_tchar(c))
}

/// Why a preflight's ACRH cannot be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadRequestHeaders {
    TooLong,
    TooMany,
    NotAToken,
}

impl BadRequestHeaders {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            BadRequestHeaders::TooLong => "it is longer than 4 KiB",
            BadRequestHeaders::TooMany => "it lists more than 64 names",
            BadRequestHeaders::NotAToken => "an item is not a header name (RFC 9110 token)",
        }
    }
}

/// A preflight's requested header names, normalised: lower case, in order,
/// joined with `, `. That is also the value of ACAH (spec §3.6), so the list
/// is held in one string, made once, and a name never holds `,` or a space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RequestedHeaders(String);

impl RequestedHeaders {
    /// Every requested name, lower case.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.0
            .split(',')
            .map(|n| n.trim_start_matches(' '))
            .filter(|n| !n.is_empty())
    }

    /// The ACAH value; empty when no header was requested.
    pub(crate) fn into_joined(self) -> String {
        self.0
    }
}

/// Splits every ACRH line on `,`, trims spaces and tabs, drops empty items
/// and lower-cases the rest; bounded in bytes and items so a hostile list
/// costs little (spec §3.3 and §5).
pub(crate) fn parse_request_headers<'a>(
    lines: impl Iterator<Item = &'a [u8]> + Clone,
) -> Result<RequestedHeaders, BadRequestHeaders> {
    let (bytes, count) = lines
        .clone()
        .fold((0, 0usize), |(b, n), l| (b + l.len(), n + 1));
    let total: usize = bytes + count.saturating_sub(1);
    if total > MAX_REQUEST_HEADERS_BYTES {
        return Err(BadRequestHeaders::TooLong);
    }
    // Each item keeps its length and each `, ` takes at most one byte more
    // than the separator it replaces: one allocation, none without items.
    let mut joined = String::with_capacity(2 * total);
    let mut items = 0;
    for line in lines {
        for item in line.split(|&c| c == b',') {
            let item = trim_ows_end(trim_ows_start(item));
            if item.is_empty() {
                continue;
            }
            if !is_token(item) {
                return Err(BadRequestHeaders::NotAToken);
            }
            if items == MAX_REQUEST_HEADERS {
                return Err(BadRequestHeaders::TooMany);
            }
            items += 1;
            if !joined.is_empty() {
                joined.push_str(", ");
            }
            // A token is ASCII.
            joined.extend(item.iter().map(|c| char::from(c.to_ascii_lowercase())));
        }
    }
    Ok(RequestedHeaders(joined))
}

fn trim_ows_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    &s[n..]
}

fn trim_ows_end(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .rev()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    &s[..s.len() - n]
}

/// The compiled `AllowedHeader` list of one rule: lower-case exact names,
/// single-`*` wildcards, or any name for a lone `*`.
#[derive(Debug)]
pub(crate) struct HeaderMatcher {
    pub(crate) any: bool,
    pub(crate) exact: NameSet,
    pub(crate) wildcards: Box<[Wildcard]>,
}

impl HeaderMatcher {
    /// `names` are validated tokens with at most one `*`.
    pub(crate) fn new<S: AsRef<str>>(names: &[S]) -> Self {
        let mut any = false;
        let mut exact = Vec::new();
        let mut wildcards = Vec::new();
        for name in names {
            let lower = name.as_ref().to_ascii_lowercase();
            if lower == "*" {
                any = true;
            } else {
                match Wildcard::new(lower) {
                    Ok(w) => wildcards.push(w),
                    Err(lower) => exact.push(lower.into_boxed_str()),
                }
            }
        }
        Self {
            any,
            exact: NameSet::from(exact),
            wildcards: wildcards.into_boxed_slice(),
        }
    }

    /// `name` is lower case.
    pub(crate) fn allows(&self, name: &str) -> bool {
        self.any || self.exact.contains(name) || self.wildcards.iter().any(|w| w.matches(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> Result<Vec<String>, BadRequestHeaders> {
        let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        parse_request_headers(lines.into_iter()).map(|r| r.names().map(str::to_owned).collect())
    }

    #[test]
    fn request_headers_are_split_trimmed_lower_cased_and_empties_dropped() {
        assert_eq!(
            parse(&["X-Amz-Meta-A , content-type"]).unwrap(),
            vec!["x-amz-meta-a", "content-type"]
        );
        assert_eq!(
            parse(&[",,\tauthorization,, "]).unwrap(),
            vec!["authorization"]
        );
        assert_eq!(parse(&[""]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn several_request_header_lines_count_as_one_list() {
        assert_eq!(
            parse(&["authorization", "x-csrf-token"]).unwrap(),
            vec!["authorization", "x-csrf-token"]
        );
    }

    #[test]
    fn request_headers_beyond_the_bounds_or_not_tokens_are_refused() {
        assert_eq!(parse(&["header name"]), Err(BadRequestHeaders::NotAToken));
        assert_eq!(parse(&["x-a;b"]), Err(BadRequestHeaders::NotAToken));
        let many: Vec<String> = (0..65).map(|i| format!("x-h{i}")).collect();
        assert_eq!(parse(&[&many.join(",")]), Err(BadRequestHeaders::TooMany));
        let ok: Vec<String> = (0..64).map(|i| format!("x-h{i}")).collect();
        assert_eq!(parse(&[&ok.join(",")]).unwrap().len(), 64);
        let long = "a".repeat(4097);
        assert_eq!(parse(&[&long]), Err(BadRequestHeaders::TooLong));
        assert_eq!(
            parse_request_headers([&b"x-\xff"[..]].into_iter()),
            Err(BadRequestHeaders::NotAToken)
        );
    }

    #[test]
    fn requested_headers_are_held_as_the_acah_value() {
        let lines: [&[u8]; 2] = [b"X-Amz-Meta-A ,content-type", b"\tAuthorization"];
        assert_eq!(
            parse_request_headers(lines.into_iter())
                .unwrap()
                .into_joined(),
            "x-amz-meta-a, content-type, authorization"
        );
        assert_eq!(
            parse_request_headers([&b" , "[..]].into_iter())
                .unwrap()
                .into_joined(),
            ""
        );
    }

    #[test]
    fn allowed_headers_match_case_insensitively_with_one_star() {
        let m = HeaderMatcher::new(&["Content-Type", "x-oss-*"]);
        assert!(m.allows("content-type"));
        assert!(m.allows("x-oss-meta-a"));
        assert!(m.allows("x-oss-"));
        assert!(!m.allows("x-os"));
        assert!(!m.allows("authorization"));
        let any = HeaderMatcher::new(&["*"]);
        assert!(any.allows("authorization"));
        let none = HeaderMatcher::new::<&str>(&[]);
        assert!(!none.allows("content-type"));
    }
}
