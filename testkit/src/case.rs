//! One named request and the exact answer expected: the case builder of the e2e and hostile
//! tables, and the check that runs one case against Envoy and the object store behind it.
//! Expectations come from `docs/spec.md` through `bucket_cors_spec`, never from the filter.

use std::fmt::Write as _;
use std::io;
use std::time::{Duration, Instant};

use bucket_cors_spec::names::{ACAC, ACAM, ACAO, ACEH, ACMA, CONTENT_TYPE};
use bucket_cors_spec::{body_403, PREFLIGHT_VARY};

use crate::expect::{self, Body, ExpectedInterim, Vary};
use crate::{ObjStore, RawRequest, Response};

/// The header that tags each request with its case name (to find it in the upstream log).
pub const CASE_HEADER: &str = "x-test-case";

/// A host under no endpoint of the tables' configurations: path-style addressing.
pub const PS: &str = "objects.local";
/// The origin most tables allow.
pub const WWW: &str = "https://www.example.com";

/// A preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
pub fn preflight(
    host: impl AsRef<[u8]>,
    target: impl AsRef<[u8]>,
    origin: impl AsRef<[u8]>,
    method: &str,
) -> RawRequest {
    RawRequest::new("OPTIONS", host, target)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
}

/// A request with an `Origin` line when `origin` is given.
pub fn request(method: &str, host: &str, target: &str, origin: Option<&str>) -> RawRequest {
    let r = RawRequest::new(method, host, target);
    match origin {
        Some(o) => r.header("Origin", o),
        None => r,
    }
}

/// `CASE=<substring>` in the environment: only the cases whose name contains it run.
pub fn selected(name: &str) -> bool {
    match std::env::var("CASE") {
        Ok(want) if !want.is_empty() => name.contains(&want),
        _ => true,
    }
}

/// The items of a table that [`selected`] keeps, by their name.
pub fn select<T>(table: Vec<T>, name: impl Fn(&T) -> &str) -> Vec<T> {
    table.into_iter().filter(|t| selected(name(t))).collect()
}

/// Who produces the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// Envoy's HTTP/1 codec or connection manager refuses the request before any filter runs.
    Envoy,
    /// The request reaches the filter, which answers it or forwards it.
    Filter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    /// The request reached the upstream exactly once, unchanged.
    Reached,
    /// The upstream never saw it.
    NotReached,
    Any,
}

/// One named request and what must come back.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// Why this is the answer: the `docs/spec.md` section(s), or Envoy's behaviour.
    pub spec: String,
    pub req: RawRequest,
    pub by: By,
    pub status: u16,
    /// Exact set of `Access-Control-*` response headers: each listed one exactly once with
    /// exactly this value, and no other `Access-Control-*` header.
    pub acx: Vec<(&'static str, String)>,
    pub vary: Vary,
    pub body: Body,
    pub upstream: Upstream,
    /// Further header expectations: `Some(v)` exactly one line with value v, `None` absent.
    pub headers: Vec<(String, Option<String>)>,
    /// Every response header name appears at most once (local replies, spec §4.4).
    pub no_duplicates: bool,
    /// The answer must come within this time.
    pub within: Duration,
    /// `Some`: exactly these interim (1xx) responses first, in order, each with exactly these
    /// `Access-Control-*` headers; `None`: not checked.
    pub interim: Option<Vec<ExpectedInterim>>,
}

/// Starts a case answered through the filter. Defaults: status 200, no `Access-Control-*`
/// header, no `Vary`, any body, upstream reached, within 10 s.
pub fn case(name: &str, spec: &str, req: RawRequest) -> Case {
    Case {
        name: name.into(),
        spec: spec.into(),
        req,
        by: By::Filter,
        status: 200,
        acx: Vec::new(),
        vary: Vary::Absent,
        body: Body::Any,
        upstream: Upstream::Reached,
        headers: Vec::new(),
        no_duplicates: false,
        within: Duration::from_secs(10),
        interim: None,
    }
}

impl Case {
    pub fn status(mut self, s: u16) -> Self {
        self.status = s;
        self
    }
    pub fn acx(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.acx.push((name, value.into()));
        self
    }
    pub fn vary_exact(mut self, v: &str) -> Self {
        self.vary = Vary::Exact(v.into());
        self
    }
    /// `Vary: Origin` alone (spec §4.2).
    pub fn vary_origin(self) -> Self {
        self.vary_exact("Origin")
    }
    pub fn vary_tokens(mut self, t: &[&str]) -> Self {
        self.vary = Vary::Tokens(t.iter().map(|s| s.to_string()).collect());
        self
    }
    pub fn vary_absent(mut self) -> Self {
        self.vary = Vary::Absent;
        self
    }
    pub fn body(mut self, b: Body) -> Self {
        self.body = b;
        self
    }
    pub fn upstream(mut self, u: Upstream) -> Self {
        self.upstream = u;
        self
    }
    pub fn header(mut self, name: &str, value: Option<&str>) -> Self {
        self.headers.push((name.into(), value.map(str::to_string)));
        self
    }
    pub fn within(mut self, d: Duration) -> Self {
        self.within = d;
        self
    }
    /// An interim response of `status` first (after those already expected), with exactly
    /// these `Access-Control-*` headers.
    pub fn interim(mut self, status: u16, acx: &[(&'static str, &str)]) -> Self {
        let acx = acx.iter().map(|(n, v)| (*n, v.to_string())).collect();
        self.interim
            .get_or_insert_with(Vec::new)
            .push((status, acx));
        self
    }
    /// No interim response at all.
    pub fn no_interim(mut self) -> Self {
        self.interim = Some(Vec::new());
        self
    }

    /// Envoy refuses the request itself, before the filter: no CORS header, no `Vary`, the
    /// upstream never sees it.
    pub fn envoy_refuses(mut self, status: u16) -> Self {
        self.by = By::Envoy;
        self.status = status;
        self.acx.clear();
        self.vary = Vary::Absent;
        self.upstream = Upstream::NotReached;
        self
    }

    /// A preflight answered by the filter itself with 200 (spec §3.6, §3.7, §4.4).
    pub fn preflight_ok(mut self) -> Self {
        self.status = 200;
        self.vary = Vary::Exact(PREFLIGHT_VARY.into());
        self.body = Body::Empty;
        self.upstream = Upstream::NotReached;
        self.no_duplicates = true;
        self
    }

    /// A preflight refused by the filter (spec §3.5 or §3.2, §3.7, §4.4): 403, OSS's XML body
    /// with the request's `x-request-id` and host, no `Access-Control-*` header.
    pub fn preflight_403(mut self, message: &str, request_id: &str, host: &str) -> Self {
        self.status = 403;
        self.acx.clear();
        self.vary = Vary::Exact(PREFLIGHT_VARY.into());
        self.body = Body::Exact(body_403(message, request_id, host));
        self.upstream = Upstream::NotReached;
        self.no_duplicates = true;
        self.header(CONTENT_TYPE, Some("application/xml"))
    }

    /// Not a preflight of a resolved bucket: an `OPTIONS` that goes to the upstream untouched
    /// (spec §2.1), which answers with its marker header.
    pub fn options_untouched(self) -> Self {
        self.status(200)
            .header("x-objstore-options", Some("reached"))
    }

    /// The `Access-Control-*` headers of a winning rule with an echoed origin (spec §3.6, §4.2).
    pub fn echo(
        self,
        origin: &str,
        methods: &str,
        expose: Option<&str>,
        max_age: Option<&str>,
    ) -> Self {
        self.acx(ACAO, origin)
            .acx(ACAC, "true")
            .acx(ACAM, methods)
            .optional(expose, max_age)
    }

    /// The `Access-Control-*` headers of a winning `*` rule (no ACAC).
    pub fn star(self, methods: &str, expose: Option<&str>, max_age: Option<&str>) -> Self {
        self.acx(ACAO, "*")
            .acx(ACAM, methods)
            .optional(expose, max_age)
    }

    fn optional(mut self, expose: Option<&str>, max_age: Option<&str>) -> Self {
        if let Some(e) = expose {
            self = self.acx(ACEH, e);
        }
        if let Some(m) = max_age {
            self = self.acx(ACMA, m);
        }
        self
    }

    /// The request as sent: tagged with the case name, last.
    pub(crate) fn tagged_request(&self) -> RawRequest {
        self.req.clone().header(CASE_HEADER, &self.name)
    }
}

/// Bytes for a message: printable ASCII as is, anything else as `\xNN`, long values cut.
pub fn shown(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b.iter().take(120) {
        if (0x20..0x7f).contains(&c) {
            s.push(c as char);
        } else {
            let _ = write!(s, "\\x{c:02x}");
        }
    }
    if b.len() > 120 {
        let _ = write!(s, "…({} bytes)", b.len());
    }
    s
}

/// A request in one line, for a failure message (the case tag left out).
pub fn describe(req: &RawRequest) -> String {
    let mut s = format!("{} {}", req.method, shown(&req.target));
    for (n, v) in &req.headers {
        if !n.eq_ignore_ascii_case(CASE_HEADER) {
            let _ = write!(s, " | {n}: {}", shown(v));
        }
    }
    if !req.body.is_empty() {
        let _ = write!(s, " | body {} bytes", req.body.len());
    }
    s
}

/// Sends one case and checks the answer; returns the problems found (empty when it passed)
/// and the status received.
pub(crate) fn check(
    store: &ObjStore,
    c: &Case,
    sender: &mut dyn FnMut(&RawRequest) -> io::Result<Response>,
) -> (Vec<String>, Option<u16>) {
    let t0 = Instant::now();
    let resp = match sender(&c.tagged_request()) {
        Ok(r) => r,
        Err(e) => return (vec![format!("request failed: {e}")], None),
    };
    let took = t0.elapsed();
    let mut problems = Vec::new();
    if took > c.within {
        problems.push(format!("answered in {took:?} (want within {:?})", c.within));
    }
    if resp.status != c.status {
        problems.push(format!("status {} (want {})", resp.status, c.status));
    }
    expect::cors_headers(&resp, &c.acx, &mut problems);
    expect::vary(&resp, &c.vary, &mut problems);
    expect::headers(&resp, &c.headers, &mut problems);
    expect::body(&resp, &c.body, &mut problems);
    if let Some(interim) = &c.interim {
        expect::interim(&resp, interim, &mut problems);
    }
    if c.no_duplicates {
        let d = resp.duplicated_headers();
        if !d.is_empty() {
            problems.push(format!("duplicated headers on a local reply: {d:?}"));
        }
    }
    upstream(store, c, &resp, &mut problems);
    if !problems.is_empty() {
        problems.push(format!("response was:\n{resp}"));
    }
    (problems, Some(resp.status))
}

/// Did the request reach the upstream as [`Case::upstream`] says, and unchanged?
fn upstream(store: &ObjStore, c: &Case, resp: &Response, problems: &mut Vec<String>) {
    let seen = store.requests_with(CASE_HEADER, &c.name);
    match c.upstream {
        Upstream::Any => {}
        Upstream::NotReached => {
            if !seen.is_empty() {
                problems.push(format!(
                    "upstream was reached ({} time(s)); it must not be",
                    seen.len()
                ));
            }
            if resp.header("x-objstore-hits").is_some()
                || resp.header("x-objstore-options").is_some()
            {
                problems.push("the response comes from the upstream (x-objstore-* headers)".into());
            }
        }
        Upstream::Reached => {
            let [up] = seen.as_slice() else {
                problems.push(format!(
                    "upstream saw the request {} time(s) (want 1)",
                    seen.len()
                ));
                return;
            };
            let target = c.req.target_str();
            if up.method != c.req.method || up.target != target {
                problems.push(format!(
                    "upstream got {} {} (want {} {target} unchanged)",
                    up.method, up.target, c.req.method
                ));
            }
            if up.body != c.req.body && c.req.header_all("transfer-encoding").is_empty() {
                problems.push(format!(
                    "upstream got a body of {} bytes (want {})",
                    up.body.len(),
                    c.req.body.len()
                ));
            }
            // The CORS request headers reach the upstream unchanged (spec §4.1, §3.2).
            for name in [
                "origin",
                "access-control-request-method",
                "access-control-request-headers",
            ] {
                let sent: Vec<String> = c
                    .req
                    .header_all(name)
                    .iter()
                    .map(|v| v.trim_matches([' ', '\t']).to_string())
                    .collect();
                let got = up.header_all(name);
                if got.join(",") != sent.join(",") {
                    problems.push(format!("upstream got {name} {got:?} (sent {sent:?})"));
                }
            }
        }
    }
}
