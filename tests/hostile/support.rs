#![allow(dead_code)]
//! Hostile-input cases against a real Envoy: requests built from raw bytes (non-UTF-8 header
//! values, paths and hosts, repeated lines, oversized values), each with the exact answer
//! expected and who gives it: Envoy's own codec / connection manager, or the filter.
//!
//! After every table the Envoy must still be up (`/ready` answers `LIVE`, the process runs),
//! its log must show no Wasm panic, trap or critical line, and the filter must still answer a
//! plain preflight correctly (the VM was not broken or reloaded by what came before).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use bucket_cors_testkit::expect;
use bucket_cors_testkit::{send_bytes, Envoy, EnvoyOptions, ObjStore, Response};

pub use bucket_cors_testkit::expect::{
    body_403, Body, Vary, ACAC, ACAH, ACAM, ACAO, ACEH, ACMA, MSG_NOT_ALLOWED, MSG_NOT_ENABLED,
    PREFLIGHT_VARY,
};

/// The header that tags each request with its case name (to find it in the upstream log).
pub const CASE_HEADER: &str = "x-hostile-case";

/// A request as raw bytes: method, target and header values may hold any byte.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub target: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Req {
    /// A request with a `Host` line.
    pub fn new(method: &str, host: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Req {
        Req::without_host(method, target).header("Host", host)
    }

    /// A request without any `Host` line.
    pub fn without_host(method: &str, target: impl AsRef<[u8]>) -> Req {
        Req {
            method: method.into(),
            target: target.as_ref().to_vec(),
            headers: Vec::new(),
        }
    }

    /// Appends a header line (repeat the call for repeated lines).
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Req {
        self.headers.push((name.into(), value.as_ref().to_vec()));
        self
    }

    /// The exact bytes sent, with the case tag as the last header line.
    pub fn to_bytes(&self, tag: &str) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (n, v) in &self.headers {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(
            format!("{CASE_HEADER}: {tag}\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        out
    }

    fn describe(&self) -> String {
        let mut s = format!("{} {}", self.method, shown(&self.target));
        for (n, v) in &self.headers {
            let _ = write!(s, " | {n}: {}", shown(v));
        }
        s
    }
}

/// Bytes for a message: printable ASCII as is, anything else as `\xNN`, long values cut.
pub fn shown(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b.iter().take(100) {
        if (0x20..0x7f).contains(&c) {
            s.push(c as char);
        } else {
            let _ = write!(s, "\\x{c:02x}");
        }
    }
    if b.len() > 100 {
        let _ = write!(s, "…({} bytes)", b.len());
    }
    s
}

/// A preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method: GET`.
pub fn preflight(
    host: impl AsRef<[u8]>,
    target: impl AsRef<[u8]>,
    origin: impl AsRef<[u8]>,
) -> Req {
    Req::new("OPTIONS", host, target)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
}

/// An actual `GET` with an `Origin`.
pub fn get(host: impl AsRef<[u8]>, target: impl AsRef<[u8]>, origin: impl AsRef<[u8]>) -> Req {
    Req::new("GET", host, target).header("Origin", origin)
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
    /// The upstream saw the request exactly once, with the target unchanged.
    Reached,
    NotReached,
}

/// One named hostile request and the exact answer expected.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// Why this is the answer (spec section, or Envoy's behaviour).
    pub why: String,
    pub req: Req,
    pub by: By,
    pub status: u16,
    /// Exact set of `Access-Control-*` response headers.
    pub acx: Vec<(&'static str, String)>,
    pub vary: Vary,
    pub body: Body,
    pub upstream: Upstream,
    /// Further header expectations: `Some(v)` exactly one line with value v, `None` absent.
    pub headers: Vec<(String, Option<String>)>,
    /// The answer must come within this time.
    pub within: Duration,
}

/// Starts a case answered through the filter. Defaults: status 200, no `Access-Control-*`
/// header, no `Vary`, any body, upstream reached, within 10 s.
pub fn case(name: &str, why: &str, req: Req) -> Case {
    Case {
        name: name.into(),
        why: why.into(),
        req,
        by: By::Filter,
        status: 200,
        acx: Vec::new(),
        vary: Vary::Absent,
        body: Body::Any,
        upstream: Upstream::Reached,
        headers: Vec::new(),
        within: Duration::from_secs(10),
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
    pub fn vary_origin(mut self) -> Self {
        self.vary = Vary::Exact("Origin".into());
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

    /// A preflight answered by the filter with 200 (spec 3.6, 3.7).
    pub fn preflight_ok(mut self) -> Self {
        self.status = 200;
        self.vary = Vary::Exact(PREFLIGHT_VARY.into());
        self.body = Body::Empty;
        self.upstream = Upstream::NotReached;
        self
    }

    /// A preflight refused by the filter (spec 3.5 or 3.2, 3.7): 403, OSS's XML body, no
    /// `Access-Control-*` header.
    pub fn preflight_403(mut self, message: &str, request_id: &str, host: &str) -> Self {
        self.status = 403;
        self.acx.clear();
        self.vary = Vary::Exact(PREFLIGHT_VARY.into());
        self.body = Body::Xml403(body_403(message, request_id, host));
        self.upstream = Upstream::NotReached;
        self.header("content-type", Some("application/xml"))
    }

    /// Not a preflight of a resolved bucket: an `OPTIONS` that goes to the upstream untouched
    /// (spec 2.1), which answers with its marker header.
    pub fn options_untouched(self) -> Self {
        self.status(200)
            .header("x-objstore-options", Some("reached"))
    }

    /// The headers of a winning rule with an echoed origin (spec 3.6 / 4.2).
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

    /// The headers of a winning `*` rule (no ACAC).
    pub fn star(self, methods: &str) -> Self {
        self.acx(ACAO, "*").acx(ACAM, methods)
    }
}

/// Runs one case; returns the problems found (empty when it passed) and the response status.
fn check(store: &ObjStore, envoy: &Envoy, c: &Case) -> (Vec<String>, Option<u16>) {
    let mut problems = Vec::new();
    let t0 = Instant::now();
    let resp: Response = match send_bytes(
        envoy.addr(),
        &c.req.to_bytes(&c.name),
        c.req.method == "HEAD",
    ) {
        Ok(r) => r,
        Err(e) => return (vec![format!("request failed: {e}")], None),
    };
    let took = t0.elapsed();
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

    let seen = store.requests_with(CASE_HEADER, &c.name);
    match c.upstream {
        Upstream::NotReached => {
            if !seen.is_empty() {
                problems.push(format!(
                    "upstream was reached ({} time(s)); it must not be",
                    seen.len()
                ));
            }
            if resp.header("x-objstore-hits").is_some() {
                problems.push("the response comes from the upstream (x-objstore-hits)".into());
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
                let sent = String::from_utf8_lossy(&c.req.target);
                if up.method != c.req.method || up.target != sent {
                    problems.push(format!(
                        "upstream got {} {} (want {} {} unchanged)",
                        up.method, up.target, c.req.method, sent
                    ));
                }
            }
        }
    }

    if !problems.is_empty() {
        problems.push(format!("response was:\n{resp}"));
    }
    (problems, Some(resp.status))
}

/// The log lines that show a Wasm problem: the testkit's crash lines (panic, trap, uncaught
/// exception, runtime error) and any critical line, or an error line about Wasm.
pub fn bad_log_lines(envoy: &Envoy) -> Vec<String> {
    let mut lines = envoy.crash_lines();
    for l in envoy.log().lines() {
        let low = l.to_ascii_lowercase();
        if (l.contains("[critical]") || (l.contains("[error]") && low.contains("wasm")))
            && !lines.iter().any(|x| x == l)
        {
            lines.push(l.to_string());
        }
    }
    lines
}

/// The plugin configuration of the hostile tables.
pub const CONFIG: &str = r#"{
  "endpoints": ["s3.test"],
  "buckets": {
    "photos": {
      "CORSRule": [
        {
          "ID": "web",
          "AllowedOrigin": ["https://www.example.com", "https://*.example.org"],
          "AllowedMethod": ["GET", "PUT", "HEAD"],
          "AllowedHeader": ["*"],
          "ExposeHeader": ["ETag"],
          "MaxAgeSeconds": 600
        }
      ]
    },
    "pho": {
      "CORSRule": [{ "AllowedOrigin": ["https://www.example.com"], "AllowedMethod": ["GET"] }]
    },
    "public": {
      "CORSRule": [{ "AllowedOrigin": ["*"], "AllowedMethod": ["GET", "HEAD"], "AllowedHeader": ["*"] }]
    }
  }
}"#;

/// A host under no endpoint: path-style addressing.
pub const PS: &str = "objects.local";
pub const WWW: &str = "https://www.example.com";

/// The photos rule with an echoed origin.
pub fn photos(c: Case, origin: &str) -> Case {
    c.echo(origin, "GET, PUT, HEAD", Some("ETag"), Some("600"))
}

/// An object store and an Envoy with [`CONFIG`] in front of it.
pub struct Bench {
    pub name: String,
    pub store: ObjStore,
    pub envoy: Envoy,
}

impl Bench {
    pub fn start(name: &str) -> Bench {
        let store = ObjStore::start().expect("start the object store");
        // The machine may be busy: wait longer than the default for `/ready`.
        let opts = EnvoyOptions {
            ready_timeout: Duration::from_secs(60),
            ..EnvoyOptions::default()
        };
        let envoy = match Envoy::start_with(CONFIG, store.addr(), &opts) {
            Ok(e) => e,
            Err(e) if e.is_missing_prerequisite() => panic!("[{name}] {e}\n=> run `make test`"),
            Err(e) => panic!("[{name}] Envoy did not start:\n{e}"),
        };
        Bench {
            name: name.into(),
            store,
            envoy,
        }
    }

    /// Runs every case in order on its own connection, then checks that Envoy is still up, its
    /// log is clean and the filter still answers a plain preflight; panics once with every
    /// failure. Prints one line per case: who answered and with what status.
    pub fn run(mut self, cases: Vec<Case>) {
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
        for c in &cases {
            let (problems, status) = check(&self.store, &self.envoy, c);
            let by = match c.by {
                By::Envoy => "Envoy",
                By::Filter => "filter",
            };
            eprintln!(
                "[{}] {:<58} by {by:<6} want {} got {}{}",
                self.name,
                c.name,
                c.status,
                status.map_or("-".into(), |s| s.to_string()),
                if problems.is_empty() { "" } else { "  FAILED" }
            );
            if !problems.is_empty() {
                failures.push(format!(
                    "--- case {} ({})\n    request: {}\n    {}",
                    c.name,
                    c.why,
                    c.req.describe(),
                    problems.join("\n    ")
                ));
            }
        }
        failures.extend(self.after_all());
        eprintln!(
            "[{}] {} cases, {} failure(s)",
            self.name,
            total,
            failures.len()
        );
        if !failures.is_empty() {
            panic!(
                "[{}] {} failure(s) in {} cases:\n{}",
                self.name,
                failures.len(),
                total,
                failures.join("\n")
            );
        }
    }

    /// Envoy still up and ready, no Wasm crash in its log, and the filter still working.
    fn after_all(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.envoy.is_running() {
            problems.push("--- Envoy is no longer running".into());
        }
        match self.envoy.admin_get("/ready") {
            Ok((200, body)) if body.trim() == "LIVE" => {}
            Ok((s, body)) => {
                problems.push(format!("--- /ready answered {s} {body:?} (want 200 LIVE)"))
            }
            Err(e) => problems.push(format!("--- /ready failed: {e}")),
        }
        let sanity = photos(
            case(
                "after all: a plain preflight still works",
                "3.6",
                preflight(PS, "/photos/after", WWW),
            ),
            WWW,
        )
        .preflight_ok();
        let (p, _) = check(&self.store, &self.envoy, &sanity);
        if !p.is_empty() {
            problems.push(format!("--- {}\n    {}", sanity.name, p.join("\n    ")));
        }
        let bad = bad_log_lines(&self.envoy);
        if !bad.is_empty() {
            problems.push(format!(
                "--- Wasm panic, trap or critical line in Envoy's log:\n{}",
                bad.join("\n")
            ));
        }
        problems
    }
}
