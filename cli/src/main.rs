//! `bucket-cors`: the operator tool of the bucket-cors filter, built natively
//! from the same core the wasm filter runs.
//!
//! - `check FILE...` validates plugin configurations, and buckets' rules
//!   documents (S3/OSS XML, or the AWS CLI's JSON), with the filter's own
//!   parser and prints every error at once, and every lint (rules the filter
//!   accepts but a browser will not use as meant) as a warning;
//! - `import --bucket NAME FILE` turns OSS/S3 GetBucketCors XML or
//!   `aws s3api get-bucket-cors` JSON into a plugin configuration;
//! - `explain --config CONFIG --url URL -H 'Origin: ...'` shows, rule by rule,
//!   why a request gets the answer it gets, and that answer;
//! - `export --bucket NAME --format F CONFIG` gives a bucket's rules back in
//!   OSS or S3 GetBucketCors XML or `aws s3api get-bucket-cors` JSON.
//!
//! Exit codes: 0 success, 1 refused input (invalid configuration, import
//! error, unreadable file; lints with `check --deny-warnings`), 2 bad
//! command line.

mod check;
mod explain;
mod export;
mod import;
mod input;
mod ordered;
mod policy;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "bucket-cors",
    version,
    about = "Check, import and explain bucket-cors plugin configurations (per-bucket OSS/S3 CORS for Envoy)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate plugin configurations (JSON) and buckets' rules documents
    /// with the filter's own code; prints every error, exit code 1 on any,
    /// and every lint as a warning on standard error.
    ///
    /// A file starting with `<` is a rules document in S3 or OSS XML (what
    /// `aws s3api put-bucket-cors` or PutBucketCors sends); a JSON object
    /// with `CORSRules` at its top is one in the AWS CLI's JSON
    /// (`--cors-configuration`); anything else is a plugin configuration.
    Check {
        /// Exit with code 1 when a valid file has any lint.
        #[arg(long)]
        deny_warnings: bool,
        /// Plugin configurations or rules documents; `-` reads standard input.
        #[arg(required = true, value_name = "FILE")]
        configs: Vec<String>,
    },
    /// Turn a bucket's CORS rules (OSS or S3 GetBucketCors XML, or
    /// `aws s3api get-bucket-cors` JSON) into a plugin configuration, printed
    /// as JSON on standard output.
    ///
    /// Rules use the plugin's (OSS) field names; `ResponseVary` is OSS's value
    /// when the XML has one, else `true` (the filter's default: S3 has no such
    /// setting). The result is validated by the filter's own parser: rules it
    /// would refuse (the origin `null`, a catch-all wildcard) fail the import,
    /// every error listed, exit code 1.
    Import {
        /// The bucket the rules belong to.
        #[arg(
            long,
            value_name = "NAME",
            required_unless_present = "policy",
            conflicts_with = "policy"
        )]
        bucket: Option<String>,
        /// Write the rules as this named policy (under `policies`) instead of
        /// a bucket; buckets then name it (`"photos": "NAME"`).
        #[arg(long, value_name = "NAME")]
        policy: Option<String>,
        /// Add the bucket (or policy) to this plugin configuration and print
        /// the whole of it (its other fields and entries are kept as they are, in order).
        #[arg(long, value_name = "CONFIG")]
        merge: Option<String>,
        /// With --merge: replace the bucket (or policy) if the configuration already has it.
        #[arg(long, requires = "merge")]
        replace: bool,
        /// The XML or JSON document; `-` reads standard input.
        #[arg(value_name = "FILE")]
        file: String,
    },
    /// Explain the filter's decision for one request: the bucket, every rule
    /// and the condition it fails, the answer and the counter.
    Explain {
        /// The plugin configuration (JSON); `-` reads standard input.
        #[arg(long, short = 'c', value_name = "CONFIG")]
        config: String,
        /// The request method, as sent (compared case-sensitively, like the filter does).
        #[arg(long, short = 'X', value_name = "METHOD", default_value = "GET")]
        method: String,
        /// `http://host[:port]/path[?query]` (host and path are what the filter
        /// reads), or just `/path`. A `Host:` header overrides the host.
        #[arg(long, value_name = "URL")]
        url: String,
        /// A request header, `Name: value` (repeatable; names are lower-cased).
        #[arg(long = "header", short = 'H', value_name = "HEADER")]
        headers: Vec<String>,
        /// A header of the upstream's response, `Name: value` (repeatable): shows
        /// what the filter replaces, removes and merges on a forwarded request.
        #[arg(long = "response-header", value_name = "HEADER")]
        response_headers: Vec<String>,
    },
    /// Print a bucket's CORS configuration as the object stores give it back:
    /// OSS or S3 GetBucketCors XML, or `aws s3api get-bucket-cors` JSON.
    /// `import` of the output gives back the same configuration, except what
    /// the format cannot hold (a warning names it): OSS has no rule `ID`, S3
    /// no `ResponseVary`, and no store has `Mode`.
    Export {
        /// The bucket; its rules under `buckets`, else `default`'s.
        #[arg(long, value_name = "NAME")]
        bucket: String,
        #[arg(long, value_enum)]
        format: export::Format,
        /// The plugin configuration (JSON); `-` reads standard input.
        #[arg(value_name = "CONFIG")]
        config: String,
    },
}

/// What a command prints and whether it failed (exit code 1).
#[derive(Debug, Default)]
pub struct Report {
    pub out: String,
    pub err: String,
    pub failed: bool,
}

impl Report {
    pub fn ok(out: String) -> Self {
        Report {
            out,
            ..Report::default()
        }
    }

    pub fn fail(err: impl Into<String>) -> Self {
        Report {
            err: err.into(),
            failed: true,
            ..Report::default()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let report = match cli.command {
        Command::Check {
            deny_warnings,
            configs,
        } => check::run(&configs, deny_warnings),
        Command::Import {
            bucket,
            policy,
            merge,
            replace,
            file,
        } => {
            let target = match (&bucket, &policy) {
                (_, Some(p)) => import::Target::Policy(p),
                (Some(b), None) => import::Target::Bucket(b),
                // clap requires one of them.
                (None, None) => return ExitCode::from(2),
            };
            import::run(target, &file, merge.as_deref(), replace)
        }
        Command::Explain {
            config,
            method,
            url,
            headers,
            response_headers,
        } => explain::run(&config, &method, &url, &headers, &response_headers),
        Command::Export {
            bucket,
            format,
            config,
        } => export::run(&config, &bucket, format),
    };
    // A closed pipe (`| head`) is not worth a panic.
    let _ = std::io::stdout().write_all(report.out.as_bytes());
    let mut stderr = std::io::stderr();
    let _ = stderr.write_all(report.err.as_bytes());
    if !report.err.is_empty() && !report.err.ends_with('\n') {
        let _ = stderr.write_all(b"\n");
    }
    if report.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
