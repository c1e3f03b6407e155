//! Bucket addressing: virtual-hosted style (`<bucket>.<endpoint>`, longest
//! endpoint wins) and path style (`/<bucket>/<key>`).

use foldhash::HashSet;
use std::borrow::Cow;

/// Longest bucket name (spec §1).
pub(crate) const MAX_BUCKET_LEN: usize = 255;

pub(crate) fn is_bucket_name(s: &[u8]) -> bool {
    (1..=MAX_BUCKET_LEN).contains(&s.len())
        && s
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'_'))
        // `.` and `..` are path segments that a backend normalises away, never buckets.
        && s != b"."
        && s != b".."
}

/// Whether `s` is a bare lower-case host name: labels of `a-z 0-9 -`
/// separated by single dots, no scheme, port, path or leading dot.
pub(crate) fn is_endpoint(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        })
}

/// The endpoint set and the path-style switch.
#[derive(Debug)]
pub(crate) struct Addressing {
    pub(crate) endpoints: HashSet<String>,
    pub(crate) path_style: bool,
}

impl Addressing {
    /// The bucket a request addresses, if any. `authority` is the `:authority`
    /// (Host) header; `path` is `:path`.
    pub(crate) fn resolve<'a>(&self, authority: &'a [u8], path: &'a [u8]) -> Option<Cow<'a, str>> {
        if !self.endpoints.is_empty() {
            if let Some(bucket) = self.virtual_hosted(authority) {
                return Some(bucket);
            }
        }
        if self.path_style {
            return path_style(path);
        }
        None
    }

    /// The bucket whose CORS configuration a request addresses through the
    /// S3 API (`/<bucket>?cors` path style, `/?cors` virtual-hosted; spec
    /// §8): the bucket itself, no object key, a `cors` query parameter.
    pub(crate) fn cors_subresource<'a>(
        &self,
        authority: &'a [u8],
        path: &'a [u8],
    ) -> Option<Cow<'a, str>> {
        let (before, query) = split_query(path);
        if !has_cors_parameter(query?) {
            return None;
        }
        if !self.endpoints.is_empty() {
            if let Some(bucket) = self.virtual_hosted(authority) {
                return matches!(before, b"" | b"/").then_some(bucket);
            }
        }
        if !self.path_style {
            return None;
        }
        let rest = before.strip_prefix(b"/")?;
        let segment = rest.strip_suffix(b"/").unwrap_or(rest);
        if segment.is_empty() || segment.contains(&b'/') {
            return None;
        }
        path_style(path)
    }

    /// `<bucket>.<endpoint>`: tries the suffixes after each dot from the left,
    /// so the first hit is the longest endpoint, in O(labels) set look-ups.
    /// A host that is itself an endpoint addresses no bucket this way, even
    /// when a shorter endpoint is its suffix (`s3.example.test` with
    /// `example.test` is the regional host, not bucket `s3`): it falls back
    /// to path style.
    fn virtual_hosted<'a>(&self, authority: &'a [u8]) -> Option<Cow<'a, str>> {
        let host = strip_port(authority);
        let host = std::str::from_utf8(host).ok()?;
        let host: Cow<'a, str> = if host.bytes().any(|c| c.is_ascii_uppercase()) {
            Cow::Owned(host.to_ascii_lowercase())
        } else {
            Cow::Borrowed(host)
        };
        let host = match host {
            // A fully qualified name's trailing dot addresses the same host.
            Cow::Borrowed(h) => Cow::Borrowed(h.strip_suffix('.').unwrap_or(h)),
            Cow::Owned(h) => Cow::Owned(h.strip_suffix('.').unwrap_or(&h).to_owned()),
        };
        if self.endpoints.contains(host.as_ref()) {
            return None;
        }
        let dots = host.match_indices('.').map(|(i, _)| i);
        for dot in dots {
            if dot == 0 {
                continue;
            }
            if self.endpoints.contains(&host[dot + 1..]) {
                let bucket = &host[..dot];
                if !is_bucket_name(bucket.as_bytes()) {
                    return None;
                }
                return Some(match &host {
                    Cow::Borrowed(h) => Cow::Borrowed(&h[..dot]),
                    Cow::Owned(h) => Cow::Owned(h[..dot].to_owned()),
                });
            }
        }
        None
    }
}

/// The host without `:port`, keeping an IPv6 literal whole.
fn strip_port(authority: &[u8]) -> &[u8] {
    if authority.first() == Some(&b'[') {
        return match authority.iter().position(|&c| c == b']') {
            Some(end) => &authority[..=end],
            None => authority,
        };
    }
    match authority.iter().rposition(|&c| c == b':') {
        Some(colon) => &authority[..colon],
        None => authority,
    }
}

/// The first path segment, percent-decoded as the backend would read it;
/// an empty segment (`/`, `/?x`) or one that is not a bucket name is none.
fn path_style(path: &[u8]) -> Option<Cow<'_, str>> {
    let rest = path.strip_prefix(b"/")?;
    let end = rest
        .iter()
        .position(|&c| matches!(c, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let segment = &rest[..end];
    let segment: Cow<'_, [u8]> = if segment.contains(&b'%') {
        Cow::Owned(percent_decode(segment)?)
    } else {
        Cow::Borrowed(segment)
    };
    if !is_bucket_name(&segment) {
        return None;
    }
    match segment {
        // Bucket names are ASCII.
        Cow::Borrowed(s) => std::str::from_utf8(s).ok().map(Cow::Borrowed),
        Cow::Owned(v) => String::from_utf8(v).ok().map(Cow::Owned),
    }
}

/// The path before `?` and the query after it (`#` ends the query).
fn split_query(path: &[u8]) -> (&[u8], Option<&[u8]>) {
    match path.iter().position(|&c| c == b'?') {
        Some(q) => {
            let query = &path[q + 1..];
            let end = query.iter().position(|&c| c == b'#').unwrap_or(query.len());
            (&path[..q], Some(&query[..end]))
        }
        None => (path, None),
    }
}

/// Whether a query has the parameter `cors` (`cors`, `cors=`), as S3 reads
/// the CORS subresource.
fn has_cors_parameter(query: &[u8]) -> bool {
    query
        .split(|&c| c == b'&')
        .any(|p| p.split(|&c| c == b'=').next() == Some(b"cors".as_slice()))
}

fn percent_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addressing(endpoints: &[&str], path_style: bool) -> Addressing {
        Addressing {
            endpoints: endpoints.iter().map(|s| s.to_string()).collect(),
            path_style,
        }
    }

    fn resolve(a: &Addressing, host: &str, path: &str) -> Option<String> {
        a.resolve(host.as_bytes(), path.as_bytes())
            .map(|c| c.into_owned())
    }

    #[test]
    fn the_cors_subresource_is_the_bucket_itself_with_a_cors_parameter() {
        let a = addressing(&["s3.example.internal"], true);
        let sub = |host: &str, path: &str| {
            a.cors_subresource(host.as_bytes(), path.as_bytes())
                .map(|c| c.into_owned())
        };
        for (host, path) in [
            ("s3.local", "/photos?cors"),
            ("s3.local", "/photos/?cors="),
            ("s3.local", "/photos?x-id=PutBucketCors&cors"),
            ("photos.s3.example.internal", "/?cors"),
            ("photos.s3.example.internal", "?cors"),
        ] {
            assert_eq!(sub(host, path).as_deref(), Some("photos"), "{host} {path}");
        }
        for (host, path) in [
            ("s3.local", "/photos"),
            ("s3.local", "/photos/key?cors"),
            ("s3.local", "/photos?corsx"),
            ("s3.local", "/photos?a=cors"),
            ("s3.local", "/?cors"),
            ("photos.s3.example.internal", "/key?cors"),
        ] {
            assert_eq!(sub(host, path), None, "{host} {path}");
        }
    }

    #[test]
    fn virtual_hosted_bucket_is_the_part_before_the_endpoint() {
        let a = addressing(
            &["oss-cn-hangzhou.aliyuncs.com", "s3.example.internal"],
            true,
        );
        assert_eq!(
            resolve(&a, "photos.oss-cn-hangzhou.aliyuncs.com", "/k").as_deref(),
            Some("photos")
        );
        assert_eq!(
            resolve(&a, "Photos.S3.Example.Internal:8080", "/k").as_deref(),
            Some("photos")
        );
        assert_eq!(
            resolve(&a, "my.dotted.bucket.s3.example.internal", "/k").as_deref(),
            Some("my.dotted.bucket")
        );
        assert_eq!(
            resolve(&a, "photos.s3.example.internal.", "/k").as_deref(),
            Some("photos")
        );
    }

    #[test]
    fn longest_endpoint_wins() {
        let a = addressing(&["example.com", "s3.example.com"], false);
        assert_eq!(
            resolve(&a, "photos.s3.example.com", "/").as_deref(),
            Some("photos")
        );
        assert_eq!(
            resolve(&a, "photos.example.com", "/").as_deref(),
            Some("photos")
        );
    }

    #[test]
    fn host_equal_to_an_endpoint_falls_back_to_path_style() {
        let a = addressing(&["s3.example.com"], true);
        assert_eq!(
            resolve(&a, "s3.example.com", "/photos/cat.jpg").as_deref(),
            Some("photos")
        );
        let a = addressing(&["s3.example.com"], false);
        assert_eq!(resolve(&a, "s3.example.com", "/photos/cat.jpg"), None);
    }

    /// Spec §6, nested endpoints: with `example.test` listed too, `s3.example.test` was read as
    /// bucket `s3`, so bucket `s3`'s rules answered for `/photos/...`.
    #[test]
    fn host_equal_to_an_endpoint_is_path_style_even_under_a_shorter_endpoint() {
        let a = addressing(&["s3.example.test", "example.test"], true);
        assert_eq!(
            resolve(&a, "s3.example.test", "/photos/k").as_deref(),
            Some("photos")
        );
        assert_eq!(
            resolve(&a, "S3.Example.Test.:9000", "/photos/k").as_deref(),
            Some("photos")
        );
        assert_eq!(
            resolve(&a, "photos.s3.example.test", "/k").as_deref(),
            Some("photos")
        );
        assert_eq!(resolve(&a, "s3.example.test", "/"), None);
        let a = addressing(&["aliyuncs.com", "oss-cn-hangzhou.aliyuncs.com"], true);
        assert_eq!(
            resolve(&a, "oss-cn-hangzhou.aliyuncs.com", "/photos/k").as_deref(),
            Some("photos")
        );
    }

    #[test]
    fn path_style_takes_the_first_segment() {
        let a = addressing(&[], true);
        assert_eq!(
            resolve(&a, "any", "/photos/cat.jpg").as_deref(),
            Some("photos")
        );
        assert_eq!(resolve(&a, "any", "/photos").as_deref(), Some("photos"));
        assert_eq!(
            resolve(&a, "any", "/photos?cors").as_deref(),
            Some("photos")
        );
        assert_eq!(resolve(&a, "any", "/"), None);
        assert_eq!(resolve(&a, "any", "/?x"), None);
        assert_eq!(resolve(&a, "any", "//photos"), None);
        assert_eq!(resolve(&a, "any", "*"), None);
        assert_eq!(resolve(&a, "any", ""), None);
    }

    #[test]
    fn path_style_decodes_percent_escapes_and_refuses_dot_segments() {
        let a = addressing(&[], true);
        assert_eq!(resolve(&a, "h", "/%70hotos/x").as_deref(), Some("photos"));
        assert_eq!(resolve(&a, "h", "/pho%2Ftos/x"), None);
        assert_eq!(resolve(&a, "h", "/%zz/x"), None);
        assert_eq!(resolve(&a, "h", "/%7"), None);
        assert_eq!(resolve(&a, "h", "/../photos"), None);
        assert_eq!(resolve(&a, "h", "/./photos"), None);
        assert_eq!(resolve(&a, "h", "/Photos/x"), None);
        assert_eq!(resolve(&a, "h", "/ph\u{e9}otos/x"), None);
    }

    #[test]
    fn path_style_off_and_no_endpoint_means_no_bucket() {
        let a = addressing(&["s3.example.com"], false);
        assert_eq!(resolve(&a, "other.host", "/photos/x"), None);
    }

    #[test]
    fn odd_hosts_resolve_to_nothing_rather_than_panic() {
        let a = addressing(&["s3.example.com"], false);
        for host in [
            "",
            ":",
            "[",
            "[::1]:80",
            ".s3.example.com",
            "a b.s3.example.com",
            "\u{e9}.s3.example.com",
        ] {
            assert_eq!(resolve(&a, host, "/"), None, "{host:?}");
        }
        assert_eq!(a.resolve(b"\xff.s3.example.com", b"/"), None);
    }

    #[test]
    fn endpoint_names_are_bare_lower_case_hosts() {
        for ok in [
            "s3.example.com",
            "localhost",
            "oss-cn-hangzhou.aliyuncs.com",
        ] {
            assert!(is_endpoint(ok), "{ok}");
        }
        for bad in [
            "",
            ".s3.example.com",
            "s3.example.com.",
            "S3.example.com",
            "https://s3.example.com",
            "s3.example.com:9000",
            "s3.example.com/x",
            "a..b",
        ] {
            assert!(!is_endpoint(bad), "{bad}");
        }
    }
}
