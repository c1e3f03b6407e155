//! One HTTP stream as both glues run it: the request phase decides, counts
//! the outcome and writes the report-only line; with `rules_source` it may
//! wait for the store's rules and judge a `PUT ?cors` body; the response
//! phase says how to edit the response and which cached bucket to drop.
//! The glue reads and writes headers, pauses, resumes and sends the reply;
//! nothing here talks to a host.

use crate::compile::BucketCors;
use crate::cors_api::CorsApiCall;
use crate::{
    Action, Counter, HeaderOp, LocalReply, Lookup, Outcome, Policy, Request, ResponsePlan, Single,
    Verdict,
};
use std::fmt;
use std::sync::Arc;

/// What a stream remembers between its request and its response.
#[derive(Debug, Default)]
pub struct Stream {
    /// Set when the request was forwarded under a bucket's rules (or under
    /// `upstream_cors: strip`); never when the filter answered it itself, so
    /// its own reply, which Envoy also runs through the response phase, stays
    /// as sent.
    plan: Option<ResponsePlan>,
    /// A `PUT`/`DELETE ?cors` through the gateway (spec §8).
    cors_api: Option<CorsApiCall>,
    /// The request waits for its bucket's rules: nothing of it may pass.
    waiting: bool,
    /// The bucket's rules from the store (spec §8), kept while this
    /// request's reply borrows them.
    store_rules: Option<Arc<BucketCors>>,
}

/// What the glue does after the request headers; a reply borrows the
/// policy (`'p`).
#[derive(Debug)]
pub enum Step<'p> {
    /// Let the request go on.
    Continue,
    /// Answer with this reply and stop the request.
    Reply(LocalReply<'p>),
    /// Pause: the bucket's rules are being read. When the cache wakes the
    /// request, call [`Stream::on_request_headers`] again.
    Wait,
    /// Pause until the whole body has been read, then call
    /// [`Stream::on_request_body`] (a `PUT ?cors`, spec §8).
    ReadBody,
}

impl Stream {
    /// The request phase (docs/spec.md §2–§4, §8): decides (asking `lookup`,
    /// the cache of store rules, for a bucket `buckets` does not list),
    /// counts the outcome through `count`, logs a report-only bucket's
    /// verdict (debug). A reply borrows the policy, or the store's rules this
    /// stream keeps (`'p`).
    pub fn on_request_headers<'p, 'h, I, N, V>(
        &'p mut self,
        policy: &'p Policy,
        lookup: impl FnOnce(&str) -> Lookup,
        headers: I,
        count: impl FnOnce(Counter),
    ) -> Step<'p>
    where
        I: IntoIterator<Item = (&'h N, &'h V)>,
        N: AsRef<[u8]> + ?Sized + 'h,
        V: AsRef<[u8]> + ?Sized + 'h,
    {
        let request = Request::from_headers(headers);
        let verdict = policy.decide_with_store(&request, lookup, &mut self.store_rules);
        self.waiting = matches!(verdict, Verdict::Wait);
        let Verdict::Decided(decision) = verdict else {
            return Step::Wait;
        };
        if let Some(counter) = decision.outcome.counter() {
            count(counter);
        }
        if decision.reported.is_some() {
            log::debug!("{}", ReportLine(&request, decision.outcome));
        }
        match decision.action {
            Action::Reply(reply) => return Step::Reply(reply),
            Action::Forward(plan) => self.plan = Some(plan),
            Action::Ignore => {}
        }
        self.cors_api = policy.cors_api_call(&request);
        match &self.cors_api {
            Some(call) if call.put => Step::ReadBody,
            _ => Step::Continue,
        }
    }

    /// A `PUT ?cors` body, whole (spec §8): `Some` is the 400 to answer
    /// with, counted through `count`; `None` lets the request go on.
    pub fn on_request_body(
        &mut self,
        policy: &Policy,
        body: &[u8],
        count: impl FnOnce(Counter),
    ) -> Option<LocalReply<'static>> {
        let reply = policy.judge_put_body(self.cors_api.as_ref()?, body)?;
        if let Some(counter) = Outcome::PutRefused.counter() {
            count(counter);
        }
        // Refused: the store never sees the change, and the reply is ours.
        self.cors_api = None;
        self.plan = None;
        Some(reply)
    }

    /// Whether the glue must hold the request body back: the request waits
    /// for its rules, or its body is a `PUT ?cors` to judge whole.
    pub fn holds_body(&self) -> bool {
        self.waiting || self.cors_api.as_ref().is_some_and(|call| call.put)
    }

    /// Whether the request waits for its bucket's rules.
    pub fn is_waiting(&self) -> bool {
        self.waiting
    }

    /// Whether the response phase edits anything or reads the status: the
    /// glue reads the response headers only then.
    pub fn edits_response(&self) -> bool {
        self.plan.is_some() || self.cors_api.is_some()
    }

    /// The response phase (docs/spec.md §2.4, §3.7, §4): the edits to make,
    /// in order; none when the request was not forwarded under a plan.
    pub fn on_response_headers<'h, I, N, V>(&self, headers: I) -> Vec<HeaderOp<'_>>
    where
        I: IntoIterator<Item = (&'h N, &'h V)>,
        N: AsRef<[u8]> + ?Sized + 'h,
        V: AsRef<[u8]> + ?Sized + 'h,
    {
        match &self.plan {
            Some(plan) => plan.header_ops(headers),
            None => Vec::new(),
        }
    }

    /// The bucket whose cached answer to drop, once the store answered a
    /// `PUT`/`DELETE ?cors` with the response `headers` (their `:status`
    /// 2xx, spec §8).
    pub fn changed_bucket<'h, I, N, V>(&self, headers: I) -> Option<&str>
    where
        I: IntoIterator<Item = (&'h N, &'h V)>,
        N: AsRef<[u8]> + ?Sized + 'h,
        V: AsRef<[u8]> + ?Sized + 'h,
    {
        let call = self.cors_api.as_ref()?;
        let (_, status) = headers
            .into_iter()
            .find(|(name, _)| name.as_ref() == b":status")?;
        status.as_ref().starts_with(b"2").then_some(&*call.bucket)
    }
}

/// `report-only: <method> <path> from <origin>: <outcome>`, formatted only
/// when the debug line is written.
struct ReportLine<'r, 'a>(&'r Request<'a>, Outcome);

impl fmt::Display for ReportLine<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ReportLine(request, outcome) = self;
        let origin = match request.origin {
            Single::One(origin) => String::from_utf8_lossy(origin),
            Single::Absent => "no Origin".into(),
            Single::Many => "several Origin lines".into(),
        };
        write!(
            f,
            "report-only: {} {} from {origin}: {outcome:?}",
            String::from_utf8_lossy(request.method),
            String::from_utf8_lossy(request.path),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{"buckets": {"photos": {"CORSRule": [
        {"AllowedOrigin": ["https://a.example"], "AllowedMethod": ["GET"]}]}}}"#;

    fn no_store(_: &str) -> Lookup {
        unreachable!("no rules_source")
    }

    fn run(stream: &mut Stream, headers: &[(&str, &str)]) -> (Option<u32>, Vec<Counter>) {
        let policy = Policy::from_json(CONFIG.as_bytes()).unwrap();
        let mut counted = Vec::new();
        let pairs = headers.iter().map(|(n, v)| (*n, v.as_bytes()));
        let step = stream.on_request_headers(&policy, no_store, pairs, |c| counted.push(c));
        let reply = match step {
            Step::Reply(reply) => Some(reply.status),
            _ => None,
        };
        (reply, counted)
    }

    #[test]
    fn an_answered_preflight_is_counted_once_and_its_reply_is_never_edited() {
        let mut stream = Stream::default();
        let (reply, counted) = run(
            &mut stream,
            &[
                (":method", "OPTIONS"),
                (":authority", "s3.local"),
                (":path", "/photos/k"),
                ("origin", "https://a.example"),
                ("access-control-request-method", "GET"),
            ],
        );
        assert_eq!(reply, Some(200));
        assert_eq!(counted, vec![Counter::PreflightAllowed]);
        assert!(!stream.edits_response());
        let upstream_like = [("access-control-allow-origin", "*")];
        let ops = stream.on_response_headers(upstream_like.iter().map(|(n, v)| (*n, *v)));
        assert!(ops.is_empty(), "the filter's own reply stays as sent");
    }

    #[test]
    fn a_forwarded_request_is_counted_and_its_response_edited_by_the_plan() {
        let mut stream = Stream::default();
        let (reply, counted) = run(
            &mut stream,
            &[
                (":method", "GET"),
                (":authority", "s3.local"),
                (":path", "/photos/k"),
                ("origin", "https://a.example"),
            ],
        );
        assert!(reply.is_none());
        assert_eq!(counted, vec![Counter::ActualMatched]);
        assert!(stream.edits_response());
        let upstream = [("access-control-allow-origin", "*")];
        let ops = stream.on_response_headers(upstream.iter().map(|(n, v)| (*n, *v)));
        assert!(ops.iter().any(|op| matches!(op,
            HeaderOp::Set("access-control-allow-origin", v) if v == "https://a.example")));
    }

    #[test]
    fn a_request_without_a_bucket_counts_nothing_and_edits_nothing_without_strip() {
        let policy = Policy::from_json(br#"{"buckets": {}, "upstream_cors": "pass"}"#).unwrap();
        let mut stream = Stream::default();
        let mut counted = Vec::new();
        let headers = [
            (":method", "GET"),
            (":path", "/"),
            ("origin", "https://a.example"),
        ];
        let step = stream.on_request_headers(
            &policy,
            no_store,
            headers.iter().map(|(n, v)| (*n, v.as_bytes())),
            |c| counted.push(c),
        );
        assert!(matches!(step, Step::Continue));
        assert!(counted.is_empty());
        assert!(!stream.edits_response());
    }

    #[test]
    fn the_report_line_names_method_path_origin_and_outcome() {
        let headers = [
            (":method", "PUT"),
            (":path", "/photos/k"),
            ("origin", "https://b.example"),
        ];
        let request = Request::from_headers(headers.iter().map(|(n, v)| (*n, v.as_bytes())));
        assert_eq!(
            ReportLine(&request, Outcome::ActualUnmatched).to_string(),
            "report-only: PUT /photos/k from https://b.example: ActualUnmatched"
        );
        let request = Request::default();
        assert_eq!(
            ReportLine(&request, Outcome::NoOrigin).to_string(),
            "report-only:   from no Origin: NoOrigin"
        );
    }

    const STORE_CONFIG: &str = r#"{"buckets": {"listed": {"CORSRule": [
        {"AllowedOrigin": ["https://a.example"], "AllowedMethod": ["GET"]}]}},
        "rules_source": {"cluster": "store", "retry_seconds": 3}}"#;

    fn step(headers: &[(&str, &str)], lookup: Lookup) -> (Step<'static>, Vec<Counter>, bool) {
        // Leaked: the step's reply borrows the policy and the stream, and the
        // test reads it after.
        let policy: &'static Policy = Box::leak(Box::new(
            Policy::from_json(STORE_CONFIG.as_bytes()).unwrap(),
        ));
        let stream: &'static mut Stream = Box::leak(Box::default());
        let mut counted = Vec::new();
        let mut asked = false;
        let step = stream.on_request_headers(
            policy,
            |_| {
                asked = true;
                lookup
            },
            headers.iter().map(|(n, v)| (*n, v.as_bytes())),
            |c| counted.push(c),
        );
        (step, counted, asked)
    }

    const PREFLIGHT: [(&str, &str); 4] = [
        (":method", "OPTIONS"),
        (":path", "/photos/k"),
        ("origin", "https://a.example"),
        ("access-control-request-method", "GET"),
    ];

    #[test]
    fn spec_8_a_bucket_buckets_lists_keeps_its_rules_and_is_never_looked_up() {
        let mut headers = PREFLIGHT;
        headers[1] = (":path", "/listed/k");
        let (step, counted, asked) = step(&headers, Lookup::Wait);
        assert!(matches!(step, Step::Reply(r) if r.status == 200));
        assert_eq!(counted, [Counter::PreflightAllowed]);
        assert!(!asked);
    }

    #[test]
    fn spec_8_a_bucket_buckets_does_not_list_is_answered_by_its_store_rules() {
        let doc = b"<CORSConfiguration><CORSRule><AllowedOrigin>https://a.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule></CORSConfiguration>";
        let rules = crate::StoreRules::from_xml(doc, None).unwrap().into_cors();
        let known = Lookup::Known(crate::KnownRules(Some(Arc::new(rules))));
        let (step, counted, asked) = step(&PREFLIGHT, known);
        let Step::Reply(reply) = step else {
            panic!("{step:?}")
        };
        assert_eq!(reply.status, 200);
        assert!(reply
            .headers
            .contains(&("access-control-max-age", "60".into())));
        assert_eq!(counted, [Counter::PreflightAllowed]);
        assert!(asked);
    }

    #[test]
    fn spec_8_a_bucket_being_read_waits_and_one_without_store_rules_gets_default() {
        let (step, counted, asked) = step(&PREFLIGHT, Lookup::Wait);
        assert!(matches!(step, Step::Wait) && counted.is_empty() && asked);
        let (step, counted, _) = step_known_none();
        assert!(
            matches!(step, Step::Reply(r) if r.status == 403),
            "no default: not enabled"
        );
        assert_eq!(counted, [Counter::PreflightRefusedNoConfiguration]);
    }

    fn step_known_none() -> (Step<'static>, Vec<Counter>, bool) {
        step(&PREFLIGHT, Lookup::Known(crate::KnownRules(None)))
    }

    #[test]
    fn spec_8_unknown_rules_answer_a_preflight_503_and_forward_an_actual_request_without_grants() {
        let (step_, counted, _) = step(&PREFLIGHT, Lookup::Unavailable);
        let Step::Reply(reply) = step_ else {
            panic!("{step_:?}")
        };
        assert_eq!(reply.status, 503);
        assert!(reply.headers.contains(&("retry-after", "3".into())));
        let body = String::from_utf8(reply.body).unwrap();
        assert!(body.contains("<Code>ServiceUnavailable</Code>"), "{body}");
        assert!(
            body.contains(crate::error_body::RULES_UNAVAILABLE),
            "{body}"
        );
        assert_eq!(counted, [Counter::StoreUnavailable]);

        let policy = Policy::from_json(STORE_CONFIG.as_bytes()).unwrap();
        let mut stream = Stream::default();
        let headers = [
            (":method", "GET"),
            (":path", "/photos/k"),
            ("origin", "https://a.example"),
        ];
        let step_ = stream.on_request_headers(
            &policy,
            |_| Lookup::Unavailable,
            headers.iter().map(|(n, v)| (*n, v.as_bytes())),
            |_| {},
        );
        assert!(matches!(step_, Step::Continue));
        let upstream = [("access-control-allow-origin", "*")];
        let ops = stream.on_response_headers(upstream.iter().map(|(n, v)| (*n, *v)));
        assert!(
            ops.contains(&HeaderOp::Remove("access-control-allow-origin".into())),
            "{ops:?}"
        );
        assert!(
            ops.iter()
                .any(|op| matches!(op, HeaderOp::Set("vary", v) if v == "Origin")),
            "{ops:?}"
        );
    }

    /// Response headers with this `:status`, as a glue hands them over.
    fn status(code: &'static str) -> [(&'static str, &'static str); 2] {
        [(":status", code), ("content-length", "0")]
    }

    #[test]
    fn spec_8_a_put_of_the_cors_subresource_is_judged_before_the_store_sees_it() {
        let policy = Policy::from_json(STORE_CONFIG.as_bytes()).unwrap();
        let put = [(":method", "PUT"), (":path", "/photos?cors")];
        let mut stream = Stream::default();
        let s = stream.on_request_headers(
            &policy,
            |_| Lookup::Known(crate::KnownRules(None)),
            put.iter().map(|(n, v)| (*n, v.as_bytes())),
            |_| {},
        );
        assert!(matches!(s, Step::ReadBody), "{s:?}");
        let mut counted = Vec::new();
        let reply = stream.on_request_body(&policy, b"<CORSConfiguration/>", |c| counted.push(c));
        assert_eq!(reply.map(|r| r.status), Some(400));
        assert_eq!(counted, [Counter::StorePutRefused]);
        assert_eq!(
            stream.changed_bucket(status("200")),
            None,
            "refused: nothing changed"
        );

        let mut stream = Stream::default();
        stream.on_request_headers(
            &policy,
            |_| Lookup::Known(crate::KnownRules(None)),
            put.iter().map(|(n, v)| (*n, v.as_bytes())),
            |_| {},
        );
        let ok = b"<CORSConfiguration><CORSRule><AllowedOrigin>https://a.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
        assert!(stream.on_request_body(&policy, ok, |_| {}).is_none());
        assert!(stream.edits_response());
        assert_eq!(stream.changed_bucket(status("403")), None);
        assert_eq!(stream.changed_bucket(status("200")), Some("photos"));

        let delete = [(":method", "DELETE"), (":path", "/photos?cors")];
        let mut stream = Stream::default();
        let s = stream.on_request_headers(
            &policy,
            |_| Lookup::Known(crate::KnownRules(None)),
            delete.iter().map(|(n, v)| (*n, v.as_bytes())),
            |_| {},
        );
        assert!(matches!(s, Step::Continue));
        assert_eq!(stream.changed_bucket(status("204")), Some("photos"));
    }
}
