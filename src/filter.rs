//! The HTTP context: reads headers, applies the core's decision.

use crate::header_map::HeaderMap;
use crate::metrics::Metrics;
use bucket_cors_core::{Action as Decided, HeaderOp, Policy, Request, ResponsePlan, Single};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use std::rc::Rc;

pub struct CorsFilter {
    policy: Option<Rc<Policy>>,
    metrics: Option<Rc<Metrics>>,
    /// Set when the request was forwarded to a configured bucket.
    plan: Option<ResponsePlan>,
    /// Set when the filter answered the request itself: Envoy runs the
    /// response phase on that local reply too, and it must stay as sent.
    replied: bool,
}

impl CorsFilter {
    pub fn new(policy: Option<Rc<Policy>>, metrics: Option<Rc<Metrics>>) -> Self {
        Self {
            policy,
            metrics,
            plan: None,
            replied: false,
        }
    }
}

impl Context for CorsFilter {}

impl HttpContext for CorsFilter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(policy) = &self.policy else {
            return Action::Continue;
        };
        let Some(headers) = HeaderMap::read(MapType::HttpRequestHeaders) else {
            return Action::Continue;
        };
        let request = Request::from_headers(headers.pairs());
        let decision = policy.decide(&request);
        if let (Some(metrics), Some(counter)) = (&self.metrics, decision.outcome.counter()) {
            metrics.increment(counter);
        }
        if decision.reported.is_some() {
            let origin = match request.origin {
                Single::One(origin) => String::from_utf8_lossy(origin),
                Single::Absent => "no Origin".into(),
                Single::Many => "several Origin lines".into(),
            };
            log::debug!(
                "report-only: {} {} from {origin}: {:?}",
                String::from_utf8_lossy(request.method),
                String::from_utf8_lossy(request.path),
                decision.outcome
            );
        }
        match decision.action {
            Decided::Ignore => Action::Continue,
            Decided::Forward(plan) => {
                self.plan = Some(plan);
                Action::Continue
            }
            Decided::Reply(reply) => {
                let headers: Vec<(&str, &str)> = reply
                    .headers
                    .iter()
                    .map(|(n, v)| (*n, v.as_str()))
                    .collect();
                let body = (!reply.body.is_empty()).then_some(reply.body.as_slice());
                if let Err(status) = hostcalls::send_http_response(reply.status, headers, body) {
                    log::warn!("cannot send the preflight answer: {status:?}");
                    return Action::Continue;
                }
                self.replied = true;
                Action::Pause
            }
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if self.replied {
            return Action::Continue;
        }
        let Some(plan) = &self.plan else {
            return Action::Continue;
        };
        let Some(headers) = HeaderMap::read(MapType::HttpResponseHeaders) else {
            return Action::Continue;
        };
        let ops = plan.header_ops(headers.pairs());
        for op in ops {
            let result = match &op {
                HeaderOp::Remove(name) => {
                    hostcalls::remove_map_value(MapType::HttpResponseHeaders, name)
                }
                HeaderOp::Set(name, value) => {
                    hostcalls::set_map_value(MapType::HttpResponseHeaders, name, Some(value))
                }
            };
            if let Err(status) = result {
                log::warn!("cannot edit response header: {status:?}");
            }
        }
        Action::Continue
    }
}
