//! The plugin configuration as written by users: OSS names, S3 aliases.
//!
//! Unknown fields are refused so that a typo cannot silently disable a rule.
//! This is the shape of one CORS configuration and its reader: `read` walks
//! the document and hands each CORS configuration to `compile` as soon as
//! it is read, so one raw configuration is held at a time, its rules in
//! buffers kept from bucket to bucket and its strings borrowed from the JSON.
//! Meaning is checked in `compile`.

use crate::trail::{Tracked, Trail};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::{Borrow, Cow};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

/// Rules per CORS configuration (spec §1).
pub(crate) const MAX_RULES: usize = 100;
/// Largest `MaxAgeSeconds` (spec §1).
pub(crate) const MAX_AGE_LIMIT: i64 = 2_147_483_647;

/// A JSON string, borrowed from the configuration unless it has escapes.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(Cow<'a, str>);

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Self {
        Text(Cow::Borrowed(s))
    }
}

impl From<String> for Text<'_> {
    fn from(s: String) -> Self {
        Text(Cow::Owned(s))
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// Shown as the string itself, as errors quote a value.
impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(PhantomData<Text<'a>>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'a>, E> {
                Ok(Text::from(s))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'a>, E> {
                Ok(Text::from(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Text<'a>, E> {
                Ok(Text::from(s))
            }
        }
        deserializer.deserialize_str(TextVisitor(PhantomData))
    }
}

/// The keys of the top level, in the order serde's messages list them.
pub(crate) const TOP_FIELDS: &[&str] = &[
    "endpoints",
    "path_style",
    "policies",
    "buckets",
    "default",
    "unmatched_preflight",
    "upstream_cors",
    "debug_headers",
];

/// The keys of a CORS configuration, OSS names and S3 aliases.
const CORS_FIELDS: &[&str] = &["CORSRule", "CORSRules", "ResponseVary", "Mode"];

/// The keys of a `CORSRule`, OSS names and S3 aliases.
const RULE_FIELDS: &[&str] = &[
    "ID",
    "AllowedOrigin",
    "AllowedOrigins",
    "AllowedMethod",
    "AllowedMethods",
    "AllowedHeader",
    "AllowedHeaders",
    "ExposeHeader",
    "ExposeHeaders",
    "MaxAgeSeconds",
];

/// A bucket's `Mode`: `report` lets a team switch from a backend's own CORS
/// by watching what the filter would do before it does it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Enforce,
    Report,
}

/// One `CORSRule` as written. The reader fills the same few of these for
/// every bucket: their lists keep their room from one bucket to the next.
#[derive(Debug, Default)]
pub(crate) struct RawRule<'a> {
    pub(crate) id: Option<Text<'a>>,
    pub(crate) allowed_origin: Vec<Text<'a>>,
    pub(crate) allowed_method: Vec<Text<'a>>,
    pub(crate) allowed_header: Vec<Text<'a>>,
    pub(crate) expose_header: Vec<Text<'a>>,
    /// Any JSON number, so that a negative, fractional or `-0` value gets a
    /// message of its own rather than a type error.
    pub(crate) max_age_seconds: Option<serde_json::Number>,
}

/// One CORS configuration as read: its rules (in a [`Rules`]) and settings.
#[derive(Debug)]
pub(crate) struct RawCors<'r, 'a> {
    pub(crate) rules: &'r [RawRule<'a>],
    pub(crate) response_vary: bool,
    /// `enforce` (default) or `report`: evaluate and count, change nothing.
    pub(crate) mode: Mode,
}

/// The rules of the CORS configuration being read.
#[derive(Debug, Default)]
pub(crate) struct Rules<'a> {
    slots: Vec<RawRule<'a>>,
    len: usize,
}

impl<'a> Rules<'a> {
    /// A cleared rule at the end.
    fn push(&mut self) -> &mut RawRule<'a> {
        if self.len == self.slots.len() {
            self.slots.push(RawRule::default());
        }
        let i = self.len;
        self.len += 1;
        let rule = &mut self.slots[i];
        rule.id = None;
        rule.allowed_origin.clear();
        rule.allowed_method.clear();
        rule.allowed_header.clear();
        rule.expose_header.clear();
        rule.max_age_seconds = None;
        rule
    }

    /// Reads one CORS configuration from `map` into these rules.
    pub(crate) fn read<'de: 'a, A: MapAccess<'de>>(
        &mut self,
        map: A,
        trail: &Trail,
    ) -> Result<RawCors<'_, 'a>, A::Error> {
        let (response_vary, mode) = read_cors(self, map, trail)?;
        Ok(RawCors {
            rules: &self.slots[..self.len],
            response_vary,
            mode,
        })
    }
}

/// `CORSRule` (or `CORSRules`), `ResponseVary`, `Mode`; the rules go to `rules`.
fn read_cors<'de: 'a, 'a, A: MapAccess<'de>>(
    rules: &mut Rules<'a>,
    mut map: A,
    trail: &Trail,
) -> Result<(bool, Mode), A::Error> {
    rules.len = 0;
    let (mut listed, mut response_vary, mut mode) = (false, None, None);
    while let Some(key) = map.next_key::<Text<'de>>()? {
        match &*key {
            "CORSRule" | "CORSRules" => {
                if listed {
                    return Err(de::Error::duplicate_field("CORSRule"));
                }
                listed = true;
                map.next_value_seed(Tracked::value(&key, trail, RuleList { rules, trail }))?;
            }
            "ResponseVary" => {
                if response_vary.is_some() {
                    return Err(de::Error::duplicate_field("ResponseVary"));
                }
                response_vary =
                    Some(map.next_value_seed(Tracked::value(&key, trail, PhantomData))?);
            }
            "Mode" => {
                if mode.is_some() {
                    return Err(de::Error::duplicate_field("Mode"));
                }
                mode = Some(map.next_value_seed(Tracked::value(&key, trail, PhantomData))?);
            }
            other => {
                trail.key(other);
                return Err(de::Error::unknown_field(other, CORS_FIELDS));
            }
        }
    }
    if !listed {
        return Err(de::Error::missing_field("CORSRule"));
    }
    Ok((response_vary.unwrap_or(true), mode.unwrap_or_default()))
}

/// The `CORSRule` list: each element a JSON object (never an array).
struct RuleList<'r, 't, 'a> {
    rules: &'r mut Rules<'a>,
    trail: &'t Trail,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for RuleList<'_, '_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for RuleList<'_, '_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        let RuleList { rules, trail } = self;
        loop {
            let index = rules.len;
            let rule = rules.push();
            let seed = Tracked::element(index, trail, RuleObject { rule, trail });
            if seq.next_element_seed(seed)?.is_none() {
                rules.len -= 1;
                return Ok(());
            }
        }
    }
}

/// One `CORSRule` object, read into a reused [`RawRule`].
struct RuleObject<'r, 't, 'a> {
    rule: &'r mut RawRule<'a>,
    trail: &'t Trail,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for RuleObject<'_, '_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for RuleObject<'_, '_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let RuleObject { rule, trail } = self;
        // Which of the fields (in RULE_FIELDS order, aliases together) were given.
        let mut seen = [false; 6];
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let (field, name) = match &*key {
                "ID" => (0, "ID"),
                "AllowedOrigin" | "AllowedOrigins" => (1, "AllowedOrigin"),
                "AllowedMethod" | "AllowedMethods" => (2, "AllowedMethod"),
                "AllowedHeader" | "AllowedHeaders" => (3, "AllowedHeader"),
                "ExposeHeader" | "ExposeHeaders" => (4, "ExposeHeader"),
                "MaxAgeSeconds" => (5, "MaxAgeSeconds"),
                other => {
                    trail.key(other);
                    return Err(de::Error::unknown_field(other, RULE_FIELDS));
                }
            };
            if seen[field] {
                return Err(de::Error::duplicate_field(name));
            }
            seen[field] = true;
            let list = match field {
                0 => {
                    rule.id = map.next_value_seed(Tracked::value(&key, trail, PhantomData))?;
                    continue;
                }
                5 => {
                    rule.max_age_seconds =
                        map.next_value_seed(Tracked::value(&key, trail, PhantomData))?;
                    continue;
                }
                1 => &mut rule.allowed_origin,
                2 => &mut rule.allowed_method,
                3 => &mut rule.allowed_header,
                _ => &mut rule.expose_header,
            };
            map.next_value_seed(Tracked::value(&key, trail, TextList { list, trail }))?;
        }
        if !seen[1] {
            return Err(de::Error::missing_field("AllowedOrigin"));
        }
        if !seen[2] {
            return Err(de::Error::missing_field("AllowedMethod"));
        }
        Ok(())
    }
}

/// A list of strings, read into a reused vector.
pub(crate) struct TextList<'r, 't, 'a> {
    pub(crate) list: &'r mut Vec<Text<'a>>,
    pub(crate) trail: &'t Trail,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for TextList<'_, '_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for TextList<'_, '_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        let TextList { list, trail } = self;
        while let Some(text) =
            seq.next_element_seed(Tracked::element(list.len(), trail, PhantomData))?
        {
            list.push(text);
        }
        Ok(())
    }
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
