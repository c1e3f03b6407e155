//! The configuration files shipped with the repository are checked against the
//! real configuration parser (`bucket_cors_core::Policy::from_json`) and against
//! each other: the example plugin configurations, the plugin configuration
//! inside `envoy/envoy.yaml` and `envoy/envoy-module.yaml` (the same one, for
//! the Wasm filter and the dynamic module) and in the extension-config file that
//! `envoy/envoy-ecds.yaml` takes it from through ECDS (which `envoy --mode
//! validate` only checks for existence), the Istio `WasmPlugin`, the Envoy
//! Gateway `EnvoyExtensionPolicy` in both forms (the Wasm extension, and the
//! dynamic module with the `EnvoyProxy` that allows it), and the Docker Compose
//! file that must run the very `envoy.yaml` that `make validate` checks.

// Test code: a failed expectation panics; the workspace denies that in shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bucket_cors_core::Policy;
use serde_json::{Map, Number, Value};
use std::fs;
use std::path::{Component, Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// Where `envoy/envoy.yaml` expects the wasm, relative to Envoy's working
/// directory (the repository root for `make run` / `make validate`).
const WASM_REL: &str = "target/wasm32-wasip1/release/bucket_cors.wasm";
const WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
/// Where `envoy/envoy-module.yaml` expects the dynamic module (`make build-module`).
const MODULE_REL: &str = "target/release/libbucket_cors_module.so";
const MODULE_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter";
const EXTENSION_CONFIG: &str = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";
const HCM: &str = "envoy.filters.network.http_connection_manager";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = repo().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every YAML document in `text`, in order.
fn yaml_docs(label: &str, text: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{label}: invalid YAML: {e}"))
}

/// The single YAML document in `text`.
fn yaml_doc(label: &str, text: &str) -> Yaml {
    let mut docs = yaml_docs(label, text);
    assert_eq!(docs.len(), 1, "{label}: expected exactly one YAML document");
    docs.remove(0)
}

/// The words of the Makefile variable `name` (`NAME := a b c`).
fn makefile_list(name: &str) -> Vec<String> {
    let makefile = read("Makefile");
    let line = makefile
        .lines()
        .find_map(|l| {
            let (var, value) = l.split_once(":=")?;
            (var.trim() == name).then_some(value)
        })
        .unwrap_or_else(|| panic!("Makefile: no `{name} :=` line"));
    line.split_whitespace().map(str::to_owned).collect()
}

/// YAML → JSON, as Istio does with `pluginConfig`. Refuses what JSON cannot say.
fn to_json(label: &str, y: &Yaml) -> Value {
    match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(s) => {
            let f: f64 = s
                .parse()
                .unwrap_or_else(|_| panic!("{label}: bad number {s}"));
            Value::Number(
                Number::from_f64(f).unwrap_or_else(|| panic!("{label}: non-finite number {s}")),
            )
        }
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(|i| to_json(label, i)).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let Yaml::String(k) = k else {
                    panic!("{label}: non-string key {k:?}");
                };
                m.insert(k.clone(), to_json(label, v));
            }
            Value::Object(m)
        }
        Yaml::Alias(_) | Yaml::BadValue => panic!("{label}: unsupported YAML node {y:?}"),
    }
}

fn str_at<'a>(label: &str, y: &'a Yaml, what: &str) -> &'a str {
    y.as_str()
        .unwrap_or_else(|| panic!("{label}: {what} must be a string, got {y:?}"))
}

fn list(y: &Yaml) -> &[Yaml] {
    y.as_vec().map(Vec::as_slice).unwrap_or(&[])
}

/// Parses `json` with the filter's own configuration parser; panics with every error.
fn accept(label: &str, json: &[u8]) -> Policy {
    Policy::from_json(json)
        .unwrap_or_else(|errors| panic!("{label}: plugin configuration refused:\n{errors}"))
}

/// The Envoy configurations `make validate` checks: `envoy/*.yaml` (and
/// `*.yml`) except the Docker Compose file. Keep in step with ENVOY_CONFIGS in
/// the Makefile.
fn envoy_configs() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(repo().join("envoy"))
        .expect("envoy/ exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name.ends_with(".yaml") || name.ends_with(".yml"))
                && !name.starts_with("docker-compose.")
        })
        .collect();
    out.sort();
    out
}

/// One HTTP filter entry (Wasm or dynamic module) of an Envoy bootstrap.
struct FilterEntry {
    /// `typed_config`: the entry's own, or the one its ECDS file gives it.
    typed: Yaml,
    /// Index among the HCM's http_filters, their count, and the last one's name.
    index: usize,
    filter_count: usize,
    last_filter: String,
}

fn wasm_filters(label: &str, bootstrap: &Yaml) -> Vec<FilterEntry> {
    filters_of_type(label, bootstrap, WASM_TYPE)
}

fn module_filters(label: &str, bootstrap: &Yaml) -> Vec<FilterEntry> {
    filters_of_type(label, bootstrap, MODULE_TYPE)
}

/// The `typed_config` of an `http_filters` entry: its own, or, for an entry with
/// `config_discovery`, the one in the extension-config file it watches (read from
/// the repository root, as Envoy run from there reads it).
fn typed_config(label: &str, entry: &Yaml) -> Yaml {
    let discovery = &entry["config_discovery"];
    if discovery.is_badvalue() {
        return entry["typed_config"].clone();
    }
    let name = str_at(label, &entry["name"], "http_filters[].name");
    let source = &discovery["config_source"];
    assert_eq!(
        source["resource_api_version"].as_str(),
        Some("V3"),
        "{label}"
    );
    let path = str_at(
        label,
        &source["path_config_source"]["path"],
        "path_config_source.path",
    );
    let watched = str_at(
        label,
        &source["path_config_source"]["watched_directory"]["path"],
        "watched_directory.path",
    );
    assert_eq!(
        Path::new(path).parent(),
        Some(Path::new(watched)),
        "{label}: Envoy sees a replaced file only through the directory it watches"
    );
    let file_label = format!("{path} (ECDS file of {label})");
    let file = yaml_doc(&file_label, &read(path));
    str_at(&file_label, &file["version_info"], "version_info");
    let resources = list(&file["resources"]);
    assert_eq!(
        resources.len(),
        1,
        "{file_label}: one extension configuration"
    );
    let resource = &resources[0];
    assert_eq!(
        resource["@type"].as_str(),
        Some(EXTENSION_CONFIG),
        "{file_label}"
    );
    assert_eq!(
        resource["name"].as_str(),
        Some(name),
        "{file_label}: Envoy looks for the resource named like the http_filters entry"
    );
    let typed = resource["typed_config"].clone();
    let type_url = str_at(&file_label, &typed["@type"], "typed_config.@type");
    assert!(
        list(&discovery["type_urls"])
            .iter()
            .any(|u| u.as_str() == Some(type_url)),
        "{label}: type_urls does not admit the file's {type_url}"
    );
    typed
}

/// Every HTTP filter whose configuration has type `type_url` in the static listeners'
/// connection managers, inline or through ECDS.
fn filters_of_type(label: &str, bootstrap: &Yaml, type_url: &str) -> Vec<FilterEntry> {
    let mut out = Vec::new();
    for listener in list(&bootstrap["static_resources"]["listeners"]) {
        for chain in list(&listener["filter_chains"]) {
            for filter in list(&chain["filters"]) {
                if filter["name"].as_str() != Some(HCM) {
                    continue;
                }
                let http_filters = list(&filter["typed_config"]["http_filters"]);
                let last_filter = http_filters
                    .last()
                    .and_then(|f| f["name"].as_str())
                    .unwrap_or_else(|| panic!("{label}: HCM without http_filters"))
                    .to_owned();
                for (index, hf) in http_filters.iter().enumerate() {
                    let typed = typed_config(label, hf);
                    if typed["@type"].as_str() == Some(type_url) {
                        out.push(FilterEntry {
                            typed,
                            index,
                            filter_count: http_filters.len(),
                            last_filter: last_filter.clone(),
                        });
                    }
                }
            }
        }
    }
    out
}

/// The router last, bucket-cors before it.
fn assert_before_router(label: &str, f: &FilterEntry) {
    assert_eq!(
        f.last_filter, "envoy.filters.http.router",
        "{label}: the router must be the last HTTP filter"
    );
    assert!(
        f.index + 1 < f.filter_count,
        "{label}: bucket-cors must come before the router"
    );
}

/// The plugin configuration (JSON text) of a wasm filter that loads bucket-cors.
fn plugin_json(label: &str, f: &FilterEntry) -> String {
    let c = &f.typed["config"];
    assert_eq!(
        c["root_id"].as_str(),
        Some("bucket-cors"),
        "{label}: root_id"
    );
    let vm = &c["vm_config"];
    assert_eq!(
        vm["runtime"].as_str(),
        Some("envoy.wasm.runtime.v8"),
        "{label}: runtime"
    );
    assert_eq!(
        vm["code"]["local"]["filename"].as_str(),
        Some(WASM_REL),
        "{label}: the wasm filename must be the one `make build` produces, relative to the repo root"
    );
    let conf = &c["configuration"];
    assert_eq!(
        conf["@type"].as_str(),
        Some("type.googleapis.com/google.protobuf.StringValue"),
        "{label}: the plugin configuration is passed as a StringValue"
    );
    assert_before_router(label, f);
    str_at(label, &conf["value"], "configuration.value").to_owned()
}

/// The plugin configuration (JSON text) of a dynamic-module filter that loads bucket-cors.
fn module_plugin_json(label: &str, f: &FilterEntry) -> String {
    let c = &f.typed;
    let module = &c["dynamic_module_config"];
    assert_eq!(
        module["name"].as_str(),
        Some("bucket_cors_module"),
        "{label}: module name"
    );
    assert_eq!(
        module["module"]["local"]["filename"].as_str(),
        Some(MODULE_REL),
        "{label}: the module file must be the one `make build-module` produces, relative to the repo root"
    );
    assert_eq!(
        c["filter_name"].as_str(),
        Some("bucket-cors"),
        "{label}: filter_name"
    );
    let conf = &c["filter_config"];
    assert_eq!(
        conf["@type"].as_str(),
        Some("type.googleapis.com/google.protobuf.StringValue"),
        "{label}: the plugin configuration is passed as a StringValue"
    );
    assert_before_router(label, f);
    str_at(label, &conf["value"], "filter_config.value").to_owned()
}

fn envoy_yaml_plugin_json() -> String {
    let label = "envoy/envoy.yaml";
    let doc = yaml_doc(label, &read(label));
    let filters = wasm_filters(label, &doc);
    assert_eq!(filters.len(), 1, "{label}: expected one bucket-cors filter");
    plugin_json(label, &filters[0])
}

fn envoy_gateway_wasm(doc: &Yaml) -> &Yaml {
    let label = "examples/envoy-gateway/envoyextensionpolicy.yaml";
    let wasm = list(&doc["spec"]["wasm"]);
    assert_eq!(wasm.len(), 1, "{label}: expected one Wasm extension");
    &wasm[0]
}

/// A plugin configuration written as YAML at `field` of an example: accepted by the filter's
/// parser, and the Istio example's `pluginConfig`.
fn assert_istio_plugin_config(label: &str, field: &str, config: &Yaml) {
    let config = to_json(label, config);
    accept(
        &format!("{label} {field}"),
        &serde_json::to_vec(&config).unwrap(),
    );
    assert_eq!(
        config,
        istio_plugin_config(),
        "{label}: the plugin configuration at {field} must be the Istio example's pluginConfig"
    );
}

fn istio_plugin_config() -> Value {
    let label = "examples/istio/wasmplugin.yaml";
    let doc = yaml_doc(label, &read(label));
    to_json(label, &doc["spec"]["pluginConfig"])
}

// ---------------------------------------------------------------------------

#[test]
fn every_example_plugin_config_json_is_accepted() {
    let dir = repo().join("examples/config");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("examples/config exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in ["oss-style.json", "s3-pasted.json"] {
        assert!(
            names.iter().any(|n| n == expected),
            "missing {expected} in {names:?}"
        );
    }
    for path in &files {
        let bytes = fs::read(path).unwrap();
        accept(&path.display().to_string(), &bytes);
    }
}

#[test]
fn s3_pasted_example_holds_get_bucket_cors_output_verbatim() {
    let v: Value = serde_json::from_str(&read("examples/config/s3-pasted.json")).unwrap();
    let buckets = v["buckets"].as_object().expect("buckets");
    let pasted = buckets
        .values()
        .find(|b| b.get("CORSRules").is_some())
        .expect("a bucket whose value is `aws s3api get-bucket-cors` output");
    let rule = &pasted["CORSRules"][0];
    for key in [
        "AllowedHeaders",
        "AllowedMethods",
        "AllowedOrigins",
        "ExposeHeaders",
        "MaxAgeSeconds",
    ] {
        assert!(rule.get(key).is_some(), "S3 spelling {key} not used");
    }
}

#[test]
fn envoy_yaml_plugin_configuration_is_accepted() {
    let json = envoy_yaml_plugin_json();
    accept("envoy/envoy.yaml plugin configuration", json.as_bytes());
    let v: Value = serde_json::from_str(&json).unwrap();
    for bucket in ["photos", "public"] {
        assert!(
            v["buckets"].get(bucket).is_some(),
            "envoy/envoy.yaml: the demo bucket {bucket} is not configured"
        );
    }
}

#[test]
fn every_validated_envoy_config_that_loads_bucket_cors_has_an_accepted_plugin_configuration() {
    let configs = envoy_configs();
    assert!(
        configs.iter().any(|p| p.ends_with("envoy/envoy.yaml")),
        "envoy/envoy.yaml must be among the validated configurations: {configs:?}"
    );
    for path in &configs {
        let label = path.display().to_string();
        let doc = yaml_doc(&label, &fs::read_to_string(path).unwrap());
        for f in wasm_filters(&label, &doc) {
            accept(&label, plugin_json(&label, &f).as_bytes());
        }
        for f in module_filters(&label, &doc) {
            accept(&label, module_plugin_json(&label, &f).as_bytes());
        }
    }
}

#[test]
fn envoy_module_yaml_runs_the_demo_configuration_through_the_module() {
    let label = "envoy/envoy-module.yaml";
    assert!(
        envoy_configs().iter().any(|p| p.ends_with(label)),
        "{label} must be among the validated configurations"
    );
    let doc = yaml_doc(label, &read(label));
    assert!(
        wasm_filters(label, &doc).is_empty(),
        "{label}: loads a wasm"
    );
    let filters = module_filters(label, &doc);
    assert_eq!(filters.len(), 1, "{label}: expected one bucket-cors module");
    assert_eq!(
        module_plugin_json(label, &filters[0]),
        envoy_yaml_plugin_json(),
        "{label}: the plugin configuration differs from envoy/envoy.yaml's"
    );
}

#[test]
fn envoy_ecds_yaml_takes_the_demo_configuration_from_its_watched_file() {
    let label = "envoy/envoy-ecds.yaml";
    assert!(
        envoy_configs().iter().any(|p| p.ends_with(label)),
        "{label} must be among the validated configurations"
    );
    let doc = yaml_doc(label, &read(label));
    assert!(
        !doc["node"]["id"].is_badvalue() && !doc["node"]["cluster"].is_badvalue(),
        "{label}: Envoy refuses an xDS subscription without a node id and cluster"
    );
    let http_filters: Vec<&Yaml> = list(&doc["static_resources"]["listeners"])
        .iter()
        .flat_map(|l| list(&l["filter_chains"]))
        .flat_map(|c| list(&c["filters"]))
        .flat_map(|f| list(&f["typed_config"]["http_filters"]))
        .collect();
    assert!(
        http_filters
            .iter()
            .all(|f| f["typed_config"]["@type"].as_str() != Some(WASM_TYPE)),
        "{label}: the wasm filter must come through ECDS, not inline"
    );
    let filters = wasm_filters(label, &doc);
    assert_eq!(filters.len(), 1, "{label}: expected one bucket-cors filter");
    assert_eq!(
        plugin_json(label, &filters[0]),
        envoy_yaml_plugin_json(),
        "{label}: the plugin configuration differs from envoy/envoy.yaml's"
    );
}

#[test]
fn istio_wasmplugin_is_well_formed_and_its_plugin_config_is_accepted() {
    let label = "examples/istio/wasmplugin.yaml";
    let doc = yaml_doc(label, &read(label));
    assert_eq!(
        doc["apiVersion"].as_str(),
        Some("extensions.istio.io/v1alpha1")
    );
    assert_eq!(doc["kind"].as_str(), Some("WasmPlugin"));
    assert!(!str_at(label, &doc["metadata"]["name"], "metadata.name").is_empty());
    let spec = &doc["spec"];
    let url = str_at(label, &spec["url"], "spec.url");
    assert!(
        ["oci://", "https://", "http://", "file://"]
            .iter()
            .any(|s| url.starts_with(s)),
        "{label}: spec.url {url} has no scheme Istio knows"
    );
    assert_eq!(
        str_at(label, &spec["phase"], "spec.phase"),
        "AUTHN",
        "{label}: preflights must be answered before authentication"
    );
    assert!(
        spec["priority"].as_i64().is_some(),
        "{label}: spec.priority"
    );
    assert!(
        spec["selector"]["matchLabels"]
            .as_hash()
            .is_some_and(|h| !h.is_empty()),
        "{label}: spec.selector.matchLabels selects no workload"
    );
    let plugin = istio_plugin_config();
    assert!(
        plugin.is_object(),
        "{label}: spec.pluginConfig must be a mapping"
    );
    let json = serde_json::to_vec(&plugin).unwrap();
    accept(&format!("{label} spec.pluginConfig"), &json);
    assert!(
        plugin["buckets"].as_object().is_some_and(|b| b.len() >= 2),
        "{label}: expected a couple of buckets"
    );
    assert!(
        plugin["default"].is_object(),
        "{label}: expected a default configuration"
    );
}

/// An Envoy Gateway `EnvoyExtensionPolicy`'s header and `targetRefs` (a Gateway or an
/// HTTPRoute); returns `targetRefs`.
fn envoy_gateway_policy_targets<'a>(label: &str, doc: &'a Yaml) -> &'a [Yaml] {
    assert_eq!(
        doc["apiVersion"].as_str(),
        Some("gateway.envoyproxy.io/v1alpha1"),
        "{label}"
    );
    assert_eq!(
        doc["kind"].as_str(),
        Some("EnvoyExtensionPolicy"),
        "{label}"
    );
    assert!(!str_at(label, &doc["metadata"]["name"], "metadata.name").is_empty());
    let targets = list(&doc["spec"]["targetRefs"]);
    assert!(
        !targets.is_empty(),
        "{label}: spec.targetRefs attaches to nothing"
    );
    for t in targets {
        assert_eq!(t["group"].as_str(), Some("gateway.networking.k8s.io"));
        let kind = str_at(label, &t["kind"], "targetRefs[].kind");
        assert!(
            ["Gateway", "HTTPRoute"].contains(&kind),
            "{label}: an extension attaches to a Gateway or an HTTPRoute, not {kind}"
        );
        assert!(!str_at(label, &t["name"], "targetRefs[].name").is_empty());
    }
    targets
}

#[test]
fn envoy_gateway_extension_policy_is_well_formed_and_carries_the_istio_plugin_configuration() {
    let label = "examples/envoy-gateway/envoyextensionpolicy.yaml";
    let doc = yaml_doc(label, &read(label));
    envoy_gateway_policy_targets(label, &doc);
    let wasm = envoy_gateway_wasm(&doc);
    assert_eq!(
        wasm["rootID"].as_str(),
        Some("bucket-cors"),
        "{label}: rootID must be the filter's root context"
    );
    let code = &wasm["code"];
    let kind = str_at(label, &code["type"], "code.type");
    let url = match kind {
        "Image" => str_at(label, &code["image"]["url"], "code.image.url"),
        "HTTP" => str_at(label, &code["http"]["url"], "code.http.url"),
        other => panic!("{label}: code.type {other} is neither Image nor HTTP"),
    };
    assert!(!url.is_empty(), "{label}: the Wasm code has no URL");
    assert_eq!(
        wasm["failOpen"].as_bool(),
        Some(false),
        "{label}: an invalid config must fail closed"
    );
    assert_istio_plugin_config(label, "spec.wasm[0].config", &wasm["config"]);
}

/// Envoy Gateway's dynamic-module form: the policy names a module that the `EnvoyProxy`
/// allows, with the filter name the module implements (the one envoy/envoy-module.yaml
/// uses), the Istio example's plugin configuration, and the same targets as the Wasm form;
/// the `EnvoyProxy` mounts the module file where its entry says, and runs an Envoy the
/// module is tested on (`ENVOY_MATRIX_MODULE` in the Makefile, README "Envoy versions").
#[test]
fn envoy_gateway_dynamic_module_is_allowed_by_its_envoy_proxy_and_carries_the_istio_plugin_configuration(
) {
    let label = "examples/envoy-gateway/dynamic-module.yaml";
    let docs = yaml_docs(label, &read(label));
    let of_kind = |kind: &str| -> &Yaml {
        let found: Vec<&Yaml> = docs
            .iter()
            .filter(|d| d["kind"].as_str() == Some(kind))
            .collect();
        assert_eq!(found.len(), 1, "{label}: expected one {kind}");
        found[0]
    };
    assert_eq!(
        docs.len(),
        2,
        "{label}: an EnvoyProxy and an EnvoyExtensionPolicy"
    );
    let (proxy, policy) = (of_kind("EnvoyProxy"), of_kind("EnvoyExtensionPolicy"));
    assert_eq!(
        proxy["metadata"]["namespace"], policy["metadata"]["namespace"],
        "{label}: both resources in one namespace"
    );

    // The policy: the module's filter with the Istio example's configuration, on the same
    // targets as the Wasm form.
    let targets = envoy_gateway_policy_targets(label, policy);
    let wasm_label = "examples/envoy-gateway/envoyextensionpolicy.yaml";
    assert_eq!(
        targets,
        list(&yaml_doc(wasm_label, &read(wasm_label))["spec"]["targetRefs"]),
        "{label}: the module form attaches where the Wasm form does"
    );
    assert!(
        policy["spec"]["wasm"].is_badvalue(),
        "{label}: the module form loads no Wasm besides"
    );
    let modules = list(&policy["spec"]["dynamicModule"]);
    assert_eq!(
        modules.len(),
        1,
        "{label}: expected one spec.dynamicModule entry"
    );
    let module = &modules[0];
    let name = str_at(label, &module["name"], "dynamicModule[0].name");
    let demo = "envoy/envoy-module.yaml";
    let demo_filters = module_filters(demo, &yaml_doc(demo, &read(demo)));
    assert_eq!(
        module["filterName"].as_str(),
        demo_filters[0].typed["filter_name"].as_str(),
        "{label}: filterName must be the filter the module implements, as {demo} names it"
    );
    assert_istio_plugin_config(label, "spec.dynamicModule[0].config", &module["config"]);

    // The EnvoyProxy: the allow-list entry, the file where it says, a tested Envoy.
    assert_eq!(
        proxy["apiVersion"].as_str(),
        Some("gateway.envoyproxy.io/v1alpha1"),
        "{label}"
    );
    let entry = list(&proxy["spec"]["dynamicModules"])
        .iter()
        .find(|e| e["name"].as_str() == Some(name))
        .unwrap_or_else(|| {
            panic!("{label}: the EnvoyProxy's dynamicModules does not allow {name}")
        });
    assert_eq!(entry["source"]["type"].as_str(), Some("Local"), "{label}");
    let path = Path::new(str_at(
        label,
        &entry["source"]["local"]["path"],
        "dynamicModules[].source.local.path",
    ));
    assert!(
        path.is_absolute(),
        "{label}: {} is not absolute",
        path.display()
    );
    assert_eq!(
        path.file_name(),
        Path::new(MODULE_REL).file_name(),
        "{label}: the file `make build-module` produces"
    );
    let deployment = &proxy["spec"]["provider"]["kubernetes"]["envoyDeployment"];
    let mount = list(&deployment["container"]["volumeMounts"])
        .iter()
        .find(|m| m["mountPath"].as_str().is_some_and(|p| path.starts_with(p)))
        .unwrap_or_else(|| panic!("{label}: no volume is mounted where {} is", path.display()));
    let volume = str_at(label, &mount["name"], "volumeMounts[].name");
    assert!(
        list(&deployment["pod"]["volumes"])
            .iter()
            .any(|v| v["name"].as_str() == Some(volume)),
        "{label}: the pod has no volume {volume}"
    );
    let image = str_at(label, &deployment["container"]["image"], "container.image");
    let (repository, tag) = image
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{label}: {image} pins no tag"));
    assert!(
        repository.ends_with("envoyproxy/envoy"),
        "{label}: {image} is not the official Envoy image"
    );
    let version = tag
        .trim_start_matches("distroless-")
        .trim_start_matches('v');
    let tested = makefile_list("ENVOY_MATRIX_MODULE");
    assert!(
        tested.iter().any(|v| v == version),
        "{label}: {image} runs Envoy {version}; the module is tested on {tested:?}"
    );
}

/// Lexical normalisation (the wasm need not exist yet).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// (source resolved against envoy/, target) of each bind mount of a compose service.
fn bind_mounts(service: &Yaml) -> Vec<(PathBuf, PathBuf)> {
    let base = repo().join("envoy");
    list(&service["volumes"])
        .iter()
        .filter_map(|v| {
            let (src, dst) = match v {
                Yaml::String(s) => {
                    let mut parts = s.split(':');
                    (parts.next()?.to_owned(), parts.next()?.to_owned())
                }
                _ => (
                    v["source"].as_str()?.to_owned(),
                    v["target"].as_str()?.to_owned(),
                ),
            };
            // A named volume is not a bind mount.
            if !(src.starts_with('.') || src.starts_with('/')) {
                return None;
            }
            Some((normalize(&base.join(src)), PathBuf::from(dst)))
        })
        .collect()
}

#[test]
fn docker_compose_runs_the_validated_envoy_yaml_with_the_wasm_where_it_expects() {
    let label = "envoy/docker-compose.yaml";
    let doc = yaml_doc(label, &read(label));
    let services = &doc["services"];
    let envoy = &services["envoy"];
    assert!(
        str_at(label, &envoy["image"], "services.envoy.image").starts_with("envoyproxy/envoy:"),
        "{label}: the official Envoy image"
    );
    let mounts = bind_mounts(envoy);

    // The -c argument of the Envoy command is a mount of a validated config.
    let command: Vec<&str> = list(&envoy["command"])
        .iter()
        .map(|a| str_at(label, a, "command item"))
        .collect();
    let c = command
        .iter()
        .position(|a| *a == "-c" || *a == "--config-path")
        .map(|i| command[i + 1])
        .unwrap_or("/etc/envoy/envoy.yaml"); // the image's default
    let (config_src, _) = mounts
        .iter()
        .find(|(_, dst)| dst == Path::new(c))
        .unwrap_or_else(|| panic!("{label}: nothing is mounted at {c}"));
    let validated: Vec<PathBuf> = envoy_configs().iter().map(|p| normalize(p)).collect();
    assert!(
        validated.contains(config_src),
        "{label}: mounts {} at {c}, which `make validate` does not check ({validated:?})",
        config_src.display()
    );

    // The wasm: envoy.yaml's relative filename, resolved in the container's
    // working_dir, is a mount of the wasm `make build` produces.
    let wd = str_at(label, &envoy["working_dir"], "services.envoy.working_dir");
    let config_text = fs::read_to_string(config_src).unwrap();
    let filters = wasm_filters(label, &yaml_doc(label, &config_text));
    assert!(
        !filters.is_empty(),
        "{label}: the mounted config loads no wasm"
    );
    for f in &filters {
        let filename = str_at(
            label,
            &f.typed["config"]["vm_config"]["code"]["local"]["filename"],
            "filename",
        );
        let in_container = normalize(&Path::new(wd).join(filename));
        let (wasm_src, _) = mounts
            .iter()
            .find(|(_, dst)| *dst == in_container)
            .unwrap_or_else(|| {
                panic!(
                    "{label}: envoy.yaml loads {} but nothing is mounted there",
                    in_container.display()
                )
            });
        assert_eq!(
            *wasm_src,
            normalize(&repo().join(WASM_REL)),
            "{label}: the wasm mounted is not the one `make build` produces"
        );
    }

    // envoy.yaml reaches the object store on 127.0.0.1:9000: both services
    // must share the host's network for that address to be MinIO.
    assert!(
        config_text.contains("address: 127.0.0.1, port_value: 9000"),
        "{label}: envoy.yaml's object store address changed; revisit the networking"
    );
    for name in ["envoy", "minio"] {
        assert_eq!(
            services[name]["network_mode"].as_str(),
            Some("host"),
            "{label}: service {name} must use the host network"
        );
    }
    assert!(
        str_at(label, &services["minio"]["image"], "services.minio.image")
            .starts_with("minio/minio")
    );
}

#[test]
fn a_broken_copy_of_the_envoy_plugin_configuration_is_refused() {
    let mut v: Value = serde_json::from_str(&envoy_yaml_plugin_json()).unwrap();
    // A wildcard origin that would hand every site the user's cookies.
    v["buckets"]["photos"]["CORSRule"][0]["AllowedOrigin"] = serde_json::json!(["https://*"]);
    let errors = Policy::from_json(&serde_json::to_vec(&v).unwrap())
        .expect_err("`https://*` must be refused");
    let text = errors.to_string();
    assert!(
        text.contains("photos"),
        "the error must name the bucket: {text}"
    );

    assert!(
        Policy::from_json(b"{\"buckets\": {").is_err(),
        "truncated JSON must be refused"
    );
}

#[test]
fn a_typo_in_an_istio_plugin_config_field_is_refused() {
    let mut v = istio_plugin_config();
    let rule = v["buckets"]
        .as_object_mut()
        .and_then(|b| b.values_mut().next())
        .and_then(|b| b["CORSRule"].get_mut(0))
        .and_then(Value::as_object_mut)
        .expect("a bucket with a rule");
    let origins = rule.remove("AllowedOrigin").expect("AllowedOrigin");
    rule.insert("AllowedOrign".to_owned(), origins);
    let errors = Policy::from_json(&serde_json::to_vec(&v).unwrap())
        .expect_err("an unknown field must be refused");
    assert!(
        errors.to_string().contains("AllowedOrign"),
        "the error must name the field: {errors}"
    );
}

// ------------------------------------------------- interim responses (spec §2.4)

/// Every YAML file under `envoy/` and `examples/`, and every `yaml` block of the README: the
/// Envoy configurations this repository shows, whole or in part.
fn shipped_yaml() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|e| e.expect("readable dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, out);
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                let rel = path.strip_prefix(repo()).unwrap_or(&path);
                out.push((
                    rel.display().to_string(),
                    fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for dir in ["envoy", "examples"] {
        walk(&repo().join(dir), &mut out);
    }
    let readme = read("README.md");
    for (i, block) in readme.split("```yaml\n").skip(1).enumerate() {
        let block = block.split("```").next().unwrap_or_default();
        out.push((format!("README.md yaml block {}", i + 1), block.to_owned()));
    }
    out
}

/// Where `doc` enables the connection manager's `proxy_100_continue` in front of a bucket-cors
/// filter that strips the upstream's CORS (`upstream_cors` other than `"pass"`): Envoy shows
/// interim responses to no filter, so an upstream's `100 Continue` or `103 Early Hints` would
/// keep its `Access-Control-Allow-*` headers. One line per such filter.
fn interim_leaks(label: &str, doc: &Yaml) -> Vec<String> {
    let mut out = Vec::new();
    match doc {
        Yaml::Hash(h) => {
            let proxies_1xx = doc["proxy_100_continue"].as_bool() == Some(true);
            if proxies_1xx && !doc["http_filters"].is_badvalue() {
                for entry in list(&doc["http_filters"]) {
                    let typed = typed_config(label, entry);
                    let plugin = match typed["@type"].as_str() {
                        Some(WASM_TYPE)
                            if typed["config"]["root_id"].as_str() == Some("bucket-cors") =>
                        {
                            &typed["config"]["configuration"]["value"]
                        }
                        Some(MODULE_TYPE)
                            if typed["dynamic_module_config"]["name"].as_str()
                                == Some("bucket_cors_module") =>
                        {
                            &typed["filter_config"]["value"]
                        }
                        _ => continue,
                    };
                    let plugin: Value =
                        serde_json::from_str(str_at(label, plugin, "plugin configuration"))
                            .unwrap_or_else(|e| {
                                panic!("{label}: plugin configuration is not JSON: {e}")
                            });
                    if plugin["upstream_cors"].as_str() != Some("pass") {
                        out.push(format!(
                            "{label}: proxy_100_continue: true in front of bucket-cors with upstream_cors \"strip\""
                        ));
                    }
                }
            }
            for v in h.values() {
                out.extend(interim_leaks(label, v));
            }
        }
        Yaml::Array(items) => {
            for v in items {
                out.extend(interim_leaks(label, v));
            }
        }
        _ => {}
    }
    out
}

/// docs/spec.md §2.4: no configuration shipped here proxies interim responses past a filter
/// that strips the upstream's CORS, since those responses are out of the filter's reach.
#[test]
fn no_shipped_envoy_configuration_proxies_interim_responses_past_a_stripping_filter() {
    let shipped = shipped_yaml();
    assert!(
        shipped.iter().any(|(l, _)| l == "envoy/envoy.yaml")
            && shipped
                .iter()
                .any(|(l, _)| l.starts_with("README.md yaml block")),
        "the check must see envoy/ and the README: {:?}",
        shipped.iter().map(|(l, _)| l).collect::<Vec<_>>()
    );
    let mut leaks = Vec::new();
    for (label, text) in &shipped {
        let docs = YamlLoader::load_from_str(text)
            .unwrap_or_else(|e| panic!("{label}: invalid YAML: {e}"));
        for doc in &docs {
            leaks.extend(interim_leaks(label, doc));
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

/// The check above finds what it looks for: envoy/envoy.yaml and envoy/envoy-module.yaml with
/// `proxy_100_continue: true` added are caught, and are not once the plugin configuration says
/// `upstream_cors: "pass"`.
#[test]
fn proxy_100_continue_in_front_of_a_stripping_filter_is_caught() {
    for label in ["envoy/envoy.yaml", "envoy/envoy-module.yaml"] {
        let text = read(label);
        let hcm_type = "HttpConnectionManager\n";
        let at = text.find(hcm_type).expect("an HCM typed_config") + hcm_type.len();
        let indent = " ".repeat(16);
        let proxied = format!(
            "{}{indent}proxy_100_continue: true\n{}",
            &text[..at],
            &text[at..]
        );
        let doc = yaml_doc(label, &proxied);
        assert_eq!(interim_leaks(label, &doc).len(), 1, "{label}: not caught");
        let passed = proxied.replacen(
            "\"path_style\": true,",
            "\"path_style\": true, \"upstream_cors\": \"pass\",",
            1,
        );
        assert_ne!(
            passed, proxied,
            "{label}: the plugin configuration changed shape"
        );
        assert!(
            interim_leaks(label, &yaml_doc(label, &passed)).is_empty(),
            "{label}"
        );
    }
}

/// The Istio recipe for rules read from the store (docs/spec.md §8): its pluginConfig is
/// accepted and reads through the cluster its EnvoyFilter adds, a cluster that signs each
/// read with Envoy's `aws_request_signing` (credentials from the environment only).
#[test]
fn istio_rules_from_store_reads_through_the_signing_cluster_it_adds() {
    let label = "examples/istio/rules-from-store.yaml";
    let docs = yaml_docs(label, &read(label));
    assert_eq!(docs.len(), 2, "{label}: an EnvoyFilter and a WasmPlugin");
    let plugin = to_json(label, &docs[1]["spec"]["pluginConfig"]);
    let policy = accept(label, &serde_json::to_vec(&plugin).unwrap());
    let source = policy.rules_source().expect("rules_source");
    let cluster = to_json(
        label,
        &docs[0]["spec"]["configPatches"][0]["patch"]["value"],
    );
    assert_eq!(
        cluster["name"], *source.cluster,
        "{label}: the cluster read from"
    );
    let options = &cluster["typed_extension_protocol_options"]
        ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    let filters: Vec<&str> = options["http_filters"]
        .as_array()
        .expect("http_filters")
        .iter()
        .map(|f| f["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        filters,
        [
            "envoy.filters.http.aws_request_signing",
            "envoy.filters.http.upstream_codec"
        ]
    );
    let provider = &options["http_filters"][0]["typed_config"]["credential_provider"];
    assert_eq!(
        provider["environment_credential_provider"],
        serde_json::json!({})
    );
    assert!(
        !plugin.to_string().to_lowercase().contains("secret"),
        "{label}: no credential in the plugin configuration"
    );
}
