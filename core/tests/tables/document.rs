//! Table tests of a bucket's rules document against `docs/spec.md` §7: S3 and
//! OSS XML (and the AWS CLI's JSON) read into the plugin configuration's CORS
//! configuration; every shape error at once, naming the rule and the field;
//! documents that stop the read (size, not XML, another root, entities);
//! and the rules judged by the configuration's own validation and lints, the
//! same errors as a bucket's entry of section 1 gets.

use crate::common::*;
use bucket_cors_core::{ConfigErrors, ErrorKind, Label, RulesDocument, StoreRules};
use bucket_cors_spec::RULES_DOCUMENT_MAX_BYTES;
use serde_json::{json, Value};

/// The document as a CORS configuration of the plugin configuration.
fn read(xml: &str) -> Result<Value, ConfigErrors> {
    crate::seeds::write_document(xml.as_bytes());
    RulesDocument::from_xml(xml.as_bytes()).map(|d| serde_json::to_value(d).unwrap())
}

/// Every error of the read and compiled document, as (where, kind).
fn errors(bytes: &[u8]) -> Vec<Found> {
    crate::seeds::write_document(bytes);
    match StoreRules::from_xml(bytes, None) {
        Ok(rules) => panic!("accepted ({} rules)", rules.rule_count()),
        Err(e) => e.iter().map(|e| (e.at.clone(), e.kind.clone())).collect(),
    }
}

/// One expected error: where, and what.
type Found = (String, ErrorKind);

fn at(at: &str, kind: ErrorKind) -> Found {
    (at.to_string(), kind)
}

/// `<CORSConfiguration>` around `inner`.
fn doc(inner: &str) -> String {
    format!("<CORSConfiguration>{inner}</CORSConfiguration>")
}

/// A rule that is valid alone, with `more` elements after it.
fn rule(more: &str) -> String {
    format!("<CORSRule><AllowedOrigin>https://www.a.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>{more}</CORSRule>")
}

/// The plugin configuration's CORS configuration of `rules`.
fn cors(rules: Value, response_vary: bool) -> Value {
    json!({"CORSRule": rules, "ResponseVary": response_vary})
}

/// The rule of [`rule`] in the plugin configuration's spelling.
fn plain() -> Value {
    json!({"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]})
}

// ---------------------------------------------------------------- valid

/// Spec §7: S3 and OSS documents, and the XML around their values, read as
/// the CORS configuration of §1 they mean.
#[test]
fn documents_are_read_as_the_configuration_they_mean() {
    let cases: Vec<(&str, String, Value)> = vec![
        (
            "OSS document (GetBucketCors): ResponseVary false, no ID",
            doc("<CORSRule><AllowedOrigin>https://www.a.com</AllowedOrigin>\
                 <AllowedOrigin>https://*.b.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
                 <AllowedMethod>PUT</AllowedMethod><AllowedHeader>content-type</AllowedHeader>\
                 <AllowedHeader>x-oss-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>\
                 <ExposeHeader>x-oss-request-id</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds>\
                 </CORSRule><ResponseVary>false</ResponseVary>"),
            cors(
                json!([{
                    "AllowedOrigin": ["https://www.a.com", "https://*.b.com"],
                    "AllowedMethod": ["GET", "PUT"],
                    "AllowedHeader": ["content-type", "x-oss-*"],
                    "ExposeHeader": ["ETag", "x-oss-request-id"],
                    "MaxAgeSeconds": 600
                }]),
                false,
            ),
        ),
        (
            "S3 document: namespace, IDs, fields in any order; ResponseVary absent means true",
            r#"<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <AllowedMethod>PUT</AllowedMethod>
    <ID>uploads</ID>
    <AllowedOrigin>https://app.a.com</AllowedOrigin>
    <AllowedHeader>*</AllowedHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
    <ExposeHeader>ETag</ExposeHeader>
  </CORSRule>
  <CORSRule>
    <ID>public-read</ID>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedOrigin>*</AllowedOrigin>
  </CORSRule>
</CORSConfiguration>
"#
            .into(),
            cors(
                json!([
                    {"ID": "uploads", "AllowedOrigin": ["https://app.a.com"], "AllowedMethod": ["PUT"],
                     "AllowedHeader": ["*"], "ExposeHeader": ["ETag"], "MaxAgeSeconds": 3000},
                    {"ID": "public-read", "AllowedOrigin": ["*"], "AllowedMethod": ["GET"]}
                ]),
                true,
            ),
        ),
        (
            "namespace prefixes and attributes are ignored",
            r#"<s3:CORSConfiguration xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/" a="1"><s3:CORSRule b="2"><s3:AllowedOrigin>https://www.a.com</s3:AllowedOrigin><s3:AllowedMethod>GET</s3:AllowedMethod></s3:CORSRule></s3:CORSConfiguration>"#.into(),
            cors(json!([plain()]), true),
        ),
        (
            "entities, character references, CDATA; XML whitespace trimmed",
            doc("<CORSRule><ID> a&amp;b&#x21;&lt;&#62; </ID>\n\
                 <AllowedOrigin>\n\t https://www.a.com \r\n</AllowedOrigin>\
                 <AllowedMethod><![CDATA[GET]]></AllowedMethod></CORSRule>"),
            cors(
                json!([{"ID": "a&b!<>", "AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]),
                true,
            ),
        ),
        (
            "declaration, comments, processing instructions, a DOCTYPE and a byte-order mark are skipped",
            format!(
                "\u{feff}<?xml version=\"1.0\"?><!-- c --><!DOCTYPE CORSConfiguration>\
                 <?pi x?>{}<!-- after -->",
                doc(&format!("<!-- in -->{}<?pi?>", rule("<!-- in a rule -->")))
            ),
            cors(json!([plain()]), true),
        ),
        (
            "ResponseVary in any case",
            doc(&format!("{}<ResponseVary> FALSE </ResponseVary>", rule(""))),
            cors(json!([plain()]), false),
        ),
        (
            "empty elements: an empty ID is kept",
            doc(&rule("<ID/>")),
            cors(json!([{"ID": "", "AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"]}]), true),
        ),
    ];
    let mut c = Cases::new();
    for (name, xml, want) in &cases {
        match read(xml) {
            Ok(got) => c.check(name, "read as", &got, want),
            Err(e) => c.fail(name, format!("refused:\n{e}")),
        }
        let compiled = StoreRules::from_xml(xml.as_bytes(), None).map(|r| r.rule_count());
        let rules = want["CORSRule"].as_array().map_or(0, Vec::len);
        c.check(name, "compiled rules", &compiled, &Ok(rules));
    }
    c.finish();
}

/// Spec §7: the limit is on the document's bytes, before anything is read;
/// one at the limit is read, one byte more is refused unread.
#[test]
fn the_size_limit_is_the_spec_s() {
    let body = doc(&rule(""));
    let pad = |total: usize| format!("{body}<!--{}-->", "x".repeat(total - body.len() - 7));
    let at_limit = pad(RULES_DOCUMENT_MAX_BYTES);
    let over = pad(RULES_DOCUMENT_MAX_BYTES + 1);
    let mut c = Cases::new();
    c.check(
        "a document of exactly the limit is read",
        "rules",
        &StoreRules::from_xml(at_limit.as_bytes(), None).map(|r| r.rule_count()),
        &Ok(1),
    );
    c.check(
        "one byte over the limit is refused, with that one error",
        "errors",
        &errors(over.as_bytes()),
        &vec![at(
            "",
            ErrorKind::DocumentTooLarge(RULES_DOCUMENT_MAX_BYTES + 1),
        )],
    );
    // Refused unread: not even well-formed, the size is the one error.
    let junk = "<".repeat(RULES_DOCUMENT_MAX_BYTES + 1);
    c.check(
        "over the limit and not XML: the size is the one error",
        "errors",
        &errors(junk.as_bytes()),
        &vec![at(
            "",
            ErrorKind::DocumentTooLarge(RULES_DOCUMENT_MAX_BYTES + 1),
        )],
    );
    let json = format!(
        r#"{{"CORSRules": [{{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ID": "{}"}}]}}"#,
        "x".repeat(RULES_DOCUMENT_MAX_BYTES)
    );
    c.check(
        "the AWS CLI's JSON has the same limit",
        "error",
        &RulesDocument::from_s3_json(json.as_bytes())
            .map(|_| ())
            .map_err(|e| e.0[0].kind.clone()),
        &Err(ErrorKind::DocumentTooLarge(json.len())),
    );
    c.finish();
}

// ---------------------------------------------------------------- shape

/// Spec §7: what is not of a CORS configuration's shape, every problem at
/// once, each naming the rule (index from 0 and ID) and the field; then the
/// rules' own errors, also of rules read despite a shape error.
#[test]
fn shape_errors_are_all_reported_naming_rule_and_field() {
    let not_whole = ErrorKind::MaxAgeNotWhole;
    let cases: Vec<(&str, String, Vec<Found>)> = vec![
        (
            "an element a rule does not have, then the field it misspelled is missing",
            doc("<CORSRule><AllowedOrign>https://www.a.com</AllowedOrign><AllowedMethod>GET</AllowedMethod></CORSRule>"),
            vec![
                at("rule 0 <AllowedOrign>", ErrorKind::UnknownElement("CORSRule")),
                at("rule 0 AllowedOrigin", ErrorKind::NoOrigins),
            ],
        ),
        (
            "an element the root does not have, however deep it nests",
            doc(&format!(
                "{}<Rule>{}{}</Rule>",
                rule(""),
                "<a>".repeat(5_000),
                "</a>".repeat(5_000)
            )),
            vec![at("<Rule>", ErrorKind::UnknownElement("CORSConfiguration"))],
        ),
        (
            "the rule is named by its ID, even when the ID comes last",
            doc(&rule("<Bogus/><ID>web</ID>")),
            vec![at("rule 0 (ID \"web\") <Bogus>", ErrorKind::UnknownElement("CORSRule"))],
        ),
        (
            "an element inside a value",
            doc("<CORSRule><AllowedOrigin>https://www.a.com<b>x</b></AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"),
            vec![at("rule 0 AllowedOrigin", ErrorKind::ElementInText("b".into()))],
        ),
        (
            "text beside a rule's elements, reported once",
            doc(&rule("stray<ID>x</ID>more")),
            vec![at("rule 0 (ID \"x\")", ErrorKind::TextBesideElements)],
        ),
        (
            "text beside the root's elements",
            doc(&format!("stray{}", rule(""))),
            vec![at("<CORSConfiguration>", ErrorKind::TextBesideElements)],
        ),
        (
            "ID, MaxAgeSeconds and ResponseVary are allowed once",
            doc(&format!(
                "{}<ResponseVary>true</ResponseVary><ResponseVary>true</ResponseVary>",
                rule("<ID>a</ID><ID>b</ID><MaxAgeSeconds>x</MaxAgeSeconds><MaxAgeSeconds>5</MaxAgeSeconds>")
            )),
            vec![
                at("rule 0 (ID \"a\") ID", ErrorKind::GivenTwice),
                at("rule 0 (ID \"a\") MaxAgeSeconds \"x\"", not_whole.clone()),
                at("rule 0 (ID \"a\") MaxAgeSeconds", ErrorKind::GivenTwice),
                at("ResponseVary", ErrorKind::GivenTwice),
            ],
        ),
        (
            "ResponseVary other than true or false",
            doc(&format!("{}<ResponseVary>yes</ResponseVary>", rule(""))),
            vec![at("ResponseVary \"yes\"", ErrorKind::NotBool)],
        ),
        (
            "MaxAgeSeconds that is not an integer, or beyond any",
            doc(&format!(
                "{}{}{}{}",
                rule("<MaxAgeSeconds>ten</MaxAgeSeconds>"),
                rule("<MaxAgeSeconds>1.5</MaxAgeSeconds>"),
                rule("<MaxAgeSeconds/>"),
                rule("<MaxAgeSeconds>99999999999999999999</MaxAgeSeconds>")
            )),
            vec![
                at("rule 0 MaxAgeSeconds \"ten\"", not_whole.clone()),
                at("rule 1 MaxAgeSeconds \"1.5\"", not_whole.clone()),
                at("rule 2 MaxAgeSeconds \"\"", not_whole),
                at("rule 3 MaxAgeSeconds \"99999999999999999999\"", ErrorKind::MaxAge),
            ],
        ),
        (
            "several rules, shape errors first, then each rule's own",
            doc(&format!(
                "{}<CORSRule><ID>web</ID><AllowedOrigin>null</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod><Extra/></CORSRule><CORSRule/>",
                rule("")
            )),
            vec![
                at("rule 1 (ID \"web\") <Extra>", ErrorKind::UnknownElement("CORSRule")),
                at(
                    "rule 1 (ID \"web\") AllowedOrigin[0] \"null\"",
                    ErrorKind::Origin(bucket_cors_core::OriginError::Null),
                ),
                at("rule 1 (ID \"web\") AllowedMethod[0] \"PATCH\"", ErrorKind::Method),
                at("rule 2 AllowedOrigin", ErrorKind::NoOrigins),
                at("rule 2 AllowedMethod", ErrorKind::NoMethods),
            ],
        ),
        (
            "no rule",
            "<CORSConfiguration/>".into(),
            vec![at("CORSRule", ErrorKind::RuleCount(0))],
        ),
    ];
    let mut c = Cases::new();
    for (name, xml, want) in &cases {
        c.check(name, "errors", &errors(xml.as_bytes()), want);
    }
    c.finish();
}

/// Spec §7: what stops the read, reported alone: not UTF-8, not
/// well-formed (with the byte), another root, a second root, text outside
/// it, and any entity but XML's five (nothing fetched, nothing expanded).
#[test]
fn documents_that_are_not_a_cors_configuration_stop_at_one_error() {
    let laughs = format!(
        "<!DOCTYPE CORSConfiguration [<!ENTITY a \"{}\">{}]>{}",
        "ha".repeat(10),
        (1..10)
            .map(|i| format!(
                "<!ENTITY {} \"{}\">",
                (b'a' + i) as char,
                format!("&{};", (b'a' + i - 1) as char).repeat(10)
            ))
            .collect::<String>(),
        doc(&rule("<ID>&j;</ID>"))
    );
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE CORSConfiguration [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}",
        doc(&rule("<ID>&xxe;</ID>"))
    );
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "not UTF-8",
            b"<CORSConfiguration>\xff</CORSConfiguration>".to_vec(),
            "",
            "not UTF-8",
        ),
        ("empty", Vec::new(), "", "no root element"),
        (
            "only a comment",
            b"<!-- -->".to_vec(),
            "",
            "no root element",
        ),
        (
            "another root: an S3 error document",
            b"<Error><Code>NoSuchCORSConfiguration</Code></Error>".to_vec(),
            "<Error>",
            "",
        ),
        (
            "mismatched end tag",
            doc("<CORSRule></AllowedOrigin>").into_bytes(),
            "",
            "expected `</CORSRule>`",
        ),
        (
            "never closed",
            b"<CORSConfiguration><CORSRule><AllowedOrigin>x".to_vec(),
            "",
            "ends inside <AllowedOrigin>",
        ),
        (
            "a second root",
            format!("{}<CORSConfiguration/>", doc(&rule(""))).into_bytes(),
            "",
            "a second root element",
        ),
        (
            "text after the root",
            format!("{} x", doc(&rule(""))).into_bytes(),
            "",
            "text outside the root element",
        ),
        (
            "an external entity (XXE) is not read",
            xxe.into_bytes(),
            "",
            "&xxe; is not one of XML's five entities",
        ),
        (
            "nested entities (billion laughs) are not expanded",
            laughs.into_bytes(),
            "",
            "&j; is not one of XML's five entities",
        ),
    ];
    let mut c = Cases::new();
    for (name, bytes, want_at, words) in &cases {
        let got = errors(bytes);
        c.check(name, "one error", &got.len(), &1);
        let Some((got_at, kind)) = got.first() else {
            continue;
        };
        c.check(name, "where", &got_at.as_str(), want_at);
        match kind {
            ErrorKind::Xml(m) if !words.is_empty() => {
                if !m.contains(words) {
                    c.fail(name, format!("{m:?} does not say {words:?}"));
                }
            }
            ErrorKind::NotCorsConfiguration if words.is_empty() => {}
            other => c.fail(name, format!("unexpected kind {other:?}")),
        }
    }
    c.finish();
}

// ------------------------------------------------ the configuration's code

/// `rules` as an XML document, each rule's fields as elements.
fn xml_of(rules: &[Value]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = String::from("<CORSConfiguration>");
    for r in rules {
        out.push_str("<CORSRule>");
        for (field, value) in r.as_object().unwrap() {
            let values = match value {
                Value::Array(v) => v.clone(),
                v => vec![v.clone()],
            };
            for v in values {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                out.push_str(&format!("<{field}>{}</{field}>", esc(&text)));
            }
        }
        out.push_str("</CORSRule>");
    }
    out + "</CORSConfiguration>"
}

/// Spec §7: the rules are judged by section 1's validation: a document
/// gets the errors a bucket's entry with the same rules gets, named without
/// the bucket.
#[test]
fn rules_get_the_errors_the_plugin_configuration_gives() {
    let ok = plain();
    let with = |field: &str, value: Value| {
        let mut r = plain();
        r[field] = value;
        r
    };
    let cases: Vec<(&str, Vec<Value>)> = vec![
        ("origin null", vec![with("AllowedOrigin", json!(["null"]))]),
        (
            "a catch-all wildcard",
            vec![with(
                "AllowedOrigin",
                json!(["https://*", "https://*example.com"]),
            )],
        ),
        (
            "a default port",
            vec![with("AllowedOrigin", json!(["https://a.com:443"]))],
        ),
        (
            "a lower-case and an unknown method",
            vec![with("AllowedMethod", json!(["get", "PATCH"]))],
        ),
        (
            "header names",
            vec![
                with("AllowedHeader", json!(["a b", "x-*-*"])),
                with("ExposeHeader", json!(["x-*"])),
            ],
        ),
        (
            "MaxAgeSeconds out of range",
            vec![
                with("MaxAgeSeconds", json!(-1)),
                with("MaxAgeSeconds", json!(2147483648_i64)),
            ],
        ),
        (
            "errors in two rules with IDs",
            vec![
                with("ID", json!("one")),
                with("AllowedOrigin", json!([""])),
                {
                    let mut r = with("ID", json!("three"));
                    r["AllowedMethod"] = json!(["OPTIONS"]);
                    r
                },
            ],
        ),
        ("101 rules", vec![ok.clone(); 101]),
    ];
    let mut c = Cases::new();
    for (name, rules) in &cases {
        let config = json!({"buckets": {"b": {"CORSRule": rules}}}).to_string();
        let want: Vec<Found> = match Policy::from_json(config.as_bytes()) {
            Ok(_) => {
                c.fail(name, "the configuration accepts it".into());
                continue;
            }
            Err(e) => e
                .iter()
                .map(|e| (e.at.replacen("bucket \"b\" ", "", 1), e.kind.clone()))
                .collect(),
        };
        c.check(name, "errors", &errors(xml_of(rules).as_bytes()), &want);
    }
    c.finish();
}

/// Spec §6 and §7: a document's lints are those of the same rules in the
/// plugin configuration, named without a bucket.
#[test]
fn lints_are_the_plugin_configuration_s() {
    let rules = vec![
        json!({"ID": "up", "AllowedOrigin": ["http://app.a.com"], "AllowedMethod": ["PUT"], "MaxAgeSeconds": 90000}),
        json!({"AllowedOrigin": ["http://app.a.com"], "AllowedMethod": ["PUT"]}),
    ];
    let config = policy(&json!({"buckets": {"b": {"CORSRule": &rules}}}).to_string());
    let want: Vec<String> = config
        .lints()
        .iter()
        .map(|l| l.to_string().replacen("bucket \"b\" ", "", 1))
        .collect();
    let xml = xml_of(&rules);
    let document = StoreRules::from_xml(xml.as_bytes(), None).unwrap();
    let lints = document.lints();
    let got: Vec<String> = lints.iter().map(ToString::to_string).collect();
    let mut c = Cases::new();
    c.check("lints of a document", "lines", &got, &want);
    c.check(
        "lints of a document",
        "labels",
        &lints.iter().all(|l| l.at == Label::Document),
        &true,
    );
    c.check(
        "lints of a document",
        "named by rule first",
        &got.first()
            .map(|l| l.starts_with("rule 0 (ID \"up\") AllowedOrigin: ")),
        &Some(true),
    );
    c.finish();
}

// ------------------------------------------------------- AWS CLI JSON

/// Spec §7: the AWS CLI's JSON form, S3's names only, read as the XML of
/// the same rules is.
#[test]
fn the_aws_cli_json_form() {
    let json_doc = r#"{"CORSRules": [
        {"ID": "uploads", "AllowedHeaders": ["*"], "AllowedMethods": ["PUT"],
         "AllowedOrigins": ["https://app.a.com"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]}"#;
    let xml = doc("<CORSRule><ID>uploads</ID><AllowedHeader>*</AllowedHeader><AllowedMethod>PUT</AllowedMethod>\
         <AllowedOrigin>https://app.a.com</AllowedOrigin><ExposeHeader>ETag</ExposeHeader>\
         <MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>");
    let from_json = |s: &str| {
        RulesDocument::from_s3_json(s.as_bytes()).map(|d| serde_json::to_value(d).unwrap())
    };
    let shape = |s: &str| match from_json(s) {
        Ok(v) => format!("accepted: {v}"),
        Err(e) => e.to_string(),
    };
    let mut c = Cases::new();
    c.check(
        "JSON and XML of the same rules",
        "read as",
        &from_json(json_doc).ok(),
        &read(&xml).ok(),
    );
    let oss_name = r#"{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethod": ["GET"]}]}"#;
    let err = shape(oss_name);
    c.check(
        "the plugin's (OSS) names are not S3's",
        "names rule and field",
        &err.starts_with("rule 0 AllowedMethod: unknown field `AllowedMethod`"),
        &true,
    );
    for (name, text, words) in [
        ("an array", "[]", "expected a JSON object"),
        (
            "a rule written as an array",
            r#"{"CORSRules": [["*"]]}"#,
            "expected a JSON object",
        ),
        (
            "ResponseVary is OSS's, not in S3's JSON",
            r#"{"CORSRules": [], "ResponseVary": true}"#,
            "unknown field `ResponseVary`",
        ),
        (
            "bytes after the document",
            r#"{"CORSRules": []} x"#,
            "trailing characters",
        ),
    ] {
        let err = shape(text);
        if !err.contains(words) {
            c.fail(name, format!("{err:?} does not say {words:?}"));
        }
    }
    c.finish();
}
