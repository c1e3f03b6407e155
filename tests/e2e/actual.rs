//! Actual requests (docs/spec.md §4) under the main configuration: every response of a
//! configured bucket, on fresh and kept-alive connections, and Envoy's own replies.

use bucket_cors_testkit::case::*;
use bucket_cors_testkit::expect::Body;
use bucket_cors_testkit::spec::*;
use bucket_cors_testkit::{Bench, EnvoyOptions};

use crate::main_config::*;

/// Actual requests and every response of a configured bucket (spec 4) under the main config.
#[test]
fn actual_requests() {
    let mut b = Bench::start("actual", MAIN_CONFIG);
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
                request("GET", PS, "/photos/cat.jpg", Some(WWW)),
            ),
            WWW,
        )
        .vary_exact("Origin")
        .body(Body::Exact("meow".into())),
        photos0(
            case(
                "HEAD allowed",
                "4.2",
                request("HEAD", PS, "/photos/cat.jpg", Some("https://x.b.com")),
            ),
            "https://x.b.com",
        )
        .vary_exact("Origin")
        .body(Body::Empty),
        photos0(
            case(
                "PUT allowed",
                "4.1, 4.2",
                request("PUT", PS, "/photos/new.txt", Some("https://x.b.com"))
                    .header("Content-Type", "text/plain")
                    .body("fresh"),
            ),
            "https://x.b.com",
        )
        .vary_exact("Origin"),
        case(
            "POST allowed by the second rule",
            "4.1, 4.2",
            request("POST", PS, "/photos/form", Some(WWW)).body("a=1"),
        )
        .echo(WWW, "DELETE, POST", None, None)
        .vary_exact("Origin"),
        case(
            "DELETE allowed by the second rule",
            "4.2",
            request("DELETE", PS, "/photos/tmp", Some(WWW)),
        )
        .status(204)
        .echo(WWW, "DELETE, POST", None, None)
        .vary_exact("Origin"),
        case(
            "method not in any matching rule",
            "4.1",
            request("DELETE", PS, "/photos/tmp", Some("https://x.b.com")),
        )
        .status(204)
        .vary_exact("Origin"),
        case(
            "disallowed origin gets only Vary",
            "4.2",
            request("GET", PS, "/photos/cat.jpg", Some("https://evil.io")),
        )
        .vary_exact("Origin")
        .body(Body::Exact("meow".into())),
        case(
            "no Origin gets only Vary",
            "4.3",
            request("GET", PS, "/photos/cat.jpg", None),
        )
        .vary_exact("Origin")
        .body(Body::Exact("meow".into())),
        case(
            "empty Origin gets only Vary",
            "4.3, 5",
            request("GET", PS, "/photos/cat.jpg", Some("")),
        )
        .vary_exact("Origin"),
        case(
            "bypass: allowed origin as a prefix",
            "5",
            request(
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
            request(
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
            request("GET", PS, "/photos/cat.jpg", Some("null")),
        )
        .vary_exact("Origin"),
        case(
            "first matching rule wins",
            "4.1, 3.4",
            request("GET", PS, "/mixed/m", Some(WWW)),
        )
        .echo(WWW, "GET", Some("x-first"), Some("10"))
        .vary_exact("Origin"),
        case(
            "later rule by method",
            "4.1",
            request("PUT", PS, "/mixed/m2", Some(WWW)).body("x"),
        )
        .star("GET, PUT", Some("x-second"), None)
        .vary_exact("Origin"),
        case(
            "* rule",
            "4.2, 3.6",
            request("GET", PS, "/public/p.txt", Some("https://anything.org")),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .vary_exact("Origin")
        .body(Body::Exact("public data".into())),
        case(
            "* rule with null",
            "5",
            request("GET", PS, "/public/p.txt", Some("null")),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .vary_exact("Origin"),
        case(
            "S3 JSON spellings",
            "1 aliases, 4.2",
            request("GET", PS, "/s3style/s", Some(WWW)),
        )
        .echo(WWW, "GET", Some("ETag"), Some("30"))
        .vary_exact("Origin"),
        case(
            "ResponseVary false: allowed",
            "1, 4.2",
            request("GET", PS, "/novary/n", Some(WWW)),
        )
        .echo(WWW, "GET", None, None),
        case(
            "ResponseVary false: no Origin",
            "4.2",
            request("GET", PS, "/novary/n", None),
        ),
        // docs/spec.md §4: an upstream's two `Vary: Origin` lines (Envoy joins them as
        // `Origin,Origin`) leave `Origin` once, with or without an Origin.
        photos0(
            case(
                "upstream Vary: Origin twice is kept once",
                "4.2",
                request("GET", PS, "/photos/cat.jpg", Some(WWW))
                    .header("x-objstore-vary", "Origin")
                    .header("x-objstore-vary", "Origin"),
            ),
            WWW,
        )
        .vary_tokens(&["Origin"]),
        case(
            "upstream Vary: Origin twice, no Origin in the request",
            "4.2, 4.3",
            request("GET", PS, "/photos/cat.jpg", None)
                .header("x-objstore-vary", "Origin")
                .header("x-objstore-vary", "origin"),
        )
        .vary_tokens(&["Origin"]),
        photos0(
            case(
                "upstream Vary: Origin twice among other members",
                "4.2",
                request("GET", PS, "/photos/cat.jpg", Some(WWW))
                    .header("x-objstore-vary", "Accept-Encoding, Origin")
                    .header("x-objstore-vary", "Origin"),
            ),
            WWW,
        )
        .vary_tokens(&["Accept-Encoding", "Origin"]),
        case(
            "ResponseVary false: upstream Vary kept",
            "4.2",
            request("GET", PS, "/novary/n", Some(WWW)).header("x-objstore-vary", "Accept-Encoding"),
        )
        .echo(WWW, "GET", None, None)
        .vary_exact("Accept-Encoding"),
        photos0(
            case(
                "upstream CORS headers replaced",
                "4.2",
                request("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-cors", "1"),
            ),
            WWW,
        )
        .vary_exact("Origin"),
        case(
            "upstream CORS headers removed for a disallowed origin",
            "4.2",
            request("GET", PS, "/photos/cat.jpg", Some("https://evil.io"))
                .header("x-objstore-cors", "1"),
        )
        .vary_exact("Origin"),
        case(
            "upstream CORS headers removed without Origin",
            "4.2, 4.3",
            request("GET", PS, "/photos/cat.jpg", None).header("x-objstore-cors", "1"),
        )
        .vary_exact("Origin"),
        case(
            "upstream ACAC removed under a * rule",
            "4.2, 3.6",
            request("GET", PS, "/public/p.txt", Some("https://anything.org"))
                .header("x-objstore-cors", "1"),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .vary_exact("Origin"),
        case(
            "upstream CORS headers removed with ResponseVary false",
            "4.2",
            request("GET", PS, "/novary/n", Some("https://evil.io")).header("x-objstore-cors", "1"),
        ),
        photos0(
            case(
                "every upstream Access-Control-Allow-* replaced",
                "4.2",
                request("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-cors", "all"),
            ),
            WWW,
        )
        .vary_exact("Origin"),
        case(
            "every upstream Access-Control-* removed for a disallowed origin",
            "4.2",
            request("GET", PS, "/photos/cat.jpg", Some("https://evil.io"))
                .header("x-objstore-cors", "all"),
        )
        .vary_exact("Origin"),
        case(
            "every upstream Access-Control-* removed without Origin",
            "4.2, 4.3",
            request("HEAD", PS, "/photos/cat.jpg", None).header("x-objstore-cors", "all"),
        )
        .vary_exact("Origin"),
        case(
            "every upstream Access-Control-* replaced under a * rule",
            "4.2",
            request("GET", PS, "/public/p.txt", Some("null")).header("x-objstore-cors", "all"),
        )
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .vary_exact("Origin"),
        photos0(
            case(
                "upstream Access-Control-Allow-Private-Network removed (allowed origin)",
                "4.2",
                request("GET", PS, "/photos/cat.jpg", Some(WWW)).header(
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
            request("GET", PS, "/photos/cat.jpg", None).header(
                "x-objstore-add",
                "Access-Control-Allow-Private-Network: true",
            ),
        )
        .vary_exact("Origin"),
        case(
            "upstream Access-Control-Allow-Private-Network removed for an unconfigured bucket too",
            "2.4 upstream_cors strip",
            request("GET", PS, "/nocors/k", Some(WWW)).header(
                "x-objstore-add",
                "Access-Control-Allow-Private-Network: true",
            ),
        )
        .status(404),
        case(
            "every upstream Access-Control-* removed on an upstream 503",
            "4.2",
            request("GET", PS, "/photos/cat.jpg", None)
                .header("x-objstore-cors", "all")
                .header("x-objstore-status", "503"),
        )
        .status(503)
        .vary_exact("Origin"),
        photos0(
            case(
                "chunked upstream response",
                "4.2",
                request("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-chunked", "1"),
            ),
            WWW,
        )
        .vary_exact("Origin")
        .body(Body::Exact("meow".into())),
        photos0(
            case(
                "chunked PUT body",
                "4.1",
                request("PUT", PS, "/photos/chunked.txt", Some(WWW))
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
                request("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-status", "503"),
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
                request("GET", PS, "/photos/missing", Some(WWW)),
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
                request("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-status", "304"),
            ),
            WWW,
        )
        .status(304)
        .vary_exact("Origin")
        .body(Body::Empty),
        case(
            "upstream 500 without Origin gets Vary",
            "4.2, 4.3",
            request("GET", PS, "/photos/cat.jpg", None).header("x-objstore-status", "500"),
        )
        .status(500)
        .vary_exact("Origin"),
        photos0(
            case(
                "Vary merged with upstream Accept-Encoding",
                "4.2",
                request("GET", PS, "/photos/cat.jpg", Some(WWW))
                    .header("x-objstore-vary", "Accept-Encoding"),
            ),
            WWW,
        )
        .vary_tokens(&["Accept-Encoding", "Origin"]),
        case(
            "Vary merged without Origin",
            "4.2, 4.3",
            request("GET", PS, "/photos/cat.jpg", None)
                .header("x-objstore-vary", "Accept-Encoding"),
        )
        .vary_tokens(&["Accept-Encoding", "Origin"]),
        case(
            "Vary merged with two upstream lines",
            "4.2",
            request("GET", PS, "/photos/cat.jpg", Some("https://evil.io"))
                .header("x-objstore-vary", "Accept-Encoding")
                .header("x-objstore-vary", "User-Agent"),
        )
        .vary_tokens(&["Accept-Encoding", "User-Agent", "Origin"]),
        case(
            "Vary Origin appears once (case-insensitive)",
            "4.2",
            request("GET", PS, "/photos/cat.jpg", None).header("x-objstore-vary", "origin"),
        )
        .vary_tokens(&["Origin"]),
        case(
            "Vary Origin once among others",
            "4.2",
            request("GET", PS, "/photos/cat.jpg", None)
                .header("x-objstore-vary", "Accept-Encoding, ORIGIN"),
        )
        .vary_tokens(&["Accept-Encoding", "Origin"]),
        photos0(
            case(
                "Vary * stays",
                "4.2",
                request("GET", PS, "/photos/cat.jpg", Some(WWW)).header("x-objstore-vary", "*"),
            ),
            WWW,
        )
        .vary_exact("*"),
    ];
    b.run(cases);
    // The PUTs reached the store with their bodies (when `CASE` ran them).
    if selected("PUT allowed") {
        assert_eq!(
            b.store.get_object("photos", "new.txt").as_deref(),
            Some(&b"fresh"[..]),
            "PUT body stored upstream"
        );
    }
    if selected("chunked PUT body") {
        assert_eq!(
            b.store.get_object("photos", "chunked.txt").as_deref(),
            Some(&b"hello"[..]),
            "chunked PUT body stored upstream"
        );
    }
}

/// Local replies and forwarded requests alternate on one keep-alive connection: the filter's
/// per-request state must not leak from one request to the next (spec 3, 4, 4.4).
#[test]
fn keep_alive_connection() {
    let mut b = Bench::start("keep-alive", MAIN_CONFIG);
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
                    request("GET", PS, "/photos/cat.jpg", Some(WWW)),
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
                request("GET", PS, "/photos/cat.jpg", None).header("x-objstore-cors", "1"),
            )
            .vary_exact("Origin")
            .body(Body::Exact("meow".into())),
        );
        cases.push(
            case(
                &n("unconfigured bucket only stripped after configured ones"),
                "2.4 upstream_cors strip",
                request("GET", PS, "/nocors/k", Some(WWW)).header("x-objstore-cors", "1"),
            )
            .status(404),
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
    let mut b = Bench::start_with("envoy-503", MAIN_CONFIG, &EnvoyOptions::default(), true);
    let cases = vec![
        photos0(
            case(
                "Envoy 503 keeps CORS",
                "4.2",
                request("GET", PS, "/photos/cat.jpg", Some(WWW)),
            ),
            WWW,
        )
        .status(503)
        .vary_exact("Origin")
        .upstream(Upstream::NotReached),
        case(
            "Envoy 503 without Origin gets Vary",
            "4.2, 4.3",
            request("GET", PS, "/photos/cat.jpg", None),
        )
        .status(503)
        .vary_exact("Origin")
        .upstream(Upstream::NotReached),
        case(
            "Envoy 503 with a * rule",
            "4.2",
            request("GET", PS, "/public/p.txt", Some("https://anything.org")),
        )
        .status(503)
        .star("GET, HEAD", Some("ETag"), Some("60"))
        .vary_exact("Origin")
        .upstream(Upstream::NotReached),
        case(
            "Envoy 503 with ResponseVary false: no Vary",
            "4.2",
            request("GET", PS, "/novary/n", Some(WWW)),
        )
        .status(503)
        .echo(WWW, "GET", None, None)
        .upstream(Upstream::NotReached),
        case(
            "Envoy 503 for an unconfigured bucket untouched",
            "2.2",
            request("GET", PS, "/nocors/k", Some(WWW)),
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
