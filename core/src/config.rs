//! The plugin configuration as written by users: OSS names, S3 aliases.
//!
//! Unknown fields are refused so that a typo cannot silently disable a rule.
//! This is only the shape; meaning is checked in `compile`.

use serde::Deserialize;
use std::collections::BTreeMap;

fn yes() -> bool {
    true
}

/// The whole plugin configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Virtual-hosted endpoints: `<bucket>.<endpoint>`.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// Fall back to `/<bucket>/<key>` when the host matches no endpoint.
    #[serde(default = "yes")]
    pub path_style: bool,
    /// Per-bucket CORS configurations. Ordered so errors come out in a stable order.
    #[serde(default)]
    pub buckets: BTreeMap<String, RawCors>,
    /// Rules for a resolved bucket that `buckets` does not list.
    #[serde(default)]
    pub default: Option<RawCors>,
    /// What a preflight to a bucket without CORS configuration gets.
    #[serde(default)]
    pub unmatched_preflight: UnmatchedPreflight,
}

/// One bucket's CORS configuration, as PutBucketCors takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCors {
    #[serde(rename = "CORSRule", alias = "CORSRules")]
    pub rules: Vec<RawRule>,
    #[serde(rename = "ResponseVary", default = "yes")]
    pub response_vary: bool,
}

/// One `CORSRule`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    #[serde(rename = "ID", default)]
    pub id: Option<String>,
    #[serde(rename = "AllowedOrigin", alias = "AllowedOrigins")]
    pub allowed_origin: Vec<String>,
    #[serde(rename = "AllowedMethod", alias = "AllowedMethods")]
    pub allowed_method: Vec<String>,
    #[serde(rename = "AllowedHeader", alias = "AllowedHeaders", default)]
    pub allowed_header: Vec<String>,
    #[serde(rename = "ExposeHeader", alias = "ExposeHeaders", default)]
    pub expose_header: Vec<String>,
    /// Signed so that a negative value is reported as out of range, not as a type error.
    #[serde(rename = "MaxAgeSeconds", default)]
    pub max_age_seconds: Option<i64>,
}

/// `unmatched_preflight`: OSS's 403, or forward to the upstream untouched.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnmatchedPreflight {
    #[default]
    Reject,
    Forward,
}
