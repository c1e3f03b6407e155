//! Shared helpers for the table tests: request builders, expected outcomes
//! written from the spec (`docs/spec.md`, through the `spec` crate's
//! vocabulary), and a case runner that reports every failing case by name
//! instead of stopping at the first.

pub use bucket_cors_core::{Action, AllowOrigin, Grant, HeaderOp, Policy, Request};
pub use bucket_cors_spec::names::*;
pub use bucket_cors_spec::{
    body_403, MSG_NOT_ALLOWED, MSG_NOT_ENABLED, PREFLIGHT_VARY, SPEC_EXAMPLE,
};
use std::collections::BTreeSet;
use std::fmt::Debug;

/// The host used by path-style requests unless a case says otherwise.
pub const HOST: &str = "s3.test";

/// Parses a configuration that must be valid.
pub fn policy(json: &str) -> Policy {
    let p = Policy::from_json(json.as_bytes())
        .unwrap_or_else(|e| panic!("configuration refused:\n{e}\nconfiguration:\n{json}"));
    crate::seeds::remember(json, &p);
    p
}

/// A request as Envoy hands it over: pseudo-headers and lower-case names,
/// possibly repeated. Turned into a [`Request`] by `Request::from_headers`,
/// as the glue does.
#[derive(Debug, Clone)]
pub struct Req {
    pub(crate) headers: Vec<(String, Vec<u8>)>,
}

impl Req {
    pub fn new(method: &str, authority: &str, path: &str) -> Self {
        Req {
            headers: vec![
                (":method".into(), method.as_bytes().to_vec()),
                (":authority".into(), authority.as_bytes().to_vec()),
                (":path".into(), path.as_bytes().to_vec()),
            ],
        }
    }

    /// A path-style request to `/<bucket>/key` on [`HOST`].
    pub fn to(method: &str, bucket: &str) -> Self {
        Req::new(method, HOST, &format!("/{bucket}/key.jpg"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_string(), value.as_bytes().to_vec()));
        self
    }

    pub fn origin(self, origin: &str) -> Self {
        self.header("origin", origin)
    }

    pub fn acrm(self, method: &str) -> Self {
        self.header("access-control-request-method", method)
    }

    pub fn acrh(self, headers: &str) -> Self {
        self.header("access-control-request-headers", headers)
    }

    pub fn request_id(self, id: &str) -> Self {
        self.header("x-request-id", id)
    }

    pub fn request(&self) -> Request<'_> {
        Request::from_headers(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())))
    }
}

/// `OPTIONS /<bucket>/key.jpg` with `Origin` and ACRM: a preflight (spec §2.3).
pub fn preflight(bucket: &str, origin: &str, method: &str) -> Req {
    Req::to("OPTIONS", bucket).origin(origin).acrm(method)
}

/// A reply of the filter, with the body as text for readable failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What `decide` did, in comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ignore,
    Reply(Reply),
    Forward(Option<Grant>),
    /// Forwarded without rules: the upstream's CORS headers are removed
    /// from the response (`upstream_cors: strip`, docs/spec.md §2).
    Strip,
}

pub fn outcome(policy: &Policy, req: &Req) -> Outcome {
    crate::seeds::write(policy, req);
    match policy.decide(&req.request()).action {
        Action::Ignore => Outcome::Ignore,
        Action::Reply(r) => Outcome::Reply(Reply {
            status: r.status,
            headers: r
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: String::from_utf8(r.body.clone())
                .unwrap_or_else(|_| format!("(not UTF-8) {:?}", r.body)),
        }),
        Action::Forward(plan) if !plan.is_governed() => Outcome::Strip,
        Action::Forward(plan) => Outcome::Forward(plan.grant.clone()),
    }
}

/// A successful preflight (spec §3.6): 200, these headers in this order, no body.
pub fn ok(headers: &[(&str, &str)]) -> Outcome {
    Outcome::Reply(Reply {
        status: 200,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: String::new(),
    })
}

/// A 403 of the filter: `Content-Type: application/xml`, the preflight `Vary`
/// (spec §3.7), no `Access-Control-*` header, OSS's body with the request's
/// id and host XML-escaped.
pub fn forbidden(message: &str, request_id: &str, host: &str) -> Outcome {
    Outcome::Reply(Reply {
        status: 403,
        headers: vec![
            (CONTENT_TYPE.to_string(), "application/xml".to_string()),
            (VARY.to_string(), PREFLIGHT_VARY.to_string()),
        ],
        body: body_403(message, request_id, host),
    })
}

/// The usual refusal: no rule allows the preflight, no `x-request-id`, [`HOST`].
pub fn refused() -> Outcome {
    forbidden(MSG_NOT_ALLOWED, "", HOST)
}

pub fn echo(rule: usize, origin: &str) -> Option<Grant> {
    Some(Grant {
        rule,
        allow_origin: AllowOrigin::Echo(origin.to_string()),
    })
}

pub fn any(rule: usize) -> Option<Grant> {
    Some(Grant {
        rule,
        allow_origin: AllowOrigin::Any,
    })
}

/// A header op as readable text: `set name: value` / `remove name`.
pub fn op_text(op: &HeaderOp<'_>) -> String {
    match op {
        HeaderOp::Remove(n) => format!("remove {n}"),
        HeaderOp::Set(n, v) => format!("set {n}: {v}"),
    }
}

/// Expected `Set` op.
pub fn set(name: &str, value: &str) -> String {
    format!("set {name}: {value}")
}

/// Expected `Remove` op.
pub fn remove(name: &str) -> String {
    format!("remove {name}")
}

/// `CASE=<substring>`: only the cases whose name contains it are checked.
pub fn selected(name: &str) -> bool {
    std::env::var("CASE").map_or(true, |only| name.contains(&only))
}

/// Runs table cases and reports every failure by case name at the end;
/// cases that `CASE` leaves out are not recorded.
#[derive(Default)]
pub struct Cases {
    names: BTreeSet<String>,
    failures: Vec<String>,
}

impl Cases {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one expectation of case `name`.
    pub fn check<T: PartialEq + Debug>(&mut self, name: &str, what: &str, got: &T, want: &T) {
        if !selected(name) {
            return;
        }
        self.names.insert(name.to_string());
        if got != want {
            self.failures.push(format!(
                "case `{name}` ({what}):\n    got:  {got:?}\n    want: {want:?}"
            ));
        }
    }

    /// Records a failure of case `name` found otherwise.
    pub fn fail(&mut self, name: &str, message: String) {
        if !selected(name) {
            return;
        }
        self.names.insert(name.to_string());
        self.failures.push(format!("case `{name}`: {message}"));
    }

    /// Panics listing every failed case; returns how many cases ran.
    pub fn finish(self) -> usize {
        if !self.failures.is_empty() {
            panic!(
                "{} failed expectations in {} cases:\n{}",
                self.failures.len(),
                self.names.len(),
                self.failures.join("\n")
            );
        }
        println!("{} cases passed", self.names.len());
        self.names.len()
    }
}
