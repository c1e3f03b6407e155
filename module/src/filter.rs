//! One stream: hands the request headers to the core's stream and applies what it returns (a
//! local reply, or edits of the response headers).

use crate::config::Config;
use crate::host::{FilterHost, Map};
use bucket_cors_core::{HeaderOp, Lookup, Step, Stream};

#[derive(Default)]
pub struct Filter {
    stream: Stream,
}

impl Filter {
    /// Returns whether the request goes on (false: the filter answered it).
    pub fn on_request_headers(&mut self, config: &Config, host: &mut FilterHost) -> bool {
        let reply = {
            let Some(headers) = host.headers(Map::Request) else {
                log::warn!("cannot read the request headers");
                return true;
            };
            // The module does not read rules from the store yet: a bucket
            // the store would govern is decided as unreadable (spec §8).
            self.stream.on_request_headers(
                &config.policy,
                |_| Lookup::Unavailable,
                headers.pairs(),
                |counter| {
                    if let Some(metrics) = &config.metrics {
                        metrics.increment(host, counter);
                    }
                },
            )
        };
        match reply {
            Step::Continue | Step::Wait | Step::ReadBody => true,
            Step::Reply(reply) => {
                let headers = reply
                    .headers
                    .iter()
                    .map(|(name, value)| (*name, value.as_str()));
                host.send_response(reply.status, headers, &reply.body);
                false
            }
        }
    }

    pub fn on_response_headers(&mut self, host: &mut FilterHost) {
        if !self.stream.edits_response() {
            return;
        }
        let ops = {
            let Some(headers) = host.headers(Map::Response) else {
                log::warn!("cannot read the response headers");
                return;
            };
            self.stream.on_response_headers(headers.pairs())
        };
        for op in ops {
            let (name, done) = match &op {
                HeaderOp::Remove(name) => (&**name, host.set_header(Map::Response, name, None)),
                HeaderOp::Set(name, value) => {
                    (*name, host.set_header(Map::Response, name, Some(value)))
                }
            };
            if !done {
                log::warn!("cannot edit response header {name}");
            }
        }
    }
}
