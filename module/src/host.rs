//! The FFI boundary: the hooks Envoy calls (exported by name) and safe wrappers of the
//! callbacks the filter makes. Every `unsafe` of the crate is in this file and [`crate::abi`].
//!
//! No panic crosses into Envoy: each hook that runs filter code does so inside [`guard`], which
//! catches a panic (the module is built with `panic = "unwind"`, see the Makefile's
//! `build-module`), logs it at critical level and answers Envoy with the hook's neutral value
//! (the stream continues, unfiltered). The hooks that only return a constant cannot panic.

#![allow(unsafe_code)]

use crate::abi::{self, ConfigEnvoyPtr, EnvoyBuffer, EnvoyHttpHeader, FilterEnvoyPtr};
use crate::abi::{ModuleBuffer, ModuleHttpHeader};
use crate::config::Config;
use crate::filter::Filter;
use std::ffi::{c_char, c_void};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null;

/// Envoy's log levels the filter uses.
#[derive(Debug, Clone, Copy)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Critical,
}

impl Level {
    fn abi(self) -> u32 {
        match self {
            Level::Debug => abi::LOG_DEBUG,
            Level::Info => abi::LOG_INFO,
            Level::Warn => abi::LOG_WARN,
            Level::Error => abi::LOG_ERROR,
            Level::Critical => abi::LOG_CRITICAL,
        }
    }
}

/// Whether Envoy's `dynamic_modules` log component would print `level` (cheap: skip building
/// a message nobody reads).
pub fn log_enabled(level: Level) -> bool {
    // SAFETY: takes a plain integer; Envoy only compares it with the component's level.
    unsafe { abi::envoy_dynamic_module_callback_log_enabled(level.abi()) }
}

/// Logs `message` under Envoy's `dynamic_modules` component.
pub fn log(level: Level, message: &str) {
    // SAFETY: the buffer points into `message`, alive for the call; Envoy copies it.
    unsafe {
        abi::envoy_dynamic_module_callback_log(level.abi(), module_buffer(message.as_bytes()))
    }
}

fn module_buffer(bytes: &[u8]) -> ModuleBuffer {
    ModuleBuffer {
        ptr: bytes.as_ptr(),
        length: bytes.len(),
    }
}

/// Envoy's failure code of a metrics callback (`envoy_dynamic_module_type_metrics_result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsError(pub u32);

fn metrics_result(code: u32) -> Result<(), MetricsError> {
    if code == abi::METRICS_SUCCESS {
        Ok(())
    } else {
        Err(MetricsError(code))
    }
}

/// Envoy's filter configuration, during `on_http_filter_config_new` (main thread).
pub struct ConfigHost {
    envoy: ConfigEnvoyPtr,
}

impl ConfigHost {
    /// Defines a counter without labels; its id for [`FilterHost::increment_counter`].
    pub fn define_counter(&self, name: &str) -> Result<usize, MetricsError> {
        let mut id = 0usize;
        // SAFETY: `envoy` is the configuration Envoy passed to this hook, alive during it; the
        // name is read during the call; no labels (null, 0); `id` is a valid place to write.
        let code = unsafe {
            abi::envoy_dynamic_module_callback_http_filter_config_define_counter(
                self.envoy,
                module_buffer(name.as_bytes()),
                null(),
                0,
                &mut id,
            )
        };
        metrics_result(code).map(|()| id)
    }

    /// Adds one to a counter defined on this configuration (no stream needed).
    pub fn increment_counter(&self, id: usize) -> Result<(), MetricsError> {
        // SAFETY: `envoy` is alive during this hook; `id` came from `define_counter` on it.
        metrics_result(unsafe {
            abi::envoy_dynamic_module_callback_http_filter_config_increment_counter(
                self.envoy,
                id,
                null(),
                0,
                1,
            )
        })
    }
}

/// Which header map of the stream.
#[derive(Debug, Clone, Copy)]
pub enum Map {
    Request,
    Response,
}

impl Map {
    fn abi(self) -> u32 {
        match self {
            Map::Request => abi::REQUEST_HEADER,
            Map::Response => abi::RESPONSE_HEADER,
        }
    }
}

/// Envoy's stream, during one hook (worker thread). Reading headers borrows it shared; every
/// call that may change a header map takes it `&mut`, so no header read earlier in the hook
/// can be used after Envoy may have invalidated it.
pub struct FilterHost {
    envoy: FilterEnvoyPtr,
}

/// A header map as Envoy holds it, borrowed for as long as the [`FilterHost`] is not changed.
pub struct Headers<'h> {
    raw: Vec<EnvoyHttpHeader>,
    _host: PhantomData<&'h FilterHost>,
}

impl<'h> Headers<'h> {
    /// Every (name, value) in Envoy's order; a name that is not UTF-8 (Envoy never gives one)
    /// is skipped.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.raw.iter().filter_map(|h| {
            // SAFETY: Envoy filled these pointers in `FilterHost::headers` from its own map;
            // they stay valid until the hook returns or a header is set, and the shared borrow
            // of the `FilterHost` ('h, outliving `self`) rules out both.
            let (name, value) = unsafe {
                (
                    envoy_bytes(h.key_ptr, h.key_length),
                    envoy_bytes(h.value_ptr, h.value_length),
                )
            };
            Some((std::str::from_utf8(name).ok()?, value))
        })
    }
}

/// # Safety
/// `ptr` is null with `len` 0, or points to `len` bytes alive for the returned lifetime.
unsafe fn envoy_bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

impl FilterHost {
    /// The whole header map `map`; `None` if Envoy has none (e.g. no response yet).
    pub fn headers(&self, map: Map) -> Option<Headers<'_>> {
        // SAFETY: `envoy` is the stream Envoy passed to the running hook.
        let n = unsafe {
            abi::envoy_dynamic_module_callback_http_get_headers_size(self.envoy, map.abi())
        };
        let empty = EnvoyHttpHeader {
            key_ptr: null(),
            key_length: 0,
            value_ptr: null(),
            value_length: 0,
        };
        let mut raw = vec![empty; n];
        // SAFETY: `raw` has room for the `n` headers Envoy just counted on this thread, and
        // nothing changes the map between the two calls.
        let read = unsafe {
            abi::envoy_dynamic_module_callback_http_get_headers(
                self.envoy,
                map.abi(),
                raw.as_mut_ptr(),
            )
        };
        read.then_some(Headers {
            raw,
            _host: PhantomData,
        })
    }

    /// Replaces every line of `name` with one line `value`, or removes them (`None`).
    pub fn set_header(&mut self, map: Map, name: &str, value: Option<&str>) -> bool {
        let value = match value {
            Some(v) => module_buffer(v.as_bytes()),
            None => ModuleBuffer {
                ptr: null(),
                length: 0,
            },
        };
        // SAFETY: `envoy` is the running hook's stream; both buffers are read during the call.
        unsafe {
            abi::envoy_dynamic_module_callback_http_set_header(
                self.envoy,
                map.abi(),
                module_buffer(name.as_bytes()),
                value,
            )
        }
    }

    /// Answers the request with this response instead of forwarding it.
    pub fn send_response(&mut self, status: u32, headers: &[(&str, String)], body: &[u8]) {
        let headers: Vec<ModuleHttpHeader> = headers
            .iter()
            .map(|(name, value)| ModuleHttpHeader {
                key_ptr: name.as_ptr(),
                key_length: name.len(),
                value_ptr: value.as_ptr(),
                value_length: value.len(),
            })
            .collect();
        let no_details = ModuleBuffer {
            ptr: null(),
            length: 0,
        };
        // SAFETY: `envoy` is the running hook's stream; the header array, the strings it points
        // to and the body are alive during the call, which copies them. A details buffer of
        // length 0 makes Envoy use its default details.
        unsafe {
            abi::envoy_dynamic_module_callback_http_send_response(
                self.envoy,
                status,
                headers.as_ptr(),
                headers.len(),
                module_buffer(body),
                no_details,
            )
        }
    }

    /// Adds one to a counter defined by [`ConfigHost::define_counter`].
    pub fn increment_counter(&self, id: usize) -> Result<(), MetricsError> {
        // SAFETY: `envoy` is the running hook's stream, created from the configuration that
        // defined `id`; no labels.
        metrics_result(unsafe {
            abi::envoy_dynamic_module_callback_http_filter_increment_counter(
                self.envoy,
                id,
                null(),
                0,
                1,
            )
        })
    }
}

/// Runs `f`; a panic is logged (critical) and answered with `neutral`.
fn guard<R>(hook: &str, neutral: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        log(
            Level::Critical,
            &format!("bucket-cors: panicked in {hook}; the stream continues unfiltered"),
        );
        neutral
    })
}

/// One stream's filter and the configuration it was made from (which Envoy keeps alive until
/// every stream of it is destroyed).
struct Stream {
    config: *const Config,
    filter: Filter,
}

// ----------------------------------- hooks -----------------------------------------------------

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_program_init() -> *const c_char {
    abi::ABI_VERSION.as_ptr().cast()
}

/// Compiles the configuration once, on the main thread; every worker shares it read-only.
/// A refused configuration returns null, which makes Envoy reject it (and refuse to start).
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
    envoy: ConfigEnvoyPtr,
    _name: EnvoyBuffer,
    config: EnvoyBuffer,
) -> *const c_void {
    guard("config_new", null(), || {
        // SAFETY: Envoy's configuration bytes, valid during this hook; nothing keeps them.
        let json = unsafe { envoy_bytes(config.ptr, config.length) };
        match Config::new(json, &ConfigHost { envoy }) {
            Some(config) => Box::into_raw(Box::new(config)).cast_const().cast(),
            None => null(),
        }
    })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_destroy(config: *const c_void) {
    guard("config_destroy", (), || {
        if !config.is_null() {
            // SAFETY: `config` came from `Box::into_raw` in `config_new`; Envoy destroys it
            // once, after the last stream made from it.
            drop(unsafe { Box::from_raw(config.cast::<Config>().cast_mut()) });
        }
    })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_new(
    config: *const c_void,
    _envoy: FilterEnvoyPtr,
) -> *const c_void {
    guard("filter_new", null(), || {
        let stream = Stream {
            config: config.cast::<Config>(),
            filter: Filter::default(),
        };
        Box::into_raw(Box::new(stream)).cast_const().cast()
    })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_destroy(stream: *const c_void) {
    guard("filter_destroy", (), || {
        if !stream.is_null() {
            // SAFETY: `stream` came from `Box::into_raw` in `filter_new`; destroyed once.
            drop(unsafe { Box::from_raw(stream.cast::<Stream>().cast_mut()) });
        }
    })
}

/// The stream's configuration and filter, for the duration of one hook.
///
/// # Safety
/// `stream` came from `filter_new` and is not destroyed; Envoy calls one hook of a stream at a
/// time, on its worker thread.
unsafe fn stream<'a>(stream: *const c_void) -> Option<(&'a Config, &'a mut Filter)> {
    // SAFETY: the caller's contract; the configuration outlives its streams.
    unsafe {
        let stream = stream.cast::<Stream>().cast_mut().as_mut()?;
        Some((stream.config.as_ref()?, &mut stream.filter))
    }
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
    envoy: FilterEnvoyPtr,
    filter: *const c_void,
    _end_of_stream: bool,
) -> u32 {
    guard("request_headers", abi::CONTINUE, || {
        // SAFETY: Envoy passes the pointer `filter_new` returned for this stream.
        let Some((config, filter)) = (unsafe { stream(filter) }) else {
            return abi::CONTINUE;
        };
        let mut host = FilterHost { envoy };
        if filter.on_request_headers(config, &mut host) {
            abi::CONTINUE
        } else {
            abi::STOP_ITERATION
        }
    })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_headers(
    envoy: FilterEnvoyPtr,
    filter: *const c_void,
    _end_of_stream: bool,
) -> u32 {
    guard("response_headers", abi::CONTINUE, || {
        // SAFETY: Envoy passes the pointer `filter_new` returned for this stream.
        if let Some((_, filter)) = unsafe { stream(filter) } {
            filter.on_response_headers(&mut FilterHost { envoy });
        }
        abi::CONTINUE
    })
}

// The hooks below must exist for Envoy 1.40 to load the module; this filter has nothing to do
// in them (it starts no callout, stream or scheduled event, and never buffers), so each only
// returns its `Continue` and cannot panic.

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_body(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
    _end_of_stream: bool,
) -> u32 {
    abi::CONTINUE
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_trailers(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
) -> u32 {
    abi::CONTINUE
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_body(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
    _end_of_stream: bool,
) -> u32 {
    abi::CONTINUE
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_trailers(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
) -> u32 {
    abi::CONTINUE
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_stream_complete(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_callout_done(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
    _callout_id: u64,
    _result: u32,
    _headers: *const EnvoyHttpHeader,
    _headers_size: usize,
    _body_chunks: *const EnvoyBuffer,
    _body_chunks_size: usize,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_headers(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
    _stream_id: u64,
    _headers: *const EnvoyHttpHeader,
    _headers_size: usize,
    _end_stream: bool,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_data(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
    _stream_id: u64,
    _data: *const EnvoyBuffer,
    _data_count: usize,
    _end_stream: bool,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_trailers(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
    _stream_id: u64,
    _trailers: *const EnvoyHttpHeader,
    _trailers_size: usize,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_complete(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
    _stream_id: u64,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_reset(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
    _stream_id: u64,
    _reason: u32,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_scheduled(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
    _event_id: u64,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
    _envoy: FilterEnvoyPtr,
    _filter: *const c_void,
) {
}
