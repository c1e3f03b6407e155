//! The plugin configuration as written by users: OSS names, S3 aliases.
//!
//! Unknown fields are refused so that a typo cannot silently disable a rule.
//! This is only the shape; meaning is checked in `compile`.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

/// Rules per CORS configuration (spec §1).
pub(crate) const MAX_RULES: usize = 100;
/// Largest `MaxAgeSeconds` (spec §1).
pub(crate) const MAX_AGE_LIMIT: i64 = 2_147_483_647;

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
    /// Named CORS configurations that buckets refer to by name.
    #[serde(default, deserialize_with = "unique_policies")]
    pub policies: BTreeMap<String, RawCors>,
    /// Per-bucket CORS configurations, inline or by policy name, in a
    /// compact form: a million buckets are read without a map node each.
    #[serde(default)]
    pub buckets: RawBuckets,
    /// Rules for a resolved bucket that `buckets` does not list.
    #[serde(default, deserialize_with = "optional_entry")]
    pub default: Option<RawEntry>,
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

/// One bucket's CORS configuration, as PutBucketCors takes it. Written
/// back (`Serialize`) in the OSS spellings, as `bucket-cors import` prints
/// a rules document read into this model.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCors {
    #[serde(rename = "CORSRule", alias = "CORSRules")]
    pub rules: Vec<Object<RawRule>>,
    #[serde(rename = "ResponseVary", default = "yes")]
    pub response_vary: bool,
    /// `enforce` (default) or `report`: evaluate and count, change nothing.
    #[serde(rename = "Mode", default, skip_serializing_if = "Mode::is_enforce")]
    pub mode: Mode,
}

/// A bucket's `Mode`: `report` lets a team switch from a backend's own CORS
/// by watching what the filter would do before it does it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Enforce,
    Report,
}

impl Mode {
    fn is_enforce(&self) -> bool {
        *self == Mode::Enforce
    }
}

/// One `CORSRule`; written back with empty lists and unset fields left out.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "AllowedOrigin", alias = "AllowedOrigins")]
    pub allowed_origin: Vec<String>,
    #[serde(rename = "AllowedMethod", alias = "AllowedMethods")]
    pub allowed_method: Vec<String>,
    #[serde(
        rename = "AllowedHeader",
        alias = "AllowedHeaders",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowed_header: Vec<String>,
    #[serde(
        rename = "ExposeHeader",
        alias = "ExposeHeaders",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub expose_header: Vec<String>,
    /// Any JSON number, so that a negative, fractional or `-0` value gets a
    /// message of its own rather than a type error.
    #[serde(
        rename = "MaxAgeSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
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

impl<T: Serialize> Serialize for Object<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

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

/// A bucket's (or `default`'s) value: an inline CORS configuration, or the
/// name of one under `policies`.
#[derive(Debug)]
pub enum RawEntry {
    Inline(RawCors),
    Named(String),
}

impl<'de> Deserialize<'de> for RawEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = RawEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CORS configuration (a JSON object) or the name of a policy")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<RawEntry, E> {
                Ok(RawEntry::Named(name.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawEntry, A::Error> {
                RawCors::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawEntry::Inline)
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

fn optional_entry<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RawEntry>, D::Error> {
    Option::<RawEntry>::deserialize(d)
}

/// The `buckets` object as read: every name in one arena, each bucket's
/// value an index (into `inline`, or into `policy_names` for a named one),
/// and a bucket listed twice left for validation to report. With 10^6
/// buckets naming a few policies this holds a few bytes per bucket beyond
/// its name, where a map would hold a node, a `String` and a configuration.
#[derive(Debug, Default)]
pub struct RawBuckets {
    /// Every bucket name, one after another.
    pub names: String,
    /// Where each name ends in `names`.
    pub ends: Vec<u32>,
    /// Each bucket's value, in the order of `ends`.
    pub entries: Vec<RawRef>,
    /// The inline configurations.
    pub inline: Vec<RawCors>,
    /// The policy names buckets refer to, each once.
    pub policy_names: Vec<String>,
}

/// One bucket's value in [`RawBuckets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawRef {
    /// `RawBuckets::inline[i]`.
    Inline(u32),
    /// `RawBuckets::policy_names[i]`.
    Named(u32),
}

impl RawBuckets {
    /// The name of bucket `i`.
    pub fn name(&self, i: usize) -> &str {
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p] as usize);
        &self.names[start..self.ends[i] as usize]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }
}

impl<'de> Deserialize<'de> for RawBuckets {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BucketsVisitor;
        impl<'de> Visitor<'de> for BucketsVisitor {
            type Value = RawBuckets;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of bucket name to CORS configuration or policy name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawBuckets, A::Error> {
                let mut out = RawBuckets::default();
                let mut interned: HashMap<String, u32> = HashMap::new();
                while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    out.names.push_str(&name);
                    let end = u32::try_from(out.names.len())
                        .map_err(|_| de::Error::custom("bucket names exceed 4 GiB"))?;
                    out.ends.push(end);
                    let entry = match map.next_value::<RawEntry>()? {
                        RawEntry::Inline(cors) => {
                            out.inline.push(cors);
                            RawRef::Inline(index(out.inline.len() - 1)?)
                        }
                        RawEntry::Named(policy) => match interned.get(&policy) {
                            Some(&i) => RawRef::Named(i),
                            None => {
                                let i = index(out.policy_names.len())?;
                                out.policy_names.push(policy.clone());
                                interned.insert(policy, i);
                                RawRef::Named(i)
                            }
                        },
                    };
                    out.entries.push(entry);
                }
                out.names.shrink_to_fit();
                out.ends.shrink_to_fit();
                out.entries.shrink_to_fit();
                Ok(out)
            }
        }
        fn index<E: de::Error>(i: usize) -> Result<u32, E> {
            u32::try_from(i).map_err(|_| E::custom("more than 2^32 buckets"))
        }
        deserializer.deserialize_map(BucketsVisitor)
    }
}

/// The policy map, refusing a name listed twice (JSON would keep the last
/// one silently).
fn unique_policies<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, RawCors>, D::Error> {
    struct PoliciesVisitor;
    impl<'de> Visitor<'de> for PoliciesVisitor {
        type Value = BTreeMap<String, RawCors>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object of policy name to CORS configuration")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = map.next_key::<String>()? {
                if out.contains_key(&name) {
                    return Err(de::Error::custom(format!(
                        "policy {name:?} is listed twice"
                    )));
                }
                let cors: Object<RawCors> = map.next_value()?;
                out.insert(name, cors.0);
            }
            Ok(out)
        }
    }
    d.deserialize_map(PoliciesVisitor)
}
