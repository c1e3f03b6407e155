//! The built `bucket-cors` binary, run as an operator would: `check`,
//! `import`, `explain` and `export`, with exit codes, the exact lines
//! printed, and the lints (docs/spec.md §6) as warnings.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn repo_file(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// Runs the binary with `args`, feeding `stdin` (or nothing).
fn run(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bucket-cors"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bucket-cors");
    {
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    let out = child.wait_with_output().expect("wait for bucket-cors");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// A scratch file under the target directory, unique per test.
fn scratch(name: &str, content: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

// ------------------------------------------------------------------ check

#[test]
fn check_accepts_the_shipped_example_configurations() {
    let oss = repo_file("examples/config/oss-style.json");
    let s3 = repo_file("examples/config/s3-pasted.json");
    let r = run(&["check", &oss, &s3], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        format!("{oss}: valid (2 buckets)\n{s3}: valid (1 bucket)\n")
    );
    assert_eq!(r.stderr, "");
}

#[test]
fn check_prints_every_error_at_once_and_exits_1() {
    let bad = data("invalid-config.json");
    let r = run(&["check", &bad], None);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    let expected = [
        format!("{bad}: invalid plugin configuration, 4 errors:"),
        r#"  endpoints[0] "https://s3.example.com": is not a bare lower-case host name (no scheme, port, path or leading dot)"#.into(),
        r#"  bucket "photos" rule 0 (ID "web") AllowedOrigin[1] "https://*": would match every host, and a matched origin is echoed with credentials allowed; write "*" to allow every origin without credentials"#.into(),
        r#"  bucket "photos" rule 0 (ID "web") AllowedMethod[1] "PATCH": is not one of GET, PUT, POST, DELETE, HEAD (upper case)"#.into(),
        r#"  bucket "photos" rule 0 (ID "web") MaxAgeSeconds -1: is out of range 0 to 2147483647"#.into(),
    ];
    assert_eq!(r.stderr.lines().collect::<Vec<_>>(), expected);
}

/// docs/spec.md §1: the tool judges wildcards against the Public
/// Suffix List, which the filter leaves out for size: `*.co.uk` and
/// `*.github.io` are refused here; `*example.com` and unmatchable ports are
/// refused by the filter's own rules, so here too.
#[test]
fn check_refuses_wildcards_anyone_can_register_under_and_ports_never_sent() {
    let config = r#"{"buckets": {"photos": {"CORSRule": [{"AllowedOrigin": [
        "https://*.co.uk", "https://*.github.io", "https://*example.com",
        "https://a.com:0443", "https://a.com:99999",
        "https://*.example.co.uk", "https://app-*.example.com", "https://*b.example.com"
    ], "AllowedMethod": ["GET"]}]}}}"#;
    let r = run(&["check", "-"], Some(config));
    assert_eq!(r.code, 1);
    let suffix = |i: usize, o: &str, reach: &str| {
        format!(
            r#"  bucket "photos" rule 0 AllowedOrigin[{i}] "{o}": would match hosts that anyone can register: the labels after the one holding "*" stop at the public suffix "{reach}" instead of naming a domain, and a matched origin is echoed with credentials allowed; name your domain ("https://*.example.com"), or write "*" to allow every origin without credentials"#
        )
    };
    let port = |i: usize, o: &str| {
        format!(
            r#"  bucket "photos" rule 0 AllowedOrigin[{i}] "{o}": has a port that browsers never send (a leading zero, or above 65535), so it could never match"#
        )
    };
    let expected = [
        "<stdin>: invalid plugin configuration, 5 errors:".to_string(),
        suffix(0, "https://*.co.uk", "co.uk"),
        suffix(1, "https://*.github.io", "github.io"),
        suffix(2, "https://*example.com", "com"),
        port(3, "https://a.com:0443"),
        port(4, "https://a.com:99999"),
    ];
    assert_eq!(r.stderr.lines().collect::<Vec<_>>(), expected);
}

/// docs/spec.md §1: a wildcard over an IP address (all-digit labels after the `*`, or a `*`
/// inside an IPv6 literal) is refused by `check` with the filter's own error, the Public Suffix
/// List notwithstanding (it reads a number as a top-level domain).
#[test]
fn check_refuses_wildcards_over_ip_addresses_as_the_filter_does() {
    let config = r#"{"buckets": {"photos": {"CORSRule": [{"AllowedOrigin": [
        "https://*.1.1.1", "http://*.0.0.1", "http://[::1*]:8080", "https://*.example.com"
    ], "AllowedMethod": ["GET"]}]}}}"#;
    let r = run(&["check", "-"], Some(config));
    assert_eq!(r.code, 1);
    let filter = core_errors(config);
    assert_eq!(
        r.stderr,
        format!(
            "<stdin>: invalid plugin configuration, 3 errors:\n  {}\n",
            filter.replace('\n', "\n  ")
        )
    );
    for (i, value) in ["https://*.1.1.1", "http://*.0.0.1", "http://[::1*]:8080"]
        .iter()
        .enumerate()
    {
        let line = r.stderr.lines().nth(i + 1).unwrap_or_default();
        assert!(
            line.contains(&format!("AllowedOrigin[{i}] {value:?}")) && line.contains("IP address"),
            "{line}"
        );
    }
}

#[test]
fn check_reads_stdin_and_reports_each_file() {
    let empty = r#"{"buckets": {"a": {"CORSRule": []}}}"#;
    let r = run(&["check", "-"], Some(empty));
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!(
            "<stdin>: invalid plugin configuration, 1 error:\n  {}\n",
            core_errors(empty)
        )
    );

    // Syntax errors and unknown fields are reported like the filter does.
    let r = run(&["check", "-"], Some(r#"{"bukets": {}}"#));
    assert_eq!(r.code, 1);
    assert!(r
        .stderr
        .starts_with("<stdin>: invalid plugin configuration, 1 error:\n  "));
    assert!(r.stderr.contains("unknown field `bukets`"), "{}", r.stderr);

    // One good, one bad, one missing: every file is reported, exit 1.
    let good = repo_file("examples/config/s3-pasted.json");
    let bad = data("invalid-config.json");
    let r = run(&["check", &good, &bad, "/nonexistent/config.json"], None);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, format!("{good}: valid (1 bucket)\n"));
    assert!(r
        .stderr
        .contains(&format!("{bad}: invalid plugin configuration, 4 errors:")));
    assert!(r.stderr.contains("cannot read /nonexistent/config.json: "));

    // With rules_source (docs/spec.md §8): where the other buckets' rules come from; its
    // settings are judged with the rest.
    let store = r#"{"buckets": {}, "rules_source": {"cluster": "objstore-signed"}}"#;
    let r = run(&["check", "-"], Some(store));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            0,
            "<stdin>: valid (0 buckets; every other bucket's rules read from cluster \"objstore-signed\", refreshed every 60 s)\n"
        )
    );
    let r = run(
        &["check", "-"],
        Some(r#"{"rules_source": {"cluster": "s", "timeout_ms": 0, "max_buckets": 0}}"#),
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("2 errors:"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("rules_source.timeout_ms 0: is out of range 1 to 60000"),
        "{}",
        r.stderr
    );

    let r = run(&["check", "-"], Some(r#"{"buckets": {}}"#));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "<stdin>: valid (0 buckets)\n")
    );
}

// ------------------------------------------------- check: rules documents

/// docs/spec.md §7: `check` reads what a tenant is about to PUT, an OSS or
/// an S3 document (XML) or the AWS CLI's JSON, told from a plugin
/// configuration by its first character and top-level key; each file of
/// one run is judged as what it is.
#[test]
fn check_reads_oss_and_s3_documents_and_the_aws_cli_json() {
    let oss = data("oss-cors.xml");
    let s3 = data("s3-cors.xml");
    let json = data("s3-cors.json");
    let config = repo_file("examples/config/s3-pasted.json");
    let r = run(&["check", &oss, &s3, &json, &config], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        format!(
            "{oss}: valid rules document (2 rules)\n{s3}: valid rules document (2 rules)\n\
             {json}: valid rules document (2 rules)\n{config}: valid (1 bucket)\n"
        )
    );
    assert_eq!(r.stderr, "");
}

/// docs/spec.md §7: OSS's and S3's element names are each read (OSS's
/// `ResponseVary`, S3's `ID` and namespace); the AWS CLI's plural names are
/// JSON's, not elements of either XML.
#[test]
fn check_knows_oss_and_s3_element_names() {
    let oss = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>\
               <AllowedMethod>GET</AllowedMethod></CORSRule>\
               <ResponseVary>false</ResponseVary></CORSConfiguration>";
    let r = run(&["check", "-"], Some(oss));
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, "<stdin>: valid rules document (1 rule)\n", "")
    );
    let s3 = r#"<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule>
        <ID>read</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>
        </CORSRule></CORSConfiguration>"#;
    let r = run(&["check", "-"], Some(s3));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "<stdin>: valid rules document (1 rule)\n")
    );
    let plural = "<CORSConfiguration><CORSRules><CORSRule><AllowedOrigins>*</AllowedOrigins>\
                  <AllowedMethod>GET</AllowedMethod></CORSRule></CORSRules></CORSConfiguration>";
    let r = run(&["check", "-"], Some(plural));
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr.lines().collect::<Vec<_>>(),
        [
            "<stdin>: invalid rules document, 2 errors:",
            "  <CORSRules>: is not an element of <CORSConfiguration> (it has CORSRule, ResponseVary)",
            "  CORSRule: has 0 rules; a configuration has 1 to 100",
        ]
    );
}

/// docs/spec.md §7: every error of a document at once, each naming the rule
/// (index and ID) and the field: its shape first, then its rules as the
/// plugin configuration's are judged (the Public Suffix List too).
#[test]
fn check_prints_every_error_of_a_document_at_once() {
    let bad = data("bad-rules.xml");
    let r = run(&["check", &bad], None);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    let expected = [
        format!("{bad}: invalid rules document, 5 errors:"),
        r#"  rule 0 (ID "web") MaxAgeSeconds "one hour": is not a whole number of seconds; write one from 0 to 2147483647"#.into(),
        "  rule 1 <AllowedOrigins>: is not an element of <CORSRule> (it has ID, AllowedOrigin, AllowedMethod, AllowedHeader, ExposeHeader, MaxAgeSeconds)".into(),
        r#"  rule 0 (ID "web") AllowedOrigin[1] "https://*.co.uk": would match hosts that anyone can register: the labels after the one holding "*" stop at the public suffix "co.uk" instead of naming a domain, and a matched origin is echoed with credentials allowed; name your domain ("https://*.example.com"), or write "*" to allow every origin without credentials"#.into(),
        r#"  rule 0 (ID "web") AllowedMethod[1] "PATCH": is not one of GET, PUT, POST, DELETE, HEAD (upper case)"#.into(),
        "  rule 1 AllowedOrigin: is empty; at least one origin is required".into(),
    ];
    assert_eq!(r.stderr.lines().collect::<Vec<_>>(), expected);
}

/// docs/spec.md §7: a document over the size limit is refused unread, with
/// that one error; one at the limit is read.
#[test]
fn check_refuses_a_document_over_the_size_limit() {
    use bucket_cors_spec::RULES_DOCUMENT_MAX_BYTES as MAX;
    let body = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>\
                <AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
    let padded = |total: usize| format!("{body}<!--{}-->", "x".repeat(total - body.len() - 7));
    let r = run(&["check", "-"], Some(&padded(MAX)));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "<stdin>: valid rules document (1 rule)\n")
    );
    let r = run(&["check", "-"], Some(&padded(MAX + 1)));
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!(
            "<stdin>: invalid rules document, 1 error:\n  the document is {} bytes; a rules document has at most {MAX}\n",
            MAX + 1
        )
    );
}

/// docs/spec.md §6, §7: a document's lints are printed as a configuration's
/// are, named by rule without a bucket; `--deny-warnings` fails on them.
#[test]
fn check_prints_the_lints_of_a_document() {
    let upload = "<CORSConfiguration><CORSRule><ID>up</ID><AllowedOrigin>https://app.example.com</AllowedOrigin>\
                  <AllowedMethod>PUT</AllowedMethod><AllowedHeader>content-type</AllowedHeader>\
                  </CORSRule></CORSConfiguration>";
    let r = run(&["check", "-"], Some(upload));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "<stdin>: valid rules document (1 rule, 1 warning)\n"
    );
    assert!(
        r.stderr
            .starts_with("warning: <stdin>: rule 0 (ID \"up\") ExposeHeader: PUT or POST is allowed but ETag is not exposed"),
        "{}",
        r.stderr
    );
    let r = run(&["check", "--deny-warnings", "-"], Some(upload));
    assert_eq!(r.code, 1);
}

/// What the filter's own parser says about `json`, one error a line.
fn core_errors(json: &str) -> String {
    bucket_cors_core::Policy::from_json(json.as_bytes())
        .expect_err("refused")
        .to_string()
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["check"], None).code, 2);
    assert_eq!(run(&["import", "x.xml"], None).code, 2);
    assert_eq!(run(&["explain", "--url", "/a"], None).code, 2);
    assert_eq!(run(&["frobnicate"], None).code, 2);
}

// ----------------------------------------------------------------- import

const OSS_IMPORTED: &str = r#"{
  "buckets": {
    "photos": {
      "CORSRule": [
        {
          "AllowedOrigin": ["https://www.example.com", "https://*.example.com"],
          "AllowedMethod": ["GET", "PUT", "HEAD"],
          "AllowedHeader": ["content-type", "x-oss-*"],
          "ExposeHeader": ["ETag", "x-oss-request-id"],
          "MaxAgeSeconds": 600
        },
        {
          "AllowedOrigin": ["*"],
          "AllowedMethod": ["GET"]
        }
      ],
      "ResponseVary": true
    }
  }
}
"#;

const S3_IMPORTED: &str = r#"{
  "buckets": {
    "media": {
      "CORSRule": [
        {
          "ID": "uploads",
          "AllowedOrigin": ["https://app.example.com"],
          "AllowedMethod": ["PUT", "POST", "DELETE"],
          "AllowedHeader": ["Authorization", "Content-Type", "x-amz-*"],
          "ExposeHeader": ["ETag", "x-amz-request-id"],
          "MaxAgeSeconds": 3000
        },
        {
          "ID": "public-read",
          "AllowedOrigin": ["*"],
          "AllowedMethod": ["GET"]
        }
      ],
      "ResponseVary": true
    }
  }
}
"#;

#[test]
fn import_oss_xml() {
    let r = run(
        &["import", "--bucket", "photos", &data("oss-cors.xml")],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, OSS_IMPORTED);
    assert_eq!(r.stderr, "");
    // What import prints, check accepts.
    let c = run(&["check", "-"], Some(&r.stdout));
    assert_eq!(
        (c.code, c.stdout.as_str()),
        (0, "<stdin>: valid (1 bucket)\n")
    );
}

#[test]
fn import_s3_xml_and_s3_json_give_the_same_configuration() {
    let xml = run(&["import", "--bucket", "media", &data("s3-cors.xml")], None);
    assert_eq!(xml.code, 0, "{}", xml.stderr);
    assert_eq!(xml.stdout, S3_IMPORTED);
    let json = run(
        &["import", "--bucket", "media", &data("s3-cors.json")],
        None,
    );
    assert_eq!(json.code, 0, "{}", json.stderr);
    assert_eq!(json.stdout, S3_IMPORTED);
    // From standard input too.
    let doc = std::fs::read_to_string(data("s3-cors.json")).unwrap();
    let stdin = run(&["import", "--bucket", "media", "-"], Some(&doc));
    assert_eq!(stdin.stdout, S3_IMPORTED);
}

/// Named policies (docs/spec.md §1): `import --policy NAME` writes a named policy that buckets then
/// name, and merges it into an existing configuration; explain says which policy applied through
/// which entry.
#[test]
fn import_as_a_named_policy_and_explain_through_it() {
    let r = run(&["import", "--policy", "web", &data("s3-cors.json")], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        S3_IMPORTED
            .replacen("\"buckets\"", "\"policies\"", 1)
            .replacen("\"media\"", "\"web\"", 1)
    );
    let base = scratch(
        "policy-base.json",
        r#"{"buckets": {"media": "web", "photos": "web"}, "policies": {}}"#,
    );
    let merged = run(
        &[
            "import",
            "--policy",
            "web",
            "--merge",
            base.to_str().unwrap(),
            &data("s3-cors.json"),
        ],
        None,
    );
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    let c = run(&["check", "-"], Some(&merged.stdout));
    assert_eq!(
        (c.code, c.stdout.as_str()),
        (0, "<stdin>: valid (2 buckets)\n")
    );
    let config = scratch("policy-merged.json", &merged.stdout);
    let e = run(
        &[
            "explain",
            "-c",
            config.to_str().unwrap(),
            "--url",
            "http://h/photos/k",
            "-H",
            "Origin: https://nowhere.example",
        ],
        None,
    );
    assert!(
        e.stdout.contains(
            "bucket: \"photos\", rules from policy \"web\", named by buckets.\"photos\"\n"
        ),
        "{}",
        e.stdout
    );
    // Both --bucket and --policy, or neither: a usage error.
    let both = run(
        &[
            "import",
            "--bucket",
            "a",
            "--policy",
            "b",
            &data("s3-cors.json"),
        ],
        None,
    );
    assert_eq!(both.code, 2);
    let neither = run(&["import", &data("s3-cors.json")], None);
    assert_eq!(neither.code, 2);
}

#[test]
fn import_fails_on_rules_the_filter_refuses_listing_every_error() {
    let file = data("oss-invalid-rules.xml");
    let r = run(&["import", "--bucket", "photos", &file], None);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines[0],
        format!("{file} imported as bucket \"photos\": invalid plugin configuration, 3 errors:")
    );
    assert_eq!(lines.len(), 4, "{}", r.stderr);
    assert!(lines[1].starts_with(r#"  bucket "photos" rule 0 AllowedOrigin[0] "null": "#));
    assert!(lines[2].starts_with(r#"  bucket "photos" rule 0 AllowedOrigin[1] "https://*.com": "#));
    assert!(lines[3].starts_with(r#"  bucket "photos" rule 0 AllowedMethod[0] "get": "#));

    // A bucket name the filter refuses.
    let r = run(
        &["import", "--bucket", "Photos", &data("oss-cors.xml")],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("  bucket \"Photos\": "), "{}", r.stderr);
}

#[test]
fn import_refuses_malformed_and_unknown_documents() {
    let r = run(
        &["import", "--bucket", "b", "-"],
        Some("<CORSConfiguration><CORSRule><AllowedOrign>x</AllowedOrign><MaxAgeSeconds>ten</MaxAgeSeconds></CORSRule></CORSConfiguration>"),
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "<stdin>: cannot import:\n\
         \x20 rule 0 <AllowedOrign>: is not an element of <CORSRule> (it has ID, AllowedOrigin, AllowedMethod, AllowedHeader, ExposeHeader, MaxAgeSeconds)\n\
         \x20 rule 0 MaxAgeSeconds \"ten\": is not a whole number of seconds; write one from 0 to 2147483647\n"
    );
    let r = run(
        &["import", "--bucket", "b", "-"],
        Some("<CORSConfiguration><CORSRule>"),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("<stdin>: cannot import:\n  "),
        "{}",
        r.stderr
    );
    let r = run(
        &["import", "--bucket", "b", "-"],
        Some(r#"{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethod": ["GET"]}]}"#),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("rule 0 AllowedMethod: unknown field `AllowedMethod`"),
        "{}",
        r.stderr
    );
    let r = run(&["import", "--bucket", "b", "-"], Some("AllowedOrigin=*"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("neither an XML <CORSConfiguration>"));
}

#[test]
fn import_warns_when_response_vary_is_off() {
    let xml = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>\
               <AllowedMethod>GET</AllowedMethod></CORSRule><ResponseVary>false</ResponseVary></CORSConfiguration>";
    let r = run(&["import", "--bucket", "b", "-"], Some(xml));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"ResponseVary\": false"));
    assert!(
        r.stderr
            .starts_with("warning: <stdin>: ResponseVary is false"),
        "{}",
        r.stderr
    );
}

#[test]
fn import_merge_adds_the_bucket_and_keeps_the_rest_in_order() {
    let base = repo_file("examples/config/s3-pasted.json");
    let r = run(
        &[
            "import",
            "--bucket",
            "photos",
            "--merge",
            &base,
            &data("oss-cors.xml"),
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let keys_in_order = |text: &str, keys: &[&str]| {
        let at: Vec<usize> = keys
            .iter()
            .map(|k| {
                text.find(&format!("\"{k}\""))
                    .unwrap_or_else(|| panic!("{k} missing"))
            })
            .collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "{keys:?} out of order in\n{text}"
        );
    };
    keys_in_order(
        &r.stdout,
        &[
            "endpoints",
            "path_style",
            "buckets",
            "media",
            "photos",
            "unmatched_preflight",
        ],
    );
    let c = run(&["check", "-"], Some(&r.stdout));
    assert_eq!(
        (c.code, c.stdout.as_str()),
        (0, "<stdin>: valid (2 buckets)\n")
    );

    // The bucket is there already: refused, unless --replace.
    let r = run(
        &[
            "import",
            "--bucket",
            "media",
            "--merge",
            &base,
            &data("oss-cors.xml"),
        ],
        None,
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!("{base} already has bucket \"media\"; --replace replaces its rules\n")
    );
    let r = run(
        &[
            "import",
            "--bucket",
            "media",
            "--merge",
            &base,
            "--replace",
            &data("oss-cors.xml"),
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("x-oss-request-id") && !r.stdout.contains("x-amz-version-id"));

    // A configuration without `buckets` gets one.
    let bare = scratch("bare.json", r#"{"endpoints": ["s3.example.com"]}"#);
    let r = run(
        &[
            "import",
            "--bucket",
            "photos",
            "--merge",
            bare.to_str().unwrap(),
            &data("oss-cors.xml"),
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with(
        "{\n  \"endpoints\": [\"s3.example.com\"],\n  \"buckets\": {\n    \"photos\": {"
    ));
}

// ---------------------------------------------------------------- explain

fn explain(args: &[&str]) -> Run {
    let config = data("explain.json");
    let mut all = vec!["explain", "--config", config.as_str()];
    all.extend_from_slice(args);
    run(&all, None)
}

fn assert_lines(r: &Run, expected: &[&str]) {
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        expected,
        "\n{}",
        r.stdout
    );
}

#[test]
fn explain_an_allowed_preflight() {
    let r = explain(&[
        "--method",
        "OPTIONS",
        "--url",
        "https://photos.s3.example.com/cat.jpg",
        "-H",
        "Origin: https://www.example.com",
        "-H",
        "Access-Control-Request-Method: PUT",
        "-H",
        "Access-Control-Request-Headers: Content-Type, X-Amz-Meta-A",
    ]);
    assert_lines(
        &r,
        &[
            "request: OPTIONS /cat.jpg (authority photos.s3.example.com)",
            "bucket: \"photos\", rules from buckets.\"photos\"",
            "kind: preflight (OPTIONS with Origin and Access-Control-Request-Method)",
            "rule 0 (ID \"web\"): matches",
            "rule 1 (ID \"public-read\"): fails: Access-Control-Request-Method \"PUT\" is not in AllowedMethod (GET)",
            "winner: rule 0 (ID \"web\")",
            "decision: reply 200 from the filter; the upstream never sees the request",
            "  access-control-allow-origin: https://www.example.com",
            "  access-control-allow-credentials: true",
            "  access-control-allow-methods: GET, PUT, HEAD",
            "  access-control-allow-headers: content-type, x-amz-meta-a",
            "  access-control-expose-headers: ETag",
            "  access-control-max-age: 600",
            "  vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            "  (empty body)",
            "outcome: bucket_cors.preflight.allowed",
        ],
    );
}

#[test]
fn explain_a_refused_preflight() {
    let r = explain(&[
        "-X",
        "OPTIONS",
        "--url",
        "https://photos.s3.example.com/cat.jpg",
        "-H",
        "Origin: https://www.example.com",
        "-H",
        "Access-Control-Request-Method: PUT",
        "-H",
        "Access-Control-Request-Headers: x-custom",
        "-H",
        "X-Request-Id: req-1",
    ]);
    assert_lines(
        &r,
        &[
            "request: OPTIONS /cat.jpg (authority photos.s3.example.com)",
            "bucket: \"photos\", rules from buckets.\"photos\"",
            "kind: preflight (OPTIONS with Origin and Access-Control-Request-Method)",
            "rule 0 (ID \"web\"): fails: requested header \"x-custom\" matches no AllowedHeader",
            "rule 1 (ID \"public-read\"): fails: Access-Control-Request-Method \"PUT\" is not in AllowedMethod (GET)",
            "winner: none",
            "decision: reply 403 from the filter; the upstream never sees the request",
            "  content-type: application/xml",
            "  vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            "  body:",
            "    <?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "    <Error>",
            "      <Code>AccessForbidden</Code>",
            "      <Message>CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.</Message>",
            "      <RequestId>req-1</RequestId>",
            "      <HostId>photos.s3.example.com</HostId>",
            "    </Error>",
            "outcome: bucket_cors.preflight.refused.header",
        ],
    );
}

#[test]
fn explain_an_actual_request_and_the_response_edits() {
    let r = explain(&[
        "--url",
        "http://s3.example.com/photos/cat.jpg?versionId=2",
        "-H",
        "Origin: https://evil.example.org",
        "--response-header",
        "Vary: Accept-Encoding",
        "--response-header",
        "Access-Control-Allow-Origin: https://stale.example.com",
        "--response-header",
        "Access-Control-Allow-Headers: x",
    ]);
    assert_lines(
        &r,
        &[
            "request: GET /photos/cat.jpg?versionId=2 (authority s3.example.com)",
            "bucket: \"photos\", rules from buckets.\"photos\"",
            "kind: actual request (Origin, not a preflight)",
            "rule 0 (ID \"web\"): fails: Origin \"https://evil.example.org\" matches no AllowedOrigin",
            "rule 1 (ID \"public-read\"): matches",
            "winner: rule 1 (ID \"public-read\")",
            "decision: forwarded to the upstream; on the response the filter sets:",
            "  access-control-allow-origin: *",
            "  access-control-allow-methods: GET",
            "  vary: Accept-Encoding, Origin",
            "  and removes: access-control-allow-headers",
            "outcome: bucket_cors.actual.matched",
        ],
    );

    // Without upstream headers: what the filter sets on any response, and a
    // Host header that overrides the URL's host (virtual-hosted style).
    let r = explain(&[
        "--url",
        "http://127.0.0.1:10000/cat.jpg",
        "-H",
        "Host: photos.s3.example.com",
        "-H",
        "Origin: https://app.example.com",
        "-X",
        "PUT",
    ]);
    assert_lines(
        &r,
        &[
            "request: PUT /cat.jpg (authority photos.s3.example.com)",
            "bucket: \"photos\", rules from buckets.\"photos\"",
            "kind: actual request (Origin, not a preflight)",
            "rule 0 (ID \"web\"): matches",
            "rule 1 (ID \"public-read\"): fails: method \"PUT\" is not in AllowedMethod (GET)",
            "winner: rule 0 (ID \"web\")",
            "decision: forwarded to the upstream; on the response the filter sets:",
            "  access-control-allow-origin: https://app.example.com",
            "  access-control-allow-credentials: true",
            "  access-control-allow-methods: GET, PUT, HEAD",
            "  access-control-expose-headers: ETag",
            "  access-control-max-age: 600",
            "  vary: Origin",
            "  (an upstream's own Access-Control-* headers are replaced or removed; Origin is merged into its Vary)",
            "outcome: bucket_cors.actual.matched",
        ],
    );
}

#[test]
fn explain_requests_the_filter_leaves_alone() {
    let r = explain(&[
        "--url",
        "http://s3.example.com/",
        "-H",
        "Origin: https://www.example.com",
    ]);
    assert_lines(
        &r,
        &[
            "request: GET / (authority s3.example.com)",
            "bucket: none (neither the host nor the path names a bucket)",
            "kind: actual request (Origin, not a preflight)",
            "decision: forwarded to the upstream; no rules govern the response, so upstream_cors \"strip\" removes the upstream's own CORS headers",
            "outcome: no counter (no configured bucket)",
        ],
    );
    // `upstream_cors` (docs/spec.md §1): explain shows what is removed from a backend that reflects
    // every Origin.
    let r = explain(&[
        "--url",
        "http://s3.example.com/",
        "-H",
        "Origin: https://evil.example.net",
        "--response-header",
        "Access-Control-Allow-Origin: https://evil.example.net",
        "--response-header",
        "Access-Control-Allow-Credentials: true",
        "--response-header",
        "Vary: Origin",
    ]);
    assert!(
        r.stdout.contains(
            "\n  removes: access-control-allow-origin, access-control-allow-credentials\n"
        ),
        "{}",
        r.stdout
    );
    let r = explain(&[
        "-X",
        "OPTIONS",
        "--url",
        "http://s3.example.com/other/k",
        "-H",
        "Origin: https://www.example.com",
        "-H",
        "Access-Control-Request-Method: GET",
    ]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(
        "bucket: \"other\", no CORS configuration (not under buckets, and no default)\n"
    ));
    assert!(r
        .stdout
        .contains("<Message>CORSResponse: CORS is not enabled for this bucket.</Message>"));
    assert!(r
        .stdout
        .ends_with("outcome: bucket_cors.preflight.refused.no_configuration\n"));
}

#[test]
fn explain_report_mode() {
    let r = run(
        &[
            "explain",
            "-c",
            &data("report-mode.json"),
            "-X",
            "OPTIONS",
            "--url",
            "http://h/media/k",
            "-H",
            "Origin: https://www.example.com",
            "-H",
            "Access-Control-Request-Method: PUT",
        ],
        None,
    );
    assert_lines(
        &r,
        &[
            "request: OPTIONS /media/k (authority h)",
            "bucket: \"media\", rules from buckets.\"media\"",
            "kind: preflight (OPTIONS with Origin and Access-Control-Request-Method)",
            "rule 0: fails: Access-Control-Request-Method \"PUT\" is not in AllowedMethod (GET)",
            "winner: none",
            "mode: report (the bucket's Mode is \"report\": the filter counts the outcome and changes nothing)",
            "decision: left alone (report mode)",
            "if enforced: reply 403 from the filter; the upstream never sees the request",
            "  content-type: application/xml",
            "  vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            "  body:",
            "    <?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "    <Error>",
            "      <Code>AccessForbidden</Code>",
            "      <Message>CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.</Message>",
            "      <RequestId></RequestId>",
            "      <HostId>h</HostId>",
            "    </Error>",
            "outcome: bucket_cors.preflight.refused.method",
        ],
    );
}

#[test]
fn explain_refuses_an_invalid_configuration_and_bad_arguments() {
    let bad = data("invalid-config.json");
    let r = run(&["explain", "-c", &bad, "--url", "/photos/k"], None);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert!(r
        .stderr
        .starts_with(&format!("{bad}: invalid plugin configuration, 4 errors:\n")));

    let r = explain(&["--url", "/photos/k", "-H", "Origin https://a.com"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "header \"Origin https://a.com\": expected `Name: value`\n"
    );
    let r = explain(&["--url", "photos/k"]);
    assert_eq!(r.code, 1);
    assert!(r
        .stderr
        .contains("expected http://host[:port]/path or /path"));
}

// ------------------------------------------------------------------ lints

/// The start of each warning `check` prints for `examples/config/lints.json`, in order: one
/// per lint kind of docs/spec.md §6 (the plain-http one twice: a bucket's and `default`'s), naming
/// the configuration, the rule (index and ID), the field, and what the browser does.
const LINTS_EXAMPLE: [&str; 7] = [
    r#"bucket "media" rule 0 (ID "public") MaxAgeSeconds: 604800 is above Firefox's cap of 86400 (24 hours) and Chromium's of 7200 (2 hours): browsers keep the preflight answer 24 hours (Firefox) or 2 hours (Chromium) at most"#,
    r#"bucket "uploads" rule 0 (ID "browser-uploads") AllowedOrigin: "http://staging.example.com" is plain http and not loopback, yet echoed with credentials allowed: the browser sends the user's cookies"#,
    r#"bucket "uploads" rule 0 (ID "browser-uploads") AllowedHeader: PUT or POST is allowed but content-type is not an allowed header: a browser preflights an upload"#,
    r#"bucket "uploads" rule 0 (ID "browser-uploads") ExposeHeader: PUT or POST is allowed but ETag is not exposed: the browser hides each response's ETag from scripts, so a browser SDK cannot finish a multipart upload"#,
    r#"bucket "uploads" rule 0 (ID "browser-uploads") MaxAgeSeconds: 86400 is above Chromium's cap of 7200 (2 hours): Chrome, Edge and other Chromium browsers keep the preflight answer 2 hours at most"#,
    r#"bucket "uploads" rule 1 (ID "app-read") CORSRule: never applies: the earlier rule 0 (ID "browser-uploads") matches every origin, method and header this rule does"#,
    r#"default rule 0 AllowedOrigin: "http://*.intranet.example.com" is plain http and not loopback"#,
];

/// Each stderr line is `warning: NAME: ` and then the expected start, in order.
fn assert_warnings(stderr: &str, name: &str, expected: &[&str]) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{stderr}");
    for (line, want) in lines.iter().zip(expected) {
        let prefix = format!("warning: {name}: {want}");
        assert!(
            line.starts_with(&prefix),
            "\n got: {line}\nwant: {prefix}..."
        );
    }
}

#[test]
fn check_prints_every_lint_as_a_warning_and_still_accepts() {
    let lints = repo_file("examples/config/lints.json");
    let r = run(&["check", &lints], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        format!("{lints}: valid (2 buckets, 7 warnings)\n")
    );
    assert_warnings(&r.stderr, &lints, &LINTS_EXAMPLE);
}

#[test]
fn check_deny_warnings_exits_1_on_any_lint_and_0_without() {
    let lints = repo_file("examples/config/lints.json");
    let oss = repo_file("examples/config/oss-style.json");
    let r = run(&["check", "--deny-warnings", &oss, &lints], None);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        format!("{oss}: valid (2 buckets)\n{lints}: valid (2 buckets, 7 warnings)\n")
    );
    assert_warnings(&r.stderr, &lints, &LINTS_EXAMPLE);
    let clean = run(&["check", "--deny-warnings", &oss], None);
    assert_eq!((clean.code, clean.stderr.as_str()), (0, ""));
    let one = r#"{"buckets": {"b": {"CORSRule": [{"AllowedOrigin": ["*"], "AllowedMethod": ["GET"], "MaxAgeSeconds": 7201}]}}}"#;
    let r = run(&["check", "--deny-warnings", "-"], Some(one));
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "<stdin>: valid (1 bucket, 1 warning)\n");
    assert_warnings(
        &r.stderr,
        "<stdin>",
        &[r#"bucket "b" rule 0 MaxAgeSeconds: 7201 is above Chromium's cap of 7200"#],
    );
}

#[test]
fn import_prints_the_lints_of_what_it_imported() {
    let xml = scratch(
        "lint-import.xml",
        "<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin>\
         <AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader>\
         <ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>",
    );
    let name = xml.to_string_lossy().into_owned();
    let r = run(&["import", "--bucket", "up", &name], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_warnings(
        &r.stderr,
        &name,
        &[
            r#"bucket "up" rule 0 AllowedHeader: PUT or POST is allowed but content-type is not an allowed header"#,
        ],
    );
}

#[test]
fn explain_prints_the_configuration_lints_on_stderr() {
    let lints = repo_file("examples/config/lints.json");
    let r = run(
        &[
            "explain",
            "-c",
            &lints,
            "--url",
            "http://s3.example.internal/media/a.png",
            "-H",
            "Origin: https://x.example",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("winner: rule 0 (ID \"public\")"),
        "{}",
        r.stdout
    );
    assert_warnings(&r.stderr, &lints, &LINTS_EXAMPLE);
}

// ----------------------------------------------------------------- export

#[test]
fn export_gives_each_store_shape() {
    let config = data("explain.json");
    let r = run(
        &[
            "export", "--bucket", "photos", "--format", "s3-json", &config,
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    assert_eq!(
        r.stdout,
        r#"{
  "CORSRules": [
    {
      "ID": "web",
      "AllowedHeaders": ["content-type", "x-amz-*"],
      "AllowedMethods": ["GET", "PUT", "HEAD"],
      "AllowedOrigins": ["https://www.example.com", "https://*.example.com"],
      "ExposeHeaders": ["ETag"],
      "MaxAgeSeconds": 600
    },
    {
      "ID": "public-read",
      "AllowedMethods": ["GET"],
      "AllowedOrigins": ["*"]
    }
  ]
}
"#
    );
    let r = run(
        &[
            "export", "--bucket", "photos", "--format", "s3-xml", &config,
        ],
        None,
    );
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(
        r.stdout,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>web</ID>
    <AllowedOrigin>https://www.example.com</AllowedOrigin>
    <AllowedOrigin>https://*.example.com</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>content-type</AllowedHeader>
    <AllowedHeader>x-amz-*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>600</MaxAgeSeconds>
  </CORSRule>
  <CORSRule>
    <ID>public-read</ID>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
  </CORSRule>
</CORSConfiguration>
"#
    );
    let r = run(
        &[
            "export", "--bucket", "photos", "--format", "oss-xml", &config,
        ],
        None,
    );
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stderr,
        format!("warning: {config}: OSS rules have no ID; 2 rule ID(s) are not exported\n")
    );
    assert!(r.stdout.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CORSConfiguration>\n  <CORSRule>\n    <AllowedOrigin>https://www.example.com</AllowedOrigin>\n"), "{}", r.stdout);
    assert!(
        r.stdout.ends_with(
            "  </CORSRule>\n  <ResponseVary>true</ResponseVary>\n</CORSConfiguration>\n"
        ),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("<ID>"));
}

/// The binary end to end: `import` of `export` prints the configuration `import` of the
/// store's own document printed, for each format that holds everything the bucket has.
#[test]
fn import_of_export_through_the_binary() {
    for (doc, bucket, formats) in [
        ("oss-cors.xml", "photos", &["oss-xml"][..]),
        ("s3-cors.json", "media", &["s3-xml", "s3-json"][..]),
    ] {
        let first = run(&["import", "--bucket", bucket, &data(doc)], None);
        assert_eq!(first.code, 0, "{}", first.stderr);
        let config = scratch(&format!("roundtrip-{bucket}.json"), &first.stdout);
        let config = config.to_string_lossy().into_owned();
        for format in formats {
            let exported = run(
                &["export", "--bucket", bucket, "--format", format, &config],
                None,
            );
            assert_eq!(
                (exported.code, exported.stderr.as_str()),
                (0, ""),
                "{format}"
            );
            let back = run(&["import", "--bucket", bucket, "-"], Some(&exported.stdout));
            assert_eq!(back.code, 0, "{}", back.stderr);
            assert_eq!(back.stdout, first.stdout, "{format}:\n{}", exported.stdout);
        }
    }
}

/// Named policies (docs/spec.md §1): a bucket that names a policy exports the policy's rules, and
/// so does an unlisted bucket when `default` names one.
#[test]
fn export_resolves_a_named_policy() {
    let config = scratch(
        "export-policy.json",
        r#"{"policies": {"web": {"CORSRule": [{"AllowedOrigin": ["https://www.a.com"], "AllowedMethod": ["GET"], "ExposeHeader": ["ETag"]}]}},
            "buckets": {"photos": "web"}, "default": "web"}"#,
    );
    let config = config.to_string_lossy().into_owned();
    for bucket in ["photos", "other"] {
        let r = run(
            &["export", "--bucket", bucket, "--format", "s3-json", &config],
            None,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("\"https://www.a.com\""), "{}", r.stdout);
        let back = run(&["import", "--bucket", bucket, "-"], Some(&r.stdout));
        assert_eq!(back.code, 0, "{}", back.stderr);
        assert!(back.stdout.contains("\"ETag\""), "{}", back.stdout);
    }
}

#[test]
fn export_names_what_a_format_cannot_hold_and_refuses_what_is_missing() {
    let config = scratch(
        "export-lossy.json",
        r#"{"buckets": {"legacy": {"Mode": "report", "ResponseVary": false, "CORSRule": [{"AllowedOrigin": ["*"], "AllowedMethod": ["GET"]}]}}}"#,
    );
    let config = config.to_string_lossy().into_owned();
    let r = run(
        &[
            "export", "--bucket", "legacy", "--format", "s3-json", &config,
        ],
        None,
    );
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stderr,
        format!(
            "warning: {config}: Mode \"report\" is not exported: a store enforces its rules\n\
             warning: {config}: ResponseVary false is not exported: S3 has no such setting (it adds Vary to CORS responses), and import reads it back as true\n"
        )
    );
    let r = run(
        &["export", "--bucket", "nope", "--format", "oss-xml", &config],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("bucket \"nope\" has no CORS configuration"),
        "{}",
        r.stderr
    );
    // An unlisted bucket gets `default`'s rules, and says so.
    let lints = repo_file("examples/config/lints.json");
    let r = run(
        &["export", "--bucket", "other", "--format", "s3-json", &lints],
        None,
    );
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("http://*.intranet.example.com"),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stderr,
        format!("note: {lints}: bucket \"other\" is not listed; exporting `default`, whose rules it gets\n")
    );
    // An invalid configuration is not exported.
    let r = run(
        &[
            "export",
            "--bucket",
            "photos",
            "--format",
            "s3-json",
            &data("invalid-config.json"),
        ],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("invalid plugin configuration, 4 errors"),
        "{}",
        r.stderr
    );
    // A format that does not exist is a usage error.
    let r = run(
        &["export", "--bucket", "b", "--format", "gcs-json", &lints],
        None,
    );
    assert_eq!(r.code, 2);
}
