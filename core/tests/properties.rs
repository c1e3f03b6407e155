//! Property tests: the compiled `AllowedOrigin` and `AllowedHeader` matchers
//! (exact sets + single-`*` wildcards) against a tiny, obviously-correct reference of
//! the single-`*` grammar of `docs/spec.md` §1 and §5. The matchers are
//! internal, so each case compiles a one-rule configuration with
//! `Policy::from_json` and asks `Policy::decide` about one preflight (and
//! one actual request): "got ACAO / got 200" must be what the reference says.
//!
//! `PROPTEST_CASES` overrides the number of cases of every property.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bucket_cors_core::{names, Action, AllowOrigin, Policy, Request, Single};
use proptest::prelude::*;
use serde_json::json;

// ------------------------------------------------------------ reference

/// Spec §5: `scheme "://" host [":" port]`; scheme a letter then letters,
/// digits, `+ - .`; host letters, digits, `-`, `.` or `[` IPv6 `]`; port 1 to
/// 5 digits; nothing else; at most 2 KiB.
fn well_formed(origin: &str) -> bool {
    if origin.is_empty() || origin.len() > 2048 {
        return false;
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let Some(close) = v6.find(']') else {
            return false;
        };
        let inner = &v6[..close];
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || ":.".contains(c))
        {
            return false;
        }
        (None, &v6[close + 1..])
    } else {
        match rest.find(':') {
            Some(i) => (Some(&rest[..i]), &rest[i..]),
            None => (Some(rest), ""),
        }
    };
    // `None`: an IPv6 literal, checked above.
    let host_ok = host.is_none_or(|h| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c))
    });
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|d| (1..=5).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()));
    scheme_ok && host_ok && port_ok
}

/// One `*` for any run of characters, anchored at both ends.
fn star_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((pre, suf)) => {
            text.len() >= pre.len() + suf.len() && text.starts_with(pre) && text.ends_with(suf)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ref {
    No,
    Any,
    Listed,
}

/// One `AllowedOrigin` entry against one non-empty Origin (spec §5).
fn ref_origin(pattern: &str, origin: &str) -> Ref {
    if pattern == "*" {
        Ref::Any
    } else if well_formed(origin)
        && star_match(&pattern.to_ascii_lowercase(), &origin.to_ascii_lowercase())
    {
        Ref::Listed
    } else {
        Ref::No
    }
}

/// A rule's origin list: a listed match wins over `*` (spec §3.6).
fn ref_rule(patterns: &[String], origin: &str) -> Ref {
    let m: Vec<Ref> = patterns.iter().map(|p| ref_origin(p, origin)).collect();
    if m.contains(&Ref::Listed) {
        Ref::Listed
    } else if m.contains(&Ref::Any) {
        Ref::Any
    } else {
        Ref::No
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// Spec §3.3 and §5: the requested names, or `None` when the list fails.
fn ref_acrh(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for item in line.split(',') {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() {
            continue;
        }
        if !is_token(item) {
            return None;
        }
        out.push(item.to_ascii_lowercase());
    }
    (out.len() <= 64 && line.len() <= 4096).then_some(out)
}

// ------------------------------------------------------------ harness

fn one_rule(origins: &[String], headers: &[String]) -> Result<Policy, String> {
    let config = json!({
        "buckets": { "b": { "CORSRule": [ {
            "AllowedOrigin": origins,
            "AllowedMethod": ["GET"],
            "AllowedHeader": headers,
        } ] } }
    });
    Policy::from_json(config.to_string().as_bytes()).map_err(|e| e.to_string())
}

/// What the core answers: the preflight's (status, ACAO, ACAC, ACAH) and the
/// actual GET's grant.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u32,
    acao: Option<String>,
    acac: Option<String>,
    acah: Option<String>,
    grant: Option<AllowOrigin>,
}

fn ask(policy: &Policy, origin: &str, acrh: Option<&str>) -> Answer {
    let mut req = Request {
        method: b"OPTIONS",
        authority: b"s3.test",
        path: b"/b/key",
        origin: Single::One(origin.as_bytes()),
        request_method: Single::One(b"GET"),
        ..Request::default()
    };
    if let Some(h) = acrh {
        req.request_headers = vec![h.as_bytes()];
    }
    let Action::Reply(reply) = policy.decide(&req).action else {
        panic!("a preflight to a configured bucket is answered locally");
    };
    let header = |name: &str| {
        reply
            .headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    };
    req.method = b"GET";
    req.request_method = Single::Absent;
    req.request_headers.clear();
    let Action::Forward(plan) = policy.decide(&req).action else {
        panic!("an actual request to a configured bucket is forwarded");
    };
    Answer {
        status: reply.status,
        acao: header(names::ACAO),
        acac: header(names::ACAC),
        acah: header(names::ACAH),
        grant: plan.grant.map(|g| g.allow_origin),
    }
}

fn expected(m: Ref, origin: &str, acah: Option<String>) -> Answer {
    match m {
        Ref::No => Answer {
            status: 403,
            acao: None,
            acac: None,
            acah: None,
            grant: None,
        },
        Ref::Any => Answer {
            status: 200,
            acao: Some("*".into()),
            acac: None,
            acah,
            grant: Some(AllowOrigin::Any),
        },
        Ref::Listed => Answer {
            status: 200,
            acao: Some(origin.into()),
            acac: Some("true".into()),
            acah,
            grant: Some(AllowOrigin::Echo(origin.into())),
        },
    }
}

// ---------------------------------------------------------- strategies

/// Flips the case of the characters `mask` picks (matching is ASCII
/// case-insensitive; the echo keeps the request's bytes).
fn recase(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn scheme() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("https".to_string()),
        Just("http".to_string()),
        Just("ws".to_string()),
        Just("a+b.c-1".to_string()),
    ]
}

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a"),
        Just("b"),
        Just("com"),
        Just("b-c"),
        Just("x1"),
        Just("0"),
    ]
    .prop_map(str::to_string)
}

/// A serialized origin over a small alphabet, so that patterns and origins
/// often share text.
fn origin_text() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        4 => prop::collection::vec(label(), 1..4).prop_map(|l| l.join(".")),
        1 => Just("[::1]".to_string()),
        1 => Just("[2001:db8::a]".to_string()),
    ];
    let port = prop_oneof![
        3 => Just(String::new()),
        1 => Just(":8080".to_string()),
        1 => Just(":1".to_string()),
        1 => Just(":65535".to_string()),
    ];
    (scheme(), host, port).prop_map(|(s, h, p)| format!("{s}://{h}{p}"))
}

/// A pattern: an origin with at most one `*` replacing a run of its text
/// (often a whole label or the port), or `*`.
fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("*".to_string()),
        3 => origin_text(),
        8 => (origin_text(), any::<prop::sample::Index>(), 0..6usize).prop_map(|(o, at, len)| {
            let start = at.index(o.len() + 1);
            let end = (start + len).min(o.len());
            format!("{}*{}", &o[..start], &o[end..])
        }),
    ]
}

/// Text a `*` may stand for, including bytes that break an origin.
fn fill() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            6 => prop::sample::select(vec!["a", "b", ".", "-", "1", "com", "b.com"]),
            1 => prop::sample::select(vec![":", "/", "@", " ", ",", "[", "]", "*", "\t", "é"]),
        ],
        0..5,
    )
    .prop_map(|v| v.concat())
}

/// An Origin for `pattern`: the pattern with its `*` filled, a near miss
/// (one character changed, added or removed), another origin, or oddities.
fn origin_for(pattern: String) -> impl Strategy<Value = String> {
    let filled = {
        let p = pattern.clone();
        fill().prop_map(move |f| p.replacen('*', &f, 1))
    };
    let near = {
        let p = pattern.clone();
        (
            fill(),
            any::<prop::sample::Index>(),
            0..3usize,
            any::<bool>(),
        )
            .prop_map(move |(f, at, cut, insert)| {
                let base = p.replacen('*', "a", 1);
                let i = at.index(base.len() + 1);
                let j = (i + cut).min(base.len());
                if insert {
                    format!("{}{}{}", &base[..i], f, &base[i..])
                } else {
                    format!("{}{}", &base[..i], &base[j..])
                }
            })
    };
    prop_oneof![
        6 => filled,
        3 => near,
        2 => origin_text(),
        1 => prop::sample::select(vec!["null", "https://", "https://a.com/", "file://", "x"])
            .prop_map(str::to_string),
    ]
    .prop_filter("an empty Origin is absent", |o| !o.is_empty())
}

/// An `AllowedHeader` token with at most one `*`, or `*` alone.
fn header_pattern() -> impl Strategy<Value = String> {
    let part = prop::collection::vec(
        prop::sample::select(vec!["x", "-", "oss", "a", "_", "1"]),
        0..4,
    )
    .prop_map(|v| v.concat());
    prop_oneof![
        1 => Just("*".to_string()),
        2 => part.clone().prop_filter("a token is not empty", |s| !s.is_empty()),
        5 => (part.clone(), part).prop_map(|(a, b)| format!("{a}*{b}")),
    ]
}

/// Requested header names for some `AllowedHeader` patterns: a pattern with
/// its `*` filled, a near miss, or an arbitrary (possibly non-token) item.
fn requested(patterns: Vec<String>) -> impl Strategy<Value = Vec<String>> {
    let item = (
        any::<prop::sample::Index>(),
        prop::collection::vec(prop::sample::select(vec!["x", "-", "a", "1", "oss"]), 0..3),
        0..8u8,
    )
        .prop_map(move |(pick, fill, kind)| {
            let p = if patterns.is_empty() {
                "x-a".to_string()
            } else {
                patterns[pick.index(patterns.len())].clone()
            };
            let filled = p.replacen('*', &fill.concat(), 1);
            match kind {
                0 => format!("{filled}z"),
                1 => filled.chars().skip(1).collect(),
                2 => format!("{filled} y"),
                3 => format!("\t{filled} "),
                _ => filled,
            }
        });
    prop::collection::vec(item, 0..4)
}

// ---------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// One `AllowedOrigin` pattern against one Origin: the preflight's status,
    /// ACAO and ACAC and the actual request's grant are what the reference
    /// says. A refused pattern must break the reference grammar.
    #[test]
    fn one_origin_pattern_matches_like_the_reference(
        (pattern, origin) in pattern().prop_flat_map(|p| (Just(p.clone()), origin_for(p))),
        pmask in any::<u64>(),
        omask in any::<u64>(),
    ) {
        let pattern = recase(&pattern, pmask);
        let origin = recase(&origin, omask);
        let policy = match one_rule(std::slice::from_ref(&pattern), &[]) {
            Ok(p) => p,
            Err(e) => {
                // Refusals beyond the grammar (too broad, default port) are
                // the core's to make; a refused pattern is still never a
                // plain well-formed origin without `*` and a non-default port.
                let plain = !pattern.contains('*') && well_formed(&pattern);
                let lower = pattern.to_ascii_lowercase();
                let default_port = (lower.starts_with("https://") && lower.ends_with(":443"))
                    || (lower.starts_with("http://") && lower.ends_with(":80"));
                prop_assert!(!plain || default_port, "refused a plain origin {pattern:?}: {e}");
                return Ok(());
            }
        };
        prop_assert!(pattern.matches('*').count() <= 1);
        let got = ask(&policy, &origin, None);
        let want = expected(ref_origin(&pattern, &origin), &origin, None);
        prop_assert_eq!(got, want, "pattern {:?} origin {:?}", pattern, origin);
    }

    /// Several patterns in one rule, maybe with `*`: a listed match echoes
    /// the Origin with credentials, else `*` answers `*`, else 403.
    #[test]
    fn origin_lists_prefer_a_listed_match_over_star(
        (patterns, origin) in prop::collection::vec(pattern(), 1..5).prop_flat_map(|ps| {
            let pick = ps[0].clone();
            (Just(ps), origin_for(pick))
        }),
        rotate in any::<prop::sample::Index>(),
    ) {
        let mut patterns = patterns;
        let n = rotate.index(patterns.len());
        patterns.rotate_left(n);
        let Ok(policy) = one_rule(&patterns, &[]) else {
            return Ok(());
        };
        let got = ask(&policy, &origin, None);
        let want = expected(ref_rule(&patterns, &origin), &origin, None);
        prop_assert_eq!(got, want, "patterns {:?} origin {:?}", patterns, origin);
    }

    /// `AllowedHeader` patterns against requested headers: 200 iff every
    /// requested name (trimmed, lower-cased, a token) matches one pattern,
    /// case-insensitively; ACAH lists them normalised.
    #[test]
    fn header_patterns_match_like_the_reference(
        (patterns, names) in prop::collection::vec(header_pattern(), 0..4)
            .prop_flat_map(|ps| (Just(ps.clone()), requested(ps))),
        pmask in any::<u64>(),
        hmask in any::<u64>(),
    ) {
        let patterns: Vec<String> = patterns.iter().map(|p| recase(p, pmask)).collect();
        let line = recase(&names.join(","), hmask);
        let policy = one_rule(&["https://www.a.com".to_string()], &patterns)
            .expect("tokens with at most one * are valid AllowedHeader entries");
        let origin = "https://www.a.com";
        let got = ask(&policy, origin, Some(&line));
        let want = match ref_acrh(&line) {
            Some(req) if req.iter().all(|h| {
                patterns.iter().any(|p| p == "*" || star_match(&p.to_ascii_lowercase(), h))
            }) => {
                let acah = (!req.is_empty()).then(|| req.join(", "));
                expected(Ref::Listed, origin, acah)
            }
            _ => Answer {
                status: 403,
                acao: None,
                acac: None,
                acah: None,
                // The actual request does not look at headers.
                grant: Some(AllowOrigin::Echo(origin.into())),
            },
        };
        prop_assert_eq!(got, want, "AllowedHeader {:?} ACRH {:?}", patterns, line);
    }

    /// What the grammar can never accept: two `*`, `null`, whitespace or a
    /// control character anywhere.
    #[test]
    fn patterns_outside_the_grammar_are_refused(
        base in pattern(),
        at in any::<prop::sample::Index>(),
        bad in prop::sample::select(vec!["*", " ", "\t", "\n", "\u{0}", "\u{7f}", "\u{a0}"]),
        mask in any::<u64>(),
    ) {
        let i = at.index(base.len() + 1);
        let mut p = format!("{}{}{}", &base[..i], bad, &base[i..]);
        if bad == "*" && !base.contains('*') {
            p.push('*');
        }
        prop_assert!(one_rule(std::slice::from_ref(&p), &[]).is_err(), "accepted {:?}", p);
        let null = recase("null", mask);
        prop_assert!(one_rule(std::slice::from_ref(&null), &[]).is_err(), "accepted {:?}", null);
    }
}
