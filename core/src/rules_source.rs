//! `rules_source` (docs/spec.md §8): where and how often the filter reads a
//! bucket's rules from its store. Read with the configuration, validated
//! with its other errors, into settings the cache and the glues use as is.

use crate::document::StoreRules;
use crate::error::{ConfigError, ConfigErrors, ErrorKind};
use serde::Deserialize;

/// The configuration's `rules_source`, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRulesSource {
    cluster: String,
    authority: Option<String>,
    timeout_ms: Option<u64>,
    refresh_seconds: Option<u64>,
    retry_seconds: Option<u64>,
    max_buckets: Option<u64>,
    max_document_bytes: Option<u64>,
    max_reads_in_flight: Option<u64>,
}

/// `rules_source`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesSource {
    /// The Envoy cluster reads go to (its upstream filters sign them).
    pub cluster: Box<str>,
    /// The reads' `:authority`.
    pub authority: Box<str>,
    /// One read's timeout, in milliseconds.
    pub timeout_ms: u32,
    /// How long an answer is used before the bucket is read again.
    pub refresh_ms: u64,
    /// How long after a failed read the bucket is read again.
    pub retry_ms: u64,
    /// Buckets cached at most.
    pub max_buckets: usize,
    /// The largest rules document read.
    pub max_document_bytes: usize,
    /// Reads outstanding at most.
    pub max_reads_in_flight: usize,
}

/// A setting's range and default (spec §8's table).
struct Range {
    field: &'static str,
    low: u64,
    high: u64,
}

impl Range {
    /// `value` within the range, or its error.
    fn check(&self, value: Option<u64>, default: u64, errors: &mut Vec<ConfigError>) -> u64 {
        let Some(v) = value else { return default };
        if (self.low..=self.high).contains(&v) {
            return v;
        }
        errors.push(ConfigError {
            at: format!("rules_source.{} {v}", self.field),
            kind: ErrorKind::OutOfRange(self.low, self.high),
        });
        default
    }
}

const TIMEOUT_MS: Range = Range {
    field: "timeout_ms",
    low: 1,
    high: 60_000,
};
const REFRESH_SECONDS: Range = Range {
    field: "refresh_seconds",
    low: 1,
    high: 86_400,
};
const MAX_BUCKETS: Range = Range {
    field: "max_buckets",
    low: 1,
    high: 10_000_000,
};
const MAX_DOCUMENT_BYTES: Range = Range {
    field: "max_document_bytes",
    low: 1,
    high: crate::document::MAX_DOCUMENT_BYTES as u64,
};
const MAX_READS_IN_FLIGHT: Range = Range {
    field: "max_reads_in_flight",
    low: 1,
    high: 10_000,
};

impl RawRulesSource {
    /// Validates every setting; each error goes to `errors`.
    pub(crate) fn compile(self, errors: &mut Vec<ConfigError>) -> RulesSource {
        for (field, name) in [
            ("cluster", Some(&self.cluster)),
            ("authority", self.authority.as_ref()),
        ] {
            if let Some(name) = name {
                if name.is_empty()
                    || name
                        .bytes()
                        .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
                {
                    errors.push(ConfigError {
                        at: format!("rules_source.{field} {name:?}"),
                        kind: ErrorKind::ClusterOrAuthority,
                    });
                }
            }
        }
        let timeout_ms = TIMEOUT_MS.check(self.timeout_ms, 1_000, errors);
        let refresh = REFRESH_SECONDS.check(self.refresh_seconds, 60, errors);
        let retry = Range {
            field: "retry_seconds",
            low: 1,
            high: refresh,
        }
        .check(self.retry_seconds, refresh.min(5), errors);
        let max_buckets = MAX_BUCKETS.check(self.max_buckets, 10_000, errors);
        let max_document_bytes = MAX_DOCUMENT_BYTES.check(
            self.max_document_bytes,
            crate::document::MAX_DOCUMENT_BYTES as u64,
            errors,
        );
        let max_reads_in_flight = MAX_READS_IN_FLIGHT.check(self.max_reads_in_flight, 64, errors);
        let authority = self.authority.unwrap_or_else(|| self.cluster.clone());
        RulesSource {
            cluster: self.cluster.into(),
            authority: authority.into(),
            // Within 1..=60_000 once checked; the default otherwise.
            timeout_ms: u32::try_from(timeout_ms).unwrap_or(1_000),
            refresh_ms: refresh.saturating_mul(1_000),
            retry_ms: retry.saturating_mul(1_000),
            max_buckets: usize::try_from(max_buckets).unwrap_or(usize::MAX),
            max_document_bytes: usize::try_from(max_document_bytes).unwrap_or(usize::MAX),
            max_reads_in_flight: usize::try_from(max_reads_in_flight).unwrap_or(usize::MAX),
        }
    }
}

impl RulesSource {
    /// `retry_seconds`, for the 503's `Retry-After`.
    pub fn retry_seconds(&self) -> u64 {
        self.retry_ms / 1_000
    }

    /// A rules document from the store, or on its way there in a `PUT ?cors`
    /// (spec §8): at most `max_document_bytes`, then judged as section 7 says.
    pub(crate) fn read_document(&self, body: &[u8]) -> Result<StoreRules, ConfigErrors> {
        if body.len() > self.max_document_bytes {
            return Err(ConfigErrors(vec![ConfigError {
                at: String::new(),
                kind: ErrorKind::DocumentLargerThan(body.len(), self.max_document_bytes),
            }]));
        }
        StoreRules::from_xml(body, None)
    }

    /// The read of `bucket`'s rules: `GET /<bucket>?cors` (spec §8).
    pub fn read_path(bucket: &str) -> String {
        format!("/{bucket}?cors")
    }
}

/// Whether S3 would accept `name` as a bucket name (3 to 63 of `a-z 0-9 . -`,
/// starting and ending with a letter or digit): only such a bucket is read
/// from the store (spec §8); any other has no store rules.
pub(crate) fn is_s3_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    let edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
        && edge(b.first())
        && edge(b.last())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(json: &str) -> (RulesSource, Vec<String>) {
        let raw: RawRulesSource = serde_json::from_str(json).unwrap();
        let mut errors = Vec::new();
        let source = raw.compile(&mut errors);
        (source, errors.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn defaults_follow_spec_8s_table() {
        let (s, errors) = compile(r#"{"cluster": "garage"}"#);
        assert!(errors.is_empty());
        assert_eq!(
            s,
            RulesSource {
                cluster: "garage".into(),
                authority: "garage".into(),
                timeout_ms: 1_000,
                refresh_ms: 60_000,
                retry_ms: 5_000,
                max_buckets: 10_000,
                max_document_bytes: 65_536,
                max_reads_in_flight: 64,
            }
        );
        let (s, _) = compile(r#"{"cluster": "g", "refresh_seconds": 2}"#);
        assert_eq!(
            s.retry_ms, 2_000,
            "retry defaults to the smaller of 5 and refresh"
        );
    }

    #[test]
    fn every_out_of_range_setting_is_named_at_once() {
        let (_, errors) = compile(
            r#"{"cluster": "", "timeout_ms": 0, "refresh_seconds": 10, "retry_seconds": 11,
                "max_buckets": 0, "max_document_bytes": 70000, "max_reads_in_flight": 0}"#,
        );
        assert_eq!(
            errors,
            [
                "rules_source.cluster \"\": is not an Envoy cluster or host name (empty, or with whitespace or control characters)",
                "rules_source.timeout_ms 0: is out of range 1 to 60000",
                "rules_source.retry_seconds 11: is out of range 1 to 10",
                "rules_source.max_buckets 0: is out of range 1 to 10000000",
                "rules_source.max_document_bytes 70000: is out of range 1 to 65536",
                "rules_source.max_reads_in_flight 0: is out of range 1 to 10000",
            ]
        );
    }

    #[test]
    fn only_names_s3_accepts_are_read_from_the_store() {
        for ok in ["abc", "photos", "my.bucket-1", &"a".repeat(63)] {
            assert!(is_s3_bucket_name(ok), "{ok}");
        }
        for no in [
            "ab",
            "-abc",
            "abc-",
            "a_b_c",
            ".abc",
            "abc.",
            &"a".repeat(64),
            "ABC",
        ] {
            assert!(!is_s3_bucket_name(no), "{no}");
        }
    }
}
