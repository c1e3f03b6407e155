//! Property tests: the compiled `AllowedOrigin` and `AllowedHeader` matchers
//! (exact sets + single-`*` wildcards) against the reference model of
//! `docs/spec.md` (`bucket_cors_spec::reference`, also the fuzz targets'
//! oracle). The matchers are internal, so each case writes a one-rule
//! configuration of the reference model, compiles its JSON with
//! `Policy::from_json` and asks `Policy::decide` about one preflight and one
//! actual request: the preflight's status, headers and body, the actual
//! request's grant and its response headers must be the reference's.
//!
//! `PROPTEST_CASES` overrides the number of cases of every property.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bucket_cors_core::{Action, AllowOrigin, HeaderOp, Policy, Request};
use bucket_cors_spec::reference::{self, is_serialized_origin, Config, Cors, Expected, Rule};
use proptest::prelude::*;

// ------------------------------------------------------------ harness

/// Bucket `b`, path style, one rule allowing `GET`.
fn one_rule(origins: &[String], headers: &[String]) -> Config {
    Config {
        buckets: vec![(
            "b".to_string(),
            Cors::new(vec![Rule {
                origins: origins.to_vec(),
                methods: vec!["GET".to_string()],
                headers: headers.to_vec(),
                ..Rule::default()
            }]),
        )],
        ..Config::default()
    }
}

fn compile(config: &Config) -> Result<Policy, String> {
    Policy::from_json(config.to_json().as_bytes()).map_err(|e| e.to_string())
}

/// What a decision shows a client, for the core and the reference alike:
/// a local reply (status, headers in order, body) or a forwarded request's
/// grant (rule, `*` or echo) and its response headers when the upstream
/// sent none.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Ignore,
    Reply(u32, Vec<(String, String)>, String),
    Forward(Option<(usize, Option<String>)>, Vec<(String, Vec<u8>)>),
}

fn core_sees(policy: &Policy, lines: &[(String, Vec<u8>)]) -> Seen {
    let req = Request::from_headers(lines.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
    match policy.decide(&req).action {
        Action::Ignore => Seen::Ignore,
        Action::Reply(r) => Seen::Reply(
            r.status,
            r.headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            String::from_utf8(r.body).expect("the filter's bodies are UTF-8"),
        ),
        Action::Forward(plan) => {
            let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
            for op in plan.header_ops(std::iter::empty::<(&str, &[u8])>()) {
                if let HeaderOp::Set(n, v) = op {
                    headers.push((n.to_string(), v.as_bytes().to_vec()));
                }
            }
            headers.sort();
            let grant = plan.grant.map(|g| {
                let echo = match g.allow_origin {
                    AllowOrigin::Any => None,
                    AllowOrigin::Echo(o) => Some(o),
                };
                (g.rule, echo)
            });
            Seen::Forward(grant, headers)
        }
    }
}

fn reference_sees(config: &Config, lines: &[(String, Vec<u8>)]) -> Seen {
    let all = reference::decide(config, lines);
    let [one] = all.as_slice() else {
        panic!("the reference is unsure of the bucket of {lines:?}");
    };
    match one {
        Expected::Ignore => Seen::Ignore,
        Expected::Reply(r) => Seen::Reply(
            r.status,
            r.headers.clone(),
            r.body.clone().expect("plain request id and host"),
        ),
        Expected::Forward(f) => {
            let mut headers = f.response(&[]);
            headers.sort();
            let grant = f.grant.as_ref().map(|g| {
                let echo = match &g.allow_origin {
                    reference::AllowOrigin::Any => None,
                    reference::AllowOrigin::Echo(o) => Some(o.clone()),
                };
                (g.rule, echo)
            });
            Seen::Forward(grant, headers)
        }
    }
}

/// A preflight `GET` to bucket `b` from `origin`, with ACRH `acrh`, and the
/// actual `GET` from the same origin: the core and the reference must see
/// the same in both.
fn agree(
    config: &Config,
    policy: &Policy,
    origin: &str,
    acrh: Option<&str>,
) -> Result<(), TestCaseError> {
    let line = |n: &str, v: &str| (n.to_string(), v.as_bytes().to_vec());
    let mut preflight = vec![
        line(":method", "OPTIONS"),
        line(":authority", "s3.test"),
        line(":path", "/b/key"),
        line("origin", origin),
        line("access-control-request-method", "GET"),
    ];
    if let Some(h) = acrh {
        preflight.push(line("access-control-request-headers", h));
    }
    let actual = vec![
        line(":method", "GET"),
        line(":authority", "s3.test"),
        line(":path", "/b/key"),
        line("origin", origin),
    ];
    for lines in [preflight, actual] {
        prop_assert_eq!(
            core_sees(policy, &lines),
            reference_sees(config, &lines),
            "configuration {} request {:?}",
            config.to_json(),
            lines
        );
    }
    Ok(())
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

    /// One `AllowedOrigin` pattern against one Origin. A refused pattern
    /// must break the grammar of spec §1.
    #[test]
    fn one_origin_pattern_matches_like_the_reference(
        (pattern, origin) in pattern().prop_flat_map(|p| (Just(p.clone()), origin_for(p))),
        pmask in any::<u64>(),
        omask in any::<u64>(),
    ) {
        let pattern = recase(&pattern, pmask);
        let origin = recase(&origin, omask);
        let config = one_rule(std::slice::from_ref(&pattern), &[]);
        let policy = match compile(&config) {
            Ok(p) => p,
            Err(e) => {
                // Refusals beyond the grammar (too broad, default port) are
                // the core's to make; a refused pattern is still never a
                // plain well-formed origin without `*` and a non-default port.
                let plain = !pattern.contains('*') && is_serialized_origin(pattern.as_bytes());
                let lower = pattern.to_ascii_lowercase();
                let default_port = (lower.starts_with("https://") && lower.ends_with(":443"))
                    || (lower.starts_with("http://") && lower.ends_with(":80"));
                prop_assert!(!plain || default_port, "refused a plain origin {pattern:?}: {e}");
                return Ok(());
            }
        };
        prop_assert!(pattern.matches('*').count() <= 1);
        agree(&config, &policy, &origin, None)?;
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
        let config = one_rule(&patterns, &[]);
        let Ok(policy) = compile(&config) else {
            return Ok(());
        };
        agree(&config, &policy, &origin, None)?;
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
        let config = one_rule(&["https://www.a.com".to_string()], &patterns);
        let policy = compile(&config)
            .expect("tokens with at most one * are valid AllowedHeader entries");
        agree(&config, &policy, "https://www.a.com", Some(&line))?;
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
        prop_assert!(compile(&one_rule(std::slice::from_ref(&p), &[])).is_err(), "accepted {:?}", p);
        let null = recase("null", mask);
        prop_assert!(compile(&one_rule(std::slice::from_ref(&null), &[])).is_err(), "accepted {:?}", null);
    }
}
