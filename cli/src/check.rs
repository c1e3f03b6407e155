//! `bucket-cors check`: the filter's own configuration parser on each file.
//!
//! A valid file prints `NAME: valid (...)` on stdout and its lints, one
//! `warning: NAME: ...` line each, on stderr; an invalid one prints
//! `NAME: invalid plugin configuration, N errors:` and then every error, one
//! per line, on stderr (the same text the filter logs at `on_configure`).
//! Lints fail the run only with `--deny-warnings`.

use crate::policy;
use crate::{input, Report};
use bucket_cors_core::{ConfigErrors, Lint, Policy};
use std::fmt::Write;

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
        match policy::compile(&bytes) {
            Ok(policy) => {
                let lints = policy.lints();
                let _ = writeln!(
                    report.out,
                    "{name}: valid ({}{})",
                    summary(&policy),
                    match lints.len() {
                        0 => String::new(),
                        1 => ", 1 warning".to_string(),
                        n => format!(", {n} warnings"),
                    }
                );
                report.err.push_str(&describe_lints(name, &lints));
                report.failed |= deny_warnings && !lints.is_empty();
            }
            Err(errors) => {
                report.err.push_str(&describe_errors(name, &errors));
                report.failed = true;
            }
        }
    }
    report
}

fn summary(policy: &Policy) -> String {
    match policy.bucket_count() {
        1 => "1 bucket".to_string(),
        n => format!("{n} buckets"),
    }
}

/// `NAME: invalid plugin configuration, N errors:` and one indented line per error.
pub fn describe_errors(name: &str, errors: &ConfigErrors) -> String {
    let n = errors.len();
    let mut out = format!(
        "{name}: invalid plugin configuration, {n} error{}:\n",
        if n == 1 { "" } else { "s" }
    );
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
