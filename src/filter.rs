//! The HTTP context: hands the request headers to the core's stream and
//! applies the step it returns (a local reply, a pause for the store's
//! rules or for a `PUT ?cors` body, or nothing), then the edits of the
//! response headers.

use crate::store::{Waiter, Worker};
use bucket_cors_core::{HeaderOp, Lookup, Step, Stream};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, Bytes, MapType};
use std::cell::RefCell;
use std::rc::Rc;

pub struct CorsFilter {
    context_id: u32,
    worker: Option<Rc<Worker>>,
    /// Shared with the store while the request waits for its rules, so
    /// that waking it (from the root context) records its plan here.
    stream: Waiter,
}

impl CorsFilter {
    pub fn new(context_id: u32, worker: Option<Rc<Worker>>) -> Self {
        Self {
            context_id,
            worker,
            stream: Rc::new(RefCell::new(Stream::default())),
        }
    }
}

impl Drop for CorsFilter {
    fn drop(&mut self) {
        if let Some(store) = self.worker.as_ref().and_then(|w| w.store.as_ref()) {
            store.forget_waiter(self.context_id);
        }
    }
}

impl Context for CorsFilter {
    /// The answer of a read this request sent itself while waiting for it.
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        read_answered(
            self.worker.as_deref(),
            token_id,
            num_headers,
            body_size,
            self.context_id,
        );
    }
}

impl HttpContext for CorsFilter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(worker) = &self.worker else {
            return Action::Continue;
        };
        match request_step(worker, self.context_id, &self.stream) {
            Next::Answered | Next::Wait => Action::Pause,
            Next::Go => Action::Continue,
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(worker) = &self.worker else {
            return Action::Continue;
        };
        let stream = self.stream.borrow();
        if !stream.holds_body() {
            return Action::Continue;
        }
        // Held back until the whole body is here, or until the request's
        // rules are known (Envoy calls this while the headers wait only when
        // the plugin sets `allow_on_headers_stop_iteration`).
        if !end_of_stream || stream.is_waiting() {
            return Action::Pause;
        }
        drop(stream);
        let body = match hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size) {
            Ok(body) => body.unwrap_or_default(),
            Err(status) => {
                log::warn!("cannot read the PUT ?cors body: {status:?}");
                return Action::Continue;
            }
        };
        let reply = self
            .stream
            .borrow_mut()
            .on_request_body(&worker.policy, &body, |c| worker.count(c));
        match reply {
            Some(reply) if send(&reply) => Action::Pause,
            _ => Action::Continue,
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let stream = self.stream.borrow();
        if !stream.edits_response() {
            return Action::Continue;
        }
        let Some(headers) = read(MapType::HttpResponseHeaders) else {
            return Action::Continue;
        };
        if let Some(store) = self.worker.as_ref().and_then(|w| w.store.as_ref()) {
            if let Some(bucket) = stream.changed_bucket(headers.iter().map(|(n, v)| (n, v))) {
                store.changed(bucket);
            }
        }
        let map = MapType::HttpResponseHeaders;
        for op in stream.on_response_headers(headers.iter().map(|(n, v)| (n, v))) {
            let result = match op {
                HeaderOp::Remove(name) => hostcalls::remove_map_value(map, &name),
                HeaderOp::Set(name, value) => hostcalls::set_map_value(map, name, Some(&value)),
            };
            if let Err(status) = result {
                log::warn!("cannot edit response header: {status:?}");
            }
        }
        Action::Continue
    }
}

/// What the request phase left the glue to do.
pub enum Next {
    /// Let the request go on (its headers could not be read, too).
    Go,
    /// The filter answered it.
    Answered,
    /// It waits for its bucket's rules (the store keeps it).
    Wait,
}

/// Runs the request phase of the stream of `context_id` (the host's current
/// context) on its request headers and sends its reply, if any. A request
/// that must wait is kept by the store until its read ends.
pub fn request_step(worker: &Worker, context_id: u32, stream: &Waiter) -> Next {
    let Some(headers) = read(MapType::HttpRequestHeaders) else {
        return Next::Go;
    };
    let lookup = |bucket: &str| match &worker.store {
        Some(store) => store.lookup(bucket, context_id, worker.metrics.as_deref()),
        None => Lookup::Unavailable,
    };
    let mut state = stream.borrow_mut();
    let step = state.on_request_headers(
        &worker.policy,
        lookup,
        headers.iter().map(|(n, v)| (n, v)),
        |c| worker.count(c),
    );
    match step {
        Step::Reply(reply) if send(&reply) => Next::Answered,
        Step::Wait => {
            if let Some(store) = &worker.store {
                store.wait(context_id, Rc::clone(stream));
            }
            Next::Wait
        }
        Step::Reply(_) | Step::Continue | Step::ReadBody => Next::Go,
    }
}

/// The answer of a read (`on_http_call_response` of whichever context sent
/// it, `current`): records it and wakes the requests that waited for it.
pub fn read_answered(
    worker: Option<&Worker>,
    token: u32,
    num_headers: usize,
    body_size: usize,
    current: u32,
) {
    let Some(worker) = worker else { return };
    let Some(store) = &worker.store else { return };
    let woken = store.on_read_answer(token, num_headers, body_size, worker.metrics.as_deref());
    wake(worker, woken, current);
}

/// Runs each woken request's decision again in its own context, then
/// resumes it, answers it, or leaves it waiting; then returns to the
/// context `current` the host called.
pub fn wake(worker: &Worker, woken: Vec<(u32, Waiter)>, current: u32) {
    for (id, stream) in woken {
        if hostcalls::set_effective_context(id).is_err() {
            continue; // The request is gone.
        }
        let resumed = match request_step(worker, id, &stream) {
            Next::Wait | Next::Answered => continue,
            Next::Go => hostcalls::resume_http_request(),
        };
        if let Err(status) = resumed {
            log::warn!("cannot resume a request that waited for its rules: {status:?}");
        }
    }
    if let Err(status) = hostcalls::set_effective_context(current) {
        log::warn!("cannot return to the current context: {status:?}");
    }
}

/// Answers the current context's request with the filter's own reply;
/// `false` (logged) when the host refuses.
pub fn send(reply: &bucket_cors_core::LocalReply) -> bool {
    let headers = reply
        .headers
        .iter()
        .map(|(name, value)| (*name, &**value))
        .collect();
    let body = (!reply.body.is_empty()).then_some(reply.body.as_slice());
    match hostcalls::send_http_response(reply.status, headers, body) {
        Ok(()) => true,
        Err(status) => {
            log::warn!("cannot send the filter's answer: {status:?}");
            false
        }
    }
}

/// A whole header map, in one host call; `None` (logged) when the host refuses.
fn read(map: MapType) -> Option<Vec<(String, Bytes)>> {
    match hostcalls::get_map_bytes(map) {
        Ok(headers) => Some(headers),
        Err(status) => {
            log::warn!("cannot read {map:?}: host status {status:?}");
            None
        }
    }
}
