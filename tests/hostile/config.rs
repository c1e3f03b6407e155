//! The plugin configuration of the hostile tables, the request shapes they use, and their
//! Envoy fixture (the shared one, with a plain preflight as the sanity check after a table).

use bucket_cors_testkit::case::{self, case, Case, PS, WWW};
use bucket_cors_testkit::{Bench, RawRequest};

/// The plugin configuration of the hostile tables.
pub const CONFIG: &str = r#"{
  "endpoints": ["s3.test"],
  "buckets": {
    "photos": {
      "CORSRule": [
        {
          "ID": "web",
          "AllowedOrigin": ["https://www.example.com", "https://*.example.org"],
          "AllowedMethod": ["GET", "PUT", "HEAD"],
          "AllowedHeader": ["*"],
          "ExposeHeader": ["ETag"],
          "MaxAgeSeconds": 600
        }
      ]
    },
    "pho": {
      "CORSRule": [{ "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"] }]
    },
    "public": {
      "CORSRule": [{ "AllowedOrigin": ["*"], "AllowedMethod": ["GET", "HEAD"], "AllowedHeader": ["*"] }]
    }
  }
}"#;

/// A preflight of `GET`, with any bytes as host, target and origin.
pub fn preflight(
    host: impl AsRef<[u8]>,
    target: impl AsRef<[u8]>,
    origin: impl AsRef<[u8]>,
) -> RawRequest {
    case::preflight(host, target, origin, "GET")
}

/// An actual `GET` with an `Origin`.
pub fn get(
    host: impl AsRef<[u8]>,
    target: impl AsRef<[u8]>,
    origin: impl AsRef<[u8]>,
) -> RawRequest {
    RawRequest::new("GET", host, target).header("Origin", origin)
}

/// The photos rule with an echoed origin.
pub fn photos(c: Case, origin: &str) -> Case {
    c.echo(origin, "GET, PUT, HEAD", Some("ETag"), Some("600"))
}

/// An object store and an Envoy with [`CONFIG`]; after the table a plain preflight must still
/// be allowed (the VM was not broken or reloaded by what came before).
pub fn bench(name: &str) -> Bench {
    let sanity = photos(
        case(
            "after all: a plain preflight still works",
            "3.6",
            preflight(PS, "/photos/after", WWW),
        ),
        WWW,
    )
    .preflight_ok();
    Bench::start(name, CONFIG).with_sanity(sanity)
}
