//! The HTTP context: reads headers, applies the core's decision.

use crate::abi::{self, Map};
use crate::header_map::{self, HeaderMap};
use crate::metrics::Metrics;
use bucket_cors_core::{Action as Decided, HeaderOp, Policy, Request, ResponsePlan, Single};
use std::rc::Rc;

/// What a header callback tells the host (the proxy-wasm `Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Action {
    Continue = 0,
    Pause = 1,
}

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

    pub fn on_request_headers(&mut self) -> Action {
        let Some(policy) = &self.policy else {
            return Action::Continue;
        };
        let Some(headers) = HeaderMap::read(Map::RequestHeaders) else {
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
                let headers =
                    header_map::serialize(reply.headers.iter().map(|(n, v)| (*n, v.as_str())));
                if let Err(status) = abi::send_local_response(reply.status, &headers, &reply.body) {
                    log::warn!("cannot send the preflight answer: {status:?}");
                    return Action::Continue;
                }
                self.replied = true;
                Action::Pause
            }
        }
    }

    pub fn on_response_headers(&mut self) -> Action {
        if self.replied {
            return Action::Continue;
        }
        let Some(plan) = &self.plan else {
            return Action::Continue;
        };
        let Some(headers) = HeaderMap::read(Map::ResponseHeaders) else {
            return Action::Continue;
        };
        for op in plan.header_ops(headers.pairs()) {
            let result = match &op {
                HeaderOp::Remove(name) => abi::remove_header(Map::ResponseHeaders, name),
                HeaderOp::Set(name, value) => {
                    abi::replace_header(Map::ResponseHeaders, name, value)
                }
            };
            if let Err(status) = result {
                log::warn!("cannot edit response header: {status:?}");
            }
        }
        Action::Continue
    }
}
