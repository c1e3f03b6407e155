//! docs/spec.md §1 and §6: bucket addressing (virtual-hosted and path style)
//! through `decide`.

use super::*;
#[test]
fn bucket_resolution_through_decide() {
    let vhost = policy(
        r#"{
          "endpoints": ["oss-cn-hangzhou.aliyuncs.com", "example.internal", "s3.example.internal"],
          "buckets": {
            "photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]},
            "my.dotted.bucket": {"CORSRule": [{"AllowedOrigin": ["*"], "AllowedMethod": ["GET"]}]}
          }
        }"#,
    );
    let no_path_style = policy(
        r#"{
          "endpoints": ["s3.example.internal"],
          "path_style": false,
          "buckets": {"photos": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]}}
        }"#,
    );
    let granted = Outcome::Forward(echo(0, WWW_A));
    let get = |host: &str, path: &str| Req::new("GET", host, path).origin(WWW_A);
    let mut c = Cases::new();
    for (name, p, req, want) in [
        (
            "virtual-hosted on the OSS endpoint",
            &vhost,
            get("photos.oss-cn-hangzhou.aliyuncs.com", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "longest endpoint wins (photos.s3.example.internal is photos, not photos.s3)",
            &vhost,
            get("photos.s3.example.internal", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "shorter endpoint still works when it is the only match",
            &vhost,
            get("photos.example.internal", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "port stripped",
            &vhost,
            get("photos.s3.example.internal:9000", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "host case-folded",
            &vhost,
            get("PHOTOS.S3.Example.Internal", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "dotted bucket name under an endpoint",
            &vhost,
            get("my.dotted.bucket.s3.example.internal", "/"),
            Outcome::Forward(any(0)),
        ),
        (
            "virtual-hosted bucket wins over the path segment",
            &vhost,
            get("photos.s3.example.internal", "/other/cat.jpg"),
            granted.clone(),
        ),
        (
            "virtual-hosted unconfigured bucket does not fall back to the path",
            &vhost,
            get("other.s3.example.internal", "/photos/cat.jpg"),
            Outcome::Strip,
        ),
        (
            "host equal to an endpoint: path style",
            &vhost,
            get("oss-cn-hangzhou.aliyuncs.com", "/photos/cat.jpg"),
            granted.clone(),
        ),
        (
            // docs/spec.md §6: it was once read as bucket `s3` of `example.internal`.
            "an endpoint under a shorter endpoint is still path style, never bucket s3",
            &vhost,
            get("s3.example.internal", "/photos/cat.jpg"),
            granted.clone(),
        ),
        (
            "unknown host: path style",
            &vhost,
            get("minio:9000", "/photos/cat.jpg"),
            granted.clone(),
        ),
        (
            "path style with query right after the bucket",
            &vhost,
            get("minio", "/photos?cors"),
            granted.clone(),
        ),
        (
            "path style: empty first segment means no bucket",
            &vhost,
            get("minio", "/?list-type=2"),
            Outcome::Strip,
        ),
        (
            "path_style false: unknown host means no bucket",
            &no_path_style,
            get("minio", "/photos/cat.jpg"),
            Outcome::Strip,
        ),
        (
            "path_style false: host equal to the endpoint means no bucket",
            &no_path_style,
            get("s3.example.internal", "/photos/cat.jpg"),
            Outcome::Strip,
        ),
        (
            "path_style false: virtual-hosted still works",
            &no_path_style,
            get("photos.s3.example.internal", "/cat.jpg"),
            granted.clone(),
        ),
        (
            "virtual-hosted preflight: HostId is the request's authority",
            &vhost,
            Req::new("OPTIONS", "photos.s3.example.internal:9000", "/cat.jpg")
                .origin("https://evil.io")
                .acrm("GET"),
            forbidden(MSG_NOT_ALLOWED, "", "photos.s3.example.internal:9000"),
        ),
        (
            "virtual-hosted preflight allowed",
            &vhost,
            Req::new("OPTIONS", "photos.oss-cn-hangzhou.aliyuncs.com", "/cat.jpg")
                .origin(WWW_A)
                .acrm("GET"),
            ok(&[
                (ACAO, WWW_A),
                (ACAC, "true"),
                (ACAM, "GET"),
                (VARY, PREFLIGHT_VARY),
            ]),
        ),
    ] {
        c.check(name, "decide", &outcome(p, &req), &want);
    }
    c.finish();
}
