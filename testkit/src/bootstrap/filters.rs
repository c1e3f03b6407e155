//! The HTTP filters a bootstrap can put before the router. A new kind of filter is one more
//! variant here: its `http_filters` entry and its per-virtual-host configuration, if any.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::{extension, pretty, typed, watched_file};

/// The Wasm runtime every Wasm filter here runs in (`vm_config.runtime`); the launcher asks
/// Envoy for it before it starts the Wasm filter.
pub const V8: &str = "envoy.wasm.runtime.v8";

const WASM: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const DYNAMIC_MODULE: &str =
    "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter";
const STRING_VALUE: &str = "type.googleapis.com/google.protobuf.StringValue";
const CORS: &str = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors";
const CORS_POLICY: &str = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";
const TYPED_EXTENSION_CONFIG: &str =
    "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig";

/// One HTTP filter of the listener's chain.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpFilter {
    /// A proxy-wasm filter (bucket-cors, or the bench's no-op) in V8.
    Wasm(WasmFilter),
    /// An Envoy HTTP dynamic module (a native shared library) loaded from a file.
    DynamicModule(ModuleFilter),
    /// Envoy's own CORS filter, with `policy` on the virtual host.
    NativeCors(CorsPolicy),
    /// A filter whose configuration Envoy takes from a watched ECDS file (Extension Config
    /// Discovery): the rules change without touching the listener, so nothing drains.
    Discovered(DiscoveredFilter),
}

/// An `http_filters` entry with `config_discovery` instead of `typed_config`. Envoy subscribes
/// to the extension configuration called `name` (the entry's name is the resource name) in
/// `file`, a discovery response that [`HttpFilter::extension_config_file`] writes; replace it
/// by a rename into its directory, which Envoy watches.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredFilter {
    pub name: String,
    pub file: PathBuf,
    /// The one configuration type Envoy accepts from the file (`type_urls`): another type is
    /// refused rather than turning this filter into a different one.
    pub type_url: &'static str,
}

/// A proxy-wasm filter from a local `.wasm` file; `name` is also its `root_id` and `vm_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct WasmFilter {
    pub name: String,
    pub file: PathBuf,
    /// The plugin configuration, passed as a `StringValue`.
    pub configuration: String,
}

/// A dynamic module's HTTP filter: module `module`, and the filter `filter_name` it implements,
/// configured with `configuration` (a `StringValue`: the module receives the bare text).
///
/// With `file: None` Envoy loads `lib<module>.so` from the directory in the environment variable
/// `ENVOY_DYNAMIC_MODULES_SEARCH_PATH` (the launcher's way); with `Some(file)` it loads that
/// file (`module.local.filename`), which Envoy 1.40 gets wrong in a listener from an LDS file:
/// it tries to `dlopen` the LDS file itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleFilter {
    pub module: String,
    pub file: Option<PathBuf>,
    pub filter_name: String,
    pub configuration: String,
}

impl HttpFilter {
    /// The bucket-cors filter from `wasm` with this plugin configuration (JSON text).
    pub fn bucket_cors(wasm: impl Into<PathBuf>, config_json: &str) -> HttpFilter {
        HttpFilter::Wasm(WasmFilter {
            name: "bucket-cors".into(),
            file: wasm.into(),
            configuration: config_json.into(),
        })
    }

    /// The bucket-cors dynamic module (`libbucket_cors_module.so`, from `so` or else found in
    /// `ENVOY_DYNAMIC_MODULES_SEARCH_PATH`) with this plugin configuration (JSON text).
    pub fn bucket_cors_module(so: Option<PathBuf>, config_json: &str) -> HttpFilter {
        HttpFilter::DynamicModule(ModuleFilter {
            module: "bucket_cors_module".into(),
            file: so,
            filter_name: "bucket-cors".into(),
            configuration: config_json.into(),
        })
    }

    /// An entry that takes `filter`'s kind of configuration, named `name`, from the ECDS
    /// `file` (see [`DiscoveredFilter`]).
    pub fn discovered(name: &str, file: impl Into<PathBuf>, filter: &HttpFilter) -> HttpFilter {
        HttpFilter::Discovered(DiscoveredFilter {
            name: name.into(),
            file: file.into(),
            type_url: filter.type_url(),
        })
    }

    /// The type URL of the filter's `typed_config`.
    pub fn type_url(&self) -> &'static str {
        match self {
            HttpFilter::Wasm(_) => WASM,
            HttpFilter::DynamicModule(_) => DYNAMIC_MODULE,
            HttpFilter::NativeCors(_) => CORS,
            HttpFilter::Discovered(d) => d.type_url,
        }
    }

    /// The ECDS file that gives this filter's configuration to the [`HttpFilter::Discovered`]
    /// entry called `name`: a discovery response under `version_info` `version` holding one
    /// `TypedExtensionConfig`.
    pub fn extension_config_file(&self, name: &str, version: u64) -> String {
        let mut resource = typed(TYPED_EXTENSION_CONFIG, self.entry());
        resource["name"] = json!(name);
        pretty(&json!({"version_info": version.to_string(), "resources": [resource]}))
    }

    /// The `http_filters` entry.
    pub(super) fn entry(&self) -> Value {
        match self {
            HttpFilter::Wasm(w) => {
                let config = json!({
                    "name": w.name,
                    "root_id": w.name,
                    "vm_config": {
                        "vm_id": w.name,
                        "runtime": V8,
                        "code": {"local": {"filename": w.file.to_string_lossy()}},
                    },
                    "configuration": typed(STRING_VALUE, json!({"value": w.configuration})),
                });
                extension("envoy.filters.http.wasm", WASM, json!({"config": config}))
            }
            HttpFilter::DynamicModule(m) => {
                let mut module = json!({"name": m.module});
                if let Some(file) = &m.file {
                    module["module"] = json!({"local": {"filename": file.to_string_lossy()}});
                }
                let config = json!({
                    "dynamic_module_config": module,
                    "filter_name": m.filter_name,
                    "filter_config": typed(STRING_VALUE, json!({"value": m.configuration})),
                });
                extension("envoy.filters.http.dynamic_modules", DYNAMIC_MODULE, config)
            }
            HttpFilter::NativeCors(_) => extension("envoy.filters.http.cors", CORS, json!({})),
            HttpFilter::Discovered(d) => json!({
                "name": d.name,
                "config_discovery": {
                    "config_source": {
                        "resource_api_version": "V3",
                        "path_config_source": watched_file(&d.file),
                    },
                    "type_urls": [d.type_url],
                },
            }),
        }
    }

    /// The filter's `typed_per_filter_config` entry on the virtual host, if it has one.
    pub(super) fn virtual_host_config(&self) -> Option<(String, Value)> {
        match self {
            HttpFilter::Wasm(_) | HttpFilter::DynamicModule(_) | HttpFilter::Discovered(_) => None,
            HttpFilter::NativeCors(p) => Some(("envoy.filters.http.cors".into(), p.to_json())),
        }
    }
}

/// The fields of Envoy's `CorsPolicy` a bucket rule maps to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CorsPolicy {
    /// Origins allowed exactly.
    pub origins: Vec<String>,
    /// Origins allowed by a (RE2) regular expression.
    pub origin_regexes: Vec<String>,
    /// `allow_methods`, `allow_headers`, `expose_headers`: comma-separated, as Envoy takes them.
    pub methods: String,
    pub headers: String,
    pub expose_headers: String,
    pub max_age: Option<u64>,
    pub credentials: bool,
}

impl CorsPolicy {
    fn to_json(&self) -> Value {
        let matchers: Vec<Value> = self
            .origins
            .iter()
            .map(|o| json!({"exact": o}))
            .chain(
                self.origin_regexes
                    .iter()
                    .map(|r| json!({"safe_regex": {"regex": r}})),
            )
            .collect();
        let mut p = Map::new();
        p.insert("allow_origin_string_match".into(), Value::Array(matchers));
        p.insert("allow_methods".into(), json!(self.methods));
        p.insert("allow_headers".into(), json!(self.headers));
        p.insert("expose_headers".into(), json!(self.expose_headers));
        p.insert("allow_credentials".into(), json!(self.credentials));
        if let Some(age) = self.max_age {
            p.insert("max_age".into(), json!(age.to_string()));
        }
        typed(CORS_POLICY, Value::Object(p))
    }
}
