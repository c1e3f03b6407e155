//! `bucket-cors import`: a bucket's CORS rules as the object stores give
//! them, turned into a plugin configuration.
//!
//! Accepted documents:
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
use quick_xml::events::Event;
use quick_xml::Reader;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// One bucket's CORS configuration in the plugin's (OSS) spelling.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Cors {
    #[serde(rename = "CORSRule")]
    pub rules: Vec<Rule>,
    #[serde(rename = "ResponseVary")]
    pub response_vary: bool,
}

/// One rule; read back from a plugin configuration by `export` (the S3
/// plural spellings are the plugin's aliases).
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
    let cors = parse(&input::read(file)?).map_err(|errors| {
        let mut out = format!("{name}: cannot import:\n");
        for e in errors {
            let _ = writeln!(out, "  {e}");
        }
        out
    })?;
    let mut warnings = String::new();
    if !cors.response_vary {
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
    let cors = to_ordered(&cors)?;
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

/// The imported bucket as an order-keeping JSON value (field order as in
/// [`Rule`]: ID, AllowedOrigin, AllowedMethod, ...).
fn to_ordered(cors: &Cors) -> Result<Json, String> {
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

/// Parses an XML or JSON document (by its first significant character).
pub fn parse(bytes: &[u8]) -> Result<Cors, Vec<String>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| vec![format!("not UTF-8 text: {e}")])?
        .trim_start_matches('\u{feff}');
    match text.trim_start().chars().next() {
        Some('<') => from_xml(text),
        Some('{') => from_s3_json(text),
        _ => Err(vec![
            "neither an XML <CORSConfiguration> (GetBucketCors) nor \
             `aws s3api get-bucket-cors` JSON ({\"CORSRules\": [...]})"
                .into(),
        ]),
    }
}

// ---------------------------------------------------------------- S3 JSON

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct S3Cors {
    #[serde(rename = "CORSRules")]
    rules: Vec<S3Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct S3Rule {
    #[serde(rename = "ID", default)]
    id: Option<String>,
    #[serde(rename = "AllowedOrigins")]
    allowed_origins: Vec<String>,
    #[serde(rename = "AllowedMethods")]
    allowed_methods: Vec<String>,
    #[serde(rename = "AllowedHeaders", default)]
    allowed_headers: Vec<String>,
    #[serde(rename = "ExposeHeaders", default)]
    expose_headers: Vec<String>,
    #[serde(rename = "MaxAgeSeconds", default)]
    max_age_seconds: Option<i64>,
}

fn from_s3_json(text: &str) -> Result<Cors, Vec<String>> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let s3: S3Cors = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        vec![if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        }]
    })?;
    de.end()
        .map_err(|e| vec![format!("trailing characters after the document: {e}")])?;
    Ok(Cors {
        rules: s3
            .rules
            .into_iter()
            .map(|r| Rule {
                id: r.id,
                allowed_origin: r.allowed_origins,
                allowed_method: r.allowed_methods,
                allowed_header: r.allowed_headers,
                expose_header: r.expose_headers,
                max_age_seconds: r.max_age_seconds,
            })
            .collect(),
        response_vary: true,
    })
}

// -------------------------------------------------------------------- XML

/// An XML element reduced to what CORS documents use: name, children, text.
#[derive(Debug)]
struct Element {
    name: String,
    children: Vec<Element>,
    text: String,
}

fn element_name(raw: &[u8]) -> Result<String, String> {
    std::str::from_utf8(raw)
        .map(str::to_string)
        .map_err(|_| "an element name is not UTF-8".to_string())
}

fn xml_error(reader: &Reader<&[u8]>, e: impl std::fmt::Display) -> Vec<String> {
    vec![format!(
        "XML error at byte {}: {e}",
        reader.error_position()
    )]
}

/// The document's root element. Comments, processing instructions, the XML
/// declaration and a DOCTYPE are skipped; entities other than XML's five and
/// character references are refused (nothing is ever expanded).
fn parse_tree(text: &str) -> Result<Element, Vec<String>> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut attach = |stack: &mut Vec<Element>, el: Element| -> Result<(), Vec<String>> {
        match stack.last_mut() {
            Some(parent) => parent.children.push(el),
            None if root.is_none() => root = Some(el),
            None => return Err(vec!["more than one root element".into()]),
        }
        Ok(())
    };
    loop {
        let event = reader.read_event().map_err(|e| xml_error(&reader, e))?;
        let text: String = match event {
            Event::Start(e) => {
                stack.push(Element {
                    name: element_name(e.local_name().as_ref()).map_err(|e| vec![e])?,
                    children: Vec::new(),
                    text: String::new(),
                });
                continue;
            }
            Event::Empty(e) => {
                let el = Element {
                    name: element_name(e.local_name().as_ref()).map_err(|e| vec![e])?,
                    children: Vec::new(),
                    text: String::new(),
                };
                attach(&mut stack, el)?;
                continue;
            }
            Event::End(_) => {
                // The reader checks that end tags match their start tags.
                let el = stack
                    .pop()
                    .ok_or_else(|| xml_error(&reader, "unmatched end tag"))?;
                attach(&mut stack, el)?;
                continue;
            }
            Event::Text(t) => t.xml_content().map_err(|e| xml_error(&reader, e))?.into(),
            Event::CData(c) => c.decode().map_err(|e| xml_error(&reader, e))?.into(),
            Event::GeneralRef(r) => {
                match r.resolve_char_ref().map_err(|e| xml_error(&reader, e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| xml_error(&reader, e))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| xml_error(&reader, format!("unknown entity &{name};")))?
                            .to_string()
                    }
                }
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => continue,
            Event::Eof => break,
        };
        match stack.last_mut() {
            Some(el) => el.text.push_str(&text),
            None if text.trim().is_empty() => {}
            None => return Err(vec!["text outside the root element".into()]),
        }
    }
    if let Some(el) = stack.last() {
        return Err(vec![format!("<{}> is never closed", el.name)]);
    }
    root.ok_or_else(|| vec!["no root element".into()])
}

/// The trimmed text of an element that must hold text only.
fn leaf(el: &Element, at: &str) -> Result<String, String> {
    match el.children.first() {
        Some(child) => Err(format!(
            "{at}{}: holds an element <{}>, expected text",
            el.name, child.name
        )),
        None => Ok(el.text.trim().to_string()),
    }
}

fn from_xml(text: &str) -> Result<Cors, Vec<String>> {
    let root = parse_tree(text)?;
    if root.name != "CORSConfiguration" {
        return Err(vec![format!(
            "the root element is <{}>, expected <CORSConfiguration> (GetBucketCors output)",
            root.name
        )]);
    }
    let mut errors = Vec::new();
    if !root.text.trim().is_empty() {
        errors.push("<CORSConfiguration> holds text outside its elements".to_string());
    }
    let mut rules = Vec::new();
    let mut response_vary: Option<bool> = None;
    for child in &root.children {
        match child.name.as_str() {
            "CORSRule" => rules.push(rule_from_xml(rules.len(), child, &mut errors)),
            "ResponseVary" => match leaf(child, "") {
                Err(e) => errors.push(e),
                Ok(_) if response_vary.is_some() => {
                    errors.push("ResponseVary: given more than once".into())
                }
                Ok(v) if v.eq_ignore_ascii_case("true") => response_vary = Some(true),
                Ok(v) if v.eq_ignore_ascii_case("false") => response_vary = Some(false),
                Ok(v) => errors.push(format!("ResponseVary {v:?}: expected true or false")),
            },
            other => errors.push(format!(
                "<CORSConfiguration> has an unknown element <{other}> (expected CORSRule, ResponseVary)"
            )),
        }
    }
    if errors.is_empty() {
        Ok(Cors {
            rules,
            response_vary: response_vary.unwrap_or(true),
        })
    } else {
        Err(errors)
    }
}

fn rule_from_xml(index: usize, el: &Element, errors: &mut Vec<String>) -> Rule {
    let at = format!("rule {index} ");
    let mut rule = Rule::default();
    if !el.text.trim().is_empty() {
        errors.push(format!("{at}<CORSRule> holds text outside its elements"));
    }
    for child in &el.children {
        let value = match leaf(child, &at) {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match child.name.as_str() {
            "AllowedOrigin" => rule.allowed_origin.push(value),
            "AllowedMethod" => rule.allowed_method.push(value),
            "AllowedHeader" => rule.allowed_header.push(value),
            "ExposeHeader" => rule.expose_header.push(value),
            "ID" if rule.id.is_some() => errors.push(format!("{at}ID: given more than once")),
            "ID" => rule.id = Some(value),
            "MaxAgeSeconds" if rule.max_age_seconds.is_some() => {
                errors.push(format!("{at}MaxAgeSeconds: given more than once"))
            }
            "MaxAgeSeconds" => match value.parse::<i64>() {
                Ok(n) => rule.max_age_seconds = Some(n),
                Err(_) => errors.push(format!("{at}MaxAgeSeconds {value:?}: not an integer")),
            },
            other => errors.push(format!(
                "{at}<CORSRule> has an unknown element <{other}> (expected ID, AllowedOrigin, \
                 AllowedMethod, AllowedHeader, ExposeHeader, MaxAgeSeconds)"
            )),
        }
    }
    rule
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_with_namespace_entities_and_cdata() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- comment -->
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>a&amp;b&#x21;</ID>
    <AllowedOrigin> https://a.com </AllowedOrigin>
    <AllowedMethod><![CDATA[GET]]></AllowedMethod>
    <MaxAgeSeconds>10</MaxAgeSeconds>
  </CORSRule>
  <ResponseVary>false</ResponseVary>
</CORSConfiguration>"#;
        let cors = parse(xml.as_bytes()).unwrap();
        assert_eq!(
            cors,
            Cors {
                rules: vec![Rule {
                    id: Some("a&b!".into()),
                    allowed_origin: vec!["https://a.com".into()],
                    allowed_method: vec!["GET".into()],
                    max_age_seconds: Some(10),
                    ..Rule::default()
                }],
                response_vary: false,
            }
        );
    }

    #[test]
    fn xml_problems_are_all_reported() {
        let xml = "<CORSConfiguration><CORSRule><AllowedOrign>x</AllowedOrign>\
                   <MaxAgeSeconds>ten</MaxAgeSeconds></CORSRule><ResponseVary>maybe</ResponseVary>\
                   </CORSConfiguration>";
        let errors = parse(xml.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("unknown element <AllowedOrign>"));
        assert!(errors[1].contains("MaxAgeSeconds \"ten\": not an integer"));
        assert!(errors[2].contains("ResponseVary \"maybe\""));
    }

    #[test]
    fn malformed_and_foreign_documents_are_refused() {
        assert!(parse(b"<CORSConfiguration><CORSRule></CORSConfiguration>").is_err());
        assert!(parse(b"<CORSConfiguration><CORSRule>").is_err());
        assert!(parse(b"<X/>").unwrap_err()[0].contains("expected <CORSConfiguration>"));
        assert!(parse(b"<CORSConfiguration>&ext;</CORSConfiguration>").is_err());
        assert!(parse(b"<CORSConfiguration/><CORSConfiguration/>").is_err());
        assert!(parse(b"[]").is_err());
        let e = parse(
            br#"{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "Bad": 1}]}"#,
        )
        .unwrap_err();
        assert!(e[0].starts_with("CORSRules[0].Bad: unknown field"), "{e:?}");
    }
}
