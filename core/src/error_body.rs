//! OSS's 403 XML error body for refused preflights.

/// OSS's message when no rule allows a preflight (its spelling kept).
pub(crate) const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.";
/// OSS's message for a preflight to a bucket without CORS configuration.
pub(crate) const NOT_ENABLED: &str = "CORSResponse: CORS is not enabled for this bucket.";

/// Spec §8: a preflight whose bucket's rules could not be read.
pub(crate) const RULES_UNAVAILABLE: &str =
    "CORSResponse: The CORS rules of this bucket could not be read from the store; try again later.";

/// The `AccessForbidden` document of a refused preflight.
pub(crate) fn access_forbidden(message: &str, request_id: &[u8], host: &[u8]) -> Vec<u8> {
    error_document("AccessForbidden", message, request_id, host)
}

/// An OSS/S3 `<Error>` document, every value XML-escaped. The codes are
/// constants; only the message and the request's values are escaped, and
/// only when they need it.
pub(crate) fn error_document(code: &str, message: &str, request_id: &[u8], host: &[u8]) -> Vec<u8> {
    let mut out = String::with_capacity(192 + message.len() + request_id.len() + host.len());
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>");
    out.push_str(code);
    out.push_str("</Code>\n  <Message>");
    escape_into(&mut out, message.as_bytes());
    out.push_str("</Message>\n  <RequestId>");
    escape_into(&mut out, request_id);
    out.push_str("</RequestId>\n  <HostId>");
    escape_into(&mut out, host);
    out.push_str("</HostId>\n</Error>\n");
    out.into_bytes()
}

/// Escapes `<`, `>` and `&` (all element text needs; quotes stay, as in
/// OSS's own message); bytes that are not valid UTF-8, and characters XML
/// 1.0 forbids (controls other than tab), become U+FFFD, so hostile request
/// bytes can never break the document.
fn escape_into(out: &mut String, raw: &[u8]) {
    let plain = |c: &u8| (0x20..0x7f).contains(c) && !matches!(c, b'<' | b'>' | b'&');
    if raw.iter().all(plain) {
        // Printable ASCII with nothing to escape: the common case.
        out.push_str(std::str::from_utf8(raw).unwrap_or_default());
        return;
    }
    for c in String::from_utf8_lossy(raw).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\t' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_is_oss_access_forbidden_document() {
        let body = access_forbidden(NOT_ENABLED, b"req-1", b"photos.s3.test");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>AccessForbidden</Code>\n  <Message>CORSResponse: CORS is not enabled for this bucket.</Message>\n  <RequestId>req-1</RequestId>\n  <HostId>photos.s3.test</HostId>\n</Error>\n"
        );
    }

    #[test]
    fn hostile_request_values_are_escaped_in_the_error_body() {
        let body = access_forbidden(NOT_ALLOWED, b"</RequestId><x a='1'>&", b"h\x00\xff\n");
        let body = String::from_utf8(body).unwrap();
        assert!(body.contains("<RequestId>&lt;/RequestId&gt;&lt;x a='1'&gt;&amp;</RequestId>"));
        assert!(body.contains("<HostId>h\u{FFFD}\u{FFFD}\u{FFFD}</HostId>"));
        assert!(body.contains("evalution"));
        assert!(body.contains("Access-Control-Requet-Headers"));
    }
}
