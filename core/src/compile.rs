//! Validation and compilation of the plugin configuration, once, at
//! configure time: `RawPolicy` → `Policy`, with every error reported at once.

use crate::bucket::{is_bucket_name, is_endpoint, Addressing};
use crate::config::{Mode, Object, RawCors, RawPolicy, RawRule, UnmatchedPreflight};
use crate::error::{describe_path, ConfigError, ConfigErrors};
use crate::header_names::{is_token, HeaderMatcher};
use crate::method::{MethodSet, METHODS};
use crate::origin::{parse_origin_pattern, OriginMatcher};
use foldhash::{HashMap, HashMapExt};
use std::fmt;
use std::sync::Arc;

/// Rules per CORS configuration (spec §1).
const MAX_RULES: usize = 100;
/// Largest `MaxAgeSeconds` (spec §1).
const MAX_AGE_LIMIT: i64 = 2_147_483_647;

/// The compiled plugin configuration. Immutable; shared by every request.
#[derive(Debug)]
pub struct Policy {
    pub(crate) addressing: Addressing,
    pub(crate) buckets: HashMap<String, Arc<BucketCors>>,
    pub(crate) default: Option<Arc<BucketCors>>,
    pub(crate) unmatched_preflight: UnmatchedPreflight,
}

/// One bucket's compiled CORS configuration.
#[derive(Debug)]
pub struct BucketCors {
    pub(crate) rules: Vec<Rule>,
    pub(crate) response_vary: bool,
    /// `Mode: report`: decide and count, but forward and change nothing.
    pub(crate) report_only: bool,
}

/// One compiled `CORSRule`, with its constant header values pre-rendered.
#[derive(Debug)]
pub struct Rule {
    pub(crate) id: Option<String>,
    pub(crate) origins: OriginMatcher,
    pub(crate) methods: MethodSet,
    pub(crate) headers: HeaderMatcher,
    /// `AllowedMethod` joined with `, `.
    pub(crate) allow_methods: String,
    /// `ExposeHeader` joined with `, `, if any.
    pub(crate) expose_headers: Option<String>,
    /// `MaxAgeSeconds` as text, if set.
    pub(crate) max_age: Option<String>,
}

impl Policy {
    /// Parses and validates a plugin configuration (JSON).
    pub fn from_json(bytes: &[u8]) -> Result<Policy, ConfigErrors> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let raw: Object<RawPolicy> = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                at: describe_path(e.path()),
                message: e.inner().to_string(),
            }])
        })?;
        de.end().map_err(|e| {
            ConfigErrors(vec![ConfigError {
                at: String::new(),
                message: format!("trailing characters after the configuration: {e}"),
            }])
        })?;
        Policy::try_from(raw.0)
    }

    /// The number of configured buckets (not counting `default`).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }
}

impl TryFrom<RawPolicy> for Policy {
    type Error = ConfigErrors;

    fn try_from(raw: RawPolicy) -> Result<Self, ConfigErrors> {
        let mut errors = Vec::new();
        for (i, e) in raw.endpoints.iter().enumerate() {
            if !is_endpoint(e) {
                errors.push(ConfigError {
                    at: format!("endpoints[{i}] {e:?}"),
                    message:
                        "is not a bare lower-case host name (no scheme, port, path or leading dot)"
                            .into(),
                });
            }
        }
        let mut buckets = HashMap::with_capacity(raw.buckets.len());
        for (name, cors) in raw.buckets {
            let at = At::Bucket(&name);
            if !is_bucket_name(name.as_bytes()) {
                errors.push(ConfigError {
                    at: at.to_string(),
                    message: "is not a bucket name: 1 to 255 characters of a-z 0-9 . - _".into(),
                });
            }
            if let Some(c) = compile_cors(at, cors, &mut errors) {
                buckets.insert(name, Arc::new(c));
            }
        }
        let default = raw
            .default
            .and_then(|cors| compile_cors(At::Default, cors, &mut errors))
            .map(Arc::new);
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        Ok(Policy {
            addressing: Addressing {
                endpoints: raw.endpoints.into_iter().collect(),
                path_style: raw.path_style,
            },
            buckets,
            default,
            unmatched_preflight: raw.unmatched_preflight,
        })
    }
}

/// Where a value sits in the configuration, rendered only for an error:
/// a configuration of 100,000 buckets is checked without formatting any.
#[derive(Clone, Copy)]
enum At<'a> {
    Bucket(&'a str),
    Default,
    Rule(&'a At<'a>, usize, Option<&'a str>),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Bucket(name) => write!(f, "bucket {name:?}"),
            At::Default => f.write_str("default"),
            At::Rule(cors, i, Some(id)) => write!(f, "{cors} rule {i} (ID {id:?})"),
            At::Rule(cors, i, None) => write!(f, "{cors} rule {i}"),
        }
    }
}

fn compile_cors(at: At<'_>, cors: RawCors, errors: &mut Vec<ConfigError>) -> Option<BucketCors> {
    let before = errors.len();
    if cors.rules.is_empty() || cors.rules.len() > MAX_RULES {
        errors.push(ConfigError {
            at: format!("{at} CORSRule"),
            message: format!(
                "has {} rules; a configuration has 1 to {MAX_RULES}",
                cors.rules.len()
            ),
        });
    }
    let rules: Vec<Rule> = cors
        .rules
        .into_iter()
        .enumerate()
        .filter_map(|(i, Object(rule))| compile_rule(&at, i, rule, errors))
        .collect();
    (errors.len() == before).then_some(BucketCors {
        rules,
        response_vary: cors.response_vary,
        report_only: cors.mode == Mode::Report,
    })
}

fn compile_rule(
    cors: &At<'_>,
    index: usize,
    rule: RawRule,
    errors: &mut Vec<ConfigError>,
) -> Option<Rule> {
    let before = errors.len();
    let at = At::Rule(cors, index, rule.id.as_deref());
    let mut err = |field: String, message: String| {
        errors.push(ConfigError {
            at: format!("{at} {field}"),
            message,
        })
    };

    if rule.allowed_origin.is_empty() {
        err(
            "AllowedOrigin".into(),
            "is empty; at least one origin is required".into(),
        );
    }
    let mut patterns = Vec::with_capacity(rule.allowed_origin.len());
    for (i, o) in rule.allowed_origin.iter().enumerate() {
        match parse_origin_pattern(o) {
            Ok(p) => patterns.push(p),
            Err(m) => err(format!("AllowedOrigin[{i}] {o:?}"), m),
        }
    }

    if rule.allowed_method.is_empty() {
        err(
            "AllowedMethod".into(),
            "is empty; at least one method is required".into(),
        );
    }
    let mut methods = MethodSet::default();
    for (i, m) in rule.allowed_method.iter().enumerate() {
        if !methods.insert(m) {
            err(
                format!("AllowedMethod[{i}] {m:?}"),
                format!("is not one of {} (upper case)", METHODS.join(", ")),
            );
        }
    }

    for (i, h) in rule.allowed_header.iter().enumerate() {
        if !is_token(h.as_bytes()) || h.matches('*').count() > 1 {
            err(
                format!("AllowedHeader[{i}] {h:?}"),
                "is not a header name (an RFC 9110 token) with at most one \"*\"".into(),
            );
        }
    }

    for (i, h) in rule.expose_header.iter().enumerate() {
        if !is_token(h.as_bytes()) || h.contains('*') {
            err(
                format!("ExposeHeader[{i}] {h:?}"),
                "is not a header name (an RFC 9110 token without \"*\")".into(),
            );
        }
    }

    if let Some(age) = rule.max_age_seconds {
        if !(0..=MAX_AGE_LIMIT).contains(&age) {
            err(
                format!("MaxAgeSeconds {age}"),
                format!("is out of range 0 to {MAX_AGE_LIMIT}"),
            );
        }
    }

    if errors.len() != before {
        return None;
    }
    Some(Rule {
        id: rule.id,
        origins: OriginMatcher::new(patterns),
        methods,
        headers: HeaderMatcher::new(&rule.allowed_header),
        allow_methods: rule.allowed_method.join(", "),
        expose_headers: (!rule.expose_header.is_empty()).then(|| rule.expose_header.join(", ")),
        max_age: rule.max_age_seconds.map(|a| a.to_string()),
    })
}
