//! `bucket-cors explain`: [`Policy::explain`] on a request built from the
//! command line, printed for people (the configuration's lints go to
//! standard error, as `check` prints them).
//!
//! The output is line-oriented and stable:
//!
//! ```text
//! request: OPTIONS /photos/cat.jpg (authority s3.example.com)
//! bucket: "photos", rules from buckets."photos"
//! kind: preflight (OPTIONS with Origin and Access-Control-Request-Method)
//! rule 0 (ID "web"): matches
//! rule 1: fails: Origin "https://x.com" matches no AllowedOrigin
//! winner: rule 0 (ID "web")
//! decision: reply 200 from the filter; the upstream never sees the request
//!   access-control-allow-origin: https://www.example.com
//!   ...
//!   (empty body)
//! outcome: bucket_cors.preflight.allowed
//! ```

use crate::check::{describe_errors, describe_lints};
use crate::policy;
use crate::{input, Report};
use bucket_cors_core::{Action, Explanation, HeaderOp, LocalReply, Outcome, Request, Source};
use std::fmt::Write;

pub fn run(
    config: &str,
    method: &str,
    url: &str,
    headers: &[String],
    response_headers: &[String],
) -> Report {
    match explain(config, method, url, headers, response_headers) {
        Ok((out, warnings)) => Report {
            out,
            err: warnings,
            failed: false,
        },
        Err(message) => Report::fail(message),
    }
}

fn explain(
    config: &str,
    method: &str,
    url: &str,
    headers: &[String],
    response_headers: &[String],
) -> Result<(String, String), String> {
    let request = request_headers(method, url, headers)?;
    let response = response_headers
        .iter()
        .map(|h| split_header(h).map(|(n, v)| (n, v.into_bytes())))
        .collect::<Result<Vec<_>, _>>()?;
    let name = input::display_name(config);
    let policy = policy::compile(&input::read(config)?).map_err(|e| describe_errors(name, &e))?;
    let req = Request::from_headers(request.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
    let explanation = policy.explain(&req);
    Ok((
        render(&req, &explanation, &response),
        describe_lints(name, &policy.lints()),
    ))
}

/// The request as Envoy hands it to the filter: pseudo-headers from the
/// method and URL, then the `-H` headers (a `Host:` or `:authority` header
/// replaces the URL's host; `:method` and `:path` may be overridden too).
fn request_headers(
    method: &str,
    url: &str,
    headers: &[String],
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let (mut authority, mut path) = split_url(url)?;
    let mut method = method.to_string();
    let mut rest = Vec::new();
    for h in headers {
        let (name, value) = split_header(h)?;
        match name.as_str() {
            "host" | ":authority" => authority = value,
            ":path" => path = value,
            ":method" => method = value,
            _ => rest.push((name, value.into_bytes())),
        }
    }
    let mut out = vec![
        (":method".to_string(), method.into_bytes()),
        (":authority".to_string(), authority.into_bytes()),
        (":path".to_string(), path.into_bytes()),
    ];
    out.extend(rest);
    Ok(out)
}

/// `Name: value` → (lower-case name, value without surrounding blanks).
/// A leading `:` belongs to the name (`:authority: h`).
fn split_header(h: &str) -> Result<(String, String), String> {
    let skip = usize::from(h.starts_with(':'));
    let colon = h[skip..]
        .find(':')
        .map(|i| i + skip)
        .ok_or_else(|| format!("header {h:?}: expected `Name: value`"))?;
    let name = h[..colon].trim();
    if name.is_empty() || name == ":" || name.contains(char::is_whitespace) {
        return Err(format!("header {h:?}: expected `Name: value`"));
    }
    let value = h[colon + 1..].trim_matches([' ', '\t']);
    Ok((name.to_ascii_lowercase(), value.to_string()))
}

/// `scheme://[userinfo@]host[:port][/path][?query][#fragment]` → (host[:port],
/// path with query); `/path` alone gives an empty authority. The fragment is
/// never sent, so it is dropped.
fn split_url(url: &str) -> Result<(String, String), String> {
    let url = url.split('#').next().unwrap_or_default();
    let (authority, path) = if let Some(i) = url.find("://") {
        let scheme = &url[..i];
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(format!("--url {url:?}: bad scheme"));
        }
        let rest = &url[i + 3..];
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let authority = authority.rsplit('@').next().unwrap_or_default();
        (authority, &rest[end..])
    } else if url.starts_with('/') {
        ("", url)
    } else {
        return Err(format!(
            "--url {url:?}: expected http://host[:port]/path or /path"
        ));
    };
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    Ok((authority.to_string(), path))
}

fn rule_label(index: usize, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("rule {index} (ID {id:?})"),
        None => format!("rule {index}"),
    }
}

fn render(req: &Request<'_>, e: &Explanation, response: &[(String, Vec<u8>)]) -> String {
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut out = String::new();
    let authority = if req.authority.is_empty() {
        "none".to_string()
    } else {
        lossy(req.authority)
    };
    let _ = writeln!(
        out,
        "request: {} {} (authority {authority})",
        lossy(req.method),
        lossy(req.path)
    );

    let policy = |entry: &str| match &e.policy {
        Some(p) => format!("rules from policy {p:?}, named by {entry}"),
        None => format!("rules from {entry}"),
    };
    match (&e.bucket, e.source) {
        (None, _) => {
            let _ = writeln!(
                out,
                "bucket: none (neither the host nor the path names a bucket)"
            );
        }
        (Some(b), Source::Bucket) => {
            let _ = writeln!(out, "bucket: {b:?}, {}", policy(&format!("buckets.{b:?}")));
        }
        (Some(b), Source::Default) => {
            let _ = writeln!(
                out,
                "bucket: {b:?}, {} (the bucket is not under buckets)",
                policy("default")
            );
        }
        (Some(b), Source::None) => {
            let _ = writeln!(
                out,
                "bucket: {b:?}, no CORS configuration (not under buckets, and no default)"
            );
        }
    }

    let kind = if e.preflight {
        "preflight (OPTIONS with Origin and Access-Control-Request-Method)"
    } else if req.origin.is_present() {
        "actual request (Origin, not a preflight)"
    } else {
        "request without Origin (not a CORS request)"
    };
    let _ = writeln!(out, "kind: {kind}");

    for rule in &e.rules {
        let label = rule_label(rule.index, rule.id.as_deref());
        match &rule.verdict {
            Ok(()) => {
                let _ = writeln!(out, "{label}: matches");
            }
            Err(why) => {
                let _ = writeln!(out, "{label}: fails: {why}");
            }
        }
    }

    // The winner: the rule of the grant on a forwarded request, else the
    // first matching rule when the outcome says one matched.
    let granted = match &e.decision.action {
        Action::Forward(plan) => plan.grant.as_ref().map(|g| g.rule),
        _ => None,
    };
    let matched = matches!(
        e.decision.outcome,
        Outcome::PreflightAllowed | Outcome::ActualMatched
    );
    let winner = granted.or_else(|| {
        matched
            .then(|| e.rules.iter().find(|r| r.verdict.is_ok()).map(|r| r.index))
            .flatten()
    });
    if e.bucket.is_some() && e.source != Source::None {
        match winner {
            Some(i) => {
                let id = e.rules.get(i).and_then(|r| r.id.as_deref());
                let _ = writeln!(out, "winner: {}", rule_label(i, id));
            }
            None => {
                let _ = writeln!(out, "winner: none");
            }
        }
    }

    match (&e.decision.action, &e.decision.reported) {
        (Action::Ignore, Some(enforced)) => {
            let _ = writeln!(
                out,
                "mode: report (the bucket's Mode is \"report\": the filter counts the outcome and changes nothing)"
            );
            let _ = writeln!(out, "decision: left alone (report mode)");
            render_action(&mut out, "if enforced", enforced, response);
        }
        (action, _) => render_action(&mut out, "decision", action, response),
    }

    match e.decision.outcome.counter() {
        Some(counter) => {
            let _ = writeln!(out, "outcome: {}", counter.name());
        }
        None => {
            let why = match e.decision.outcome {
                Outcome::NoOrigin => "no Origin",
                _ => "no configured bucket",
            };
            let _ = writeln!(out, "outcome: no counter ({why})");
        }
    }
    out
}
/// What the filter does with the request, or would do in report mode.
fn render_action(out: &mut String, label: &str, action: &Action, response: &[(String, Vec<u8>)]) {
    match action {
        Action::Ignore => {
            let _ = writeln!(
                out,
                "{label}: left alone (the filter changes neither the request nor its response)"
            );
        }
        Action::Reply(reply) => render_reply(out, label, reply),
        Action::Forward(plan) => {
            let ops = plan.header_ops(response.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
            let removes: Vec<&str> = ops
                .iter()
                .filter_map(|op| match op {
                    HeaderOp::Remove(n) => Some(n.as_ref()),
                    HeaderOp::Set(..) => None,
                })
                .collect();
            if !plan.is_governed() {
                let _ = writeln!(
                    out,
                    "{label}: forwarded to the upstream; no rules govern the response, so upstream_cors \"strip\" removes the upstream's own CORS headers"
                );
                if !removes.is_empty() {
                    let _ = writeln!(out, "  removes: {}", removes.join(", "));
                }
                return;
            }
            let sets: Vec<_> = ops
                .iter()
                .filter_map(|op| match op {
                    HeaderOp::Set(n, v) => Some((*n, v.as_ref())),
                    HeaderOp::Remove(_) => None,
                })
                .collect();
            if sets.is_empty() {
                let _ = writeln!(
                    out,
                    "{label}: forwarded to the upstream; on the response the filter sets no header"
                );
            } else {
                let _ = writeln!(
                    out,
                    "{label}: forwarded to the upstream; on the response the filter sets:"
                );
                for (n, v) in &sets {
                    let _ = writeln!(out, "  {n}: {v}");
                }
            }
            if !removes.is_empty() {
                let _ = writeln!(out, "  and removes: {}", removes.join(", "));
            }
            if response.is_empty() {
                let _ = writeln!(
                    out,
                    "  (an upstream's own Access-Control-* headers are replaced or removed{})",
                    if sets.iter().any(|(n, _)| *n == "vary") {
                        "; Origin is merged into its Vary"
                    } else {
                        ""
                    }
                );
            }
        }
    }
}

fn render_reply(out: &mut String, label: &str, reply: &LocalReply) {
    let _ = writeln!(
        out,
        "{label}: reply {} from the filter; the upstream never sees the request",
        reply.status
    );
    for (n, v) in &reply.headers {
        let _ = writeln!(out, "  {n}: {v}");
    }
    if reply.body.is_empty() {
        let _ = writeln!(out, "  (empty body)");
    } else {
        let _ = writeln!(out, "  body:");
        for line in String::from_utf8_lossy(&reply.body).lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let ok = |u: &str| split_url(u).unwrap();
        assert_eq!(
            ok("https://photos.s3.example.com:8443/k?x=1#f"),
            ("photos.s3.example.com:8443".into(), "/k?x=1".into())
        );
        assert_eq!(ok("http://h"), ("h".into(), "/".into()));
        assert_eq!(ok("http://h?x"), ("h".into(), "/?x".into()));
        assert_eq!(ok("http://u:p@h/b/k"), ("h".into(), "/b/k".into()));
        assert_eq!(ok("/b/k"), ("".into(), "/b/k".into()));
        assert!(split_url("h/b/k").is_err());
        assert!(split_url("://h/b").is_err());
    }

    #[test]
    fn headers() {
        assert_eq!(
            split_header("Origin:  https://a.com ").unwrap(),
            ("origin".into(), "https://a.com".into())
        );
        assert_eq!(
            split_header(":authority: h:1").unwrap(),
            (":authority".into(), "h:1".into())
        );
        assert_eq!(
            split_header("X-Empty:").unwrap(),
            ("x-empty".into(), "".into())
        );
        assert!(split_header("Origin https://a.com").is_err());
        assert!(split_header(": x").is_err());
        assert!(split_header("Bad Name: x").is_err());
    }
}
