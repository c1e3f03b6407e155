#![allow(dead_code)]
//! Case tables for the end-to-end tests: one Envoy per plugin configuration serves many named
//! cases; every failure is collected and reported together.

use std::collections::HashSet;
use std::fmt::Write as _;

use bucket_cors_testkit::expect;
use bucket_cors_testkit::{send, Conn, Envoy, EnvoyOptions, ObjStore, RawRequest, Response};

pub use bucket_cors_testkit::expect::{
    body_403, Body, Vary, ACAC, ACAH, ACAM, ACAO, ACEH, ACMA, MSG_NOT_ALLOWED, MSG_NOT_ENABLED,
    PREFLIGHT_VARY,
};

/// The header that tags each request with its case name (to find it in the upstream log).
pub const CASE_HEADER: &str = "x-e2e-case";

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
    /// Spec section(s) the expectation comes from.
    pub spec: String,
    pub req: RawRequest,
    pub status: u16,
    /// Exact set of `Access-Control-*` response headers: each listed one exactly once with
    /// exactly this value, and no other `Access-Control-*` header.
    pub acx: Vec<(&'static str, String)>,
    pub vary: Vary,
    pub body: Body,
    pub upstream: Upstream,
    /// Further header expectations: `Some(v)` exactly one line with value v, `None` absent.
    pub headers: Vec<(String, Option<String>)>,
    /// Every response header name appears at most once (local replies, spec 4.4).
    pub no_duplicates: bool,
}

/// Starts a case. Defaults: status 200, no Access-Control-* header, no Vary, any body,
/// upstream reached.
pub fn case(name: &str, spec: &str, req: RawRequest) -> Case {
    Case {
        name: name.into(),
        spec: spec.into(),
        req,
        status: 200,
        acx: Vec::new(),
        vary: Vary::Absent,
        body: Body::Any,
        upstream: Upstream::Reached,
        headers: Vec::new(),
        no_duplicates: false,
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

    /// A preflight answered by the filter itself with 200 (spec 3.6, 3.7, 4.4).
    pub fn preflight_ok(self) -> Self {
        let mut c = self
            .status(200)
            .vary_exact(PREFLIGHT_VARY)
            .body(Body::Empty)
            .upstream(Upstream::NotReached);
        c.no_duplicates = true;
        c
    }

    /// A preflight refused by the filter (spec 3.5 or 3.2, 3.7, 4.4): 403, XML body with the
    /// request's x-request-id and host, no Access-Control-* header.
    pub fn preflight_403(self, message: &str, request_id: &str, host: &str) -> Self {
        let mut c = self
            .status(403)
            .vary_exact(PREFLIGHT_VARY)
            .body(Body::Xml403(body_403(message, request_id, host)))
            .upstream(Upstream::NotReached)
            .header("content-type", Some("application/xml"));
        c.acx.clear();
        c.no_duplicates = true;
        c
    }

    /// The Access-Control-* headers of a winning rule with an echoed origin (spec 3.6 / 4.2).
    pub fn echo(
        self,
        origin: &str,
        methods: &str,
        expose: Option<&str>,
        max_age: Option<&str>,
    ) -> Self {
        let mut c = self.acx(ACAO, origin).acx(ACAC, "true").acx(ACAM, methods);
        if let Some(e) = expose {
            c = c.acx(ACEH, e);
        }
        if let Some(m) = max_age {
            c = c.acx(ACMA, m);
        }
        c
    }

    /// The Access-Control-* headers of a winning `*` rule (no ACAC).
    pub fn star(self, methods: &str, expose: Option<&str>, max_age: Option<&str>) -> Self {
        let mut c = self.acx(ACAO, "*").acx(ACAM, methods);
        if let Some(e) = expose {
            c = c.acx(ACEH, e);
        }
        if let Some(m) = max_age {
            c = c.acx(ACMA, m);
        }
        c
    }
}

fn describe_request(req: &RawRequest) -> String {
    let mut s = format!("{} {}", req.method, req.target);
    for (n, v) in &req.headers {
        if n == CASE_HEADER {
            continue;
        }
        let v = if v.len() > 120 {
            format!("{}…({} bytes)", &v[..120], v.len())
        } else {
            v.clone()
        };
        let _ = write!(s, " | {n}: {v}");
    }
    if !req.body.is_empty() {
        let _ = write!(s, " | body {} bytes", req.body.len());
    }
    s
}

/// Runs one case; returns the problems found (empty when it passed).
fn check(
    store: &ObjStore,
    c: &Case,
    sender: &mut dyn FnMut(&RawRequest) -> std::io::Result<Response>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let resp = match sender(&c.req) {
        Ok(r) => r,
        Err(e) => return vec![format!("request failed: {e}")],
    };
    if resp.status != c.status {
        problems.push(format!("status {} (want {})", resp.status, c.status));
    }

    // Access-Control-* headers: exactly the expected set, each once, exact value.
    expect::cors_headers(&resp, &c.acx, &mut problems);
    expect::vary(&resp, &c.vary, &mut problems);
    expect::headers(&resp, &c.headers, &mut problems);
    expect::body(&resp, &c.body, &mut problems);

    if c.no_duplicates {
        let d = resp.duplicated_headers();
        if !d.is_empty() {
            problems.push(format!("duplicated headers on a local reply: {d:?}"));
        }
    }

    // Upstream: found by the case header.
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
            if seen.len() != 1 {
                problems.push(format!(
                    "upstream saw the request {} time(s) (want 1)",
                    seen.len()
                ));
            } else {
                let up = &seen[0];
                if up.method != c.req.method || up.target != c.req.target {
                    problems.push(format!(
                        "upstream got {} {} (want {} {} unchanged)",
                        up.method, up.target, c.req.method, c.req.target
                    ));
                }
                if up.body != c.req.body
                    && !c
                        .req
                        .headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
                {
                    problems.push(format!(
                        "upstream got a body of {} bytes (want {})",
                        up.body.len(),
                        c.req.body.len()
                    ));
                }
                // The CORS request headers must reach the upstream unchanged (spec 4.1, 3.2).
                for name in [
                    "origin",
                    "access-control-request-method",
                    "access-control-request-headers",
                ] {
                    let sent: Vec<&str> = c
                        .req
                        .headers
                        .iter()
                        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.trim_matches([' ', '\t']))
                        .collect();
                    let got = up.header_all(name);
                    if got.join(",") != sent.join(",") {
                        problems.push(format!("upstream got {name} {got:?} (sent {sent:?})"));
                    }
                }
            }
        }
    }

    if !problems.is_empty() {
        problems.push(format!("response was:\n{resp}"));
    }
    problems
}

/// A configuration under test: the plugin JSON, the Envoy and the object store behind it.
pub struct Bench {
    pub name: String,
    pub store: ObjStore,
    pub envoy: Envoy,
}

impl Bench {
    /// Starts an object store and an Envoy in front of it; panics with a clear message when the
    /// prerequisites are missing (tests fail, they never skip).
    pub fn start(name: &str, plugin_config: &str) -> Bench {
        Self::start_with(name, plugin_config, &EnvoyOptions::default(), false)
    }

    /// `dead_upstream`: route to a loopback port where nothing listens (Envoy's own 503).
    pub fn start_with(
        name: &str,
        plugin_config: &str,
        opts: &EnvoyOptions,
        dead_upstream: bool,
    ) -> Bench {
        let store = ObjStore::start().expect("start the object store");
        let upstream = if dead_upstream {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let a = l.local_addr().unwrap();
            drop(l);
            a
        } else {
            store.addr()
        };
        let envoy = match Envoy::start_with(plugin_config, upstream, opts) {
            Ok(e) => e,
            Err(e) if e.is_missing_prerequisite() => panic!("[{name}] {e}\n=> run `make test`"),
            Err(e) => panic!("[{name}] Envoy did not start with this plugin configuration:\n{plugin_config}\n{e}"),
        };
        Bench {
            name: name.into(),
            store,
            envoy,
        }
    }

    /// Runs every case in order, then checks the log for plugin crashes; panics once with every
    /// failure.
    pub fn run(&self, cases: Vec<Case>) {
        let addr = self.envoy.addr();
        self.run_with(cases, &mut |r: &RawRequest| send(addr, r));
    }

    /// Runs every case in order on ONE keep-alive downstream connection.
    pub fn run_on_one_connection(&self, cases: Vec<Case>) {
        let mut conn = Conn::open(self.envoy.addr()).expect("connect to Envoy");
        self.run_with(cases, &mut |r: &RawRequest| conn.send(r));
    }

    fn run_with(
        &self,
        cases: Vec<Case>,
        sender: &mut dyn FnMut(&RawRequest) -> std::io::Result<Response>,
    ) {
        let mut names = HashSet::new();
        for c in &cases {
            assert!(
                names.insert(c.name.clone()),
                "duplicate case name {}",
                c.name
            );
        }
        let total = cases.len();
        let mut failures = Vec::new();
        for mut c in cases {
            c.req.headers.push((CASE_HEADER.into(), c.name.clone()));
            let problems = check(&self.store, &c, sender);
            if !problems.is_empty() {
                failures.push(format!(
                    "--- case {} (spec {})\n    request: {}\n    {}",
                    c.name,
                    c.spec,
                    describe_request(&c.req),
                    problems.join("\n    ")
                ));
            }
        }
        let crashes = self.envoy.crash_lines();
        if !crashes.is_empty() {
            failures.push(format!(
                "--- plugin crashed (Envoy log):\n{}",
                crashes.join("\n")
            ));
        }
        eprintln!(
            "[{}] {} cases, {} passed, {} failed",
            self.name,
            total,
            total - failures.len().min(total),
            failures.len()
        );
        if !failures.is_empty() {
            panic!(
                "[{}] {} of {} cases failed:\n{}\n\nwasm log lines:\n{}",
                self.name,
                failures.len(),
                total,
                failures.join("\n"),
                self.envoy
                    .log()
                    .lines()
                    .filter(|l| l.contains("wasm log")
                        || l.contains("[error]")
                        || l.contains("[critical]"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}
