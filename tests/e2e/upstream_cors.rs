//! The gateway owns CORS (docs/spec.md §2, §4, `upstream_cors`): in front of a store that
//! answers CORS like MinIO community's default handler (every Origin reflected with
//! credentials, preflights answered by the store), nothing of the store's CORS reaches the
//! browser unless `upstream_cors` is `pass`, and a report-only bucket is left alone.

use bucket_cors_testkit::case::*;
use bucket_cors_testkit::envoy::{envoy_bin, envoy_release};
use bucket_cors_testkit::expect::Body;
use bucket_cors_testkit::spec::names::*;
use bucket_cors_testkit::spec::*;
use bucket_cors_testkit::{Bench, EnvoyOptions, RawRequest};

use crate::main_config::*;

const EVIL: &str = "https://evil.example.net";
/// The `Vary` of the store's own preflight answer.
const STORE_PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// `MAIN_CONFIG` with a report-only bucket, so one table covers every kind of response.
fn config(upstream_cors: &str) -> String {
    MAIN_CONFIG.replace(
        r#""default": null,"#,
        &format!(
            r#""default": null, "upstream_cors": {upstream_cors},"#
        ),
    )
    .replace(
        r#""novary": {"#,
        r#""legacy": {"Mode": "report", "CORSRule": [{"AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"]}]},
    "novary": {"#,
    )
}

/// `upstream_cors: "strip"`, the default (written out here, and left out below).
#[test]
fn a_reflecting_store_leaks_nothing_through_the_gateway() {
    for (name, config) in [
        ("strip-default", MAIN_CONFIG.to_string()),
        ("strip", config(r#""strip""#)),
    ] {
        let mut b = Bench::start_reflecting(name, &config);
        b.store.put_object("photos", "cat.jpg", b"meow");
        b.store.put_object("other", "k", b"other");
        b.store.put_object("legacy", "k", b"legacy");
        let mut cases = vec![
            case(
                "bucket without rules: the store's reflected Origin is removed",
                "upstream_cors, 4.2",
                request("GET", PS, "/other/k", Some(EVIL)),
            )
            .vary_origin()
            .body(Body::Exact("other".into())),
            case(
                "no bucket: the store's reflected Origin is removed",
                "upstream_cors, 2.1",
                request("GET", PS, "/", Some(EVIL)),
            )
            .vary_origin(),
            case(
                "virtual-hosted bucket without rules: removed",
                "upstream_cors, 1 endpoints",
                request("GET", "other.s3.test", "/k", Some(EVIL)),
            )
            .vary_origin(),
            case(
                "bucket without rules, 404: removed",
                "upstream_cors, 4.2",
                request("GET", PS, "/other/missing", Some(EVIL)),
            )
            .status(404)
            .vary_origin(),
            case(
                "bucket without rules, forced 500: removed",
                "upstream_cors, 4.2",
                request("GET", PS, "/other/k", Some(EVIL)).header("x-objstore-status", "500"),
            )
            .status(500)
            .vary_origin(),
            case(
                "bucket without rules, HEAD: removed",
                "upstream_cors, 4.2",
                request("HEAD", PS, "/other/k", Some(EVIL)),
            )
            .vary_origin(),
            case(
                "no bucket, preflight: answered by the store, its CORS removed",
                "upstream_cors, 2.1",
                preflight(PS, "/", EVIL, "PUT")
                    .header("Access-Control-Request-Headers", "authorization"),
            )
            .status(204)
            .vary_exact(STORE_PREFLIGHT_VARY)
            .header("x-objstore-options", Some("reached")),
            case(
                "bucket without rules, preflight: OSS's 403, the store never asked",
                "3.2",
                preflight(PS, "/other/k", EVIL, "PUT").header("x-request-id", "rid-u1"),
            )
            .preflight_403(MSG_NOT_ENABLED, "rid-u1", PS),
            case(
                "configured bucket, refused Origin: the store's reflection removed",
                "4.2",
                request("GET", PS, "/photos/cat.jpg", Some(EVIL)),
            )
            .vary_origin()
            .body(Body::Exact("meow".into())),
            photos0(
                case(
                    "configured bucket, allowed Origin: the rules' headers, not the store's",
                    "4.2",
                    request("GET", PS, "/photos/cat.jpg", Some(WWW)),
                ),
                WWW,
            )
            .vary_origin()
            .body(Body::Exact("meow".into())),
            case(
                "configured bucket, refused preflight: the store never asked",
                "3.5",
                preflight(PS, "/photos/cat.jpg", EVIL, "GET").header("x-request-id", "rid-u2"),
            )
            .preflight_403(MSG_NOT_ALLOWED, "rid-u2", PS),
            case(
                "report-only bucket: left alone, the store's CORS passes",
                "6 Mode report",
                request("GET", PS, "/legacy/k", Some(EVIL)),
            )
            .acx(ACAO, EVIL)
            .acx(ACAC, "true")
            .acx(ACEH, STORE_EXPOSE)
            .vary_origin(),
        ];
        if name == "strip-default" {
            // MAIN_CONFIG has no report-only bucket: `legacy` is a bucket without rules there.
            cases.pop();
        }
        b.run(cases);
    }
}

/// What the reflecting store exposes (MinIO's default list).
const STORE_EXPOSE: &str = "Date, Etag, Server, Connection, Accept-Ranges, Content-Range, Content-Encoding, Content-Length, Content-Type, Content-Disposition, Last-Modified, Content-Language, Cache-Control, Retry-After, X-Amz-Bucket-Region, Expires, X-Amz*, X-Amz-Request-Id";

/// `upstream_cors: "pass"` keeps the backend's own CORS where the rules do not govern, and
/// only there.
#[test]
fn upstream_cors_pass_keeps_the_store_cors_where_no_rules_govern() {
    let mut b = Bench::start_reflecting("pass", &config(r#""pass""#));
    b.store.put_object("other", "k", b"other");
    b.store.put_object("photos", "cat.jpg", b"meow");
    let cases = vec![
        case(
            "bucket without rules: the store's CORS passes",
            "upstream_cors pass",
            request("GET", PS, "/other/k", Some(EVIL)),
        )
        .acx(ACAO, EVIL)
        .acx(ACAC, "true")
        .acx(ACEH, STORE_EXPOSE)
        .vary_origin(),
        case(
            "configured bucket, refused Origin: still the rules alone",
            "4.2",
            request("GET", PS, "/photos/cat.jpg", Some(EVIL)),
        )
        .vary_origin(),
    ];
    b.run(cases);
}

/// Allow headers the spec does not name one by one: the upstream's whole `Access-Control-Allow-`
/// family is removed by prefix (docs/spec.md §2.4, §4.2), whoever's rules govern the response.
#[test]
fn unnamed_access_control_allow_headers_of_the_store_are_removed() {
    let mut b = Bench::start("allow-family", MAIN_CONFIG);
    b.store.put_object("photos", "cat.jpg", b"meow");
    b.store.put_object("other", "k", b"other");
    let unnamed = |r: RawRequest| {
        r.header("x-objstore-add", "Access-Control-Allow-Local-Network: true")
            .header("x-objstore-add", "Access-Control-Allow-External: true")
    };
    let cases = vec![
        photos0(
            case(
                "allowed Origin: the rules' headers, no unnamed allow header",
                "2.4, 4.2",
                unnamed(request("GET", PS, "/photos/cat.jpg", Some(WWW))),
            ),
            WWW,
        )
        .vary_origin(),
        case(
            "refused Origin: no unnamed allow header",
            "2.4, 4.2",
            unnamed(request("GET", PS, "/photos/cat.jpg", Some(EVIL))),
        )
        .vary_origin(),
        case(
            "no bucket: no unnamed allow header",
            "2.4, 2.1",
            unnamed(request("GET", PS, "/", Some(EVIL))),
        ),
        case(
            "bucket without rules: no unnamed allow header",
            "2.4, 2.2",
            unnamed(request("GET", PS, "/other/k", Some(EVIL))),
        ),
    ];
    b.run(cases);
}

/// What the store adds to each response of the interim tables, interim ones included.
fn interim_cors(r: RawRequest, status: &str) -> RawRequest {
    r.header("x-objstore-interim", status)
        .header(
            "x-objstore-add",
            format!("Access-Control-Allow-Origin: {EVIL}"),
        )
        .header("x-objstore-add", "Access-Control-Allow-Credentials: true")
}

/// The interim tables' requests: a 103 on an allowed GET of a configured bucket, on a request
/// without a bucket, and a 100 on a PUT that expects it; `interim` adds each one's interim
/// expectation to its final one.
fn interim_cases(interim: impl Fn(Case, u16) -> Case) -> Vec<Case> {
    vec![
        interim(
            photos0(
                case(
                    "103 before an allowed GET of a configured bucket",
                    "2.4, 4.2",
                    interim_cors(request("GET", PS, "/photos/cat.jpg", Some(WWW)), "103"),
                ),
                WWW,
            )
            .vary_origin(),
            103,
        ),
        interim(
            case(
                "103 before a request without a bucket",
                "2.4, 2.1",
                interim_cors(request("GET", PS, "/", Some(EVIL)), "103"),
            ),
            103,
        ),
        interim(
            photos0(
                case(
                    "100 before an allowed PUT that expects it",
                    "2.4, 4.2",
                    interim_cors(request("PUT", PS, "/photos/new", Some(WWW)), "100")
                        .header("Expect", "100-continue")
                        .body("data"),
                ),
                WWW,
            )
            .vary_origin(),
            100,
        ),
    ]
}

/// Interim (1xx) responses are out of the filter's reach (docs/spec.md §2.4): Envoy 1.40 hands
/// their headers to neither host's filter, so an upstream's `100 Continue` or `103 Early Hints`
/// keeps its CORS headers when the connection manager forwards it (`proxy_100_continue: true`),
/// while the final response is the filter's. By default Envoy forwards no upstream 1xx (it
/// answers `Expect: 100-continue` itself), and with `proxy_100_continue` a route's
/// `response_headers_to_remove` takes the listed names off interim responses too, before the
/// filter sets its own on the final one. If this table fails because the interim response lost
/// the store's headers by itself, Envoy now shows 1xx headers to filters: strip them there.
#[test]
fn interim_responses_are_beyond_the_filter_and_off_by_default() {
    let evil_cors: &[(&str, &str)] = &[(ACAO, EVIL), (ACAC, "true")];
    let start = |name: &str, opts: &EnvoyOptions| {
        let b = Bench::start_with(name, MAIN_CONFIG, opts, false);
        b.store.put_object("photos", "cat.jpg", b"meow");
        b
    };

    let mut b = start("interim-default", &EnvoyOptions::default());
    b.run(interim_cases(|c, status| match status {
        // Envoy answers `Expect: 100-continue` itself, with no header of the store's.
        100 => c.interim(100, &[]),
        _ => c.no_interim(),
    }));
    drop(b);

    let proxied = EnvoyOptions {
        proxy_100_continue: true,
        ..EnvoyOptions::default()
    };
    let mut b = start("interim-proxied", &proxied);
    b.run(interim_cases(|c, status| c.interim(status, evil_cors)));
    drop(b);

    let removed = EnvoyOptions {
        route_response_headers_to_remove: [ACAO, ACAC, ACAM, ACAH, ACAPN, ACEH, ACMA]
            .map(String::from)
            .to_vec(),
        ..proxied
    };
    // Envoy applies a route's `response_headers_to_remove` to interim responses from 1.40 on;
    // the older releases the README claims forward them as the store sent them.
    let removes_on_1xx = envoy_release(&envoy_bin()).is_some_and(|release| release >= (1, 40));
    let mut b = start("interim-removed-at-the-route", &removed);
    b.run(interim_cases(|c, status| {
        c.interim(status, if removes_on_1xx { &[] } else { evil_cors })
    }));
}
