//! One stream: reads the request headers, applies the core's decision, edits the response.

use crate::config::Config;
use crate::host::{log, log_enabled, FilterHost, Level, Map};
use bucket_cors_core::{Action, HeaderOp, Request, ResponsePlan, Single};

#[derive(Default)]
pub struct Filter {
    /// Set when the request was forwarded to a configured bucket.
    plan: Option<ResponsePlan>,
    /// Set when the filter answered the request itself: Envoy runs the response phase on that
    /// local reply too, and it must stay as sent.
    replied: bool,
}

impl Filter {
    /// Returns whether the request goes on (false: the filter answered it).
    pub fn on_request_headers(&mut self, config: &Config, host: &mut FilterHost) -> bool {
        let decision = {
            let Some(headers) = host.headers(Map::Request) else {
                log(Level::Warn, "bucket-cors: cannot read the request headers");
                return true;
            };
            let request = Request::from_headers(headers.pairs());
            let decision = config.policy.decide(&request);
            if let (Some(metrics), Some(counter)) = (&config.metrics, decision.outcome.counter()) {
                metrics.increment(host, counter);
            }
            if decision.reported.is_some() && log_enabled(Level::Debug) {
                report(&request, &decision.outcome);
            }
            decision
        };
        match decision.action {
            Action::Ignore => true,
            Action::Forward(plan) => {
                self.plan = Some(plan);
                true
            }
            Action::Reply(reply) => {
                host.send_response(reply.status, &reply.headers, &reply.body);
                self.replied = true;
                false
            }
        }
    }

    pub fn on_response_headers(&mut self, host: &mut FilterHost) {
        if self.replied {
            return;
        }
        let Some(plan) = &self.plan else {
            return;
        };
        let ops = {
            let Some(headers) = host.headers(Map::Response) else {
                log(Level::Warn, "bucket-cors: cannot read the response headers");
                return;
            };
            plan.header_ops(headers.pairs())
        };
        for op in ops {
            let (name, done) = match &op {
                HeaderOp::Remove(name) => (&**name, host.set_header(Map::Response, name, None)),
                HeaderOp::Set(name, value) => {
                    (*name, host.set_header(Map::Response, name, Some(value)))
                }
            };
            if !done {
                log(
                    Level::Warn,
                    &format!("bucket-cors: cannot edit response header {name}"),
                );
            }
        }
    }
}

/// The report-only debug line, as the Wasm filter writes it.
fn report(request: &Request<'_>, outcome: &impl std::fmt::Debug) {
    let origin = match request.origin {
        Single::One(origin) => String::from_utf8_lossy(origin),
        Single::Absent => "no Origin".into(),
        Single::Many => "several Origin lines".into(),
    };
    log(
        Level::Debug,
        &format!(
            "bucket-cors: report-only: {} {} from {origin}: {outcome:?}",
            String::from_utf8_lossy(request.method),
            String::from_utf8_lossy(request.path),
        ),
    );
}
