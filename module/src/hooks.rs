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
use crate::filter::{Body, Filter};
use crate::host::{
    callout_answer, envoy_bytes, install_logger, log, ConfigHost, FilterHost, Level,
};
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
    end_of_stream: bool,
) -> u32 {
    guard("request_headers", abi::CONTINUE, || {
        // SAFETY: Envoy passes the pointer `filter_new` returned for this stream.
        let Some((config, filter)) = (unsafe { stream(filter) }) else {
            return abi::CONTINUE;
        };
        let mut host = FilterHost { envoy };
        if filter.on_request_headers(config, &mut host, end_of_stream) {
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
        if let Some((config, filter)) = unsafe { stream(filter) } {
            filter.on_response_headers(config, &mut FilterHost { envoy });
        }
        abi::CONTINUE
    })
}

// ------------------------- rules from the store (spec §8) -------------------------------------

/// A request body chunk: kept (`StopIterationAndBuffer`) while the stream waits for its
/// bucket's rules or for the rest of a `PUT ?cors` body.
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_body(
    envoy: FilterEnvoyPtr,
    filter: *const c_void,
    end_of_stream: bool,
) -> u32 {
    guard("request_body", abi::CONTINUE, || {
        // SAFETY: Envoy passes the pointer `filter_new` returned for this stream.
        let Some((config, filter)) = (unsafe { stream(filter) }) else {
            return abi::CONTINUE;
        };
        match filter.on_request_body(config, &mut FilterHost { envoy }, end_of_stream) {
            Body::Continue => abi::CONTINUE,
            Body::Buffer => abi::STOP_ITERATION_AND_BUFFER,
            Body::Stop => abi::STOP_ITERATION_NO_BUFFER,
        }
    })
}

/// The event the cache committed when the read a paused stream waited for ended (the stream's
/// worker thread; Envoy runs it only while the stream exists).
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_scheduled(
    envoy: FilterEnvoyPtr,
    filter: *const c_void,
    _event_id: u64,
) {
    guard("scheduled", (), || {
        // SAFETY: Envoy passes the pointer `filter_new` returned for this stream.
        if let Some((config, filter)) = unsafe { stream(filter) } {
            filter.on_scheduled(config, &mut FilterHost { envoy });
        }
    })
}

/// The configuration's event (main thread): reads are queued; send them.
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_scheduled(
    envoy: ConfigEnvoyPtr,
    config: *const c_void,
    _event_id: u64,
) {
    guard("config_scheduled", (), || {
        // SAFETY: `config` came from `config_new` and Envoy destroys it only after this hook.
        let Some(config) = (unsafe { config.cast::<Config>().as_ref() }) else {
            return;
        };
        if let Some(store) = &config.store {
            store.send_reads(&ConfigHost { envoy }, config.metrics.as_ref());
        }
    })
}

/// A read of the store ended (main thread).
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_http_callout_done(
    envoy: ConfigEnvoyPtr,
    config: *const c_void,
    callout_id: u64,
    result: u32,
    headers: *const EnvoyHttpHeader,
    headers_size: usize,
    body_chunks: *const EnvoyBuffer,
    body_chunks_size: usize,
) {
    guard("config_http_callout_done", (), || {
        // SAFETY: `config` came from `config_new` and Envoy destroys it only after this hook.
        let Some(config) = (unsafe { config.cast::<Config>().as_ref() }) else {
            return;
        };
        // SAFETY: Envoy's arrays of the given sizes, valid during this hook; copied here.
        let answer =
            unsafe { callout_answer(result, headers, headers_size, body_chunks, body_chunks_size) };
        if let Some(store) = &config.store {
            store.callout_done(
                &ConfigHost { envoy },
                config.metrics.as_ref(),
                callout_id,
                answer,
            );
        }
    })
}

// The hooks below must exist for Envoy 1.40 to load the module; this filter has nothing to do
// in them (it starts no per-stream callout or stream, and never buffers a response), so each
// only returns its `Continue` and cannot panic.

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
