//! `docs/spec.md` as data for the test suites: every constant here is
//! written from the spec, never taken from the filter's code, and every
//! suite (core tables, end to end, hostile, operations, browser, fuzz) uses
//! these, so one reading of the spec serves them all.

pub mod reference;

/// Response header names (spec §3.6, §4.2), lower case as Envoy gives them.
pub mod names {
    pub const ACAO: &str = "access-control-allow-origin";
    pub const ACAC: &str = "access-control-allow-credentials";
    pub const ACAM: &str = "access-control-allow-methods";
    pub const ACAH: &str = "access-control-allow-headers";
    pub const ACEH: &str = "access-control-expose-headers";
    pub const ACMA: &str = "access-control-max-age";
    /// Never granted; an upstream's copy is removed (spec §6).
    pub const ACAPN: &str = "access-control-allow-private-network";
    pub const VARY: &str = "vary";
    pub const CONTENT_TYPE: &str = "content-type";
    /// With `"debug_headers": true`, on a refused preflight (spec §6).
    pub const REFUSAL: &str = "x-bucket-cors-refusal";
}

/// Spec §6: the values of `x-bucket-cors-refusal` (`debug_headers`), the
/// furthest any rule got, as the refusal counters count it.
pub mod refusal {
    pub const NO_CONFIGURATION: &str = "no-configuration";
    pub const ORIGIN: &str = "origin";
    pub const METHOD: &str = "method";
    pub const HEADER: &str = "header";
    /// Spec §8: the bucket's rules could not be read from the store.
    pub const RULES_UNAVAILABLE: &str = "rules-unavailable";
}

/// Spec §1's example configuration, verbatim (a test below holds it to docs/spec.md).
pub const SPEC_EXAMPLE: &str = r#"{
  "endpoints": ["oss-cn-hangzhou.aliyuncs.com", "s3.example.internal"],
  "path_style": true,
  "buckets": {
    "photos": {
      "CORSRule": [
        {
          "AllowedOrigin": ["https://www.a.com", "https://*.b.com"],
          "AllowedMethod": ["GET", "PUT", "HEAD"],
          "AllowedHeader": ["content-type", "x-oss-*"],
          "ExposeHeader": ["ETag", "x-oss-request-id"],
          "MaxAgeSeconds": 600
        }
      ],
      "ResponseVary": true
    }
  },
  "default": null,
  "unmatched_preflight": "reject"
}"#;

/// Spec §7: the largest rules document read, in bytes (64 KB, S3's limit).
pub const RULES_DOCUMENT_MAX_BYTES: usize = 65536;

/// Spec §3.7: the `Vary` of every preflight answer of the filter.
pub const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// Spec §3.5: OSS's message when no rule allows a preflight, spelling included.
pub const MSG_NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.";

/// Spec §3.2: a preflight to a bucket without CORS configuration.
pub const MSG_NOT_ENABLED: &str = "CORSResponse: CORS is not enabled for this bucket.";

/// Spec §8: the status of a preflight whose bucket's rules could not be read.
pub const RULES_UNAVAILABLE_STATUS: u16 = 503;

/// Spec §8: the message of that answer (code `ServiceUnavailable`).
pub const MSG_RULES_UNAVAILABLE: &str =
    "CORSResponse: The CORS rules of this bucket could not be read from the store; try again later.";

/// Spec §3: `<`, `>` and `&` escaped; quotes stay (OSS's own message has one).
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The 403 body of spec §3, for a message, request id and host that are
/// plain text (hostile bytes are the hostile suite's own business). Ends
/// with the newline the filter writes.
pub fn body_403(message: &str, request_id: &str, host: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>AccessForbidden</Code>\n  <Message>{}</Message>\n  <RequestId>{}</RequestId>\n  <HostId>{}</HostId>\n</Error>\n",
        xml_escape(message),
        xml_escape(request_id),
        xml_escape(host)
    )
}

/// The counters of the README's "Metrics" section, as the filter defines
/// them (Envoy's `/stats` shows a Wasm filter's under [`WASM_STATS_PREFIX`],
/// a dynamic module's under [`MODULE_STATS_PREFIX`]: see [`stats_name`]).
pub mod counters {
    pub const PREFLIGHT_ALLOWED: &str = "bucket_cors.preflight.allowed";
    pub const PREFLIGHT_REFUSED_NO_CONFIGURATION: &str =
        "bucket_cors.preflight.refused.no_configuration";
    pub const PREFLIGHT_REFUSED_ORIGIN: &str = "bucket_cors.preflight.refused.origin";
    pub const PREFLIGHT_REFUSED_METHOD: &str = "bucket_cors.preflight.refused.method";
    pub const PREFLIGHT_REFUSED_HEADER: &str = "bucket_cors.preflight.refused.header";
    pub const ACTUAL_MATCHED: &str = "bucket_cors.actual.matched";
    pub const ACTUAL_UNMATCHED: &str = "bucket_cors.actual.unmatched";
    pub const CONFIG_INVALID: &str = "bucket_cors.config.invalid";
    /// Spec §8: reads of a bucket's rules sent to the store.
    pub const STORE_READ: &str = "bucket_cors.store.read";
    /// Spec §8: reads that failed (timeout, refused connection, 5xx, 403).
    pub const STORE_READ_FAILED: &str = "bucket_cors.store.read_failed";
    /// Spec §8: rules documents the filter refused (the bucket gets no grants).
    pub const STORE_DOCUMENT_REFUSED: &str = "bucket_cors.store.document_refused";
    /// Spec §8: requests served from cached rules whose refresh failed.
    pub const STORE_STALE: &str = "bucket_cors.store.stale";
    /// Spec §8: requests decided while the bucket's rules are unknown.
    pub const STORE_UNAVAILABLE: &str = "bucket_cors.store.unavailable";
    /// Spec §8: cached buckets evicted, least recently used first.
    pub const STORE_EVICTED: &str = "bucket_cors.store.evicted";
    /// Spec §8: `PUT ?cors` bodies refused before they reached the store.
    pub const STORE_PUT_REFUSED: &str = "bucket_cors.store.put_refused";

    /// Every counter, in the README's order.
    pub const ALL: [&str; 15] = [
        PREFLIGHT_ALLOWED,
        PREFLIGHT_REFUSED_NO_CONFIGURATION,
        PREFLIGHT_REFUSED_ORIGIN,
        PREFLIGHT_REFUSED_METHOD,
        PREFLIGHT_REFUSED_HEADER,
        ACTUAL_MATCHED,
        ACTUAL_UNMATCHED,
        CONFIG_INVALID,
        STORE_READ,
        STORE_READ_FAILED,
        STORE_DOCUMENT_REFUSED,
        STORE_STALE,
        STORE_UNAVAILABLE,
        STORE_EVICTED,
        STORE_PUT_REFUSED,
    ];

    /// Envoy's `/stats` name of a counter a Wasm filter defines.
    pub const WASM_STATS_PREFIX: &str = "wasmcustom.";

    /// Envoy's `/stats` prefix of a counter a dynamic module defines (Envoy 1.40's default
    /// metrics namespace of dynamic modules).
    pub const MODULE_STATS_PREFIX: &str = "dynamicmodulescustom.";

    /// Envoy's `/stats` name of `counter` for the build under test: the Wasm filter, or the
    /// dynamic module (`module`).
    pub fn stats_name(counter: &str, module: bool) -> String {
        let prefix = if module {
            MODULE_STATS_PREFIX
        } else {
            WASM_STATS_PREFIX
        };
        format!("{prefix}{counter}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example_is_the_one_docs_spec_md_shows() {
        let spec = include_str!("../../docs/spec.md");
        assert!(
            spec.contains(&format!("```json\n{SPEC_EXAMPLE}\n```")),
            "docs/spec.md §1's example differs from spec::SPEC_EXAMPLE"
        );
    }

    #[test]
    fn the_rules_document_limit_is_the_one_docs_spec_md_states() {
        let spec = include_str!("../../docs/spec.md");
        assert!(
            spec.contains(&format!(
                "- Size: at most {RULES_DOCUMENT_MAX_BYTES} bytes (64 KB"
            )),
            "docs/spec.md §7's size limit differs from spec::RULES_DOCUMENT_MAX_BYTES"
        );
    }

    #[test]
    fn the_403_body_escapes_request_values_but_keeps_quotes() {
        let body = body_403(MSG_NOT_ENABLED, "<id>", "a&b");
        assert!(body.contains("<RequestId>&lt;id&gt;</RequestId>"));
        assert!(body.contains("<HostId>a&amp;b</HostId>"));
        assert!(body_403(MSG_NOT_ALLOWED, "", "h").contains("resource's"));
        assert!(body.ends_with("</Error>\n"));
    }
}
