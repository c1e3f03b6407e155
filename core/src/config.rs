//! The plugin configuration as written by users: OSS names, S3 aliases.
//!
//! Unknown fields are refused so that a typo cannot silently disable a rule.
//! This is the shape of one CORS configuration and its reader: `read` walks
//! the document and hands each CORS configuration to `compile` as soon as
//! it is read, so one raw configuration is held at a time, its rules in
//! buffers kept from bucket to bucket and its strings borrowed from the JSON.
//! The same reader takes the AWS CLI's JSON of a rules document (spec §7),
//! S3's names only (`Spelling`). Meaning is checked in `compile`.

use crate::trail::{Tracked, Trail};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
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

impl Text<'_> {
    /// The same string, owned: a rules document outlives the bytes it was
    /// read from.
    pub(crate) fn into_owned(self) -> Text<'static> {
        Text(Cow::Owned(self.0.into_owned()))
    }
}

/// Written as the string itself.
impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
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
    "rules_source",
];

/// The keys of a CORS configuration, OSS names and S3 aliases.
const CORS_FIELDS: &[&str] = &["CORSRule", "CORSRules", "ResponseVary", "Mode"];

/// The keys of the AWS CLI's JSON of a rules document (spec §7).
const S3_CORS_FIELDS: &[&str] = &["CORSRules"];

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

/// The fields of a `CORSRule` in the plugin configuration's words (OSS's),
/// and in the AWS CLI's JSON (S3's plural names only).
const OSS_RULE_NAMES: [&str; 6] = [
    "ID",
    "AllowedOrigin",
    "AllowedMethod",
    "AllowedHeader",
    "ExposeHeader",
    "MaxAgeSeconds",
];
const S3_RULE_NAMES: [&str; 6] = [
    "ID",
    "AllowedOrigins",
    "AllowedMethods",
    "AllowedHeaders",
    "ExposeHeaders",
    "MaxAgeSeconds",
];

/// The names a reader takes: the plugin configuration's (OSS's, with S3's
/// as aliases), or the AWS CLI's JSON of a rules document (S3's only, spec §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spelling {
    Plugin,
    S3,
}

impl Spelling {
    /// The key of the rule list.
    fn rules_key(self) -> &'static str {
        match self {
            Spelling::Plugin => "CORSRule",
            Spelling::S3 => "CORSRules",
        }
    }

    /// The keys of a CORS configuration, for the message of an unknown one.
    fn cors_fields(self) -> &'static [&'static str] {
        match self {
            Spelling::Plugin => CORS_FIELDS,
            Spelling::S3 => S3_CORS_FIELDS,
        }
    }

    /// The keys of a rule, for the message of an unknown one.
    fn rule_fields(self) -> &'static [&'static str] {
        match self {
            Spelling::Plugin => RULE_FIELDS,
            Spelling::S3 => &S3_RULE_NAMES,
        }
    }

    /// The rule fields' names, in the order of [`OSS_RULE_NAMES`].
    fn rule_names(self) -> &'static [&'static str; 6] {
        match self {
            Spelling::Plugin => &OSS_RULE_NAMES,
            Spelling::S3 => &S3_RULE_NAMES,
        }
    }

    /// The field a rule's `key` is (an index into [`OSS_RULE_NAMES`]).
    fn rule_field(self, key: &str) -> Option<usize> {
        let plural = S3_RULE_NAMES.iter().position(|n| *n == key);
        match self {
            Spelling::S3 => plural,
            Spelling::Plugin => plural.or_else(|| OSS_RULE_NAMES.iter().position(|n| *n == key)),
        }
    }
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

/// One `CORSRule` as written. The reader fills the same few of these for
/// every bucket: their lists keep their room from one bucket to the next.
/// Written back (`Serialize`) in the OSS spellings, empty lists and unset
/// fields left out, as `bucket-cors import` prints a rules document.
#[derive(Debug, Default, Serialize)]
pub(crate) struct RawRule<'a> {
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<Text<'a>>,
    #[serde(rename = "AllowedOrigin")]
    pub(crate) allowed_origin: Vec<Text<'a>>,
    #[serde(rename = "AllowedMethod")]
    pub(crate) allowed_method: Vec<Text<'a>>,
    #[serde(rename = "AllowedHeader", skip_serializing_if = "Vec::is_empty")]
    pub(crate) allowed_header: Vec<Text<'a>>,
    #[serde(rename = "ExposeHeader", skip_serializing_if = "Vec::is_empty")]
    pub(crate) expose_header: Vec<Text<'a>>,
    /// Any JSON number, so that a negative, fractional or `-0` value gets a
    /// message of its own rather than a type error.
    #[serde(rename = "MaxAgeSeconds", skip_serializing_if = "Option::is_none")]
    pub(crate) max_age_seconds: Option<serde_json::Number>,
}

impl RawRule<'_> {
    /// The same rule, its strings owned.
    pub(crate) fn into_owned(self) -> RawRule<'static> {
        let list = |l: Vec<Text<'_>>| l.into_iter().map(Text::into_owned).collect();
        RawRule {
            id: self.id.map(Text::into_owned),
            allowed_origin: list(self.allowed_origin),
            allowed_method: list(self.allowed_method),
            allowed_header: list(self.allowed_header),
            expose_header: list(self.expose_header),
            max_age_seconds: self.max_age_seconds,
        }
    }
}

/// One CORS configuration as read: its rules (in a [`Rules`]) and settings.
/// Written back as a bucket's entry in the plugin configuration.
#[derive(Debug, Serialize)]
pub(crate) struct RawCors<'r, 'a> {
    #[serde(rename = "CORSRule")]
    pub(crate) rules: &'r [RawRule<'a>],
    #[serde(rename = "ResponseVary")]
    pub(crate) response_vary: bool,
    /// `enforce` (default) or `report`: evaluate and count, change nothing.
    #[serde(rename = "Mode", skip_serializing_if = "Mode::is_enforce")]
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

    /// Reads one CORS configuration from `map` into these rules, taking the
    /// names of `spelling`.
    pub(crate) fn read<'de: 'a, A: MapAccess<'de>>(
        &mut self,
        map: A,
        trail: &Trail,
        spelling: Spelling,
    ) -> Result<RawCors<'_, 'a>, A::Error> {
        let (response_vary, mode) = read_cors(self, map, trail, spelling)?;
        Ok(RawCors {
            rules: &self.slots[..self.len],
            response_vary,
            mode,
        })
    }

    /// The rules read last, their strings owned.
    pub(crate) fn into_owned(mut self) -> Vec<RawRule<'static>> {
        self.slots.truncate(self.len);
        self.slots.into_iter().map(RawRule::into_owned).collect()
    }
}

/// `CORSRule` (or `CORSRules`), `ResponseVary`, `Mode`; the rules go to
/// `rules`. The AWS CLI's JSON has `CORSRules` only.
fn read_cors<'de: 'a, 'a, A: MapAccess<'de>>(
    rules: &mut Rules<'a>,
    mut map: A,
    trail: &Trail,
    spelling: Spelling,
) -> Result<(bool, Mode), A::Error> {
    rules.len = 0;
    let (mut listed, mut response_vary, mut mode) = (false, None, None);
    let plugin = spelling == Spelling::Plugin;
    while let Some(key) = map.next_key::<Text<'de>>()? {
        match &*key {
            "CORSRules" | "CORSRule" if plugin || &*key == "CORSRules" => {
                if listed {
                    return Err(de::Error::duplicate_field(spelling.rules_key()));
                }
                listed = true;
                let list = RuleList {
                    rules,
                    trail,
                    spelling,
                };
                map.next_value_seed(Tracked::value(&key, trail, list))?;
            }
            "ResponseVary" if plugin => {
                if response_vary.is_some() {
                    return Err(de::Error::duplicate_field("ResponseVary"));
                }
                response_vary =
                    Some(map.next_value_seed(Tracked::value(&key, trail, PhantomData))?);
            }
            "Mode" if plugin => {
                if mode.is_some() {
                    return Err(de::Error::duplicate_field("Mode"));
                }
                mode = Some(map.next_value_seed(Tracked::value(&key, trail, PhantomData))?);
            }
            other => {
                trail.key(other);
                return Err(de::Error::unknown_field(other, spelling.cors_fields()));
            }
        }
    }
    if !listed {
        return Err(de::Error::missing_field(spelling.rules_key()));
    }
    Ok((response_vary.unwrap_or(true), mode.unwrap_or_default()))
}

/// The `CORSRule` list: each element a JSON object (never an array).
struct RuleList<'r, 't, 'a> {
    rules: &'r mut Rules<'a>,
    trail: &'t Trail,
    spelling: Spelling,
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
        let RuleList {
            rules,
            trail,
            spelling,
        } = self;
        loop {
            let index = rules.len;
            let rule = rules.push();
            let object = RuleObject {
                rule,
                trail,
                spelling,
            };
            let seed = Tracked::element(index, trail, object);
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
    spelling: Spelling,
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
        let RuleObject {
            rule,
            trail,
            spelling,
        } = self;
        let names = spelling.rule_names();
        // Which of the fields (in OSS_RULE_NAMES order, aliases together) were given.
        let mut seen = [false; 6];
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let Some(field) = spelling.rule_field(&key) else {
                trail.key(&key);
                return Err(de::Error::unknown_field(&key, spelling.rule_fields()));
            };
            if seen[field] {
                return Err(de::Error::duplicate_field(names[field]));
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
            return Err(de::Error::missing_field(names[1]));
        }
        if !seen[2] {
            return Err(de::Error::missing_field(names[2]));
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
