//! docs/spec.md §4 and §6: the response edits of actual requests, the
//! upstream's own CORS headers replaced or removed, and `Vary`.

use super::*;
struct ActualCase {
    name: &'static str,
    policy: &'static str,
    req: Req,
    upstream: Vec<(&'static str, &'static str)>,
    grant: Option<bucket_cors_core::Grant>,
    ops: Vec<String>,
}

const ALL_CORS_UPSTREAM: [(&str, &str); 6] = [
    (ACAO, "https://upstream.example"),
    (ACAC, "false"),
    (ACAM, "DELETE"),
    (ACAH, "x-upstream"),
    (ACEH, "x-upstream"),
    (ACMA, "1"),
];

/// Allow headers the spec does not name one by one (Private Network Access's successors): the
/// family `Access-Control-Allow-*` is owned by prefix (spec §2.4, §4.2).
const UNNAMED_ALLOW_UPSTREAM: [(&str, &str); 2] = [
    ("access-control-allow-local-network", "true"),
    ("access-control-allow-external", "true"),
];

#[test]
fn actual_request_response_edits() {
    let main = policy(CONFIG);
    let photos_granted = |origin: &str| {
        vec![
            set(ACAO, origin),
            set(ACAC, "true"),
            set(ACAM, "GET, PUT, HEAD"),
            set(ACEH, "ETag, x-oss-request-id"),
            set(ACMA, "600"),
            set(VARY, "Origin"),
        ]
    };
    let stripped: Vec<String> = ALL_CORS_UPSTREAM.iter().map(|(n, _)| remove(n)).collect();
    let upstream_with_vary = || {
        let mut h = ALL_CORS_UPSTREAM.to_vec();
        h.push((VARY, "Accept-Encoding"));
        h
    };
    let unnamed_removed = || {
        UNNAMED_ALLOW_UPSTREAM
            .iter()
            .map(|(n, _)| remove(n))
            .collect::<Vec<_>>()
    };
    let cases = vec![
        ActualCase {
            name: "spec 2.4, 4.2: Access-Control-Allow-* by prefix, allowed origin: unnamed allow headers removed",
            policy: "main",
            req: Req::to("GET", "photos").origin(WWW_A),
            upstream: UNNAMED_ALLOW_UPSTREAM.to_vec(),
            grant: echo(0, WWW_A),
            ops: [photos_granted(WWW_A), unnamed_removed()].concat(),
        },
        ActualCase {
            name: "spec 2.4, 4.2: Access-Control-Allow-* by prefix, refused origin: unnamed allow headers removed",
            policy: "main",
            req: Req::to("GET", "photos").origin("https://evil.io"),
            upstream: UNNAMED_ALLOW_UPSTREAM.to_vec(),
            grant: None,
            ops: [vec![set(VARY, "Origin")], unnamed_removed()].concat(),
        },
        ActualCase {
            name: "spec 2.4: Access-Control-Allow-* by prefix, no bucket: unnamed allow headers removed",
            policy: "main",
            req: Req::new("GET", HOST, "/").origin("https://evil.io"),
            upstream: UNNAMED_ALLOW_UPSTREAM.to_vec(),
            grant: None,
            ops: unnamed_removed(),
        },
        ActualCase {
            name: "spec 2.4: Access-Control-Allow-* by prefix, bucket without rules: unnamed allow headers removed",
            policy: "main",
            req: Req::to("GET", "other").origin("https://evil.io"),
            upstream: UNNAMED_ALLOW_UPSTREAM.to_vec(),
            grant: None,
            ops: unnamed_removed(),
        },
        // `upstream_cors` (docs/spec.md §1): the gateway owns CORS. A backend that reflects every
        // Origin with credentials (MinIO's default handler) must not leak through requests the
        // rules do not govern; `Vary` is left as the upstream sent it.
        ActualCase {
            name: "upstream_cors strip: no bucket: every upstream CORS header removed",
            policy: "main",
            req: Req::new("GET", HOST, "/").origin("https://evil.example.net"),
            upstream: upstream_with_vary(),
            grant: None,
            ops: stripped.clone(),
        },
        ActualCase {
            name: "upstream_cors strip: bucket without rules: every upstream CORS header removed",
            policy: "main",
            req: Req::to("GET", "other").origin("https://evil.example.net"),
            upstream: upstream_with_vary(),
            grant: None,
            ops: stripped.clone(),
        },
        ActualCase {
            name: "upstream_cors strip: bucket without rules, no Origin: removed too",
            policy: "main",
            req: Req::to("GET", "other"),
            upstream: upstream_with_vary(),
            grant: None,
            ops: stripped.clone(),
        },
        ActualCase {
            name: "allowed origin: ACAO/ACAC/ACAM/ACEH/ACMA set, no ACAH, Vary merged",
            policy: "main",
            req: Req::to("GET", "photos").origin(WWW_A),
            upstream: vec![("content-type", "image/jpeg"), ("etag", "\"x\"")],
            grant: echo(0, WWW_A),
            ops: photos_granted(WWW_A),
        },
        ActualCase {
            name: "HEAD from a wildcard-matched origin: same edits, echoing that origin",
            policy: "main",
            req: Req::to("HEAD", "photos").origin("https://x.b.com"),
            upstream: vec![("content-type", "application/xml")],
            grant: echo(0, "https://x.b.com"),
            ops: photos_granted("https://x.b.com"),
        },
        ActualCase {
            name: "`*` rule: ACAO *, no ACAC",
            policy: "main",
            req: Req::to("GET", "public").origin("https://x.io"),
            upstream: vec![],
            grant: any(0),
            ops: vec![set(ACAO, "*"), set(ACAM, "GET, HEAD"), set(VARY, "Origin")],
        },
        ActualCase {
            name: "disallowed origin: no CORS headers, Vary: Origin",
            policy: "main",
            req: Req::to("GET", "photos").origin("https://evil.io"),
            upstream: vec![],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "allowed origin, method not in any rule (DELETE): no grant, Vary only",
            policy: "main",
            req: Req::to("DELETE", "photos").origin(WWW_A),
            upstream: vec![],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "no Origin: only Vary",
            policy: "main",
            req: Req::to("GET", "photos"),
            upstream: vec![("etag", "\"x\"")],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "no Origin on the `*` bucket: only Vary",
            policy: "main",
            req: Req::to("GET", "public"),
            upstream: vec![],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "several Origin lines on an actual request: no grant",
            policy: "main",
            req: Req::to("GET", "photos").origin(WWW_A).origin(WWW_A),
            upstream: vec![],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "rule chosen by the request's own method: GET only in rule 1",
            policy: "main",
            req: Req::to("GET", "ordered").origin(WWW_A),
            upstream: vec![],
            grant: echo(1, WWW_A),
            ops: vec![
                set(ACAO, WWW_A),
                set(ACAC, "true"),
                set(ACAM, "PUT, GET"),
                set(ACEH, "ETag"),
                set(ACMA, "60"),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "actual request ignores the header condition: PUT matches rule 0",
            policy: "main",
            req: Req::to("PUT", "ordered").origin(WWW_A),
            upstream: vec![],
            grant: echo(0, WWW_A),
            ops: vec![
                set(ACAO, WWW_A),
                set(ACAC, "true"),
                set(ACAM, "PUT"),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "rule order on actual: listed first echoes",
            policy: "main",
            req: Req::to("GET", "listed-first").origin(WWW_A),
            upstream: vec![],
            grant: echo(0, WWW_A),
            ops: vec![
                set(ACAO, WWW_A),
                set(ACAC, "true"),
                set(ACAM, "GET"),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "rule order on actual: `*` first answers *",
            policy: "main",
            req: Req::to("GET", "star-first").origin(WWW_A),
            upstream: vec![],
            grant: any(0),
            ops: vec![set(ACAO, "*"), set(ACAM, "GET"), set(VARY, "Origin")],
        },
        ActualCase {
            name: "OPTIONS without ACRM from allowed origin: forwarded, no grant (OPTIONS not a rule method)",
            policy: "main",
            req: Req::to("OPTIONS", "photos").origin(WWW_A),
            upstream: vec![],
            grant: None,
            ops: vec![set(VARY, "Origin")],
        },
        ActualCase {
            name: "ResponseVary false: no Vary op for an allowed origin",
            policy: "main",
            req: Req::to("GET", "novary").origin(WWW_A),
            upstream: vec![("vary", "Accept-Encoding")],
            grant: echo(0, WWW_A),
            ops: vec![set(ACAO, WWW_A), set(ACAC, "true"), set(ACAM, "GET")],
        },
        ActualCase {
            name: "ResponseVary false, no Origin: no op at all",
            policy: "main",
            req: Req::to("GET", "novary"),
            upstream: vec![],
            grant: None,
            ops: vec![],
        },
        ActualCase {
            name: "ResponseVary false still removes upstream CORS headers",
            policy: "main",
            req: Req::to("GET", "novary"),
            upstream: vec![(ACAO, "*")],
            grant: None,
            ops: vec![remove(ACAO)],
        },
        ActualCase {
            name: "upstream CORS headers, allowed origin: replaced by Set, upstream ACAH removed",
            policy: "main",
            req: Req::to("GET", "photos").origin(WWW_A),
            upstream: ALL_CORS_UPSTREAM.to_vec(),
            grant: echo(0, WWW_A),
            ops: {
                let mut v = photos_granted(WWW_A);
                v.push(remove(ACAH));
                v
            },
        },
        ActualCase {
            name: "upstream CORS headers, disallowed origin: all removed",
            policy: "main",
            req: Req::to("GET", "photos").origin("https://evil.io"),
            upstream: ALL_CORS_UPSTREAM.to_vec(),
            grant: None,
            ops: vec![
                remove(ACAO),
                remove(ACAC),
                remove(ACAM),
                remove(ACAH),
                remove(ACEH),
                remove(ACMA),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "upstream CORS headers, no Origin: all removed",
            policy: "main",
            req: Req::to("GET", "photos"),
            upstream: ALL_CORS_UPSTREAM.to_vec(),
            grant: None,
            ops: vec![
                remove(ACAO),
                remove(ACAC),
                remove(ACAM),
                remove(ACAH),
                remove(ACEH),
                remove(ACMA),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "upstream ACAO twice and ACAC on the `*` bucket: ACAO set once, ACAC removed",
            policy: "main",
            req: Req::to("GET", "public").origin("https://x.io"),
            upstream: vec![(ACAO, "*"), (ACAO, "https://x.io"), (ACAC, "true")],
            grant: any(0),
            ops: vec![
                set(ACAO, "*"),
                set(ACAM, "GET, HEAD"),
                remove(ACAC),
                set(VARY, "Origin"),
            ],
        },
        ActualCase {
            name: "upstream Vary: Accept-Encoding becomes Accept-Encoding, Origin",
            policy: "main",
            req: Req::to("GET", "photos"),
            upstream: vec![("vary", "Accept-Encoding")],
            grant: None,
            ops: vec![set(VARY, "Accept-Encoding, Origin")],
        },
        ActualCase {
            name: "two upstream Vary lines are kept and Origin appended",
            policy: "main",
            req: Req::to("GET", "photos").origin("https://evil.io"),
            upstream: vec![("vary", "Accept-Encoding"), ("vary", "Accept-Language")],
            grant: None,
            ops: vec![set(VARY, "Accept-Encoding, Accept-Language, Origin")],
        },
        ActualCase {
            name: "upstream Vary: origin (lower case) untouched",
            policy: "main",
            req: Req::to("GET", "photos").origin(WWW_A),
            upstream: vec![("vary", "origin")],
            grant: echo(0, WWW_A),
            ops: photos_granted(WWW_A)
                .into_iter()
                .filter(|o| !o.starts_with("set vary"))
                .collect(),
        },
        ActualCase {
            name: "upstream Vary: Accept-Encoding, ORIGIN untouched",
            policy: "main",
            req: Req::to("GET", "photos"),
            upstream: vec![("vary", "Accept-Encoding, ORIGIN")],
            grant: None,
            ops: vec![],
        },
        ActualCase {
            name: "upstream Vary: * untouched",
            policy: "main",
            req: Req::to("GET", "photos"),
            upstream: vec![("vary", "*")],
            grant: None,
            ops: vec![],
        },
    ];
    let mut c = Cases::new();
    for case in &cases {
        let p = match case.policy {
            "main" => &main,
            other => unreachable!("{other}"),
        };
        let action = p.decide(&case.req.request()).action;
        let bucket_cors_core::Action::Forward(plan) = action else {
            c.fail(case.name, format!("expected Forward, got {action:?}"));
            continue;
        };
        c.check(case.name, "grant", &plan.grant, &case.grant);
        let got = plan.header_ops(case.upstream.iter().map(|(n, v)| (*n, v.as_bytes())));
        let mut got_text: Vec<String> = got.iter().map(op_text).collect();
        // At most one op per header name: no duplicate or conflicting edits.
        let mut names: Vec<&str> = got
            .iter()
            .map(|op| match op {
                bucket_cors_core::HeaderOp::Remove(n) => n.as_ref(),
                bucket_cors_core::HeaderOp::Set(n, _) => *n,
            })
            .collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        if names.len() != before {
            c.fail(
                case.name,
                format!("several ops on one header: {got_text:?}"),
            );
        }
        got_text.sort();
        let mut want = case.ops.clone();
        want.sort();
        c.check(case.name, "header ops (as a set)", &got_text, &want);
    }
    c.finish();
}

#[test]
fn upstream_private_network_allow_header_is_removed_like_the_other_allow_headers() {
    let policy = Policy::from_json(
        br#"{"buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]}}}"#,
    )
    .unwrap();
    let headers = [
        (":method", &b"GET"[..]),
        (":authority", b"h"),
        (":path", b"/photos/x"),
        ("origin", b"https://evil.com"),
    ];
    let Action::Forward(plan) = policy
        .decide(&Request::from_headers(
            headers.iter().map(|(n, v)| (*n, *v)),
        ))
        .action
    else {
        panic!("a GET to a configured bucket is forwarded");
    };
    let upstream = [("access-control-allow-private-network", &b"true"[..])];
    let ops = plan.header_ops(upstream.iter().map(|(n, v)| (*n, *v)));
    assert!(
        ops.contains(&HeaderOp::Remove(
            "access-control-allow-private-network".into()
        )),
        "{ops:?}"
    );
}
