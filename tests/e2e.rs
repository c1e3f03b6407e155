//! End-to-end tests: a real Envoy (ENVOY_BIN, default `.venv/bin/envoy`) runs the real built
//! filter (BUCKET_CORS_WASM, default `target/wasm32-wasip1/release/bucket_cors.wasm`) in front
//! of the testkit object store. Each test starts one Envoy per plugin configuration and runs a
//! table of named cases against it; all failures of a table are reported together.
//!
//! The expectations come from `shared/spec/semantics.md`; each case names its section.
//! Missing Envoy or wasm is a failure ("run `make test`"), never a skip.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "e2e/support.rs"]
mod support;

use bucket_cors_testkit::{Envoy, EnvoyOptions, ObjStore, RawRequest, StartError};
use support::*;

/// A host that matches no endpoint: path-style addressing.
const PS: &str = "objects.local";
const WWW: &str = "https://www.example.com";

fn preflight(host: &str, target: &str, origin: &str, method: &str) -> RawRequest {
    RawRequest::new("OPTIONS", host, target)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
}

fn preflight_h(host: &str, target: &str, origin: &str, method: &str, acrh: &str) -> RawRequest {
    preflight(host, target, origin, method).header("Access-Control-Request-Headers", acrh)
}

fn req(method: &str, host: &str, target: &str, origin: Option<&str>) -> RawRequest {
    let r = RawRequest::new(method, host, target);
    match origin {
        Some(o) => r.header("Origin", o),
        None => r,
    }
}

const MAIN_CONFIG: &str = r#"{
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
fn photos0(c: Case, origin: &str) -> Case {
    c.echo(
        origin,
        "GET, PUT, HEAD",
        Some("ETag, x-amz-request-id"),
        Some("600"),
    )
}

/// Bucket addressing (spec 1 `endpoints`, `path_style`; spec 2.1, 2.2) under the main config.
#[test]
fn addressing() {
    let b = Bench::start("addressing", MAIN_CONFIG);
    let cases = vec![
        photos0(
            case(
                "vhost preflight",
                "1 endpoints, 3.6",
                preflight("photos.s3.test", "/cat.jpg", WWW, "GET"),
            ),
            WWW,
        )
        .preflight_ok(),
        // Endpoints are listed shortest first: a first-match resolution would give bucket
        // "photos.eu", whose only rule allows https://eu.example.com.
        photos0(
            case(
                "vhost longest endpoint wins",
                "1 endpoints",
                preflight("photos.eu.s3.test", "/k", WWW, "GET"),
            ),
            WWW,
        )
        .preflight_ok(),
        case(
            "vhost longest endpoint wins (other bucket refuses)",
            "1 endpoints, 3.5",
            preflight("photos.eu.s3.test", "/k", "https://eu.example.com", "GET")
                .header("x-request-id", "rid-eu"),
        )
        .preflight_403(MSG_NOT_ALLOWED, "rid-eu", "photos.eu.s3.test"),
        case(
            "path-style bucket with a dot",
            "1 path_style, 3.6",
            preflight(PS, "/photos.eu/k", "https://eu.example.com", "GET"),
        )
        .echo("https://eu.example.com", "GET", None, None)
        .preflight_ok(),
        photos0(
            case(
                "vhost host port stripped and case folded",
                "1 endpoints",
                preflight("PHOTOS.S3.TEST:9000", "/k", WWW, "GET"),
            ),
            WWW,
        )
        .preflight_ok(),
        photos0(
            case(
                "vhost ignores the path",
                "1 endpoints",
                preflight("photos.s3.test", "/public/x", WWW, "PUT"),
            ),
            WWW,
        )
        .preflight_ok(),
        photos0(
            case(
                "host equal to an endpoint is path-style",
                "1 endpoints, path_style",
                preflight("s3.test", "/photos/k", WWW, "GET"),
            ),
            WWW,
        )
        .preflight_ok(),
        photos0(
            case(
                "path-style",
                "1 path_style",
                preflight(PS, "/photos/dir/cat.jpg", WWW, "GET"),
            ),
            WWW,
        )
        .preflight_ok(),
        photos0(
            case(
                "path-style bucket before ?",
                "1 path_style",
                preflight(PS, "/photos?cors", WWW, "GET"),
            ),
            WWW,
        )
        .preflight_ok(),
        photos0(
            case(
                "path-style with a port host",
                "1 path_style",
                preflight("127.0.0.1:8080", "/photos/k", WWW, "GET"),
            ),
            WWW,
        )
        .preflight_ok(),
        case(
            "path-style for a host under no endpoint",
            "1 path_style, 3.6",
            preflight("photos.example.org", "/public/x", "https://a.org", "GET"),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .preflight_ok(),
        case(
            "no bucket: / preflight goes upstream untouched",
            "1 path_style, 2.1",
            preflight(PS, "/", WWW, "GET"),
        )
        .header("x-objstore-options", Some("reached")),
        case(
            "no bucket: /?x preflight goes upstream untouched",
            "1 path_style, 2.1",
            preflight(PS, "/?x", WWW, "GET"),
        )
        .header("x-objstore-options", Some("reached")),
        case(
            "no bucket: GET / untouched",
            "2.1",
            req("GET", PS, "/", Some(WWW))
                .header("x-objstore-cors", "1")
                .header("x-objstore-vary", "Accept-Encoding"),
        )
        .acx(ACAO, "*")
        .acx(ACEH, "x-upstream-only")
        .acx(ACAC, "true")
        .vary_exact("Accept-Encoding"),
        case(
            "unconfigured bucket: GET untouched",
            "2.2",
            req("GET", PS, "/nocors/k", Some(WWW)).header("x-objstore-cors", "1"),
        )
        .status(404)
        .acx(ACAO, "*")
        .acx(ACEH, "x-upstream-only")
        .acx(ACAC, "true"),
        case(
            "unconfigured bucket: GET without Origin untouched",
            "2.2",
            req("GET", PS, "/nocors/k", None),
        )
        .status(404),
        case(
            "unconfigured bucket: preflight rejected",
            "3.2 reject, 3.7",
            preflight(PS, "/nocors/k", WWW, "GET").header("x-request-id", "rid-nocors"),
        )
        .preflight_403(MSG_NOT_ENABLED, "rid-nocors", PS),
        case(
            "unconfigured vhost bucket: preflight rejected",
            "3.2 reject",
            preflight("other.s3.test", "/k", WWW, "GET").header("x-request-id", "rid-other"),
        )
        .preflight_403(MSG_NOT_ENABLED, "rid-other", "other.s3.test"),
        case(
            "unconfigured vhost bucket: GET untouched",
            "2.2",
            req("GET", "other.s3.test", "/other/k", Some(WWW))
                .header("x-objstore-vary", "Accept-Encoding"),
        )
        .status(404)
        .vary_exact("Accept-Encoding"),
        photos0(
            case(
                "vhost actual GET",
                "1 endpoints, 4.2",
                req("GET", "photos.eu.s3.test", "/photos/cat.jpg", Some(WWW)),
            ),
            WWW,
        )
        .body(Body::Exact("meow".into()))
        .vary_exact("Origin"),
    ];
    b.store.put_object("photos", "cat.jpg", b"meow");
    b.run(cases);
}

/// Preflight (spec 3, 5) under the main config.
#[test]
fn preflight_cases() {
    let b = Bench::start("preflight", MAIN_CONFIG);
    let h64: Vec<String> = (0..64).map(|i| format!("x-h{i}")).collect();
    let h65: Vec<String> = (0..65).map(|i| format!("x-h{i}")).collect();
    let long_item = format!("x-{}", "a".repeat(448));
    let acrh_over_4k = [long_item.as_str(); 10].join(",");
    let acrh_under_4k = [long_item.as_str(); 6].join(",");
    let long_origin = format!("https://{}.b.com", "a".repeat(2100));
    let denied = |name: &str, spec: &str, r: RawRequest, rid: &str, host: &str| {
        case(name, spec, r.header("x-request-id", rid)).preflight_403(MSG_NOT_ALLOWED, rid, host)
    };
    let cases = vec![
        photos0(
            case(
                "allowed with normalised ACRH",
                "3.3, 3.6, 3.7",
                preflight_h(PS, "/photos/k", WWW, "PUT", "X-Amz-Meta-A , content-type"),
            ),
            WWW,
        )
        .acx(ACAH, "x-amz-meta-a, content-type")
        .preflight_ok(),
        photos0(
            case(
                "ACRH tabs and empty items",
                "3.3",
                preflight_h(
                    PS,
                    "/photos/k",
                    WWW,
                    "PUT",
                    "content-type,\t,x-amz-meta-b,,",
                ),
            ),
            WWW,
        )
        .acx(ACAH, "content-type, x-amz-meta-b")
        .preflight_ok(),
        photos0(
            case(
                "ACRH on several lines is one list",
                "5",
                preflight_h(PS, "/photos/k", WWW, "PUT", "content-type")
                    .header("Access-Control-Request-Headers", "X-Amz-Meta-C"),
            ),
            WWW,
        )
        .acx(ACAH, "content-type, x-amz-meta-c")
        .preflight_ok(),
        photos0(
            case(
                "ACRH with only empty items: no ACAH",
                "3.3, 3.6",
                preflight_h(PS, "/photos/k", WWW, "GET", " , ,"),
            ),
            WWW,
        )
        .preflight_ok(),
        photos0(
            case(
                "wildcard origin matches nested subdomain",
                "5",
                preflight(PS, "/photos/k", "https://x.y.b.com", "GET"),
            ),
            "https://x.y.b.com",
        )
        .preflight_ok(),
        photos0(
            case(
                "origin compared case-insensitively, echoed as sent",
                "5, 3.6",
                preflight(PS, "/photos/k", "HTTPS://WWW.EXAMPLE.COM", "HEAD"),
            ),
            "HTTPS://WWW.EXAMPLE.COM",
        )
        .preflight_ok(),
        photos0(
            case(
                "IPv6 origin literal",
                "1 AllowedOrigin, 5",
                preflight(PS, "/photos/k", "http://[::1]:8080", "GET"),
            ),
            "http://[::1]:8080",
        )
        .preflight_ok(),
        case(
            "second rule: DELETE with any header",
            "3.4, 3.6",
            preflight_h(PS, "/photos/k", WWW, "DELETE", "X-Custom-Thing"),
        )
        .echo(WWW, "DELETE, POST", None, None)
        .acx(ACAH, "x-custom-thing")
        .preflight_ok(),
        case(
            "* rule gives ACAO * and no ACAC",
            "3.6",
            preflight(PS, "/public/p.txt", "https://anything.org", "GET"),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .preflight_ok(),
        case(
            "* rule matches null",
            "5",
            preflight(PS, "/public/p.txt", "null", "HEAD"),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .preflight_ok(),
        denied(
            "* rule without AllowedHeader refuses a header",
            "3.4, 3.5",
            preflight_h(PS, "/public/p.txt", "https://anything.org", "GET", "x-foo"),
            "rid-pub-h",
            PS,
        ),
        case(
            "first matching rule wins",
            "3.4",
            preflight(PS, "/mixed/m", WWW, "GET"),
        )
        .echo(WWW, "GET", Some("x-first"), Some("10"))
        .preflight_ok(),
        case(
            "header condition selects the later rule",
            "3.4",
            preflight_h(PS, "/mixed/m", WWW, "GET", "X-Foo"),
        )
        .star("GET, PUT", Some("x-second"), None)
        .acx(ACAH, "x-foo")
        .preflight_ok(),
        case(
            "method condition selects the later rule",
            "3.4",
            preflight(PS, "/mixed/m", WWW, "PUT"),
        )
        .star("GET, PUT", Some("x-second"), None)
        .preflight_ok(),
        case(
            "S3 JSON spellings",
            "1 aliases",
            preflight_h(PS, "/s3style/k", WWW, "GET", "Authorization"),
        )
        .echo(WWW, "GET", Some("ETag"), Some("30"))
        .acx(ACAH, "authorization")
        .preflight_ok(),
        case(
            "64 ACRH items allowed",
            "5",
            preflight_h(PS, "/photos/k", WWW, "DELETE", &h64.join(",")),
        )
        .echo(WWW, "DELETE, POST", None, None)
        .acx(ACAH, h64.join(", "))
        .preflight_ok(),
        denied(
            "65 ACRH items refused",
            "5",
            preflight_h(PS, "/photos/k", WWW, "DELETE", &h65.join(",")),
            "rid-65",
            PS,
        ),
        denied(
            "ACRH item with a space refused",
            "5",
            preflight_h(PS, "/photos/k", WWW, "DELETE", "x-ok, x-a b"),
            "rid-sp",
            PS,
        ),
        denied(
            "ACRH item with @ refused",
            "5",
            preflight_h(PS, "/photos/k", WWW, "DELETE", "x@y"),
            "rid-at",
            PS,
        ),
        denied(
            "ACRH over 4 KiB refused",
            "5",
            preflight_h(PS, "/photos/k", WWW, "DELETE", &acrh_over_4k),
            "rid-4k",
            PS,
        ),
        case(
            "ACRH under 4 KiB allowed",
            "5",
            preflight_h(PS, "/photos/k", WWW, "DELETE", &acrh_under_4k),
        )
        .echo(WWW, "DELETE, POST", None, None)
        .acx(ACAH, [long_item.as_str(); 6].join(", "))
        .preflight_ok(),
        denied(
            "ACRM outside the five methods",
            "1 AllowedMethod, 3.4",
            preflight(PS, "/photos/k", WWW, "PATCH"),
            "rid-patch",
            PS,
        ),
        case(
            "ResponseVary false: preflight still varies",
            "3.7",
            preflight(PS, "/novary/n", WWW, "GET"),
        )
        .echo(WWW, "GET", None, None)
        .preflight_ok(),
        denied(
            "ResponseVary false: refused preflight still varies",
            "3.7",
            preflight(PS, "/novary/n", "https://evil.io", "GET"),
            "rid-nv",
            PS,
        ),
        denied(
            "ACRM is case-sensitive",
            "3.4",
            preflight(PS, "/photos/k", WWW, "get"),
            "rid-get",
            PS,
        ),
        denied(
            "ACRM not allowed",
            "3.4, 3.5",
            preflight(PS, "/photos/k", "https://x.b.com", "POST"),
            "rid-post",
            PS,
        ),
        denied(
            "header not allowed",
            "3.4, 3.5",
            preflight_h(PS, "/photos/k", WWW, "GET", "x-other"),
            "rid-hdr",
            PS,
        ),
        denied(
            "origin not allowed",
            "3.5",
            preflight(PS, "/photos/k", "https://evil.io", "GET"),
            "rid-evil",
            PS,
        ),
        denied(
            "bypass: allowed origin as a prefix",
            "5",
            preflight(PS, "/photos/k", "https://www.example.com.evil.io", "GET"),
            "rid-b1",
            PS,
        ),
        denied(
            "bypass: wildcard suffix continued",
            "5",
            preflight(PS, "/photos/k", "https://x.b.com.evil.io", "GET"),
            "rid-b2",
            PS,
        ),
        denied(
            "bypass: colon in host",
            "5",
            preflight(PS, "/photos/k", "https://evil.com:x.b.com", "GET"),
            "rid-b3",
            PS,
        ),
        denied(
            "bypass: null against non-* rules",
            "5",
            preflight(PS, "/photos/k", "null", "GET"),
            "rid-null",
            PS,
        ),
        denied(
            "wildcard needs a label",
            "5",
            preflight(PS, "/photos/k", "https://b.com", "GET"),
            "rid-bare",
            PS,
        ),
        denied(
            "userinfo in origin",
            "5",
            preflight(PS, "/photos/k", "https://u@x.b.com", "GET"),
            "rid-user",
            PS,
        ),
        denied(
            "path in origin",
            "5",
            preflight(PS, "/photos/k", "https://x.b.com/", "GET"),
            "rid-path",
            PS,
        ),
        denied(
            "comma in origin",
            "5",
            preflight(
                PS,
                "/photos/k",
                "https://www.example.com, https://evil.io",
                "GET",
            ),
            "rid-comma",
            PS,
        ),
        denied(
            "port not in the pattern",
            "5",
            preflight(PS, "/photos/k", "https://www.example.com:8443", "GET"),
            "rid-port",
            PS,
        ),
        photos0(
            case(
                "wildcard port",
                "1 AllowedOrigin, 5",
                preflight(PS, "/photos/k", "http://localhost:3000", "GET"),
            ),
            "http://localhost:3000",
        )
        .preflight_ok(),
        denied(
            "wildcard port needs a port",
            "5",
            preflight(PS, "/photos/k", "http://localhost", "GET"),
            "rid-lh",
            PS,
        ),
        denied(
            "bypass: wildcard port continued by a host",
            "5",
            preflight(PS, "/photos/k", "http://localhost:3000.evil.io", "GET"),
            "rid-lh2",
            PS,
        ),
        denied(
            "bypass: wildcard port with userinfo",
            "5",
            preflight(PS, "/photos/k", "http://localhost:1@evil.io", "GET"),
            "rid-lh3",
            PS,
        ),
        denied(
            "wildcard host with a port not in the pattern",
            "5",
            preflight(PS, "/photos/k", "https://x.b.com:443", "GET"),
            "rid-b443",
            PS,
        ),
        denied(
            "origin over 2 KiB",
            "5",
            preflight(PS, "/photos/k", &long_origin, "GET"),
            "rid-long",
            PS,
        ),
        denied(
            "403 body escapes XML",
            "3 (403 body)",
            preflight(PS, "/photos/k", "https://evil.io", "GET"),
            "a<b&c>",
            PS,
        ),
        denied(
            "403 HostId is the virtual host",
            "3 (403 body)",
            preflight("photos.s3.test", "/k", "https://evil.io", "GET"),
            "rid-vh",
            "photos.s3.test",
        ),
        // Not preflights (spec 2.3): they go upstream as actual requests.
        case(
            "OPTIONS without ACRM goes upstream",
            "2.3",
            req("OPTIONS", PS, "/photos/k", Some(WWW)),
        )
        .header("x-objstore-options", Some("reached"))
        .vary_exact("Origin"),
        case(
            "OPTIONS with ACRM but no Origin goes upstream",
            "2.3",
            RawRequest::new("OPTIONS", PS, "/photos/k")
                .header("Access-Control-Request-Method", "GET"),
        )
        .header("x-objstore-options", Some("reached"))
        .vary_exact("Origin"),
        case(
            "OPTIONS with an empty Origin goes upstream",
            "2.3, 5",
            preflight(PS, "/photos/k", "", "GET"),
        )
        .header("x-objstore-options", Some("reached"))
        .vary_exact("Origin"),
    ];
    b.run(cases);
}

/// Actual requests and every response of a configured bucket (spec 4) under the main config.
#[test]
fn actual_requests() {
    let b = Bench::start("actual", MAIN_CONFIG);
    b.store.put_object("photos", "cat.jpg", b"meow");
    b.store.put_object("public", "p.txt", b"public data");
    b.store.put_object("mixed", "m", b"mixed");
    b.store.put_object("novary", "n", b"nv");
    b.store.put_object("s3style", "s", b"s3");
    let cases = vec![
        photos0(
            case(
                "GET allowed",
                "4.2",
                req("GET", PS, "/photos/cat.jpg", Some(WWW)),
            ),
            WWW,
        )
        .vary_exact("Origin")
        .body(Body::Exact("meow".into())),
        photos0(
            case(
                "HEAD allowed",
                "4.2",
                req("HEAD", PS, "/photos/cat.jpg", Some("https://x.b.com")),
            ),
            "https://x.b.com",
        )
        .vary_exact("Origin")
        .body(Body::Empty),
        photos0(
            case(
                "PUT allowed",
                "4.1, 4.2",
                req("PUT", PS, "/photos/new.txt", Some("https://x.b.com"))
                    .header("Content-Type", "text/plain")
                    .body("fresh"),
            ),
            "https://x.b.com",
        )
        .vary_exact("Origin"),
        case(
            "POST allowed by the second rule",
            "4.1, 4.2",
            req("POST", PS, "/photos/form", Some(WWW)).body("a=1"),
        )
        .echo(WWW, "DELETE, POST", None, None)
        .vary_exact("Origin"),
        case(
            "DELETE allowed by the second rule",
            "4.2",
            req("DELETE", PS, "/photos/tmp", Some(WWW)),
        )
        .status(204)
        .echo(WWW, "DELETE, POST", None, None)
        .vary_exact("Origin"),
        case(
            "method not in any matching rule",
            "4.1",
            req("DELETE", PS, "/photos/tmp", Some("https://x.b.com")),
        )
        .status(204)
        .vary_exact("Origin"),
        case(
            "disallowed origin gets only Vary",
            "4.2",
            req("GET", PS, "/photos/cat.jpg", Some("https://evil.io")),
        )
        .vary_exact("Origin")
        .body(Body::Exact("meow".into())),
        case(
            "no Origin gets only Vary",
            "4.3",
            req("GET", PS, "/photos/cat.jpg", None),
        )
        .vary_exact("Origin")
        .body(Body::Exact("meow".into())),
        case(
            "empty Origin gets only Vary",
            "4.3, 5",
            req("GET", PS, "/photos/cat.jpg", Some("")),
        )
        .vary_exact("Origin"),
        case(
            "bypass: allowed origin as a prefix",
            "5",
            req(
                "GET",
                PS,
                "/photos/cat.jpg",
                Some("https://www.example.com.evil.io"),
            ),
        )
        .vary_exact("Origin"),
        case(
            "bypass: colon in host",
            "5",
            req(
                "GET",
                PS,
                "/photos/cat.jpg",
                Some("https://evil.com:x.b.com"),
            ),
        )
        .vary_exact("Origin"),
        case(
            "bypass: null against non-* rules",
            "5",
            req("GET", PS, "/photos/cat.jpg", Some("null")),
        )
        .vary_exact("Origin"),
        case(
            "first matching rule wins",
            "4.1, 3.4",
            req("GET", PS, "/mixed/m", Some(WWW)),
        )
        .echo(WWW, "GET", Some("x-first"), Some("10"))
        .vary_exact("Origin"),
        case(
            "later rule by method",
            "4.1",
            req("PUT", PS, "/mixed/m2", Some(WWW)).body("x"),
        )
        .star("GET, PUT", Some("x-second"), None)
        .vary_exact("Origin"),
        case(
            "* rule",
            "4.2, 3.6",
            req("GET", PS, "/public/p.txt", Some("https://anything.org")),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .vary_exact("Origin")
        .body(Body::Exact("public data".into())),
        case(
            "* rule with null",
            "5",
            req("GET", PS, "/public/p.txt", Some("null")),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .vary_exact("Origin"),
        case(
            "S3 JSON spellings",
            "1 aliases, 4.2",
            req("GET", PS, "/s3style/s", Some(WWW)),
        )
        .echo(WWW, "GET", Some("ETag"), Some("30"))
        .vary_exact("Origin"),
        case(
            "ResponseVary false: allowed",
            "1, 4.2",
            req("GET", PS, "/novary/n", Some(WWW)),
        )
        .echo(WWW, "GET", None, None),
        case(
            "ResponseVary false: no Origin",
            "4.2",
            req("GET", PS, "/novary/n", None),
        ),
        case(
            "ResponseVary false: upstream Vary kept",
            "4.2",
            req("GET", PS, "/novary/n", Some(WWW)).header("x-objstore-vary", "Accept-Encoding"),
        )
        .echo(WWW, "GET", None, None)
        .vary_exact("Accept-Encoding"),
        photos0(
            case(
                "upstream CORS headers replaced",
                "4.2",
                req("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-cors", "1"),
            ),
            WWW,
        )
        .vary_exact("Origin"),
        case(
            "upstream CORS headers removed for a disallowed origin",
            "4.2",
            req("GET", PS, "/photos/cat.jpg", Some("https://evil.io"))
                .header("x-objstore-cors", "1"),
        )
        .vary_exact("Origin"),
        case(
            "upstream CORS headers removed without Origin",
            "4.2, 4.3",
            req("GET", PS, "/photos/cat.jpg", None).header("x-objstore-cors", "1"),
        )
        .vary_exact("Origin"),
        case(
            "upstream ACAC removed under a * rule",
            "4.2, 3.6",
            req("GET", PS, "/public/p.txt", Some("https://anything.org"))
                .header("x-objstore-cors", "1"),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .vary_exact("Origin"),
        case(
            "upstream CORS headers removed with ResponseVary false",
            "4.2",
            req("GET", PS, "/novary/n", Some("https://evil.io")).header("x-objstore-cors", "1"),
        ),
        photos0(
            case(
                "every upstream Access-Control-Allow-* replaced",
                "4.2",
                req("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-cors", "all"),
            ),
            WWW,
        )
        .vary_exact("Origin"),
        case(
            "every upstream Access-Control-* removed for a disallowed origin",
            "4.2",
            req("GET", PS, "/photos/cat.jpg", Some("https://evil.io"))
                .header("x-objstore-cors", "all"),
        )
        .vary_exact("Origin"),
        case(
            "every upstream Access-Control-* removed without Origin",
            "4.2, 4.3",
            req("HEAD", PS, "/photos/cat.jpg", None).header("x-objstore-cors", "all"),
        )
        .vary_exact("Origin"),
        case(
            "every upstream Access-Control-* replaced under a * rule",
            "4.2",
            req("GET", PS, "/public/p.txt", Some("null")).header("x-objstore-cors", "all"),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .vary_exact("Origin"),
        photos0(
            case(
                "upstream Access-Control-Allow-Private-Network removed (allowed origin)",
                "4.2",
                req("GET", PS, "/photos/cat.jpg", Some(WWW)).header(
                    "x-objstore-add",
                    "Access-Control-Allow-Private-Network: true",
                ),
            ),
            WWW,
        )
        .vary_exact("Origin"),
        case(
            "upstream Access-Control-Allow-Private-Network removed (no Origin)",
            "4.2",
            req("GET", PS, "/photos/cat.jpg", None).header(
                "x-objstore-add",
                "Access-Control-Allow-Private-Network: true",
            ),
        )
        .vary_exact("Origin"),
        case(
            "upstream Access-Control-Allow-Private-Network kept for an unconfigured bucket",
            "2.2",
            req("GET", PS, "/nocors/k", Some(WWW)).header(
                "x-objstore-add",
                "Access-Control-Allow-Private-Network: true",
            ),
        )
        .status(404)
        .acx("access-control-allow-private-network", "true"),
        case(
            "every upstream Access-Control-* removed on an upstream 503",
            "4.2",
            req("GET", PS, "/photos/cat.jpg", None)
                .header("x-objstore-cors", "all")
                .header("x-objstore-status", "503"),
        )
        .status(503)
        .vary_exact("Origin"),
        photos0(
            case(
                "chunked upstream response",
                "4.2",
                req("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-chunked", "1"),
            ),
            WWW,
        )
        .vary_exact("Origin")
        .body(Body::Exact("meow".into())),
        photos0(
            case(
                "chunked PUT body",
                "4.1",
                req("PUT", PS, "/photos/chunked.txt", Some(WWW))
                    .header("Transfer-Encoding", "chunked")
                    .body("3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"),
            ),
            WWW,
        )
        .vary_exact("Origin"),
        photos0(
            case(
                "upstream 503 keeps CORS",
                "4.2",
                req("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-status", "503"),
            ),
            WWW,
        )
        .status(503)
        .vary_exact("Origin")
        .body(Body::Exact("objstore forced status 503\n".into())),
        photos0(
            case(
                "upstream 404 keeps CORS",
                "4.2",
                req("GET", PS, "/photos/missing", Some(WWW)),
            ),
            WWW,
        )
        .status(404)
        .vary_exact("Origin")
        .body(Body::Contains("<Code>NoSuchKey</Code>".into())),
        photos0(
            case(
                "upstream 304 keeps CORS",
                "4.2",
                req("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-status", "304"),
            ),
            WWW,
        )
        .status(304)
        .vary_exact("Origin")
        .body(Body::Empty),
        case(
            "upstream 500 without Origin gets Vary",
            "4.2, 4.3",
            req("GET", PS, "/photos/cat.jpg", None).header("x-objstore-status", "500"),
        )
        .status(500)
        .vary_exact("Origin"),
        photos0(
            case(
                "Vary merged with upstream Accept-Encoding",
                "4.2",
                req("GET", PS, "/photos/cat.jpg", Some(WWW))
                    .header("x-objstore-vary", "Accept-Encoding"),
            ),
            WWW,
        )
        .vary_tokens(&["Accept-Encoding", "Origin"]),
        case(
            "Vary merged without Origin",
            "4.2, 4.3",
            req("GET", PS, "/photos/cat.jpg", None).header("x-objstore-vary", "Accept-Encoding"),
        )
        .vary_tokens(&["Accept-Encoding", "Origin"]),
        case(
            "Vary merged with two upstream lines",
            "4.2",
            req("GET", PS, "/photos/cat.jpg", Some("https://evil.io"))
                .header("x-objstore-vary", "Accept-Encoding")
                .header("x-objstore-vary", "User-Agent"),
        )
        .vary_tokens(&["Accept-Encoding", "User-Agent", "Origin"]),
        case(
            "Vary Origin appears once (case-insensitive)",
            "4.2",
            req("GET", PS, "/photos/cat.jpg", None).header("x-objstore-vary", "origin"),
        )
        .vary_tokens(&["Origin"]),
        case(
            "Vary Origin once among others",
            "4.2",
            req("GET", PS, "/photos/cat.jpg", None)
                .header("x-objstore-vary", "Accept-Encoding, ORIGIN"),
        )
        .vary_tokens(&["Accept-Encoding", "Origin"]),
        photos0(
            case(
                "Vary * stays",
                "4.2",
                req("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-vary", "*"),
            ),
            WWW,
        )
        .vary_exact("*"),
    ];
    b.run(cases);
    // The PUT reached the store with its body.
    assert_eq!(
        b.store.get_object("photos", "new.txt").as_deref(),
        Some(&b"fresh"[..]),
        "PUT body stored upstream"
    );
    assert_eq!(
        b.store.get_object("photos", "chunked.txt").as_deref(),
        Some(&b"hello"[..]),
        "chunked PUT body stored upstream"
    );
}

/// Local replies and forwarded requests alternate on one keep-alive connection: the filter's
/// per-request state must not leak from one request to the next (spec 3, 4, 4.4).
#[test]
fn keep_alive_connection() {
    let b = Bench::start("keep-alive", MAIN_CONFIG);
    b.store.put_object("photos", "cat.jpg", b"meow");
    let mut cases = Vec::new();
    for round in 0..3 {
        let n = |s: &str| format!("{s} #{round}");
        cases.push(
            photos0(
                case(
                    &n("preflight allowed"),
                    "3.6",
                    preflight(PS, "/photos/k", WWW, "GET"),
                ),
                WWW,
            )
            .preflight_ok(),
        );
        cases.push(
            photos0(
                case(
                    &n("GET allowed after a local reply"),
                    "4.2",
                    req("GET", PS, "/photos/cat.jpg", Some(WWW)),
                ),
                WWW,
            )
            .vary_exact("Origin")
            .body(Body::Exact("meow".into())),
        );
        let rid = format!("rid-ka-{round}");
        cases.push(
            case(
                &n("preflight refused"),
                "3.5",
                preflight(PS, "/photos/k", "https://evil.io", "GET").header("x-request-id", &rid),
            )
            .preflight_403(MSG_NOT_ALLOWED, &rid, PS),
        );
        cases.push(
            case(
                &n("GET without Origin after a 403"),
                "4.3",
                req("GET", PS, "/photos/cat.jpg", None).header("x-objstore-cors", "1"),
            )
            .vary_exact("Origin")
            .body(Body::Exact("meow".into())),
        );
        cases.push(
            case(
                &n("unconfigured bucket untouched after configured ones"),
                "2.2",
                req("GET", PS, "/nocors/k", Some(WWW)).header("x-objstore-cors", "1"),
            )
            .status(404)
            .acx(ACAO, "*")
            .acx(ACEH, "x-upstream-only")
            .acx(ACAC, "true"),
        );
        cases.push(
            case(
                &n("* rule after an echo rule"),
                "3.6",
                preflight(PS, "/public/p", "https://anything.org", "GET"),
            )
            .star("GET, HEAD", Some("ETag"), Some("60"))
            .preflight_ok(),
        );
    }
    b.run_on_one_connection(cases);
}

/// Envoy's own replies (upstream down) get the headers too (spec 4.2).
#[test]
fn envoy_local_replies() {
    let b = Bench::start_with("envoy-503", MAIN_CONFIG, &EnvoyOptions::default(), true);
    let cases = vec![
        photos0(
            case(
                "Envoy 503 keeps CORS",
                "4.2",
                req("GET", PS, "/photos/cat.jpg", Some(WWW)),
            ),
            WWW,
        )
        .status(503)
        .vary_exact("Origin")
        .upstream(Upstream::NotReached),
        case(
            "Envoy 503 without Origin gets Vary",
            "4.2, 4.3",
            req("GET", PS, "/photos/cat.jpg", None),
        )
        .status(503)
        .vary_exact("Origin")
        .upstream(Upstream::NotReached),
        case(
            "Envoy 503 with a * rule",
            "4.2",
            req("GET", PS, "/public/p.txt", Some("https://anything.org")),
        )
        .status(503)
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .vary_exact("Origin")
        .upstream(Upstream::NotReached),
        case(
            "Envoy 503 with ResponseVary false: no Vary",
            "4.2",
            req("GET", PS, "/novary/n", Some(WWW)),
        )
        .status(503)
        .echo(WWW, "GET", None, None)
        .upstream(Upstream::NotReached),
        case(
            "Envoy 503 for an unconfigured bucket untouched",
            "2.2",
            req("GET", PS, "/nocors/k", Some(WWW)),
        )
        .status(503)
        .upstream(Upstream::NotReached),
        photos0(
            case(
                "preflight still answered without the upstream",
                "3.1",
                preflight(PS, "/photos/k", WWW, "GET"),
            ),
            WWW,
        )
        .preflight_ok(),
    ];
    b.run(cases);
}

/// `default` configuration for unlisted buckets (spec 1 `default`, 2.2).
#[test]
fn default_configuration() {
    let config = r#"{
      "buckets": {
        "photos": { "CORSRule": [{ "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"] }] }
      },
      "default": { "CORSRule": [{ "AllowedOrigin": ["https://default.example"], "AllowedMethod": ["GET", "PUT"], "MaxAgeSeconds": 5 }] },
      "unmatched_preflight": "forward"
    }"#;
    let b = Bench::start("default", config);
    let d = "https://default.example";
    let cases = vec![
        case(
            "unlisted bucket uses default (preflight)",
            "1 default, 3.6",
            preflight(PS, "/anything/k", d, "PUT"),
        )
        .echo(d, "GET, PUT", None, Some("5"))
        .preflight_ok(),
        case(
            "unlisted bucket: default refuses",
            "1 default, 3.5",
            preflight(PS, "/anything/k", WWW, "GET").header("x-request-id", "rid-d1"),
        )
        .preflight_403(MSG_NOT_ALLOWED, "rid-d1", PS),
        case(
            "listed bucket does not use default",
            "1 default, 3.5",
            preflight(PS, "/photos/k", d, "GET").header("x-request-id", "rid-d2"),
        )
        .preflight_403(MSG_NOT_ALLOWED, "rid-d2", PS),
        case(
            "listed bucket uses its rules",
            "3.6",
            preflight(PS, "/photos/k", WWW, "GET"),
        )
        .echo(WWW, "GET", None, None)
        .preflight_ok(),
        case(
            "unlisted bucket uses default (GET)",
            "1 default, 4.2",
            req("GET", PS, "/anything/k", Some(d)),
        )
        .status(404)
        .echo(d, "GET, PUT", None, Some("5"))
        .vary_exact("Origin"),
        case(
            "unlisted bucket without Origin gets Vary",
            "4.3",
            req("GET", PS, "/anything/k", None),
        )
        .status(404)
        .vary_exact("Origin"),
        case(
            "no bucket is still untouched",
            "2.1",
            preflight(PS, "/", d, "GET"),
        )
        .header("x-objstore-options", Some("reached")),
    ];
    b.run(cases);
}

/// `path_style: false`, `unmatched_preflight: forward`, and an empty RequestId (spec 1, 3.2, 3).
#[test]
fn forward_and_no_path_style() {
    let config = r#"{
      "endpoints": ["s3.test"],
      "path_style": false,
      "buckets": {
        "photos": { "CORSRule": [{ "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"] }], "ResponseVary": true }
      },
      "unmatched_preflight": "forward"
    }"#;
    // No x-request-id is generated: a request without one has an empty RequestId.
    let opts = EnvoyOptions {
        generate_request_id: false,
        ..EnvoyOptions::default()
    };
    let b = Bench::start_with("forward", config, &opts, false);
    let cases = vec![
        case(
            "path_style false: path bucket ignored (preflight upstream)",
            "1 path_style",
            preflight(PS, "/photos/k", WWW, "GET"),
        )
        .header("x-objstore-options", Some("reached")),
        case(
            "path_style false: path bucket ignored (GET untouched)",
            "1 path_style",
            req("GET", PS, "/photos/k", Some(WWW)).header("x-objstore-cors", "1"),
        )
        .status(404)
        .acx(ACAO, "*")
        .acx(ACEH, "x-upstream-only")
        .acx(ACAC, "true"),
        case(
            "virtual-hosted still resolves",
            "1 endpoints, 3.6",
            preflight("photos.s3.test", "/k", WWW, "GET"),
        )
        .echo(WWW, "GET", None, None)
        .preflight_ok(),
        case(
            "unconfigured bucket preflight forwarded untouched",
            "3.2 forward",
            preflight_h("other.s3.test", "/k", WWW, "PUT", "X-Amz-Meta-A")
                .header("x-objstore-cors", "1"),
        )
        .header("x-objstore-options", Some("reached"))
        .acx(ACAO, "*")
        .acx(ACEH, "x-upstream-only")
        .acx(ACAC, "true"),
        case(
            "unconfigured bucket GET untouched",
            "2.2",
            req("GET", "other.s3.test", "/k", Some(WWW)),
        )
        .status(200),
        case(
            "403 without x-request-id has an empty RequestId",
            "3 (403 body)",
            preflight("photos.s3.test", "/k", "https://evil.io", "GET"),
        )
        .preflight_403(MSG_NOT_ALLOWED, "", "photos.s3.test"),
    ];
    b.run(cases);
}

/// Invalid configurations are refused as a whole (spec 1, Validation): Envoy 1.40 with a static
/// bootstrap does not start (the plugin's on_configure returns false, so the filter cannot be
/// created and Envoy exits), and the log names the bucket, the rule index and the field.
#[test]
fn invalid_configurations_are_refused() {
    let store = ObjStore::start().unwrap();
    let good_rule = r#"{"AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"]}"#;
    let photos = |rules: &str| format!(r#"{{"buckets": {{"photos": {{"CORSRule": [{rules}]}}}}}}"#);
    let rule = |extra: &str| {
        format!(
            r#"{{"AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"]{extra}}}"#
        )
    };
    // (name, config, substrings that one log line must contain)
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("origin matching every host", photos(r#"{"AllowedOrigin": ["https://www.example.com", "https://*"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "https://*"]),
        ("origin matching every host under a label (rule 1)",
            photos(&format!(r#"{good_rule}, {{"AllowedOrigin": ["https://*.com"], "AllowedMethod": ["GET"]}}"#)),
            vec!["bucket \"photos\"", "rule 1", "AllowedOrigin", "https://*.com"]),
        ("origin https://*com", photos(r#"{"AllowedOrigin": ["https://*com"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "https://*com"]),
        ("origin http*://*", photos(r#"{"AllowedOrigin": ["http*://*"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin"]),
        ("origin null", photos(r#"{"AllowedOrigin": ["null"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "null"]),
        ("origin with a path", photos(r#"{"AllowedOrigin": ["https://a.com/x"], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin", "https://a.com/x"]),
        ("origin empty", photos(r#"{"AllowedOrigin": [""], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin"]),
        ("no AllowedOrigin", photos(r#"{"AllowedOrigin": [], "AllowedMethod": ["GET"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedOrigin"]),
        ("lower-case method", photos(r#"{"AllowedOrigin": ["https://a.com"], "AllowedMethod": ["get"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedMethod", "get"]),
        ("OPTIONS method", photos(r#"{"AllowedOrigin": ["https://a.com"], "AllowedMethod": ["OPTIONS"]}"#),
            vec!["bucket \"photos\"", "rule 0", "AllowedMethod", "OPTIONS"]),
        ("unknown rule field (typo)", photos(&rule(r#", "AlowedHeader": ["x-a"]"#)),
            vec!["bucket \"photos\"", "rule 0", "AlowedHeader"]),
        ("rule ID named with the error", photos(&rule(r#", "ID": "cdn-rule", "MaxAgeSeconds": -1"#)),
            vec!["bucket \"photos\"", "rule 0", "cdn-rule", "MaxAgeSeconds"]),
        ("MaxAgeSeconds too large", photos(&rule(r#", "MaxAgeSeconds": 2147483648"#)),
            vec!["bucket \"photos\"", "rule 0", "MaxAgeSeconds"]),
        ("ExposeHeader wildcard", photos(&rule(r#", "ExposeHeader": ["ETag", "*"]"#)),
            vec!["bucket \"photos\"", "rule 0", "ExposeHeader"]),
        ("AllowedHeader non-token", photos(&rule(r#", "AllowedHeader": ["x a"]"#)),
            vec!["bucket \"photos\"", "rule 0", "AllowedHeader"]),
        ("AllowedHeader two wildcards", photos(&rule(r#", "AllowedHeader": ["x-*-*"]"#)),
            vec!["bucket \"photos\"", "rule 0", "AllowedHeader"]),
        ("no rules", r#"{"buckets": {"photos": {"CORSRule": []}}}"#.to_string(), vec!["bucket \"photos\""]),
        ("101 rules", photos(&vec![good_rule; 101].join(",")), vec!["bucket \"photos\""]),
        ("ResponseVary not a bool", r#"{"buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://a.com"], "AllowedMethod": ["GET"]}], "ResponseVary": "yes"}}}"#.to_string(),
            vec!["bucket \"photos\"", "ResponseVary"]),
        ("bad bucket name", r#"{"buckets": {"Photos": {"CORSRule": [{"AllowedOrigin": ["https://a.com"], "AllowedMethod": ["GET"]}]}}}"#.to_string(),
            vec!["Photos"]),
        ("endpoint with a scheme", r#"{"endpoints": ["https://s3.test"]}"#.to_string(), vec!["endpoints", "https://s3.test"]),
        ("endpoint with a leading dot", r#"{"endpoints": [".s3.test"]}"#.to_string(), vec!["endpoints", ".s3.test"]),
        ("unmatched_preflight unknown", r#"{"unmatched_preflight": "allow"}"#.to_string(), vec!["unmatched_preflight"]),
        ("unknown top-level field", r#"{"endpoint": ["s3.test"]}"#.to_string(), vec!["endpoint"]),
        ("invalid default rules", r#"{"default": {"CORSRule": [{"AllowedOrigin": ["https://*"], "AllowedMethod": ["GET"]}]}}"#.to_string(),
            vec!["default", "rule 0", "AllowedOrigin"]),
        ("not JSON", "{".to_string(), vec![]),
    ];
    let total = cases.len();
    // Each start compiles the wasm in V8: run a few at a time.
    let upstream = store.addr();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<(usize, Result<StartError, Box<Envoy>>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some((_, config, _)) = cases.get(i) else {
                            break;
                        };
                        out.push((i, Envoy::start_expecting_refusal(config, upstream)));
                    }
                    out
                })
            })
            .collect();
        let mut all: Vec<_> = workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all
    });
    let mut failures = Vec::new();
    for (i, outcome) in outcomes {
        let (name, config, needles) = &cases[i];
        match outcome {
            Err(mut envoy) => {
                let running = envoy.is_running();
                failures.push(format!(
                    "--- case {name}: Envoy came up with an invalid configuration (running: {running})\n    config: {config}\n    wasm log:\n{}",
                    envoy.log().lines().filter(|l| l.contains("wasm")).collect::<Vec<_>>().join("\n")
                ));
            }
            Ok(e) if e.is_missing_prerequisite() => panic!("{e}\n=> run `make test`"),
            Ok(e) => {
                let log = e.log();
                let mut problems = Vec::new();
                if !matches!(e, StartError::Exited { .. }) {
                    problems.push(format!("Envoy did not exit: {e}"));
                }
                let error_lines: Vec<&str> = log
                    .lines()
                    .filter(|l| l.contains("[error]") && l.contains("invalid plugin configuration"))
                    .collect();
                if error_lines.is_empty() {
                    problems.push(
                        "no error-level log line with \"invalid plugin configuration\"".into(),
                    );
                }
                if !needles.is_empty()
                    && !log.lines().any(|l| needles.iter().all(|n| l.contains(n)))
                {
                    problems.push(format!("no log line contains all of {needles:?}"));
                }
                if log.contains("panicked") {
                    problems.push("the plugin panicked".into());
                }
                if !problems.is_empty() {
                    failures.push(format!(
                        "--- case {name}\n    config: {config}\n    {}\n    wasm/error log lines:\n{}",
                        problems.join("\n    "),
                        log.lines()
                            .filter(|l| l.contains("wasm") || l.contains("[error]") || l.contains("[critical]"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    ));
                }
            }
        }
    }
    eprintln!(
        "[invalid-config] {} cases, {} failed",
        total,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} invalid-configuration cases failed:\n{}",
        failures.len(),
        total,
        failures.join("\n")
    );
}

/// The configuration of the spec's own example is accepted and serves (a positive control for
/// the refusals above).
#[test]
fn spec_example_configuration_serves() {
    let config = r#"{
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
    let b = Bench::start("spec-example", config);
    let cases = vec![
        case(
            "spec example preflight",
            "1, 3.6",
            preflight_h(
                "photos.oss-cn-hangzhou.aliyuncs.com",
                "/a.jpg",
                "https://www.a.com",
                "PUT",
                "Content-Type, X-OSS-Meta-Author",
            ),
        )
        .echo(
            "https://www.a.com",
            "GET, PUT, HEAD",
            Some("ETag, x-oss-request-id"),
            Some("600"),
        )
        .acx(ACAH, "content-type, x-oss-meta-author")
        .preflight_ok(),
        case(
            "spec example GET",
            "1, 4.2",
            req(
                "GET",
                "photos.s3.example.internal",
                "/photos/a.jpg",
                Some("https://cdn.b.com"),
            ),
        )
        .status(404)
        .echo(
            "https://cdn.b.com",
            "GET, PUT, HEAD",
            Some("ETag, x-oss-request-id"),
            Some("600"),
        )
        .vary_exact("Origin"),
    ];
    b.run(cases);
}
