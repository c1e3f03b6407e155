//! `bucket-cors import`: a bucket's CORS rules as the object stores give
//! them, turned into a plugin configuration.
//!
//! Accepted documents, read by the core (docs/spec.md §7):
//! - GetBucketCors XML, OSS or S3: `<CORSConfiguration>` with `<CORSRule>`s
//!   (`AllowedOrigin`, `AllowedMethod`, `AllowedHeader`, `ExposeHeader`,
//!   `MaxAgeSeconds`, S3's `ID`) and OSS's `<ResponseVary>`; a namespace
//!   (S3's `xmlns`) and prefixes are ignored;
//! - `aws s3api get-bucket-cors` JSON: `{"CORSRules": [...]}`.
//!
//! Unknown elements and fields are errors, as in the plugin configuration:
//! a rule must not be dropped silently. The output uses the OSS names and
//! always states `ResponseVary`: the document's value, else `true` (the
//! filter's default; S3 has no such setting, OSS's default is `false`).
//! The result is then validated by the filter's own parser, so an imported
//! rule the filter would refuse (the origin `null`, a catch-all wildcard)
//! fails the import with the filter's message.

use crate::check::{describe_errors, describe_lints};
use crate::ordered::Json;
use crate::policy;
use crate::{input, Report};
use bucket_cors_core::{ConfigError, ConfigErrors, ErrorKind, RulesDocument};
use std::fmt::Write;

/// Where the imported rules go: a bucket's entry, or a named policy that
/// buckets then refer to.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Bucket(&'a str),
    Policy(&'a str),
}

impl Target<'_> {
    /// The configuration's field that holds the entry.
    fn section(self) -> &'static str {
        match self {
            Target::Bucket(_) => "buckets",
            Target::Policy(_) => "policies",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Target::Bucket(_) => "bucket",
            Target::Policy(_) => "policy",
        }
    }

    fn key(&self) -> &str {
        match self {
            Target::Bucket(k) | Target::Policy(k) => k,
        }
    }
}

impl std::fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.name(), self.key())
    }
}

pub fn run(target: Target<'_>, file: &str, merge: Option<&str>, replace: bool) -> Report {
    match import(target, file, merge, replace) {
        Ok(report) => report,
        Err(message) => Report::fail(message),
    }
}

fn import(
    target: Target<'_>,
    file: &str,
    merge: Option<&str>,
    replace: bool,
) -> Result<Report, String> {
    if merge == Some("-") && file == "-" {
        return Err("`-` (standard input) can be given once only".into());
    }
    let name = input::display_name(file);
    let document = parse(&input::read(file)?).map_err(|errors| {
        let mut out = format!("{name}: cannot import:\n");
        for e in errors.iter() {
            let _ = writeln!(out, "  {e}");
        }
        out
    })?;
    let mut warnings = String::new();
    if !document.response_vary() {
        let _ = writeln!(
            warnings,
            "warning: {name}: ResponseVary is false: responses of {} will not carry \
             `Vary: Origin`, so a browser or CDN cache may serve one origin's CORS headers to another",
            match target {
                Target::Bucket(b) => format!("bucket {b:?}"),
                Target::Policy(p) => format!("the buckets that name policy {p:?}"),
            }
        );
    }
    let cors = to_ordered(&document)?;
    let config = match merge {
        None => Json::Object(vec![(
            target.section().into(),
            Json::Object(vec![(target.key().into(), cors)]),
        )]),
        Some(path) => merge_into(path, target, cors, replace)?,
    };
    let text = config.to_pretty();
    let policy = match policy::compile(text.as_bytes()) {
        Ok(policy) => policy,
        Err(errors) => {
            let label = match merge {
                None => format!("{name} imported as {target}"),
                Some(path) => format!(
                    "{} with {name} imported as {target}",
                    input::display_name(path)
                ),
            };
            return Err(describe_errors(&label, &errors));
        }
    };
    warnings.push_str(&describe_lints(name, &policy.lints()));
    Ok(Report {
        out: text,
        err: warnings,
        failed: false,
    })
}

/// The imported bucket as an order-keeping JSON value (field order as the
/// core writes a rule: ID, AllowedOrigin, AllowedMethod, ...).
fn to_ordered(cors: &RulesDocument) -> Result<Json, String> {
    let text = serde_json::to_string(cors).map_err(|e| format!("cannot render the rules: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("cannot re-read the rendered rules: {e}"))
}

/// The plugin configuration at `path` with `bucket` added under `buckets`.
fn merge_into(path: &str, target: Target<'_>, cors: Json, replace: bool) -> Result<Json, String> {
    let name = input::display_name(path);
    let mut config: Json = serde_json::from_slice(&input::read(path)?)
        .map_err(|e| format!("{name}: not a JSON document: {e}"))?;
    let Json::Object(top) = &mut config else {
        return Err(format!(
            "{name}: not a plugin configuration (a JSON object)"
        ));
    };
    let section = target.section();
    let entries = match top.iter().position(|(k, _)| k == section) {
        Some(i) => &mut top[i].1,
        None => {
            let i = top.len();
            top.push((section.into(), Json::Object(Vec::new())));
            &mut top[i].1
        }
    };
    let Json::Object(entries) = entries else {
        return Err(format!("{name}: `{section}` is not a JSON object"));
    };
    match entries.iter().position(|(k, _)| k == target.key()) {
        Some(i) if replace => entries[i].1 = cors,
        Some(_) => {
            return Err(format!(
                "{name} already has {target}; --replace replaces its rules"
            ))
        }
        None => entries.push((target.key().into(), cors)),
    }
    Ok(config)
}

/// Reads an XML or JSON document (by its first significant character).
pub fn parse(bytes: &[u8]) -> Result<RulesDocument, ConfigErrors> {
    match input::first_significant(bytes) {
        Some(b'<') => RulesDocument::from_xml(bytes),
        Some(b'{') => RulesDocument::from_s3_json(bytes),
        _ => Err(ConfigErrors(vec![ConfigError {
            at: String::new(),
            kind: ErrorKind::Shape(
                "neither an XML <CORSConfiguration> (GetBucketCors) nor \
                 `aws s3api get-bucket-cors` JSON ({\"CORSRules\": [...]})"
                    .into(),
            ),
        }])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documents themselves are the core's table tests (docs/spec.md §7);
    /// here, which reader each input goes to.
    #[test]
    fn each_document_goes_to_its_reader() {
        let xml = "\u{feff}\n <CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>\
                   <AllowedMethod>GET</AllowedMethod></CORSRule>\
                   <ResponseVary>false</ResponseVary></CORSConfiguration>";
        assert!(!parse(xml.as_bytes()).unwrap().response_vary());
        let json = r#" {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}"#;
        assert!(parse(json.as_bytes()).unwrap().response_vary());
        // The S3 names only: `AllowedMethod` is the plugin's (OSS) spelling.
        let oss_in_json = r#"{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethod": ["GET"]}]}"#;
        let e = parse(oss_in_json.as_bytes()).unwrap_err().to_string();
        assert!(e.starts_with("rule 0 AllowedMethod: unknown field"), "{e}");
        for neither in ["AllowedOrigin=*", "[]", "", "  "] {
            let e = parse(neither.as_bytes()).unwrap_err().to_string();
            assert!(e.starts_with("neither an XML <CORSConfiguration>"), "{e}");
        }
    }
}
