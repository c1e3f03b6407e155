//! Safe wrappers of the Envoy callbacks the filter makes, and the `log` crate's logger that
//! writes to Envoy's log. Calls into Envoy only; the hooks Envoy calls are in
//! [`crate::hooks`].

#![allow(unsafe_code)]

use crate::abi::{self, ConfigEnvoyPtr, EnvoyHttpHeader, FilterEnvoyPtr};
use crate::abi::{ConfigSchedulerPtr, EnvoyBuffer, FilterSchedulerPtr};
use crate::abi::{ModuleBuffer, ModuleHttpHeader};
use std::marker::PhantomData;
use std::ptr::null;

/// Envoy's log levels the filter uses.
#[derive(Debug, Clone, Copy)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Critical,
}

impl Level {
    fn abi(self) -> u32 {
        match self {
            Level::Trace => abi::LOG_TRACE,
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

/// The `log` crate's records (the core's configure and report-only lines, this glue's
/// warnings) go to Envoy's `dynamic_modules` log component, prefixed with the filter's name;
/// whether a level is written follows that component's level, which an operator can change
/// at run time.
struct EnvoyLogger;

static LOGGER: EnvoyLogger = EnvoyLogger;

impl log::Log for EnvoyLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        log_enabled(Level::from(metadata.level()))
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = Level::from(record.level());
        if log_enabled(level) {
            log(level, &format!("bucket-cors: {}", record.args()));
        }
    }

    fn flush(&self) {}
}

impl From<log::Level> for Level {
    fn from(level: log::Level) -> Level {
        match level {
            log::Level::Error => Level::Error,
            log::Level::Warn => Level::Warn,
            log::Level::Info => Level::Info,
            log::Level::Debug => Level::Debug,
            log::Level::Trace => Level::Trace,
        }
    }
}

/// Points the `log` crate at Envoy's log (once per process: a second call changes nothing).
pub fn install_logger() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
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
    pub envoy: ConfigEnvoyPtr,
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
    pub envoy: FilterEnvoyPtr,
}

/// A header map as Envoy holds it, borrowed for as long as the [`FilterHost`] is not changed.
pub struct Headers<'h> {
    raw: Scratch<EnvoyHttpHeader>,
    _host: PhantomData<&'h FilterHost>,
}

impl<'h> Headers<'h> {
    /// Every (name, value) in Envoy's order, both as bytes: the core reads names as bytes, so
    /// none is checked for UTF-8 here.
    pub fn pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.raw.as_slice().iter().map(|h| {
            // SAFETY: Envoy filled these pointers in `FilterHost::headers` from its own map;
            // they stay valid until the hook returns or a header is set, and the shared borrow
            // of the `FilterHost` ('h, outliving `self`) rules out both.
            unsafe {
                (
                    envoy_bytes(h.key_ptr, h.key_length),
                    envoy_bytes(h.value_ptr, h.value_length),
                )
            }
        })
    }
}

/// Room for `n` items: on the stack up to [`Scratch::INLINE`], on the heap beyond, so a
/// request's header map or a reply's headers (a few dozen at most, as browsers send them)
/// cost no allocation.
enum Scratch<T> {
    Inline([T; Scratch::<()>::INLINE], usize),
    Heap(Vec<T>),
}

impl Scratch<()> {
    const INLINE: usize = 32;
}

impl<T: Copy> Scratch<T> {
    fn new(n: usize, empty: T) -> Self {
        if n <= Scratch::<()>::INLINE {
            Scratch::Inline([empty; Scratch::<()>::INLINE], n)
        } else {
            Scratch::Heap(vec![empty; n])
        }
    }

    fn as_slice(&self) -> &[T] {
        match self {
            Scratch::Inline(items, n) => &items[..*n],
            Scratch::Heap(items) => items,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Scratch::Inline(items, n) => &mut items[..*n],
            Scratch::Heap(items) => items,
        }
    }
}

/// `n` in decimal, in `buf`.
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// # Safety
/// `ptr` is null with `len` 0, or points to `len` bytes alive for the returned lifetime.
pub unsafe fn envoy_bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
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
        let mut raw = Scratch::new(n, empty);
        // SAFETY: `raw` has room for the `n` headers Envoy just counted on this thread, and
        // nothing changes the map between the two calls.
        let read = unsafe {
            abi::envoy_dynamic_module_callback_http_get_headers(
                self.envoy,
                map.abi(),
                raw.as_mut_slice().as_mut_ptr(),
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

    /// Answers the request with this response instead of forwarding it: `:status`, the headers,
    /// `content-length` when there is a body, then the body. Sent as Envoy's own CORS filter
    /// sends its answer (`encodeHeaders` from the request path), not through the local-reply
    /// path, which costs more and would let a `local_reply_config` rewrite the answer.
    pub fn send_response<'v>(
        &mut self,
        status: u32,
        headers: impl ExactSizeIterator<Item = (&'static str, &'v str)>,
        body: &[u8],
    ) {
        let mut status_buf = [0; 20];
        let status = decimal(status as usize, &mut status_buf);
        let mut length_buf = [0; 20];
        let length = decimal(body.len(), &mut length_buf);
        let line = |name: &[u8], value: &[u8]| ModuleHttpHeader {
            key_ptr: name.as_ptr(),
            key_length: name.len(),
            value_ptr: value.as_ptr(),
            value_length: value.len(),
        };
        let empty = line(&[], &[]);
        let mut lines = Scratch::new(headers.len() + 2, empty);
        let slots = lines.as_mut_slice();
        slots[0] = line(b":status", status);
        let mut n = 1;
        for ((name, value), slot) in headers.zip(slots[1..].iter_mut()) {
            *slot = line(name.as_bytes(), value.as_bytes());
            n += 1;
        }
        if !body.is_empty() {
            slots[n] = line(b"content-length", length);
            n += 1;
        }
        let lines = &slots[..n];
        // SAFETY: `envoy` is the running hook's stream; the header array and the bytes it
        // points to (`'static` names, the reply's values, the two stack buffers) are alive during
        // each call, which copies them.
        unsafe {
            abi::envoy_dynamic_module_callback_http_send_response_headers(
                self.envoy,
                lines.as_ptr(),
                lines.len(),
                body.is_empty(),
            );
            if !body.is_empty() {
                abi::envoy_dynamic_module_callback_http_send_response_data(
                    self.envoy,
                    module_buffer(body),
                    true,
                );
            }
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

// ------------------ reads from the store and paused streams (spec §8) ------------------

fn module_headers(headers: &[(&str, &str)]) -> Vec<ModuleHttpHeader> {
    headers
        .iter()
        .map(|(name, value)| ModuleHttpHeader {
            key_ptr: name.as_ptr(),
            key_length: name.len(),
            value_ptr: value.as_ptr(),
            value_length: value.len(),
        })
        .collect()
}

/// Envoy's answer to a callout that started: `InitResult` is Envoy's code when it refused to
/// start one (`envoy_dynamic_module_type_http_callout_init_result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitResult(pub u32);

impl ConfigHost {
    /// A scheduler of events on the main thread (`None` if Envoy gives none).
    pub fn scheduler(&self) -> Option<ConfigScheduler> {
        // SAFETY: `envoy` is the configuration of the running hook.
        let ptr = unsafe {
            abi::envoy_dynamic_module_callback_http_filter_config_scheduler_new(self.envoy)
        };
        (!ptr.is_null()).then_some(ConfigScheduler(ptr))
    }

    /// Sends a body-less request to `cluster`; its id, answered in the configuration's
    /// callout-done hook.
    pub fn http_callout(
        &self,
        cluster: &str,
        headers: &[(&str, &str)],
        timeout_ms: u64,
    ) -> Result<u64, InitResult> {
        let headers = module_headers(headers);
        let mut id = 0u64;
        let no_body = ModuleBuffer {
            ptr: null(),
            length: 0,
        };
        // SAFETY: `envoy` is the configuration of the running main-thread hook; the cluster
        // name, the header array and the strings it points to are alive during the call, which
        // copies them; `id` is a valid place to write.
        let code = unsafe {
            abi::envoy_dynamic_module_callback_http_filter_config_http_callout(
                self.envoy,
                &mut id,
                module_buffer(cluster.as_bytes()),
                headers.as_ptr(),
                headers.len(),
                no_body,
                timeout_ms,
            )
        };
        if code == abi::CALLOUT_INIT_SUCCESS {
            Ok(id)
        } else {
            Err(InitResult(code))
        }
    }
}

/// The configuration's scheduler: events committed from any thread run its scheduled hook on
/// the main thread. Deleted when dropped (with the configuration).
pub struct ConfigScheduler(ConfigSchedulerPtr);

// SAFETY: Envoy's configuration scheduler may be committed to from any thread (it posts to the
// main dispatcher); it is deleted once, by `Drop`, when the configuration that owns it goes.
unsafe impl Send for ConfigScheduler {}
// SAFETY: as above: `commit`, the only call through `&self`, is thread-safe in Envoy.
unsafe impl Sync for ConfigScheduler {}

impl ConfigScheduler {
    pub fn commit(&self, event_id: u64) {
        // SAFETY: the scheduler is alive until `Drop`, and commit may run on any thread.
        unsafe {
            abi::envoy_dynamic_module_callback_http_filter_config_scheduler_commit(self.0, event_id)
        }
    }
}

impl Drop for ConfigScheduler {
    fn drop(&mut self) {
        // SAFETY: created by `ConfigHost::scheduler`, deleted once, here.
        unsafe { abi::envoy_dynamic_module_callback_http_filter_config_scheduler_delete(self.0) }
    }
}

/// A stream's scheduler: an event committed from any thread runs the stream's scheduled hook
/// on its worker, if the stream still exists. Deleted when dropped: whoever may commit to it
/// from another thread must hold the lock under which it is dropped.
pub struct FilterScheduler(FilterSchedulerPtr);

// SAFETY: Envoy's filter scheduler holds a weak reference to its stream and the worker's
// dispatcher, so committing from another thread is what it is for; it is deleted once, in
// `Drop`.
unsafe impl Send for FilterScheduler {}

impl FilterScheduler {
    pub fn commit(&self, event_id: u64) {
        // SAFETY: the scheduler is alive until `Drop`.
        unsafe { abi::envoy_dynamic_module_callback_http_filter_scheduler_commit(self.0, event_id) }
    }
}

impl Drop for FilterScheduler {
    fn drop(&mut self) {
        // SAFETY: created by `FilterHost::scheduler`, deleted once, here.
        unsafe { abi::envoy_dynamic_module_callback_http_filter_scheduler_delete(self.0) }
    }
}

impl FilterHost {
    /// A scheduler of events for this stream (`None` if Envoy gives none).
    pub fn scheduler(&self) -> Option<FilterScheduler> {
        // SAFETY: `envoy` is the stream of the running hook.
        let ptr =
            unsafe { abi::envoy_dynamic_module_callback_http_filter_scheduler_new(self.envoy) };
        (!ptr.is_null()).then_some(FilterScheduler(ptr))
    }

    /// Resumes the request paused by a `StopIteration`.
    pub fn continue_decoding(&mut self) {
        // SAFETY: `envoy` is the stream of the running hook.
        unsafe { abi::envoy_dynamic_module_callback_http_filter_continue_decoding(self.envoy) }
    }

    /// The request body Envoy holds: what earlier body hooks buffered, then the running body
    /// hook's chunk (unless that chunk is the buffer itself).
    pub fn request_body(&self) -> Vec<u8> {
        // SAFETY: `envoy` is the stream of the running hook.
        let chunk_is_buffer = unsafe {
            abi::envoy_dynamic_module_callback_http_received_buffered_request_body(self.envoy)
        };
        let mut body = Vec::new();
        self.body_chunks(abi::BUFFERED_REQUEST_BODY, &mut body);
        if !chunk_is_buffer {
            self.body_chunks(abi::RECEIVED_REQUEST_BODY, &mut body);
        }
        body
    }

    /// Appends the body `body_type` to `out` (nothing when Envoy has none).
    fn body_chunks(&self, body_type: u32, out: &mut Vec<u8>) {
        // SAFETY: `envoy` is the stream of the running hook.
        let n = unsafe {
            abi::envoy_dynamic_module_callback_http_get_body_chunks_size(self.envoy, body_type)
        };
        if n == 0 {
            return;
        }
        let mut chunks = vec![
            EnvoyBuffer {
                ptr: null(),
                length: 0
            };
            n
        ];
        // SAFETY: `chunks` has room for the `n` slices Envoy just counted on this thread, and
        // nothing changes the body between the two calls.
        let read = unsafe {
            abi::envoy_dynamic_module_callback_http_get_body_chunks(
                self.envoy,
                body_type,
                chunks.as_mut_ptr(),
            )
        };
        if read {
            for chunk in &chunks {
                // SAFETY: Envoy's slices of the body, valid during the running hook, copied here.
                out.extend_from_slice(unsafe { envoy_bytes(chunk.ptr, chunk.length) });
            }
        }
    }
}

/// A callout's answer, copied out of Envoy's buffers: its `:status` and whole body, or `None`
/// when it ended without a response (reset, response over the buffer limit) or without a
/// readable status.
///
/// # Safety
/// `headers` and `chunks` are Envoy's arrays of `headers_size` and `chunks_size` elements
/// (or null), valid for the running callout-done hook.
pub unsafe fn callout_answer(
    result: u32,
    headers: *const EnvoyHttpHeader,
    headers_size: usize,
    chunks: *const EnvoyBuffer,
    chunks_size: usize,
) -> Option<(u32, Vec<u8>)> {
    if result != abi::CALLOUT_SUCCESS || headers.is_null() {
        return None;
    }
    // SAFETY: the caller's contract; every pointer is Envoy's, valid during the hook.
    unsafe {
        let status = std::slice::from_raw_parts(headers, headers_size)
            .iter()
            .find(|h| envoy_bytes(h.key_ptr, h.key_length) == b":status")
            .and_then(|h| std::str::from_utf8(envoy_bytes(h.value_ptr, h.value_length)).ok())
            .and_then(|s| s.parse().ok())?;
        let mut body = Vec::new();
        if !chunks.is_null() {
            for chunk in std::slice::from_raw_parts(chunks, chunks_size) {
                body.extend_from_slice(envoy_bytes(chunk.ptr, chunk.length));
            }
        }
        Some((status, body))
    }
}
