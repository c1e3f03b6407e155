//! The HTTP context: hands the request headers to the core's stream and
//! applies what it returns (a local reply, or edits of the response headers).

use crate::metrics::Metrics;
use bucket_cors_core::{Counter, HeaderOp, Policy, Stream};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, Bytes, MapType};
use std::rc::Rc;

pub struct CorsFilter {
    policy: Option<Rc<Policy>>,
    metrics: Option<Rc<Metrics>>,
    stream: Stream,
}

impl CorsFilter {
    pub fn new(policy: Option<Rc<Policy>>, metrics: Option<Rc<Metrics>>) -> Self {
        Self {
            policy,
            metrics,
            stream: Stream::default(),
        }
    }
}

impl Context for CorsFilter {}

impl HttpContext for CorsFilter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(policy) = &self.policy else {
            return Action::Continue;
        };
        let Some(headers) = read(MapType::HttpRequestHeaders) else {
            return Action::Continue;
        };
        let metrics = &self.metrics;
        let count = |counter: Counter| {
            if let Some(metrics) = metrics {
                metrics.increment(counter);
            }
        };
        let Some(reply) =
            self.stream
                .on_request_headers(policy, headers.iter().map(|(n, v)| (n, v)), count)
        else {
            return Action::Continue;
        };
        let reply_headers = reply
            .headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let body = (!reply.body.is_empty()).then_some(reply.body.as_slice());
        match hostcalls::send_http_response(reply.status, reply_headers, body) {
            Ok(()) => Action::Pause,
            Err(status) => {
                log::warn!("cannot send the preflight answer: {status:?}");
                Action::Continue
            }
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if !self.stream.edits_response() {
            return Action::Continue;
        }
        let Some(headers) = read(MapType::HttpResponseHeaders) else {
            return Action::Continue;
        };
        let map = MapType::HttpResponseHeaders;
        for op in self
            .stream
            .on_response_headers(headers.iter().map(|(n, v)| (n, v)))
        {
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
