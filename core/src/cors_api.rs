//! The S3 CORS API through the gateway (docs/spec.md §8): a `PUT ?cors`
//! body is judged as the store's document will be, and refused before it
//! reaches the store; a change the store accepted drops the bucket's
//! cached answer.

use crate::compile::Policy;
use crate::decision::LocalReply;
use crate::error::ErrorKind;
use crate::error_body::error_document;
use crate::names;
use crate::request::Request;

/// A PutBucketCors or DeleteBucketCors the filter watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CorsApiCall {
    pub(crate) bucket: Box<str>,
    pub(crate) put: bool,
    /// For a refusal's `<RequestId>` and `<HostId>`, read with the body.
    pub(crate) request_id: Box<[u8]>,
    pub(crate) host: Box<[u8]>,
}

impl Policy {
    /// The CORS API call `req` makes, with `rules_source` only.
    pub(crate) fn cors_api_call(&self, req: &Request<'_>) -> Option<CorsApiCall> {
        self.rules_source.as_ref()?;
        let put = match req.method {
            b"PUT" => true,
            b"DELETE" => false,
            _ => return None,
        };
        let bucket = self.addressing.cors_subresource(req.authority, req.path)?;
        Some(CorsApiCall {
            bucket: bucket.into(),
            put,
            request_id: req.request_id.into(),
            host: req.authority.into(),
        })
    }

    /// A `PUT ?cors` body judged as a rules document (spec §7, §8): `None`
    /// forwards it; a refusal is S3's 400, `MalformedXML` when the body is
    /// not a CORS document of section 7's shape (or too large),
    /// `InvalidRequest` when its rules are refused.
    pub(crate) fn judge_put_body(
        &self,
        call: &CorsApiCall,
        body: &[u8],
    ) -> Option<LocalReply<'static>> {
        let errors = self.rules_source.as_ref()?.read_document(body).err()?;
        let code = if errors.iter().any(|e| is_shape(&e.kind)) {
            "MalformedXML"
        } else {
            "InvalidRequest"
        };
        let message = errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        Some(LocalReply {
            status: 400,
            headers: vec![(names::CONTENT_TYPE, "application/xml".into())],
            body: error_document(code, &message, &call.request_id, &call.host),
        })
    }
}

/// Whether an error is of the document's shape rather than of its rules.
fn is_shape(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Shape(_)
            | ErrorKind::Xml(_)
            | ErrorKind::DocumentTooLarge(_)
            | ErrorKind::DocumentLargerThan(..)
            | ErrorKind::NotCorsConfiguration
            | ErrorKind::UnknownElement(_)
            | ErrorKind::ElementInText(_)
            | ErrorKind::TextBesideElements
            | ErrorKind::GivenTwice
            | ErrorKind::NotBool
            | ErrorKind::MaxAgeNotWhole
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::from_json(
            br#"{"buckets": {}, "rules_source": {"cluster": "store", "max_document_bytes": 400}}"#,
        )
        .unwrap()
    }

    fn call(method: &str, path: &str) -> Option<CorsApiCall> {
        let headers = [
            (":method", method),
            (":authority", "s3.local"),
            (":path", path),
            ("x-request-id", "r-1"),
        ];
        let req = Request::from_headers(headers.iter().map(|(n, v)| (*n, v.as_bytes())));
        policy().cors_api_call(&req)
    }

    fn judged(body: &str) -> Option<(u32, String)> {
        let call = call("PUT", "/photos?cors").unwrap();
        policy()
            .judge_put_body(&call, body.as_bytes())
            .map(|r| (r.status, String::from_utf8(r.body).unwrap()))
    }

    #[test]
    fn put_and_delete_of_the_cors_subresource_are_watched_with_rules_source_only() {
        assert_eq!(
            call("PUT", "/photos?cors").map(|c| (c.bucket, c.put)),
            Some(("photos".into(), true))
        );
        assert_eq!(call("DELETE", "/photos?cors").map(|c| c.put), Some(false));
        assert_eq!(call("GET", "/photos?cors"), None);
        assert_eq!(call("PUT", "/photos/key?cors"), None);
        let static_only = Policy::from_json(br#"{"buckets": {}}"#).unwrap();
        let headers = [(":method", "PUT"), (":path", "/photos?cors")];
        let req = Request::from_headers(headers.iter().map(|(n, v)| (*n, v.as_bytes())));
        assert_eq!(static_only.cors_api_call(&req), None);
    }

    #[test]
    fn a_body_the_filter_accepts_is_forwarded() {
        let ok = "<CORSConfiguration><CORSRule><AllowedOrigin>https://a.example</AllowedOrigin><AllowedMethod>PUT</AllowedMethod></CORSRule></CORSConfiguration>";
        assert_eq!(judged(ok), None);
    }

    #[test]
    fn refused_rules_get_invalid_request_naming_the_rule_and_field() {
        let bad = "<CORSConfiguration><CORSRule><ID>web</ID><AllowedOrigin>https://*example.com</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>";
        let (status, body) = judged(bad).unwrap();
        assert_eq!(status, 400);
        assert!(body.contains("<Code>InvalidRequest</Code>"), "{body}");
        assert!(
            body.contains("rule 0 (ID &quot;web&quot;) AllowedMethod")
                || body.contains("rule 0 (ID \"web\") AllowedMethod"),
            "{body}"
        );
        assert!(body.contains("; "), "every error, joined: {body}");
        assert!(body.contains("<RequestId>r-1</RequestId>"), "{body}");
    }

    #[test]
    fn a_body_not_of_the_documents_shape_or_too_large_gets_malformed_xml() {
        for bad in [
            "not xml",
            "<CORSRules/>",
            &format!("<CORSConfiguration>{}</CORSConfiguration>", " ".repeat(400)),
        ] {
            let (status, body) = judged(bad).unwrap();
            assert_eq!(status, 400);
            assert!(body.contains("<Code>MalformedXML</Code>"), "{bad}: {body}");
        }
    }
}
