//! docs/spec.md §3 and §5: preflight answers (exact headers, order, status and
//! body), request-header lists, and origin-matching bypass regressions.

use super::*;
#[test]
fn preflight_success_headers_exact_and_in_order() {
    let p = policy(CONFIG);
    run(
        &p,
        vec![
            (
                "listed origin, no ACRH: ACAO echo, ACAC, ACAM, ACEH, ACMA, Vary; no ACAH",
                preflight("photos", WWW_A, "PUT"),
                photos_ok(WWW_A, None),
            ),
            (
                "listed origin with requested headers: ACAH normalised",
                preflight("photos", WWW_A, "PUT").acrh("Content-Type, X-Oss-Meta-A"),
                photos_ok(WWW_A, Some("content-type, x-oss-meta-a")),
            ),
            (
                "wildcard origin https://*.b.com matches one label",
                preflight("photos", "https://x.b.com", "GET"),
                photos_ok("https://x.b.com", None),
            ),
            (
                "wildcard origin https://*.b.com matches nested labels",
                preflight("photos", "https://x.y.b.com", "HEAD"),
                photos_ok("https://x.y.b.com", None),
            ),
            (
                "`*` rule: ACAO * and no ACAC",
                preflight("public", "https://anything.test", "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET, HEAD"), (VARY, PREFLIGHT_VARY)]),
            ),
            (
                "`*` rule with AllowedHeader *: requested headers echoed, authorization included",
                preflight("public", "https://anything.test", "HEAD")
                    .acrh("Authorization,X-Anything"),
                ok(&[
                    (ACAO, "*"),
                    (ACAM, "GET, HEAD"),
                    (ACAH, "authorization, x-anything"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "first matching rule wins: rule 0 allows PUT+content-type",
                preflight("ordered", WWW_A, "PUT").acrh("content-type"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "PUT"),
                    (ACAH, "content-type"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "rule 0 lacks the header, rule 1 allows it: rule 1's headers",
                preflight("ordered", WWW_A, "PUT").acrh("content-type,x-oss-meta-a"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "PUT, GET"),
                    (ACAH, "content-type, x-oss-meta-a"),
                    (ACEH, "ETag"),
                    (ACMA, "60"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "rule 0 lacks the method, rule 1 allows it: rule 1's headers",
                preflight("ordered", WWW_A, "GET"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "PUT, GET"),
                    (ACEH, "ETag"),
                    (ACMA, "60"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "rule order: listed rule first gives echo with credentials",
                preflight("listed-first", WWW_A, "GET"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "GET"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "rule order: `*` rule first gives * without credentials",
                preflight("star-first", WWW_A, "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET"), (VARY, PREFLIGHT_VARY)]),
            ),
            (
                "rule order: listed-first bucket, other origin falls to rule 1's *",
                preflight("listed-first", "https://other.io", "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET"), (VARY, PREFLIGHT_VARY)]),
            ),
            (
                "one rule with both * and a listed origin: the listed one keeps credentials",
                preflight("mixed", WWW_A, "GET"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "GET"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "one rule with both * and a listed origin: others get *",
                preflight("mixed", "https://other.io", "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET"), (VARY, PREFLIGHT_VARY)]),
            ),
        ],
    );
}

#[test]
fn preflight_methods_are_case_sensitive() {
    let p = policy(CONFIG);
    run(
        &p,
        vec![
            (
                "PUT allowed",
                preflight("photos", WWW_A, "PUT"),
                photos_ok(WWW_A, None),
            ),
            (
                "`put` refused",
                preflight("photos", WWW_A, "put"),
                refused(),
            ),
            (
                "`Get` refused",
                preflight("photos", WWW_A, "Get"),
                refused(),
            ),
            (
                "DELETE not in the rule: refused",
                preflight("photos", WWW_A, "DELETE"),
                refused(),
            ),
            (
                "PATCH refused",
                preflight("photos", WWW_A, "PATCH"),
                refused(),
            ),
            (
                "OPTIONS refused",
                preflight("photos", WWW_A, "OPTIONS"),
                refused(),
            ),
            (
                "empty ACRM refused",
                preflight("photos", WWW_A, ""),
                refused(),
            ),
            (
                "` PUT` (with space) refused",
                preflight("photos", WWW_A, " PUT"),
                refused(),
            ),
        ],
    );
}

#[test]
fn preflight_request_headers() {
    let p = policy(CONFIG);
    let n64: Vec<String> = (0..64).map(|i| format!("x-oss-h{i}")).collect();
    let n64 = n64.join(",");
    let n65 = format!("{n64},x-oss-h64");
    let acah64 = n64.replace(',', ", ");
    // 4096 bytes exactly is allowed; one more is not.
    let exactly_4k = format!("x-oss-{}", "a".repeat(4090));
    let over_4k = format!("x-oss-{}", "a".repeat(4091));
    assert_eq!(exactly_4k.len(), 4096);
    // Two lines whose sum is over 4 KiB.
    let half = format!("x-oss-{}", "b".repeat(2100));
    run(
        &p,
        vec![
            (
                "headers match case-insensitively",
                preflight("photos", WWW_A, "PUT").acrh("CONTENT-TYPE"),
                photos_ok(WWW_A, Some("content-type")),
            ),
            (
                "x-oss-* glob matches x-oss-meta-author",
                preflight("photos", WWW_A, "PUT").acrh("x-oss-meta-author"),
                photos_ok(WWW_A, Some("x-oss-meta-author")),
            ),
            (
                "x-oss-* glob does not match x-os-meta",
                preflight("photos", WWW_A, "PUT").acrh("x-os-meta"),
                refused(),
            ),
            (
                "x-oss-* glob is anchored: a-x-oss-meta refused",
                preflight("photos", WWW_A, "PUT").acrh("a-x-oss-meta"),
                refused(),
            ),
            (
                "one unlisted header fails the whole preflight",
                preflight("photos", WWW_A, "PUT").acrh("content-type, authorization"),
                refused(),
            ),
            (
                "OWS (spaces and tabs) trimmed, empty items dropped",
                preflight("photos", WWW_A, "PUT").acrh(" ,\tContent-Type \t,, x-oss-meta-a ,"),
                photos_ok(WWW_A, Some("content-type, x-oss-meta-a")),
            ),
            (
                "empty ACRH value: no ACAH",
                preflight("photos", WWW_A, "PUT").acrh(""),
                photos_ok(WWW_A, None),
            ),
            (
                "ACRH of only commas and spaces: no ACAH",
                preflight("photos", WWW_A, "PUT").acrh(" , ,"),
                photos_ok(WWW_A, None),
            ),
            (
                "several ACRH lines count as one list",
                preflight("photos", WWW_A, "PUT")
                    .acrh("content-type")
                    .acrh("x-oss-meta-a, x-oss-meta-b"),
                photos_ok(WWW_A, Some("content-type, x-oss-meta-a, x-oss-meta-b")),
            ),
            (
                "several ACRH lines, one with an unlisted header: refused",
                preflight("photos", WWW_A, "PUT")
                    .acrh("content-type")
                    .acrh("authorization"),
                refused(),
            ),
            (
                "64 requested headers allowed",
                preflight("photos", WWW_A, "PUT").acrh(&n64),
                photos_ok(WWW_A, Some(&acah64)),
            ),
            (
                "65 requested headers: 403",
                preflight("photos", WWW_A, "PUT").acrh(&n65),
                refused(),
            ),
            (
                "ACRH of exactly 4096 bytes allowed",
                preflight("photos", WWW_A, "PUT").acrh(&exactly_4k),
                photos_ok(WWW_A, Some(&exactly_4k)),
            ),
            (
                "ACRH over 4 KiB: 403",
                preflight("photos", WWW_A, "PUT").acrh(&over_4k),
                refused(),
            ),
            (
                "ACRH over 4 KiB across two lines: 403",
                preflight("photos", WWW_A, "PUT").acrh(&half).acrh(&half),
                refused(),
            ),
            (
                "non-token item (space inside) on an allow-any rule: 403",
                preflight("public", WWW_A, "GET").acrh("x a"),
                refused(),
            ),
            (
                "non-token item (`;`) on an allow-any rule: 403",
                preflight("public", WWW_A, "GET").acrh("x-a;b"),
                refused(),
            ),
            (
                "non-token item (`:`) on an allow-any rule: 403",
                preflight("public", WWW_A, "GET").acrh("content-type:"),
                refused(),
            ),
            (
                "`*` alone is a token: echoed by an allow-any rule",
                preflight("public", WWW_A, "GET").acrh("*"),
                ok(&[
                    (ACAO, "*"),
                    (ACAM, "GET, HEAD"),
                    (ACAH, "*"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
        ],
    );
}

#[test]
fn preflight_refusal_body_is_oss_xml() {
    let p = policy(CONFIG);
    run(
        &p,
        vec![
            (
                "RequestId from x-request-id, HostId is the authority",
                preflight("photos", "https://evil.io", "GET")
                    .request_id("5C3D9175B6FC201293AD4890"),
                forbidden(MSG_NOT_ALLOWED, "5C3D9175B6FC201293AD4890", HOST),
            ),
            (
                "no x-request-id: empty RequestId",
                preflight("photos", "https://evil.io", "GET"),
                forbidden(MSG_NOT_ALLOWED, "", HOST),
            ),
            (
                "RequestId and HostId are XML-escaped",
                Req::new("OPTIONS", "h<o>&st", "/photos/k")
                    .origin("https://evil.io")
                    .acrm("GET")
                    .request_id("</RequestId><x>&amp;"),
                forbidden(MSG_NOT_ALLOWED, "</RequestId><x>&amp;", "h<o>&st"),
            ),
            (
                "not-enabled body for unconfigured bucket",
                Req::new("OPTIONS", "s3.test:9000", "/other/k")
                    .origin(WWW_A)
                    .acrm("GET")
                    .request_id("r1"),
                forbidden(MSG_NOT_ENABLED, "r1", "s3.test:9000"),
            ),
        ],
    );
}

#[test]
fn preflight_origin_and_header_multiplicity() {
    let p = policy(CONFIG);
    run(
        &p,
        vec![
            (
                "two Origin lines (both allowed): 403",
                Req::to("OPTIONS", "photos")
                    .origin(WWW_A)
                    .origin(WWW_A)
                    .acrm("GET"),
                refused(),
            ),
            (
                "two Origin lines on the `*` bucket: 403",
                Req::to("OPTIONS", "public")
                    .origin("https://x.io")
                    .origin("https://y.io")
                    .acrm("GET"),
                refused(),
            ),
            (
                "two Origin lines as Envoy hands them over, joined with a comma, on the `*` bucket: 403",
                Req::to("OPTIONS", "public")
                    .origin("https://x.io,https://y.io")
                    .acrm("GET"),
                refused(),
            ),
            (
                "ACRM lines joined by Envoy: 403",
                Req::to("OPTIONS", "public").origin(WWW_A).acrm("GET,HEAD"),
                refused(),
            ),
            (
                "two ACRM lines: 403",
                Req::to("OPTIONS", "photos")
                    .origin(WWW_A)
                    .acrm("GET")
                    .acrm("GET"),
                refused(),
            ),
            (
                "two ACRM lines on the `*` bucket: 403",
                Req::to("OPTIONS", "public")
                    .origin(WWW_A)
                    .acrm("GET")
                    .acrm("HEAD"),
                refused(),
            ),
            (
                "an empty Origin line plus a real one counts as one Origin",
                Req::to("OPTIONS", "photos")
                    .origin("")
                    .origin(WWW_A)
                    .acrm("GET"),
                photos_ok(WWW_A, None),
            ),
            (
                "Origin `null` is not matched by listed origins",
                preflight("photos", "null", "GET"),
                refused(),
            ),
            (
                "Origin `null` is matched by `*`, answered `*`",
                preflight("public", "null", "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET, HEAD"), (VARY, PREFLIGHT_VARY)]),
            ),
            (
                "Origin `null` on listed-first falls to the `*` rule",
                preflight("listed-first", "null", "GET"),
                ok(&[(ACAO, "*"), (ACAM, "GET"), (VARY, PREFLIGHT_VARY)]),
            ),
        ],
    );
}

#[test]
fn origin_bypass_regressions() {
    let p = policy(CONFIG);
    let mut cases: Vec<(&str, Req, Outcome)> = Vec::new();
    for (name, bucket, origin) in [
        (
            "suffix confusion: allowed origin + evil suffix",
            "photos",
            "https://www.a.com.evil.io",
        ),
        (
            "prefix confusion: evil prefix glued to allowed origin",
            "photos",
            "https://evilwww.a.com",
        ),
        ("scheme differs", "photos", "http://www.a.com"),
        ("port added", "photos", "https://www.a.com:8443"),
        ("trailing slash", "photos", "https://www.a.com/"),
        ("path", "photos", "https://www.a.com/x"),
        ("userinfo", "photos", "https://user@www.a.com"),
        (
            "two origins in one value",
            "photos",
            "https://www.a.com, https://www.a.com",
        ),
        ("leading space", "photos", " https://www.a.com"),
        ("wildcard: apex not implied", "photos", "https://b.com"),
        (
            "wildcard: suffix confusion b.com.evil.io",
            "photos",
            "https://b.com.evil.io",
        ),
        (
            "wildcard: nested suffix confusion x.b.com.evil.io",
            "photos",
            "https://x.b.com.evil.io",
        ),
        ("wildcard: label glued (xb.com)", "photos", "https://xb.com"),
        (
            "wildcard: port smuggling evil.com:x.b.com",
            "photos",
            "https://evil.com:x.b.com",
        ),
        (
            "wildcard: path smuggling evil.com/.b.com",
            "photos",
            "https://evil.com/.b.com",
        ),
        ("wildcard: other scheme", "photos", "http://x.b.com"),
        (
            "shared suffix between exact origins: barfoo.com",
            "suffix",
            "https://barfoo.com",
        ),
        (
            "shared suffix between exact origins: foobar.com",
            "suffix",
            "https://foobar.com",
        ),
        (
            "shared suffix: foo.com.bar.com",
            "suffix",
            "https://foo.com.bar.com",
        ),
        (
            "glob characters literal: [::2] not [::1]",
            "local",
            "http://[::2]:8080",
        ),
        (
            "IPv6 literal with another port",
            "local",
            "http://[::1]:8081",
        ),
        ("localhost:* needs a port", "local", "http://localhost"),
        (
            "localhost:* port is digits only",
            "local",
            "http://localhost:80.evil.com",
        ),
        (
            "localhost:* is not localhost.evil.com",
            "local",
            "http://localhost.evil.com:80",
        ),
    ] {
        cases.push((name, preflight(bucket, origin, "GET"), refused()));
    }
    let get_only = |o: &str| {
        ok(&[
            (ACAO, o),
            (ACAC, "true"),
            (ACAM, "GET"),
            (VARY, PREFLIGHT_VARY),
        ])
    };
    cases.extend([
        (
            "shared suffix: foo.com itself allowed",
            preflight("suffix", "https://foo.com", "GET"),
            ok(&[
                (ACAO, "https://foo.com"),
                (ACAC, "true"),
                (ACAM, "GET, PUT"),
                (VARY, PREFLIGHT_VARY),
            ]),
        ),
        (
            "shared suffix: bar.com itself allowed",
            preflight("suffix", "https://bar.com", "PUT"),
            ok(&[
                (ACAO, "https://bar.com"),
                (ACAC, "true"),
                (ACAM, "GET, PUT"),
                (VARY, PREFLIGHT_VARY),
            ]),
        ),
        (
            "glob characters literal: http://[::1]:8080 allowed exactly",
            preflight("local", "http://[::1]:8080", "GET"),
            get_only("http://[::1]:8080"),
        ),
        (
            "localhost:* allows a port",
            preflight("local", "http://localhost:3000", "GET"),
            get_only("http://localhost:3000"),
        ),
        (
            "upper-case Origin matches and is echoed byte for byte",
            preflight("photos", "HTTPS://WWW.A.COM", "GET"),
            photos_ok("HTTPS://WWW.A.COM", None),
        ),
        (
            "mixed-case wildcard Origin matches and is echoed byte for byte",
            preflight("photos", "https://X.B.Com", "GET"),
            photos_ok("https://X.B.Com", None),
        ),
    ]);
    // The same origins on actual requests: no grant.
    let mut c = Cases::new();
    for (name, req, want) in &cases {
        c.check(name, "preflight", &outcome(&p, req), want);
    }
    for (name, bucket, origin) in [
        (
            "actual: suffix confusion",
            "photos",
            "https://www.a.com.evil.io",
        ),
        (
            "actual: prefix confusion",
            "photos",
            "https://evilwww.a.com",
        ),
        ("actual: wildcard apex", "photos", "https://b.com"),
        (
            "actual: wildcard suffix confusion",
            "photos",
            "https://b.com.evil.io",
        ),
        (
            "actual: port smuggling",
            "photos",
            "https://evil.com:x.b.com",
        ),
        ("actual: barfoo.com", "suffix", "https://barfoo.com"),
        ("actual: foobar.com", "suffix", "https://foobar.com"),
        ("actual: [::2]", "local", "http://[::2]:8080"),
        ("actual: null on listed origins", "photos", "null"),
    ] {
        let req = Req::to("GET", bucket).origin(origin);
        c.check(name, "actual", &outcome(&p, &req), &Outcome::Forward(None));
    }
    let req = Req::to("GET", "photos").origin("HTTPS://WWW.A.COM");
    c.check(
        "actual: upper-case Origin echoed byte for byte",
        "actual",
        &outcome(&p, &req),
        &Outcome::Forward(echo(0, "HTTPS://WWW.A.COM")),
    );
    let req = Req::to("GET", "public").origin("null");
    c.check(
        "actual: null matched by `*`",
        "actual",
        &outcome(&p, &req),
        &Outcome::Forward(any(0)),
    );
    c.finish();
}
