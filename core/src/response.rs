//! What to do to the response of a forwarded request on a configured bucket:
//! replace the upstream's CORS headers, add the granted ones, merge `Vary`.

use crate::compile::BucketCors;
use crate::grant::Grant;
use crate::names;
use std::borrow::Cow;
use std::sync::Arc;

/// One edit of the response headers, applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderOp<'a> {
    /// Remove every line of this header: one the filter sets, or an
    /// upstream's own `Access-Control-Allow-*` name (copied).
    Remove(Cow<'a, str>),
    /// Replace every line of this header with one line of this value.
    Set(&'static str, Cow<'a, str>),
}

/// The decision for a forwarded request's response, kept by the glue
/// between the request and the response phase.
#[derive(Debug, Clone)]
pub struct ResponsePlan {
    /// The bucket's configuration; `None` for a response the rules do not
    /// govern, whose upstream CORS headers are only removed
    /// (`upstream_cors: strip`).
    pub(crate) cors: Option<Arc<BucketCors>>,
    /// The rule that matched and the Origin to allow, if any.
    pub grant: Option<Grant>,
}

impl ResponsePlan {
    /// Whether a bucket's rules govern this response; `false` when the
    /// upstream's CORS headers are only removed (`upstream_cors: strip`).
    pub fn is_governed(&self) -> bool {
        self.cors.is_some()
    }

    /// The edits for a response whose headers are `headers` (names lower
    /// case, as Envoy gives them): every upstream CORS header the filter owns
    /// ([`names::is_owned`]) is replaced or removed, so no duplicate or stale
    /// value reaches the browser; `Vary: Origin` is merged when
    /// `ResponseVary` is on.
    pub fn header_ops<'h, I, N, V>(&self, headers: I) -> Vec<HeaderOp<'_>>
    where
        I: IntoIterator<Item = (&'h N, &'h V)>,
        N: AsRef<[u8]> + ?Sized + 'h,
        V: AsRef<[u8]> + ?Sized + 'h,
    {
        // The upstream's owned names, each once, in order of appearance.
        let mut present: Vec<Cow<'static, str>> = Vec::new();
        let mut vary: Vec<&'h [u8]> = Vec::new();
        for (name, value) in headers {
            let name = name.as_ref();
            if name == names::VARY.as_bytes() {
                vary.push(value.as_ref());
                continue;
            }
            // Every owned name starts so: the rest of a response is passed
            // over on its bytes, and only these are read as text.
            if !name.starts_with(names::CORS_PREFIX.as_bytes()) {
                continue;
            }
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            if names::is_owned(name) && !present.iter().any(|p| p == name) {
                present.push(match names::set_by_the_filter(name) {
                    Some(n) => Cow::Borrowed(n),
                    None => Cow::Owned(name.to_owned()),
                });
            }
        }

        let mut ops = Vec::with_capacity(8);
        if let (Some(grant), Some(cors)) = (&self.grant, &self.cors) {
            if let Some(rule) = cors.rules.get(grant.rule) {
                ops.extend(
                    grant
                        .headers(rule)
                        .map(|(name, value)| HeaderOp::Set(name, value)),
                );
            }
        }
        for name in present {
            let set_by_us = ops
                .iter()
                .any(|op| matches!(op, HeaderOp::Set(n, _) if *n == name));
            if !set_by_us {
                ops.push(HeaderOp::Remove(name));
            }
        }
        if self.cors.as_ref().is_some_and(|c| c.response_vary) {
            if let Some(v) = merged_vary(&vary) {
                ops.push(HeaderOp::Set(names::VARY, v));
            }
        }
        ops
    }
}

/// The single `Vary` value that keeps every existing member, in order, with
/// `Origin` exactly once (spec §4.2): added when missing, repeats dropped
/// (an upstream may send `Vary: Origin` twice, which Envoy joins as
/// `Origin,Origin`). `None` when nothing needs to change: `Origin` listed
/// once, case-insensitively, or `Vary: *`. No upstream `Vary`, the common
/// case, costs no allocation.
fn merged_vary(lines: &[&[u8]]) -> Option<Cow<'static, str>> {
    let members = || {
        lines
            .iter()
            .flat_map(|l| l.split(|&c| c == b','))
            .map(|m| m.trim_ascii())
            .filter(|m| !m.is_empty())
    };
    let is_origin = |m: &[u8]| m.eq_ignore_ascii_case(b"origin");
    if members().any(|m| m == b"*") {
        return None;
    }
    let origins = members().filter(|m| is_origin(m)).count();
    if origins == 1 {
        return None;
    }
    if members().next().is_none() {
        return Some(Cow::Borrowed("Origin"));
    }
    let mut out = String::new();
    let mut origin_written = false;
    for m in members() {
        if is_origin(m) {
            if origin_written {
                continue;
            }
            origin_written = true;
        }
        out.push_str(&String::from_utf8_lossy(m));
        out.push_str(", ");
    }
    if origin_written {
        out.truncate(out.len() - 2);
    } else {
        out.push_str("Origin");
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_owned_name_starts_with_the_prefix_the_response_scan_reads_as_text() {
        // header_ops passes over any other name on its bytes (spec §2.4).
        let owned = [
            names::ACAO,
            names::ACAC,
            names::ACAM,
            names::ACAH,
            names::ACEH,
            names::ACMA,
            names::ALLOW_FAMILY,
            "access-control-allow-private-network",
        ];
        for name in owned {
            assert!(names::is_owned(name), "{name}");
            assert!(name.starts_with(names::CORS_PREFIX), "{name}");
        }
    }

    #[test]
    fn vary_gets_origin_once_and_keeps_what_was_there() {
        assert_eq!(merged_vary(&[]).as_deref(), Some("Origin"));
        assert_eq!(
            merged_vary(&[b"Accept-Encoding"]).as_deref(),
            Some("Accept-Encoding, Origin")
        );
        assert_eq!(
            merged_vary(&[b"Accept-Encoding", b"Accept-Language ,"]).as_deref(),
            Some("Accept-Encoding, Accept-Language, Origin")
        );
        assert_eq!(merged_vary(&[b"accept-encoding, ORIGIN"]), None);
        assert_eq!(merged_vary(&[b"*"]), None);
        // Spec §4.2: an upstream's repeated `Origin` is kept once, in place.
        assert_eq!(merged_vary(&[b"Origin,Origin"]).as_deref(), Some("Origin"));
        assert_eq!(
            merged_vary(&[b"Origin", b"origin"]).as_deref(),
            Some("Origin")
        );
        assert_eq!(
            merged_vary(&[b"Accept-Encoding, ORIGIN", b"Origin, Accept"]).as_deref(),
            Some("Accept-Encoding, ORIGIN, Accept")
        );
        assert_eq!(merged_vary(&[b"Origin, Origin, *"]), None);
        assert_eq!(merged_vary(&[b"Accept, *"]), None);
    }
}
