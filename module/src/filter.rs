//! One stream: hands the request headers to the core's stream and applies what it returns (a
//! local reply, edits of the response headers, a pause while the store's rules are read or
//! while a `PUT ?cors` body arrives).

use crate::config::Config;
use crate::host::{FilterHost, Map};
use crate::store::Pause;
use bucket_cors_core::{HeaderOp, LocalReply, Lookup, Step, Stream};

#[derive(Default)]
pub struct Filter {
    stream: Stream,
    pause: Pause,
}

/// What the request-body hook answers.
pub enum Body {
    Continue,
    /// Keep the chunk with the rest and wait for more.
    Buffer,
    /// The filter answered the request.
    Stop,
}

impl Filter {
    /// Returns whether the request goes on (false: the filter answered or paused it).
    pub fn on_request_headers(
        &mut self,
        config: &Config,
        host: &mut FilterHost,
        end_of_stream: bool,
    ) -> bool {
        self.pause.ended = end_of_stream;
        self.decide(config, host)
    }

    /// Runs the core's request phase; returns whether the request goes on now.
    fn decide(&mut self, config: &Config, host: &mut FilterHost) -> bool {
        let step = {
            let Some(headers) = host.headers(Map::Request) else {
                log::warn!("cannot read the request headers");
                return true;
            };
            let pause = &mut self.pause;
            self.stream.on_request_headers(
                &config.policy,
                |bucket| match &config.store {
                    Some(store) => store.lookup(bucket, pause, host, config.metrics.as_ref()),
                    // The core asks only with `rules_source`, which always has a store.
                    None => Lookup::Unavailable,
                },
                headers.pairs(),
                |counter| {
                    if let Some(metrics) = &config.metrics {
                        metrics.increment(host, counter);
                    }
                },
            )
        };
        match step {
            Step::Continue => true,
            Step::Reply(reply) => {
                answer(host, &reply);
                false
            }
            Step::Wait => {
                self.pause.waiting = true;
                false
            }
            Step::ReadBody if self.pause.ended => self.judge_body(config, host),
            Step::ReadBody => {
                self.pause.reading_body = true;
                false
            }
        }
    }

    /// A chunk of the request body: kept while the request waits for its rules or is a
    /// `PUT ?cors` whose body is not whole yet (spec §8); judged once whole, or once larger
    /// than `max_document_bytes` (refused then, without reading the rest).
    pub fn on_request_body(
        &mut self,
        config: &Config,
        host: &mut FilterHost,
        end_of_stream: bool,
    ) -> Body {
        self.pause.ended |= end_of_stream;
        if self.pause.waiting {
            return Body::Buffer;
        }
        if !self.pause.reading_body {
            return Body::Continue;
        }
        let too_large = config
            .policy
            .rules_source()
            .is_some_and(|source| host.request_body().len() > source.max_document_bytes);
        if !end_of_stream && !too_large {
            return Body::Buffer;
        }
        self.pause.reading_body = false;
        if self.judge_body(config, host) {
            Body::Continue
        } else {
            Body::Stop
        }
    }

    /// The event the cache sent when the read this stream waited for ended: decides again and
    /// resumes the request, answers it, or waits on.
    pub fn on_scheduled(&mut self, config: &Config, host: &mut FilterHost) {
        if !std::mem::take(&mut self.pause.waiting) {
            return;
        }
        if self.decide(config, host) {
            host.continue_decoding();
        }
    }

    /// Judges the whole `PUT ?cors` body; returns whether the request goes on.
    fn judge_body(&mut self, config: &Config, host: &mut FilterHost) -> bool {
        let body = host.request_body();
        let reply = self
            .stream
            .on_request_body(&config.policy, &body, |counter| {
                if let Some(metrics) = &config.metrics {
                    metrics.increment(host, counter);
                }
            });
        match reply {
            Some(reply) => {
                answer(host, &reply);
                false
            }
            None => true,
        }
    }

    pub fn on_response_headers(&mut self, config: &Config, host: &mut FilterHost) {
        if !self.stream.edits_response() {
            return;
        }
        let ops = {
            let Some(headers) = host.headers(Map::Response) else {
                log::warn!("cannot read the response headers");
                return;
            };
            if let Some(store) = &config.store {
                store.on_response(&self.stream, &headers);
            }
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

/// Answers the request with the filter's own reply.
fn answer(host: &mut FilterHost, reply: &LocalReply<'_>) {
    let headers = reply.headers.iter().map(|(name, value)| (*name, &**value));
    host.send_response(reply.status, headers, &reply.body);
}
