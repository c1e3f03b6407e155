//! The configuration most e2e tables run under, and the request shapes they share.

use bucket_cors_testkit::case::{preflight, Case};
use bucket_cors_testkit::RawRequest;

/// A preflight with `Access-Control-Request-Headers`.
pub fn preflight_h(host: &str, target: &str, origin: &str, method: &str, acrh: &str) -> RawRequest {
    preflight(host, target, origin, method).header("Access-Control-Request-Headers", acrh)
}

pub const MAIN_CONFIG: &str = r#"{
  "endpoints": ["s3.test", "eu.s3.test"],
  "buckets": {
    "photos": {
      "CORSRule": [
        {
          "ID": "web",
          "AllowedOrigin": ["https://www.example.com", "https://*.b.com", "http://[::1]:8080", "http://localhost:*"],
          "AllowedMethod": ["GET", "PUT", "HEAD"],
          "AllowedHeader": ["content-type", "x-amz-meta-*"],
          "ExposeHeader": ["ETag", "x-amz-request-id"],
          "MaxAgeSeconds": 600
        },
        {
          "AllowedOrigin": ["https://www.example.com"],
          "AllowedMethod": ["DELETE", "POST"],
          "AllowedHeader": ["*"]
        }
      ]
    },
    "photos.eu": {
      "CORSRule": [{ "AllowedOrigin": ["https://eu.example.com"], "AllowedMethod": ["GET"] }]
    },
    "public": {
      "CORSRule": [
        { "AllowedOrigin": ["*"], "AllowedMethod": ["GET", "HEAD"], "ExposeHeader": ["ETag"], "MaxAgeSeconds": 60 }
      ]
    },
    "mixed": {
      "CORSRule": [
        { "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"], "ExposeHeader": ["x-first"], "MaxAgeSeconds": 10 },
        { "AllowedOrigin": ["*"], "AllowedMethod": ["GET", "PUT"], "AllowedHeader": ["*"], "ExposeHeader": ["x-second"] }
      ],
      "ResponseVary": true
    },
    "novary": {
      "CORSRule": [{ "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"] }],
      "ResponseVary": false
    },
    "s3style": {
      "CORSRules": [
        {
          "AllowedOrigins": ["https://www.example.com"],
          "AllowedMethods": ["GET"],
          "AllowedHeaders": ["Authorization"],
          "ExposeHeaders": ["ETag"],
          "MaxAgeSeconds": 30
        }
      ]
    }
  },
  "default": null,
  "unmatched_preflight": "reject"
}"#;

/// photos rule 0 (echo).
pub fn photos0(c: Case, origin: &str) -> Case {
    c.echo(
        origin,
        "GET, PUT, HEAD",
        Some("ETag, x-amz-request-id"),
        Some("600"),
    )
}
