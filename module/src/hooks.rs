//! The hooks Envoy calls, exported by name: the module's entry points. Each turns Envoy's
//! pointers into the glue's types and hands over to [`crate::config`] or [`crate::filter`].
//!
//! No panic crosses into Envoy: each hook that runs filter code does so inside [`guard`], which
//! catches a panic (the crate refuses to build without `panic = "unwind"`, see `lib.rs`), logs
//! it at critical level and answers Envoy with the hook's neutral value (the stream continues,
//! unfiltered). The hooks that only return a constant cannot panic.

#![allow(unsafe_code)]

use crate::abi::{self, ConfigEnvoyPtr, EnvoyBuffer, EnvoyHttpHeader, FilterEnvoyPtr};
use crate::config::Config;
use crate::filter::Filter;
use crate::host::{envoy_bytes, install_logger, log, ConfigHost, FilterHost, Level};
use std::ffi::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null;

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
    install_logger();
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
