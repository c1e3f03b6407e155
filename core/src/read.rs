//! Reading the plugin configuration (JSON) and compiling it in one pass:
//! each bucket's CORS configuration is compiled as soon as its value has
//! been read, so one raw configuration is held at a time. With 10^5 inline
//! buckets the raw form of every bucket held until the end was most of a
//! VM's memory at start-up.
//!
//! A document that is not of the configuration's shape stops the reading
//! at the first such error, which names where it is (see `trail`).

use crate::compile::{
    assemble, At, BucketCors, Compiled, Compiler, DefaultEntry, Entry, Parts, Policy,
};
use crate::config::{Rules, Spelling, Text, TextList, TOP_FIELDS};
use crate::error::{ConfigError, ConfigErrors, ErrorKind};
use crate::trail::{Tracked, Trail};
use crate::PublicSuffix;
use foldhash::HashMap;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

impl Policy {
    /// Parses and validates a plugin configuration (JSON).
    pub fn from_json(bytes: &[u8]) -> Result<Policy, ConfigErrors> {
        Policy::from_json_checked(bytes, None)
    }

    /// [`Policy::from_json`], also refusing wildcard origins whose fixed
    /// labels `public_suffix` calls a public suffix.
    pub fn from_json_checked(
        bytes: &[u8],
        public_suffix: Option<PublicSuffix>,
    ) -> Result<Policy, ConfigErrors> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let trail = Trail::default();
        let mut parts = Parts::default();
        let read = Document {
            reader: Reader {
                compiler: Compiler::new(public_suffix),
                rules: Rules::default(),
                trail: &trail,
            },
            parts: &mut parts,
        }
        .deserialize(&mut *de);
        if let Err(e) = read {
            return Err(ConfigErrors(vec![ConfigError {
                at: trail.describe(),
                kind: ErrorKind::Shape(e.to_string()),
            }]));
        }
        de.end().map_err(|e| {
            ConfigErrors(vec![ConfigError {
                at: String::new(),
                kind: ErrorKind::TrailingCharacters(e.to_string()),
            }])
        })?;
        assemble(parts)
    }
}

/// What every CORS configuration is read and compiled with.
struct Reader<'de, 't> {
    compiler: Compiler,
    /// The rules of the configuration being read, kept from one to the next.
    rules: Rules<'de>,
    trail: &'t Trail,
}

impl<'de> Reader<'de, '_> {
    /// Reads the CORS configuration in `map` and compiles it; its errors,
    /// named by `at`, go to `errors`.
    fn cors<A: MapAccess<'de>>(
        &mut self,
        map: A,
        at: At<'_>,
        errors: &mut Vec<ConfigError>,
    ) -> Result<Option<BucketCors>, A::Error> {
        let raw = self.rules.read(map, self.trail, Spelling::Plugin)?;
        Ok(self.compiler.cors(at, raw, errors))
    }
}

/// The whole document: a JSON object of the top-level keys.
struct Document<'de, 't, 'p> {
    reader: Reader<'de, 't>,
    parts: &'p mut Parts,
}

impl<'de> DeserializeSeed<'de> for Document<'de, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'de, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Document { mut reader, parts } = self;
        let trail = reader.trail;
        let mut seen = [false; TOP_FIELDS.len()];
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let Some(field) = TOP_FIELDS.iter().position(|f| *f == &*key) else {
                trail.key(&key);
                return Err(de::Error::unknown_field(&key, TOP_FIELDS));
            };
            if seen[field] {
                return Err(de::Error::duplicate_field(TOP_FIELDS[field]));
            }
            seen[field] = true;
            let key = TOP_FIELDS[field];
            match key {
                "endpoints" => {
                    let mut list = Vec::new();
                    map.next_value_seed(Tracked::value(
                        key,
                        trail,
                        TextList {
                            list: &mut list,
                            trail,
                        },
                    ))?;
                    parts.endpoints = list.iter().map(|e| e.to_string()).collect();
                }
                "path_style" => {
                    parts.path_style =
                        map.next_value_seed(Tracked::value(key, trail, PhantomData))?
                }
                "policies" => map.next_value_seed(Tracked::value(
                    key,
                    trail,
                    Policies {
                        reader: &mut reader,
                        policies: &mut parts.policies,
                    },
                ))?,
                "buckets" => map.next_value_seed(Tracked::value(
                    key,
                    trail,
                    Buckets {
                        reader: &mut reader,
                        parts,
                    },
                ))?,
                "default" => {
                    parts.default = map.next_value_seed(Tracked::value(
                        key,
                        trail,
                        DefaultValue {
                            reader: &mut reader,
                        },
                    ))?
                }
                "unmatched_preflight" => {
                    parts.unmatched_preflight =
                        map.next_value_seed(Tracked::value(key, trail, PhantomData))?
                }
                "upstream_cors" => {
                    parts.upstream_cors =
                        map.next_value_seed(Tracked::value(key, trail, PhantomData))?
                }
                "debug_headers" => {
                    parts.debug_headers =
                        map.next_value_seed(Tracked::value(key, trail, PhantomData))?
                }
                _ => {
                    parts.rules_source =
                        Some(map.next_value_seed(Tracked::value(key, trail, PhantomData))?)
                }
            }
        }
        Ok(())
    }
}

/// `policies`: each named configuration compiled as it is read; a name
/// listed twice is refused (JSON would keep the last one silently).
struct Policies<'r, 'de, 't> {
    reader: &'r mut Reader<'de, 't>,
    policies: &'r mut BTreeMap<String, Compiled>,
}

impl<'de> DeserializeSeed<'de> for Policies<'_, 'de, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Policies<'_, 'de, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of policy name to CORS configuration")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let trail = self.reader.trail;
        while let Some(name) = map.next_key::<Text<'de>>()? {
            if self.policies.contains_key(&*name) {
                return Err(de::Error::custom(format!(
                    "policy {:?} is listed twice",
                    &*name
                )));
            }
            let mut errors = Vec::new();
            let cors = map.next_value_seed(Tracked::value(
                &name,
                trail,
                PolicyValue {
                    reader: self.reader,
                    at: At::Policy(&name),
                    errors: &mut errors,
                },
            ))?;
            self.policies
                .insert(name.to_string(), Compiled { cors, errors });
        }
        Ok(())
    }
}

/// A policy's CORS configuration: a JSON object (never an array).
struct PolicyValue<'r, 'de, 't, 'a> {
    reader: &'r mut Reader<'de, 't>,
    at: At<'a>,
    errors: &'r mut Vec<ConfigError>,
}

impl<'de> DeserializeSeed<'de> for PolicyValue<'_, 'de, '_, '_> {
    type Value = Option<BucketCors>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PolicyValue<'_, 'de, '_, '_> {
    type Value = Option<BucketCors>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.reader.cors(map, self.at, self.errors)
    }
}

/// `buckets`: every name laid end to end in one arena, each value compiled
/// (inline) or interned (a policy name) as it is read; a bucket listed twice
/// is left for [`assemble`] to report.
struct Buckets<'r, 'de, 't> {
    reader: &'r mut Reader<'de, 't>,
    parts: &'r mut Parts,
}

impl<'de> DeserializeSeed<'de> for Buckets<'_, 'de, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Buckets<'_, 'de, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of bucket name to CORS configuration or policy name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Buckets { reader, parts } = self;
        let trail = reader.trail;
        let mut interned: HashMap<String, u32> = HashMap::default();
        while let Some(name) = map.next_key::<Text<'de>>()? {
            parts.names.push_str(&name);
            let end = u32::try_from(parts.names.len())
                .map_err(|_| de::Error::custom("bucket names exceed 4 GiB"))?;
            parts.ends.push(end);
            let value = Value {
                reader,
                at: At::Bucket(&name),
                errors: &mut parts.inline_errors,
            };
            let entry = match map.next_value_seed(Tracked::value(&name, trail, value))? {
                Read::Inline(cors) => Entry::Inline(match cors {
                    Some(cors) => {
                        parts.inline.push(Arc::new(cors));
                        Some(index(parts.inline.len() - 1)?)
                    }
                    None => None,
                }),
                Read::Named(policy) => match interned.get(&*policy) {
                    Some(&i) => Entry::Named(i),
                    None => {
                        let i = index(parts.policy_names.len())?;
                        parts.policy_names.push(policy.to_string());
                        interned.insert(policy.to_string(), i);
                        Entry::Named(i)
                    }
                },
            };
            parts.entries.push(entry);
        }
        parts.names.shrink_to_fit();
        parts.ends.shrink_to_fit();
        parts.inline.shrink_to_fit();
        Ok(())
    }
}

fn index<E: de::Error>(i: usize) -> Result<u32, E> {
    u32::try_from(i).map_err(|_| E::custom("more than 2^32 buckets"))
}

/// `default`: absent when `null`.
struct DefaultValue<'r, 'de, 't> {
    reader: &'r mut Reader<'de, 't>,
}

impl<'de> DeserializeSeed<'de> for DefaultValue<'_, 'de, '_> {
    type Value = Option<DefaultEntry>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for DefaultValue<'_, 'de, '_> {
    type Value = Option<DefaultEntry>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let mut errors = Vec::new();
        let read = Value {
            reader: self.reader,
            at: At::Default,
            errors: &mut errors,
        }
        .deserialize(deserializer)?;
        Ok(Some(match read {
            Read::Inline(cors) => DefaultEntry::Inline(Compiled { cors, errors }),
            Read::Named(name) => DefaultEntry::Named(name.to_string()),
        }))
    }
}

/// A bucket's (or `default`'s) value as read.
enum Read<'de> {
    /// An inline CORS configuration, compiled (`None`: it has errors).
    Inline(Option<BucketCors>),
    /// The name of one under `policies`.
    Named(Text<'de>),
}

/// A bucket's (or `default`'s) value: an inline CORS configuration, compiled
/// at once with its errors named by `at`, or the name of a policy.
struct Value<'r, 'de, 't, 'a> {
    reader: &'r mut Reader<'de, 't>,
    at: At<'a>,
    errors: &'r mut Vec<ConfigError>,
}

impl<'de> DeserializeSeed<'de> for Value<'_, 'de, '_, '_> {
    type Value = Read<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Read<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_, 'de, '_, '_> {
    type Value = Read<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CORS configuration (a JSON object) or the name of a policy")
    }

    fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Read<'de>, E> {
        Ok(Read::Named(Text::from(name)))
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Read<'de>, E> {
        Ok(Read::Named(Text::from(name.to_owned())))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Read<'de>, A::Error> {
        Ok(Read::Inline(self.reader.cors(map, self.at, self.errors)?))
    }
}
