//! docs/spec.md §2: which requests the filter acts on, and the bucket-or-`default` lookup.

use super::*;
#[test]
fn request_classification() {
    let p = policy(CONFIG);
    let forward_unmatched = policy(
        r#"{"buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]}},
            "unmatched_preflight": "forward", "upstream_cors": "pass"}"#,
    );
    let n = run(
        &p,
        vec![
            (
                "no bucket (path /), actual request: upstream CORS stripped",
                Req::new("GET", HOST, "/").origin(WWW_A),
                Outcome::Strip,
            ),
            (
                "no bucket (path /?x), preflight: forwarded, upstream CORS stripped, even with reject",
                Req::new("OPTIONS", HOST, "/?x").origin(WWW_A).acrm("GET"),
                Outcome::Strip,
            ),
            (
                "no bucket (invalid bucket name /Photos/x): upstream CORS stripped",
                Req::new("OPTIONS", HOST, "/Photos/x").origin(WWW_A).acrm("GET"),
                Outcome::Strip,
            ),
            (
                "unconfigured bucket, GET with Origin: upstream CORS stripped",
                Req::to("GET", "other").origin(WWW_A),
                Outcome::Strip,
            ),
            (
                "unconfigured bucket, GET without Origin: upstream CORS stripped",
                Req::to("GET", "other"),
                Outcome::Strip,
            ),
            (
                "unconfigured bucket, OPTIONS with Origin but no ACRM: not a preflight, upstream CORS stripped",
                Req::to("OPTIONS", "other").origin(WWW_A),
                Outcome::Strip,
            ),
            (
                "unconfigured bucket, preflight, reject: 403 CORS is not enabled",
                preflight("other", WWW_A, "GET").request_id("rid-7"),
                forbidden(MSG_NOT_ENABLED, "rid-7", HOST),
            ),
            (
                "configured bucket, GET without Origin: forwarded, no grant",
                Req::to("GET", "photos"),
                Outcome::Forward(None),
            ),
            (
                "configured bucket, GET from allowed origin: forwarded with grant",
                Req::to("GET", "photos").origin(WWW_A),
                Outcome::Forward(echo(0, WWW_A)),
            ),
            (
                "OPTIONS with Origin but no ACRM is an actual request (forwarded; OPTIONS is never an allowed method)",
                Req::to("OPTIONS", "photos").origin(WWW_A),
                Outcome::Forward(None),
            ),
            (
                "OPTIONS with ACRM but no Origin is not a preflight",
                Req::to("OPTIONS", "photos").acrm("GET"),
                Outcome::Forward(None),
            ),
            (
                "PUT with Origin and ACRM is an actual request, not a preflight",
                Req::to("PUT", "photos").origin(WWW_A).acrm("PUT"),
                Outcome::Forward(echo(0, WWW_A)),
            ),
            (
                "lower-case `options` method is not a preflight",
                Req::to("options", "photos").origin(WWW_A).acrm("GET"),
                Outcome::Forward(None),
            ),
            (
                "empty Origin counts as absent: OPTIONS + empty Origin + ACRM is not a preflight",
                Req::to("OPTIONS", "photos").origin("").acrm("GET"),
                Outcome::Forward(None),
            ),
            (
                "empty Origin counts as absent: GET on the `*` bucket gets no grant",
                Req::to("GET", "public").origin(""),
                Outcome::Forward(None),
            ),
            (
                "empty Origin to an unconfigured bucket with ACRM: not rejected, upstream CORS stripped",
                Req::to("OPTIONS", "other").origin("").acrm("GET"),
                Outcome::Strip,
            ),
            (
                "preflight = OPTIONS + Origin + ACRM, answered locally",
                preflight("listed-first", WWW_A, "GET"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "GET"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
        ],
    );
    let m = run(
        &forward_unmatched,
        vec![
            (
                "unconfigured bucket, preflight, forward: ignored (sent upstream untouched)",
                preflight("other", WWW_A, "GET"),
                Outcome::Ignore,
            ),
            (
                "upstream_cors pass: no bucket is left alone",
                Req::new("GET", HOST, "/").origin(WWW_A),
                Outcome::Ignore,
            ),
            (
                "upstream_cors pass: an unconfigured bucket is left alone",
                Req::to("GET", "other").origin(WWW_A),
                Outcome::Ignore,
            ),
            (
                "upstream_cors pass: a configured bucket still gets its rules",
                Req::to("GET", "photos").origin(WWW_A),
                Outcome::Forward(echo(0, WWW_A)),
            ),
            (
                "forward setting does not affect configured buckets",
                preflight("photos", "https://evil.io", "GET"),
                refused(),
            ),
        ],
    );
    if std::env::var_os("CASE").is_none() {
        assert_eq!(n + m, 22);
    }
}

#[test]
fn default_configuration_is_used_for_unlisted_buckets_only() {
    let p = policy(
        r#"{
          "buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]}},
          "default": {"CORSRule": [{"AllowedOrigin": ["https://d.com"], "AllowedMethod": ["GET", "PUT"], "MaxAgeSeconds": 5}]}
        }"#,
    );
    run(
        &p,
        vec![
            (
                "unlisted bucket, preflight allowed by default",
                preflight("other", "https://d.com", "PUT"),
                ok(&[
                    (ACAO, "https://d.com"),
                    (ACAC, "true"),
                    (ACAM, "GET, PUT"),
                    (ACMA, "5"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "unlisted bucket, preflight refused by default's rules (not `not enabled`)",
                preflight("other", WWW_A, "GET"),
                refused(),
            ),
            (
                "unlisted bucket, actual GET granted by default",
                Req::to("GET", "other").origin("https://d.com"),
                Outcome::Forward(echo(0, "https://d.com")),
            ),
            (
                "unlisted bucket, no Origin: forwarded (Vary still applies)",
                Req::to("GET", "other"),
                Outcome::Forward(None),
            ),
            (
                "listed bucket does not fall back to default",
                preflight("photos", "https://d.com", "GET"),
                refused(),
            ),
            (
                "listed bucket uses its own rules",
                preflight("photos", WWW_A, "GET"),
                ok(&[
                    (ACAO, WWW_A),
                    (ACAC, "true"),
                    (ACAM, "GET"),
                    (VARY, PREFLIGHT_VARY),
                ]),
            ),
            (
                "no bucket stays ignored even with default",
                Req::new("OPTIONS", HOST, "/")
                    .origin("https://d.com")
                    .acrm("GET"),
                Outcome::Strip,
            ),
        ],
    );
}
