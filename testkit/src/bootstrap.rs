//! The one generator of the Envoy bootstraps the tests, the soak and the bench run: an admin
//! interface, one listener (HTTP connection manager → the chosen HTTP filters → router) and
//! its routes, each to a cluster or answered by Envoy itself (`direct_response`).
//!
//! Everything binds 127.0.0.1. The listener is in the bootstrap, or (with
//! [`Bootstrap::listener_from_file`]) read from a watched LDS file that [`Bootstrap::lds`]
//! writes. Process-level settings (`--concurrency`, `--base-id`, hot restart, logs) are the
//! launcher's, not the bootstrap's. A new kind of filter is a new [`HttpFilter`] variant: its
//! `http_filters` entry and any per-virtual-host configuration are written in one place.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

mod filters;
pub use filters::{CorsPolicy, DiscoveredFilter, HttpFilter, ModuleFilter, WasmFilter, V8};

const HCM: &str =
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER: &str = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
const LISTENER: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
const HTTP_PROTOCOL_OPTIONS_KEY: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
const HTTP_PROTOCOL_OPTIONS: &str =
    "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
const AWS_REQUEST_SIGNING: &str =
    "type.googleapis.com/envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning";
const UPSTREAM_CODEC: &str =
    "type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec";

/// The listener's name (the operations suite finds it by this name in `/config_dump`).
pub const LISTENER_NAME: &str = "main";

/// An Envoy bootstrap, built field by field; see the module documentation.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub admin_port: u16,
    pub listen_port: u16,
    /// The HTTP filters before the router, in order (empty: the router alone).
    pub filters: Vec<HttpFilter>,
    /// Routes of the one virtual host (any domain), tried in order.
    pub routes: Vec<Route>,
    pub clusters: Vec<Cluster>,
    /// HCM `preserve_external_request_id`.
    pub preserve_external_request_id: bool,
    /// HCM `generate_request_id`.
    pub generate_request_id: bool,
    /// HCM `proxy_100_continue`: the upstream's interim (1xx) responses are proxied to the
    /// client instead of Envoy answering `Expect: 100-continue` itself.
    pub proxy_100_continue: bool,
    /// `response_headers_to_remove` of every route to a cluster: Envoy removes these from the
    /// upstream's response before any HTTP filter sees it, and (Envoy 1.40) from its interim
    /// responses too.
    pub response_headers_to_remove: Vec<String>,
    /// `Some(file)`: the listener comes from this LDS file (a discovery response), watched
    /// through its directory; `None`: it is in `static_resources`.
    pub lds_file: Option<PathBuf>,
}

/// A route: requests whose path starts with `prefix` get `action`.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub prefix: String,
    pub action: RouteAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteAction {
    /// Forward to the named cluster, with this route timeout (`None`: Envoy's default).
    Cluster {
        name: String,
        timeout: Option<Duration>,
    },
    /// Envoy answers itself; the response filters still run.
    Direct { status: u16, body: String },
}

/// A static cluster of one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub name: String,
    pub addr: SocketAddr,
    pub connect_timeout: Duration,
    /// `Some(region)`: Envoy signs every request it sends here with S3's SigV4 (an upstream
    /// HTTP filter), with the credential in Envoy's environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`): how spec §8's `rules_source.cluster` reads a store.
    pub s3_signing_region: Option<String>,
}

/// The name of the cluster [`Bootstrap::to_upstream`] routes to.
pub const UPSTREAM: &str = "objstore";

impl Bootstrap {
    /// A listener whose every request goes to `upstream` (one cluster), no HTTP filter yet.
    pub fn to_upstream(listen_port: u16, admin_port: u16, upstream: SocketAddr) -> Bootstrap {
        Bootstrap {
            routes: vec![Route {
                prefix: "/".into(),
                action: RouteAction::Cluster {
                    name: UPSTREAM.into(),
                    timeout: None,
                },
            }],
            clusters: vec![Cluster {
                name: UPSTREAM.into(),
                addr: upstream,
                connect_timeout: Duration::from_secs(1),
                s3_signing_region: None,
            }],
            ..Self::direct(listen_port, admin_port, 200, "ok")
        }
    }

    /// A listener that answers every request itself (`direct_response`), no HTTP filter yet.
    pub fn direct(listen_port: u16, admin_port: u16, status: u16, body: &str) -> Bootstrap {
        Bootstrap {
            admin_port,
            listen_port,
            filters: Vec::new(),
            routes: vec![Route {
                prefix: "/".into(),
                action: RouteAction::Direct {
                    status,
                    body: body.into(),
                },
            }],
            clusters: Vec::new(),
            preserve_external_request_id: false,
            generate_request_id: true,
            proxy_100_continue: false,
            response_headers_to_remove: Vec::new(),
            lds_file: None,
        }
    }

    /// Adds an HTTP filter after those already there (before the router).
    pub fn filter(mut self, f: HttpFilter) -> Bootstrap {
        self.filters.push(f);
        self
    }

    /// Sets the timeout of every route to a cluster.
    pub fn route_timeout(mut self, t: Duration) -> Bootstrap {
        for route in &mut self.routes {
            if let RouteAction::Cluster { timeout, .. } = &mut route.action {
                *timeout = Some(t);
            }
        }
        self
    }

    /// Takes the listener from `file` instead of `static_resources`.
    pub fn listener_from_file(mut self, file: impl Into<PathBuf>) -> Bootstrap {
        self.lds_file = Some(file.into());
        self
    }

    /// The bootstrap file (JSON). JSON rather than YAML: Envoy parses a JSON file much faster
    /// (a 100,000-bucket plugin configuration is tens of MB), and any YAML reader reads it too.
    pub fn bootstrap(&self) -> String {
        let clusters: Vec<Value> = self.clusters.iter().map(Cluster::to_json).collect();
        let mut boot = json!({"admin": {"address": socket_address(self.admin_port)}});
        // Envoy refuses any xDS subscription, files included, without a node identity.
        let discovered = self
            .filters
            .iter()
            .any(|f| matches!(f, HttpFilter::Discovered(_)));
        if self.lds_file.is_some() || discovered {
            boot["node"] = json!({"id": "bucket-cors-test", "cluster": "bucket-cors-test"});
        }
        match &self.lds_file {
            None => {
                boot["static_resources"] =
                    json!({"listeners": [self.listener()], "clusters": clusters});
            }
            Some(file) => {
                boot["dynamic_resources"] = json!({"lds_config": {
                    "resource_api_version": "V3",
                    "path_config_source": watched_file(file),
                }});
                boot["static_resources"] = json!({"clusters": clusters});
            }
        }
        pretty(&boot)
    }

    /// The LDS file (a discovery response holding the listener) under `version_info` `version`;
    /// replace the watched file with it by a rename.
    pub fn lds(&self, version: u64) -> String {
        pretty(&json!({
            "version_info": version.to_string(),
            "resources": [typed(LISTENER, self.listener())],
        }))
    }

    fn listener(&self) -> Value {
        let mut http_filters: Vec<Value> = self.filters.iter().map(HttpFilter::entry).collect();
        http_filters.push(extension("envoy.filters.http.router", ROUTER, json!({})));
        let routes: Vec<Value> = self
            .routes
            .iter()
            .map(|r| r.to_json(&self.response_headers_to_remove))
            .collect();
        let mut vhost = json!({"name": "all", "domains": ["*"], "routes": routes});
        let per_filter: serde_json::Map<String, Value> = self
            .filters
            .iter()
            .filter_map(HttpFilter::virtual_host_config)
            .collect();
        if !per_filter.is_empty() {
            vhost["typed_per_filter_config"] = Value::Object(per_filter);
        }
        let hcm = json!({
            "stat_prefix": "ingress",
            "codec_type": "AUTO",
            "preserve_external_request_id": self.preserve_external_request_id,
            "generate_request_id": self.generate_request_id,
            "proxy_100_continue": self.proxy_100_continue,
            "route_config": {"name": "local", "virtual_hosts": [vhost]},
            "http_filters": http_filters,
        });
        json!({
            "name": LISTENER_NAME,
            "address": socket_address(self.listen_port),
            "filter_chains": [{"filters": [
                extension("envoy.filters.network.http_connection_manager", HCM, hcm),
            ]}],
        })
    }
}

impl Route {
    /// The route; `remove` is its `response_headers_to_remove` when it goes to a cluster.
    fn to_json(&self, remove: &[String]) -> Value {
        let mut route = json!({"match": {"prefix": self.prefix}});
        match &self.action {
            RouteAction::Cluster { name, timeout } => {
                route["route"] = json!({"cluster": name});
                if let Some(t) = timeout {
                    route["route"]["timeout"] = duration(*t);
                }
                if !remove.is_empty() {
                    route["response_headers_to_remove"] = json!(remove);
                }
            }
            RouteAction::Direct { status, body } => {
                route["direct_response"] =
                    json!({"status": status, "body": {"inline_string": body}});
            }
        }
        route
    }
}

impl Cluster {
    /// A cluster of `addr` whose every request Envoy signs for S3 in `region` (see
    /// [`Cluster::s3_signing_region`]).
    pub fn s3_signed(name: &str, addr: SocketAddr, region: &str) -> Cluster {
        Cluster {
            name: name.into(),
            addr,
            connect_timeout: Duration::from_secs(1),
            s3_signing_region: Some(region.into()),
        }
    }

    fn to_json(&self) -> Value {
        let endpoint = json!({"endpoint": {"address": {"socket_address": {
            "address": self.addr.ip().to_string(),
            "port_value": self.addr.port(),
        }}}});
        let mut cluster = json!({
            "name": self.name,
            "type": "STATIC",
            "connect_timeout": duration(self.connect_timeout),
            "load_assignment": {
                "cluster_name": self.name,
                "endpoints": [{"lb_endpoints": [endpoint]}],
            },
        });
        if let Some(region) = &self.s3_signing_region {
            // Upstream HTTP filters live in the cluster's protocol options; the last is the codec.
            let signing = json!({
                "service_name": "s3",
                "region": region,
                "use_unsigned_payload": true,
            });
            let options = json!({
                "explicit_http_config": {"http_protocol_options": {}},
                "http_filters": [
                    extension("envoy.filters.http.aws_request_signing", AWS_REQUEST_SIGNING, signing),
                    extension("envoy.filters.http.upstream_codec", UPSTREAM_CODEC, json!({})),
                ],
            });
            cluster["typed_extension_protocol_options"] =
                json!({HTTP_PROTOCOL_OPTIONS_KEY: typed(HTTP_PROTOCOL_OPTIONS, options)});
        }
        cluster
    }
}

/// The text of a file Envoy reads: indented by two spaces per level, so that a failing test's
/// bootstrap can be read.
pub(super) fn pretty(v: &Value) -> String {
    format!("{v:#}\n")
}

fn socket_address(port: u16) -> Value {
    json!({"socket_address": {"address": "127.0.0.1", "port_value": port}})
}

/// A `PathConfigSource`: `file`, re-read when a file is moved into its directory.
pub(super) fn watched_file(file: &Path) -> Value {
    let dir = file.parent().map(|d| d.to_string_lossy().into_owned());
    json!({
        "path": file.to_string_lossy(),
        "watched_directory": {"path": dir.unwrap_or_default()},
    })
}

/// `fields` (an object) as a typed message: its fields and `@type`.
pub(super) fn typed(type_url: &str, mut fields: Value) -> Value {
    if let Value::Object(map) = &mut fields {
        map.insert("@type".into(), json!(type_url));
    }
    fields
}

/// A named extension (a filter) with its typed configuration.
pub(super) fn extension(name: &str, type_url: &str, fields: Value) -> Value {
    json!({"name": name, "typed_config": typed(type_url, fields)})
}

/// A protobuf `Duration` in its JSON form (`"1.500s"`).
fn duration(d: Duration) -> Value {
    json!(format!("{}.{:03}s", d.as_secs(), d.subsec_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CorsPolicy {
        CorsPolicy {
            origins: vec!["https://www.example.com".into()],
            origin_regexes: vec![r"https://.*\.example\.com".into()],
            methods: "GET, PUT".into(),
            max_age: Some(600),
            ..CorsPolicy::default()
        }
    }

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    /// The listener's HCM of a bootstrap with a static listener, or of an LDS file.
    fn hcm(listener: &Value) -> &Value {
        &listener["filter_chains"][0]["filters"][0]["typed_config"]
    }

    fn filter_names(hcm: &Value) -> Vec<&str> {
        hcm["http_filters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn static_listener_with_wasm_filter_and_cluster() {
        let up: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let b = Bootstrap::to_upstream(8000, 8001, up)
            .filter(HttpFilter::bucket_cors("/x/bucket_cors.wasm", "{\"a\":1}"));
        let boot = parse(&b.bootstrap());
        let listener = &boot["static_resources"]["listeners"][0];
        assert_eq!(listener["address"]["socket_address"]["port_value"], 8000);
        assert_eq!(
            boot["admin"]["address"]["socket_address"]["port_value"],
            8001
        );
        let cluster = &boot["static_resources"]["clusters"][0];
        assert_eq!(cluster["connect_timeout"], "1.000s");
        assert_eq!(
            cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
                ["socket_address"]["port_value"],
            9000
        );
        let hcm = hcm(listener);
        assert_eq!(hcm["@type"], HCM);
        let route = &hcm["route_config"]["virtual_hosts"][0]["routes"][0]["route"];
        assert_eq!(route["cluster"], "objstore");
        assert!(
            route.get("timeout").is_none(),
            "no route timeout unless set"
        );
        assert_eq!(
            filter_names(hcm),
            ["envoy.filters.http.wasm", "envoy.filters.http.router"]
        );
        let wasm = &hcm["http_filters"][0]["typed_config"]["config"];
        assert_eq!(
            wasm["vm_config"]["code"]["local"]["filename"],
            "/x/bucket_cors.wasm"
        );
        assert_eq!(wasm["vm_config"]["runtime"], V8);
        assert_eq!(wasm["configuration"]["value"], "{\"a\":1}");
    }

    #[test]
    fn proxy_100_continue_and_removed_response_headers_reach_the_hcm_and_the_cluster_route() {
        let up: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let plain = parse(&Bootstrap::to_upstream(8000, 8001, up).bootstrap());
        let hcm_plain = hcm(&plain["static_resources"]["listeners"][0]);
        assert_eq!(hcm_plain["proxy_100_continue"], false);
        let route = &hcm_plain["route_config"]["virtual_hosts"][0]["routes"][0];
        assert!(route.get("response_headers_to_remove").is_none(), "{route}");
        let mut b = Bootstrap::to_upstream(8000, 8001, up);
        b.proxy_100_continue = true;
        b.response_headers_to_remove = vec!["access-control-allow-origin".into()];
        let boot = parse(&b.bootstrap());
        let hcm = hcm(&boot["static_resources"]["listeners"][0]);
        assert_eq!(hcm["proxy_100_continue"], true);
        let route = &hcm["route_config"]["virtual_hosts"][0]["routes"][0];
        assert_eq!(route["route"]["cluster"], "objstore");
        assert_eq!(
            route["response_headers_to_remove"],
            json!(["access-control-allow-origin"])
        );
        let mut direct = Bootstrap::direct(1, 2, 200, "ok");
        direct.response_headers_to_remove = vec!["x".into()];
        assert!(!direct.bootstrap().contains("response_headers_to_remove"));
    }

    #[test]
    fn dynamic_module_filter_loads_the_file_with_the_plugin_config_as_a_string_value() {
        let up: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let boot = parse(
            &Bootstrap::to_upstream(8000, 8001, up)
                .filter(HttpFilter::bucket_cors_module(
                    Some("/x/libbucket_cors_module.so".into()),
                    "{\"a\":1}",
                ))
                .bootstrap(),
        );
        let hcm = hcm(&boot["static_resources"]["listeners"][0]);
        assert_eq!(
            filter_names(hcm),
            [
                "envoy.filters.http.dynamic_modules",
                "envoy.filters.http.router"
            ]
        );
        let module = &hcm["http_filters"][0]["typed_config"];
        assert_eq!(
            module["@type"],
            "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter"
        );
        let config = &module["dynamic_module_config"];
        assert_eq!(config["name"], "bucket_cors_module");
        assert_eq!(
            config["module"]["local"]["filename"],
            "/x/libbucket_cors_module.so"
        );
        assert_eq!(module["filter_name"], "bucket-cors");
        assert_eq!(
            module["filter_config"],
            json!({"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "{\"a\":1}"})
        );
        assert!(hcm["route_config"]["virtual_hosts"][0]
            .get("typed_per_filter_config")
            .is_none());
        let by_name = parse(
            &Bootstrap::to_upstream(8000, 8001, up)
                .filter(HttpFilter::bucket_cors_module(None, "{}"))
                .bootstrap(),
        );
        let config = &hcm_of(&by_name)["http_filters"][0]["typed_config"]["dynamic_module_config"];
        assert_eq!(config, &json!({"name": "bucket_cors_module"}));
    }

    #[test]
    fn s3_signed_cluster_signs_through_upstream_filters_and_a_plain_one_has_none() {
        let up: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let mut b = Bootstrap::to_upstream(8000, 8001, up);
        b.clusters
            .push(Cluster::s3_signed("store-signed", up, "garage"));
        let boot = parse(&b.bootstrap());
        let clusters = &boot["static_resources"]["clusters"];
        assert!(clusters[0]
            .get("typed_extension_protocol_options")
            .is_none());
        assert_eq!(clusters[1]["name"], "store-signed");
        let options = &clusters[1]["typed_extension_protocol_options"][HTTP_PROTOCOL_OPTIONS_KEY];
        assert_eq!(options["@type"], HTTP_PROTOCOL_OPTIONS);
        assert_eq!(
            options["explicit_http_config"],
            json!({"http_protocol_options": {}})
        );
        assert_eq!(
            options["http_filters"],
            json!([
                {"name": "envoy.filters.http.aws_request_signing", "typed_config": {
                    "@type": AWS_REQUEST_SIGNING,
                    "service_name": "s3", "region": "garage", "use_unsigned_payload": true,
                }},
                {"name": "envoy.filters.http.upstream_codec",
                 "typed_config": {"@type": UPSTREAM_CODEC}},
            ])
        );
    }

    fn hcm_of(boot: &Value) -> &Value {
        hcm(&boot["static_resources"]["listeners"][0])
    }

    #[test]
    fn direct_response_with_native_cors_sets_the_virtual_host_policy() {
        let boot = parse(
            &Bootstrap::direct(1, 2, 200, "ok")
                .filter(HttpFilter::NativeCors(policy()))
                .bootstrap(),
        );
        let vhost = &hcm_of(&boot)["route_config"]["virtual_hosts"][0];
        assert_eq!(
            vhost["routes"][0]["direct_response"],
            json!({"status": 200, "body": {"inline_string": "ok"}})
        );
        let cors = &vhost["typed_per_filter_config"]["envoy.filters.http.cors"];
        assert_eq!(
            cors["@type"],
            "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy"
        );
        assert_eq!(
            cors["allow_origin_string_match"],
            json!([
                {"exact": "https://www.example.com"},
                {"safe_regex": {"regex": r"https://.*\.example\.com"}},
            ])
        );
        assert_eq!(cors["max_age"], "600");
        assert_eq!(
            boot["static_resources"]["clusters"],
            json!([]),
            "no cluster"
        );
    }

    #[test]
    fn lds_mode_puts_the_listener_in_the_watched_file() {
        let up: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let b = Bootstrap::to_upstream(8000, 8001, up).listener_from_file("/d/lds/lds.json");
        let boot = parse(&b.bootstrap());
        assert_eq!(
            boot["dynamic_resources"]["lds_config"]["path_config_source"],
            json!({"path": "/d/lds/lds.json", "watched_directory": {"path": "/d/lds"}})
        );
        assert!(boot["static_resources"].get("listeners").is_none());
        assert!(boot.get("node").is_some(), "a subscription needs a node");
        let lds = parse(&b.lds(7));
        assert_eq!(lds["version_info"], "7");
        let listener = &lds["resources"][0];
        assert_eq!(listener["@type"], LISTENER);
        assert_eq!(listener["name"], "main");
    }

    #[test]
    fn ecds_entry_subscribes_to_the_watched_file_for_the_filter_type() {
        let up: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let wasm = HttpFilter::bucket_cors("/x/bucket_cors.wasm", "{\"a\":1}");
        let b = Bootstrap::to_upstream(8000, 8001, up).filter(HttpFilter::discovered(
            "bucket-cors",
            "/d/ecds/bucket-cors.json",
            &wasm,
        ));
        let text = b.bootstrap();
        let boot = parse(&text);
        assert!(boot.get("node").is_some(), "a subscription needs a node");
        assert!(boot.get("dynamic_resources").is_none());
        let entry = &hcm_of(&boot)["http_filters"][0];
        assert_eq!(entry["name"], "bucket-cors");
        assert!(
            entry.get("typed_config").is_none(),
            "the filter is not inline"
        );
        assert_eq!(
            entry["config_discovery"],
            json!({
                "config_source": {
                    "resource_api_version": "V3",
                    "path_config_source": {
                        "path": "/d/ecds/bucket-cors.json",
                        "watched_directory": {"path": "/d/ecds"},
                    },
                },
                "type_urls": [wasm.type_url()],
            })
        );
        assert!(
            !text.contains("bucket_cors.wasm"),
            "the filter is not inline"
        );

        let file = parse(&wasm.extension_config_file("bucket-cors", 3));
        assert_eq!(file["version_info"], "3");
        let resources = file["resources"].as_array().unwrap();
        assert_eq!(resources.len(), 1);
        let resource = &resources[0];
        assert_eq!(
            resource["@type"],
            "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig"
        );
        assert_eq!(resource["name"], "bucket-cors");
        let config = &resource["typed_config"];
        assert_eq!(config["@type"], wasm.type_url());
        assert_eq!(
            config["config"]["vm_config"]["code"]["local"]["filename"],
            "/x/bucket_cors.wasm"
        );
        assert_eq!(config["config"]["configuration"]["value"], "{\"a\":1}");
    }

    #[test]
    fn ecds_entry_in_a_listener_from_lds_keeps_the_node() {
        let module = HttpFilter::bucket_cors_module(None, "{}");
        let b = Bootstrap::direct(1, 2, 200, "ok")
            .filter(HttpFilter::discovered(
                "bucket-cors",
                "/d/e/f.json",
                &module,
            ))
            .listener_from_file("/d/lds/lds.json");
        assert!(parse(&b.bootstrap()).get("node").is_some());
        let lds = parse(&b.lds(1));
        let entry = &hcm(&lds["resources"][0])["http_filters"][0];
        assert_eq!(
            entry["config_discovery"]["type_urls"],
            json!([module.type_url()])
        );
        assert!(parse(&Bootstrap::direct(1, 2, 200, "ok").bootstrap())
            .get("node")
            .is_none());
    }
}
