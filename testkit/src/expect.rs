//! The response checks the end-to-end suites share: the exact set of
//! `Access-Control-*` headers, `Vary`, further headers and the body. Each
//! check appends a readable problem per mismatch instead of stopping, so a
//! table reports every failing case at once.

use crate::Response;
use std::collections::HashSet;

// Expected values, written from the spec (docs/spec.md), not taken from the filter's code.
pub const ACAO: &str = "access-control-allow-origin";
pub const ACAC: &str = "access-control-allow-credentials";
pub const ACAM: &str = "access-control-allow-methods";
pub const ACAH: &str = "access-control-allow-headers";
pub const ACEH: &str = "access-control-expose-headers";
pub const ACMA: &str = "access-control-max-age";

/// Spec 3.7: the Vary of every preflight answer of the filter.
pub const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
/// Spec 3.5 (OSS's text, spelling included).
pub const MSG_NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.";
/// Spec 3.2.
pub const MSG_NOT_ENABLED: &str = "CORSResponse: CORS is not enabled for this bucket.";

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The 403 body of spec section 3 (without a trailing newline; see [`Body::Xml403`]).
pub fn body_403(message: &str, request_id: &str, host: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>AccessForbidden</Code>\n  <Message>{}</Message>\n  <RequestId>{}</RequestId>\n  <HostId>{}</HostId>\n</Error>",
        xml_escape(message),
        xml_escape(request_id),
        xml_escape(host)
    )
}

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
    /// The 403 XML body; a single trailing newline is tolerated (the spec is silent on it).
    Xml403(String),
    Contains(String),
}

/// Each listed `Access-Control-*` header exactly once with exactly this value, and no other
/// `Access-Control-*` header.
pub fn cors_headers(resp: &Response, acx: &[(&str, String)], problems: &mut Vec<String>) {
    for (name, want) in acx {
        let got = resp.header_all(name);
        if got != [want.as_str()] {
            problems.push(format!("{name}: got {got:?} (want exactly [{want:?}])"));
        }
    }
    let expected: HashSet<&str> = acx.iter().map(|(n, _)| *n).collect();
    for (n, v) in &resp.headers {
        let l = n.to_ascii_lowercase();
        if l.starts_with("access-control-") && !expected.contains(l.as_str()) {
            problems.push(format!("unexpected header {n}: {v:?}"));
        }
    }
}

pub fn vary(resp: &Response, want: &Vary, problems: &mut Vec<String>) {
    let lines = resp.header_all("vary");
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
        Body::Xml403(b) => {
            if body != *b && body != format!("{b}\n") {
                problems.push(format!("body: got\n{body}\n(want\n{b}\n)"));
            }
        }
        Body::Contains(b) => {
            if !body.contains(b.as_str()) {
                problems.push(format!("body: got {body:?} (want it to contain {b:?})"));
            }
        }
    }
}
