//! One HTTP stream as both glues run it: the request phase decides, counts
//! the outcome and writes the report-only line; the response phase says how
//! to edit the response. The glue reads and writes headers and sends the
//! reply; nothing here talks to a host.

use crate::{
    Action, Counter, HeaderOp, LocalReply, Outcome, Policy, Request, ResponsePlan, Single,
};
use std::fmt;

/// What a stream remembers between its request and its response.
#[derive(Debug, Default)]
pub struct Stream {
    /// Set when the request was forwarded under a bucket's rules (or under
    /// `upstream_cors: strip`); never when the filter answered it itself, so
    /// its own reply, which Envoy also runs through the response phase, stays
    /// as sent.
    plan: Option<ResponsePlan>,
}

impl Stream {
    /// The request phase (docs/spec.md §2–§4): decides, counts the outcome
    /// through `count`, logs a report-only bucket's verdict (debug). `Some`:
    /// the glue answers with this reply and stops the request.
    pub fn on_request_headers<'p, 'h, I, N, V>(
        &mut self,
        policy: &'p Policy,
        headers: I,
        count: impl FnOnce(Counter),
    ) -> Option<LocalReply<'p>>
    where
        I: IntoIterator<Item = (&'h N, &'h V)>,
        N: AsRef<[u8]> + ?Sized + 'h,
        V: AsRef<[u8]> + ?Sized + 'h,
    {
        let request = Request::from_headers(headers);
        let decision = policy.decide(&request);
        if let Some(counter) = decision.outcome.counter() {
            count(counter);
        }
        if decision.reported.is_some() {
            log::debug!("{}", ReportLine(&request, decision.outcome));
        }
        match decision.action {
            Action::Ignore => None,
            Action::Forward(plan) => {
                self.plan = Some(plan);
                None
            }
            Action::Reply(reply) => Some(reply),
        }
    }

    /// Whether the response phase edits anything: the glue reads the
    /// response headers only then.
    pub fn edits_response(&self) -> bool {
        self.plan.is_some()
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

    fn run(stream: &mut Stream, headers: &[(&str, &str)]) -> (Option<u32>, Vec<Counter>) {
        let policy = Policy::from_json(CONFIG.as_bytes()).unwrap();
        let mut counted = Vec::new();
        let pairs = headers.iter().map(|(n, v)| (*n, v.as_bytes()));
        let reply = stream.on_request_headers(&policy, pairs, |c| counted.push(c));
        (reply.map(|r| r.status), counted)
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
        let reply = stream.on_request_headers(
            &policy,
            headers.iter().map(|(n, v)| (*n, v.as_bytes())),
            |c| counted.push(c),
        );
        assert!(reply.is_none());
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
}
