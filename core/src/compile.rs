//! Validation and compilation of the plugin configuration, once, at
//! configure time: `RawPolicy` → `Policy`, with every error reported at once.

use crate::bucket::{is_bucket_name, is_endpoint, Addressing};
use crate::config::{Mode, Object, RawCors, RawPolicy, RawRule, UnmatchedPreflight, UpstreamCors};
use crate::error::{describe_path, ConfigError, ConfigErrors, ErrorKind};
use crate::header_names::{is_token, HeaderMatcher};
use crate::lint::Label;
use crate::method::MethodSet;
use crate::origin::{parse_origin_pattern, OriginMatcher};
use crate::rule::Rule;
use crate::PublicSuffix;
use foldhash::{HashMap, HashMapExt};
use std::fmt;
use std::sync::Arc;

/// Rules per CORS configuration (spec §1).
pub(crate) const MAX_RULES: usize = 100;
/// Largest `MaxAgeSeconds` (spec §1).
pub(crate) const MAX_AGE_LIMIT: i64 = 2_147_483_647;

/// The compiled plugin configuration. Immutable; shared by every request.
#[derive(Debug)]
pub struct Policy {
    pub(crate) addressing: Addressing,
    pub(crate) buckets: HashMap<String, Arc<BucketCors>>,
    pub(crate) default: Option<Arc<BucketCors>>,
    pub(crate) unmatched_preflight: UnmatchedPreflight,
    pub(crate) upstream_cors: UpstreamCors,
    /// `debug_headers`: a refused preflight names its reason (spec §6).
    pub(crate) debug_headers: bool,
}

/// One bucket's compiled CORS configuration.
#[derive(Debug)]
pub(crate) struct BucketCors {
    pub(crate) rules: Vec<Rule>,
    pub(crate) response_vary: bool,
    /// `Mode: report`: decide and count, but forward and change nothing.
    pub(crate) report_only: bool,
}

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
        let raw: Object<RawPolicy> = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                at: describe_path(e.path()),
                kind: ErrorKind::Shape(e.inner().to_string()),
            }])
        })?;
        de.end().map_err(|e| {
            ConfigErrors(vec![ConfigError {
                at: String::new(),
                kind: ErrorKind::TrailingCharacters(e.to_string()),
            }])
        })?;
        compile(raw.0, public_suffix)
    }

    /// The number of configured buckets (not counting `default`).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// Every CORS configuration and where it sits, for the lints: the
    /// buckets (in no particular order), then `default`.
    pub(crate) fn configurations(&self) -> impl Iterator<Item = (Label<'_>, &BucketCors)> {
        self.buckets
            .iter()
            .map(|(name, cors)| (Label::Bucket(name), &**cors))
            .chain(self.default.as_deref().map(|cors| (Label::Default, cors)))
    }

    /// The CORS configuration of `bucket` (spec §2.2: `buckets`, then
    /// `default`) and where it came from.
    pub(crate) fn cors_for(&self, bucket: &str) -> (Source, Option<&Arc<BucketCors>>) {
        match (self.buckets.get(bucket), &self.default) {
            (Some(cors), _) => (Source::Bucket, Some(cors)),
            (None, Some(cors)) => (Source::Default, Some(cors)),
            (None, None) => (Source::None, None),
        }
    }
}

/// Where a bucket's rules came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Listed under `buckets`.
    Bucket,
    /// `default`.
    Default,
    /// Neither: the bucket has no CORS configuration.
    None,
}

impl TryFrom<RawPolicy> for Policy {
    type Error = ConfigErrors;

    fn try_from(raw: RawPolicy) -> Result<Self, ConfigErrors> {
        compile(raw, None)
    }
}

fn compile(raw: RawPolicy, public_suffix: Option<PublicSuffix>) -> Result<Policy, ConfigErrors> {
    {
        let mut errors = Vec::new();
        for (i, e) in raw.endpoints.iter().enumerate() {
            if !is_endpoint(e) {
                errors.push(ConfigError {
                    at: format!("endpoints[{i}] {e:?}"),
                    kind: ErrorKind::Endpoint,
                });
            }
        }
        let mut buckets = HashMap::with_capacity(raw.buckets.len());
        for (name, cors) in raw.buckets {
            let at = At::Bucket(&name);
            if !is_bucket_name(name.as_bytes()) {
                errors.push(ConfigError {
                    at: at.to_string(),
                    kind: ErrorKind::BucketName,
                });
            }
            if let Some(c) = compile_cors(at, cors, public_suffix, &mut errors) {
                buckets.insert(name, Arc::new(c));
            }
        }
        if raw.unmatched_preflight == UnmatchedPreflight::Forward
            && raw.upstream_cors == UpstreamCors::Strip
        {
            errors.push(ConfigError {
                at: "unmatched_preflight \"forward\" with upstream_cors \"strip\"".into(),
                kind: ErrorKind::ForwardedPreflightStripped,
            });
        }
        let default = raw
            .default
            .and_then(|cors| compile_cors(At::Default, cors, public_suffix, &mut errors))
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
            upstream_cors: raw.upstream_cors,
            debug_headers: raw.debug_headers,
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

fn compile_cors(
    at: At<'_>,
    cors: RawCors,
    public_suffix: Option<PublicSuffix>,
    errors: &mut Vec<ConfigError>,
) -> Option<BucketCors> {
    let before = errors.len();
    if cors.rules.is_empty() || cors.rules.len() > MAX_RULES {
        errors.push(ConfigError {
            at: format!("{at} CORSRule"),
            kind: ErrorKind::RuleCount(cors.rules.len()),
        });
    }
    let rules: Vec<Rule> = cors
        .rules
        .into_iter()
        .enumerate()
        .filter_map(|(i, Object(rule))| compile_rule(&at, i, rule, public_suffix, errors))
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
    public_suffix: Option<PublicSuffix>,
    errors: &mut Vec<ConfigError>,
) -> Option<Rule> {
    let before = errors.len();
    let at = At::Rule(cors, index, rule.id.as_deref());
    let mut err = |field: String, kind: ErrorKind| {
        errors.push(ConfigError {
            at: format!("{at} {field}"),
            kind,
        })
    };

    if rule.allowed_origin.is_empty() {
        err("AllowedOrigin".into(), ErrorKind::NoOrigins);
    }
    let mut patterns = Vec::with_capacity(rule.allowed_origin.len());
    for (i, o) in rule.allowed_origin.iter().enumerate() {
        match parse_origin_pattern(o, public_suffix) {
            Ok(p) => patterns.push(p),
            Err(e) => err(format!("AllowedOrigin[{i}] {o:?}"), ErrorKind::Origin(e)),
        }
    }

    if rule.allowed_method.is_empty() {
        err("AllowedMethod".into(), ErrorKind::NoMethods);
    }
    let mut methods = MethodSet::default();
    for (i, m) in rule.allowed_method.iter().enumerate() {
        if !methods.insert(m) {
            err(format!("AllowedMethod[{i}] {m:?}"), ErrorKind::Method);
        }
    }

    for (i, h) in rule.allowed_header.iter().enumerate() {
        if !is_token(h.as_bytes()) || h.matches('*').count() > 1 {
            err(
                format!("AllowedHeader[{i}] {h:?}"),
                ErrorKind::AllowedHeader,
            );
        }
    }

    for (i, h) in rule.expose_header.iter().enumerate() {
        if !is_token(h.as_bytes()) || h.contains('*') {
            err(format!("ExposeHeader[{i}] {h:?}"), ErrorKind::ExposeHeader);
        }
    }

    let max_age = rule
        .max_age_seconds
        .as_ref()
        .and_then(|n| match n.as_i64() {
            Some(age) if (0..=MAX_AGE_LIMIT).contains(&age) => Some(age),
            Some(_) => {
                err(format!("MaxAgeSeconds {n}"), ErrorKind::MaxAge);
                None
            }
            None if n.as_u64().is_some() => {
                err(format!("MaxAgeSeconds {n}"), ErrorKind::MaxAge);
                None
            }
            // serde_json reads `-0` as the fraction -0.0.
            None if n.as_f64() == Some(0.0) => {
                err("MaxAgeSeconds -0".into(), ErrorKind::MaxAgeNegativeZero);
                None
            }
            None => {
                err(format!("MaxAgeSeconds {n}"), ErrorKind::MaxAgeNotWhole);
                None
            }
        });

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
        max_age: max_age.map(|a| a.to_string()),
    })
}
