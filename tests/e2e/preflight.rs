//! Preflight requests (docs/spec.md §3, §5) under the main configuration: what the filter
//! answers itself, with 200 and the grant or with OSS's 403.

use bucket_cors_testkit::case::*;
use bucket_cors_testkit::spec::names::*;
use bucket_cors_testkit::spec::*;
use bucket_cors_testkit::{Bench, RawRequest};

use crate::main_config::*;

/// Preflight (spec 3, 5) under the main config.
#[test]
fn preflight_cases() {
    let mut b = Bench::start("preflight", MAIN_CONFIG);
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
            request("OPTIONS", PS, "/photos/k", Some(WWW)),
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
