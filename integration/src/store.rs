//! Spec §8 against a real store: Envoy with the filter reading each bucket's rules from Garage
//! (`rules_source`) through a cluster whose upstream HTTP filter, Envoy's own
//! `aws_request_signing`, signs the reads with Garage's key from Envoy's environment. Tenant
//! traffic goes to Garage on the launcher's unsigned cluster, its own signature untouched.
//! Shared by `tests/store_rules.rs` and the `bench-store` figures.

use std::net::SocketAddr;

use bucket_cors_testkit::bootstrap::Cluster;
use bucket_cors_testkit::client::{send, RawRequest, Response};
use bucket_cors_testkit::{Envoy, EnvoyOptions};
use serde_json::{json, Value};

use crate::garage::{Garage, Key, REGION, ROOT_DOMAIN};

/// The cluster `rules_source` reads from: Garage's S3 API, every request signed by Envoy.
pub const SIGNED_CLUSTER: &str = "store-signed";

/// A `rules_source` (spec §8) on [`SIGNED_CLUSTER`] with `:authority` 127.0.0.1 (Garage takes
/// the bucket from the path), this refresh period, and `more` fields on top.
pub fn rules_source(refresh_seconds: u64, more: Value) -> Value {
    let mut source = json!({
        "cluster": SIGNED_CLUSTER,
        "authority": "127.0.0.1",
        "refresh_seconds": refresh_seconds,
    });
    if let (Value::Object(s), Value::Object(m)) = (&mut source, more) {
        s.extend(m);
    }
    source
}

/// A plugin configuration with no static bucket: every bucket's rules come from the store.
/// `debug_headers` on, so that a refused preflight names its reason (spec §6, §8).
pub fn plugin_config(rules_source: Value) -> String {
    json!({
        "endpoints": [ROOT_DOMAIN],
        "path_style": true,
        "debug_headers": true,
        "rules_source": rules_source,
    })
    .to_string()
}

/// The launch options of an Envoy in front of `garage`: [`SIGNED_CLUSTER`] added, the key in
/// Envoy's environment (never in a configuration).
pub fn envoy_options(garage: &Garage) -> EnvoyOptions {
    EnvoyOptions {
        clusters: vec![Cluster::s3_signed(SIGNED_CLUSTER, garage.s3_addr(), REGION)],
        env: credential_env(garage.key()),
        ..EnvoyOptions::default()
    }
}

/// The environment `aws_request_signing` reads its credential from.
pub fn credential_env(key: &Key) -> Vec<(String, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID".into(), key.id.clone()),
        ("AWS_SECRET_ACCESS_KEY".into(), key.secret.clone()),
    ]
}

/// Starts Envoy with this plugin configuration in front of `garage`.
pub fn start_envoy(garage: &Garage, plugin_config: &str) -> Envoy {
    Envoy::start_with(plugin_config, garage.s3_addr(), &envoy_options(garage))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `http://127.0.0.1:<port>` of Envoy's listener: the tenants' endpoint.
pub fn endpoint(envoy: &Envoy) -> String {
    format!("http://127.0.0.1:{}", envoy.addr().port())
}

/// A path-style preflight for `PUT /<bucket>/upload.bin` from `origin` (requesting
/// `content-type`), to Envoy at `addr`.
pub fn preflight_request(addr: SocketAddr, bucket: &str, origin: &str) -> RawRequest {
    RawRequest::new(
        "OPTIONS",
        format!("127.0.0.1:{}", addr.port()),
        format!("/{bucket}/upload.bin"),
    )
    .header("Origin", origin)
    .header("Access-Control-Request-Method", "PUT")
    .header("Access-Control-Request-Headers", "content-type")
}

/// [`preflight_request`] sent on a new connection.
pub fn preflight(addr: SocketAddr, bucket: &str, origin: &str) -> Response {
    send(addr, &preflight_request(addr, bucket, origin))
        .unwrap_or_else(|e| panic!("preflight to {addr}: {e}"))
}

/// The AWS CLI's `--cors-configuration` JSON: one rule `web` allowing `origins` to GET, PUT and
/// HEAD with any header, exposing `ETag`, `MaxAgeSeconds` 0 (a browser preflights every time).
pub fn cors_json(origins: &[&str]) -> String {
    json!({"CORSRules": [{
        "ID": "web",
        "AllowedOrigins": origins,
        "AllowedMethods": ["GET", "PUT", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 0,
    }]})
    .to_string()
}

/// The same rule as S3's XML document (the body of PutBucketCors), with `origins` as given.
pub fn cors_xml(origins: &[&str]) -> String {
    let origins: String = origins
        .iter()
        .map(|o| format!("<AllowedOrigin>{o}</AllowedOrigin>"))
        .collect();
    format!(
        "<CORSConfiguration><CORSRule><ID>web</ID>{origins}<AllowedMethod>GET</AllowedMethod>\
         <AllowedMethod>PUT</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>\
         <AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>\
         <MaxAgeSeconds>0</MaxAgeSeconds></CORSRule></CORSConfiguration>"
    )
}

/// `n` distinct bucket names S3 would accept (spec §8: so each one is read), random per run:
/// `rnd-` and 16 hex digits from a xorshift seeded with the clock.
pub fn random_bucket_names(n: usize) -> Vec<String> {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9e37_79b9_7f4a_7c15)
        | 1;
    let mut names = std::collections::BTreeSet::new();
    while names.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        names.insert(format!("rnd-{x:016x}"));
    }
    names.into_iter().collect()
}

/// Envoy's heap in use (admin `/memory`, `allocated`), in bytes.
pub fn memory_allocated(envoy: &Envoy) -> u64 {
    let (status, body) = envoy
        .admin_get("/memory")
        .unwrap_or_else(|e| panic!("admin /memory: {e}"));
    assert_eq!(status, 200, "admin /memory: {body}");
    let v: Value = serde_json::from_str(&body).expect("/memory is JSON");
    v["allocated"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no allocated in /memory: {body}"))
}
