//! Validation and compilation of the plugin configuration, once, at
//! configure time: `RawPolicy` → `Policy`, with every error reported at once.

use crate::bucket::{is_bucket_name, is_endpoint, Addressing};
use crate::bucket_table::BucketTable;
use crate::config::{
    Mode, Object, RawBuckets, RawCors, RawEntry, RawPolicy, RawRef, RawRule, UnmatchedPreflight,
    UpstreamCors, MAX_AGE_LIMIT, MAX_RULES,
};
use crate::error::{describe_path, ConfigError, ConfigErrors, ErrorKind};
use crate::header_names::{is_token, HeaderMatcher};
use crate::method::MethodSet;
use crate::origin::{parse_origin_pattern, OriginMatcher};
use crate::rule::Rule;
use crate::PublicSuffix;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The compiled plugin configuration. Immutable; shared by every request.
#[derive(Debug)]
pub struct Policy {
    pub(crate) addressing: Addressing,
    /// Bucket name → index into `configs`.
    pub(crate) buckets: BucketTable,
    /// Every compiled CORS configuration: the named policies, then each
    /// bucket's inline one. A policy many buckets name is compiled once.
    pub(crate) configs: Vec<Arc<BucketCors>>,
    /// `default`, as an index into `configs`.
    pub(crate) default: Option<u32>,
    pub(crate) unmatched_preflight: UnmatchedPreflight,
    pub(crate) upstream_cors: UpstreamCors,
    /// `debug_headers`: a refused preflight names its reason (spec §6).
    pub(crate) debug_headers: bool,
}

/// One compiled CORS configuration (a bucket's, `default`'s or a policy's).
#[derive(Debug)]
pub(crate) struct BucketCors {
    pub(crate) rules: Vec<Rule>,
    pub(crate) response_vary: bool,
    /// `Mode: report`: decide and count, but forward and change nothing.
    pub(crate) report_only: bool,
    /// The policy's name, when it is one of `policies`.
    pub(crate) policy: Option<Box<str>>,
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

    /// The number of compiled CORS configurations: the named policies and
    /// the inline ones.
    pub fn config_count(&self) -> usize {
        self.configs.len()
    }

    /// The CORS configuration of `bucket` (spec §2.2: `buckets`, then
    /// `default`) and where it came from.
    pub(crate) fn cors_for(&self, bucket: &str) -> (Source, Option<&Arc<BucketCors>>) {
        let config = |i: u32| self.configs.get(i as usize);
        match (self.buckets.get(bucket), self.default) {
            (Some(i), _) => (Source::Bucket, config(i)),
            (None, Some(i)) => (Source::Default, config(i)),
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

/// Policy names: 1 to 255 ASCII letters, digits, `.`, `-` and `_`.
fn is_policy_name(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

fn compile(raw: RawPolicy, public_suffix: Option<PublicSuffix>) -> Result<Policy, ConfigErrors> {
    let RawPolicy {
        endpoints,
        path_style,
        policies,
        buckets,
        default,
        unmatched_preflight,
        upstream_cors,
        debug_headers,
    } = raw;
    let mut errors = Vec::new();
    for (i, e) in endpoints.iter().enumerate() {
        if !is_endpoint(e) {
            errors.push(ConfigError {
                at: format!("endpoints[{i}] {e:?}"),
                kind: ErrorKind::Endpoint,
            });
        }
    }
    if unmatched_preflight == UnmatchedPreflight::Forward && upstream_cors == UpstreamCors::Strip {
        errors.push(ConfigError {
            at: "unmatched_preflight \"forward\" with upstream_cors \"strip\"".into(),
            kind: ErrorKind::ForwardedPreflightStripped,
        });
    }

    // Named policies first: `configs[i]` is the i-th policy in name order.
    let mut configs: Vec<Arc<BucketCors>> =
        Vec::with_capacity(policies.len() + buckets.inline.len());
    let mut policy_index: BTreeMap<String, u32> = BTreeMap::new();
    for (name, cors) in policies {
        let at = At::Policy(&name);
        if !is_policy_name(&name) {
            errors.push(ConfigError {
                at: at.to_string(),
                kind: ErrorKind::PolicyName,
            });
        }
        if let Some(mut c) = compile_cors(at, cors, public_suffix, &mut errors) {
            c.policy = Some(name.as_str().into());
            policy_index.insert(name, configs.len() as u32);
            configs.push(Arc::new(c));
        }
    }
    let named = |name: &str, at: At<'_>, errors: &mut Vec<ConfigError>| {
        let found = policy_index.get(name).copied();
        if found.is_none() {
            errors.push(ConfigError {
                at: at.to_string(),
                kind: ErrorKind::UnknownPolicy(name.to_owned()),
            });
        }
        found
    };

    let RawBuckets {
        names,
        ends,
        entries,
        inline,
        policy_names,
    } = buckets;
    // Each name a bucket refers to, resolved once.
    let resolved: Vec<Option<u32>> = policy_names
        .iter()
        .map(|n| policy_index.get(n).copied())
        .collect();
    let mut inline_index = Vec::with_capacity(inline.len());
    let inline_owner: Vec<usize> = {
        let mut owner = vec![0; inline.len()];
        for (bucket, entry) in entries.iter().enumerate() {
            if let RawRef::Inline(i) = entry {
                owner[*i as usize] = bucket;
            }
        }
        owner
    };
    let name_of = |i: usize| {
        let start = i.checked_sub(1).map_or(0, |p| ends[p] as usize);
        names.get(start..ends[i] as usize).unwrap_or_default()
    };
    for (i, cors) in inline.into_iter().enumerate() {
        let at = At::Bucket(name_of(inline_owner[i]));
        let compiled = compile_cors(at, cors, public_suffix, &mut errors);
        inline_index.push(compiled.map(|c| {
            configs.push(Arc::new(c));
            configs.len() as u32 - 1
        }));
    }
    let mut targets = Vec::with_capacity(entries.len());
    for (bucket, entry) in entries.iter().enumerate() {
        let name = name_of(bucket);
        if !is_bucket_name(name.as_bytes()) {
            errors.push(ConfigError {
                at: At::Bucket(name).to_string(),
                kind: ErrorKind::BucketName,
            });
        }
        let target = match *entry {
            RawRef::Inline(i) => inline_index[i as usize],
            RawRef::Named(n) => match resolved[n as usize] {
                Some(t) => Some(t),
                None => named(&policy_names[n as usize], At::Bucket(name), &mut errors),
            },
        };
        targets.push(target.unwrap_or(u32::MAX));
    }

    let default = match default {
        None => None,
        Some(RawEntry::Named(name)) => named(&name, At::Default, &mut errors),
        Some(RawEntry::Inline(cors)) => compile_cors(At::Default, cors, public_suffix, &mut errors)
            .map(|c| {
                configs.push(Arc::new(c));
                configs.len() as u32 - 1
            }),
    };

    let buckets = match BucketTable::new(names, ends, targets) {
        Ok(table) => Some(table),
        Err(repeated) => {
            for name in repeated {
                errors.push(ConfigError {
                    at: At::Bucket(&name).to_string(),
                    kind: ErrorKind::BucketListedTwice,
                });
            }
            None
        }
    };
    match buckets {
        Some(buckets) if errors.is_empty() => Ok(Policy {
            addressing: Addressing {
                endpoints: endpoints.into_iter().collect(),
                path_style,
            },
            buckets,
            configs,
            default,
            unmatched_preflight,
            upstream_cors,
            debug_headers,
        }),
        _ => Err(ConfigErrors(errors)),
    }
}

/// Where a value sits in the configuration, rendered only for an error:
/// a configuration of 100,000 buckets is checked without formatting any.
#[derive(Clone, Copy)]
pub(crate) enum At<'a> {
    Bucket(&'a str),
    Policy(&'a str),
    Default,
    /// A bucket's rules document (spec §7): its rules are named alone.
    Document,
    Rule(&'a At<'a>, usize, Option<&'a str>),
}

impl At<'_> {
    /// `field` where this is: `bucket "photos" CORSRule`, or `CORSRule` in a document.
    pub(crate) fn field(&self, field: &str) -> String {
        match self {
            At::Document => field.to_owned(),
            at => format!("{at} {field}"),
        }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Bucket(name) => write!(f, "bucket {name:?}"),
            At::Policy(name) => write!(f, "policy {name:?}"),
            At::Default => f.write_str("default"),
            At::Document => Ok(()),
            At::Rule(cors, i, id) => {
                if !matches!(cors, At::Document) {
                    write!(f, "{cors} ")?;
                }
                match id {
                    Some(id) => write!(f, "rule {i} (ID {id:?})"),
                    None => write!(f, "rule {i}"),
                }
            }
        }
    }
}

pub(crate) fn compile_cors(
    at: At<'_>,
    cors: RawCors,
    public_suffix: Option<PublicSuffix>,
    errors: &mut Vec<ConfigError>,
) -> Option<BucketCors> {
    let before = errors.len();
    if cors.rules.is_empty() || cors.rules.len() > MAX_RULES {
        errors.push(ConfigError {
            at: at.field("CORSRule"),
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
        policy: None,
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
        id: rule.id.map(String::into_boxed_str),
        origins: OriginMatcher::new(patterns),
        methods,
        headers: HeaderMatcher::new(&rule.allowed_header),
        allow_methods: rule.allowed_method.join(", ").into(),
        expose_headers: (!rule.expose_header.is_empty())
            .then(|| rule.expose_header.join(", ").into()),
        max_age: max_age.map(|a| a.to_string().into()),
    })
}
