//! Reference filters for `make bench` (not part of bucket-cors).
//!
//! The plugin configuration (a plain string) picks the mode; all share one
//! `.wasm` so that the VM, the SDK and the module size stay the same:
//!
//! - `""` / `"noop"`: the no-op filter. Every HTTP callback returns
//!   `Continue` without a host call: the floor of any proxy-wasm filter
//!   (context creation, the callbacks' VM crossings, the SDK's dispatch).
//! - `"reqmap"`: reads the whole request header map with one
//!   `get_map_bytes` (what bucket-cors does on every request).
//! - `"maps"`: `reqmap`, and the whole response header map too.
//! - `"maps_set6"`: `maps`, then 6 `set_map_value` on the response (what
//!   bucket-cors does for an allowed actual request: ACAO, ACAC, ACAM, ACEH,
//!   ACMA, Vary).
//! - `"single"`: reads only the 7 request headers the decision needs, one
//!   `get_map_value` each, and nothing on the response.
//! - `"single_set6"`: `single`, then the 6 response `set_map_value`s (the
//!   shape of a filter that reads single headers and knows what to set).
//! - `"maps_setmap"`: `reqmap`, then the response map read, the 6 headers
//!   replaced in it, and the whole map written back with one
//!   `set_map_bytes` (`proxy_set_header_map_pairs`): 2 response host calls
//!   instead of 7.

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    #[default]
    Noop,
    ReqMap,
    Maps,
    MapsSet6,
    Single,
    SingleSet6,
    MapsSetMap,
}

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

#[derive(Default)]
struct Root {
    mode: Mode,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, size: usize) -> bool {
        let conf = match hostcalls::get_buffer(BufferType::PluginConfiguration, 0, size) {
            Ok(Some(b)) => String::from_utf8_lossy(&b).trim().to_string(),
            _ => String::new(),
        };
        self.mode = match conf.as_str() {
            "" | "noop" => Mode::Noop,
            "reqmap" => Mode::ReqMap,
            "maps" => Mode::Maps,
            "maps_set6" => Mode::MapsSet6,
            "single" => Mode::Single,
            "single_set6" => Mode::SingleSet6,
            "maps_setmap" => Mode::MapsSetMap,
            other => {
                log::error!("bench-noop: unknown mode {other:?}");
                return false;
            }
        };
        true
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Http { mode: self.mode }))
    }
}

struct Http {
    mode: Mode,
}

impl Context for Http {}

/// The request headers bucket-cors's decision reads.
const REQUEST_HEADERS: [&str; 7] = [
    ":method",
    ":authority",
    ":path",
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "x-request-id",
];

/// What bucket-cors sets on an allowed actual request's response.
const RESPONSE_SETS: [(&str, &str); 6] = [
    ("access-control-allow-origin", "https://www.example.com"),
    ("access-control-allow-credentials", "true"),
    ("access-control-allow-methods", "GET, PUT, HEAD"),
    ("access-control-expose-headers", "ETag, x-amz-request-id"),
    ("access-control-max-age", "600"),
    ("vary", "Origin"),
];

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _n: usize, _eos: bool) -> Action {
        match self.mode {
            Mode::Noop => {}
            Mode::ReqMap | Mode::Maps | Mode::MapsSet6 | Mode::MapsSetMap => {
                let h = hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default();
                std::hint::black_box(h.len());
            }
            Mode::Single | Mode::SingleSet6 => {
                for name in REQUEST_HEADERS {
                    let v = hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, name);
                    std::hint::black_box(v.ok().flatten().map(|v| v.len()));
                }
            }
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _n: usize, _eos: bool) -> Action {
        if self.mode == Mode::MapsSetMap {
            let h = hostcalls::get_map_bytes(MapType::HttpResponseHeaders).unwrap_or_default();
            let mut out: Vec<(&str, &[u8])> = h
                .iter()
                .filter(|(n, _)| !RESPONSE_SETS.iter().any(|(s, _)| s == n))
                .map(|(n, v)| (n.as_str(), v.as_slice()))
                .collect();
            out.extend(RESPONSE_SETS.iter().map(|(n, v)| (*n, v.as_bytes())));
            let _ = hostcalls::set_map_bytes(MapType::HttpResponseHeaders, out);
            return Action::Continue;
        }
        if matches!(self.mode, Mode::Maps | Mode::MapsSet6) {
            let h = hostcalls::get_map_bytes(MapType::HttpResponseHeaders).unwrap_or_default();
            std::hint::black_box(h.len());
        }
        if matches!(self.mode, Mode::MapsSet6 | Mode::SingleSet6) {
            for (name, value) in RESPONSE_SETS {
                let _ = hostcalls::set_map_value(MapType::HttpResponseHeaders, name, Some(value));
            }
        }
        Action::Continue
    }
}
