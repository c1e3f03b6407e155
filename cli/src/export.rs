//! `bucket-cors export`: one bucket's CORS configuration given back in the
//! shapes the stores return, so that rules can move back to a store:
//!
//! - `oss-xml`: OSS GetBucketCors, `<CORSConfiguration>` with `<CORSRule>`s
//!   and `<ResponseVary>`; OSS rules have no `ID`;
//! - `s3-xml`: S3 GetBucketCors, in S3's namespace, with `<ID>`; S3 has no
//!   `ResponseVary` (it always varies);
//! - `s3-json`: `aws s3api get-bucket-cors`, `{"CORSRules": [...]}`.
//!
//! `import` reads each of them back into the same configuration; what a
//! format cannot hold (OSS's missing `ID`, S3's missing `ResponseVary`, the
//! plugin's `Mode`) is named in a warning on standard error, never dropped
//! silently.

use crate::check::describe_errors;
use crate::ordered::Json;
use crate::policy;
use crate::{input, Report};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write;

/// The document shapes `export` writes (and `import` reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    OssXml,
    S3Xml,
    S3Json,
}

/// OSS accepts at most this many rules per bucket (the plugin and S3: 100).
const OSS_MAX_RULES: usize = 10;

/// One bucket's CORS configuration in the plugin's (OSS) spelling.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Cors {
    #[serde(rename = "CORSRule")]
    pub rules: Vec<Rule>,
    #[serde(rename = "ResponseVary")]
    pub response_vary: bool,
}

/// One rule, read back from a plugin configuration the filter accepted (the
/// S3 plural spellings are the plugin's aliases).
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Rule {
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "AllowedOrigin", alias = "AllowedOrigins")]
    pub allowed_origin: Vec<String>,
    #[serde(rename = "AllowedMethod", alias = "AllowedMethods")]
    pub allowed_method: Vec<String>,
    #[serde(
        rename = "AllowedHeader",
        alias = "AllowedHeaders",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowed_header: Vec<String>,
    #[serde(
        rename = "ExposeHeader",
        alias = "ExposeHeaders",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub expose_header: Vec<String>,
    #[serde(
        rename = "MaxAgeSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_age_seconds: Option<i64>,
}

/// The places a bucket's rules can come from, as the plugin reads them.
#[derive(Deserialize)]
struct Plugin {
    #[serde(default)]
    policies: HashMap<String, PluginCors>,
    #[serde(default)]
    buckets: HashMap<String, Entry>,
    #[serde(default)]
    default: Option<Entry>,
}

/// A bucket's (or `default`'s) value: inline rules, or a policy's name.
#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Named(String),
    Inline(PluginCors),
}

#[derive(Deserialize)]
struct PluginCors {
    #[serde(rename = "CORSRule", alias = "CORSRules")]
    rules: Vec<Rule>,
    #[serde(rename = "ResponseVary", default = "yes")]
    response_vary: bool,
    #[serde(rename = "Mode", default)]
    mode: Option<String>,
}

fn yes() -> bool {
    true
}

pub fn run(config: &str, bucket: &str, format: Format) -> Report {
    match export(config, bucket, format) {
        Ok(report) => report,
        Err(message) => Report::fail(message),
    }
}

fn export(config: &str, bucket: &str, format: Format) -> Result<Report, String> {
    let name = input::display_name(config);
    let bytes = input::read(config)?;
    // What the filter would refuse is not exported.
    policy::compile(&bytes).map_err(|e| describe_errors(name, &e))?;
    let mut plugin: Plugin = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{name}: cannot read the configuration back: {e}"))?;
    let mut warnings = String::new();
    let mut policies = plugin.policies;
    // The filter accepted the configuration, so a named policy exists.
    let mut resolve = |entry: Entry| match entry {
        Entry::Inline(cors) => Ok(cors),
        Entry::Named(policy) => policies
            .remove(&policy)
            .ok_or_else(|| format!("{name}: no policy {policy:?}")),
    };
    let bucket_entry = plugin
        .buckets
        .remove(bucket)
        .map(&mut resolve)
        .transpose()?;
    let default = match bucket_entry {
        Some(_) => None,
        None => plugin.default.map(&mut resolve).transpose()?,
    };
    let cors = match (bucket_entry, default) {
        (Some(cors), _) => cors,
        (None, Some(cors)) => {
            let _ = writeln!(
                warnings,
                "note: {name}: bucket {bucket:?} is not listed; exporting `default`, whose rules it gets"
            );
            cors
        }
        (None, None) => {
            return Err(format!(
                "{name}: bucket {bucket:?} has no CORS configuration (not under `buckets`, and no \
                 `default`); a store would answer NoSuchCORSConfiguration"
            ))
        }
    };
    if cors.mode.as_deref() == Some("report") {
        let _ = writeln!(
            warnings,
            "warning: {name}: Mode \"report\" is not exported: a store enforces its rules"
        );
    }
    let cors = Cors {
        rules: cors.rules,
        response_vary: cors.response_vary,
    };
    warnings.push_str(&lost(name, &cors, format));
    Ok(Report {
        out: render(&cors, format)?,
        err: warnings,
        failed: false,
    })
}

/// Warnings for what `format` cannot hold.
fn lost(name: &str, cors: &Cors, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::OssXml => {
            let ids = cors.rules.iter().filter(|r| r.id.is_some()).count();
            if ids > 0 {
                let _ = writeln!(
                    out,
                    "warning: {name}: OSS rules have no ID; {ids} rule ID(s) are not exported"
                );
            }
            if cors.rules.len() > OSS_MAX_RULES {
                let _ = writeln!(
                    out,
                    "warning: {name}: {} rules; OSS accepts at most {OSS_MAX_RULES} per bucket",
                    cors.rules.len()
                );
            }
        }
        Format::S3Xml | Format::S3Json if !cors.response_vary => {
            let _ = writeln!(
                out,
                "warning: {name}: ResponseVary false is not exported: S3 has no such setting \
                 (it adds Vary to CORS responses), and import reads it back as true"
            );
        }
        Format::S3Xml | Format::S3Json => {}
    }
    out
}

/// The document for `cors` in `format`.
pub fn render(cors: &Cors, format: Format) -> Result<String, String> {
    match format {
        Format::OssXml => xml(cors, false),
        Format::S3Xml => xml(cors, true),
        Format::S3Json => Ok(s3_json(cors)),
    }
}

fn xml(cors: &Cors, s3: bool) -> Result<String, String> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(if s3 {
        "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
    } else {
        "<CORSConfiguration>\n"
    });
    for (i, rule) in cors.rules.iter().enumerate() {
        out.push_str("  <CORSRule>\n");
        if let (true, Some(id)) = (s3, &rule.id) {
            element(&mut out, "ID", id).map_err(|e| format!("rule {i} ID {id:?}: {e}"))?;
        }
        for (tag, values) in [
            ("AllowedOrigin", &rule.allowed_origin),
            ("AllowedMethod", &rule.allowed_method),
            ("AllowedHeader", &rule.allowed_header),
            ("ExposeHeader", &rule.expose_header),
        ] {
            for v in values {
                element(&mut out, tag, v).map_err(|e| format!("rule {i} {tag} {v:?}: {e}"))?;
            }
        }
        if let Some(age) = rule.max_age_seconds {
            element(&mut out, "MaxAgeSeconds", &age.to_string())?;
        }
        out.push_str("  </CORSRule>\n");
    }
    if !s3 {
        let _ = writeln!(out, "  <ResponseVary>{}</ResponseVary>", cors.response_vary);
    }
    out.push_str("</CORSConfiguration>\n");
    Ok(out)
}

/// `    <tag>text</tag>`, escaped; refused when XML cannot carry the text as
/// it is (a reader trims it, and XML 1.0 has no way to write most control
/// characters).
fn element(out: &mut String, tag: &str, text: &str) -> Result<(), String> {
    if text.trim() != text {
        return Err("starts or ends with whitespace, which XML readers trim".into());
    }
    let _ = write!(out, "    <{tag}>");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A raw CR would be read back as LF.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => {
                return Err(format!("holds {c:?}, which XML 1.0 cannot carry"))
            }
            c => out.push(c),
        }
    }
    let _ = writeln!(out, "</{tag}>");
    Ok(())
}

/// `aws s3api get-bucket-cors` output: S3's plural names, empty lists and
/// unset fields left out, four-space indent as the AWS CLI prints.
fn s3_json(cors: &Cors) -> String {
    let strings = |v: &[String]| Json::Array(v.iter().cloned().map(Json::String).collect());
    let rules = cors
        .rules
        .iter()
        .map(|r| {
            let mut members = Vec::new();
            if let Some(id) = &r.id {
                members.push(("ID".to_string(), Json::String(id.clone())));
            }
            for (key, values) in [
                ("AllowedHeaders", &r.allowed_header),
                ("AllowedMethods", &r.allowed_method),
                ("AllowedOrigins", &r.allowed_origin),
                ("ExposeHeaders", &r.expose_header),
            ] {
                if !values.is_empty() {
                    members.push((key.to_string(), strings(values)));
                }
            }
            if let Some(age) = r.max_age_seconds {
                members.push(("MaxAgeSeconds".to_string(), Json::Number(age.into())));
            }
            Json::Object(members)
        })
        .collect();
    Json::Object(vec![("CORSRules".to_string(), Json::Array(rules))]).to_pretty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import;
    use proptest::prelude::*;

    fn token(star: bool) -> impl Strategy<Value = String> {
        let base = "[a-z0-9!#$%&'+.^_`|~-]{1,6}";
        if star {
            prop_oneof![
                base.prop_map(|s| s),
                (base, base).prop_map(|(a, b)| format!("{a}*{b}")),
                Just("*".to_string()),
            ]
            .boxed()
        } else {
            base.prop_map(|s| s).boxed()
        }
    }

    fn origin() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_string()),
            "[a-z][a-z0-9-]{0,6}".prop_map(|l| format!("https://{l}.example.com")),
            "[a-z][a-z0-9-]{0,6}".prop_map(|l| format!("https://*.{l}.example.com")),
            (1u16..=65535).prop_map(|p| format!("http://localhost:{p}")),
            Just("http*://www.example.org".to_string()),
            Just("http://[::1]:*".to_string()),
        ]
    }

    fn rule() -> impl Strategy<Value = Rule> {
        (
            // IDs XML can carry as they are: no whitespace at either end.
            proptest::option::of("[!-~é<&>]([ -~é\t]{0,10}[!-~])?"),
            proptest::collection::vec(origin(), 1..4),
            proptest::sample::subsequence(vec!["GET", "PUT", "POST", "DELETE", "HEAD"], 1..=5)
                .prop_shuffle(),
            proptest::collection::vec(token(true), 0..4),
            proptest::collection::vec(token(false), 0..3),
            proptest::option::of(0i64..=2_147_483_647),
        )
            .prop_map(|(id, origins, methods, headers, expose, max_age)| Rule {
                id,
                allowed_origin: origins,
                allowed_method: methods.into_iter().map(str::to_string).collect(),
                allowed_header: headers,
                expose_header: expose,
                max_age_seconds: max_age,
            })
    }

    fn cors() -> impl Strategy<Value = Cors> {
        (proptest::collection::vec(rule(), 1..5), any::<bool>()).prop_map(
            |(rules, response_vary)| Cors {
                rules,
                response_vary,
            },
        )
    }

    /// What each format keeps: OSS drops IDs, S3 has no `ResponseVary` (read back as true).
    fn kept(cors: &Cors, format: Format) -> Cors {
        let mut c = cors.clone();
        match format {
            Format::OssXml => c.rules.iter_mut().for_each(|r| r.id = None),
            Format::S3Xml | Format::S3Json => c.response_vary = true,
        }
        c
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// `import` of `export` gives back the configuration, in all three formats.
        #[test]
        fn import_of_export_gives_back_the_configuration(cors in cors()) {
            let plugin = serde_json::json!({"buckets": {"b": &cors}}).to_string();
            prop_assert!(policy::compile(plugin.as_bytes()).is_ok(), "generated an invalid configuration: {plugin}");
            for format in [Format::OssXml, Format::S3Xml, Format::S3Json] {
                let doc = render(&cors, format).unwrap();
                // As the core reads it back, written in the plugin's spelling.
                let back = serde_json::to_value(import::parse(doc.as_bytes()).unwrap()).unwrap();
                let want = serde_json::to_value(kept(&cors, format)).unwrap();
                prop_assert_eq!(back, want, "{:?}:\n{}", format, doc);
            }
        }
    }

    #[test]
    fn ids_xml_cannot_carry_are_refused_not_changed() {
        for id in [" padded", "tab\t", "bell\u{7}"] {
            let cors = Cors {
                rules: vec![Rule {
                    id: Some(id.into()),
                    allowed_origin: vec!["*".into()],
                    allowed_method: vec!["GET".into()],
                    ..Rule::default()
                }],
                response_vary: true,
            };
            let e = render(&cors, Format::S3Xml).unwrap_err();
            assert!(e.starts_with(&format!("rule 0 ID {id:?}: ")), "{e}");
            // JSON carries any string, and OSS XML has no ID.
            assert!(render(&cors, Format::S3Json).is_ok());
            assert!(render(&cors, Format::OssXml).is_ok());
        }
    }
}
