//! A bucket's rules document (docs/spec.md §7): the CORS rules a store holds
//! for one bucket, as PutBucketCors takes them and GetBucketCors gives them
//! back, in S3's or OSS's XML (or, for the tool, the AWS CLI's JSON).
//!
//! A tenant writes it, so it is untrusted input: bounded in size, read into
//! the plugin configuration's own model of one CORS configuration, and
//! compiled by the configuration's own code. A document may hold exactly
//! what a bucket's entry in the plugin configuration may, refused with the
//! same errors, every one at once.

use crate::compile::{At, BucketCors, Compiler};
use crate::config::{Mode, RawCors, RawRule, Rules, Spelling};
use crate::document_xml;
use crate::error::{ConfigError, ConfigErrors, ErrorKind};
use crate::lint::{lint_configuration, Label, Lint};
use crate::trail::Trail;
use crate::PublicSuffix;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Serialize, Serializer};
use std::fmt;

/// The largest rules document read, in bytes: S3's limit on a bucket's CORS
/// configuration, 64 KB (spec §7). A larger one is refused unread.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// A rules document read, not yet judged: its rules, owned (a document
/// outlives the bytes it was read from). Written back (`Serialize`) as a
/// CORS configuration of the plugin configuration, in its OSS spellings.
#[derive(Debug)]
pub struct RulesDocument {
    rules: Vec<RawRule<'static>>,
    response_vary: bool,
}

impl RulesDocument {
    pub(crate) fn new(rules: Vec<RawRule<'static>>, response_vary: bool) -> Self {
        RulesDocument {
            rules,
            response_vary,
        }
    }

    /// Reads S3 or OSS XML; refuses a document not of that shape, with
    /// every problem of its shape.
    pub fn from_xml(bytes: &[u8]) -> Result<RulesDocument, ConfigErrors> {
        let (document, errors) = read_xml(bytes)?;
        if errors.is_empty() {
            Ok(document)
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// Reads the AWS CLI's JSON (`aws s3api put-bucket-cors
    /// --cors-configuration`, `get-bucket-cors`): `{"CORSRules": [...]}`
    /// with S3's plural names only, by the plugin configuration's reader.
    pub fn from_s3_json(bytes: &[u8]) -> Result<RulesDocument, ConfigErrors> {
        within_limit(bytes)?;
        let shape = |at: String, kind| ConfigErrors(vec![ConfigError { at, kind }]);
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let trail = Trail::default();
        let mut rules = Rules::default();
        S3Document {
            rules: &mut rules,
            trail: &trail,
        }
        .deserialize(&mut *de)
        .map_err(|e| shape(trail.describe(), ErrorKind::Shape(e.to_string())))?;
        de.end()
            .map_err(|e| shape(String::new(), ErrorKind::TrailingCharacters(e.to_string())))?;
        Ok(RulesDocument::new(rules.into_owned(), true))
    }

    /// `ResponseVary`: OSS's element, else `true` (the filter's default).
    pub fn response_vary(&self) -> bool {
        self.response_vary
    }

    /// Judges the rules as the plugin configuration's are.
    pub fn compile(self, public_suffix: Option<PublicSuffix>) -> Result<StoreRules, ConfigErrors> {
        compile(&self, Vec::new(), public_suffix)
    }

    /// The rules as one CORS configuration of the plugin configuration.
    fn raw(&self) -> RawCors<'_, 'static> {
        RawCors {
            rules: &self.rules,
            response_vary: self.response_vary,
            mode: Mode::Enforce,
        }
    }
}

impl Serialize for RulesDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw().serialize(serializer)
    }
}

/// A bucket's rules from a rules document, compiled: what the filter
/// enforces for the bucket.
#[derive(Debug)]
pub struct StoreRules {
    cors: BucketCors,
}

impl StoreRules {
    /// Reads and compiles S3 or OSS XML. Refused, it names every problem at
    /// once: those of the document's shape, then those of the rules it holds
    /// (only a document that is not XML at all stops at its first).
    pub fn from_xml(
        bytes: &[u8],
        public_suffix: Option<PublicSuffix>,
    ) -> Result<StoreRules, ConfigErrors> {
        let (document, errors) = read_xml(bytes)?;
        compile(&document, errors, public_suffix)
    }

    /// The compiled configuration, for the cache of store rules.
    pub(crate) fn into_cors(self) -> BucketCors {
        self.cors
    }

    /// The number of rules.
    pub fn rule_count(&self) -> usize {
        self.cors.rules.len()
    }

    /// Every lint, in rule order, labelled [`Label::Document`].
    pub fn lints(&self) -> Vec<Lint<'_>> {
        let mut lints = Vec::new();
        lint_configuration(Label::Document, &self.cors, &mut lints);
        lints
    }
}

fn within_limit(bytes: &[u8]) -> Result<(), ConfigErrors> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(ConfigErrors(vec![ConfigError {
            at: String::new(),
            kind: ErrorKind::DocumentTooLarge(bytes.len()),
        }]));
    }
    Ok(())
}

/// The document and the problems of its shape; `Err` when it is too large,
/// not UTF-8, or not XML of a CORS configuration.
fn read_xml(bytes: &[u8]) -> Result<(RulesDocument, Vec<ConfigError>), ConfigErrors> {
    within_limit(bytes)?;
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            at: String::new(),
            kind: ErrorKind::Xml(format!("not UTF-8 text: {e}")),
        }])
    })?;
    document_xml::read(text).map_err(|e| ConfigErrors(vec![e]))
}

/// `errors` (the document's shape), then those the compiler finds in the rules.
fn compile(
    document: &RulesDocument,
    mut errors: Vec<ConfigError>,
    public_suffix: Option<PublicSuffix>,
) -> Result<StoreRules, ConfigErrors> {
    match Compiler::new(public_suffix).cors(At::Document, document.raw(), &mut errors) {
        Some(cors) if errors.is_empty() => Ok(StoreRules { cors }),
        _ => Err(ConfigErrors(errors)),
    }
}

/// The AWS CLI's JSON document: a JSON object (never an array) of
/// `CORSRules` alone, read into `rules`.
struct S3Document<'r, 't, 'a> {
    rules: &'r mut Rules<'a>,
    trail: &'t Trail,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for S3Document<'_, '_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for S3Document<'_, '_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.rules.read(map, self.trail, Spelling::S3).map(|_| ())
    }
}
