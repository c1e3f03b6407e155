//! Validation and compilation of the plugin configuration, once, at
//! configure time, with every error reported at once: each CORS
//! configuration is compiled as `read` meets it ([`Compiler::cors`]), and
//! [`assemble`] resolves names and builds the [`Policy`] at the end.

use crate::bucket::{is_bucket_name, is_endpoint, Addressing};
use crate::bucket_table::BucketTable;
use crate::config::{
    Mode, RawCors, RawRule, UnmatchedPreflight, UpstreamCors, MAX_AGE_LIMIT, MAX_RULES,
};
use crate::error::{ConfigError, ConfigErrors, ErrorKind};
use crate::header_names::{is_token, HeaderMatcher};
use crate::method::MethodSet;
use crate::origin::{parse_origin_pattern, OriginMatcher};
use crate::rule::{Rule, RuleTerms};
use crate::rules_source::{RawRulesSource, RulesSource};
use crate::PublicSuffix;
use foldhash::HashMap;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The compiled plugin configuration. Immutable; shared by every request.
#[derive(Debug)]
pub struct Policy {
    pub(crate) addressing: Addressing,
    /// Bucket name → index into `configs`.
    pub(crate) buckets: BucketTable,
    /// Every compiled CORS configuration: each bucket's inline one, then the
    /// named policies, then an inline `default`. A policy many buckets name
    /// is compiled once.
    pub(crate) configs: Vec<Arc<BucketCors>>,
    /// `default`, as an index into `configs`.
    pub(crate) default: Option<u32>,
    pub(crate) unmatched_preflight: UnmatchedPreflight,
    pub(crate) upstream_cors: UpstreamCors,
    /// `debug_headers`: a refused preflight names its reason (spec §6).
    pub(crate) debug_headers: bool,
    /// `rules_source` (spec §8): read buckets' rules from the store.
    pub(crate) rules_source: Option<RulesSource>,
    /// What a bucket whose rules cannot be read is decided with (spec §8).
    pub(crate) no_rules: Arc<BucketCors>,
}

/// One compiled CORS configuration (a bucket's, `default`'s or a policy's).
#[derive(Debug)]
pub(crate) struct BucketCors {
    pub(crate) rules: Box<[Rule]>,
    pub(crate) response_vary: bool,
    /// `Mode: report`: decide and count, but forward and change nothing.
    pub(crate) report_only: bool,
    /// The policy's name, when it is one of `policies`.
    pub(crate) policy: Option<Box<str>>,
}

impl BucketCors {
    /// A configuration with no rules: what a bucket whose rules document
    /// was refused, or whose rules cannot be read, is decided with
    /// (docs/spec.md §8): no grants, the upstream's CORS headers removed,
    /// `Vary: Origin` merged.
    pub(crate) fn no_rules() -> Self {
        BucketCors {
            rules: Box::new([]),
            response_vary: true,
            report_only: false,
            policy: None,
        }
    }
}

impl Policy {
    /// `rules_source`, when buckets' rules are read from the store.
    pub fn rules_source(&self) -> Option<&RulesSource> {
        self.rules_source.as_ref()
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

/// Policy names: 1 to 255 ASCII letters, digits, `.`, `-` and `_`.
fn is_policy_name(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

/// The configuration as `read` leaves it: the top-level settings, and every
/// CORS configuration already compiled (or its errors). Names are resolved
/// by [`assemble`], once every policy has been read.
#[derive(Debug)]
pub(crate) struct Parts {
    pub(crate) endpoints: Vec<String>,
    pub(crate) path_style: bool,
    /// Each named policy, by name.
    pub(crate) policies: BTreeMap<String, Compiled>,
    /// Every bucket name, one after another, in the configuration's order.
    pub(crate) names: String,
    /// Where each name ends in `names`.
    pub(crate) ends: Vec<u32>,
    /// Each bucket's value, in the order of `ends`.
    pub(crate) entries: Vec<Entry>,
    /// The inline configurations that compiled, in bucket order.
    pub(crate) inline: Vec<Arc<BucketCors>>,
    /// The errors of the inline configurations, in bucket order.
    pub(crate) inline_errors: Vec<ConfigError>,
    /// The policy names buckets refer to, each once.
    pub(crate) policy_names: Vec<String>,
    pub(crate) default: Option<DefaultEntry>,
    pub(crate) unmatched_preflight: UnmatchedPreflight,
    pub(crate) upstream_cors: UpstreamCors,
    pub(crate) debug_headers: bool,
    pub(crate) rules_source: Option<RawRulesSource>,
}

impl Default for Parts {
    /// What an empty object configures (spec §1's defaults).
    fn default() -> Self {
        Parts {
            endpoints: Vec::new(),
            path_style: true,
            policies: BTreeMap::new(),
            names: String::new(),
            ends: Vec::new(),
            entries: Vec::new(),
            inline: Vec::new(),
            inline_errors: Vec::new(),
            policy_names: Vec::new(),
            default: None,
            unmatched_preflight: UnmatchedPreflight::default(),
            upstream_cors: UpstreamCors::default(),
            debug_headers: false,
            rules_source: None,
        }
    }
}

/// One CORS configuration as compiled: `None` when it has errors.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) cors: Option<BucketCors>,
    pub(crate) errors: Vec<ConfigError>,
}

/// One bucket's value in [`Parts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// `Parts::inline[i]`; `None` when it did not compile.
    Inline(Option<u32>),
    /// `Parts::policy_names[i]`.
    Named(u32),
}

/// `default`'s value.
#[derive(Debug)]
pub(crate) enum DefaultEntry {
    Inline(Compiled),
    Named(String),
}

/// Compiles CORS configurations while the configuration is read, holding
/// every distinct [`RuleTerms`] once.
pub(crate) struct Compiler {
    public_suffix: Option<PublicSuffix>,
    /// The compiled terms of each distinct way of writing them (see
    /// [`terms_key`]): a rule whose terms were seen before costs one look-up,
    /// nothing compiled and nothing allocated.
    terms: HashMap<Box<[u8]>, Arc<RuleTerms>>,
    /// The key of the rule at hand, its buffer kept from rule to rule.
    key: Vec<u8>,
}

impl Compiler {
    pub(crate) fn new(public_suffix: Option<PublicSuffix>) -> Self {
        Compiler {
            public_suffix,
            terms: HashMap::default(),
            key: Vec::new(),
        }
    }

    /// Compiles one CORS configuration found at `at`; its errors go to `errors`.
    pub(crate) fn cors(
        &mut self,
        at: At<'_>,
        cors: RawCors<'_, '_>,
        errors: &mut Vec<ConfigError>,
    ) -> Option<BucketCors> {
        let before = errors.len();
        if cors.rules.is_empty() || cors.rules.len() > MAX_RULES {
            errors.push(ConfigError {
                at: at.field("CORSRule"),
                kind: ErrorKind::RuleCount(cors.rules.len()),
            });
        }
        let mut rules = Vec::with_capacity(cors.rules.len());
        for (i, rule) in cors.rules.iter().enumerate() {
            if let Some(rule) = self.rule(&at, i, rule, errors) {
                rules.push(rule);
            }
        }
        (errors.len() == before).then_some(BucketCors {
            rules: rules.into_boxed_slice(),
            response_vary: cors.response_vary,
            report_only: cors.mode == Mode::Report,
            policy: None,
        })
    }

    /// Rule `index` of the configuration at `cors`, once every field is valid.
    fn rule(
        &mut self,
        cors: &At<'_>,
        index: usize,
        rule: &RawRule<'_>,
        errors: &mut Vec<ConfigError>,
    ) -> Option<Rule> {
        let (origins, methods, max_age) =
            check_rule(cors, index, rule, self.public_suffix, errors)?;
        terms_key(&mut self.key, rule, max_age);
        let terms = match self.terms.get(self.key.as_slice()) {
            Some(terms) => Arc::clone(terms),
            None => {
                let terms = Arc::new(compile_terms(rule, methods, max_age));
                self.terms
                    .insert(self.key.as_slice().into(), Arc::clone(&terms));
                terms
            }
        };
        Some(Rule { origins, terms })
    }
}

/// A rule's terms as written, each string length-prefixed so that no two
/// ways of writing them share a key: equal keys compile to equal terms.
fn terms_key(key: &mut Vec<u8>, rule: &RawRule<'_>, max_age: Option<i64>) {
    fn text(key: &mut Vec<u8>, s: &str) {
        key.extend_from_slice(&(s.len() as u64).to_le_bytes());
        key.extend_from_slice(s.as_bytes());
    }
    key.clear();
    match &rule.id {
        Some(id) => {
            key.push(1);
            text(key, id);
        }
        None => key.push(0),
    }
    for list in [
        &rule.allowed_method,
        &rule.allowed_header,
        &rule.expose_header,
    ] {
        key.extend_from_slice(&(list.len() as u64).to_le_bytes());
        for s in list {
            text(key, s);
        }
    }
    match max_age {
        Some(age) => {
            key.push(1);
            key.extend_from_slice(&age.to_le_bytes());
        }
        None => key.push(0),
    }
}

/// The terms of a rule whose fields [`check_rule`] accepted.
fn compile_terms(rule: &RawRule<'_>, methods: MethodSet, max_age: Option<i64>) -> RuleTerms {
    RuleTerms {
        id: rule.id.as_deref().map(Box::from),
        methods,
        headers: HeaderMatcher::new(&rule.allowed_header),
        allow_methods: rule.allowed_method.join(", ").into(),
        expose_headers: (!rule.expose_header.is_empty())
            .then(|| rule.expose_header.join(", ").into()),
        max_age: max_age.map(|a| a.to_string().into()),
    }
}

/// Checks what only the whole configuration tells (endpoints, names, the
/// policies buckets name) and builds the [`Policy`]; every error of the
/// configuration, in the order it is written (endpoints, policies by name,
/// buckets, `default`).
pub(crate) fn assemble(parts: Parts) -> Result<Policy, ConfigErrors> {
    let Parts {
        endpoints,
        path_style,
        policies,
        names,
        ends,
        entries,
        inline,
        inline_errors,
        policy_names,
        default,
        unmatched_preflight,
        upstream_cors,
        debug_headers,
        rules_source,
    } = parts;
    let mut errors = Vec::new();
    let rules_source = rules_source.map(|raw| raw.compile(&mut errors));
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

    // The inline configurations first: `configs[i]` is `inline[i]`; then the
    // policies in name order.
    let mut configs = inline;
    configs.reserve_exact(policies.len() + 1);
    let mut policy_index: BTreeMap<String, u32> = BTreeMap::new();
    for (name, compiled) in policies {
        if !is_policy_name(&name) {
            errors.push(ConfigError {
                at: At::Policy(&name).to_string(),
                kind: ErrorKind::PolicyName,
            });
        }
        errors.extend(compiled.errors);
        if let Some(mut c) = compiled.cors {
            c.policy = Some(name.as_str().into());
            policy_index.insert(name, configs.len() as u32);
            configs.push(Arc::new(c));
        }
    }
    errors.extend(inline_errors);
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

    // Each name a bucket refers to, resolved once.
    let resolved: Vec<Option<u32>> = policy_names
        .iter()
        .map(|n| policy_index.get(n).copied())
        .collect();
    let name_of = |i: usize| {
        let start = i.checked_sub(1).map_or(0, |p| ends[p] as usize);
        names.get(start..ends[i] as usize).unwrap_or_default()
    };
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
            Entry::Inline(i) => i,
            Entry::Named(n) => match resolved[n as usize] {
                Some(t) => Some(t),
                None => named(&policy_names[n as usize], At::Bucket(name), &mut errors),
            },
        };
        targets.push(target.unwrap_or(u32::MAX));
    }
    drop(entries);

    let default = match default {
        None => None,
        Some(DefaultEntry::Named(name)) => named(&name, At::Default, &mut errors),
        Some(DefaultEntry::Inline(compiled)) => {
            errors.extend(compiled.errors);
            compiled.cors.map(|c| {
                configs.push(Arc::new(c));
                configs.len() as u32 - 1
            })
        }
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
            rules_source,
            no_rules: Arc::new(BucketCors::no_rules()),
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

/// Checks every field of one rule, each error naming the configuration, the
/// rule (index and `ID`), the field and the value; the compiled origins, the
/// methods and the max age when all are valid.
fn check_rule(
    cors: &At<'_>,
    index: usize,
    rule: &RawRule<'_>,
    public_suffix: Option<PublicSuffix>,
    errors: &mut Vec<ConfigError>,
) -> Option<(OriginMatcher, MethodSet, Option<i64>)> {
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
    Some((OriginMatcher::new(patterns), methods, max_age))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Text;

    fn terms_of<'p>(p: &'p Policy, bucket: &str) -> Vec<&'p Arc<RuleTerms>> {
        let (_, cors) = p.cors_for(bucket);
        cors.map(|c| c.rules.iter().map(|r| &r.terms).collect())
            .unwrap_or_default()
    }

    #[test]
    fn rules_written_alike_but_for_their_origins_share_their_terms() {
        let p = Policy::from_json(
            br#"{"buckets": {
                "a": {"CORSRule": [{"ID": "r", "AllowedOrigin": ["https://a.com"], "AllowedMethod": ["GET", "PUT"], "MaxAgeSeconds": 5}]},
                "b": {"CORSRule": [{"ID": "r", "AllowedOrigin": ["https://b.com"], "AllowedMethod": ["GET", "PUT"], "MaxAgeSeconds": 5}]},
                "c": {"CORSRule": [{"ID": "r", "AllowedOrigin": ["https://b.com"], "AllowedMethod": ["PUT", "GET"], "MaxAgeSeconds": 5}]},
                "d": {"CORSRule": [{"ID": "r", "AllowedOrigin": ["https://b.com"], "AllowedMethod": ["GET", "PUT"], "MaxAgeSeconds": 6}]}
            }}"#,
        )
        .unwrap();
        let (a, b, c, d) = (
            terms_of(&p, "a"),
            terms_of(&p, "b"),
            terms_of(&p, "c"),
            terms_of(&p, "d"),
        );
        assert!(Arc::ptr_eq(a[0], b[0]), "same terms, other origins: shared");
        assert!(
            !Arc::ptr_eq(a[0], c[0]),
            "methods in another order: ACAM differs"
        );
        assert_eq!(&*c[0].allow_methods, "PUT, GET");
        assert!(!Arc::ptr_eq(a[0], d[0]), "another max age");
        assert_eq!(d[0].max_age.as_deref(), Some("6"));
    }

    #[test]
    fn a_terms_key_tells_every_way_of_writing_them_apart() {
        let rule = |id: Option<&'static str>,
                    methods: &[&'static str],
                    headers: &[&'static str]| RawRule {
            id: id.map(Text::from),
            allowed_method: methods.iter().map(|m| Text::from(*m)).collect(),
            allowed_header: headers.iter().map(|h| Text::from(*h)).collect(),
            ..RawRule::default()
        };
        let key = |r: &RawRule<'_>, age| {
            let mut k = Vec::new();
            terms_key(&mut k, r, age);
            k
        };
        let base = key(&rule(None, &["GET"], &["a"]), None);
        for (other, why) in [
            (
                key(&rule(Some(""), &["GET"], &["a"]), None),
                "an empty ID is an ID",
            ),
            (
                key(&rule(None, &["GET", "a"], &[]), None),
                "a header is not a method",
            ),
            (
                key(&rule(None, &["GETa"], &[]), None),
                "lists do not run together",
            ),
            (
                key(&rule(None, &["GET"], &["a"]), Some(0)),
                "a max age of 0 is set",
            ),
        ] {
            assert_ne!(base, other, "{why}");
        }
        assert_eq!(base, key(&rule(None, &["GET"], &["a"]), None));
    }
}
