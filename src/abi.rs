//! The proxy-wasm ABI (0.2.1) as bucket-cors uses it: the host functions it
//! calls and the callbacks it exports, written from the ABI's interface. Every
//! `unsafe` of the crate is in this file.
//!
//! Only the callbacks the filter needs are exported. The host skips a callback
//! a module does not export, and each one it does call is a VM entry: an SDK
//! export set (`proxy_on_log`, `proxy_on_done`, body and trailer callbacks)
//! costs about 7,600 more Envoy instructions per request (bench/callgrind.py).

use crate::contexts;
use std::alloc::{alloc, dealloc, Layout};
use std::ptr::{null, null_mut, NonNull};

/// The host's status `Ok`; any other value is an error code, kept as a
/// number so that no host value can be an invalid enum discriminant.
const OK: u32 = 0;

/// A proxy-wasm status other than `Ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u32);

/// The host's status `NotFound`.
pub const NOT_FOUND: Status = Status(1);

fn status(code: u32) -> Result<(), Status> {
    if code == OK {
        Ok(())
    } else {
        Err(Status(code))
    }
}

/// The header maps the filter reads and edits.
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub enum Map {
    RequestHeaders = 0,
    ResponseHeaders = 2,
}

/// The proxy-wasm log levels.
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Critical = 5,
}

/// `BufferType::PluginConfiguration`.
const PLUGIN_CONFIGURATION: u32 = 7;
/// `MetricType::Counter`.
const COUNTER: u32 = 0;

mod host {
    #[link(wasm_import_module = "env")]
    extern "C" {
        pub fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
        pub fn proxy_get_log_level(return_level: *mut u32) -> u32;
        pub fn proxy_get_buffer_bytes(
            buffer_type: u32,
            start: usize,
            max_size: usize,
            return_buffer_data: *mut *mut u8,
            return_buffer_size: *mut usize,
        ) -> u32;
        pub fn proxy_get_header_map_pairs(
            map_type: u32,
            return_map_data: *mut *mut u8,
            return_map_size: *mut usize,
        ) -> u32;
        pub fn proxy_replace_header_map_value(
            map_type: u32,
            key_data: *const u8,
            key_size: usize,
            value_data: *const u8,
            value_size: usize,
        ) -> u32;
        pub fn proxy_remove_header_map_value(
            map_type: u32,
            key_data: *const u8,
            key_size: usize,
        ) -> u32;
        pub fn proxy_send_local_response(
            status_code: u32,
            status_code_details_data: *const u8,
            status_code_details_size: usize,
            body_data: *const u8,
            body_size: usize,
            headers_data: *const u8,
            headers_size: usize,
            grpc_status: i32,
        ) -> u32;
        pub fn proxy_define_metric(
            metric_type: u32,
            name_data: *const u8,
            name_size: usize,
            return_id: *mut u32,
        ) -> u32;
        pub fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
    }

    #[cfg(target_os = "wasi")]
    extern "C" {
        /// wasi-libc's static constructors, which a reactor module runs in
        /// `_initialize`.
        pub fn __wasm_call_ctors();
    }
}

// ---------------------------------------------------------------------------
// Memory the host fills

/// Bytes the host wrote into memory it obtained from
/// [`proxy_on_memory_allocate`]; freed on drop.
pub struct HostBytes {
    ptr: Option<NonNull<u8>>,
    len: usize,
}

impl HostBytes {
    fn empty() -> HostBytes {
        HostBytes { ptr: None, len: 0 }
    }

    /// Takes ownership of what a host call returned through its
    /// (data, size) out-pointers.
    ///
    /// # Safety
    /// `ptr` is null, or came from [`proxy_on_memory_allocate`]`(len)` and
    /// is owned by nobody else.
    unsafe fn from_host(ptr: *mut u8, len: usize) -> HostBytes {
        match NonNull::new(ptr) {
            Some(ptr) if len > 0 => HostBytes {
                ptr: Some(ptr),
                len,
            },
            _ => HostBytes::empty(),
        }
    }
}

impl std::ops::Deref for HostBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self.ptr {
            // SAFETY: `ptr` points to `len` bytes allocated by
            // `proxy_on_memory_allocate` and written by the host (`from_host`).
            Some(ptr) => unsafe { std::slice::from_raw_parts(ptr.as_ptr(), self.len) },
            None => &[],
        }
    }
}

impl Drop for HostBytes {
    fn drop(&mut self) {
        if let (Some(ptr), Ok(layout)) = (self.ptr, Layout::array::<u8>(self.len)) {
            // SAFETY: allocated by `proxy_on_memory_allocate` with this very
            // layout (`len` bytes, alignment 1), and freed only here.
            unsafe { dealloc(ptr.as_ptr(), layout) }
        }
    }
}

/// The host asks for `size` bytes of this module's memory to return data in.
/// Null for 0 bytes or when the allocation fails (the host then fails the call).
#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    match Layout::array::<u8>(size) {
        // SAFETY: a non-zero size, alignment 1; `HostBytes` frees it with
        // the same layout.
        Ok(layout) if size > 0 => unsafe { alloc(layout) },
        _ => null_mut(),
    }
}

// ---------------------------------------------------------------------------
// Host calls

/// Sends one log line to Envoy's log.
pub fn log(level: LogLevel, message: &str) {
    // SAFETY: the pointer and length describe `message`, alive for the call.
    unsafe {
        host::proxy_log(level as u32, message.as_ptr(), message.len());
    }
}

/// Envoy's log level for this plugin (a proxy-wasm level number).
pub fn log_level() -> Result<u32, Status> {
    let mut level = 0u32;
    // SAFETY: the host writes one u32 to `level`, which outlives the call.
    status(unsafe { host::proxy_get_log_level(&mut level) })?;
    Ok(level)
}

/// The plugin configuration, `size` bytes as `proxy_on_configure` announced.
pub fn plugin_configuration(size: usize) -> Result<HostBytes, Status> {
    let mut data: *mut u8 = null_mut();
    let mut len: usize = 0;
    // SAFETY: the host writes a pointer it obtained from
    // `proxy_on_memory_allocate` and its size to the two out-pointers.
    unsafe {
        status(host::proxy_get_buffer_bytes(
            PLUGIN_CONFIGURATION,
            0,
            size,
            &mut data,
            &mut len,
        ))?;
        Ok(HostBytes::from_host(data, len))
    }
}

/// A whole header map, serialized (see `header_map.rs`), in one host call.
pub fn header_map_pairs(map: Map) -> Result<HostBytes, Status> {
    let mut data: *mut u8 = null_mut();
    let mut len: usize = 0;
    // SAFETY: as in `plugin_configuration`.
    unsafe {
        status(host::proxy_get_header_map_pairs(
            map as u32, &mut data, &mut len,
        ))?;
        Ok(HostBytes::from_host(data, len))
    }
}

/// Replaces every line of `name` in `map` with one line of `value`.
/// (An add, where the header is known absent, measured dearer in Envoy.)
pub fn replace_header(map: Map, name: &str, value: &str) -> Result<(), Status> {
    // SAFETY: both pointers and lengths describe live borrowed strings.
    status(unsafe {
        host::proxy_replace_header_map_value(
            map as u32,
            name.as_ptr(),
            name.len(),
            value.as_ptr(),
            value.len(),
        )
    })
}

/// Removes every line of `name` from `map`.
pub fn remove_header(map: Map, name: &str) -> Result<(), Status> {
    // SAFETY: the pointer and length describe a live borrowed string.
    status(unsafe { host::proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len()) })
}

/// Answers the request locally: `headers` serialized as a header map.
pub fn send_local_response(status_code: u32, headers: &[u8], body: &[u8]) -> Result<(), Status> {
    let body_ptr = if body.is_empty() {
        null()
    } else {
        body.as_ptr()
    };
    // SAFETY: every pointer and length describes a live borrowed slice (or
    // null with length 0); -1 is "no gRPC status".
    status(unsafe {
        host::proxy_send_local_response(
            status_code,
            null(),
            0,
            body_ptr,
            body.len(),
            headers.as_ptr(),
            headers.len(),
            -1,
        )
    })
}

/// Defines a counter; its id for [`increment_counter`].
pub fn define_counter(name: &str) -> Result<u32, Status> {
    let mut id = 0u32;
    // SAFETY: the name is a live borrowed string; the host writes one u32 to `id`.
    status(unsafe { host::proxy_define_metric(COUNTER, name.as_ptr(), name.len(), &mut id) })?;
    Ok(id)
}

/// Adds `by` to a counter.
pub fn increment_counter(id: u32, by: i64) -> Result<(), Status> {
    // SAFETY: plain values only.
    status(unsafe { host::proxy_increment_metric(id, by) })
}

// ---------------------------------------------------------------------------
// Callbacks

/// The ABI version this module speaks, announced by the export's name.
#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_1() {}

/// Run once by the host after instantiation (WASI reactor).
#[no_mangle]
pub extern "C" fn _initialize() {
    // SAFETY: called once, first, as wasi-libc's reactor start-up expects.
    #[cfg(target_os = "wasi")]
    unsafe {
        host::__wasm_call_ctors()
    };
    crate::logger::install();
}

/// A root context (`parent_id` 0) or an HTTP stream of root `parent_id`.
#[no_mangle]
pub extern "C" fn proxy_on_context_create(context_id: u32, parent_id: u32) {
    contexts::create(context_id, parent_id);
}

#[no_mangle]
pub extern "C" fn proxy_on_vm_start(root_id: u32, _vm_configuration_size: usize) -> u32 {
    contexts::vm_start(root_id).into()
}

#[no_mangle]
pub extern "C" fn proxy_on_configure(root_id: u32, plugin_configuration_size: usize) -> u32 {
    contexts::configure(root_id, plugin_configuration_size).into()
}

/// Returns the proxy-wasm `Action`: 0 continue, 1 pause.
#[no_mangle]
pub extern "C" fn proxy_on_request_headers(id: u32, _num_headers: usize, _eos: u32) -> u32 {
    contexts::request_headers(id) as u32
}

#[no_mangle]
pub extern "C" fn proxy_on_response_headers(id: u32, _num_headers: usize, _eos: u32) -> u32 {
    contexts::response_headers(id) as u32
}

#[no_mangle]
pub extern "C" fn proxy_on_delete(id: u32) {
    contexts::delete(id);
}
