//! `bucket-cors check`: the filter's own parser on each file.
//!
//! A file is a plugin configuration (JSON), or a bucket's rules document
//! (docs/spec.md §7), what a tenant is about to PUT: S3 or OSS XML (it
//! starts with `<`), or the AWS CLI's JSON (`{"CORSRules": [...]}`).
//! A valid file prints `NAME: valid (...)` (`NAME: valid rules document
//! (...)`; with `rules_source`, docs/spec.md §8, also where other buckets'
//! rules are read from) on stdout and its lints, one `warning: NAME: ...` line each, on
//! stderr; an invalid one prints `NAME: invalid plugin configuration, N
//! errors:` (`invalid rules document`) and then every error, one per line,
//! on stderr (the same text the filter logs). Lints fail the run only with
//! `--deny-warnings`.

use crate::input::{self, Kind};
use crate::policy;
use crate::Report;
use bucket_cors_core::{ConfigErrors, Lint, StoreRules};
use std::fmt::Write;

/// How the tool names what it refuses.
const CONFIG: &str = "plugin configuration";
const DOCUMENT: &str = "rules document";

/// A valid file: what it holds, and its lints as printed.
struct Valid {
    summary: String,
    lints: String,
    warnings: usize,
}

impl Valid {
    fn document(name: &str, rules: &StoreRules) -> Valid {
        let lints = rules.lints();
        Valid {
            summary: count(rules.rule_count(), "rule"),
            lints: describe_lints(name, &lints),
            warnings: lints.len(),
        }
    }
}

pub fn run(paths: &[String], deny_warnings: bool) -> Report {
    let mut report = Report::default();
    // `-` can be read once only.
    if paths.iter().filter(|p| p.as_str() == "-").count() > 1 {
        return Report::fail("`-` (standard input) can be given once only");
    }
    for path in paths {
        let name = input::display_name(path);
        let bytes = match input::read(path) {
            Ok(b) => b,
            Err(e) => {
                let _ = writeln!(report.err, "{e}");
                report.failed = true;
                continue;
            }
        };
        let kind = input::kind(&bytes);
        let checked = match kind {
            Kind::Config => policy::compile(&bytes).map(|policy| {
                let lints = policy.lints();
                let mut summary = count(policy.bucket_count(), "bucket");
                if let Some(source) = policy.rules_source() {
                    let _ = write!(
                        summary,
                        "; every other bucket's rules read from cluster {:?}, refreshed every {} s",
                        source.cluster,
                        source.refresh_ms / 1_000
                    );
                }
                Valid {
                    summary,
                    lints: describe_lints(name, &lints),
                    warnings: lints.len(),
                }
            }),
            Kind::XmlDocument => policy::compile_xml(&bytes).map(|r| Valid::document(name, &r)),
            Kind::JsonDocument => {
                policy::compile_s3_json(&bytes).map(|r| Valid::document(name, &r))
            }
        };
        let what = match kind {
            Kind::Config => CONFIG,
            Kind::XmlDocument | Kind::JsonDocument => DOCUMENT,
        };
        match checked {
            Ok(valid) => {
                let _ = writeln!(
                    report.out,
                    "{name}: valid {}({}{})",
                    match kind {
                        Kind::Config => String::new(),
                        _ => format!("{what} "),
                    },
                    valid.summary,
                    match valid.warnings {
                        0 => String::new(),
                        n => format!(", {}", count(n, "warning")),
                    }
                );
                report.err.push_str(&valid.lints);
                report.failed |= deny_warnings && valid.warnings > 0;
            }
            Err(errors) => {
                report.err.push_str(&describe(name, what, &errors));
                report.failed = true;
            }
        }
    }
    report
}

/// `1 rule`, `2 rules`.
fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// `NAME: invalid plugin configuration, N errors:` and one indented line per error.
pub fn describe_errors(name: &str, errors: &ConfigErrors) -> String {
    describe(name, CONFIG, errors)
}

/// `NAME: invalid WHAT, N errors:` and one indented line per error.
fn describe(name: &str, what: &str, errors: &ConfigErrors) -> String {
    let n = errors.len();
    let mut out = format!("{name}: invalid {what}, {}:\n", count(n, "error"));
    for e in errors.iter() {
        let _ = writeln!(out, "  {e}");
    }
    out
}

/// One `warning: NAME: ...` line per lint.
pub fn describe_lints(name: &str, lints: &[Lint<'_>]) -> String {
    let mut out = String::new();
    for lint in lints {
        let _ = writeln!(out, "warning: {name}: {lint}");
    }
    out
}
