//! A pattern with at most one `*`, the closed grammar of `AllowedOrigin` and
//! `AllowedHeader`: the `*` matches any run of characters (dots and the empty
//! run included) and the pattern is anchored at both ends, so a match is a
//! prefix test plus a suffix test on one string.
//!
//! This replaced one `globset::GlobSet` per rule: for this grammar globset
//! compiles a regex engine per rule, which `make bench` measured at 545 KiB
//! of the filter's 917 KiB of code and 19.5 KiB per bucket per worker, and
//! which ran Envoy out of Wasm memory at 100,000 buckets.

/// `prefix*suffix`, lower case, held as written: one allocation per
/// pattern (a compiled configuration holds one per wildcard origin of every
/// bucket), the one the lower-casing made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wildcard {
    text: Box<str>,
    /// Where the `*` is in `text`.
    star: u32,
}

impl Wildcard {
    /// `Err(pattern)` unless `pattern` holds exactly one `*`.
    pub(crate) fn new(pattern: String) -> Result<Self, String> {
        let Some(star) = pattern.find('*') else {
            return Err(pattern);
        };
        if pattern[star + 1..].contains('*') {
            return Err(pattern);
        }
        match u32::try_from(star) {
            Ok(star) => Ok(Wildcard {
                text: pattern.into_boxed_str(),
                star,
            }),
            Err(_) => Err(pattern),
        }
    }

    /// Anchored at both ends; the prefix and suffix may not overlap.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let (prefix, suffix) = self.parts();
        s.len() >= prefix.len() + suffix.len() && s.starts_with(prefix) && s.ends_with(suffix)
    }

    /// Whether every string `other` matches, this matches too: exactly when
    /// this prefix starts `other`'s prefix and this suffix ends `other`'s
    /// suffix (a longer prefix fails on a string whose `*` run starts with
    /// another character; likewise for the suffix).
    pub(crate) fn covers(&self, other: &Wildcard) -> bool {
        let ((prefix, suffix), (other_prefix, other_suffix)) = (self.parts(), other.parts());
        other_prefix.starts_with(prefix) && other_suffix.ends_with(suffix)
    }

    /// The text before and after the `*`.
    pub(crate) fn parts(&self) -> (&str, &str) {
        let star = self.star as usize;
        // `star` indexes the ASCII `*` of `text` (see `new`).
        (
            self.text.get(..star).unwrap_or_default(),
            self.text.get(star + 1..).unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Wildcard::new(p.into()).unwrap().matches(s)
    }

    #[test]
    fn star_matches_any_run_anchored_at_both_ends() {
        assert!(m("https://*.b.com", "https://x.b.com"));
        assert!(m("https://*.b.com", "https://x.y.b.com"));
        assert!(!m("https://*.b.com", "https://b.com"));
        assert!(!m("https://*.b.com", "https://x.b.com.evil.io"));
        assert!(m("x-oss-*", "x-oss-"));
        assert!(m("*", ""));
        assert!(
            !m("ab*ba", "aba"),
            "prefix and suffix may not share characters"
        );
        assert!(m("ab*ba", "abba"));
    }

    #[test]
    fn a_wildcard_covers_another_when_its_prefix_and_suffix_are_shorter_ends() {
        let w = |p: &str| Wildcard::new(p.into()).unwrap();
        assert!(w("https://*.a.com").covers(&w("https://*.x.a.com")));
        assert!(w("https://*.a.com").covers(&w("https://app-*.a.com")));
        assert!(w("http*://a.com").covers(&w("https*://a.com")));
        assert!(w("x-*").covers(&w("x-amz-*")));
        assert!(!w("https://*.x.a.com").covers(&w("https://*.a.com")));
        assert!(!w("https://app-*.a.com").covers(&w("https://*.a.com")));
        // Same text, different shapes: neither contains the other.
        assert!(!w("ab*").covers(&w("a*b")));
        assert!(!w("a*b").covers(&w("ab*")));
    }

    #[test]
    fn only_one_star_makes_a_wildcard() {
        assert_eq!(Wildcard::new("abc".into()), Err("abc".into()));
        assert_eq!(Wildcard::new("a*b*c".into()), Err("a*b*c".into()));
    }

    #[test]
    fn other_glob_characters_are_literal() {
        assert!(m("http://[::1]:*", "http://[::1]:8080"));
        assert!(!m("http://[::1]:*", "http://1:8080"));
        assert!(m("a?c*", "a?cd"));
        assert!(!m("a?c*", "abcd"));
        assert!(m("{a,b}*", "{a,b}x"));
        assert!(!m("{a,b}*", "ax"));
    }
}
