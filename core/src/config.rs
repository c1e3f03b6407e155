//! The plugin configuration as written by users: OSS names, S3 aliases.
//!
//! Unknown fields are refused so that a typo cannot silently disable a rule.
//! This is only the shape; meaning is checked in `compile`.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

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
    #[serde(default, deserialize_with = "unique_buckets")]
    pub buckets: BTreeMap<String, RawCors>,
    /// Rules for a resolved bucket that `buckets` does not list.
    #[serde(default, deserialize_with = "optional_object")]
    pub default: Option<RawCors>,
    /// What a preflight to a bucket without CORS configuration gets.
    #[serde(default)]
    pub unmatched_preflight: UnmatchedPreflight,
    /// Whether the upstream's own CORS headers reach the browser on responses
    /// the rules do not govern.
    #[serde(default)]
    pub upstream_cors: UpstreamCors,
    /// Name the reason of a refused preflight in `x-bucket-cors-refusal`.
    /// Off by default: it tells a prober which buckets have rules.
    #[serde(default)]
    pub debug_headers: bool,
}

/// One bucket's CORS configuration, as PutBucketCors takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCors {
    #[serde(rename = "CORSRule", alias = "CORSRules")]
    pub rules: Vec<Object<RawRule>>,
    #[serde(rename = "ResponseVary", default = "yes")]
    pub response_vary: bool,
    /// `enforce` (default) or `report`: evaluate and count, change nothing.
    #[serde(rename = "Mode", default)]
    pub mode: Mode,
}

/// A bucket's `Mode`: `report` lets a team switch from a backend's own CORS
/// by watching what the filter would do before it does it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Enforce,
    Report,
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
    /// Any JSON number, so that a negative, fractional or `-0` value gets a
    /// message of its own rather than a type error.
    #[serde(rename = "MaxAgeSeconds", default)]
    pub max_age_seconds: Option<serde_json::Number>,
}

/// `unmatched_preflight`: OSS's 403, or forward to the upstream untouched.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnmatchedPreflight {
    #[default]
    Reject,
    Forward,
}

/// `upstream_cors`: the gateway owns CORS (`strip`, the default: every
/// response through the filter loses the upstream's allow, expose and
/// max-age headers, so a backend that reflects every Origin with credentials
/// cannot leak), or the backend keeps its own on what the rules do not
/// govern (`pass`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamCors {
    #[default]
    Strip,
    Pass,
}

/// A JSON object, never an array: serde's derived structs also accept a
/// sequence of field values, which would let `[]` or a rule written as a
/// list through as a valid configuration.
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

fn optional_object<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RawCors>, D::Error> {
    Ok(Option::<Object<RawCors>>::deserialize(d)?.map(|o| o.0))
}

/// The bucket map, refusing a bucket listed twice (JSON would keep the last
/// one silently and drop the first one's rules).
fn unique_buckets<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, RawCors>, D::Error> {
    struct BucketsVisitor;
    impl<'de> Visitor<'de> for BucketsVisitor {
        type Value = BTreeMap<String, RawCors>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object of bucket name to CORS configuration")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = map.next_key::<String>()? {
                if out.contains_key(&name) {
                    return Err(de::Error::custom(format!(
                        "bucket {name:?} is listed twice"
                    )));
                }
                let cors: Object<RawCors> = map.next_value()?;
                out.insert(name, cors.0);
            }
            Ok(out)
        }
    }
    d.deserialize_map(BucketsVisitor)
}
