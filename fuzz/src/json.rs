//! A reference validator of the plugin configuration (spec §1), written from
//! the spec over a JSON tree that keeps duplicate keys (a repeated field or
//! bucket name is refused) and tells objects from arrays (only objects are
//! configurations: serde's derived structs would also take a list); and the
//! reading of an accepted configuration as the reference model's
//! [`Config`], so that requests against it can be checked. The grammar of
//! origins, tokens and bucket names is the reference model's.

use bucket_cors_spec::reference::{
    is_bucket_name, is_host, is_port, is_scheme, is_serialized_origin, is_token, split_origin,
    star_match, wildcard_over_ip_address, Config, Cors, Mode, Rule, Unmatched,
};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A JSON value with every object entry kept, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<J, E> {
                Ok(J::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<J, E> {
                Ok(J::Int(n))
            }
            fn visit_u64<E>(self, n: u64) -> Result<J, E> {
                Ok(J::Uint(n))
            }
            fn visit_f64<E>(self, n: f64) -> Result<J, E> {
                Ok(J::Float(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<J, E> {
                Ok(J::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<J, E> {
                Ok(J::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(J::Arr(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, J>()? {
                    v.push((k, x));
                }
                Ok(J::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

type R = Result<(), String>;

/// The fields of one object by canonical name; unknown and repeated fields
/// (an alias counts as its field) and missing required fields are errors.
fn fields<'a>(
    obj: &'a J,
    known: &[(&'static str, &[&str], bool)],
) -> Result<Vec<(&'static str, &'a J)>, String> {
    let J::Obj(entries) = obj else {
        return Err(format!("not an object: {obj:?}"));
    };
    let mut out: Vec<(&'static str, &'a J)> = Vec::new();
    for (k, v) in entries {
        let Some((canon, _, _)) = known
            .iter()
            .find(|(c, aliases, _)| c == k || aliases.contains(&k.as_str()))
        else {
            return Err(format!("unknown field {k:?}"));
        };
        let canon: &'static str = canon;
        if out.iter().any(|(c, _)| *c == canon) {
            return Err(format!("duplicate field {k:?}"));
        }
        out.push((canon, v));
    }
    for (c, _, required) in known {
        if *required && !out.iter().any(|(k, _)| k == c) {
            return Err(format!("missing field {c}"));
        }
    }
    Ok(out)
}

fn get<'a>(f: &[(&'static str, &'a J)], name: &str) -> Option<&'a J> {
    f.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

fn strings(v: Option<&J>) -> Result<Vec<&str>, String> {
    match v {
        None => Ok(Vec::new()),
        Some(J::Arr(items)) => items
            .iter()
            .map(|x| match x {
                J::Str(s) => Ok(s.as_str()),
                other => Err(format!("not a string: {other:?}")),
            })
            .collect(),
        Some(other) => Err(format!("not a list: {other:?}")),
    }
}

/// Spec §1, `AllowedOrigin`: `*`, or `scheme://host[:port]` with at most one
/// `*`, no `null`, not too broad, no default port.
pub fn ref_pattern_ok(p: &str) -> R {
    if p == "*" {
        return Ok(());
    }
    if p.matches('*').count() > 1 {
        return Err("more than one *".into());
    }
    if p.eq_ignore_ascii_case("null") {
        return Err("null".into());
    }
    let l = p.to_ascii_lowercase();
    // The grammar, split at its separators (a `*` is inside the scheme, the
    // host or the port), with the `*` standing for nothing, a letter or a
    // digit.
    let Some((scheme, host, port)) = split_origin(&l) else {
        return Err("not scheme://host[:port]".into());
    };
    let fits = ["", "a", "1"].iter().any(|f| {
        let sub = |s: &str| s.replacen('*', f, 1);
        is_scheme(&sub(scheme)) && is_host(&sub(host)) && port.is_none_or(|p| is_port(&sub(p)))
    });
    if !fits {
        return Err("not scheme://host[:port]".into());
    }
    if (scheme, port) == ("https", Some("443")) || (scheme, port) == ("http", Some("80")) {
        return Err("default port".into());
    }
    // Browsers never send a port with a leading zero or above 65535.
    if let Some(port) = port {
        let too_large = !port.contains('*') && port.parse::<u32>().map_or(true, |p| p > 65535);
        if (port.len() > 1 && port.starts_with('0')) || too_large {
            return Err("a port browsers never send".into());
        }
    }
    if wildcard_over_ip_address(&l) {
        return Err("a wildcard over an IP address".into());
    }
    if let Some((_, after)) = host.split_once('*') {
        // The labels after the one holding the `*` must name a domain (at
        // least two labels): `*example.com` and `*.com` stop at `com`.
        let Some((_, fixed)) = after.split_once('.') else {
            return Err("too broad".into());
        };
        let labels: Vec<&str> = fixed.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
            return Err("too broad".into());
        }
    }
    Ok(())
}

/// A semantic probe, independent of the label rule above: for an accepted
/// pattern with `*` in a (non-IPv6) host, an attacker's host made of the
/// pattern's text before the `*`, a character the pattern does not contain,
/// and the pattern's last label must not match (else the pattern matches
/// every host under that label).
pub fn too_broad_probe(p: &str) -> Option<String> {
    let l = p.to_ascii_lowercase();
    let (scheme, rest) = l.split_once("://")?;
    if scheme.contains('*') || rest.starts_with('[') {
        return None;
    }
    let (host, port) = match rest.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let (pre, suf) = host.split_once('*')?;
    let c = "abcdefghijklmnopqrstuvwxyz0123456789"
        .chars()
        .find(|c| !l.contains(*c))?;
    let trimmed = suf.trim_end_matches('.');
    let dots = &suf[trimmed.len()..];
    let last = trimmed.rsplit('.').next().unwrap_or("");
    let probe_host = if last.is_empty() {
        format!("{pre}{c}{dots}")
    } else {
        format!("{pre}{c}.{last}{dots}")
    };
    let probe = match port {
        Some(port) => format!("{scheme}://{probe_host}:{}", port.replace('*', "1")),
        None => format!("{scheme}://{probe_host}"),
    };
    (is_serialized_origin(probe.as_bytes()) && star_match(&l, &probe)).then_some(probe)
}

fn rule(v: &J, semantic: bool) -> R {
    let f = fields(
        v,
        &[
            ("ID", &[], false),
            ("AllowedOrigin", &["AllowedOrigins"], true),
            ("AllowedMethod", &["AllowedMethods"], true),
            ("AllowedHeader", &["AllowedHeaders"], false),
            ("ExposeHeader", &["ExposeHeaders"], false),
            ("MaxAgeSeconds", &[], false),
        ],
    )?;
    match get(&f, "ID") {
        None | Some(J::Null) | Some(J::Str(_)) => {}
        Some(o) => return Err(format!("ID {o:?}")),
    }
    let origins = strings(get(&f, "AllowedOrigin"))?;
    let methods = strings(get(&f, "AllowedMethod"))?;
    let headers = strings(get(&f, "AllowedHeader"))?;
    let expose = strings(get(&f, "ExposeHeader"))?;
    let age = match get(&f, "MaxAgeSeconds") {
        None | Some(J::Null) => None,
        Some(J::Int(n)) => Some(*n as i128),
        Some(J::Uint(n)) if *n <= i64::MAX as u64 => Some(*n as i128),
        Some(o) => return Err(format!("MaxAgeSeconds {o:?}")),
    };
    if !semantic {
        return Ok(());
    }
    if origins.is_empty() || methods.is_empty() {
        return Err("no origin or no method".into());
    }
    for o in origins {
        ref_pattern_ok(o).map_err(|e| format!("AllowedOrigin {o:?}: {e}"))?;
    }
    for m in methods {
        if !["GET", "PUT", "POST", "DELETE", "HEAD"].contains(&m) {
            return Err(format!("method {m:?}"));
        }
    }
    for h in headers {
        if !is_token(h) || h.matches('*').count() > 1 {
            return Err(format!("AllowedHeader {h:?}"));
        }
    }
    for h in expose {
        if !is_token(h) || h.contains('*') {
            return Err(format!("ExposeHeader {h:?}"));
        }
    }
    if let Some(a) = age {
        if !(0..=2_147_483_647).contains(&a) {
            return Err(format!("MaxAgeSeconds {a}"));
        }
    }
    Ok(())
}

fn cors(v: &J, semantic: bool) -> R {
    let f = fields(
        v,
        &[
            ("CORSRule", &["CORSRules"], true),
            ("ResponseVary", &[], false),
            ("Mode", &[], false),
        ],
    )?;
    match get(&f, "ResponseVary") {
        None | Some(J::Bool(_)) => {}
        Some(o) => return Err(format!("ResponseVary {o:?}")),
    }
    match get(&f, "Mode") {
        None => {}
        Some(J::Str(s)) if s == "enforce" || s == "report" => {}
        Some(o) => return Err(format!("Mode {o:?}")),
    }
    let J::Arr(rules) = get(&f, "CORSRule").unwrap() else {
        return Err("CORSRule is not a list".into());
    };
    for r in rules {
        rule(r, false)?;
    }
    if semantic {
        if rules.is_empty() || rules.len() > 100 {
            return Err(format!("{} rules", rules.len()));
        }
        for r in rules {
            rule(r, true)?;
        }
    }
    Ok(())
}

fn is_endpoint(e: &str) -> bool {
    e.split('.').all(|l| {
        !l.is_empty()
            && l.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    })
}

/// Whether the spec accepts this plugin configuration, and why not.
pub fn ref_config(bytes: &[u8]) -> R {
    let root: J = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let f = fields(
        &root,
        &[
            ("endpoints", &[], false),
            ("path_style", &[], false),
            ("buckets", &[], false),
            ("default", &[], false),
            ("unmatched_preflight", &[], false),
            ("upstream_cors", &[], false),
            ("policies", &[], false),
            ("debug_headers", &[], false),
        ],
    )?;
    match get(&f, "debug_headers") {
        None | Some(J::Bool(_)) => {}
        Some(o) => return Err(format!("debug_headers {o:?}")),
    }
    // Spec §1: named configurations, each a CORS configuration; a name is 1
    // to 255 ASCII letters, digits, `. - _`, listed once.
    let policies: &[(String, J)] = match get(&f, "policies") {
        None => &[],
        Some(J::Obj(entries)) => entries,
        Some(o) => return Err(format!("policies {o:?}")),
    };
    for (i, (name, c)) in policies.iter().enumerate() {
        cors(c, false).map_err(|e| format!("policy {name:?}: {e}"))?;
        if policies[..i].iter().any(|(n, _)| n == name) {
            return Err(format!("policy {name:?} listed twice"));
        }
    }
    for (name, c) in policies {
        let name_ok = (1..=255).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !name_ok {
            return Err(format!("policy name {name:?}"));
        }
        cors(c, true).map_err(|e| format!("policy {name:?}: {e}"))?;
    }
    let entry = |v: &J, semantic: bool| match v {
        J::Str(name) if !semantic || policies.iter().any(|(n, _)| n == name) => Ok(()),
        J::Str(name) => Err(format!("no policy {name:?}")),
        v => cors(v, semantic),
    };
    for e in strings(get(&f, "endpoints"))? {
        if !is_endpoint(e) {
            return Err(format!("endpoint {e:?}"));
        }
    }
    match get(&f, "path_style") {
        None | Some(J::Bool(_)) => {}
        Some(o) => return Err(format!("path_style {o:?}")),
    }
    let forward = match get(&f, "unmatched_preflight") {
        None => false,
        Some(J::Str(s)) if s == "reject" || s == "forward" => s == "forward",
        Some(o) => return Err(format!("unmatched_preflight {o:?}")),
    };
    let strip = match get(&f, "upstream_cors") {
        None => true,
        Some(J::Str(s)) if s == "strip" || s == "pass" => s == "strip",
        Some(o) => return Err(format!("upstream_cors {o:?}")),
    };
    match get(&f, "default") {
        None | Some(J::Null) => {}
        Some(c) => entry(c, true).map_err(|e| format!("default: {e}"))?,
    }
    match get(&f, "buckets") {
        None => {}
        Some(J::Obj(entries)) => {
            // A bucket listed twice is refused (JSON would silently keep
            // the last one).
            for (i, (name, c)) in entries.iter().enumerate() {
                entry(c, false).map_err(|e| format!("bucket {name:?}: {e}"))?;
                if entries[..i].iter().any(|(n, _)| n == name) {
                    return Err(format!("bucket {name:?} listed twice"));
                }
            }
            for (name, c) in entries {
                // Spec §1: 1 to 255 of a-z 0-9 . - _ ; §6: not "." nor "..".
                if !is_bucket_name(name.as_bytes()) {
                    return Err(format!("bucket name {name:?}"));
                }
                entry(c, true).map_err(|e| format!("bucket {name:?}: {e}"))?;
            }
        }
        Some(o) => return Err(format!("buckets {o:?}")),
    }
    // §2.4: a forwarded preflight's answer would be stripped.
    if forward && strip {
        return Err("unmatched_preflight forward with upstream_cors strip".into());
    }
    Ok(())
}

/// An accepted configuration (spec §1) as the reference model's
/// [`Config`], defaults and S3 aliases applied; `None` when the spec
/// refuses it.
pub fn model(bytes: &[u8]) -> Option<Config> {
    ref_config(bytes).ok()?;
    let root: J = serde_json::from_slice(bytes).ok()?;
    let J::Obj(fields) = root else {
        return None;
    };
    let policies: &[(String, J)] = fields
        .iter()
        .find_map(|(k, v)| match (k.as_str(), v) {
            ("policies", J::Obj(p)) => Some(p.as_slice()),
            _ => None,
        })
        .unwrap_or(&[]);
    // A bucket's (or default's) value: inline, or the named policy's.
    let entry = |v: &J| match v {
        J::Str(name) => policies
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, c)| cors_model(c)),
        v => cors_model(v),
    };
    let mut config = Config::default();
    for (key, value) in &fields {
        match (key.as_str(), value) {
            ("endpoints", v) => config.endpoints = owned(v),
            ("path_style", J::Bool(b)) => config.path_style = *b,
            ("unmatched_preflight", J::Str(s)) if s == "forward" => {
                config.unmatched_preflight = Unmatched::Forward
            }
            ("upstream_cors", J::Str(s)) if s == "pass" => config.strip_upstream_cors = false,
            ("debug_headers", J::Bool(b)) => config.debug_headers = *b,
            ("default", J::Obj(_) | J::Str(_)) => config.default = Some(entry(value)?),
            ("buckets", J::Obj(buckets)) => {
                for (name, c) in buckets {
                    config.buckets.push((name.clone(), entry(c)?));
                }
            }
            _ => {}
        }
    }
    Some(config)
}

fn owned(v: &J) -> Vec<String> {
    strings(Some(v)).map_or_else(
        |_| Vec::new(),
        |v| v.into_iter().map(str::to_string).collect(),
    )
}

fn cors_model(v: &J) -> Option<Cors> {
    let J::Obj(fields) = v else {
        return None;
    };
    let mut cors = Cors::new(Vec::new());
    for (key, value) in fields {
        match (key.as_str(), value) {
            ("CORSRule" | "CORSRules", J::Arr(rules)) => {
                cors.rules = rules.iter().map(rule_model).collect::<Option<_>>()?
            }
            ("ResponseVary", J::Bool(b)) => cors.vary = *b,
            ("Mode", J::Str(m)) if m == "report" => cors.mode = Mode::Report,
            _ => {}
        }
    }
    Some(cors)
}

fn rule_model(v: &J) -> Option<Rule> {
    let J::Obj(fields) = v else {
        return None;
    };
    let mut rule = Rule::default();
    for (key, value) in fields {
        match key.as_str() {
            "AllowedOrigin" | "AllowedOrigins" => rule.origins = owned(value),
            "AllowedMethod" | "AllowedMethods" => rule.methods = owned(value),
            "AllowedHeader" | "AllowedHeaders" => rule.headers = owned(value),
            "ExposeHeader" | "ExposeHeaders" => rule.expose = owned(value),
            "MaxAgeSeconds" => {
                rule.max_age = match value {
                    J::Int(n) => Some(u32::try_from(*n).ok()?),
                    J::Uint(n) => Some(u32::try_from(*n).ok()?),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    Some(rule)
}

/// Every `AllowedOrigin` string of an accepted configuration, for probes.
pub fn origins_of(bytes: &[u8]) -> Vec<String> {
    fn walk(j: &J, out: &mut Vec<String>) {
        match j {
            J::Obj(entries) => {
                for (k, v) in entries {
                    if k == "AllowedOrigin" || k == "AllowedOrigins" {
                        if let J::Arr(items) = v {
                            for i in items {
                                if let J::Str(s) = i {
                                    out.push(s.clone());
                                }
                            }
                        }
                    } else {
                        walk(v, out);
                    }
                }
            }
            J::Arr(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(j) = serde_json::from_slice::<J>(bytes) {
        walk(&j, &mut out);
    }
    out
}
