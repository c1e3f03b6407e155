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

use crate::json::{obj, s, Json};

mod filters;
pub use filters::{CorsPolicy, DiscoveredFilter, HttpFilter, ModuleFilter, WasmFilter};

const HCM: &str =
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER: &str = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
const LISTENER: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";

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

    /// The bootstrap file (JSON).
    pub fn bootstrap(&self) -> String {
        let clusters = Json::Arr(self.clusters.iter().map(Cluster::to_json).collect());
        let mut boot = obj([]);
        // Envoy refuses any xDS subscription, files included, without a node identity.
        let discovered = self
            .filters
            .iter()
            .any(|f| matches!(f, HttpFilter::Discovered(_)));
        if self.lds_file.is_some() || discovered {
            boot.set(
                "node",
                obj([
                    ("id", s("bucket-cors-test")),
                    ("cluster", s("bucket-cors-test")),
                ]),
            );
        }
        boot.set("admin", obj([("address", socket_address(self.admin_port))]));
        match &self.lds_file {
            None => boot.set(
                "static_resources",
                obj([
                    ("listeners", Json::Arr(vec![self.listener()])),
                    ("clusters", clusters),
                ]),
            ),
            Some(file) => {
                boot.set(
                    "dynamic_resources",
                    obj([(
                        "lds_config",
                        obj([
                            ("resource_api_version", s("V3")),
                            ("path_config_source", watched_file(file)),
                        ]),
                    )]),
                );
                boot.set("static_resources", obj([("clusters", clusters)]));
            }
        }
        boot.pretty()
    }

    /// The LDS file (a discovery response holding the listener) under `version_info` `version`;
    /// replace the watched file with it by a rename.
    pub fn lds(&self, version: u64) -> String {
        obj([
            ("version_info", s(version.to_string())),
            (
                "resources",
                Json::Arr(vec![typed(LISTENER, self.listener())]),
            ),
        ])
        .pretty()
    }

    fn listener(&self) -> Json {
        let mut http_filters: Vec<Json> = self.filters.iter().map(HttpFilter::entry).collect();
        http_filters.push(extension("envoy.filters.http.router", ROUTER, obj([])));
        let mut vhost = obj([
            ("name", s("all")),
            ("domains", Json::Arr(vec![s("*")])),
            (
                "routes",
                Json::Arr(
                    self.routes
                        .iter()
                        .map(|r| r.to_json(&self.response_headers_to_remove))
                        .collect(),
                ),
            ),
        ]);
        let per_filter: Vec<(String, Json)> = self
            .filters
            .iter()
            .filter_map(HttpFilter::virtual_host_config)
            .collect();
        if !per_filter.is_empty() {
            vhost.set("typed_per_filter_config", Json::Obj(per_filter));
        }
        let hcm = obj([
            ("stat_prefix", s("ingress")),
            ("codec_type", s("AUTO")),
            (
                "preserve_external_request_id",
                Json::Bool(self.preserve_external_request_id),
            ),
            ("generate_request_id", Json::Bool(self.generate_request_id)),
            ("proxy_100_continue", Json::Bool(self.proxy_100_continue)),
            (
                "route_config",
                obj([
                    ("name", s("local")),
                    ("virtual_hosts", Json::Arr(vec![vhost])),
                ]),
            ),
            ("http_filters", Json::Arr(http_filters)),
        ]);
        obj([
            ("name", s(LISTENER_NAME)),
            ("address", socket_address(self.listen_port)),
            (
                "filter_chains",
                Json::Arr(vec![obj([(
                    "filters",
                    Json::Arr(vec![extension(
                        "envoy.filters.network.http_connection_manager",
                        HCM,
                        hcm,
                    )]),
                )])]),
            ),
        ])
    }
}

impl Route {
    /// The route; `remove` is its `response_headers_to_remove` when it goes to a cluster.
    fn to_json(&self, remove: &[String]) -> Json {
        let action = match &self.action {
            RouteAction::Cluster { name, timeout } => {
                let mut r = obj([("cluster", s(name))]);
                if let Some(t) = timeout {
                    r.set("timeout", duration(*t));
                }
                ("route", r)
            }
            RouteAction::Direct { status, body } => (
                "direct_response",
                obj([
                    ("status", Json::Num(u64::from(*status))),
                    ("body", obj([("inline_string", s(body))])),
                ]),
            ),
        };
        let to_cluster = matches!(self.action, RouteAction::Cluster { .. });
        let mut route = obj([("match", obj([("prefix", s(&self.prefix))])), action]);
        if to_cluster && !remove.is_empty() {
            route.set(
                "response_headers_to_remove",
                Json::Arr(remove.iter().map(s).collect()),
            );
        }
        route
    }
}

impl Cluster {
    fn to_json(&self) -> Json {
        let endpoint = nest(
            &["endpoint", "address", "socket_address"],
            obj([
                ("address", s(self.addr.ip().to_string())),
                ("port_value", Json::Num(u64::from(self.addr.port()))),
            ]),
        );
        obj([
            ("name", s(&self.name)),
            ("type", s("STATIC")),
            ("connect_timeout", duration(self.connect_timeout)),
            (
                "load_assignment",
                obj([
                    ("cluster_name", s(&self.name)),
                    (
                        "endpoints",
                        Json::Arr(vec![obj([("lb_endpoints", Json::Arr(vec![endpoint]))])]),
                    ),
                ]),
            ),
        ])
    }
}

fn socket_address(port: u16) -> Json {
    nest(
        &["socket_address"],
        obj([
            ("address", s("127.0.0.1")),
            ("port_value", Json::Num(u64::from(port))),
        ]),
    )
}

/// A `PathConfigSource`: `file`, re-read when a file is moved into its directory.
pub(super) fn watched_file(file: &Path) -> Json {
    let dir = file.parent().map(|d| d.to_string_lossy().into_owned());
    obj([
        ("path", s(file.to_string_lossy())),
        (
            "watched_directory",
            obj([("path", s(dir.unwrap_or_default()))]),
        ),
    ])
}

/// `fields` as a typed message: `@type` first.
pub(super) fn typed(type_url: &str, fields: Json) -> Json {
    let mut out = obj([("@type", s(type_url))]);
    if let Json::Obj(pairs) = fields {
        for (k, v) in pairs {
            out.set(&k, v);
        }
    }
    out
}

/// A named extension (a filter) with its typed configuration.
pub(super) fn extension(name: &str, type_url: &str, fields: Json) -> Json {
    obj([("name", s(name)), ("typed_config", typed(type_url, fields))])
}

/// `leaf` under nested single-key objects: `["a", "b"]` gives `{"a": {"b": leaf}}`.
pub(super) fn nest(keys: &[&str], leaf: Json) -> Json {
    keys.iter().rev().fold(leaf, |inner, k| obj([(*k, inner)]))
}

/// A protobuf `Duration` in its JSON form (`"1.500s"`).
fn duration(d: Duration) -> Json {
    s(format!("{}.{:03}s", d.as_secs(), d.subsec_millis()))
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

    #[test]
    fn static_listener_with_wasm_filter_and_cluster() {
        let up: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let b = Bootstrap::to_upstream(8000, 8001, up)
            .filter(HttpFilter::bucket_cors("/x/bucket_cors.wasm", "{\"a\":1}"));
        let text = b.bootstrap();
        for want in [
            "\"static_resources\"",
            "\"port_value\": 8000",
            "\"port_value\": 8001",
            "\"port_value\": 9000",
            "\"cluster\": \"objstore\"",
            "\"filename\": \"/x/bucket_cors.wasm\"",
            "\"value\": \"{\\\"a\\\":1}\"",
            "\"connect_timeout\": \"1.000s\"",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
        assert!(
            !text.contains("timeout\": \"0"),
            "no route timeout unless set"
        );
        let wasm_at = text.find("envoy.filters.http.wasm").unwrap();
        assert!(wasm_at < text.find("envoy.filters.http.router").unwrap());
    }

    #[test]
    fn proxy_100_continue_and_removed_response_headers_reach_the_hcm_and_the_cluster_route() {
        let up: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let plain = Bootstrap::to_upstream(8000, 8001, up).bootstrap();
        assert!(plain.contains("\"proxy_100_continue\": false"), "{plain}");
        assert!(!plain.contains("response_headers_to_remove"), "{plain}");
        let mut b = Bootstrap::to_upstream(8000, 8001, up);
        b.proxy_100_continue = true;
        b.response_headers_to_remove = vec!["access-control-allow-origin".into()];
        let text = b.bootstrap();
        assert!(text.contains("\"proxy_100_continue\": true"), "{text}");
        let at = text
            .find("\"response_headers_to_remove\": [")
            .expect("on the route");
        assert!(
            text[at..].contains("\"access-control-allow-origin\""),
            "{text}"
        );
        assert!(
            text.find("\"cluster\": \"objstore\"").unwrap() < at,
            "{text}"
        );
        let mut direct = Bootstrap::direct(1, 2, 200, "ok");
        direct.response_headers_to_remove = vec!["x".into()];
        assert!(!direct.bootstrap().contains("response_headers_to_remove"));
    }

    #[test]
    fn dynamic_module_filter_loads_the_file_with_the_plugin_config_as_a_string_value() {
        let up: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let text = Bootstrap::to_upstream(8000, 8001, up)
            .filter(HttpFilter::bucket_cors_module(
                Some("/x/libbucket_cors_module.so".into()),
                "{\"a\":1}",
            ))
            .bootstrap();
        for want in [
            "\"name\": \"envoy.filters.http.dynamic_modules\"",
            "envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter",
            "\"name\": \"bucket_cors_module\"",
            "\"filename\": \"/x/libbucket_cors_module.so\"",
            "\"filter_name\": \"bucket-cors\"",
            "type.googleapis.com/google.protobuf.StringValue",
            "\"value\": \"{\\\"a\\\":1}\"",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
        let at = text.find("envoy.filters.http.dynamic_modules").unwrap();
        assert!(at < text.find("envoy.filters.http.router").unwrap());
        assert!(!text.contains("typed_per_filter_config"));
        let by_name = Bootstrap::to_upstream(8000, 8001, up)
            .filter(HttpFilter::bucket_cors_module(None, "{}"))
            .bootstrap();
        assert!(by_name.contains("\"name\": \"bucket_cors_module\""));
        assert!(!by_name.contains("\"module\""), "{by_name}");
    }

    #[test]
    fn direct_response_with_native_cors_sets_the_virtual_host_policy() {
        let text = Bootstrap::direct(1, 2, 200, "ok")
            .filter(HttpFilter::NativeCors(policy()))
            .bootstrap();
        for want in [
            "\"direct_response\"",
            "\"inline_string\": \"ok\"",
            "\"typed_per_filter_config\"",
            "envoy.extensions.filters.http.cors.v3.CorsPolicy",
            "\"exact\": \"https://www.example.com\"",
            "\"regex\": \"https://.*\\\\.example\\\\.com\"",
            "\"max_age\": \"600\"",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
        assert!(!text.contains("\"clusters\": [\n"), "no cluster");
    }

    #[test]
    fn lds_mode_puts_the_listener_in_the_watched_file() {
        let up: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let b = Bootstrap::to_upstream(8000, 8001, up).listener_from_file("/d/lds/lds.json");
        let boot = b.bootstrap();
        assert!(boot.contains("\"path\": \"/d/lds/lds.json\""));
        assert!(boot.contains("\"watched_directory\": {\n          \"path\": \"/d/lds\""));
        assert!(!boot.contains("\"listeners\""));
        let lds = b.lds(7);
        assert!(lds.contains("\"version_info\": \"7\""));
        assert!(lds.starts_with("{\n  \"version_info\""));
        assert!(lds.contains(&format!(
            "\"@type\": \"{LISTENER}\",\n      \"name\": \"main\""
        )));
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
        let boot = b.bootstrap();
        for want in [
            "\"node\"",
            "\"static_resources\"",
            "\"name\": \"bucket-cors\",\n                      \"config_discovery\"",
            "\"resource_api_version\": \"V3\"",
            "\"path\": \"/d/ecds/bucket-cors.json\"",
            "\"path\": \"/d/ecds\"",
            &format!(
                "\"type_urls\": [\n                          \"{}\"",
                wasm.type_url()
            ),
        ] {
            assert!(boot.contains(want), "{want} missing from\n{boot}");
        }
        assert!(
            !boot.contains("bucket_cors.wasm"),
            "the filter is not inline"
        );
        assert!(!boot.contains("dynamic_resources"));

        let file = wasm.extension_config_file("bucket-cors", 3);
        assert!(file.starts_with("{\n  \"version_info\": \"3\",\n  \"resources\": ["));
        for want in [
            "\"@type\": \"type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig\",\n      \"name\": \"bucket-cors\",\n      \"typed_config\"",
            &format!("\"@type\": \"{}\"", wasm.type_url()),
            "\"filename\": \"/x/bucket_cors.wasm\"",
            "\"value\": \"{\\\"a\\\":1}\"",
        ] {
            assert!(file.contains(want), "{want} missing from\n{file}");
        }
        assert!(!file.contains("envoy.filters.http.wasm"), "{file}");
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
        assert_eq!(b.bootstrap().matches("\"node\"").count(), 1);
        let lds = b.lds(1);
        assert!(lds.contains(&format!("\"{}\"", module.type_url())), "{lds}");
        assert!(lds.contains("\"config_discovery\""), "{lds}");
        assert!(!Bootstrap::direct(1, 2, 200, "ok")
            .bootstrap()
            .contains("\"node\""));
    }
}
