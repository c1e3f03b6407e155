//! examples/istio/: the `WasmPlugin` is a well-formed Istio resource whose
//! `pluginConfig`, converted to JSON as Istio hands it to the filter, passes
//! `bucket-cors check` (the built binary); and the Dockerfile packages the
//! module the way Istio pulls it.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Map, Number, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    let path = repo().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// YAML → JSON, as Istio does with `pluginConfig`. Refuses what JSON cannot say.
fn to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(s) => {
            let f: f64 = s.parse().unwrap_or_else(|_| panic!("bad number {s}"));
            Value::Number(Number::from_f64(f).unwrap_or_else(|| panic!("non-finite number {s}")))
        }
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let Yaml::String(k) = k else {
                    panic!("non-string key {k:?}");
                };
                assert!(m.insert(k.clone(), to_json(v)).is_none(), "key {k} twice");
            }
            Value::Object(m)
        }
        Yaml::Alias(_) | Yaml::BadValue => panic!("unsupported YAML node {y:?}"),
    }
}

fn bucket_cors(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bucket-cors"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bucket-cors");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait for bucket-cors");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn wasm_plugin() -> Yaml {
    let text = read("examples/istio/wasmplugin.yaml");
    let mut docs = YamlLoader::load_from_str(&text).expect("wasmplugin.yaml is valid YAML");
    assert_eq!(docs.len(), 1, "wasmplugin.yaml: exactly one document");
    docs.remove(0)
}

fn plugin_config_json(doc: &Yaml) -> Value {
    let config = &doc["spec"]["pluginConfig"];
    assert!(
        config.as_hash().is_some(),
        "spec.pluginConfig must be a mapping"
    );
    to_json(config)
}

#[test]
fn wasmplugin_is_a_well_formed_wasm_plugin() {
    let doc = wasm_plugin();
    assert_eq!(
        doc["apiVersion"].as_str(),
        Some("extensions.istio.io/v1alpha1")
    );
    assert_eq!(doc["kind"].as_str(), Some("WasmPlugin"));
    let name = doc["metadata"]["name"].as_str().expect("metadata.name");
    assert!(!name.is_empty());
    let spec = &doc["spec"];
    assert!(spec.as_hash().is_some(), "spec must be a mapping");

    let url = spec["url"].as_str().expect("spec.url");
    assert!(
        ["oci://", "https://", "http://", "file://"]
            .iter()
            .any(|s| url.starts_with(s)),
        "spec.url {url:?}: not an oci://, http(s):// or file:// URL"
    );
    // Istio's phases; AUTHN so preflights are answered before authentication.
    let phase = spec["phase"].as_str().expect("spec.phase");
    assert!(["AUTHN", "AUTHZ", "STATS", "UNSPECIFIED_PHASE"].contains(&phase));
    assert_eq!(
        phase, "AUTHN",
        "preflights carry no credentials: run before authn"
    );

    // Where it applies: a workload selector or targetRefs.
    let labels = spec["selector"]["matchLabels"].as_hash();
    let target_refs = spec["targetRefs"].as_vec();
    assert!(
        labels.is_some_and(|l| !l.is_empty()) || target_refs.is_some_and(|t| !t.is_empty()),
        "spec.selector.matchLabels or spec.targetRefs must say where the plugin runs"
    );
    if let Some(labels) = labels {
        for (k, v) in labels {
            assert!(
                k.as_str().is_some() && v.as_str().is_some(),
                "matchLabels: strings"
            );
        }
    }
    if let Some(p) = spec["failStrategy"].as_str() {
        assert!(["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"].contains(&p));
    }
    if let Some(p) = spec["imagePullPolicy"].as_str() {
        assert!(["UNSPECIFIED_POLICY", "IfNotPresent", "Always"].contains(&p));
    }
    if !spec["priority"].is_badvalue() {
        assert!(
            spec["priority"].as_i64().is_some(),
            "spec.priority: an integer"
        );
    }
}

#[test]
fn wasmplugin_plugin_config_passes_bucket_cors_check() {
    let json = serde_json::to_string_pretty(&plugin_config_json(&wasm_plugin())).unwrap();
    let (code, stdout, stderr) = bucket_cors(&["check", "-"], &json);
    assert_eq!(
        code, 0,
        "pluginConfig refused by bucket-cors check:\n{stderr}\n{json}"
    );
    assert!(stdout.starts_with("<stdin>: valid ("), "{stdout}");

    // And the filter answers a preflight of the web app as the comments say.
    let (code, stdout, stderr) = bucket_cors(
        &[
            "explain",
            "-c",
            "-",
            "-X",
            "OPTIONS",
            "--url",
            "https://user-uploads.s3.example.com/photo.jpg",
            "-H",
            "Origin: https://app.example.com",
            "-H",
            "Access-Control-Request-Method: PUT",
            "-H",
            "Access-Control-Request-Headers: content-type",
        ],
        &json,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\ndecision: reply 200 "), "{stdout}");
    assert!(
        stdout.ends_with("outcome: bucket_cors.preflight.allowed\n"),
        "{stdout}"
    );
}

/// The check above can fail: the same pluginConfig with a refused origin is
/// reported with the filter's message and exit code 1.
#[test]
fn a_broken_plugin_config_fails_the_check() {
    let mut config = plugin_config_json(&wasm_plugin());
    let buckets = config["buckets"].as_object_mut().expect("buckets");
    let (name, first) = buckets.iter_mut().next().expect("a bucket");
    let name = name.clone();
    first["CORSRule"][0]["AllowedOrigin"] = serde_json::json!(["null"]);
    let (code, stdout, stderr) = bucket_cors(&["check", "-"], &config.to_string());
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stderr.contains(&format!("bucket {name:?} rule 0")) && stderr.contains("\"null\""),
        "{stderr}"
    );
}

#[test]
fn dockerfile_packages_the_module_at_plugin_wasm_from_scratch() {
    let text = read("examples/istio/Dockerfile");
    let instructions: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        instructions.first(),
        Some(&"FROM scratch"),
        "{instructions:?}"
    );
    assert_eq!(
        instructions
            .iter()
            .filter(|l| l.starts_with("FROM "))
            .count(),
        1,
        "a single stage: the image is the module and nothing else"
    );
    let copy = instructions
        .iter()
        .find(|l| l.starts_with("COPY "))
        .expect("a COPY instruction");
    assert!(copy.ends_with(" /plugin.wasm"), "{copy}");
    let default_wasm = instructions
        .iter()
        .find_map(|l| l.strip_prefix("ARG WASM="))
        .expect("ARG WASM=<default module>");
    assert_eq!(
        default_wasm,
        "target/wasm32-wasip1/release/bucket_cors.wasm"
    );
    // The build context lets that module through the .dockerignore.
    let ignore = read(".dockerignore");
    assert!(ignore
        .lines()
        .any(|l| l == "!target/wasm32-wasip1/release/*.wasm"));
}
