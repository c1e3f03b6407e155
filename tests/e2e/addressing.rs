//! Bucket addressing (docs/spec.md §1 `endpoints` and `path_style`, §2.1, §2.2) under the
//! main configuration.

use bucket_cors_testkit::case::*;
use bucket_cors_testkit::expect::Body;
use bucket_cors_testkit::spec::*;
use bucket_cors_testkit::Bench;

use crate::main_config::*;

/// Bucket addressing (spec 1 `endpoints`, `path_style`; spec 2.1, 2.2) under the main config.
#[test]
fn addressing() {
    let mut b = Bench::start("addressing", MAIN_CONFIG);
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
            "no bucket: GET / only loses the upstream's CORS, Vary untouched",
            "2.1, 2.4 upstream_cors strip",
            request("GET", PS, "/", Some(WWW))
                .header("x-objstore-cors", "1")
                .header("x-objstore-vary", "Accept-Encoding"),
        )
        .vary_exact("Accept-Encoding"),
        case(
            "unconfigured bucket: GET only loses the upstream's CORS",
            "2.2, 2.4 upstream_cors strip",
            request("GET", PS, "/nocors/k", Some(WWW)).header("x-objstore-cors", "1"),
        )
        .status(404),
        case(
            "unconfigured bucket: GET without Origin untouched",
            "2.2",
            request("GET", PS, "/nocors/k", None),
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
            request("GET", "other.s3.test", "/other/k", Some(WWW))
                .header("x-objstore-vary", "Accept-Encoding"),
        )
        .status(404)
        .vary_exact("Accept-Encoding"),
        photos0(
            case(
                "vhost actual GET",
                "1 endpoints, 4.2",
                request("GET", "photos.eu.s3.test", "/photos/cat.jpg", Some(WWW)),
            ),
            WWW,
        )
        .body(Body::Exact("meow".into()))
        .vary_exact("Origin"),
    ];
    b.store.put_object("photos", "cat.jpg", b"meow");
    b.run(cases);
}

/// docs/spec.md §6: a host equal to an endpoint is path style even when a shorter endpoint is
/// its suffix. It was read as bucket `s3` of `example.test`, so bucket `s3`'s rules answered
/// for bucket `photos`.
#[test]
fn host_equal_to_a_nested_endpoint_is_path_style() {
    const CONFIG: &str = r#"{
      "endpoints": ["s3.example.test", "example.test"],
      "buckets": {
        "photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET", "PUT"]}]},
        "s3": {"CORSRule": [{"AllowedOrigin": ["https://only-s3.example"], "AllowedMethod": ["GET", "PUT"]}]}
      }
    }"#;
    const A: &str = "https://www.a.com";
    const ONLY_S3: &str = "https://only-s3.example";
    let mut b = Bench::start("nested-endpoints", CONFIG);
    b.store.put_object("photos", "k", b"photo");
    let cases = vec![
        case(
            "preflight to the nested endpoint host reaches bucket photos",
            "6, 3.6",
            preflight("s3.example.test", "/photos/k", A, "PUT"),
        )
        .echo(A, "GET, PUT", None, None)
        .preflight_ok(),
        case(
            "preflight to the shorter endpoint host reaches bucket photos",
            "6, 3.6",
            preflight("example.test", "/photos/k", A, "PUT"),
        )
        .echo(A, "GET, PUT", None, None)
        .preflight_ok(),
        case(
            "bucket s3's origin gets nothing from bucket photos",
            "6, 4.2",
            request("GET", "s3.example.test", "/photos/k", Some(ONLY_S3)),
        )
        .vary_origin()
        .body(Body::Exact("photo".into())),
        case(
            "bucket photos' origin is granted on the nested endpoint host",
            "6, 4.2",
            request("GET", "s3.example.test", "/photos/k", Some(A)),
        )
        .echo(A, "GET, PUT", None, None)
        .vary_origin()
        .body(Body::Exact("photo".into())),
        case(
            "the nested endpoint host without a path bucket addresses no bucket, not s3",
            "6, 2.1",
            preflight("s3.example.test", "/", ONLY_S3, "GET"),
        )
        .options_untouched(),
    ];
    b.run(cases);
}
