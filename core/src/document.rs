//! A bucket's rules document (docs/spec.md §7): the CORS rules a store holds
//! for one bucket, as PutBucketCors takes them and GetBucketCors gives them
//! back, in S3's or OSS's XML (or, for the tool, the AWS CLI's JSON).
//!
//! A tenant writes it, so it is untrusted input: bounded in size, read into
//! the plugin configuration's own model of one CORS configuration, and
//! compiled by the configuration's own code. A document may hold exactly
//! what a bucket's entry in the plugin configuration may, refused with the
//! same errors, every one at once.

use crate::compile::{compile_cors, At, BucketCors};
use crate::config::{Object, RawCors, RawRule};
use crate::document_xml;
use crate::error::{describe_path, ConfigError, ConfigErrors, ErrorKind};
use crate::lint::{lint_configuration, Label, Lint};
use crate::PublicSuffix;
use serde::{Deserialize, Serialize, Serializer};

/// The largest rules document read, in bytes: S3's limit on a bucket's CORS
/// configuration, 64 KB (spec §7). A larger one is refused unread.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// A rules document read, not yet judged. Written back (`Serialize`) as a
/// CORS configuration of the plugin configuration, in its OSS spellings.
#[derive(Debug)]
pub struct RulesDocument(RawCors);

impl RulesDocument {
    /// Reads S3 or OSS XML; refuses a document not of that shape, with
    /// every problem of its shape.
    pub fn from_xml(bytes: &[u8]) -> Result<RulesDocument, ConfigErrors> {
        let (raw, errors) = read_xml(bytes)?;
        if errors.is_empty() {
            Ok(RulesDocument(raw))
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// Reads the AWS CLI's JSON (`aws s3api put-bucket-cors
    /// --cors-configuration`, `get-bucket-cors`): `{"CORSRules": [...]}`
    /// with S3's plural names only.
    pub fn from_s3_json(bytes: &[u8]) -> Result<RulesDocument, ConfigErrors> {
        within_limit(bytes)?;
        let shape = |at: String, kind| ConfigErrors(vec![ConfigError { at, kind }]);
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let s3: Object<S3Cors> = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
            shape(
                describe_path(e.path()),
                ErrorKind::Shape(e.inner().to_string()),
            )
        })?;
        de.end()
            .map_err(|e| shape(String::new(), ErrorKind::TrailingCharacters(e.to_string())))?;
        Ok(RulesDocument(RawCors {
            rules: s3
                .0
                .rules
                .into_iter()
                .map(|Object(r)| Object(r.into()))
                .collect(),
            response_vary: true,
            mode: Default::default(),
        }))
    }

    /// `ResponseVary`: OSS's element, else `true` (the filter's default).
    pub fn response_vary(&self) -> bool {
        self.0.response_vary
    }

    /// Judges the rules as the plugin configuration's are.
    pub fn compile(self, public_suffix: Option<PublicSuffix>) -> Result<StoreRules, ConfigErrors> {
        compile(self.0, Vec::new(), public_suffix)
    }
}

impl Serialize for RulesDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
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
        let (raw, errors) = read_xml(bytes)?;
        compile(raw, errors, public_suffix)
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

/// The document's rules and the problems of its shape; `Err` when it is too
/// large, not UTF-8, or not XML of a CORS configuration.
fn read_xml(bytes: &[u8]) -> Result<(RawCors, Vec<ConfigError>), ConfigErrors> {
    within_limit(bytes)?;
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            at: String::new(),
            kind: ErrorKind::Xml(format!("not UTF-8 text: {e}")),
        }])
    })?;
    document_xml::read(text).map_err(|e| ConfigErrors(vec![e]))
}

/// `errors` (the document's shape), then those `compile` finds in `raw`.
fn compile(
    raw: RawCors,
    mut errors: Vec<ConfigError>,
    public_suffix: Option<PublicSuffix>,
) -> Result<StoreRules, ConfigErrors> {
    match compile_cors(At::Document, raw, public_suffix, &mut errors) {
        Some(cors) if errors.is_empty() => Ok(StoreRules { cors }),
        _ => Err(ConfigErrors(errors)),
    }
}

/// The AWS CLI's JSON document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct S3Cors {
    #[serde(rename = "CORSRules")]
    rules: Vec<Object<S3Rule>>,
}

/// One rule of the AWS CLI's JSON, S3's plural names.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct S3Rule {
    #[serde(rename = "ID", default)]
    id: Option<String>,
    #[serde(rename = "AllowedOrigins")]
    allowed_origins: Vec<String>,
    #[serde(rename = "AllowedMethods")]
    allowed_methods: Vec<String>,
    #[serde(rename = "AllowedHeaders", default)]
    allowed_headers: Vec<String>,
    #[serde(rename = "ExposeHeaders", default)]
    expose_headers: Vec<String>,
    #[serde(rename = "MaxAgeSeconds", default)]
    max_age_seconds: Option<serde_json::Number>,
}

impl From<S3Rule> for RawRule {
    fn from(r: S3Rule) -> RawRule {
        RawRule {
            id: r.id,
            allowed_origin: r.allowed_origins,
            allowed_method: r.allowed_methods,
            allowed_header: r.allowed_headers,
            expose_header: r.expose_headers,
            max_age_seconds: r.max_age_seconds,
        }
    }
}
