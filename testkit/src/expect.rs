//! The response checks the end-to-end suites share: the exact set of
//! `Access-Control-*` headers, `Vary`, further headers and the body. Each
//! check appends a readable problem per mismatch instead of stopping, so a
//! table reports every failing case at once.

use crate::{http, Response};
use std::collections::HashSet;

use bucket_cors_spec::names::VARY;

/// What `Vary` must look like.
#[derive(Debug, Clone)]
pub enum Vary {
    /// No `Vary` line at all.
    Absent,
    /// Exactly one `Vary` line with exactly this value.
    Exact(String),
    /// Every token of every `Vary` line, compared case-insensitively as a set; each expected
    /// token exactly once, and no other token.
    Tokens(Vec<String>),
}

/// What the body must be.
#[derive(Debug, Clone)]
pub enum Body {
    Any,
    Empty,
    Exact(String),
    Contains(String),
}

/// Each listed `Access-Control-*` header exactly once with exactly this value, and no other
/// `Access-Control-*` header.
pub fn cors_headers(resp: &Response, acx: &[(&str, String)], problems: &mut Vec<String>) {
    cors_lines("", &resp.headers, acx, problems);
}

/// An expected interim (1xx) response: its status and exactly its `Access-Control-*` headers.
pub type ExpectedInterim = (u16, Vec<(&'static str, String)>);

/// The interim (1xx) responses: exactly these statuses in this order, each with exactly these
/// `Access-Control-*` headers (as [`cors_headers`]).
pub fn interim(resp: &Response, want: &[ExpectedInterim], problems: &mut Vec<String>) {
    let got: Vec<u16> = resp.interim.iter().map(|i| i.status).collect();
    let statuses: Vec<u16> = want.iter().map(|(s, _)| *s).collect();
    if got != statuses {
        problems.push(format!("interim responses {got:?} (want {statuses:?})"));
        return;
    }
    for (i, (status, acx)) in resp.interim.iter().zip(want) {
        cors_lines(&format!("interim {status}: "), &i.headers, acx, problems);
    }
}

fn cors_lines(
    what: &str,
    headers: &[(String, String)],
    acx: &[(&str, String)],
    problems: &mut Vec<String>,
) {
    for (name, want) in acx {
        let got = http::header_all(headers, name);
        if got != [want.as_str()] {
            problems.push(format!(
                "{what}{name}: got {got:?} (want exactly [{want:?}])"
            ));
        }
    }
    let expected: HashSet<&str> = acx.iter().map(|(n, _)| *n).collect();
    for (n, v) in headers {
        let l = n.to_ascii_lowercase();
        if l.starts_with("access-control-") && !expected.contains(l.as_str()) {
            problems.push(format!("{what}unexpected header {n}: {v:?}"));
        }
    }
}

pub fn vary(resp: &Response, want: &Vary, problems: &mut Vec<String>) {
    let lines = resp.header_all(VARY);
    match want {
        Vary::Absent => {
            if !lines.is_empty() {
                problems.push(format!("Vary: got {lines:?} (want none)"));
            }
        }
        Vary::Exact(v) => {
            if lines != [v.as_str()] {
                problems.push(format!("Vary: got {lines:?} (want exactly [{v:?}])"));
            }
        }
        Vary::Tokens(want) => {
            let got: Vec<&str> = lines
                .iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            let ok = got.len() == want.len()
                && want
                    .iter()
                    .all(|w| got.iter().filter(|g| g.eq_ignore_ascii_case(w)).count() == 1);
            if !ok {
                problems.push(format!(
                    "Vary: got lines {lines:?} (want the tokens {want:?}, each once, nothing else)"
                ));
            }
        }
    }
}

/// `Some(v)`: exactly one line with value `v`; `None`: absent.
pub fn headers(resp: &Response, want: &[(String, Option<String>)], problems: &mut Vec<String>) {
    for (name, want) in want {
        let got = resp.header_all(name);
        match want {
            Some(v) if got != [v.as_str()] => {
                problems.push(format!("{name}: got {got:?} (want exactly [{v:?}])"))
            }
            None if !got.is_empty() => problems.push(format!("{name}: got {got:?} (want none)")),
            _ => {}
        }
    }
}

pub fn body(resp: &Response, want: &Body, problems: &mut Vec<String>) {
    let body = resp.body_str();
    match want {
        Body::Any => {}
        Body::Empty => {
            if !resp.body.is_empty() {
                problems.push(format!("body: got {body:?} (want empty)"));
            }
        }
        Body::Exact(b) => {
            if &body != b {
                problems.push(format!("body: got {body:?} (want {b:?})"));
            }
        }
        Body::Contains(b) => {
            if !body.contains(b.as_str()) {
                problems.push(format!("body: got {body:?} (want it to contain {b:?})"));
            }
        }
    }
}
